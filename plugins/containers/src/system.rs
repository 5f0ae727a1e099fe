//! System tools: engine info, versions, disk use, a bounded window of events, and a
//! system-wide prune.

use bulkhead_plugin_sdk::docker::system_types::{
    DiskUsage, EventBatch, EventsRequest, SystemInfo, SystemPruneReport, SystemPruneRequest,
    UsageCategory, VersionInfo,
};
use bulkhead_plugin_sdk::docker::{system_prune, system_read};
use bulkhead_plugin_sdk::{Capability, Reply, ToolError, TypedTool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::render;

/// No arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoArgs {}

/// Structured output of the info tool.
#[derive(Debug, Serialize, JsonSchema)]
pub struct InfoOut {
    /// The engine and its machine.
    info: SystemInfo,
}

pub struct SystemInfoTool;

impl TypedTool for SystemInfoTool {
    const NAME: &'static str = "docker_system_info";
    const TITLE: &'static str = "Engine information";
    const DESCRIPTION: &'static str = "Show the Docker engine's version, OS and kernel, CPUs \
        and memory, container counts by state, image count, storage and cgroup drivers, \
        and the engine's warnings (like `docker info`).";
    const CAPABILITIES: &'static [Capability] = &[Capability::SystemRead];
    const IDEMPOTENT: bool = true;
    type Args = NoArgs;
    type Output = InfoOut;

    fn run(_: NoArgs) -> Result<Reply<InfoOut>, ToolError> {
        let info = system_read::info().map_err(crate::docker_error)?;
        let mut text = format!(
            "Docker {} on {} ({} {}, kernel {}), {} CPUs, {} memory\n\
             containers: {} ({} running, {} paused, {} stopped); images: {}\n\
             storage driver {}, cgroup v{} ({}), logging {}",
            render::one_line(&info.engine_version),
            render::one_line(&info.operating_system),
            render::one_line(&info.os_type),
            render::one_line(&info.architecture),
            render::one_line(&info.kernel_version),
            info.cpus,
            render::bytes_text(info.memory_bytes),
            info.containers,
            info.containers_running,
            info.containers_paused,
            info.containers_stopped,
            info.images,
            render::one_line(&info.storage_driver),
            render::one_line(&info.cgroup_version),
            render::one_line(&info.cgroup_driver),
            render::one_line(&info.logging_driver)
        );
        if !info.warnings.is_empty() {
            text.push_str(&format!(
                "\n{} warning(s) (see structured content)",
                info.warnings.len()
            ));
        }
        Ok(Reply::new(text, InfoOut { info }))
    }
}

/// Structured output of the version tool.
#[derive(Debug, Serialize, JsonSchema)]
pub struct VersionOut {
    /// Engine and API versions.
    version: VersionInfo,
}

pub struct Version;

impl TypedTool for Version {
    const NAME: &'static str = "docker_version";
    const TITLE: &'static str = "Engine version";
    const DESCRIPTION: &'static str = "Show the engine version, the API versions it supports, \
        the API version this server negotiated, and the engine's Go version, OS, \
        architecture and build (like `docker version`).";
    const CAPABILITIES: &'static [Capability] = &[Capability::SystemRead];
    const IDEMPOTENT: bool = true;
    type Args = NoArgs;
    type Output = VersionOut;

    fn run(_: NoArgs) -> Result<Reply<VersionOut>, ToolError> {
        let v = system_read::version().map_err(crate::docker_error)?;
        let text = format!(
            "Engine {} (API {}, min {}; negotiated {}), {} {}, {}, built {}",
            render::one_line(&v.engine_version),
            render::one_line(&v.api_version),
            render::one_line(&v.min_api_version),
            render::one_line(&v.negotiated_api_version),
            render::one_line(&v.os),
            render::one_line(&v.arch),
            render::one_line(&v.go_version),
            render::one_line(&v.build_time)
        );
        Ok(Reply::new(text, VersionOut { version: v }))
    }
}

pub struct SystemDf;

fn usage_line(kind: &str, usage: &UsageCategory) -> String {
    let size = usage
        .size_bytes
        .map_or_else(|| "size unknown".to_owned(), render::bytes_text);
    let reclaimable = usage
        .reclaimable_bytes
        .map_or_else(|| "unknown".to_owned(), render::bytes_text);
    format!(
        "{kind}: {} ({} active), {size}, reclaimable {reclaimable}",
        usage.count, usage.active
    )
}

impl TypedTool for SystemDf {
    const NAME: &'static str = "docker_system_df";
    const TITLE: &'static str = "Disk usage";
    const DESCRIPTION: &'static str = "Show how much disk images, containers, volumes and \
        build cache use and how much a prune could reclaim (like `docker system df`).";
    const CAPABILITIES: &'static [Capability] = &[Capability::SystemRead];
    const IDEMPOTENT: bool = true;
    type Args = NoArgs;
    type Output = DiskUsage;

    fn run(_: NoArgs) -> Result<Reply<DiskUsage>, ToolError> {
        let usage = system_read::df().map_err(crate::docker_error)?;
        let mut lines = vec![
            usage_line("images", &usage.images),
            usage_line("containers", &usage.containers),
            usage_line("volumes", &usage.volumes),
        ];
        match &usage.build_cache {
            Some(cache) => lines.push(usage_line("build cache", cache)),
            None => lines.push("build cache: not reported".to_owned()),
        }
        if let Some(note) = &usage.note {
            lines.push(format!("note: {}", render::one_line(note)));
        }
        Ok(Reply::new(lines.join("\n"), usage))
    }
}

/// Which events to read, from a bounded window.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventsArgs {
    /// Start of the window, Unix time in seconds. Default: 60 s before `until`.
    #[schemars(range(min = 0))]
    since: Option<i64>,
    /// End of the window, Unix time in seconds. Default now; at most 10 s in the future
    /// (the call waits until then).
    #[schemars(range(min = 0))]
    until: Option<i64>,
    /// Object types to keep: container, image, volume, network, daemon, plugin, …
    #[serde(default)]
    #[schemars(length(max = 16))]
    types: Vec<String>,
    /// Actions to keep: create, start, die, destroy, …
    #[serde(default)]
    #[schemars(length(max = 32))]
    events: Vec<String>,
    /// Label filters, each `key` or `key=value`.
    #[serde(default)]
    #[schemars(length(max = 16))]
    labels: Vec<String>,
    /// Container names or ids to keep.
    #[serde(default)]
    #[schemars(length(max = 16))]
    containers: Vec<String>,
    /// Stop after this many events, 1-1000 (default 100).
    #[schemars(range(min = 1, max = 1000))]
    max_events: Option<u32>,
}

