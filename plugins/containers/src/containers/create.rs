//! `docker_create_container`: maps the tool's arguments to the host's container spec
//! (only safe knobs exist there; the host applies the operator's policy) and creates,
//! without starting, a container.

use std::collections::BTreeMap;

use bulkhead_plugin_sdk::docker::{
    ContainerSpec, CreatedContainer, DockerError, KeyValue, MountKind, MountSpec, PortBinding,
    containers_manage,
};
use bulkhead_plugin_sdk::{Capability, ErrorCode, Reply, ToolError, TypedTool};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::render;

/// Transport protocol of a published port.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    #[default]
    Tcp,
    Udp,
    Sctp,
}

/// A port to publish on the host.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PortArg {
    /// Port inside the container.
    #[schemars(range(min = 1))]
    container_port: u16,
    /// Host port; omit to let the engine pick a free one.
    #[schemars(range(min = 1))]
    host_port: Option<u16>,
    /// Host address to bind; default 127.0.0.1. Other addresses need the operator's
    /// --allow-public-ports.
    #[schemars(length(min = 1))]
    host_ip: Option<String>,
    /// tcp (default), udp or sctp.
    #[serde(default)]
    protocol: Protocol,
}

/// A bind, volume or tmpfs mount.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MountArg {
    /// bind (a host directory; the operator must allow it with --allow-bind), volume
    /// (named, or anonymous without source) or tmpfs (in memory).
    #[serde(rename = "type")]
    kind: MountKind,
    /// bind: absolute host path. volume: volume name, created if missing (omit for an
    /// anonymous volume). tmpfs: omit.
    #[schemars(length(min = 1, max = 4096))]
    source: Option<String>,
    /// Absolute path inside the container.
    #[schemars(regex(pattern = "^/"), length(max = 4096))]
    target: String,
    /// Mount read-only.
    #[serde(default)]
    read_only: bool,
    /// volume only: driver of a volume this mount creates (default local).
    #[schemars(length(min = 1, max = 128))]
    volume_driver: Option<String>,
    /// volume only: driver options of a volume this mount creates, as key: value.
    #[serde(default)]
    volume_options: BTreeMap<String, String>,
    /// tmpfs only: size limit in bytes.
    #[schemars(range(min = 1))]
    tmpfs_size_bytes: Option<u64>,
}

impl MountArg {
    fn spec(self) -> MountSpec {
        MountSpec {
            kind: self.kind,
            source: self.source,
            target: self.target,
            read_only: self.read_only,
            volume_driver: self.volume_driver,
            volume_options: self
                .volume_options
                .into_iter()
                .map(|(key, value)| KeyValue { key, value })
                .collect(),
            tmpfs_size_bytes: self.tmpfs_size_bytes,
        }
    }
}

/// Restart policy of a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RestartPolicy {
    No,
    OnFailure,
    Always,
    UnlessStopped,
}

impl RestartPolicy {
    fn as_str(self) -> &'static str {
        match self {
            RestartPolicy::No => "no",
            RestartPolicy::OnFailure => "on-failure",
            RestartPolicy::Always => "always",
            RestartPolicy::UnlessStopped => "unless-stopped",
        }
    }
}

/// What to create.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateArgs {
    /// Local image to create from: name[:tag], name@digest or image id.
    #[schemars(length(min = 1, max = 512))]
    pub image: String,
    /// Container name, unique on this engine. Omit to let the engine pick one.
    #[schemars(regex(pattern = r"^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$"), length(max = 128))]
    pub name: Option<String>,
    /// Command and arguments, replacing the image's CMD.
    #[serde(default)]
    pub command: Vec<String>,
    /// Entrypoint replacing the image's ENTRYPOINT; an empty list clears it.
    pub entrypoint: Option<Vec<String>>,
    /// Environment variables as NAME: value.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Labels as key: value. Keys under io.bulkhead. are reserved for the host.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Absolute working directory for the command inside the container.
    #[schemars(regex(pattern = "^/"))]
    pub working_dir: Option<String>,
    /// User to run as: name, uid, or uid:gid.
    #[schemars(length(min = 1))]
    pub user: Option<String>,
    /// Allocate a pseudo-terminal.
    #[serde(default)]
    pub tty: bool,
    /// Ports to publish on the host.
    #[serde(default)]
    pub ports: Vec<PortArg>,
    /// Network to attach: bridge (default), none, or the name of a user-defined network.
    #[schemars(length(min = 1))]
    pub network: Option<String>,
    /// Memory limit in bytes, at least 6291456 (6 MiB).
    #[schemars(range(min = 6_291_456))]
    pub memory_bytes: Option<i64>,
    /// CPU limit in cores, for example 0.5 or 2.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub cpus: Option<f64>,
    /// Maximum number of processes in the container (default 1024).
    #[schemars(range(min = 1))]
    pub pids_limit: Option<i64>,
    /// Mount the container's root filesystem read-only.
    #[serde(default)]
    pub read_only: bool,
    /// Drop every Linux capability (`--cap-drop ALL`): root in the container can then do
    /// no more than any user.
    #[serde(default)]
    pub drop_capabilities: bool,
    /// Run an init process as PID 1 that reaps zombies and forwards signals.
    #[serde(default)]
    pub init: bool,
    /// Restart policy: no, on-failure, always or unless-stopped.
    pub restart_policy: Option<RestartPolicy>,
    /// Bind, volume and tmpfs mounts (at most 32). Binds and volume options that would
    /// bind a host path need the operator's --allow-bind; sensitive paths are refused.
    #[serde(default)]
    #[schemars(length(max = 32))]
    pub mounts: Vec<MountArg>,
}

