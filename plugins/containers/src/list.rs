//! `docker_list_containers`: one page of containers matching a filter, a line per
//! container in the text.

use std::collections::BTreeMap;

use bulkhead_plugin_sdk::docker::{
    ContainerPage, ContainerSummary, ListFilter, PageRequest, containers_read,
};
use bulkhead_plugin_sdk::{Capability, Tool, ToolError, ToolOutput, Value, json, parse_args};
use serde::{Deserialize, Serialize};

use crate::render::{self, PortOut};

pub(crate) const NAME: &str = "docker_list_containers";

/// Container states Docker knows, for the `status` filter.
const STATES: [&str; 7] = [
    "created",
    "restarting",
    "running",
    "removing",
    "paused",
    "exited",
    "dead",
];

/// Default and maximum page sizes.
const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 200;

pub(crate) fn tool() -> Tool {
    Tool::builder(
        NAME,
        "List containers",
        "List Docker containers, newest first, one page at a time (like `docker ps`). Running \
         containers only unless `all` is true. Filters combine (all must match). Returns short \
         ids, names, image, state, status, ports and labels; pass `next_cursor` back as `cursor` \
         for the next page.",
    )
    .input_schema(json!({
        "type": "object",
        "properties": {
            "all": {
                "type": "boolean",
                "default": false,
                "description": "Include stopped containers too (like `docker ps -a`). Default false: running containers only."
            },
            "name": {
                "type": "string",
                "minLength": 1,
                "description": "Keep containers whose name contains this text."
            },
            "status": {
                "type": "array",
                "items": {"type": "string", "enum": STATES},
                "uniqueItems": true,
                "description": "Keep containers in any of these states: created, restarting, running, removing, paused, exited, dead."
            },
            "labels": {
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "description": "Label filters, each `key` (label present) or `key=value`; a container must match all of them."
            },
            "ancestor": {
                "type": "string",
                "minLength": 1,
                "description": "Keep containers created from this image (name, name:tag or image id)."
            },
            "limit": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_LIMIT,
                "default": DEFAULT_LIMIT,
                "description": "Containers per page, 1-200 (default 50)."
            },
            "cursor": {
                "type": "string",
                "minLength": 1,
                "description": "The `next_cursor` of the previous page, to get the next one. Omit for the first page."
            }
        },
        "additionalProperties": false
    }))
    .output_schema(json!({
        "type": "object",
        "properties": {
            "containers": {
                "type": "array",
                "items": summary_schema(),
                "description": "This page of containers."
            },
            "total": {
                "type": "integer",
                "minimum": 0,
                "description": "How many containers match the filter in all pages."
            },
            "has_more": {"type": "boolean", "description": "True when more pages follow."},
            "next_cursor": {
                "type": ["string", "null"],
                "description": "Pass as `cursor` to get the next page; null on the last page."
            }
        },
        "required": ["containers", "total", "has_more", "next_cursor"],
        "additionalProperties": false
    }))
    .capabilities([Capability::ContainersRead])
    .idempotent()
    .build()
}

fn summary_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "id": {"type": "string", "description": "Short (12-character) container id."},
            "names": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Container names, without the leading `/`."
            },
            "image": {"type": "string", "description": "Image the container was created from."},
            "state": {
                "type": "string",
                "description": "created, running, paused, restarting, removing, exited or dead."
            },
            "status": {
                "type": "string",
                "description": "Human status, such as `Up 5 minutes` or `Exited (0) 2 hours ago`."
            },
            "created": {
                "type": "integer",
                "description": "Creation time, seconds since the Unix epoch."
            },
            "ports": {
                "type": "array",
                "items": render::port_schema(),
                "description": "Exposed and published ports."
            },
            "labels": render::labels_schema()
        },
        "required": ["id", "names", "image", "state", "status", "created", "ports", "labels"],
        "additionalProperties": false
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListArgs {
    #[serde(default)]
    all: bool,
    name: Option<String>,
    #[serde(default)]
    status: Vec<String>,
    #[serde(default)]
    labels: Vec<String>,
    ancestor: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

/// The list filter and page request for `args`.
pub(crate) fn request(args: ListArgs) -> Result<(ListFilter, PageRequest), ToolError> {
    if let Some(bad) = args.status.iter().find(|s| !STATES.contains(&s.as_str())) {
        return Err(ToolError::invalid_argument(format!(
            "unknown container state `{bad}`; use one of {}",
            STATES.join(", ")
        )));
    }
    let limit = args.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ToolError::invalid_argument(format!(
            "limit must be 1-{MAX_LIMIT}, got {limit}"
        )));
    }
    let filter = ListFilter {
        all: args.all,
        name: args.name,
        status: args.status,
        labels: args.labels,
        ancestor: args.ancestor,
    };
    Ok((
        filter,
        PageRequest {
            limit,
            cursor: args.cursor,
        },
    ))
}

/// One container in structured output.
#[derive(Debug, Serialize)]
pub(crate) struct SummaryOut {
    id: String,
    names: Vec<String>,
    image: String,
    state: String,
    status: String,
    created: i64,
    ports: Vec<PortOut>,
    labels: BTreeMap<String, String>,
}

/// Structured output of the tool.
#[derive(Debug, Serialize)]
pub(crate) struct ListOut {
    containers: Vec<SummaryOut>,
    total: u32,
    has_more: bool,
    next_cursor: Option<String>,
}

pub(crate) fn output(page: ContainerPage) -> ListOut {
    let containers = page.items.into_iter().map(summary).collect();
    ListOut {
        containers,
        total: page.total,
        has_more: page.next_cursor.is_some(),
        next_cursor: page.next_cursor,
    }
}

