//! `compose_down`: remove a project's containers and networks; its named volumes only
//! when asked.

use bulkhead_plugin_sdk::docker::{DockerError, networks_remove, volumes_remove};
use bulkhead_plugin_sdk::{Capability, Reply, ToolError, TypedTool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::start_order;
use crate::{apply, observed};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DownArgs {
    /// The project's name.
    #[schemars(length(min = 1, max = 63))]
    project: String,
    /// Also remove the project's named volumes and the data in them (needs the
    /// operator's --allow-destructive).
    #[serde(default)]
    volumes: bool,
    /// Seconds to wait after SIGTERM before SIGKILL, 0-120 (default: each container's
    /// own stop timeout).
    #[schemars(range(max = 120))]
    timeout_secs: Option<u32>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Removed {
    project: String,
    containers: Vec<String>,
    networks: Vec<String>,
    /// Named volumes removed (only with `volumes: true`).
    volumes: Vec<String>,
    /// Named volumes kept.
    kept_volumes: Vec<String>,
}

pub struct ComposeDown;

impl TypedTool for ComposeDown {
    const NAME: &'static str = "compose_down";
    const TITLE: &'static str = "Bring a project down";
    const DESCRIPTION: &'static str = "Stop and remove every container of a Compose project \
        (services no longer in its file too) and the networks it created. Named volumes \
        are kept unless `volumes: true`, which deletes their data and needs the \
        operator's --allow-destructive.";
    const CAPABILITIES: &'static [Capability] = &[
        Capability::ContainersRead,
        Capability::ContainersManage,
        Capability::ContainersRemove,
        Capability::NetworksRead,
        Capability::NetworksRemove,
        Capability::VolumesRead,
        Capability::VolumesRemove,
    ];
    const IDEMPOTENT: bool = true;
    type Args = DownArgs;
    type Output = Removed;

    fn run(args: DownArgs) -> Result<Reply<Removed>, ToolError> {
        let project = args.project.as_str();
        let members = observed::members(project)?;
        let networks = observed::networks(project)?;
        let volumes = observed::volumes(project)?;
        let mut removed = Removed {
            project: args.project.clone(),
            containers: Vec::new(),
            networks: Vec::new(),
            volumes: Vec::new(),
            kept_volumes: Vec::new(),
        };
        // Volumes first, when asked: one no container uses goes at once, one in use is
        // refused by the engine without harm and goes after its containers, and a
        // removal the host does not allow stops the whole call before anything changed.
        let mut in_use = Vec::new();
        if args.volumes {
            for volume in &volumes {
                match volumes_remove::remove_volume(&volume.name, false) {
                    Ok(()) => removed.volumes.push(volume.name.clone()),
                    Err(DockerError::Conflict(_)) => in_use.push(volume.name.clone()),
                    Err(other) => return Err(partial(&removed, other.into())),
                }
            }
        }
        let mut order = start_order(&members);
        order.reverse();
        for service in order {
            for member in members.iter().filter(|m| m.service == service) {
                apply::remove(&member.id, args.timeout_secs)
                    .map_err(|err| partial(&removed, err))?;
                removed.containers.push(member.name.clone());
            }
        }
        for network in &networks {
            networks_remove::remove_network(&network.id)
                .map_err(|err| partial(&removed, err.into()))?;
            removed.networks.push(network.name.clone());
        }
        if !args.volumes {
            removed.kept_volumes = volumes.iter().map(|v| v.name.clone()).collect();
        }
        for volume in &in_use {
            volumes_remove::remove_volume(volume, false)
                .map_err(|err| partial(&removed, err.into()))?;
            removed.volumes.push(volume.clone());
        }
        if removed.containers.is_empty()
            && removed.networks.is_empty()
            && removed.volumes.is_empty()
            && removed.kept_volumes.is_empty()
        {
            return Ok(Reply::new(
                format!("Project {project} has nothing on the engine; nothing to remove."),
                removed,
            ));
        }
        let mut text = format!(
            "Project {project} is down: removed {} container(s) and {} network(s)",
            removed.containers.len(),
            removed.networks.len()
        );
        if !removed.volumes.is_empty() {
            text.push_str(&format!(" and volume(s) {}", removed.volumes.join(", ")));
        }
        text.push('.');
        if !removed.kept_volumes.is_empty() {
            text.push_str(&format!(
                " Kept volume(s) {} (pass volumes: true to delete them).",
                removed.kept_volumes.join(", ")
            ));
        }
        Ok(Reply::new(text, removed))
    }
}

/// A failure part-way, saying what was already removed.
fn partial(removed: &Removed, err: ToolError) -> ToolError {
    let mut done: Vec<String> = removed.containers.clone();
    done.extend(removed.networks.iter().cloned());
    done.extend(removed.volumes.iter().cloned());
    let message = format!(
        "{} (removed before it: {})",
        err.message,
        if done.is_empty() {
            "nothing".to_string()
        } else {
            done.join(", ")
        }
    );
    ToolError { message, ..err }
}
