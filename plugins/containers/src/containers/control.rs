//! `docker_restart_container`, `docker_pause_container`, `docker_unpause_container`,
//! `docker_kill_container` and `docker_rename_container`: run-state and name changes of one
//! container, each answered with a one-line acknowledgement.

use bulkhead_plugin_sdk::docker::{DockerError, containers_manage};
use bulkhead_plugin_sdk::{Capability, ErrorCode, Reply, ToolError, TypedTool};
use schemars::JsonSchema;
use serde::Deserialize;

use super::inspect::ContainerArgs;
use super::lifecycle::Acknowledged;
use crate::render;

/// A `conflict` here means the container is in the wrong state for the action.
fn state_error(err: DockerError, hint: &str) -> ToolError {
    let mapped = crate::docker_error(err);
    if mapped.code == ErrorCode::Conflict {
        return mapped.with_hint(hint);
    }
    mapped
}

/// Which container, and how long to wait before killing it.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RestartArgs {
    /// Container name or id.
    #[schemars(length(min = 1, max = 255))]
    container: String,
    /// Seconds to wait after SIGTERM before SIGKILL, 0-120 (engine default 10).
    #[schemars(range(max = 120))]
    timeout: Option<u32>,
}

pub struct RestartContainer;

impl TypedTool for RestartContainer {
    const NAME: &'static str = "docker_restart_container";
    const TITLE: &'static str = "Restart a container";
    const DESCRIPTION: &'static str = "Restart a container (like `docker restart`): stop it \
        (SIGTERM, then SIGKILL after `timeout` seconds) and start it again. A stopped \
        container is simply started.";
    const CAPABILITIES: &'static [Capability] = &[Capability::ContainersManage];
    type Args = RestartArgs;
    type Output = Acknowledged;

    fn run(args: RestartArgs) -> Result<Reply<Acknowledged>, ToolError> {
        containers_manage::restart_container(&args.container, args.timeout)
            .map_err(crate::docker_error)?;
        let text = format!("Restarted container {}.", render::one_line(&args.container));
        Ok(Acknowledged::reply(args.container, "restarted", text))
    }
}

pub struct PauseContainer;

impl TypedTool for PauseContainer {
    const NAME: &'static str = "docker_pause_container";
    const TITLE: &'static str = "Pause a container";
    const DESCRIPTION: &'static str = "Freeze every process of a running container (like \
        `docker pause`); memory is kept. Resume it with docker_unpause_container.";
    const CAPABILITIES: &'static [Capability] = &[Capability::ContainersManage];
    type Args = ContainerArgs;
    type Output = Acknowledged;

    fn run(args: ContainerArgs) -> Result<Reply<Acknowledged>, ToolError> {
        containers_manage::pause_container(&args.container)
            .map_err(|err| state_error(err, "only a running, unpaused container can be paused"))?;
        let text = format!("Paused container {}.", render::one_line(&args.container));
        Ok(Acknowledged::reply(args.container, "paused", text))
    }
}

pub struct UnpauseContainer;

impl TypedTool for UnpauseContainer {
    const NAME: &'static str = "docker_unpause_container";
    const TITLE: &'static str = "Unpause a container";
    const DESCRIPTION: &'static str = "Resume the processes of a paused container (like \
        `docker unpause`).";
    const CAPABILITIES: &'static [Capability] = &[Capability::ContainersManage];
    type Args = ContainerArgs;
    type Output = Acknowledged;

    fn run(args: ContainerArgs) -> Result<Reply<Acknowledged>, ToolError> {
        containers_manage::unpause_container(&args.container)
            .map_err(|err| state_error(err, "the container is not paused"))?;
        let text = format!("Unpaused container {}.", render::one_line(&args.container));
        Ok(Acknowledged::reply(args.container, "unpaused", text))
    }
}

/// Which container, and which signal.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KillArgs {
    /// Container name or id.
    #[schemars(length(min = 1, max = 255))]
    container: String,
    /// Signal name (SIGKILL, KILL, SIGTERM, HUP, USR1, …) or number 1-64. Default
    /// SIGKILL.
    #[schemars(length(min = 1, max = 16))]
    signal: Option<String>,
}

pub struct KillContainer;

impl TypedTool for KillContainer {
    const NAME: &'static str = "docker_kill_container";
    const TITLE: &'static str = "Signal a container";
    const DESCRIPTION: &'static str = "Send a signal to a running container's main process \
        (like `docker kill`): SIGKILL by default, which stops it at once without cleanup. \
        Use SIGHUP or SIGUSR1 to ask a server to reload, or docker_stop_container for a \
        graceful stop.";
    const CAPABILITIES: &'static [Capability] = &[Capability::ContainersManage];
    type Args = KillArgs;
    type Output = Acknowledged;

    fn run(args: KillArgs) -> Result<Reply<Acknowledged>, ToolError> {
        containers_manage::kill_container(&args.container, args.signal.as_deref())
            .map_err(|err| state_error(err, "the container is not running"))?;
        let signal = args.signal.as_deref().unwrap_or("SIGKILL");
        let text = format!(
            "Sent {} to container {}.",
            render::one_line(signal),
            render::one_line(&args.container)
        );
        Ok(Acknowledged::reply(args.container, "signalled", text))
    }
}

/// Which container, and its new name.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameArgs {
    /// Container name or id.
    #[schemars(length(min = 1, max = 255))]
    container: String,
    /// The new name, unique on this engine.
    #[schemars(regex(pattern = r"^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$"), length(max = 128))]
    new_name: String,
}

pub struct RenameContainer;

impl TypedTool for RenameContainer {
    const NAME: &'static str = "docker_rename_container";
    const TITLE: &'static str = "Rename a container";
    const DESCRIPTION: &'static str = "Give a container a new name (like `docker rename`). \
        The name must not be in use.";
    const CAPABILITIES: &'static [Capability] = &[Capability::ContainersManage];
    type Args = RenameArgs;
    type Output = Acknowledged;

    fn run(args: RenameArgs) -> Result<Reply<Acknowledged>, ToolError> {
        containers_manage::rename_container(&args.container, &args.new_name).map_err(|err| {
            state_error(
                err,
                "the new name is taken: pick another or inspect the other container",
            )
        })?;
        let text = format!(
            "Renamed container {} to {}.",
            render::one_line(&args.container),
            render::one_line(&args.new_name)
        );
        Ok(Acknowledged::reply(args.new_name, "renamed", text))
    }
}