fn summary(item: ContainerSummary) -> SummaryOut {
    SummaryOut {
        id: render::short_id(&item.id),
        names: item
            .names
            .into_iter()
            .map(|name| name.trim_start_matches('/').to_owned())
            .collect(),
        image: item.image,
        state: item.state,
        status: item.status,
        created: item.created,
        ports: item.ports.into_iter().map(PortOut::from).collect(),
        labels: render::label_map(item.labels),
    }
}

/// A header line, then `id  name  image  state (status)  ports` per container.
pub(crate) fn text(out: &ListOut, all: bool) -> String {
    if out.containers.is_empty() {
        let mut text = if out.total == 0 {
            "No containers match.".to_owned()
        } else {
            "No containers on this page.".to_owned()
        };
        if !all {
            text.push_str(" Stopped containers are hidden; pass all: true to include them.");
        }
        return text;
    }
    let mut text = format!("{} of {} container(s):", out.containers.len(), out.total);
    for c in &out.containers {
        let name = c.names.first().map_or("-", String::as_str);
        text.push_str(&format!(
            "\n{}  {}  {}  {} ({})  {}",
            c.id,
            render::one_line(name),
            render::one_line(&c.image),
            render::one_line(&c.state),
            render::one_line(&c.status),
            render::ports_text(&c.ports)
        ));
    }
    if let Some(cursor) = &out.next_cursor {
        text.push_str(&format!("\nMore: pass cursor {}.", render::quoted(cursor)));
    }
    text
}

pub(crate) fn run(args: Value) -> Result<ToolOutput, ToolError> {
    let args: ListArgs = parse_args(args)?;
    let all = args.all;
    let (filter, page) = request(args)?;
    let out =
        output(containers_read::list_containers(&filter, &page).map_err(crate::docker_error)?);
    ToolOutput::structured(text(&out, all), &out)
}

#[cfg(test)]
mod tests {
    use bulkhead_plugin_sdk::docker::{KeyValue, PortBinding};

    use super::*;
    use crate::tests::assert_matches_schema;

    pub(crate) fn sample_summary(id: &str, name: &str) -> ContainerSummary {
        ContainerSummary {
            id: id.into(),
            names: vec![format!("/{name}")],
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
            labels: vec![
                KeyValue {
                    key: "app".into(),
                    value: "web".into(),
                },
                KeyValue {
                    key: "db.password".into(),
                    value: "hunter2".into(),
                },
            ],
        }
    }

    #[test]
    fn defaults_map_to_the_first_page_of_running_containers() {
        let (filter, page) = request(ListArgs::default()).unwrap();
        assert_eq!(filter, ListFilter::default());
        assert_eq!(
            page,
            PageRequest {
                limit: 50,
                cursor: None
            }
        );
    }

    #[test]
    fn every_argument_reaches_the_request() {
        let args: ListArgs = parse_args(json!({
            "all": true, "name": "web", "status": ["exited", "dead"], "labels": ["app", "tier=front"],
            "ancestor": "nginx", "limit": 5, "cursor": "c1"
        }))
        .unwrap();
        let (filter, page) = request(args).unwrap();
        assert_eq!(
            filter,
            ListFilter {
                all: true,
                name: Some("web".into()),
                status: vec!["exited".into(), "dead".into()],
                labels: vec!["app".into(), "tier=front".into()],
                ancestor: Some("nginx".into()),
            }
        );
        assert_eq!(
            page,
            PageRequest {
                limit: 5,
                cursor: Some("c1".into())
            }
        );
    }

    #[test]
    fn out_of_range_arguments_are_refused() {
        let err = request(ListArgs {
            limit: Some(0),
            ..ListArgs::default()
        })
        .unwrap_err();
        assert_eq!(err.message, "limit must be 1-200, got 0");
        let err = request(ListArgs {
            status: vec!["sleeping".into()],
            ..ListArgs::default()
        })
        .unwrap_err();
        assert!(
            err.message
                .starts_with("unknown container state `sleeping`")
        );
    }

    #[test]
    fn output_is_short_ids_clean_names_and_redacted_labels() {
        let page = ContainerPage {
            items: vec![sample_summary("0123456789abcdef", "web")],
            total: 3,
            next_cursor: Some("next".into()),
        };
        let out = output(page);
        let value = serde_json::to_value(&out).unwrap();
        assert_eq!(
            value,
            json!({
                "containers": [{
                    "id": "0123456789ab", "names": ["web"], "image": "nginx:1.27", "state": "running",
                    "status": "Up 5 minutes", "created": 1_700_000_000,
                    "ports": [{"container_port": 80, "protocol": "tcp", "host_ip": "127.0.0.1", "host_port": 8080}],
                    "labels": {"app": "web", "db.password": "<redacted>"}
                }],
                "total": 3, "has_more": true, "next_cursor": "next"
            })
        );
        assert_matches_schema(&tool(), &value);
        assert_eq!(
            text(&out, false),
            "1 of 3 container(s):\n0123456789ab  web  nginx:1.27  running (Up 5 minutes)  127.0.0.1:8080->80/tcp\nMore: pass cursor \"next\"."
        );
    }

    #[test]
    fn empty_pages_say_why() {
        let out = output(ContainerPage {
            items: vec![],
            total: 0,
            next_cursor: None,
        });
        assert_matches_schema(&tool(), &serde_json::to_value(&out).unwrap());
        assert_eq!(
            text(&out, false),
            "No containers match. Stopped containers are hidden; pass all: true to include them."
        );
        assert_eq!(text(&out, true), "No containers match.");
    }
}
