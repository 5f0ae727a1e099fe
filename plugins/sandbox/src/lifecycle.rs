//! `sandbox_create`, `sandbox_list`, `sandbox_info`, `sandbox_destroy`: a sandbox's life.

use std::collections::BTreeMap;

use bulkhead_plugin_sdk::docker::{
    ContainerSpec, MountKind, MountSpec, PortBinding, containers_manage, containers_read,
    containers_remove, images_read, volumes_remove,
};
use bulkhead_plugin_sdk::{Capability, ErrorCode, Reply, ToolError, TypedTool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::sandbox::{self, Found, PYTHON_SITE, WORKSPACE, docker_error, one_line};

/// The user a sandbox runs as when its image names none (or names root).
const FALLBACK_USER: &str = "1000:1000";
/// Idle time after which the host removes a sandbox, unless asked otherwise.
const DEFAULT_TTL_SECS: u32 = 3600;
/// Size of the memory-backed `/tmp`.
const TMP_BYTES: u64 = 64 << 20;
/// The command that keeps a sandbox alive until it is destroyed (init forwards signals).
const IDLE_COMMAND: [&str; 2] = ["sleep", "2147483647"];

/// What to create.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateArgs {
    /// Local image to run, such as `bulkhead-test/python:latest`.
    #[schemars(length(min = 1, max = 512))]
    image: String,
    /// A name of your choice; asking again for a name you already have returns that
    /// sandbox instead of a new one. Default: a random `sbx-…`.
    #[schemars(regex(pattern = r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$"))]
    name: Option<String>,
    /// Extra environment variables as NAME: value.
    #[serde(default)]
    env: BTreeMap<String, String>,
    /// Memory limit in MiB (default: the operator's ceiling, 1024 unless configured).
    #[schemars(range(min = 16, max = 1_048_576))]
    memory_mb: Option<u32>,
    /// CPUs, e.g. 0.5 (default: the operator's ceiling, 1 unless configured).
    #[schemars(range(min = 0.01, max = 1024.0))]
    cpus: Option<f64>,
    /// Most processes (default: the operator's ceiling, 512 unless configured).
    #[schemars(range(min = 8, max = 4_194_304))]
    pids: Option<i64>,
    /// Join the default bridge network. Off by default; the operator must allow it for
    /// this plugin (`[plugins.sandbox.arguments] networks = ["bridge"]`).
    #[serde(default)]
    network: bool,
    /// Container ports to publish on 127.0.0.1 at host ports from the operator's pool;
    /// needs `network: true`.
    #[serde(default)]
    #[schemars(length(max = 8))]
    ports: Vec<u16>,
    /// Seconds without use after which the host removes the sandbox, 5-604800
    /// (default 3600).
    #[schemars(range(min = 5, max = 604_800))]
    idle_ttl_secs: Option<u32>,
}

/// A sandbox as created or found.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Created {
    name: String,
    id: String,
    /// An existing sandbox of yours with this name was returned.
    existing: bool,
    user: String,
    workspace: String,
    /// Host ports (127.0.0.1) publishing `ports`, in the same order.
    host_ports: Vec<PortBinding>,
}

pub struct CreateSandbox;

