//! `docker_start_container`, `docker_stop_container` and `docker_remove_container`: run
//! state changes of one container, each answered with a one-line acknowledgement.

use bulkhead_plugin_sdk::docker::{DockerError, containers_manage, containers_remove};
use bulkhead_plugin_sdk::{
    Capability, ErrorCode, Tool, ToolError, ToolOutput, Value, json, parse_args,
};
use serde::{Deserialize, Serialize};

use crate::render;

pub(crate) const START: &str = "docker_start_container";
pub(crate) const STOP: &str = "docker_stop_container";
pub(crate) const REMOVE: &str = "docker_remove_container";

/// The host caps the stop timeout at 120 s.
const MAX_STOP_TIMEOUT: u32 = 120;

pub(crate) fn start_tool() -> Tool {
    Tool::builder(
        START,
        "Start a container",
        "Start a created or stopped container (like `docker start`). Starting a running container \
         succeeds and changes nothing.",
    )
    .input_schema(single_container_schema())
    .output_schema(render::acknowledgement_schema(
        "started",
        "Always true: the container is running.",
    ))
    .capabilities([Capability::ContainersManage])
    .idempotent()
    .build()
}

pub(crate) fn stop_tool() -> Tool {
    Tool::builder(
        STOP,
        "Stop a container",
        "Stop a running container (like `docker stop`): SIGTERM, then SIGKILL after `timeout` \
         seconds. Stopping a stopped container succeeds. The container and its data are kept.",
    )
    .input_schema(json!({
        "type": "object",
        "properties": {
            "container": render::container_arg_schema(),
            "timeout": {
                "type": "integer",
                "minimum": 0,
                "maximum": MAX_STOP_TIMEOUT,
                "description": "Seconds to wait after SIGTERM before SIGKILL, 0-120 (engine default 10)."
            }
        },
        "required": ["container"],
        "additionalProperties": false
    }))
    .output_schema(render::acknowledgement_schema("stopped", "Always true: the container is not running."))
    .capabilities([Capability::ContainersManage])
    .idempotent()
    .build()
}

pub(crate) fn remove_tool() -> Tool {
    Tool::builder(
        REMOVE,
        "Remove a container",
        "Permanently delete a container (like `docker rm`). Destructive: its writable layer is \
         lost and cannot be recovered. A running container is refused unless `force` is true, \
         which kills it first. `volumes` also deletes its anonymous volumes; named volumes are \
         never removed.",
    )
    .input_schema(json!({
        "type": "object",
        "properties": {
            "container": render::container_arg_schema(),
            "force": {
                "type": "boolean",
                "default": false,
                "description": "Kill the container first if it is running. Default false: a running container is refused."
            },
            "volumes": {
                "type": "boolean",
                "default": false,
                "description": "Also delete the container's anonymous volumes. Default false."
            }
        },
        "required": ["container"],
        "additionalProperties": false
    }))
    .output_schema(render::acknowledgement_schema("removed", "Always true: the container no longer exists."))
    .capabilities([Capability::ContainersRemove])
    .build()
}

