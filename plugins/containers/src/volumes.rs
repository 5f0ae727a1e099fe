//! Volume tools: list, inspect, create (through the host's volume policy), remove,
//! prune.

use std::collections::BTreeMap;

use bulkhead_plugin_sdk::docker::volume_types::{
    VolumeDetails, VolumeFilter, VolumePruneReport, VolumeSpec, VolumeSummary,
};
use bulkhead_plugin_sdk::docker::{volumes_manage, volumes_read, volumes_remove};
use bulkhead_plugin_sdk::{Capability, Page, Reply, ToolError, TypedTool, page_request};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::networks::key_values;
use crate::render;

/// Which volumes to list; filters combine.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListVolumesArgs {
    /// Keep volumes whose name contains this text.
    #[schemars(length(min = 1, max = 255))]
    name: Option<String>,
    /// Keep volumes of this driver.
    #[schemars(length(min = 1, max = 128))]
    driver: Option<String>,
    /// Label filters, each `key` or `key=value`; all must match.
    #[serde(default)]
    #[schemars(length(max = 16))]
    labels: Vec<String>,
    /// `true`: only volumes no container uses; `false`: only volumes in use.
    dangling: Option<bool>,
    /// Volumes per page, 1-200 (default 50).
    #[schemars(range(min = 1, max = 200))]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page. Omit for the first page.
    #[schemars(length(min = 1))]
    cursor: Option<String>,
}

pub struct ListVolumes;

impl TypedTool for ListVolumes {
    const NAME: &'static str = "docker_list_volumes";
    const TITLE: &'static str = "List volumes";
    const DESCRIPTION: &'static str = "List Docker volumes sorted by name, one page at a \
        time (like `docker volume ls`). Filters combine. Pass `next_cursor` back as \
        `cursor` for the next page.";
    const CAPABILITIES: &'static [Capability] = &[Capability::VolumesRead];
    const IDEMPOTENT: bool = true;
    type Args = ListVolumesArgs;
    type Output = Page<VolumeSummary>;

    fn run(args: ListVolumesArgs) -> Result<Reply<Self::Output>, ToolError> {
        let filter = VolumeFilter {
            name: args.name,
            driver: args.driver,
            labels: args.labels,
            dangling: args.dangling,
        };
        let page = volumes_read::list_volumes(&filter, &page_request(args.limit, args.cursor))
            .map_err(crate::docker_error)?;
        let page = Page::new(page.items, page.total, page.next_cursor);
        let mut text = page.header("volume");
        for v in &page.items {
            text.push_str(&format!(
                "\n{}  {}",
                render::one_line(&v.name),
                render::one_line(&v.driver)
            ));
        }
        if let Some(more) = page.more_line() {
            text.push('\n');
            text.push_str(&more);
        }
        Ok(Reply::new(text, page))
    }
}

/// Names one volume.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VolumeArgs {
    /// Volume name.
    #[schemars(length(min = 1, max = 255))]
    volume: String,
}

/// One volume.
#[derive(Debug, Serialize, JsonSchema)]
pub struct VolumeOut {
    /// The volume's details.
    volume: VolumeDetails,
}

fn volume_text(verb: &str, v: &VolumeDetails) -> String {
    let mut text = format!(
        "{verb}{} (driver {}, scope {}), mountpoint {}",
        render::one_line(&v.name),
        render::one_line(&v.driver),
        render::one_line(&v.scope),
        render::one_line(&v.mountpoint)
    );
    if let Some(usage) = &v.usage {
        text.push_str(&format!(
            "\nsize {}, used by {} container(s)",
            render::bytes_text(usage.size_bytes),
            usage.ref_count
        ));
    }
    text.push_str(&format!(
        "\nlabels: {}; options: {} (see structured content)",
        v.labels.len(),
        v.options.len()
    ));
    text
}

pub struct InspectVolume;

impl TypedTool for InspectVolume {
    const NAME: &'static str = "docker_inspect_volume";
    const TITLE: &'static str = "Inspect a volume";
    const DESCRIPTION: &'static str = "Show one volume (like `docker volume inspect`): \
        driver, mountpoint, creation time, scope, labels and driver options (secret-looking \
        values redacted), and disk usage when the engine reports it.";
    const CAPABILITIES: &'static [Capability] = &[Capability::VolumesRead];
    const IDEMPOTENT: bool = true;
    type Args = VolumeArgs;
    type Output = VolumeOut;

    fn run(args: VolumeArgs) -> Result<Reply<VolumeOut>, ToolError> {
        let volume = volumes_read::inspect_volume(&args.volume).map_err(crate::docker_error)?;
        Ok(Reply::new(volume_text("", &volume), VolumeOut { volume }))
    }
}

