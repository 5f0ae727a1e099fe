//! `docker_inspect_image` and `docker_image_history`: one image's configuration (the
//! host has redacted secrets) and its layers.

use bulkhead_plugin_sdk::docker::{ImageDetails, ImageLayers, images_read};
use bulkhead_plugin_sdk::{Capability, Reply, ToolError, TypedTool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::render;

/// Names one image.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImageArgs {
    /// Image reference (`name`, `name:tag`, `name@sha256:…`) or id.
    #[schemars(length(min = 1, max = 512))]
    pub image: String,
}

/// Structured output of `docker_inspect_image`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct InspectImageOut {
    /// The image's details.
    pub image: ImageDetails,
}

pub struct InspectImage;

impl TypedTool for InspectImage {
    const NAME: &'static str = "docker_inspect_image";
    const TITLE: &'static str = "Inspect an image";
    const DESCRIPTION: &'static str = "Show one local image (like `docker image inspect`): \
        id, tags, digests, created, size, architecture/os, and its default config: env, \
        command, entrypoint, exposed ports, labels, user, working dir. Secret-looking values \
        are redacted.";
    const CAPABILITIES: &'static [Capability] = &[Capability::ImagesRead];
    const IDEMPOTENT: bool = true;
    type Args = ImageArgs;
    type Output = InspectImageOut;

    fn run(args: ImageArgs) -> Result<Reply<InspectImageOut>, ToolError> {
        let image = images_read::inspect_image(&args.image).map_err(image_error)?;
        let text = inspect_text(&image);
        Ok(Reply::new(text, InspectImageOut { image }))
    }
}

fn inspect_text(image: &ImageDetails) -> String {
    let tags = if image.repo_tags.is_empty() {
        "<none>".to_owned()
    } else {
        render::one_line(&image.repo_tags.join(", "))
    };
    let mut lines = vec![format!(
        "{} ({}), {}, {}/{}, {} layer(s)",
        tags,
        render::short_id(&image.id),
        render::bytes_text(image.size),
        render::one_line(&image.os),
        render::one_line(&image.architecture),
        image.layers
    )];
    if let Some(created) = &image.created {
        lines.push(format!("created: {}", render::one_line(created)));
    }
    if !image.entrypoint.is_empty() {
        lines.push(format!(
            "entrypoint: {}",
            render::argv_text(&image.entrypoint)
        ));
    }
    lines.push(format!("command: {}", render::argv_text(&image.cmd)));
    if !image.exposed_ports.is_empty() {
        lines.push(format!(
            "exposed: {}",
            render::one_line(&image.exposed_ports.join(", "))
        ));
    }
    lines.push(format!(
        "env: {} variable(s); labels: {} (see structured content)",
        image.env.len(),
        image.labels.len()
    ));
    lines.join("\n")
}

/// Which image, and how many layers.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HistoryArgs {
    /// Image reference or id.
    #[schemars(length(min = 1, max = 512))]
    image: String,
    /// Newest layers to show, 1-200 (default 50).
    #[schemars(range(min = 1, max = 200))]
    limit: Option<u32>,
}

pub struct ImageHistory;

impl TypedTool for ImageHistory {
    const NAME: &'static str = "docker_image_history";
    const TITLE: &'static str = "Image history";
    const DESCRIPTION: &'static str = "Show the layers of a local image, newest first (like \
        `docker history`): when each was created, by which instruction (secrets redacted, \
        long lines cut), and its size.";
    const CAPABILITIES: &'static [Capability] = &[Capability::ImagesRead];
    const IDEMPOTENT: bool = true;
    type Args = HistoryArgs;
    type Output = ImageLayers;

    fn run(args: HistoryArgs) -> Result<Reply<ImageLayers>, ToolError> {
        let history = images_read::image_history(&args.image, args.limit.unwrap_or(0))
            .map_err(image_error)?;
        let mut text = format!(
            "{} of {} layer(s), newest first:",
            history.layers.len(),
            history.total
        );
        for layer in &history.layers {
            text.push_str(&format!(
                "\n{}  {}",
                render::bytes_text(layer.size),
                render::one_line(&truncate(&layer.created_by, 120))
            ));
        }
        Ok(Reply::new(text, history))
    }
}

fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max_chars).collect();
    cut.push('…');
    cut
}

/// The SDK's mapping, with a hint that names the image tools.
pub(crate) fn image_error(err: bulkhead_plugin_sdk::docker::DockerError) -> ToolError {
    let mut mapped = ToolError::from(err);
    if mapped.code == bulkhead_plugin_sdk::ErrorCode::ImageNotFound {
        mapped.hint = Some(
            "check the name and tag with docker_list_images; docker_pull_image fetches an \
             image from a registry"
                .to_owned(),
        );
    }
    mapped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_instructions_are_cut() {
        assert_eq!(truncate("abc", 5), "abc");
        assert_eq!(truncate("abcdef", 3), "abc…");
    }
}