fn single_container_schema() -> Value {
    json!({
        "type": "object",
        "properties": {"container": render::container_arg_schema()},
        "required": ["container"],
        "additionalProperties": false
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StartArgs {
    container: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StopArgs {
    container: String,
    timeout: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RemoveArgs {
    container: String,
    #[serde(default)]
    force: bool,
    #[serde(default)]
    volumes: bool,
}

#[derive(Debug, Serialize)]
pub(crate) struct Started {
    container: String,
    started: bool,
}

#[derive(Debug, Serialize)]
pub(crate) struct Stopped {
    container: String,
    stopped: bool,
}

#[derive(Debug, Serialize)]
pub(crate) struct Removed {
    container: String,
    removed: bool,
}

/// The stop timeout for the host, checked against the host's cap.
pub(crate) fn stop_timeout(timeout: Option<u32>) -> Result<Option<u32>, ToolError> {
    match timeout {
        Some(secs) if secs > MAX_STOP_TIMEOUT => Err(ToolError::invalid_argument(format!(
            "timeout must be 0-{MAX_STOP_TIMEOUT} seconds, got {secs}"
        ))),
        other => Ok(other),
    }
}

pub(crate) fn remove_text(container: &str, volumes: bool) -> String {
    let extra = if volumes {
        " and its anonymous volumes"
    } else {
        ""
    };
    format!("Removed container {}{extra}.", render::one_line(container))
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

pub(crate) fn run_start(args: Value) -> Result<ToolOutput, ToolError> {
    let StartArgs { container } = parse_args(args)?;
    containers_manage::start_container(&container).map_err(crate::docker_error)?;
    let text = format!("Started container {}.", render::one_line(&container));
    ToolOutput::structured(
        text,
        &Started {
            container,
            started: true,
        },
    )
}

pub(crate) fn run_stop(args: Value) -> Result<ToolOutput, ToolError> {
    let StopArgs { container, timeout } = parse_args(args)?;
    containers_manage::stop_container(&container, stop_timeout(timeout)?)
        .map_err(crate::docker_error)?;
    let text = format!("Stopped container {}.", render::one_line(&container));
    ToolOutput::structured(
        text,
        &Stopped {
            container,
            stopped: true,
        },
    )
}

pub(crate) fn run_remove(args: Value) -> Result<ToolOutput, ToolError> {
    let RemoveArgs {
        container,
        force,
        volumes,
    } = parse_args(args)?;
    containers_remove::remove_container(&container, force, volumes)
        .map_err(|err| remove_error(err, &container))?;
    ToolOutput::structured(
        remove_text(&container, volumes),
        &Removed {
            container,
            removed: true,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::assert_matches_schema;

    #[test]
    fn acknowledgements_match_their_schemas() {
        let started = serde_json::to_value(Started {
            container: "web".into(),
            started: true,
        })
        .unwrap();
        assert_matches_schema(&start_tool(), &started);
        let stopped = serde_json::to_value(Stopped {
            container: "web".into(),
            stopped: true,
        })
        .unwrap();
        assert_matches_schema(&stop_tool(), &stopped);
        let removed = serde_json::to_value(Removed {
            container: "web".into(),
            removed: true,
        })
        .unwrap();
        assert_matches_schema(&remove_tool(), &removed);
        assert_eq!(removed, json!({"container": "web", "removed": true}));
    }

    #[test]
    fn stop_timeout_is_capped() {
        assert_eq!(stop_timeout(None).unwrap(), None);
        assert_eq!(stop_timeout(Some(0)).unwrap(), Some(0));
        assert_eq!(stop_timeout(Some(120)).unwrap(), Some(120));
        assert_eq!(
            stop_timeout(Some(121)).unwrap_err().message,
            "timeout must be 0-120 seconds, got 121"
        );
    }

    #[test]
    fn remove_arguments_default_to_the_safe_choice() {
        let args: RemoveArgs = parse_args(json!({"container": "web"})).unwrap();
        assert!(!args.force);
        assert!(!args.volumes);
        assert_eq!(remove_text("web", false), "Removed container web.");
        assert_eq!(
            remove_text("web", true),
            "Removed container web and its anonymous volumes."
        );
    }

    #[test]
    fn remove_description_warns() {
        let tool = remove_tool();
        assert!(tool.description.contains("Destructive"));
        assert!(
            tool.description
                .contains("running container is refused unless `force` is true")
        );
        assert!(!tool.idempotent);
    }

    #[test]
    fn running_container_conflict_says_how_to_proceed() {
        let err = remove_error(DockerError::Conflict("container is running".into()), "web");
        assert_eq!(err.code, ErrorCode::Conflict);
        assert_eq!(err.message, "container is running");
        assert!(err.hint.unwrap().contains("force: true"));
        let err = remove_error(
            DockerError::NotFound("no such container: web".into()),
            "web",
        );
        assert_eq!(err.code, ErrorCode::NotFound);
    }
}