impl TypedTool for CreateSandbox {
    const NAME: &'static str = "sandbox_create";
    const TITLE: &'static str = "Create a sandbox";
    const DESCRIPTION: &'static str = "Create a hardened, throw-away container to run code \
        in: all capabilities dropped, read-only root filesystem, non-root user, no network \
        unless allowed, a writable /workspace volume and a small /tmp, within the \
        operator's limits (default 1 GiB, 1 CPU, 512 processes). Asking again for a name \
        you have returns that sandbox. It is removed after idle_ttl_secs without use.";
    const CAPABILITIES: &'static [Capability] = &[
        Capability::ContainersRead,
        Capability::ContainersManage,
        Capability::ContainersExec,
        Capability::ImagesRead,
    ];
    type Args = CreateArgs;
    type Output = Created;

    fn run(args: CreateArgs) -> Result<Reply<Created>, ToolError> {
        if let Some(name) = &args.name
            && let Some(found) = sandbox::list(false, Some(name))?.into_iter().next()
        {
            let (workspace, host_ports) = placement(&found.id)?;
            let created = Created {
                name: found.name.clone(),
                id: found.id.clone(),
                existing: true,
                user: found.user.clone().unwrap_or_default(),
                workspace,
                host_ports,
            };
            return Ok(Reply::new(
                format!("Sandbox {} already exists; using it.", found.name),
                created,
            ));
        }
        if !args.ports.is_empty() && !args.network {
            return Err(ToolError::invalid_argument(
                "publishing ports needs `network: true` (a sandbox without a network has no ports)",
            ));
        }
        let name = args
            .name
            .clone()
            .unwrap_or_else(|| format!("sbx-{}", sandbox::random_suffix()));
        let image = images_read::inspect_image(&args.image).map_err(docker_error)?;
        let user = image
            .user
            .filter(|u| !u.is_empty() && !matches!(u.split(':').next(), Some("root" | "0")))
            .unwrap_or_else(|| FALLBACK_USER.to_string());
        // The workspace is a volume made with the container (stamped with the host's
        // ownership labels like it), so a refused create leaves nothing behind.
        let spec = spec(&args, &name, &user)?;
        let created = containers_manage::create_container(&spec).map_err(docker_error)?;
        containers_manage::start_container(&created.id).map_err(docker_error)?;
        let found = Found {
            id: created.id.clone(),
            name: name.clone(),
            user: Some(user.clone()),
            running: true,
        };
        // A new volume's root belongs to root unless the image has /workspace; root may
        // still change its mode without any capability, so the sandbox user can write.
        let opened = sandbox::exec(
            &Found {
                user: Some("0:0".into()),
                ..found.clone()
            },
            vec!["chmod".into(), "0777".into(), WORKSPACE.into()],
            None,
            None,
            10,
            4096,
        )?;
        let note = if opened.exit_code == Some(0) {
            String::new()
        } else {
            " (the image has no chmod: /workspace may not be writable for its user)".into()
        };
        let (workspace, host_ports) = placement(&created.id)?;
        let ports_text = if host_ports.is_empty() {
            String::new()
        } else {
            let shown: Vec<String> = host_ports
                .iter()
                .map(|p| {
                    format!(
                        "{} -> 127.0.0.1:{}",
                        p.container_port,
                        p.host_port.unwrap_or_default()
                    )
                })
                .collect();
            format!(", ports {}", shown.join(", "))
        };
        Ok(Reply::new(
            format!(
                "Created sandbox {name} ({}) from {}, user {user}, network {}{ports_text}{note}.",
                &created.id[..created.id.len().min(12)],
                one_line(&args.image),
                if args.network { "bridge" } else { "none" }
            ),
            Created {
                name,
                id: created.id,
                existing: false,
                user,
                workspace,
                host_ports,
            },
        ))
    }
}

/// The container spec of a new sandbox: every hardening default, then what was asked.
fn spec(args: &CreateArgs, name: &str, user: &str) -> Result<ContainerSpec, ToolError> {
    let mut env = vec![
        format!("HOME={WORKSPACE}"),
        format!("PYTHONPATH={PYTHON_SITE}"),
        "PYTHONDONTWRITEBYTECODE=1".to_string(),
        "PIP_DISABLE_PIP_VERSION_CHECK=1".to_string(),
        format!("NPM_CONFIG_CACHE={WORKSPACE}/.bulkhead/npm-cache"),
    ];
    for (key, value) in &args.env {
        if key.is_empty() || key.contains('=') || key.chars().any(char::is_control) {
            return Err(ToolError::invalid_argument(format!(
                "`{}` is not an environment variable name",
                one_line(key)
            )));
        }
        env.push(format!("{key}={value}"));
    }
    Ok(ContainerSpec {
        image: args.image.clone(),
        name: None,
        cmd: IDLE_COMMAND.iter().map(|s| s.to_string()).collect(),
        env,
        labels: sandbox::labels(name, user),
        working_dir: Some(WORKSPACE.into()),
        user: Some(user.into()),
        network: Some(if args.network { "bridge" } else { "none" }.into()),
        memory_bytes: args.memory_mb.map(|mb| i64::from(mb) << 20),
        nano_cpus: args.cpus.map(|cpus| (cpus * 1e9).round() as i64),
        pids_limit: args.pids,
        read_only_rootfs: true,
        mounts: vec![
            MountSpec {
                kind: MountKind::Volume,
                source: None,
                target: WORKSPACE.into(),
                read_only: false,
                volume_driver: None,
                volume_options: Vec::new(),
                tmpfs_size_bytes: None,
            },
            MountSpec {
                kind: MountKind::Tmpfs,
                source: None,
                target: "/tmp".into(),
                read_only: false,
                volume_driver: None,
                volume_options: Vec::new(),
                tmpfs_size_bytes: Some(TMP_BYTES),
            },
        ],
        drop_all_capabilities: true,
        init: true,
        pooled_ports: args.ports.clone(),
        idle_ttl_secs: Some(args.idle_ttl_secs.unwrap_or(DEFAULT_TTL_SECS)),
        ..ContainerSpec::default()
    })
}

