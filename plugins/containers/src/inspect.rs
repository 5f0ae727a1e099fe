//! `docker_inspect_container`: the low-level details of one container, secrets redacted,
//! with a few summary lines as text.

use std::collections::BTreeMap;

use bulkhead_plugin_sdk::docker::{
    ContainerDetails, ContainerState, MountInfo, NetworkAttachment, containers_read,
};
use bulkhead_plugin_sdk::{Capability, Tool, ToolError, ToolOutput, Value, json, parse_args};
use serde::{Deserialize, Serialize};

use crate::redact;
use crate::render::{self, PortOut};

pub(crate) const NAME: &str = "docker_inspect_container";

pub(crate) fn tool() -> Tool {
    Tool::builder(
        NAME,
        "Inspect a container",
        "Show the configuration and state of one container (like `docker inspect`): image, \
         state and exit code, command, environment, labels, restart policy, resource limits, \
         ports, mounts and networks. Secret-looking values are redacted.",
    )
    .input_schema(json!({
        "type": "object",
        "properties": {"container": render::container_arg_schema()},
        "required": ["container"],
        "additionalProperties": false
    }))
    .output_schema(json!({
        "type": "object",
        "properties": {"container": details_schema()},
        "required": ["container"],
        "additionalProperties": false
    }))
    .capabilities([Capability::ContainersRead])
    .idempotent()
    .build()
}

fn nullable(kind: &str, description: &str) -> Value {
    json!({"type": [kind, "null"], "description": description})
}

fn string_list(description: &str) -> Value {
    json!({"type": "array", "items": {"type": "string"}, "description": description})
}