pub struct Events;

impl TypedTool for Events {
    const NAME: &'static str = "docker_events";
    const TITLE: &'static str = "Engine events";
    const DESCRIPTION: &'static str = "Read the engine's events in a bounded time window \
        (like `docker events --since … --until …`), oldest first: by default the last 60 \
        seconds. Stops at `max_events` (default 100) and says when it did.";
    const CAPABILITIES: &'static [Capability] = &[Capability::SystemRead];
    const IDEMPOTENT: bool = true;
    type Args = EventsArgs;
    type Output = EventBatch;

    fn run(args: EventsArgs) -> Result<Reply<EventBatch>, ToolError> {
        let request = EventsRequest {
            since: args.since,
            until: args.until,
            types: args.types,
            events: args.events,
            labels: args.labels,
            containers: args.containers,
            max_events: args.max_events.unwrap_or(0),
        };
        let batch = system_read::events(&request).map_err(crate::docker_error)?;
        let mut text = format!(
            "{} event(s) from {} to {}{}",
            batch.events.len(),
            batch.since,
            batch.until,
            if batch.truncated {
                " (stopped early: more events follow; narrow the window or filters)"
            } else {
                ""
            }
        );
        // A line per event for the first few; the rest are in the structured content.
        for event in batch.events.iter().take(20) {
            let name = event
                .attributes
                .iter()
                .find(|a| a.key == "name")
                .map_or_else(
                    || render::short_id(&event.actor_id),
                    |a| render::one_line(&a.value),
                );
            text.push_str(&format!(
                "\n{} {} {} {}",
                event.time,
                render::one_line(&event.kind),
                render::one_line(&event.action),
                name
            ));
        }
        if batch.events.len() > 20 {
            text.push_str(&format!(
                "\n… {} more in structured content",
                batch.events.len() - 20
            ));
        }
        Ok(Reply::new(text, batch))
    }
}

/// What to prune besides stopped containers, unused networks and dangling images.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PruneSystemArgs {
    /// Remove every image no container uses, not only dangling ones. Default false.
    #[serde(default)]
    all: bool,
    /// Also remove unused volumes, named or anonymous, and their data. Default false.
    #[serde(default)]
    volumes: bool,
    /// Label filters, each `key` or `key=value`, applied to every kind. With labels, build
    /// cache (which has none) is left alone.
    #[serde(default)]
    #[schemars(length(max = 16))]
    labels: Vec<String>,
    /// Only objects created before this: Unix time, RFC 3339 time, or a duration such as
    /// `24h`. Volumes cannot be filtered by age.
    #[schemars(length(min = 1, max = 40))]
    until: Option<String>,
}

pub struct PruneSystem;

impl TypedTool for PruneSystem {
    const NAME: &'static str = "docker_prune_system";
    const TITLE: &'static str = "Prune everything unused";
    const DESCRIPTION: &'static str = "Delete stopped containers, unused networks, dangling \
        images (every unused image with `all`), build cache, and with `volumes` unused \
        volumes (like `docker system prune`). Destructive. Narrow it with label and age \
        filters.";
    const CAPABILITIES: &'static [Capability] = &[Capability::SystemPrune];
    type Args = PruneSystemArgs;
    type Output = SystemPruneReport;

    fn run(args: PruneSystemArgs) -> Result<Reply<SystemPruneReport>, ToolError> {
        let request = SystemPruneRequest {
            all_images: args.all,
            volumes: args.volumes,
            labels: args.labels,
            until: args.until,
        };
        let report = system_prune::prune_system(&request).map_err(crate::docker_error)?;
        let cache = if report.build_cache_pruned {
            format!("{} build cache record(s)", report.build_cache_records)
        } else {
            "build cache left alone (label filters)".to_owned()
        };
        let text = format!(
            "Removed {} container(s), {} network(s), {} image(s), {} volume(s), {cache}; \
             reclaimed {}.",
            report.containers.len(),
            report.networks.len(),
            report.images.len(),
            report.volumes.len(),
            render::bytes_text(report.space_reclaimed as i64)
        );
        Ok(Reply::new(text, report))
    }
}
