//! `images-pull`: pull an image from a registry. Moderate tier, open world. The host
//! streams the engine's per-layer progress to the client itself; dropping the call (the
//! deadline, or the client's cancellation) drops the stream, which aborts the request.

use bollard::query_parameters::CreateImageOptionsBuilder;
use futures_util::StreamExt;

use super::image_stream::{TransferState, registry_error, split_reference};
use super::refs::image_ref;
use super::{engine_call, map_error};
use crate::access::CallAccess;
use crate::bindings::DockerError;
use crate::bindings::bulkhead::plugin::image_types::PullResult;
use crate::bindings::bulkhead::plugin::images_pull::Host;
use crate::capabilities::Capability;

impl Host for CallAccess {
    async fn pull_image(&mut self, reference: String) -> Result<PullResult, DockerError> {
        let docker = self.authorize(Capability::ImagesPull).await?;
        let reference = image_ref(&reference)?;
        if reference.starts_with("sha256:") {
            return Err(DockerError::Invalid(
                "pull a name (name[:tag] or name@digest), not a local image id".into(),
            ));
        }
        self.rules.names.check_registry(reference)?;
        self.rules.names.check_image(reference, &[])?;
        let (repository, tag) = split_reference(reference);
        let full = if reference.contains('@') {
            reference.to_string()
        } else {
            format!("{repository}:{tag}")
        };
        let options = CreateImageOptionsBuilder::new()
            .from_image(repository)
            .tag(tag)
            .build();
        let mut stream = docker.create_image(Some(options), None, None);
        let mut state = TransferState::default();
        self.report_progress(0, None, &format!("pulling {full}"));
        while let Some(event) = stream.next().await {
            let event = match event {
                Ok(event) => event,
                Err(err) => return Err(self.stream_failure(err, &full).await),
            };
            let detail = event.progress_detail.map(|d| (d.current, d.total));
            let message = state.observe(event.id.as_deref(), event.status.as_deref(), detail);
            self.report_progress(state.done(), state.total(), &message);
        }
        // Part of pulling: which local image the reference now names.
        let id = engine_call(&self.docker, docker.inspect_image(&full))
            .await
            .ok()
            .and_then(|image| image.id);
        Ok(PullResult {
            reference: full,
            digest: state.digest,
            status: state.status,
            id,
        })
    }
}

impl CallAccess {
    /// Maps a pull or push stream's error and resets the connection if it was lost.
    pub(super) async fn stream_failure(
        &self,
        err: bollard::errors::Error,
        reference: &str,
    ) -> DockerError {
        let mapped = map_error(err);
        if matches!(mapped, DockerError::Unavailable(_)) {
            self.docker.reset().await;
        }
        registry_error(mapped, reference)
    }
}
