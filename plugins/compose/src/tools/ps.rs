//! `compose_ps`: a project's containers, whoever deployed it.

use bulkhead_plugin_sdk::docker::PortBinding;
use bulkhead_plugin_sdk::{Capability, Reply, ToolError, TypedTool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::project_members;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PsArgs {
    /// The project's name.
    #[schemars(length(min = 1, max = 63))]
    project: String,
    /// Only this service's containers.
    #[schemars(length(min = 1, max = 128))]
    service: Option<String>,
}

/// One container of a project.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PsEntry {
    service: String,
    /// Replica number.
    number: u32,
    name: String,
    id: String,
    image: String,
    /// created, running, paused, restarting, removing, exited, dead.
    state: String,
    /// Human status such as `Up 5 minutes (healthy)`.
    status: String,
    ports: Vec<PortBinding>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Ps {
    project: String,
    containers: Vec<PsEntry>,
}

pub struct ComposePs;

impl TypedTool for ComposePs {
    const NAME: &'static str = "compose_ps";
    const TITLE: &'static str = "List a project's containers";
    const DESCRIPTION: &'static str = "List the containers of a Compose project (deployed \
        here or by `docker compose`), stopped ones included: service, replica, state, \
        health and published ports.";
    const CAPABILITIES: &'static [Capability] = &[Capability::ContainersRead];
    const IDEMPOTENT: bool = true;
    type Args = PsArgs;
    type Output = Ps;

    fn run(args: PsArgs) -> Result<Reply<Ps>, ToolError> {
        let members = project_members(&args.project, args.service.as_deref())?;
        let containers: Vec<PsEntry> = members
            .into_iter()
            .map(|m| PsEntry {
                service: m.service,
                number: m.number,
                name: m.name,
                id: m.id.chars().take(12).collect(),
                image: m.image,
                state: m.state,
                status: m.status,
                ports: m.summary.ports,
            })
            .collect();
        let mut lines = vec![format!(
            "Project {}: {} container(s).",
            args.project,
            containers.len()
        )];
        lines.extend(containers.iter().map(|c| {
            let ports: Vec<String> = c
                .ports
                .iter()
                .filter_map(|p| {
                    p.host_port.map(|host| {
                        format!(
                            "{}:{host}->{}/{}",
                            p.host_ip.as_deref().unwrap_or("0.0.0.0"),
                            p.container_port,
                            p.protocol
                        )
                    })
                })
                .collect();
            format!(
                "- {} ({}) {}{}",
                c.name,
                c.service,
                c.status,
                if ports.is_empty() {
                    String::new()
                } else {
                    format!(" {}", ports.join(", "))
                }
            )
        }));
        Ok(Reply::new(
            lines.join("\n"),
            Ps {
                project: args.project,
                containers,
            },
        ))
    }
}