pub struct CreateContainer;

impl TypedTool for CreateContainer {
    const NAME: &'static str = "docker_create_container";
    const TITLE: &'static str = "Create a container";
    const DESCRIPTION: &'static str = "Create (but do not start) a container from a local \
        image, like `docker create`. The image must already exist locally; nothing is \
        pulled. Published ports bind 127.0.0.1 unless host_ip says otherwise. Privileged \
        mode, capabilities, devices and host namespaces cannot be requested; binds, public \
        ports and resource limits follow the operator's policy. Start it with \
        docker_start_container.";
    const CAPABILITIES: &'static [Capability] = &[Capability::ContainersManage];
    type Args = CreateArgs;
    type Output = CreatedContainer;

    fn run(args: CreateArgs) -> Result<Reply<CreatedContainer>, ToolError> {
        let spec = spec(args)?;
        let created = containers_manage::create_container(&spec).map_err(error)?;
        Ok(Reply::new(text(&created, &spec.image), created))
    }
}

/// The container spec for `args`.
pub(crate) fn spec(args: CreateArgs) -> Result<ContainerSpec, ToolError> {
    let nano_cpus = args.cpus.map(nano_cpus).transpose()?;
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
        ports: args
            .ports
            .into_iter()
            .map(|port| PortBinding {
                container_port: port.container_port,
                protocol: match port.protocol {
                    Protocol::Tcp => "tcp",
                    Protocol::Udp => "udp",
                    Protocol::Sctp => "sctp",
                }
                .to_owned(),
                host_ip: port.host_ip,
                host_port: port.host_port,
            })
            .collect(),
        network: args.network,
        memory_bytes: args.memory_bytes,
        nano_cpus,
        pids_limit: args.pids_limit,
        read_only_rootfs: args.read_only,
        restart_policy: args.restart_policy.map(|p| p.as_str().to_owned()),
        mounts: args.mounts.into_iter().map(MountArg::spec).collect(),
        drop_all_capabilities: args.drop_capabilities,
        init: args.init,
        pooled_ports: Vec::new(),
        idle_ttl_secs: None,
        ..Default::default()
    })
}

/// `cpus` cores as billionths of a CPU, the engine's unit.
fn nano_cpus(cpus: f64) -> Result<i64, ToolError> {
    let nanos = (cpus * 1e9).round();
    // NaN fails the range test; the upper bound keeps the cast exact (no machine has a
    // billion cores).
    if !(1.0..=1e18).contains(&nanos) {
        return Err(ToolError::invalid_argument(format!(
            "cpus must be a positive number of cores, got {cpus}"
        )));
    }
    Ok(nanos as i64)
}

pub(crate) fn text(created: &CreatedContainer, image: &str) -> String {
    let mut text = format!(
        "Created container {} ({}) from {}; it is not running yet (docker_start_container starts it).",
        render::one_line(&created.name),
        render::short_id(&created.id),
        render::one_line(image)
    );
    for warning in &created.warnings {
        text.push_str(&format!("\nwarning: {}", render::one_line(warning)));
    }
    text
}

/// A `conflict` on create is almost always the name.
pub(crate) fn error(err: DockerError) -> ToolError {
    let mut mapped = crate::docker_error(err);
    if mapped.code == ErrorCode::Conflict {
        mapped.hint = Some(
            "a container with this name probably exists: pick another name, or inspect or remove the existing one"
                .to_owned(),
        );
    }
    mapped
}

#[cfg(test)]
mod tests {
    use bulkhead_plugin_sdk::{json, parse_args};

    use super::*;

    #[test]
    fn every_argument_reaches_the_spec() {
        let args: CreateArgs = parse_args(json!({
            "image": "nginx:1.27", "name": "web", "command": ["nginx"], "entrypoint": [],
            "env": {"B": "2", "A": "x=y"}, "labels": {"tier": "front"}, "working_dir": "/srv",
            "user": "1000:1000", "tty": true,
            "ports": [{"container_port": 80, "host_port": 8080}, {"container_port": 53, "protocol": "udp", "host_ip": "0.0.0.0"}],
            "network": "none", "memory_bytes": 6291456, "cpus": 1.5, "pids_limit": 64,
            "read_only": true, "restart_policy": "unless-stopped"
        }))
        .unwrap();
        let spec = spec(args).unwrap();
        assert_eq!(spec.env, ["A=x=y", "B=2"]);
        assert_eq!(spec.nano_cpus, Some(1_500_000_000));
        assert_eq!(spec.ports[1].protocol, "udp");
        assert_eq!(spec.ports[0].host_ip, None);
        assert_eq!(spec.restart_policy.as_deref(), Some("unless-stopped"));
        assert!(spec.read_only_rootfs && spec.tty);
    }

    #[test]
    fn cpus_become_nano_cpus() {
        assert_eq!(nano_cpus(0.5).unwrap(), 500_000_000);
        for bad in [0.0, -1.0, 1e-12, f64::NAN, f64::INFINITY, 1e12] {
            assert_eq!(
                nano_cpus(bad).unwrap_err().code,
                ErrorCode::InvalidArgument,
                "{bad}"
            );
        }
    }

    #[test]
    fn host_level_knobs_cannot_be_smuggled_in() {
        let err = parse_args::<CreateArgs>(json!({"image": "x", "privileged": true})).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument);
    }
}
