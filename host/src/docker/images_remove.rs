//! `images-remove`: remove an image or a tag, prune unused images. Destructive tier.

use std::collections::HashMap;

use bollard::query_parameters::{PruneImagesOptionsBuilder, RemoveImageOptionsBuilder};

use super::engine_call;
use super::images_read::image_not_found;
use super::ownership::ObjectKind;
use super::refs::image_ref;
use crate::access::CallAccess;
use crate::bindings::DockerError;
use crate::bindings::bulkhead::plugin::image_types::{PrunedImages, RemovedImage};
use crate::bindings::bulkhead::plugin::images_remove::Host;
use crate::capabilities::Capability;

/// A prune can delete thousands of layers; the answer names at most this many.
const MAX_PRUNED_LISTED: usize = 100;

impl Host for CallAccess {
    async fn remove_image(
        &mut self,
        image: String,
        force: bool,
    ) -> Result<RemovedImage, DockerError> {
        let docker = self.authorize(Capability::ImagesRemove).await?;
        // Images are removed by the name given (removing a tag only untags); under
        // `scope = owned` only an image this principal built qualifies.
        self.resolve(&docker, ObjectKind::Image, &image).await?;
        let image = image_ref(&image)?;
        let options = RemoveImageOptionsBuilder::new()
            .force(force)
            .noprune(false)
            .build();
        let items = engine_call(
            &self.docker,
            docker.remove_image(image, Some(options), None),
        )
        .await
        .map_err(image_not_found)?;
        let mut removed = RemovedImage {
            untagged: Vec::new(),
            deleted: Vec::new(),
        };
        for item in items {
            removed.untagged.extend(item.untagged);
            removed.deleted.extend(item.deleted);
        }
        Ok(removed)
    }

    async fn prune_images(&mut self, all: bool) -> Result<PrunedImages, DockerError> {
        let docker = self.authorize(Capability::ImagesRemove).await?;
        // The engine's `dangling=false` means "unused, tagged or not" (`prune -a`).
        let filters = self.scope_filters(HashMap::from([(
            "dangling".to_string(),
            vec![if all { "false" } else { "true" }.to_string()],
        )]));
        let options = PruneImagesOptionsBuilder::new().filters(&filters).build();
        let response = engine_call(&self.docker, docker.prune_images(Some(options))).await?;
        let mut deleted = Vec::new();
        let mut untagged = Vec::new();
        let mut deleted_count: u32 = 0;
        for item in response.images_deleted.unwrap_or_default() {
            if let Some(id) = item.deleted {
                deleted_count = deleted_count.saturating_add(1);
                if deleted.len() < MAX_PRUNED_LISTED {
                    deleted.push(id);
                }
            }
            if let Some(reference) = item.untagged
                && untagged.len() < MAX_PRUNED_LISTED
            {
                untagged.push(reference);
            }
        }
        Ok(PrunedImages {
            deleted,
            deleted_count,
            untagged,
            space_reclaimed: u64::try_from(response.space_reclaimed.unwrap_or(0)).unwrap_or(0),
        })
    }
}
