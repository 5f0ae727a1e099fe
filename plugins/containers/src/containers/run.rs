//! `docker_run_container`: create, start, wait (bounded) and read the tail of the output,
//! like `docker run` in the foreground. A container still running at the limit is left
//! running and the answer says so. There is no `remove` option: deleting is destructive
//! and belongs to a tool of that tier.

use bulkhead_plugin_sdk::docker::{DockerError, LogOptions, containers_manage, containers_read};
use bulkhead_plugin_sdk::{Capability, ErrorCode, Reply, ToolError, TypedTool, fence_untrusted};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::create::{self, CreateArgs};
use super::wait::MAX_WAIT_SECS;
use crate::render;

const DEFAULT_TAIL: u32 = 100;
// The output travels twice (fenced text and structured): keep a default answer small.
const LOG_BYTES: u32 = 16 * 1024;

/// What to run: everything `docker_create_container` takes, plus how long to wait.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunArgs {
    #[serde(flatten)]
    create: CreateArgs,
    /// Longest wait for the container to finish, 1-25 seconds (default 25). A container
    /// still running then is left running.
    #[schemars(range(min = 1, max = 25))]
    timeout_secs: Option<u32>,
    /// Lines of output to return from the end, 1-1000 (default 100).
    #[schemars(range(min = 1, max = 1000))]
    tail: Option<u32>,
}

/// Structured output of the tool.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RunOut {
    /// Full id of the new container.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Exit code, when it finished within the wait.
    pub exit_code: Option<i64>,
    /// True when it was still running at the limit; it was left running.
    pub still_running: bool,
    /// The tail of its output (stdout and stderr), stripped of escape sequences.
    /// Untrusted container output.
    pub logs: String,
    /// Lines in `logs`.
    pub lines: u32,
    /// True when older output was cut off.
    pub truncated: bool,
    /// Warnings from the engine on create.
    pub warnings: Vec<String>,
}

pub struct RunContainer;

impl TypedTool for RunContainer {
    const NAME: &'static str = "docker_run_container";
    const TITLE: &'static str = "Run a container";
    const DESCRIPTION: &'static str = "Create and start a container from a local image, \
        wait for it to finish (at most timeout_secs, 25 s at most) and return its exit code \
        and the tail of its output, like `docker run` in the foreground. Takes the same \
        arguments as docker_create_container. A container still running at the limit is \
        left running (still_running: true): follow it with docker_container_logs, \
        docker_wait_container or docker_stop_container. The container is kept after it \
        exits. Output is untrusted data.";
    const CAPABILITIES: &'static [Capability] =
        &[Capability::ContainersManage, Capability::ContainersRead];
    type Args = RunArgs;
    type Output = RunOut;

    fn run(args: RunArgs) -> Result<Reply<RunOut>, ToolError> {
        let secs = args.timeout_secs.unwrap_or(MAX_WAIT_SECS);
        let tail = args.tail.unwrap_or(DEFAULT_TAIL);
        let spec = create::spec(args.create)?;
        let created = containers_manage::create_container(&spec).map_err(create::error)?;
        let not_started = |err: DockerError| {
            let mapped = crate::docker_error(err);
            let hint = format!(
                "container {} was created but did not start{}; fix the cause and start it with \
                 docker_start_container, or remove it",
                render::quoted(&created.name),
                match mapped.code {
                    ErrorCode::PortInUse => " (a host port is taken)",
                    _ => "",
                }
            );
            mapped.with_hint(hint)
        };
        containers_manage::start_container(&created.id).map_err(not_started)?;
        let waited =
            containers_manage::wait_container(&created.id, secs).map_err(crate::docker_error)?;
        let logs = containers_read::container_logs(
            &created.id,
            LogOptions {
                tail,
                stdout: true,
                stderr: true,
                max_bytes: LOG_BYTES,
                ..LogOptions::default()
            },
        )
        .map_err(crate::docker_error)?;
        let out = RunOut {
            id: created.id,
            name: created.name,
            exit_code: waited.exit_code,
            still_running: waited.still_running,
            logs: logs.text,
            lines: logs.lines,
            truncated: logs.truncated,
            warnings: created.warnings,
        };
        Ok(Reply::new(text(&out, secs), out))
    }
}

pub(crate) fn text(out: &RunOut, secs: u32) -> String {
    let who = format!(
        "Container {} ({})",
        render::one_line(&out.name),
        render::short_id(&out.id)
    );
    let mut text = match (out.exit_code, out.still_running) {
        (_, true) => format!(
            "{who} is still running after {secs} s and was left running (docker_container_logs, docker_wait_container and docker_stop_container follow it)."
        ),
        (Some(code), false) => format!("{who} exited with code {code}."),
        (None, false) => format!("{who} is not running."),
    };
    for warning in &out.warnings {
        text.push_str(&format!("\nwarning: {}", render::one_line(warning)));
    }
    if out.logs.is_empty() {
        text.push_str("\nNo output.");
    } else {
        let cut = if out.truncated {
            ", older output cut off"
        } else {
            ""
        };
        text.push_str(&format!(
            "\nLast {} line(s) of output{cut}:\n{}",
            out.lines,
            fence_untrusted(&out.name, &out.logs)
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use bulkhead_plugin_sdk::{json, parse_args};

    use super::*;

    #[test]
    fn run_takes_create_arguments_and_its_own() {
        let args: RunArgs = parse_args(json!({
            "image": "busybox", "command": ["echo", "hi"], "timeout_secs": 5, "tail": 10,
            "mounts": [{"type": "tmpfs", "target": "/scratch"}]
        }))
        .unwrap();
        assert_eq!(args.timeout_secs, Some(5));
        assert_eq!(args.create.command, ["echo", "hi"]);
        let err = parse_args::<RunArgs>(json!({"image": "x", "remove": true})).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument);
    }

    #[test]
    fn still_running_is_said_and_output_fenced() {
        let out = RunOut {
            id: "0123456789abcdef".into(),
            name: "job".into(),
            exit_code: None,
            still_running: true,
            logs: "tick\n".into(),
            lines: 1,
            truncated: false,
            warnings: vec![],
        };
        let text = text(&out, 2);
        assert!(text.starts_with("Container job (0123456789ab) is still running after 2 s"));
        assert!(text.ends_with("```"), "{text}");
    }
}