/// The volume to create.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateVolumeArgs {
    /// Volume name: letters, digits, `_`, `.`, `-`. The engine picks one when absent.
    #[schemars(length(min = 2, max = 255))]
    name: Option<String>,
    /// Volume driver, `local` by default; others only when the operator allows them.
    #[schemars(length(min = 1, max = 128))]
    driver: Option<String>,
    /// Driver options. For `local`: `type`, `o`, `device`, `size`. A bind of a host
    /// directory (`type: none` or `o: bind`) is allowed only under the operator's
    /// allowed directories, never for sensitive paths.
    #[serde(default)]
    driver_opts: BTreeMap<String, String>,
    /// Labels to set (`io.bulkhead.*` are the host's own and refused).
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

pub struct CreateVolume;

impl TypedTool for CreateVolume {
    const NAME: &'static str = "docker_create_volume";
    const TITLE: &'static str = "Create a volume";
    const DESCRIPTION: &'static str = "Create a named volume (like `docker volume create`). \
        The driver and its options pass the operator's volume policy: binds of host \
        directories only under allowed directories, other drivers and mount types only \
        when allowed.";
    const CAPABILITIES: &'static [Capability] = &[Capability::VolumesManage];
    type Args = CreateVolumeArgs;
    type Output = VolumeOut;

    fn run(args: CreateVolumeArgs) -> Result<Reply<VolumeOut>, ToolError> {
        let spec = VolumeSpec {
            name: args.name,
            driver: args.driver,
            driver_opts: key_values(args.driver_opts),
            labels: key_values(args.labels),
        };
        let volume = volumes_manage::create_volume(&spec).map_err(crate::docker_error)?;
        Ok(Reply::new(
            volume_text("Created volume ", &volume),
            VolumeOut { volume },
        ))
    }
}

/// Which volume to delete.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoveVolumeArgs {
    /// Volume name.
    #[schemars(length(min = 1, max = 255))]
    volume: String,
    /// Remove the volume from the engine's records even if its driver fails. It never
    /// removes a volume a container uses. Default false.
    #[serde(default)]
    force: bool,
}

/// What happened to which volume.
#[derive(Debug, Serialize, JsonSchema)]
pub struct VolumeAction {
    /// The volume, as named in the call.
    volume: String,
    /// What was done.
    action: String,
}

pub struct RemoveVolume;

impl TypedTool for RemoveVolume {
    const NAME: &'static str = "docker_remove_volume";
    const TITLE: &'static str = "Remove a volume";
    const DESCRIPTION: &'static str = "Permanently delete a volume and its data (like \
        `docker volume rm`). Destructive: the data cannot be recovered. A volume in use by \
        a container is refused.";
    const CAPABILITIES: &'static [Capability] = &[Capability::VolumesRemove];
    type Args = RemoveVolumeArgs;
    type Output = VolumeAction;

    fn run(args: RemoveVolumeArgs) -> Result<Reply<VolumeAction>, ToolError> {
        volumes_remove::remove_volume(&args.volume, args.force).map_err(crate::docker_error)?;
        let text = format!("Removed volume {}.", render::one_line(&args.volume));
        Ok(Reply::new(
            text,
            VolumeAction {
                volume: args.volume,
                action: "removed".into(),
            },
        ))
    }
}

/// Which unused volumes to delete.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PruneVolumesArgs {
    /// Label filters, each `key` or `key=value`; all must match. Without any, every
    /// unused volume is removed.
    #[serde(default)]
    #[schemars(length(max = 16))]
    labels: Vec<String>,
}

pub struct PruneVolumes;

impl TypedTool for PruneVolumes {
    const NAME: &'static str = "docker_prune_volumes";
    const TITLE: &'static str = "Prune unused volumes";
    const DESCRIPTION: &'static str = "Delete every volume no container uses, named or \
        anonymous, matching the label filters (like `docker volume prune --all`; on engine \
        20.10 that is what `docker volume prune` does). Destructive: their data is lost.";
    const CAPABILITIES: &'static [Capability] = &[Capability::VolumesRemove];
    type Args = PruneVolumesArgs;
    type Output = VolumePruneReport;

    fn run(args: PruneVolumesArgs) -> Result<Reply<VolumePruneReport>, ToolError> {
        let report = volumes_remove::prune_volumes(&args.labels).map_err(crate::docker_error)?;
        let text = format!(
            "Removed {} volume(s), reclaimed {}.",
            report.removed.len(),
            render::bytes_text(report.space_reclaimed as i64)
        );
        Ok(Reply::new(text, report))
    }
}
