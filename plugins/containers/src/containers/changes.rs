//! `docker_container_changes`: the paths a container changed relative to its image, one
//! page at a time.

use bulkhead_plugin_sdk::docker::containers_read::{self, ChangeKind, FsChange};
use bulkhead_plugin_sdk::{Capability, Page, Reply, ToolError, TypedTool, page_request};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::render;

/// Which container, and which page.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangesArgs {
    /// Container name or id.
    #[schemars(length(min = 1, max = 255))]
    container: String,
    /// Paths per page, 1-200 (default 50).
    #[schemars(range(min = 1, max = 200))]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[schemars(length(min = 1))]
    cursor: Option<String>,
}

pub struct ContainerChanges;

impl TypedTool for ContainerChanges {
    const NAME: &'static str = "docker_container_changes";
    const TITLE: &'static str = "Container filesystem changes";
    const DESCRIPTION: &'static str = "List the files and directories a container added, \
        changed or deleted relative to its image (like `docker diff`), sorted by path, one \
        page at a time.";
    const CAPABILITIES: &'static [Capability] = &[Capability::ContainersRead];
    const IDEMPOTENT: bool = true;
    type Args = ChangesArgs;
    type Output = Page<FsChange>;

    fn run(args: ChangesArgs) -> Result<Reply<Page<FsChange>>, ToolError> {
        let page = containers_read::container_changes(
            &args.container,
            &page_request(args.limit, args.cursor),
        )
        .map_err(crate::docker_error)?;
        let page = Page::new(page.items, page.total, page.next_cursor);
        Ok(Reply::new(text(&args.container, &page), page))
    }
}

/// `A /tmp/x` lines, as `docker diff` prints them.
pub(crate) fn text(container: &str, page: &Page<FsChange>) -> String {
    if page.total == 0 {
        return format!("{} has no filesystem changes.", render::one_line(container));
    }
    let mut lines = vec![page.header("changed path")];
    for change in &page.items {
        let mark = match change.kind {
            ChangeKind::Added => 'A',
            ChangeKind::Modified => 'C',
            ChangeKind::Deleted => 'D',
        };
        lines.push(format!("{mark} {}", render::one_line(&change.path)));
    }
    lines.extend(page.more_line());
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_read_like_docker_diff() {
        let change = |path: &str, kind| FsChange {
            path: path.into(),
            kind,
        };
        let page = Page::new(
            vec![
                change("/tmp", ChangeKind::Modified),
                change("/tmp/new", ChangeKind::Added),
            ],
            3,
            Some("2".into()),
        );
        let text = text("web", &page);
        assert!(text.contains("\nC /tmp\nA /tmp/new\n"), "{text}");
        assert!(text.ends_with("More: pass cursor \"2\"."), "{text}");
        let kind = serde_json::to_value(ChangeKind::Deleted).unwrap();
        assert_eq!(kind, serde_json::json!("deleted"));
    }
}