/// A sandbox's workspace volume and the host ports it publishes, from one inspect.
fn placement(id: &str) -> Result<(String, Vec<PortBinding>), ToolError> {
    let details = containers_read::inspect_container(id).map_err(docker_error)?;
    let workspace = sandbox::workspace_in(&details.mounts).unwrap_or_default();
    Ok((workspace, details.ports))
}

/// Which sandboxes to list.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListArgs {
    /// Also those created by earlier or other server sessions of your principal
    /// (default: this session's only).
    #[serde(default)]
    all_sessions: bool,
}

/// One sandbox in a list.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Listed {
    name: String,
    id: String,
    running: bool,
}

/// The caller's sandboxes.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SandboxList {
    sandboxes: Vec<Listed>,
}

pub struct ListSandboxes;

impl TypedTool for ListSandboxes {
    const NAME: &'static str = "sandbox_list";
    const TITLE: &'static str = "List sandboxes";
    const DESCRIPTION: &'static str = "List your sandboxes: this server session's by \
        default, or all your principal's with all_sessions.";
    const CAPABILITIES: &'static [Capability] = &[Capability::ContainersRead];
    const IDEMPOTENT: bool = true;
    type Args = ListArgs;
    type Output = SandboxList;

    fn run(args: ListArgs) -> Result<Reply<SandboxList>, ToolError> {
        let found = sandbox::list(!args.all_sessions, None)?;
        let mut text = format!("{} sandbox(es)", found.len());
        for sandbox in &found {
            text.push_str(&format!(
                "\n- {} ({}) {}",
                sandbox.name,
                &sandbox.id[..sandbox.id.len().min(12)],
                if sandbox.running {
                    "running"
                } else {
                    "stopped"
                }
            ));
        }
        let sandboxes = found
            .into_iter()
            .map(|s| Listed {
                name: s.name,
                id: s.id,
                running: s.running,
            })
            .collect();
        Ok(Reply::new(text, SandboxList { sandboxes }))
    }
}

/// Which sandbox.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SandboxArgs {
    /// The sandbox's name (or container id).
    #[schemars(length(min = 1, max = 128))]
    sandbox: String,
}

/// A sandbox's limits, state and use.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Info {
    name: String,
    id: String,
    image: String,
    status: String,
    running: bool,
    /// Killed for running out of memory at some point.
    oom_killed: bool,
    user: String,
    network: String,
    memory_bytes: Option<i64>,
    nano_cpus: Option<i64>,
    pids_limit: Option<i64>,
    read_only_rootfs: bool,
    capabilities_dropped: bool,
    host_ports: Vec<PortBinding>,
    workspace: String,
    /// Seconds since this server last used it (none if it has not this session).
    idle_secs: Option<u64>,
    /// It is removed after this many idle seconds.
    idle_ttl_secs: Option<u32>,
}

pub struct SandboxInfo;

impl TypedTool for SandboxInfo {
    const NAME: &'static str = "sandbox_info";
    const TITLE: &'static str = "Describe a sandbox";
    const DESCRIPTION: &'static str = "A sandbox's limits (memory, CPUs, processes), state, \
        network, published ports, workspace, idle time and idle TTL.";
    const CAPABILITIES: &'static [Capability] = &[Capability::ContainersRead];
    const IDEMPOTENT: bool = true;
    type Args = SandboxArgs;
    type Output = Info;

