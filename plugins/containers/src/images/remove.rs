//! `docker_remove_image` and `docker_prune_images`: deleting images (destructive tier,
//! listed only when the operator allows destructive tools).

use bulkhead_plugin_sdk::docker::{PrunedImages, RemovedImage, images_remove};
use bulkhead_plugin_sdk::{Capability, Reply, ToolError, TypedTool};
use schemars::JsonSchema;
use serde::Deserialize;

use super::inspect::image_error;
use crate::render;

/// Which image or tag to remove.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoveImageArgs {
    /// Image reference or id. A reference with more tags left only loses that tag.
    #[schemars(length(min = 1, max = 512))]
    image: String,
    /// Remove even if containers use the image. Default false.
    #[serde(default)]
    force: bool,
}

pub struct RemoveImage;

impl TypedTool for RemoveImage {
    const NAME: &'static str = "docker_remove_image";
    const TITLE: &'static str = "Remove an image";
    const DESCRIPTION: &'static str = "Remove a local image or one of its tags (like \
        `docker rmi`). An image a container uses is refused unless `force` is true.";
    const CAPABILITIES: &'static [Capability] = &[Capability::ImagesRemove];
    type Args = RemoveImageArgs;
    type Output = RemovedImage;

    fn run(args: RemoveImageArgs) -> Result<Reply<RemovedImage>, ToolError> {
        let removed = images_remove::remove_image(&args.image, args.force).map_err(image_error)?;
        let text = format!(
            "Removed {}: {} tag(s) untagged, {} layer(s) deleted.",
            render::one_line(&args.image),
            removed.untagged.len(),
            removed.deleted.len()
        );
        Ok(Reply::new(text, removed))
    }
}

/// What to prune.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PruneImagesArgs {
    /// false (default): only dangling (untagged) images. true: every image no container
    /// uses, tagged or not.
    #[serde(default)]
    all: bool,
}

pub struct PruneImages;

impl TypedTool for PruneImages {
    const NAME: &'static str = "docker_prune_images";
    const TITLE: &'static str = "Prune images";
    const DESCRIPTION: &'static str = "Delete unused images (like `docker image prune`): \
        dangling ones by default, every image no container uses with `all: true`.";
    const CAPABILITIES: &'static [Capability] = &[Capability::ImagesRemove];
    type Args = PruneImagesArgs;
    type Output = PrunedImages;

    fn run(args: PruneImagesArgs) -> Result<Reply<PrunedImages>, ToolError> {
        let pruned = images_remove::prune_images(args.all).map_err(crate::docker_error)?;
        let text = format!(
            "Pruned {} image layer(s), {} tag(s); {} reclaimed.",
            pruned.deleted_count,
            pruned.untagged.len(),
            render::bytes_text(i64::try_from(pruned.space_reclaimed).unwrap_or(i64::MAX))
        );
        Ok(Reply::new(text, pruned))
    }
}
