//! `docker_list_images`: one page of local images, a line per image in the text.

use bulkhead_plugin_sdk::docker::{ImageFilter, ImageSummary, images_read};
use bulkhead_plugin_sdk::{Capability, Page, Reply, ToolError, TypedTool, page_request};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::render;

/// Which images to list; filters combine (all must match).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListImagesArgs {
    /// Keep images whose reference matches this pattern, like `docker images PATTERN`
    /// (`busybox`, `bulkhead-test/*`, `app:1.*`).
    #[schemars(length(min = 1, max = 255))]
    reference: Option<String>,
    /// true: only untagged (dangling) images; false: only tagged ones. Omit for both.
    dangling: Option<bool>,
    /// Label filters, each `key` (label present) or `key=value`; all must match.
    #[serde(default)]
    labels: Vec<String>,
    /// Include intermediate build images (like `docker images -a`). Default false.
    #[serde(default)]
    all: bool,
    /// Images per page, 1-200 (default 50).
    #[schemars(range(min = 1, max = 200))]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page. Omit for the first page.
    #[schemars(length(min = 1))]
    cursor: Option<String>,
}

pub struct ListImages;

impl TypedTool for ListImages {
    const NAME: &'static str = "docker_list_images";
    const TITLE: &'static str = "List images";
    const DESCRIPTION: &'static str = "List local Docker images, newest first, one page at \
        a time (like `docker images`). Filters combine. Pass `next_cursor` back as `cursor` \
        for the next page.";
    const CAPABILITIES: &'static [Capability] = &[Capability::ImagesRead];
    const IDEMPOTENT: bool = true;
    type Args = ListImagesArgs;
    type Output = Page<ImageSummary>;

    fn run(args: ListImagesArgs) -> Result<Reply<Self::Output>, ToolError> {
        let filter = ImageFilter {
            reference: args.reference,
            dangling: args.dangling,
            labels: args.labels,
            all: args.all,
        };
        let page = images_read::list_images(&filter, &page_request(args.limit, args.cursor))
            .map_err(crate::docker_error)?;
        let page = Page::new(page.items, page.total, page.next_cursor);
        Ok(Reply::new(text(&page), page))
    }
}

/// A header line, then `id  tags  size` per image.
pub(crate) fn text(page: &Page<ImageSummary>) -> String {
    let mut text = page.header("image");
    for image in &page.items {
        let tags = if image.repo_tags.is_empty() {
            "<none>".to_owned()
        } else {
            render::one_line(&image.repo_tags.join(", "))
        };
        text.push_str(&format!(
            "\n{}  {}  {}",
            render::short_id(&image.id),
            tags,
            render::bytes_text(image.size)
        ));
    }
    if let Some(more) = page.more_line() {
        text.push('\n');
        text.push_str(&more);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_one_line_per_image() {
        let image = ImageSummary {
            id: "sha256:0123456789abcdef".into(),
            repo_tags: vec![],
            repo_digests: vec![],
            created: 0,
            size: 2 << 20,
            containers: -1,
            labels: vec![],
        };
        let page = Page::new(vec![image], 1, None);
        assert_eq!(text(&page), "1 of 1 image(s):\n0123456789ab  <none>  2 MiB");
    }
}
