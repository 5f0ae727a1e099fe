//! `docker_inspect_container`: the low-level details of one container (the host has
//! redacted secrets), with a few summary lines as text.

use bulkhead_plugin_sdk::docker::{ContainerDetails, ContainerState, containers_read};
use bulkhead_plugin_sdk::{Capability, Reply, ToolError, TypedTool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::render;

/// Names one container.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContainerArgs {
    /// Container name or id (a unique id prefix works too).
    #[schemars(length(min = 1, max = 255))]
    pub container: String,
}

/// Structured output of the tool.
#[derive(Debug, Serialize, JsonSchema)]
pub struct InspectOut {
    /// The container's details.
    pub container: ContainerDetails,
}

pub struct InspectContainer;

impl TypedTool for InspectContainer {
    const NAME: &'static str = "docker_inspect_container";
    const TITLE: &'static str = "Inspect a container";
    const DESCRIPTION: &'static str = "Show the configuration and state of one container \
        (like `docker inspect`): image, state and exit code, command, environment, labels, \
        restart policy, resource limits, ports, mounts and networks. Secret-looking values \
        are redacted.";
    const CAPABILITIES: &'static [Capability] = &[Capability::ContainersRead];
    const IDEMPOTENT: bool = true;
    type Args = ContainerArgs;
    type Output = InspectOut;

    fn run(args: ContainerArgs) -> Result<Reply<InspectOut>, ToolError> {
        let details =
            containers_read::inspect_container(&args.container).map_err(crate::docker_error)?;
        let out = InspectOut { container: details };
        Ok(Reply::new(text(&out.container), out))
    }
}

/// A few lines: identity, state, command, policy and limits, ports, mounts, networks.
/// Environment and label values stay in the structured output only.
pub(crate) fn text(c: &ContainerDetails) -> String {
    let mut lines = vec![format!(
        "{} ({}), image {}, created {}",
        render::one_line(&c.name),
        render::short_id(&c.id),
        render::one_line(&c.image),
        render::one_line(&c.created)
    )];
    lines.push(format!("state: {}", state_text(&c.state)));
    if !c.entrypoint.is_empty() {
        lines.push(format!("entrypoint: {}", render::argv_text(&c.entrypoint)));
    }
    lines.push(format!("command: {}", render::argv_text(&c.cmd)));
    let restart = c
        .restart_policy
        .as_deref()
        .map_or_else(|| "no".to_owned(), render::one_line);
    let network = c
        .network_mode
        .as_deref()
        .map_or_else(|| "default".to_owned(), render::one_line);
    lines.push(format!(
        "restart: {restart} (restarted {} times); network mode: {network}",
        c.restart_count
    ));
    lines.push(format!("limits: {}", limits_text(c)));
    lines.push(format!("ports: {}", render::ports_text(&c.ports)));
    if !c.mounts.is_empty() {
        let mounts: Vec<String> = c
            .mounts
            .iter()
            .map(|m| {
                let mode = if m.read_write { "rw" } else { "ro" };
                format!(
                    "{} {} -> {} ({mode})",
                    render::one_line(&m.kind),
                    render::one_line(&m.source),
                    render::one_line(&m.destination)
                )
            })
            .collect();
        lines.push(format!("mounts: {}", mounts.join(", ")));
    }
    if !c.networks.is_empty() {
        let networks: Vec<String> = c
            .networks
            .iter()
            .map(|n| match &n.ip_address {
                Some(ip) => format!("{} {}", render::one_line(&n.network), render::one_line(ip)),
                None => render::one_line(&n.network),
            })
            .collect();
        lines.push(format!("networks: {}", networks.join(", ")));
    }
    lines.push(format!(
        "env: {} variable(s); labels: {} (see structured content)",
        c.env.len(),
        c.labels.len()
    ));
    lines.join("\n")
}

fn state_text(state: &ContainerState) -> String {
    let mut text = render::one_line(&state.status);
    match (&state.started_at, &state.finished_at) {
        (Some(started), _) if state.running => {
            text.push_str(&format!(" since {}", render::one_line(started)))
        }
        (_, Some(finished)) if !state.running => {
            text.push_str(&format!(
                " (exit code {}) at {}",
                state.exit_code,
                render::one_line(finished)
            ));
        }
        _ => {}
    }
    if state.oom_killed {
        text.push_str(", killed for running out of memory");
    }
    if let Some(error) = &state.error {
        text.push_str(&format!(", error: {}", render::one_line(error)));
    }
    text
}

fn limits_text(c: &ContainerDetails) -> String {
    let mut parts = Vec::new();
    if let Some(bytes) = c.memory_bytes {
        parts.push(format!("memory {}", render::bytes_text(bytes)));
    }
    if let Some(nanos) = c.nano_cpus {
        parts.push(format!("cpus {}", nanos as f64 / 1e9));
    }
    if let Some(pids) = c.pids_limit {
        parts.push(format!("pids {pids}"));
    }
    if c.read_only_rootfs {
        parts.push("read-only rootfs".to_owned());
    }
    if c.privileged {
        parts.push("PRIVILEGED".to_owned());
    }
    if parts.is_empty() {
        "none".to_owned()
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use bulkhead_plugin_sdk::docker::{MountInfo, NetworkAttachment};

    use super::*;

    pub(crate) fn sample() -> ContainerDetails {
        ContainerDetails {
            id: "0123456789abcdef".into(),
            name: "web".into(),
            image: "nginx:1.27".into(),
            image_id: "sha256:abc".into(),
            created: "2026-01-01T00:00:00Z".into(),
            state: ContainerState {
                status: "exited".into(),
                running: false,
                paused: false,
                restarting: false,
                oom_killed: true,
                exit_code: 137,
                error: None,
                started_at: Some("2026-01-01T00:00:01Z".into()),
                finished_at: Some("2026-01-01T00:01:00Z".into()),
                health: None,
            },
            cmd: vec!["nginx".into()],
            entrypoint: vec![],
            env: vec!["A=1".into()],
            working_dir: None,
            user: None,
            labels: vec![],
            restart_policy: Some("on-failure:3".into()),
            restart_count: 2,
            network_mode: Some("bridge".into()),
            memory_bytes: Some(512 << 20),
            nano_cpus: Some(1_500_000_000),
            pids_limit: Some(64),
            read_only_rootfs: true,
            privileged: false,
            ports: vec![],
            mounts: vec![MountInfo {
                kind: "volume".into(),
                source: "data".into(),
                destination: "/data".into(),
                read_write: true,
                name: None,
            }],
            networks: vec![NetworkAttachment {
                network: "bridge".into(),
                ip_address: Some("172.17.0.2".into()),
                gateway: None,
                mac_address: None,
            }],
            capabilities_dropped: false,
            capabilities_added: vec![],
            security_options: vec![],
            idle_secs: None,
            idle_ttl_secs: None,
        }
    }

    #[test]
    fn text_summarises_state_limits_and_attachments() {
        assert_eq!(
            text(&sample()),
            "web (0123456789ab), image nginx:1.27, created 2026-01-01T00:00:00Z\n\
             state: exited (exit code 137) at 2026-01-01T00:01:00Z, killed for running out of memory\n\
             command: [\"nginx\"]\n\
             restart: on-failure:3 (restarted 2 times); network mode: bridge\n\
             limits: memory 512 MiB, cpus 1.5, pids 64, read-only rootfs\n\
             ports: -\n\
             mounts: volume data -> /data (rw)\n\
             networks: bridge 172.17.0.2\n\
             env: 1 variable(s); labels: 0 (see structured content)"
        );
    }
}
