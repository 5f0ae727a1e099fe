//! `compose_list`: the Compose projects on the engine, deployed here or by
//! `docker compose` / `docker-compose`.

use std::collections::BTreeMap;

use bulkhead_plugin_sdk::{Capability, Reply, ToolError, TypedTool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{labels, observed};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListArgs {
    /// Include projects whose containers are all stopped (default true).
    all: Option<bool>,
}

/// One project.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ProjectEntry {
    name: String,
    /// Its services, sorted.
    services: Vec<String>,
    /// Containers running now.
    running: u32,
    /// Containers in all.
    containers: u32,
    /// `running(2)`, `running(1), exited(1)`, … as `docker compose ls` shows it.
    status: String,
    /// The compose file it was deployed from, when the deploying tool recorded one.
    config_files: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Projects {
    projects: Vec<ProjectEntry>,
}

pub struct ComposeList;

impl TypedTool for ComposeList {
    const NAME: &'static str = "compose_list";
    const TITLE: &'static str = "List Compose projects";
    const DESCRIPTION: &'static str = "List the Compose projects on the engine, including \
        ones made by `docker compose` or `docker-compose`: services, running and total \
        containers, status.";
    const CAPABILITIES: &'static [Capability] = &[Capability::ContainersRead];
    const IDEMPOTENT: bool = true;
    type Args = ListArgs;
    type Output = Projects;

    fn run(args: ListArgs) -> Result<Reply<Projects>, ToolError> {
        let all = args.all.unwrap_or(true);
        let mut by_project: BTreeMap<String, Vec<bulkhead_plugin_sdk::docker::ContainerSummary>> =
            BTreeMap::new();
        for container in observed::containers(vec![labels::PROJECT.to_string()])? {
            if let Some(project) = labels::get(&container.labels, labels::PROJECT) {
                by_project
                    .entry(project.to_string())
                    .or_default()
                    .push(container);
            }
        }
        let mut projects = Vec::new();
        for (name, containers) in by_project {
            let mut states: BTreeMap<String, u32> = BTreeMap::new();
            let mut services: Vec<String> = Vec::new();
            for container in &containers {
                *states.entry(container.state.clone()).or_default() += 1;
                if let Some(service) = labels::get(&container.labels, labels::SERVICE)
                    && !services.iter().any(|s| s == service)
                {
                    services.push(service.to_string());
                }
            }
            services.sort();
            let running = states.get("running").copied().unwrap_or(0);
            if !all && running == 0 {
                continue;
            }
            let status = states
                .iter()
                .map(|(state, count)| format!("{state}({count})"))
                .collect::<Vec<_>>()
                .join(", ");
            projects.push(ProjectEntry {
                config_files: containers
                    .iter()
                    .find_map(|c| labels::get(&c.labels, labels::CONFIG_FILES))
                    .map(str::to_string),
                name,
                services,
                running,
                containers: u32::try_from(containers.len()).unwrap_or(u32::MAX),
                status,
            });
        }
        let text = if projects.is_empty() {
            "No Compose projects on the engine.".to_string()
        } else {
            let mut lines = vec![format!("{} project(s):", projects.len())];
            lines.extend(
                projects
                    .iter()
                    .map(|p| format!("- {}: {} [{}]", p.name, p.status, p.services.join(", "))),
            );
            lines.join("\n")
        };
        Ok(Reply::new(text, Projects { projects }))
    }
}
