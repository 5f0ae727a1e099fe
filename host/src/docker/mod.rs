//! The Docker side of the capability interfaces: one file per WIT interface, each
//! implementing its generated `Host` trait on the per-call state, plus the shared
//! connection, error mapping and sanitising of what comes back from the engine.

mod build_context;
mod containers_exec;
mod containers_files;
mod containers_manage;
mod containers_read;
mod containers_remove;
mod errors;
mod exec_kill;
mod filters;
mod healthcheck;
mod image_stream;
mod images_build;
mod images_pull;
mod images_push;
mod images_read;
mod images_remove;
pub mod labels;
mod mounts;
mod networks_manage;
mod networks_read;
mod networks_remove;
mod ownership;
pub mod paging;
mod port_pool;
pub mod refs;
mod signals;
mod stats;
mod system_prune;
mod system_read;
mod tar_archive;
mod volumes_manage;
mod volumes_read;
mod volumes_remove;

use bollard::Docker;
use tokio::sync::Mutex;

use crate::bindings::DockerError;
pub use errors::map_error;
pub use ownership::ObjectKind;

/// A lazily connected, self-healing engine client.
///
/// The host starts (and lists tools) without an engine; the first primitive connects
/// and negotiates the API version (the engine here speaks 1.41; bollard defaults to a
/// newer one). A connection-level failure forgets the client, so the next call
/// reconnects and renegotiates once the engine is back.
#[derive(Default)]
pub struct DockerConnector {
    client: Mutex<Option<Docker>>,
}

impl DockerConnector {
    pub fn new() -> Self {
        DockerConnector::default()
    }

    /// A negotiated client, connecting first if needed.
    pub async fn client(&self) -> Result<Docker, DockerError> {
        let mut slot = self.client.lock().await;
        if let Some(client) = slot.as_ref() {
            return Ok(client.clone());
        }
        let fresh = Docker::connect_with_defaults()
            .map_err(|err| DockerError::Unavailable(describe_connect_error(&err)))?;
        let negotiated = fresh
            .negotiate_version()
            .await
            .map_err(|err| match map_error(err) {
                // Whatever the engine said, a failed negotiation means we could not talk.
                DockerError::Unavailable(text) | DockerError::Engine(text) => {
                    DockerError::Unavailable(text)
                }
                other => other,
            })?;
        *slot = Some(negotiated.clone());
        Ok(negotiated)
    }

    /// Forgets the client after a connection-level error.
    pub async fn reset(&self) {
        *self.client.lock().await = None;
    }
}

fn describe_connect_error(err: &bollard::errors::Error) -> String {
    format!(
        "cannot connect to the Docker engine ({err}); check that the daemon runs and DOCKER_HOST is right"
    )
}

/// Runs an engine request; on a connection-level failure, resets the connector so the
/// next call starts afresh.
pub(crate) async fn engine_call<T>(
    connector: &DockerConnector,
    request: impl Future<Output = Result<T, bollard::errors::Error>>,
) -> Result<T, DockerError> {
    match request.await {
        Ok(value) => Ok(value),
        Err(err) => {
            let mapped = map_error(err);
            if matches!(mapped, DockerError::Unavailable(_)) {
                connector.reset().await;
            }
            Err(mapped)
        }
    }
}
