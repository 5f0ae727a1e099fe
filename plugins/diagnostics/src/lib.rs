//! Bulkhead's diagnostics plugin: five prompts that gather live evidence through read
//! primitives before they answer, `docker://` resources (logs, stats, inspections,
//! system info) and completions of container names and ids. It has no tools and uses
//! reads only.

mod cis;
mod compose_yaml;
mod evidence;
mod prompts;
mod resources;

use bulkhead_plugin_sdk::context::{
    Completion, CompletionTarget, ContextManifest, Prompt, PromptAnswer, ResourceContents,
    ResourcePage,
};
use bulkhead_plugin_sdk::{
    Capability, Manifest, Plugin, ToolError, ToolOutput, Value, export_plugin,
};

pub struct Diagnostics;

const CONTAINER: &str = "Container name or id.";

fn prompt_list() -> Vec<Prompt> {
    use Capability::{ContainersRead, ImagesRead, NetworksRead};
    vec![
        Prompt::builder(
            "troubleshoot_container",
            "Troubleshoot a container",
            "Gathers a container's state, exit code, restarts, OOM flag, health, recent logs with the failing lines, resource use against limits, networks, ports, mounts, user and image age, and asks why it fails.",
        )
        .argument("container", CONTAINER, true)
        .argument("tail", "Log lines to include, 1-500 (default 50).", false)
        .capabilities([ContainersRead, ImagesRead])
        .build(),
        Prompt::builder(
            "optimize_container",
            "Optimise a container",
            "Gathers a container's resource use against its limits, restart policy, health check, image size and age, and asks for concrete optimisations.",
        )
        .argument("container", CONTAINER, true)
        .capabilities([ContainersRead, ImagesRead])
        .build(),
        Prompt::builder(
            "generate_compose",
            "Generate a Compose file",
            "Turns running containers (by name or label) into a Compose file that compose_plan accepts.",
        )
        .argument("containers", "Container names or ids, comma-separated (or give `label`).", false)
        .argument("label", "Select containers by label, key=value (or give `containers`).", false)
        .argument("project", "Project name for the file.", false)
        .capabilities([ContainersRead, ImagesRead])
        .build(),
        Prompt::builder(
            "debug_networking",
            "Debug container networking",
            "Gathers a container's networks, addresses, published ports and each network's members, and whether a target container can reach it.",
        )
        .argument("container", CONTAINER, true)
        .argument("target", "Another container it should reach.", false)
        .capabilities([ContainersRead, NetworksRead])
        .build(),
        Prompt::builder(
            "security_audit",
            "Security audit",
            "Audits a container (or every running one, at most 20) against the CIS Docker Benchmark, each finding numbered by its CIS item.",
        )
        .argument("container", "Container name or id (default: every running container).", false)
        .capabilities([ContainersRead])
        .build(),
    ]
}

impl Plugin for Diagnostics {
    fn manifest() -> Manifest {
        Manifest {
            name: "diagnostics".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Prompts that gather live evidence; docker:// resources; completions."
                .into(),
            tools: Vec::new(),
        }
    }

    fn call(name: &str, _args: Value) -> Result<ToolOutput, ToolError> {
        Err(ToolError::unknown_tool(name))
    }

    fn context() -> ContextManifest {
        ContextManifest {
            prompts: prompt_list(),
            templates: resources::templates(),
        }
    }

    fn get_prompt(name: &str, args: &[(String, String)]) -> Result<PromptAnswer, ToolError> {
        match name {
            "troubleshoot_container" => prompts::troubleshoot(args),
            "optimize_container" => prompts::optimize(args),
            "generate_compose" => prompts::generate_compose(args),
            "debug_networking" => prompts::debug_networking(args),
            "security_audit" => prompts::security_audit(args),
            other => Err(ToolError::unknown_tool(other)),
        }
    }

    fn list_resources(cursor: Option<&str>) -> Result<ResourcePage, ToolError> {
        resources::list(cursor)
    }

    fn read_resource(
        _uri: &str,
        template: &str,
        variables: &[(String, String)],
    ) -> Result<ResourceContents, ToolError> {
        resources::read(template, variables)
    }

    fn complete(
        target: &CompletionTarget,
        argument: &str,
        value: &str,
        _context: &[(String, String)],
    ) -> Result<Completion, ToolError> {
        resources::complete(target, argument, value)
    }
}

export_plugin!(Diagnostics);

#[cfg(test)]
pub(crate) mod tests {
    use bulkhead_plugin_sdk::docker::{ContainerDetails, ContainerState, ImageDetails, MountInfo};

    /// A plain running container: root, no limits, no health check.
    pub fn details(name: &str) -> ContainerDetails {
        ContainerDetails {
            id: "0123456789abcdef".repeat(4),
            name: name.into(),
            image: "busybox:latest".into(),
            image_id: "sha256:abc".into(),
            created: "2026-01-01T00:00:00Z".into(),
            state: ContainerState {
                status: "running".into(),
                running: true,
                paused: false,
                restarting: false,
                oom_killed: false,
                exit_code: 0,
                error: None,
                started_at: None,
                finished_at: None,
                health: None,
            },
            cmd: Vec::new(),
            entrypoint: Vec::new(),
            env: Vec::new(),
            working_dir: None,
            user: None,
            labels: Vec::new(),
            restart_policy: None,
            restart_count: 0,
            network_mode: None,
            memory_bytes: None,
            nano_cpus: None,
            pids_limit: None,
            read_only_rootfs: false,
            privileged: false,
            ports: Vec::new(),
            mounts: Vec::new(),
            networks: Vec::new(),
            capabilities_dropped: false,
            capabilities_added: Vec::new(),
            security_options: Vec::new(),
            idle_secs: None,
            idle_ttl_secs: None,
        }
    }

    pub fn bind(source: &str, destination: &str) -> MountInfo {
        MountInfo {
            kind: "bind".into(),
            source: source.into(),
            destination: destination.into(),
            read_write: true,
            name: None,
        }
    }

    pub fn image(env: &[&str]) -> ImageDetails {
        ImageDetails {
            id: "sha256:abc".into(),
            repo_tags: Vec::new(),
            repo_digests: Vec::new(),
            created: None,
            size: 0,
            architecture: "amd64".into(),
            os: "linux".into(),
            author: None,
            comment: None,
            cmd: Vec::new(),
            entrypoint: Vec::new(),
            env: env.iter().map(|e| (*e).to_string()).collect(),
            exposed_ports: Vec::new(),
            labels: Vec::new(),
            user: None,
            working_dir: None,
            layers: 1,
        }
    }

    #[test]
    fn the_plugin_is_what_the_host_accepts() {
        assert_eq!(
            bulkhead_plugin_sdk::testing::check_plugin::<super::Diagnostics>(),
            Vec::<String>::new()
        );
    }
}
