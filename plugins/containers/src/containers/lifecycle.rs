//! `docker_start_container`, `docker_stop_container` and `docker_remove_container`: run
//! state changes of one container, each answered with a one-line acknowledgement.

use bulkhead_plugin_sdk::docker::{DockerError, containers_manage, containers_remove};
use bulkhead_plugin_sdk::{Capability, ErrorCode, Reply, ToolError, TypedTool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::inspect::ContainerArgs;
use crate::render;

/// What happened to which container.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Acknowledged {
    /// The container, as it was named in the call.
    pub container: String,
    /// What was done: started, stopped, removed, …
    pub action: String,
}

impl Acknowledged {
    pub(crate) fn reply(container: String, action: &str, text: String) -> Reply<Acknowledged> {
        Reply::new(
            text,
            Acknowledged {
                container,
                action: action.to_owned(),
            },
        )
    }
}

pub struct StartContainer;

impl TypedTool for StartContainer {
    const NAME: &'static str = "docker_start_container";
    const TITLE: &'static str = "Start a container";
    const DESCRIPTION: &'static str = "Start a created or stopped container (like `docker \
        start`). Starting a running container succeeds and changes nothing.";
    const CAPABILITIES: &'static [Capability] = &[Capability::ContainersManage];
    const IDEMPOTENT: bool = true;
    type Args = ContainerArgs;
    type Output = Acknowledged;

    fn run(args: ContainerArgs) -> Result<Reply<Acknowledged>, ToolError> {
        containers_manage::start_container(&args.container).map_err(crate::docker_error)?;
        let text = format!("Started container {}.", render::one_line(&args.container));
        Ok(Acknowledged::reply(args.container, "started", text))
    }
}

/// Which container, and how long to wait before killing it.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StopArgs {
    /// Container name or id.
    #[schemars(length(min = 1, max = 255))]
    container: String,
    /// Seconds to wait after SIGTERM before SIGKILL, 0-120 (engine default 10).
    #[schemars(range(max = 120))]
    timeout: Option<u32>,
}

pub struct StopContainer;

impl TypedTool for StopContainer {
    const NAME: &'static str = "docker_stop_container";
    const TITLE: &'static str = "Stop a container";
    const DESCRIPTION: &'static str = "Stop a running container (like `docker stop`): \
        SIGTERM, then SIGKILL after `timeout` seconds. Stopping a stopped container \
        succeeds. The container and its data are kept.";
    const CAPABILITIES: &'static [Capability] = &[Capability::ContainersManage];
    const IDEMPOTENT: bool = true;
    type Args = StopArgs;
    type Output = Acknowledged;

    fn run(args: StopArgs) -> Result<Reply<Acknowledged>, ToolError> {
        containers_manage::stop_container(&args.container, args.timeout)
            .map_err(crate::docker_error)?;
        let text = format!("Stopped container {}.", render::one_line(&args.container));
        Ok(Acknowledged::reply(args.container, "stopped", text))
    }
}

/// Which container to delete, and how hard.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoveArgs {
    /// Container name or id.
    #[schemars(length(min = 1, max = 255))]
    container: String,
    /// Kill the container first if it is running. Default false: a running container is
    /// refused.
    #[serde(default)]
    force: bool,
    /// Also delete the container's anonymous volumes. Default false.
    #[serde(default)]
    volumes: bool,
}

pub struct RemoveContainer;

impl TypedTool for RemoveContainer {
    const NAME: &'static str = "docker_remove_container";
    const TITLE: &'static str = "Remove a container";
    const DESCRIPTION: &'static str = "Permanently delete a container (like `docker rm`). \
        Destructive: its writable layer is lost and cannot be recovered. A running container \
        is refused unless `force` is true, which kills it first. `volumes` also deletes its \
        anonymous volumes; named volumes are never removed.";
    const CAPABILITIES: &'static [Capability] = &[Capability::ContainersRemove];
    type Args = RemoveArgs;
    type Output = Acknowledged;

    fn run(args: RemoveArgs) -> Result<Reply<Acknowledged>, ToolError> {
        containers_remove::remove_container(&args.container, args.force, args.volumes)
            .map_err(|err| remove_error(err, &args.container))?;
        let extra = if args.volumes {
            " and its anonymous volumes"
        } else {
            ""
        };
        let text = format!(
            "Removed container {}{extra}.",
            render::one_line(&args.container)
        );
        Ok(Acknowledged::reply(args.container, "removed", text))
    }
}

/// A `conflict` on remove means the container is running.
fn remove_error(err: DockerError, container: &str) -> ToolError {
    let mut mapped = crate::docker_error(err);
    if mapped.code == ErrorCode::Conflict {
        mapped.hint = Some(format!(
            "the container is probably running: stop it with docker_stop_container first, or call \
             docker_remove_container with force: true to kill and remove {}",
            render::quoted(container)
        ));
    }
    mapped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_container_conflict_says_how_to_proceed() {
        let err = remove_error(DockerError::Conflict("running".into()), "web");
        assert_eq!(err.code, ErrorCode::Conflict);
        assert!(err.hint.unwrap().contains("force: true"));
    }
}
