//! `compose_deploy` and `compose_plan`: bring a stack up, or say what that would do.

use std::time::Duration;

use bulkhead_plugin_sdk::{Capability, Reply, ToolError, TypedTool};
use schemars::JsonSchema;
use serde::Serialize;

use crate::apply::{self, DeployedContainer, Options, step_words};
use crate::plan::{self, Action};
use crate::source;

/// Default total wait for dependencies (`service_healthy`, `service_completed_successfully`).
const DEFAULT_WAIT_SECS: u32 = 20;

crate::stack_args! {
pub struct DeployArgs {
    /// Build every service that has a `build` section, even when its image exists.
    #[serde(default)]
    pub build: bool,
    /// Longest total wait for dependencies to become healthy or complete, 1-25 s
    /// (default 20). A deploy that runs out of time reports it; deploying again
    /// continues.
    #[schemars(range(min = 1, max = 25))]
    pub wait_timeout_secs: Option<u32>,
}
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Deployed {
    project: String,
    /// Every step taken, in order; `keep_container` steps changed nothing.
    actions: Vec<Action>,
    /// The project's containers now.
    containers: Vec<DeployedContainer>,
    /// Notes about the file (obsolete keys, unset variables).
    warnings: Vec<String>,
}

pub struct ComposeDeploy;

impl TypedTool for ComposeDeploy {
    const NAME: &'static str = "compose_deploy";
    const TITLE: &'static str = "Deploy a Compose stack";
    const DESCRIPTION: &'static str = "Create or update a Compose project from YAML text or \
        an allowed file, like `docker compose up -d`: networks and volumes first, missing \
        images built or pulled, then each service in dependency order (waiting, bounded, \
        for `service_healthy` and `service_completed_successfully`). Unchanged services \
        are kept, changed ones recreated, services gone from the file removed; named \
        volumes are never removed. Every container passes the host's policy.";
    const CAPABILITIES: &'static [Capability] = &[
        Capability::ContainersRead,
        Capability::ContainersManage,
        Capability::ContainersRemove,
        Capability::ImagesRead,
        Capability::ImagesPull,
        Capability::ImagesBuild,
        Capability::NetworksRead,
        Capability::NetworksManage,
        Capability::VolumesRead,
        Capability::VolumesManage,
    ];
    const IDEMPOTENT: bool = true;
    const OPEN_WORLD: bool = true;
    type Args = DeployArgs;
    type Output = Deployed;

    fn run(args: DeployArgs) -> Result<Reply<Deployed>, ToolError> {
        let stack = source::load(args.stack())?;
        let options = Options {
            rebuild: args.build,
            wait: Duration::from_secs(u64::from(
                args.wait_timeout_secs.unwrap_or(DEFAULT_WAIT_SECS),
            )),
        };
        let outcome = apply::deploy(&stack, &options)?;
        let changed: Vec<String> = outcome
            .actions
            .iter()
            .filter(|a| a.changes())
            .map(|a| format!("{} {}", step_words(&a.step), a.target))
            .collect();
        let mut text = if changed.is_empty() {
            format!(
                "Project {} is up to date: {} container(s) unchanged.",
                stack.project.name,
                outcome.containers.len()
            )
        } else {
            format!(
                "Deployed project {}: {}. {} container(s) in the project.",
                stack.project.name,
                changed.join("; "),
                outcome.containers.len()
            )
        };
        for warning in &stack.project.warnings {
            text.push_str(&format!("\nWarning: {warning}"));
        }
        Ok(Reply::new(
            text,
            Deployed {
                project: stack.project.name.clone(),
                actions: outcome.actions,
                containers: outcome.containers,
                warnings: stack.project.warnings.clone(),
            },
        ))
    }
}

crate::stack_args! {
pub struct PlanArgs {
    /// Plan as `compose_deploy` with `build: true` would.
    #[serde(default)]
    pub build: bool,
}
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Planned {
    project: String,
    /// The steps a deploy would take, in order.
    actions: Vec<Action>,
    /// True when the deploy would change nothing.
    up_to_date: bool,
    warnings: Vec<String>,
}

pub struct ComposePlan;

impl TypedTool for ComposePlan {
    const NAME: &'static str = "compose_plan";
    const TITLE: &'static str = "Plan a Compose deploy";
    const DESCRIPTION: &'static str = "Dry run of compose_deploy: parse and check the stack, \
        compare it with the engine, and list what a deploy would create, recreate, start, \
        keep or remove, in order. Touches nothing.";
    const CAPABILITIES: &'static [Capability] = &[
        Capability::ContainersRead,
        Capability::ImagesRead,
        Capability::NetworksRead,
        Capability::VolumesRead,
    ];
    const IDEMPOTENT: bool = true;
    type Args = PlanArgs;
    type Output = Planned;

    fn run(args: PlanArgs) -> Result<Reply<Planned>, ToolError> {
        let stack = source::load(args.stack())?;
        let world = apply::gather(&stack.project)?;
        let actions = plan::plan(&stack.project, &world, args.build)?;
        let up_to_date = !actions.iter().any(Action::changes);
        let mut text = if up_to_date {
            format!(
                "Project {} is up to date; a deploy would change nothing.",
                stack.project.name
            )
        } else {
            let mut lines = vec![format!("A deploy of {} would:", stack.project.name)];
            lines.extend(
                actions
                    .iter()
                    .map(|a| format!("- {} {} ({})", step_words(&a.step), a.target, a.reason)),
            );
            lines.join("\n")
        };
        for warning in &stack.project.warnings {
            text.push_str(&format!("\nWarning: {warning}"));
        }
        Ok(Reply::new(
            text,
            Planned {
                project: stack.project.name.clone(),
                actions,
                up_to_date,
                warnings: stack.project.warnings.clone(),
            },
        ))
    }
}
