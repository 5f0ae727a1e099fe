//! `docker_wait_container`: wait, bounded, for a container to stop. Reaching the limit is
//! an answer (`still_running: true`), not an error, and leaves the container running.

use bulkhead_plugin_sdk::docker::containers_manage::{self, WaitResult};
use bulkhead_plugin_sdk::{Capability, Reply, ToolError, TypedTool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::render;

/// The longest wait the host allows: it ends 5 s before a tool call's default 30-s
/// deadline, so the answer always arrives. Also the default.
pub(crate) const MAX_WAIT_SECS: u32 = 25;

/// Which container, and for how long.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WaitArgs {
    /// Container name or id.
    #[schemars(length(min = 1, max = 255))]
    container: String,
    /// Longest wait in seconds, 1-25 (default 25). Call again to wait longer.
    #[schemars(range(min = 1, max = 25))]
    timeout_secs: Option<u32>,
}

/// Structured output of the tool.
#[derive(Debug, Serialize, JsonSchema)]
pub struct WaitOut {
    /// The container asked for.
    pub container: String,
    /// How the wait ended.
    #[serde(flatten)]
    pub result: WaitResult,
}

pub struct WaitContainer;

impl TypedTool for WaitContainer {
    const NAME: &'static str = "docker_wait_container";
    const TITLE: &'static str = "Wait for a container to stop";
    const DESCRIPTION: &'static str = "Wait until a container stops (like `docker wait`, but \
        bounded) and return its exit code. After timeout_secs (at most 25) the answer is \
        still_running: true and the container keeps running; call again to keep waiting. \
        A container that is already stopped answers at once.";
    const CAPABILITIES: &'static [Capability] = &[Capability::ContainersManage];
    const IDEMPOTENT: bool = true;
    type Args = WaitArgs;
    type Output = WaitOut;

    fn run(args: WaitArgs) -> Result<Reply<WaitOut>, ToolError> {
        let secs = args.timeout_secs.unwrap_or(MAX_WAIT_SECS);
        let result = containers_manage::wait_container(&args.container, secs)
            .map_err(crate::docker_error)?;
        let out = WaitOut {
            container: args.container,
            result,
        };
        Ok(Reply::new(text(&out, secs), out))
    }
}

pub(crate) fn text(out: &WaitOut, secs: u32) -> String {
    let name = render::one_line(&out.container);
    match (&out.result.exit_code, out.result.still_running) {
        (_, true) => format!(
            "{name} is still running after {secs} s; it was left running (wait again, or stop it with docker_stop_container)."
        ),
        (Some(code), false) => {
            let mut text = format!("{name} exited with code {code}.");
            if let Some(error) = &out.result.error {
                text.push_str(&format!(" Engine error: {}", render::one_line(error)));
            }
            text
        }
        (None, false) => format!("{name} is not running."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(exit_code: Option<i64>, still_running: bool) -> WaitOut {
        WaitOut {
            container: "job".into(),
            result: WaitResult {
                exit_code,
                still_running,
                error: None,
            },
        }
    }

    #[test]
    fn text_says_how_the_wait_ended() {
        assert_eq!(text(&out(Some(3), false), 25), "job exited with code 3.");
        assert!(text(&out(None, true), 2).starts_with("job is still running after 2 s"));
    }

    #[test]
    fn output_is_flat() {
        let value = serde_json::to_value(out(Some(0), false)).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"container": "job", "exit_code": 0, "still_running": false, "error": null})
        );
    }
}
