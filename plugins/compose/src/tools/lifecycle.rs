//! `compose_start`, `compose_stop`, `compose_restart`: a whole project or one service,
//! dependencies started first and stopped last.

use bulkhead_plugin_sdk::docker::{DockerError, containers_manage};
use bulkhead_plugin_sdk::{Capability, Reply, ToolError, TypedTool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{project_members, start_order};
use crate::observed::Member;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LifecycleArgs {
    /// The project's name.
    #[schemars(length(min = 1, max = 63))]
    project: String,
    /// Only this service's containers.
    #[schemars(length(min = 1, max = 128))]
    service: Option<String>,
    /// Seconds to wait after SIGTERM before SIGKILL, 0-120 (stop and restart; default:
    /// each container's own stop timeout).
    #[schemars(range(max = 120))]
    timeout_secs: Option<u32>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Changed {
    project: String,
    /// The containers acted on, in order.
    containers: Vec<String>,
}

#[derive(Clone, Copy)]
enum Verb {
    Start,
    Stop,
    Restart,
}

impl Verb {
    fn past(self) -> &'static str {
        match self {
            Verb::Start => "Started",
            Verb::Stop => "Stopped",
            Verb::Restart => "Restarted",
        }
    }
}

fn act(args: LifecycleArgs, verb: Verb) -> Result<Reply<Changed>, ToolError> {
    let members = project_members(&args.project, args.service.as_deref())?;
    let all = crate::observed::members(&args.project)?;
    let mut order = start_order(&all);
    if matches!(verb, Verb::Stop) {
        order.reverse();
    }
    let mut done = Vec::new();
    for service in order {
        let group: Vec<&Member> = members.iter().filter(|m| m.service == service).collect();
        for member in group {
            let result = match verb {
                Verb::Start => containers_manage::start_container(&member.id),
                Verb::Stop => containers_manage::stop_container(&member.id, args.timeout_secs),
                Verb::Restart => {
                    containers_manage::restart_container(&member.id, args.timeout_secs)
                }
            };
            match result {
                Ok(()) => done.push(member.name.clone()),
                // Removed in between: nothing left to act on.
                Err(DockerError::NotFound(_)) => {}
                Err(other) => {
                    let err = ToolError::from(other);
                    let message = format!(
                        "{} (acted on before it: {})",
                        err.message,
                        if done.is_empty() {
                            "none".to_string()
                        } else {
                            done.join(", ")
                        }
                    );
                    return Err(ToolError { message, ..err });
                }
            }
        }
    }
    Ok(Reply::new(
        format!(
            "{} {} container(s) of project {}: {}.",
            verb.past(),
            done.len(),
            args.project,
            done.join(", ")
        ),
        Changed {
            project: args.project,
            containers: done,
        },
    ))
}

pub struct ComposeStart;

impl TypedTool for ComposeStart {
    const NAME: &'static str = "compose_start";
    const TITLE: &'static str = "Start a project";
    const DESCRIPTION: &'static str = "Start the stopped containers of a Compose project, or \
        of one service, dependencies first. Running containers are left as they are.";
    const CAPABILITIES: &'static [Capability] =
        &[Capability::ContainersRead, Capability::ContainersManage];
    const IDEMPOTENT: bool = true;
    type Args = LifecycleArgs;
    type Output = Changed;

    fn run(args: LifecycleArgs) -> Result<Reply<Changed>, ToolError> {
        act(args, Verb::Start)
    }
}

pub struct ComposeStop;

impl TypedTool for ComposeStop {
    const NAME: &'static str = "compose_stop";
    const TITLE: &'static str = "Stop a project";
    const DESCRIPTION: &'static str = "Stop the containers of a Compose project, or of one \
        service, dependents first (SIGTERM, then SIGKILL after the timeout). Nothing is \
        removed.";
    const CAPABILITIES: &'static [Capability] =
        &[Capability::ContainersRead, Capability::ContainersManage];
    const IDEMPOTENT: bool = true;
    type Args = LifecycleArgs;
    type Output = Changed;

    fn run(args: LifecycleArgs) -> Result<Reply<Changed>, ToolError> {
        act(args, Verb::Stop)
    }
}

pub struct ComposeRestart;

impl TypedTool for ComposeRestart {
    const NAME: &'static str = "compose_restart";
    const TITLE: &'static str = "Restart a project";
    const DESCRIPTION: &'static str = "Restart the containers of a Compose project, or of one \
        service, dependencies first.";
    const CAPABILITIES: &'static [Capability] =
        &[Capability::ContainersRead, Capability::ContainersManage];
    type Args = LifecycleArgs;
    type Output = Changed;

    fn run(args: LifecycleArgs) -> Result<Reply<Changed>, ToolError> {
        act(args, Verb::Restart)
    }
}
