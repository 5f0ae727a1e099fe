//! The `docker://` resources and the completions of names and ids.

use bulkhead_plugin_sdk::context::{
    self, Completion, CompletionTarget, Resource, ResourceContents, ResourcePage, ResourceTemplate,
};
use bulkhead_plugin_sdk::docker::{
    ImageFilter, ListFilter, PageRequest, containers_read, images_read, system_read,
};
use bulkhead_plugin_sdk::{Capability, ErrorCode, ToolError};
use serde::Serialize;

use crate::prompts::log_options;

const LOGS: &str = "docker://containers/{id}/logs";
const STATS: &str = "docker://containers/{id}/stats";
const INSPECT: &str = "docker://containers/{id}/inspect";
const IMAGE: &str = "docker://images/{id}/inspect";
const INFO: &str = "docker://system/info";
const JSON: &str = "application/json";
/// Running containers per `resources/list` page (three resources each).
const PAGE_CONTAINERS: u32 = 25;
/// Candidates a completion looks through.
const COMPLETION_SCAN: u32 = 200;

pub fn templates() -> Vec<ResourceTemplate> {
    use Capability::{ContainersRead, ImagesRead, SystemRead};
    let template = |uri, name, title, description, mime, capability| {
        ResourceTemplate::builder(uri, name, title, description)
            .mime_type(mime)
            .capabilities([capability])
            .build()
    };
    vec![
        template(
            LOGS,
            "container_logs",
            "Container logs",
            "The last 200 lines of a container's output, at most 64 KiB.",
            "text/plain",
            ContainersRead,
        ),
        template(
            STATS,
            "container_stats",
            "Container stats",
            "A container's CPU, memory, network, block I/O and process figures now.",
            JSON,
            ContainersRead,
        ),
        template(
            INSPECT,
            "container_inspect",
            "Container inspection",
            "A container's configuration and state; secrets redacted.",
            JSON,
            ContainersRead,
        ),
        template(
            IMAGE,
            "image_inspect",
            "Image inspection",
            "An image's configuration; a reference with `/` is written `%2F`.",
            JSON,
            ImagesRead,
        ),
        template(
            INFO,
            "system_info",
            "Engine info",
            "The Docker engine's version, resources and counts.",
            JSON,
            SystemRead,
        ),
    ]
}

pub fn list(cursor: Option<&str>) -> Result<ResourcePage, ToolError> {
    let mut resources = Vec::new();
    if cursor.is_none() {
        resources.push(resource(
            INFO.into(),
            "system info",
            "Engine info",
            "The Docker engine's version, resources and counts.",
            JSON,
        ));
    }
    let filter = ListFilter {
        status: vec!["running".into()],
        ..ListFilter::default()
    };
    let page = containers_read::list_containers(
        &filter,
        &PageRequest {
            limit: PAGE_CONTAINERS,
            cursor: cursor.map(str::to_string),
        },
    )?;
    for container in page.items {
        let name = container
            .names
            .first()
            .cloned()
            .unwrap_or_else(|| container.id.clone());
        let short = container.id.get(..12).unwrap_or(&container.id).to_string();
        for (kind, mime) in [("logs", "text/plain"), ("stats", JSON), ("inspect", JSON)] {
            resources.push(resource(
                format!("docker://containers/{short}/{kind}"),
                &format!("{name} {kind}"),
                &format!("{name} {kind}"),
                &format!("The {kind} of running container {name}."),
                mime,
            ));
        }
    }
    Ok(ResourcePage {
        resources,
        next_cursor: page.next_cursor,
    })
}

fn resource(uri: String, name: &str, title: &str, description: &str, mime: &str) -> Resource {
    Resource {
        uri,
        name: name.into(),
        title: title.into(),
        description: description.into(),
        mime_type: mime.into(),
    }
}

pub fn read(template: &str, variables: &[(String, String)]) -> Result<ResourceContents, ToolError> {
    let id = context::argument(variables, "id").unwrap_or_default();
    let (uri, mime, text) = match template {
        LOGS => {
            let logs = containers_read::container_logs(id, log_options(200, 64 << 10))?;
            (LOGS.replace("{id}", id), "text/plain", logs.text)
        }
        STATS => (
            STATS.replace("{id}", id),
            JSON,
            json(&containers_read::container_stats(id)?)?,
        ),
        INSPECT => (
            INSPECT.replace("{id}", id),
            JSON,
            json(&containers_read::inspect_container(id)?)?,
        ),
        IMAGE => (
            IMAGE.replace("{id}", id),
            JSON,
            json(&images_read::inspect_image(id)?)?,
        ),
        INFO => (INFO.to_string(), JSON, json(&system_read::info()?)?),
        other => {
            return Err(ToolError::new(
                ErrorCode::PluginFault,
                format!("no resource template `{other}` here"),
            ));
        }
    };
    Ok(ResourceContents::text(uri, mime, text))
}

fn json(value: &impl Serialize) -> Result<String, ToolError> {
    serde_json::to_string_pretty(value).map_err(|err| {
        ToolError::new(
            ErrorCode::PluginFault,
            format!("could not serialise the resource: {err}"),
        )
    })
}

pub fn complete(
    target: &CompletionTarget,
    argument: &str,
    value: &str,
) -> Result<Completion, ToolError> {
    match (target, argument) {
        (CompletionTarget::Prompt(_), "container" | "target" | "containers") => containers(value),
        (CompletionTarget::Prompt(_), "label") => labels(value),
        (CompletionTarget::Template(template), "id") if template == IMAGE => images(value),
        (CompletionTarget::Template(_), "id") => containers(value),
        _ => Ok(Completion::none()),
    }
}

/// Containers in any state, newest first, as many as a completion looks through.
fn scanned_containers() -> Result<Vec<bulkhead_plugin_sdk::docker::ContainerSummary>, ToolError> {
    let filter = ListFilter {
        all: true,
        ..ListFilter::default()
    };
    let page = PageRequest {
        limit: COMPLETION_SCAN,
        cursor: None,
    };
    Ok(containers_read::list_containers(&filter, &page)?.items)
}

fn containers(prefix: &str) -> Result<Completion, ToolError> {
    let candidates = scanned_containers()?.into_iter().flat_map(|c| {
        let short = c.id.get(..12).unwrap_or(&c.id).to_string();
        c.names.into_iter().chain([short])
    });
    Ok(Completion::matching(candidates, prefix))
}

fn labels(prefix: &str) -> Result<Completion, ToolError> {
    let mut pairs: Vec<String> = scanned_containers()?
        .into_iter()
        .flat_map(|c| c.labels)
        .filter(|l| !l.key.starts_with("io.bulkhead."))
        .map(|l| format!("{}={}", l.key, l.value))
        .collect();
    pairs.sort();
    pairs.dedup();
    Ok(Completion::matching(pairs, prefix))
}

fn images(prefix: &str) -> Result<Completion, ToolError> {
    let page = images_read::list_images(
        &ImageFilter {
            reference: None,
            dangling: Some(false),
            labels: Vec::new(),
            all: false,
        },
        &PageRequest {
            limit: COMPLETION_SCAN,
            cursor: None,
        },
    )?;
    let candidates = page.items.into_iter().flat_map(|image| {
        let short = image
            .id
            .trim_start_matches("sha256:")
            .get(..12)
            .unwrap_or_default()
            .to_string();
        image.repo_tags.into_iter().chain([short])
    });
    Ok(Completion::matching(candidates, prefix))
}