    fn run(args: SandboxArgs) -> Result<Reply<Info>, ToolError> {
        let found = sandbox::find(&args.sandbox)?;
        let details = containers_read::inspect_container(&found.id).map_err(docker_error)?;
        let info = Info {
            name: found.name.clone(),
            id: details.id,
            image: details.image,
            status: details.state.status,
            running: details.state.running,
            oom_killed: details.state.oom_killed,
            user: details.user.unwrap_or_default(),
            network: details.network_mode.unwrap_or_default(),
            memory_bytes: details.memory_bytes,
            nano_cpus: details.nano_cpus,
            pids_limit: details.pids_limit,
            read_only_rootfs: details.read_only_rootfs,
            capabilities_dropped: details.capabilities_dropped,
            host_ports: details.ports,
            workspace: sandbox::workspace_in(&details.mounts).unwrap_or_default(),
            idle_secs: details.idle_secs,
            idle_ttl_secs: details.idle_ttl_secs,
        };
        let text = format!(
            "Sandbox {}: {}, user {}, network {}, memory {}, pids {}, idle {} of {} s.",
            info.name,
            info.status,
            info.user,
            info.network,
            info.memory_bytes
                .map_or("unlimited".into(), |m| format!("{} MiB", m >> 20)),
            info.pids_limit
                .map_or("unlimited".into(), |p| p.to_string()),
            info.idle_secs.map_or("?".into(), |s| s.to_string()),
            info.idle_ttl_secs.map_or("-".into(), |s| s.to_string()),
        );
        Ok(Reply::new(text, info))
    }
}

/// What to destroy.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DestroyArgs {
    /// The sandbox's name (or container id). Give this or `all`.
    #[schemars(length(min = 1, max = 128))]
    sandbox: Option<String>,
    /// Every sandbox of this server session (never other sessions').
    #[serde(default)]
    all: bool,
    /// Also remove the workspace volume and its files (default: kept).
    #[serde(default)]
    remove_workspace: bool,
}

/// What was destroyed.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Destroyed {
    sandboxes: Vec<String>,
    workspaces_removed: Vec<String>,
}

pub struct DestroySandbox;

impl TypedTool for DestroySandbox {
    const NAME: &'static str = "sandbox_destroy";
    const TITLE: &'static str = "Destroy sandboxes";
    const DESCRIPTION: &'static str = "Remove one sandbox, or all of this server session's \
        (all: true), stopping what runs in it. The workspace volume is kept unless \
        remove_workspace is true. Reaches only your own sandboxes.";
    const CAPABILITIES: &'static [Capability] = &[
        Capability::ContainersRead,
        Capability::ContainersRemove,
        Capability::VolumesRemove,
    ];
    type Args = DestroyArgs;
    type Output = Destroyed;

    fn run(args: DestroyArgs) -> Result<Reply<Destroyed>, ToolError> {
        let targets = match (&args.sandbox, args.all) {
            (Some(name), false) => vec![sandbox::find(name)?],
            (None, true) => sandbox::list(true, None)?,
            _ => {
                return Err(ToolError::invalid_argument(
                    "give either `sandbox` or `all: true`",
                ));
            }
        };
        let mut destroyed = Destroyed {
            sandboxes: Vec::new(),
            workspaces_removed: Vec::new(),
        };
        for target in targets {
            let workspace = if args.remove_workspace {
                sandbox::workspace_of(&target.id)?
            } else {
                None
            };
            containers_remove::remove_container(&target.id, true, false).map_err(docker_error)?;
            destroyed.sandboxes.push(target.name.clone());
            if args.remove_workspace
                && let Some(workspace) = &workspace
            {
                match volumes_remove::remove_volume(workspace, false) {
                    Ok(()) => destroyed.workspaces_removed.push(workspace.clone()),
                    Err(err) => {
                        let mapped = docker_error(err);
                        if mapped.code != ErrorCode::NotFound {
                            return Err(mapped);
                        }
                    }
                }
            }
        }
        let text = format!(
            "Destroyed {} sandbox(es){}; {} workspace(s) removed.",
            destroyed.sandboxes.len(),
            if destroyed.sandboxes.is_empty() {
                String::new()
            } else {
                format!(": {}", destroyed.sandboxes.join(", "))
            },
            destroyed.workspaces_removed.len()
        );
        Ok(Reply::new(text, destroyed))
    }
}