fn details_schema() -> Value {
    json!({
        "type": "object",
        "description": "The container's details.",
        "properties": {
            "id": {"type": "string", "description": "Full container id."},
            "name": {"type": "string", "description": "Name, without the leading `/`."},
            "image": {"type": "string", "description": "Image as given at creation."},
            "image_id": {"type": "string", "description": "Id of the image."},
            "created": {"type": "string", "description": "Creation time (RFC 3339)."},
            "state": {
                "type": "object",
                "properties": {
                    "status": {
                        "type": "string",
                        "description": "created, running, paused, restarting, removing, exited or dead."
                    },
                    "running": {"type": "boolean", "description": "Running (possibly paused)."},
                    "paused": {"type": "boolean", "description": "Paused."},
                    "restarting": {"type": "boolean", "description": "Restarting."},
                    "oom_killed": {
                        "type": "boolean",
                        "description": "Killed for running out of memory."
                    },
                    "exit_code": {"type": "integer", "description": "Exit code of the last run."},
                    "error": nullable("string", "Why the container failed to start, if it did."),
                    "started_at": nullable("string", "Last start (RFC 3339)."),
                    "finished_at": nullable("string", "Last exit (RFC 3339).")
                },
                "required": ["status", "running", "paused", "restarting", "oom_killed", "exit_code", "error", "started_at", "finished_at"],
                "additionalProperties": false,
                "description": "Run state."
            },
            "cmd": string_list("Command and arguments; secret-looking values redacted."),
            "entrypoint": string_list("Entrypoint; secret-looking values redacted."),
            "env": string_list("Environment as KEY=value; secret-looking values are <redacted>."),
            "working_dir": nullable("string", "Working directory of the command."),
            "user": nullable("string", "User the command runs as."),
            "labels": render::labels_schema(),
            "restart_policy": nullable("string", "Restart policy: no, on-failure[:N], always or unless-stopped."),
            "restart_count": {
                "type": "integer",
                "description": "How often the engine restarted it."
            },
            "network_mode": nullable("string", "Network mode (bridge, none, a network name, …)."),
            "memory_bytes": nullable("integer", "Memory limit in bytes; null when unlimited."),
            "nano_cpus": nullable("integer", "CPU limit in billionths of a CPU; null when unlimited."),
            "pids_limit": nullable("integer", "Process limit; null when unlimited."),
            "read_only_rootfs": {
                "type": "boolean",
                "description": "Root filesystem mounted read-only."
            },
            "privileged": {"type": "boolean", "description": "Runs privileged."},
            "ports": {
                "type": "array",
                "items": render::port_schema(),
                "description": "Exposed and published ports."
            },
            "mounts": {
                "type": "array",
                "description": "Mounts.",
                "items": {
                    "type": "object",
                    "properties": {
                        "kind": {"type": "string", "description": "bind, volume, tmpfs, …"},
                        "source": {"type": "string", "description": "Host path or volume name."},
                        "destination": {
                            "type": "string",
                            "description": "Path inside the container."
                        },
                        "read_write": {"type": "boolean", "description": "Writable."}
                    },
                    "required": ["kind", "source", "destination", "read_write"],
                    "additionalProperties": false
                }
            },
            "networks": {
                "type": "array",
                "description": "Networks the container is attached to.",
                "items": {
                    "type": "object",
                    "properties": {
                        "network": {"type": "string", "description": "Network name."},
                        "ip_address": nullable("string", "Address on that network."),
                        "gateway": nullable("string", "Gateway on that network."),
                        "mac_address": nullable("string", "MAC address on that network.")
                    },
                    "required": ["network", "ip_address", "gateway", "mac_address"],
                    "additionalProperties": false
                }
            }
        },
        "required": [
            "id", "name", "image", "image_id", "created", "state", "cmd", "entrypoint", "env",
            "working_dir", "user", "labels", "restart_policy", "restart_count", "network_mode",
            "memory_bytes", "nano_cpus", "pids_limit", "read_only_rootfs", "privileged", "ports",
            "mounts", "networks"
        ],
        "additionalProperties": false
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InspectArgs {
    container: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct StateOut {
    status: String,
    running: bool,
    paused: bool,
    restarting: bool,
    oom_killed: bool,
    exit_code: i64,
    error: Option<String>,
    started_at: Option<String>,
    finished_at: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct MountOut {
    kind: String,
    source: String,
    destination: String,
    read_write: bool,
}

#[derive(Debug, Serialize)]
pub(crate) struct NetworkOut {
    network: String,
    ip_address: Option<String>,
    gateway: Option<String>,
    mac_address: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct DetailsOut {
    id: String,
    name: String,
    image: String,
    image_id: String,
    created: String,
    state: StateOut,
    cmd: Vec<String>,
    entrypoint: Vec<String>,
    env: Vec<String>,
    working_dir: Option<String>,
    user: Option<String>,
    labels: BTreeMap<String, String>,
    restart_policy: Option<String>,
    restart_count: i64,
    network_mode: Option<String>,
    memory_bytes: Option<i64>,
    nano_cpus: Option<i64>,
    pids_limit: Option<i64>,
    read_only_rootfs: bool,
    privileged: bool,
    ports: Vec<PortOut>,
    mounts: Vec<MountOut>,
    networks: Vec<NetworkOut>,
}

/// Structured output of the tool.
#[derive(Debug, Serialize)]
pub(crate) struct InspectOut {
    container: DetailsOut,
}

/// The host's details, with labels, command, entrypoint and (again) env made secret-free.
pub(crate) fn output(details: ContainerDetails) -> InspectOut {
    let ContainerState {
        status,
        running,
        paused,
        restarting,
        oom_killed,
        exit_code,
        error,
        started_at,
        finished_at,
    } = details.state;
    let container = DetailsOut {
        id: details.id,
        name: details.name.trim_start_matches('/').to_owned(),
        image: details.image,
        image_id: details.image_id,
        created: details.created,
        state: StateOut {
            status,
            running,
            paused,
            restarting,
            oom_killed,
            exit_code,
            error,
            started_at,
            finished_at,
        },
        cmd: redact::argv(details.cmd),
        entrypoint: redact::argv(details.entrypoint),
        env: redact::env(details.env),
        working_dir: details.working_dir,
        user: details.user,
        labels: render::label_map(details.labels),
        restart_policy: details.restart_policy,
        restart_count: details.restart_count,
        network_mode: details.network_mode,
        memory_bytes: details.memory_bytes,
        nano_cpus: details.nano_cpus,
        pids_limit: details.pids_limit,
        read_only_rootfs: details.read_only_rootfs,
        privileged: details.privileged,
        ports: details.ports.into_iter().map(PortOut::from).collect(),
        mounts: details
            .mounts
            .into_iter()
            .map(
                |MountInfo {
                     kind,
                     source,
                     destination,
                     read_write,
                 }| MountOut {
                    kind,
                    source,
                    destination,
                    read_write,
                },
            )
            .collect(),
        networks: details
            .networks
            .into_iter()
            .map(
                |NetworkAttachment {
                     network,
                     ip_address,
                     gateway,
                     mac_address,
                 }| NetworkOut {
                    network,
                    ip_address,
                    gateway,
                    mac_address,
                },
            )
            .collect(),
    };
    InspectOut { container }
}

/// A few lines: identity, state, command, policy and limits, ports, mounts, networks.
/// Environment and label values stay in the structured output only.
pub(crate) fn text(out: &InspectOut) -> String {
    let c = &out.container;
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
                Some(ip) if !ip.is_empty() => {
                    format!("{} {}", render::one_line(&n.network), render::one_line(ip))
                }
                _ => render::one_line(&n.network),
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

fn state_text(state: &StateOut) -> String {
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
    if let Some(error) = state.error.as_deref().filter(|e| !e.is_empty()) {
        text.push_str(&format!(", error: {}", render::one_line(error)));
    }
    text
}

fn limits_text(c: &DetailsOut) -> String {
    let mut parts = Vec::new();
    if let Some(bytes) = c.memory_bytes.filter(|b| *b > 0) {
        parts.push(format!("memory {}", bytes_text(bytes)));
    }
    if let Some(nanos) = c.nano_cpus.filter(|n| *n > 0) {
        parts.push(format!("cpus {}", nanos as f64 / 1e9));
    }
    if let Some(pids) = c.pids_limit.filter(|p| *p > 0) {
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

fn bytes_text(bytes: i64) -> String {
    const MIB: i64 = 1024 * 1024;
    if bytes % (1024 * MIB) == 0 {
        format!("{} GiB", bytes / (1024 * MIB))
    } else if bytes % MIB == 0 {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

pub(crate) fn run(args: Value) -> Result<ToolOutput, ToolError> {
    let args: InspectArgs = parse_args(args)?;
    let details =
        containers_read::inspect_container(&args.container).map_err(crate::docker_error)?;
    let out = output(details);
    ToolOutput::structured(text(&out), &out)
}

#[cfg(test)]
pub(crate) mod tests {
    use bulkhead_plugin_sdk::docker::{KeyValue, PortBinding};

    use super::*;
    use crate::tests::assert_matches_schema;

    pub(crate) fn sample_details() -> ContainerDetails {
        ContainerDetails {
            id: "0123456789abcdef0123456789abcdef".into(),
            name: "/web".into(),
            image: "nginx:1.27".into(),
            image_id: "sha256:feed".into(),
            created: "2024-05-01T10:00:00Z".into(),
            state: ContainerState {
                status: "running".into(),
                running: true,
                paused: false,
                restarting: false,
                oom_killed: false,
                exit_code: 0,
                error: None,
                started_at: Some("2024-05-01T10:00:01Z".into()),
                finished_at: None,
            },
            cmd: vec!["nginx".into(), "--password=hunter2".into()],
            entrypoint: vec![],
            env: vec![
                "PATH=/usr/bin".into(),
                "API_TOKEN=<redacted>".into(),
                "DB_PASS=leaked".into(),
            ],
            working_dir: Some("/srv".into()),
            user: None,
            labels: vec![KeyValue {
                key: "app".into(),
                value: "web".into(),
            }],
            restart_policy: Some("unless-stopped".into()),
            restart_count: 2,
            network_mode: Some("bridge".into()),
            memory_bytes: Some(256 * 1024 * 1024),
            nano_cpus: Some(500_000_000),
            pids_limit: None,
            read_only_rootfs: true,
            privileged: false,
            ports: vec![PortBinding {
                container_port: 80,
                protocol: "tcp".into(),
                host_ip: None,
                host_port: None,
            }],
            mounts: vec![MountInfo {
                kind: "volume".into(),
                source: "data".into(),
                destination: "/data".into(),
                read_write: true,
            }],
            networks: vec![NetworkAttachment {
                network: "bridge".into(),
                ip_address: Some("172.17.0.2".into()),
                gateway: Some("172.17.0.1".into()),
                mac_address: None,
            }],
        }
    }

    #[test]
    fn output_matches_the_schema_and_has_no_secrets() {
        let out = output(sample_details());
        let value = serde_json::to_value(&out).unwrap();
        assert_matches_schema(&tool(), &value);
        assert_eq!(value["container"]["name"], "web");
        assert_eq!(
            value["container"]["cmd"],
            json!(["nginx", "--password=<redacted>"])
        );
        assert_eq!(
            value["container"]["env"],
            json!([
                "PATH=/usr/bin",
                "API_TOKEN=<redacted>",
                "DB_PASS=<redacted>"
            ])
        );
        assert!(!value.to_string().contains("hunter2"));
        assert!(!value.to_string().contains("leaked"));
    }

    #[test]
    fn text_is_a_short_summary() {
        let text = text(&output(sample_details()));
        assert_eq!(
            text,
            "web (0123456789ab), image nginx:1.27, created 2024-05-01T10:00:00Z\n\
             state: running since 2024-05-01T10:00:01Z\n\
             command: [\"nginx\",\"--password=<redacted>\"]\n\
             restart: unless-stopped (restarted 2 times); network mode: bridge\n\
             limits: memory 256 MiB, cpus 0.5, read-only rootfs\n\
             ports: 80/tcp\n\
             mounts: volume data -> /data (rw)\n\
             networks: bridge 172.17.0.2\n\
             env: 3 variable(s); labels: 1 (see structured content)"
        );
    }

    #[test]
    fn exited_and_failed_states_read_well() {
        let mut details = sample_details();
        details.state = ContainerState {
            status: "exited".into(),
            running: false,
            paused: false,
            restarting: false,
            oom_killed: true,
            exit_code: 137,
            error: Some("boom\nsecond line".into()),
            started_at: Some("2024-05-01T10:00:01Z".into()),
            finished_at: Some("2024-05-01T11:00:00Z".into()),
        };
        let out = output(details);
        assert_eq!(
            state_text(&out.container.state),
            "exited (exit code 137) at 2024-05-01T11:00:00Z, killed for running out of memory, error: boom second line"
        );
    }

    #[test]
    fn sizes() {
        assert_eq!(bytes_text(2 * 1024 * 1024 * 1024), "2 GiB");
        assert_eq!(bytes_text(6 * 1024 * 1024), "6 MiB");
        assert_eq!(bytes_text(1000), "1000 bytes");
    }
}
