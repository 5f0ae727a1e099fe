//! `docker_list_containers`: one page of containers matching a filter, a line per
//! container in the text.

use bulkhead_plugin_sdk::docker::{ContainerSummary, ListFilter, containers_read};
use bulkhead_plugin_sdk::{Capability, Page, Reply, ToolError, TypedTool, page_request};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::render;

/// Container states Docker knows, for the `status` filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Created,
    Restarting,
    Running,
    Removing,
    Paused,
    Exited,
    Dead,
}

impl State {
    fn as_str(self) -> &'static str {
        match self {
            State::Created => "created",
            State::Restarting => "restarting",
            State::Running => "running",
            State::Removing => "removing",
            State::Paused => "paused",
            State::Exited => "exited",
            State::Dead => "dead",
        }
    }
}

/// Which containers to list; filters combine (all must match).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListArgs {
    /// Include stopped containers too (like `docker ps -a`). Default false: running
    /// containers only.
    #[serde(default)]
    all: bool,
    /// Keep containers whose name contains this text.
    #[schemars(length(min = 1))]
    name: Option<String>,
    /// Keep containers in any of these states.
    #[serde(default)]
    #[schemars(extend("uniqueItems" = true))]
    status: Vec<State>,
    /// Label filters, each `key` (label present) or `key=value`; all must match.
    #[serde(default)]
    labels: Vec<String>,
    /// Keep containers created from this image (name, name:tag or image id).
    #[schemars(length(min = 1))]
    ancestor: Option<String>,
    /// Containers per page, 1-200 (default 50).
    #[schemars(range(min = 1, max = 200))]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page. Omit for the first page.
    #[schemars(length(min = 1))]
    cursor: Option<String>,
}

pub struct ListContainers;

impl TypedTool for ListContainers {
    const NAME: &'static str = "docker_list_containers";
    const TITLE: &'static str = "List containers";
    const DESCRIPTION: &'static str = "List Docker containers, newest first, one page at a \
        time (like `docker ps`). Running containers only unless `all` is true. Filters \
        combine (all must match). Pass `next_cursor` back as `cursor` for the next page.";
    const CAPABILITIES: &'static [Capability] = &[Capability::ContainersRead];
    const IDEMPOTENT: bool = true;
    type Args = ListArgs;
    type Output = Page<ContainerSummary>;

    fn run(args: ListArgs) -> Result<Reply<Self::Output>, ToolError> {
        let all = args.all;
        let filter = ListFilter {
            all: args.all,
            name: args.name,
            status: args.status.iter().map(|s| s.as_str().to_owned()).collect(),
            labels: args.labels,
            ancestor: args.ancestor,
            this_session: false,
        };
        let page =
            containers_read::list_containers(&filter, &page_request(args.limit, args.cursor))
                .map_err(crate::docker_error)?;
        let page = Page::new(page.items, page.total, page.next_cursor);
        Ok(Reply::new(text(&page, all), page))
    }
}

/// A header line, then `id  name  image  state (status)  ports` per container.
pub(crate) fn text(page: &Page<ContainerSummary>, all: bool) -> String {
    let mut text = page.header("container");
    if page.items.is_empty() && !all {
        text.push_str(" Stopped containers are hidden; pass all: true to include them.");
    }
    for c in &page.items {
        let name = c.names.first().map_or("-", String::as_str);
        text.push_str(&format!(
            "\n{}  {}  {}  {} ({})  {}",
            render::short_id(&c.id),
            render::one_line(name),
            render::one_line(&c.image),
            render::one_line(&c.state),
            render::one_line(&c.status),
            render::ports_text(&c.ports)
        ));
    }
    if let Some(more) = page.more_line() {
        text.push('\n');
        text.push_str(&more);
    }
    text
}

#[cfg(test)]
pub(crate) mod tests {
    use bulkhead_plugin_sdk::docker::{KeyValue, PortBinding};

    use super::*;

    pub(crate) fn sample_summary(id: &str, name: &str) -> ContainerSummary {
        ContainerSummary {
            id: id.into(),
            names: vec![name.into()],
            image: "nginx:1.27".into(),
            image_id: "sha256:abc".into(),
            command: "nginx -g 'daemon off;'".into(),
            created: 1_700_000_000,
            state: "running".into(),
            status: "Up 5 minutes".into(),
            ports: vec![PortBinding {
                container_port: 80,
                protocol: "tcp".into(),
                host_ip: Some("127.0.0.1".into()),
                host_port: Some(8080),
            }],
            labels: vec![KeyValue {
                key: "app".into(),
                value: "web".into(),
            }],
        }
    }

    #[test]
    fn text_is_one_line_per_container() {
        let page = Page::new(
            vec![sample_summary("0123456789abcdef", "web")],
            3,
            Some("1".into()),
        );
        assert_eq!(
            text(&page, false),
            "1 of 3 container(s):\n0123456789ab  web  nginx:1.27  running (Up 5 minutes)  127.0.0.1:8080->80/tcp\nMore: pass cursor \"1\"."
        );
        let empty: Page<ContainerSummary> = Page::new(vec![], 0, None);
        assert_eq!(
            text(&empty, false),
            "No containers match. Stopped containers are hidden; pass all: true to include them."
        );
        assert_eq!(text(&empty, true), "No containers match.");
    }
}
