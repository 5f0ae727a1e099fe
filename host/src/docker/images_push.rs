//! `images-push`: push an image to a registry (no credentials are sent), and tag local
//! images, since a tag names a push's destination. Moderate tier, open world. Progress
//! and cancellation work as for pulls.

use bollard::query_parameters::{PushImageOptionsBuilder, TagImageOptionsBuilder};
use futures_util::StreamExt;

use super::engine_call;
use super::image_stream::{TransferState, split_reference};
use super::images_read::image_not_found;
use super::ownership::ObjectKind;
use super::refs::image_ref;
use crate::access::CallAccess;
use crate::bindings::DockerError;
use crate::bindings::bulkhead::plugin::image_types::PushResult;
use crate::bindings::bulkhead::plugin::images_push::Host;
use crate::capabilities::Capability;

impl Host for CallAccess {
    async fn push_image(&mut self, reference: String) -> Result<PushResult, DockerError> {
        let docker = self.authorize(Capability::ImagesPush).await?;
        let reference = image_ref(&reference)?;
        if reference.contains('@') || reference.starts_with("sha256:") {
            return Err(DockerError::Invalid(
                "push a name[:tag] reference, not a digest or an id".into(),
            ));
        }
        self.rules.names.check_registry(reference)?;
        // Under `scope = owned`, only what this principal built leaves the host.
        self.resolve(&docker, ObjectKind::Image, reference).await?;
        let (repository, tag) = split_reference(reference);
        let full = format!("{repository}:{tag}");
        let options = PushImageOptionsBuilder::new().tag(tag).build();
        let mut stream = docker.push_image(repository, Some(options), None);
        let mut state = TransferState::default();
        self.report_progress(0, None, &format!("pushing {full}"));
        while let Some(event) = stream.next().await {
            let event = match event {
                Ok(event) => event,
                Err(err) => return Err(self.stream_failure(err, &full).await),
            };
            let detail = event.progress_detail.map(|d| (d.current, d.total));
            let message = state.observe(None, event.status.as_deref(), detail);
            self.report_progress(state.done(), state.total(), &message);
        }
        Ok(PushResult {
            reference: full,
            digest: state.digest,
            size: state.size,
            layers_pushed: state.layers_pushed,
            layers_existing: state.layers_existing,
        })
    }

    async fn tag_image(&mut self, source: String, target: String) -> Result<(), DockerError> {
        let docker = self.authorize(Capability::ImagesPush).await?;
        let source = image_ref(&source)?;
        let target = image_ref(&target)?;
        // A tag must not launder an image past the allow-list or another's ownership.
        self.check_image_allowed(&docker, source).await?;
        self.resolve(&docker, ObjectKind::Image, source).await?;
        if target.contains('@') || target.starts_with("sha256:") {
            return Err(DockerError::Invalid(
                "a tag is name[:tag], not a digest or an id".into(),
            ));
        }
        let (repository, tag) = split_reference(target);
        let options = TagImageOptionsBuilder::new()
            .repo(repository)
            .tag(tag)
            .build();
        engine_call(&self.docker, docker.tag_image(source, Some(options)))
            .await
            .map_err(image_not_found)
    }
}
