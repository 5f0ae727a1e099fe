//! `scope = owned`, enforced in one place: every primitive that names an engine object
//! resolves it here before acting.
//!
//! Under `scope = all` a reference is only checked for shape and passed on. Under
//! `scope = owned` it is inspected first; unless the object carries this server's
//! principal in `io.bulkhead.owner`, the answer is "not found", worded the same whether
//! the object is absent or someone else's (so a caller cannot probe for others'
//! objects). The primitive then acts on the full id the inspect returned, never on the
//! caller's name or prefix, so a rename or a look-alike created in between cannot
//! redirect it. List and prune primitives add the owner as a label filter instead.

use std::collections::HashMap;
use std::fmt;

use bollard::Docker;
use bollard::query_parameters::{InspectContainerOptions, InspectNetworkOptions};

use super::engine_call;
use super::labels::{OWNER_LABEL, SESSION_LABEL};
use super::refs::{image_ref, object_ref};
use crate::access::CallAccess;
use crate::bindings::DockerError;
use crate::capabilities::Tier;
use crate::policy::Scope;
use crate::sanitize::one_line;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    Container,
    Network,
    Volume,
    Image,
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ObjectKind::Container => "container",
            ObjectKind::Network => "network",
            ObjectKind::Volume => "volume",
            ObjectKind::Image => "image",
        })
    }
}

/// An object as inspected: its full id and its labels.
struct Inspected {
    id: String,
    labels: HashMap<String, String>,
}

impl CallAccess {
    /// The reference a primitive acts on: `target` itself under `scope = all`; under
    /// `scope = owned`, the full id of the object if this principal owns it, else
    /// not-found. Records the object in the call's journal either way.
    pub(super) async fn resolve(
        &mut self,
        docker: &Docker,
        kind: ObjectKind,
        target: &str,
    ) -> Result<String, DockerError> {
        let checked = match kind {
            ObjectKind::Image => image_ref(target)?,
            _ => object_ref(&kind.to_string(), target)?,
        };
        let id = match self.effective_scope() {
            Scope::All => checked.to_string(),
            Scope::Owned => {
                let object = match self.inspect(docker, kind, checked).await {
                    Ok(object) => object,
                    Err(DockerError::NotFound(_) | DockerError::ImageNotFound(_)) => {
                        return Err(self.not_owned(kind, target));
                    }
                    Err(other) => return Err(other),
                };
                if !self.owns(&object.labels) {
                    return Err(self.not_owned(kind, target));
                }
                object.id
            }
        };
        self.touched(kind, &id);
        Ok(id)
    }

    /// The network reference a container may join or leave: a network on the operator's
    /// list by its name, else one this principal owns by its full id, else a refusal.
    pub(super) async fn joinable_network(
        &mut self,
        docker: &Docker,
        network: &str,
    ) -> Result<String, DockerError> {
        let checked = object_ref("network", network)?;
        if self.rules.names.network_listed(checked, self.scope) {
            self.touched(ObjectKind::Network, checked);
            return Ok(checked.to_string());
        }
        match self.inspect(docker, ObjectKind::Network, checked).await {
            Ok(object) if self.owns(&object.labels) => {
                self.touched(ObjectKind::Network, &object.id);
                Ok(object.id)
            }
            Ok(_) | Err(DockerError::NotFound(_)) => {
                Err(self.rules.names.network_refusal(checked, self.scope).into())
            }
            Err(other) => Err(other),
        }
    }

    /// Refuses an image the operator's allow-list does not cover. With a list, the
    /// image is inspected so that an id or a short name is judged by the tags and
    /// digests the engine knows it by.
    pub(super) async fn check_image_allowed(
        &mut self,
        docker: &Docker,
        image: &str,
    ) -> Result<(), DockerError> {
        let image = image_ref(image)?;
        if self.rules.names.images.is_none() {
            return Ok(());
        }
        let details = engine_call(&self.docker, docker.inspect_image(image)).await?;
        let mut aliases = details.repo_tags.unwrap_or_default();
        aliases.extend(details.repo_digests.unwrap_or_default());
        Ok(self.rules.names.check_image(image, &aliases)?)
    }

