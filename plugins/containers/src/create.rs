//! `docker_create_container`: maps the tool's arguments to the host's container spec
//! (only safe knobs exist there) and creates, without starting, a container.

use std::collections::BTreeMap;

use bulkhead_plugin_sdk::docker::{
    ContainerSpec, CreatedContainer, DockerError, KeyValue, PortBinding, containers_manage,
};
use bulkhead_plugin_sdk::{
    Capability, ErrorCode, Tool, ToolError, ToolOutput, Value, json, parse_args,
};
use serde::{Deserialize, Serialize};

use crate::render;

pub(crate) const NAME: &str = "docker_create_container";

/// Docker refuses memory limits below 6 MiB.
const MIN_MEMORY_BYTES: i64 = 6 * 1024 * 1024;
/// Label keys under this prefix are the host's ownership labels.
const RESERVED_LABEL_PREFIX: &str = "io.bulkhead.";
const RESTART_POLICIES: [&str; 4] = ["no", "on-failure", "always", "unless-stopped"];
const PROTOCOLS: [&str; 3] = ["tcp", "udp", "sctp"];

pub(crate) fn tool() -> Tool {
    Tool::builder(
        NAME,
        "Create a container",
        "Create (but do not start) a container from a local image, like `docker create`. The \
         image must already exist locally; nothing is pulled. Published ports bind 127.0.0.1 \
         unless host_ip says otherwise. Privileged mode, capabilities, devices and host mounts \
         cannot be requested. Start it with docker_start_container.",
    )
    .input_schema(json!({
        "type": "object",
        "properties": {
            "image": {
                "type": "string",
                "minLength": 1,
                "description": "Local image to create from: name[:tag], name@digest or image id."
            },
            "name": {
                "type": "string",
                "pattern": "^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$",
                "description": "Container name, unique on this engine. Omit to let the engine pick one."
            },
            "command": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Command and arguments, replacing the image's CMD."
            },
            "entrypoint": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Entrypoint replacing the image's ENTRYPOINT; an empty list clears it."
            },
            "env": {
                "type": "object",
                "additionalProperties": {"type": "string"},
                "propertyNames": {"pattern": "^[^=]+$"},
                "description": "Environment variables as NAME: value."
            },
            "labels": {
                "type": "object",
                "additionalProperties": {"type": "string"},
                "propertyNames": {"minLength": 1, "not": {"pattern": "^io\\.bulkhead\\."}},
                "description": "Labels as key: value. Keys under io.bulkhead. are reserved for the host."
            },
            "working_dir": {
                "type": "string",
                "pattern": "^/",
                "description": "Absolute working directory for the command inside the container."
            },
            "user": {
                "type": "string",
                "minLength": 1,
                "description": "User to run as: name, uid, or uid:gid."
            },
            "tty": {
                "type": "boolean",
                "default": false,
                "description": "Allocate a pseudo-terminal."
            },
            "ports": {
                "type": "array",
                "description": "Ports to publish on the host.",
                "items": {
                    "type": "object",
                    "properties": {
                        "container_port": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": 65535,
                            "description": "Port inside the container."
                        },
                        "host_port": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": 65535,
                            "description": "Host port; omit to let the engine pick a free one."
                        },
                        "host_ip": {
                            "type": "string",
                            "minLength": 1,
                            "description": "Host address to bind; default 127.0.0.1."
                        },
                        "protocol": {
                            "type": "string",
                            "enum": PROTOCOLS,
                            "default": "tcp",
                            "description": "tcp (default), udp or sctp."
                        }
                    },
                    "required": ["container_port"],
                    "additionalProperties": false
                }
            },
            "network": {
                "type": "string",
                "minLength": 1,
                "description": "Network to attach: bridge (default), none, or the name of a user-defined network."
            },
            "memory_bytes": {
                "type": "integer",
                "minimum": MIN_MEMORY_BYTES,
                "description": "Memory limit in bytes, at least 6291456 (6 MiB)."
            },
            "cpus": {
                "type": "number",
                "exclusiveMinimum": 0,
                "description": "CPU limit in cores, for example 0.5 or 2."
            },
            "pids_limit": {
                "type": "integer",
                "minimum": 1,
                "description": "Maximum number of processes in the container."
            },
            "read_only": {
                "type": "boolean",
                "default": false,
                "description": "Mount the container's root filesystem read-only."
            },
            "restart_policy": {
                "type": "string",
                "enum": RESTART_POLICIES,
                "description": "Restart policy: no, on-failure, always or unless-stopped."
            }
        },
        "required": ["image"],
        "additionalProperties": false
    }))
    .output_schema(json!({
        "type": "object",
        "properties": {
            "id": {
                "type": "string",
                "description": "Short (12-character) id of the new container."
            },
            "name": {
                "type": "string",
                "description": "The container's name: the one requested, or the one the engine picked."
            },
            "warnings": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Warnings from the engine."
            }
        },
        "required": ["id", "name", "warnings"],
        "additionalProperties": false
    }))
    .capabilities([Capability::ContainersManage])
    .build()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PortArg {
    container_port: u16,
    host_port: Option<u16>,
    host_ip: Option<String>,
    protocol: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateArgs {
    image: String,
    name: Option<String>,
    #[serde(default)]
    command: Vec<String>,
    entrypoint: Option<Vec<String>>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    working_dir: Option<String>,
    user: Option<String>,
    #[serde(default)]
    tty: bool,
    #[serde(default)]
    ports: Vec<PortArg>,
    network: Option<String>,
    memory_bytes: Option<i64>,
    cpus: Option<f64>,
    pids_limit: Option<i64>,
    #[serde(default)]
    read_only: bool,
    restart_policy: Option<String>,
}

fn invalid(message: String) -> ToolError {
    ToolError::invalid_argument(message)
}

/// The container spec for `args`, or the first argument that is out of range.
pub(crate) fn spec(args: CreateArgs) -> Result<ContainerSpec, ToolError> {
    if args.image.trim().is_empty() {
        return Err(invalid("image must not be empty".to_owned()));
    }
    if let Some(key) = args
        .env
        .keys()
        .find(|key| key.is_empty() || key.contains('='))
    {
        return Err(invalid(format!(
            "environment variable name {} must be non-empty and contain no `=`",
            render::quoted(key)
        )));
    }
    if let Some(key) = args
        .labels
        .keys()
        .find(|key| key.is_empty() || key.starts_with(RESERVED_LABEL_PREFIX))
    {
        return Err(invalid(format!(
            "label key {} is not allowed: keys must be non-empty and `{RESERVED_LABEL_PREFIX}*` is reserved for the host",
            render::quoted(key)
        )));
    }
    let ports = args
        .ports
        .into_iter()
        .map(port)
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(bytes) = args.memory_bytes.filter(|bytes| *bytes < MIN_MEMORY_BYTES) {
        return Err(invalid(format!(
            "memory_bytes must be at least {MIN_MEMORY_BYTES} (6 MiB), got {bytes}"
        )));
    }
    let nano_cpus = args.cpus.map(nano_cpus).transpose()?;
    if let Some(pids) = args.pids_limit.filter(|pids| *pids < 1) {
        return Err(invalid(format!(
            "pids_limit must be at least 1, got {pids}"
        )));
    }
    if let Some(policy) = args
        .restart_policy
        .as_deref()
        .filter(|p| !RESTART_POLICIES.contains(p))
    {
        return Err(invalid(format!(
            "unknown restart_policy {}; use one of {}",
            render::quoted(policy),
            RESTART_POLICIES.join(", ")
        )));
    }
    Ok(ContainerSpec {
        image: args.image,
        name: args.name,
        cmd: args.command,
        entrypoint: args.entrypoint,
        env: args
            .env
            .into_iter()
            .map(|(key, value)| format!("{key}={value}"))
            .collect(),
        labels: args
            .labels
            .into_iter()
            .map(|(key, value)| KeyValue { key, value })
            .collect(),
        working_dir: args.working_dir,
        user: args.user,
        tty: args.tty,
        ports,
        network: args.network,
        memory_bytes: args.memory_bytes,
        nano_cpus,
        pids_limit: args.pids_limit,
        read_only_rootfs: args.read_only,
        restart_policy: args.restart_policy,
    })
}

fn port(arg: PortArg) -> Result<PortBinding, ToolError> {
    let protocol = arg.protocol.unwrap_or_else(|| "tcp".to_owned());
    if !PROTOCOLS.contains(&protocol.as_str()) {
        return Err(invalid(format!(
            "unknown port protocol {}; use tcp, udp or sctp",
            render::quoted(&protocol)
        )));
    }
    if arg.container_port == 0 || arg.host_port == Some(0) {
        return Err(invalid("ports must be 1-65535".to_owned()));
    }
    Ok(PortBinding {
        container_port: arg.container_port,
        protocol,
        host_ip: arg.host_ip,
        host_port: arg.host_port,
    })
}

/// `cpus` cores as billionths of a CPU, the engine's unit.
fn nano_cpus(cpus: f64) -> Result<i64, ToolError> {
    let nanos = (cpus * 1e9).round();
    // NaN fails the range test; the upper bound keeps the cast exact (no machine has a
    // billion cores).
    if !(1.0..=1e18).contains(&nanos) {
        return Err(invalid(format!(
            "cpus must be a positive number of cores, got {cpus}"
        )));
    }
    Ok(nanos as i64)
}

/// Structured output of the tool.
#[derive(Debug, Serialize)]
pub(crate) struct CreateOut {
    id: String,
    name: String,
    warnings: Vec<String>,
}

pub(crate) fn output(created: CreatedContainer) -> CreateOut {
    CreateOut {
        id: render::short_id(&created.id),
        name: created.name.trim_start_matches('/').to_owned(),
        warnings: created.warnings,
    }
}

pub(crate) fn text(out: &CreateOut, image: &str) -> String {
    let who = format!("{} ({})", render::one_line(&out.name), out.id);
    let mut text = format!(
        "Created container {who} from {}; it is not running yet (docker_start_container starts it).",
        render::one_line(image)
    );
    for warning in &out.warnings {
        text.push_str(&format!("\nwarning: {}", render::one_line(warning)));
    }
    text
}

/// A `conflict` on create is almost always the name.
fn error(err: DockerError) -> ToolError {
    let mut mapped = crate::docker_error(err);
    if mapped.code == ErrorCode::Conflict {
        mapped.hint = Some(
            "a container with this name probably exists: pick another name, or inspect or remove the existing one"
                .to_owned(),
        );
    }
    mapped
}

pub(crate) fn run(args: Value) -> Result<ToolOutput, ToolError> {
    let args: CreateArgs = parse_args(args)?;
    let spec = spec(args)?;
    let created = containers_manage::create_container(&spec).map_err(error)?;
    let out = output(created);
    ToolOutput::structured(text(&out, &spec.image), &out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::assert_matches_schema;

    fn spec_for(value: Value) -> Result<ContainerSpec, ToolError> {
        spec(parse_args(value)?)
    }

    #[test]
    fn image_alone_is_a_minimal_spec() {
        assert_eq!(
            spec_for(json!({"image": "busybox"})).unwrap(),
            ContainerSpec {
                image: "busybox".into(),
                ..ContainerSpec::default()
            }
        );
    }

    #[test]
    fn every_argument_reaches_the_spec() {
        let spec = spec_for(json!({
            "image": "nginx:1.27",
            "name": "web",
            "command": ["nginx", "-g", "daemon off;"],
            "entrypoint": [],
            "env": {"B": "2", "A": "x=y"},
            "labels": {"tier": "front"},
            "working_dir": "/srv",
            "user": "1000:1000",
            "tty": true,
            "ports": [{"container_port": 80, "host_port": 8080}, {"container_port": 53, "protocol": "udp", "host_ip": "0.0.0.0"}],
            "network": "none",
            "memory_bytes": 6291456,
            "cpus": 1.5,
            "pids_limit": 64,
            "read_only": true,
            "restart_policy": "unless-stopped"
        }))
        .unwrap();
        assert_eq!(
            spec,
            ContainerSpec {
                image: "nginx:1.27".into(),
                name: Some("web".into()),
                cmd: vec!["nginx".into(), "-g".into(), "daemon off;".into()],
                entrypoint: Some(vec![]),
                env: vec!["A=x=y".into(), "B=2".into()],
                labels: vec![KeyValue {
                    key: "tier".into(),
                    value: "front".into()
                }],
                working_dir: Some("/srv".into()),
                user: Some("1000:1000".into()),
                tty: true,
                ports: vec![
                    PortBinding {
                        container_port: 80,
                        protocol: "tcp".into(),
                        host_ip: None,
                        host_port: Some(8080)
                    },
                    PortBinding {
                        container_port: 53,
                        protocol: "udp".into(),
                        host_ip: Some("0.0.0.0".into()),
                        host_port: None
                    },
                ],
                network: Some("none".into()),
                memory_bytes: Some(6_291_456),
                nano_cpus: Some(1_500_000_000),
                pids_limit: Some(64),
                read_only_rootfs: true,
                restart_policy: Some("unless-stopped".into()),
            }
        );
    }

    #[test]
    fn cpus_become_nano_cpus() {
        assert_eq!(nano_cpus(0.5).unwrap(), 500_000_000);
        assert_eq!(nano_cpus(0.000_000_001).unwrap(), 1);
        assert_eq!(nano_cpus(2.0).unwrap(), 2_000_000_000);
        for bad in [0.0, -1.0, 1e-12, f64::NAN, f64::INFINITY, 1e12] {
            assert_eq!(
                nano_cpus(bad).unwrap_err().code,
                ErrorCode::InvalidArgument,
                "{bad}"
            );
        }
    }

    #[test]
    fn unsafe_or_out_of_range_arguments_are_refused() {
        let message = |value: Value| spec_for(value).unwrap_err().message;
        assert_eq!(
            message(json!({"image": "x", "memory_bytes": 1024})),
            "memory_bytes must be at least 6291456 (6 MiB), got 1024"
        );
        assert_eq!(
            message(json!({"image": "x", "pids_limit": 0})),
            "pids_limit must be at least 1, got 0"
        );
        assert_eq!(
            message(json!({"image": "x", "restart_policy": "sometimes"})),
            "unknown restart_policy \"sometimes\"; use one of no, on-failure, always, unless-stopped"
        );
        assert_eq!(
            message(json!({"image": "x", "env": {"A=B": "c"}})),
            "environment variable name \"A=B\" must be non-empty and contain no `=`"
        );
        assert!(
            message(json!({"image": "x", "labels": {"io.bulkhead.plugin": "compose"}}))
                .contains("reserved for the host")
        );
        assert_eq!(
            message(json!({"image": "x", "ports": [{"container_port": 80, "protocol": "icmp"}]})),
            "unknown port protocol \"icmp\"; use tcp, udp or sctp"
        );
        assert_eq!(
            message(json!({"image": "x", "ports": [{"container_port": 0}]})),
            "ports must be 1-65535"
        );
        assert_eq!(message(json!({"image": " "})), "image must not be empty");
        // Out of u16 range fails in parsing, still as invalid-argument.
        let err =
            spec_for(json!({"image": "x", "ports": [{"container_port": 70000}]})).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument);
        // Host-level knobs do not exist in the schema, so they cannot be smuggled in.
        let err = spec_for(json!({"image": "x", "privileged": true})).unwrap_err();
        assert!(
            err.message.contains("unknown field `privileged`"),
            "{}",
            err.message
        );
    }

    #[test]
    fn output_and_text() {
        let out = output(CreatedContainer {
            id: "0123456789abcdef".into(),
            name: "/web".into(),
            warnings: vec!["low\nmemory".into()],
        });
        let value = serde_json::to_value(&out).unwrap();
        assert_matches_schema(&tool(), &value);
        assert_eq!(
            value,
            json!({"id": "0123456789ab", "name": "web", "warnings": ["low\nmemory"]})
        );
        assert_eq!(
            text(&out, "nginx"),
            "Created container web (0123456789ab) from nginx; it is not running yet (docker_start_container starts it).\nwarning: low memory"
        );
        let picked = output(CreatedContainer {
            id: "fedcba9876543210".into(),
            name: "brave_turing".into(),
            warnings: vec![],
        });
        assert_matches_schema(&tool(), &serde_json::to_value(&picked).unwrap());
        assert!(
            text(&picked, "nginx")
                .starts_with("Created container brave_turing (fedcba987654) from nginx;")
        );
    }

    #[test]
    fn name_conflicts_get_a_specific_hint() {
        let err = error(DockerError::Conflict("name in use".into()));
        assert_eq!(err.code, ErrorCode::Conflict);
        assert!(err.hint.unwrap().contains("pick another name"));
    }
}