    /// The label filter (`io.bulkhead.owner=<principal>`) lists and prunes add under
    /// `scope = owned`.
    pub(super) fn owner_filter(&self) -> Option<String> {
        match self.effective_scope() {
            Scope::All => None,
            Scope::Owned => Some(format!("{OWNER_LABEL}={}", self.identity.principal)),
        }
    }

    /// Adds the owner filter to a list or prune request's filters under
    /// `scope = owned` (on top of, and not counted against, the caller's own labels).
    pub(super) fn scope_filters(
        &self,
        mut filters: HashMap<String, Vec<String>>,
    ) -> HashMap<String, Vec<String>> {
        if let Some(owner) = self.owner_filter() {
            filters.entry("label".into()).or_default().push(owner);
        }
        filters
    }

    /// Records that this call named or created an object: in its journal, and for a
    /// container used by more than a read, as activity that keeps it from being reaped.
    pub(super) fn touched(&self, kind: ObjectKind, id: &str) {
        self.journal.record(kind, id);
        let reading = self.current.is_some_and(|cap| cap.tier() == Tier::Read);
        if kind == ObjectKind::Container && !reading {
            self.activity.touch(id);
        }
    }

    /// Adds `io.bulkhead.session=<this session>` when a list asks for this session only.
    pub(super) fn session_filter(
        &self,
        this_session: bool,
        mut filters: HashMap<String, Vec<String>>,
    ) -> HashMap<String, Vec<String>> {
        if this_session {
            filters
                .entry("label".into())
                .or_default()
                .push(format!("{SESSION_LABEL}={}", self.identity.session));
        }
        filters
    }

    fn owns(&self, labels: &HashMap<String, String>) -> bool {
        labels.get(OWNER_LABEL) == Some(&self.identity.principal)
    }

    fn not_owned(&self, kind: ObjectKind, target: &str) -> DockerError {
        let why = if self.scope == Scope::Owned {
            "this plugin's scope is `owned`: it reaches only what this principal created"
        } else {
            "without the operator's --allow-destructive, this plugin removes only what this principal created"
        };
        DockerError::NotFound(format!(
            "no {kind} `{}` owned by `{}` ({why})",
            one_line(target, 80),
            self.identity.principal
        ))
    }

    async fn inspect(
        &self,
        docker: &Docker,
        kind: ObjectKind,
        target: &str,
    ) -> Result<Inspected, DockerError> {
        Ok(match kind {
            ObjectKind::Container => {
                let details = engine_call(
                    &self.docker,
                    docker.inspect_container(target, None::<InspectContainerOptions>),
                )
                .await?;
                Inspected {
                    id: details.id.unwrap_or_else(|| target.to_string()),
                    labels: details.config.and_then(|c| c.labels).unwrap_or_default(),
                }
            }
            ObjectKind::Network => {
                let details = engine_call(
                    &self.docker,
                    docker.inspect_network(target, None::<InspectNetworkOptions>),
                )
                .await?;
                Inspected {
                    id: details.id.unwrap_or_else(|| target.to_string()),
                    labels: details.labels.unwrap_or_default(),
                }
            }
            ObjectKind::Volume => {
                let details = engine_call(&self.docker, docker.inspect_volume(target)).await?;
                Inspected {
                    id: details.name,
                    labels: details.labels,
                }
            }
            ObjectKind::Image => {
                let details = engine_call(&self.docker, docker.inspect_image(target)).await?;
                Inspected {
                    id: details.id.unwrap_or_else(|| target.to_string()),
                    labels: details.config.and_then(|c| c.labels).unwrap_or_default(),
                }
            }
        })
    }
}
