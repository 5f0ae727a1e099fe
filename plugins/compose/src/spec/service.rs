//! One service of the file, every supported key read and checked, everything else
//! refused by path: unknown keys as errors, the host's forbidden settings as denials.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use serde_json::{Map, Value};

use super::walk::{self, Result, check_keys, child, denied, invalid, object, text};
use super::{
    Build, DependsCondition, Healthcheck, Mount, MountKind, Port, Service, ServiceNetwork,
    SpecError, SpecErrorKind, dotenv, units,
};

const KNOWN: &[&str] = &[
    "image",
    "build",
    "command",
    "entrypoint",
    "environment",
    "env_file",
    "ports",
    "volumes",
    "tmpfs",
    "networks",
    "network_mode",
    "depends_on",
    "healthcheck",
    "restart",
    "labels",
    "user",
    "working_dir",
    "deploy",
    "scale",
    "profiles",
    "container_name",
    "init",
    "read_only",
    "tty",
    "stop_grace_period",
    "mem_limit",
    "cpus",
    "pids_limit",
    "privileged",
    "cap_add",
    "cap_drop",
    "devices",
    "security_opt",
    "pid",
    "ipc",
    "userns_mode",
    "cgroup_parent",
];
const UNSUPPORTED: &[&str] = &[
    "secrets",
    "configs",
    "hostname",
    "domainname",
    "expose",
    "extends",
    "links",
    "external_links",
    "extra_hosts",
    "dns",
    "dns_search",
    "dns_opt",
    "logging",
    "sysctls",
    "ulimits",
    "stdin_open",
    "stop_signal",
    "shm_size",
    "platform",
    "pull_policy",
    "runtime",
    "volumes_from",
    "mac_address",
    "group_add",
    "oom_score_adj",
    "oom_kill_disable",
    "mem_reservation",
    "mem_swappiness",
    "memswap_limit",
    "cpu_shares",
    "cpu_quota",
    "cpu_period",
    "cpuset",
    "blkio_config",
    "storage_opt",
    "isolation",
    "attach",
    "annotations",
    "develop",
    "post_start",
    "pre_stop",
    "gpus",
    "uts",
    "cgroup",
    "credential_spec",
    "device_cgroup_rules",
    "label_file",
    "mem_swappiness",
    "use_api_socket",
    "provider",
    "models",
];
/// Most replicas of one service.
const MAX_REPLICAS: u64 = 32;
/// Most environment entries of one service.
const MAX_ENV: usize = 1000;
/// Most ports one range may expand to.
const MAX_RANGE: u32 = 100;

/// What a service is read against.
pub struct Context<'a> {
    pub project_dir: Option<&'a Path>,
    pub vars: &'a BTreeMap<String, String>,
}

/// Reads service `name`; also returns its profiles.
pub fn parse(
    name: &str,
    value: &Value,
    path: &str,
    ctx: &Context<'_>,
) -> Result<(Service, Vec<String>)> {
    let valid_name = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if !valid_name {
        return Err(invalid(
            path,
            "service names are letters, digits, `_`, `.`, `-`, starting with a letter or digit",
        ));
    }
    let map = object(value, path)?;
    check_keys(map, path, KNOWN, UNSUPPORTED)?;
    refuse_privileges(map, path)?;
    let at = |key: &str| child(path, key);

    let image = walk::opt_text(map, "image", path)?;
    let build = map
        .get("build")
        .filter(|v| !v.is_null())
        .map(|b| build(b, &at("build"), ctx))
        .transpose()?;
    if image.is_none() && build.is_none() {
        return Err(invalid(path, "a service needs `image` or `build`"));
    }
    let (network_none, networks) = networks(map, path)?;
    let mut environment = BTreeMap::new();
    if let Some(files) = map.get("env_file").filter(|v| !v.is_null()) {
        for (file, required, file_path) in env_files(files, &at("env_file"))? {
            let resolved = resolve(&file, ctx, &file_path)?;
            if let Some(vars) = dotenv::read(&resolved, required, &file_path)? {
                environment.extend(vars);
            }
        }
    }
    if let Some(env) = map.get("environment") {
        for (key, value) in walk::pairs(env, &at("environment"))? {
            match value.or_else(|| ctx.vars.get(&key).cloned()) {
                Some(value) => environment.insert(key, value),
                None => environment.remove(&key),
            };
        }
    }
    if environment.len() > MAX_ENV {
        return Err(SpecError::new(
            SpecErrorKind::TooLarge,
            &at("environment"),
            format!("more than {MAX_ENV} variables"),
        ));
    }
    let Sizing {
        memory,
        cpus,
        pids,
        replicas,
    } = deploy(map, path)?;
    let container_name = walk::opt_text(map, "container_name", path)?;
    if container_name.is_some() && replicas > 1 {
        return Err(invalid(
            &at("container_name"),
            "a service with a `container_name` cannot have more than one replica",
        ));
    }
    let restart = walk::opt_text(map, "restart", path)?;
    if let Some(policy) = &restart {
        let valid = matches!(
            policy.as_str(),
            "no" | "always" | "unless-stopped" | "on-failure"
        ) || policy
            .strip_prefix("on-failure:")
            .is_some_and(|n| n.parse::<u32>().is_ok());
        if !valid {
            return Err(invalid(
                &at("restart"),
                format!(
                    "`{policy}` is not a restart policy (no, always, unless-stopped, on-failure[:N])"
                ),
            ));
        }
    }
    let stop_grace_period_secs = match walk::opt_text(map, "stop_grace_period", path)? {
        None => None,
        Some(text) => Some(
            units::duration_ns(&text)
                .map(|ns| {
                    u32::try_from((ns.max(0) as u64).div_ceil(1_000_000_000))
                        .unwrap_or(u32::MAX)
                        .min(120)
                })
                .ok_or_else(|| {
                    invalid(
                        &at("stop_grace_period"),
                        format!("`{text}` is not a duration such as 10s"),
                    )
                })?,
        ),
    };
    let mut mounts = Vec::new();
    if let Some(volumes) = map.get("volumes").filter(|v| !v.is_null()) {
        let items = volumes
            .as_array()
            .ok_or_else(|| invalid(&at("volumes"), "expected a list"))?;
        for (index, item) in items.iter().enumerate() {
            mounts.push(mount(item, &format!("{}[{index}]", at("volumes")), ctx)?);
        }
    }
    if let Some(tmpfs) = map.get("tmpfs").filter(|v| !v.is_null()) {
        for (index, entry) in walk::strings(tmpfs, &at("tmpfs"))?.into_iter().enumerate() {
            mounts.push(tmpfs_mount(&entry, &format!("{}[{index}]", at("tmpfs")))?);
        }
    }
    let mut targets = BTreeSet::new();
    for (index, mount) in mounts.iter().enumerate() {
        if !targets.insert(mount.target.clone()) {
            return Err(invalid(
                &format!("{}[{index}]", at("volumes")),
                format!("`{}` is mounted twice", mount.target),
            ));
        }
    }
    let service = Service {
        name: name.to_string(),
        image,
        build,
        command: command(map.get("command"), &at("command"))?,
        entrypoint: command(map.get("entrypoint"), &at("entrypoint"))?,
        environment,
        ports: ports(map.get("ports"), &at("ports"))?,
        mounts,
        networks,
        network_none,
        depends_on: depends_on(map.get("depends_on"), &at("depends_on"))?,
        healthcheck: map
            .get("healthcheck")
            .filter(|v| !v.is_null())
            .map(|h| healthcheck(h, &at("healthcheck")))
            .transpose()?,
        restart,
        labels: super::labels(map.get("labels"), &at("labels"))?,
        user: walk::opt_text(map, "user", path)?,
        working_dir: walk::opt_text(map, "working_dir", path)?,
        memory_bytes: memory,
        nano_cpus: cpus,
        pids_limit: pids,
        replicas,
        container_name,
        init: walk::opt_bool(map, "init", path)?,
        read_only: walk::opt_bool(map, "read_only", path)?,
        tty: walk::opt_bool(map, "tty", path)?,
        stop_grace_period_secs,
    };
    let profiles = match map.get("profiles") {
        None | Some(Value::Null) => Vec::new(),
        Some(value) => walk::strings(value, &at("profiles"))?,
    };
    Ok((service, profiles))
}

/// Settings the host refuses for every container: named here with the reason, rather
/// than as unknown keys.
fn refuse_privileges(map: &Map<String, Value>, path: &str) -> Result<()> {
    let at = |key: &str| child(path, key);
    if map
        .get("privileged")
        .is_some_and(|v| v.as_bool() == Some(true) || v.as_str() == Some("true"))
    {
        return Err(denied(
            &at("privileged"),
            "privileged containers are refused by the host's policy",
        ));
    }
    for key in ["cap_add", "devices", "security_opt"] {
        if let Some(value) = map.get(key)
            && !value.is_null()
            && value.as_array().is_none_or(|items| !items.is_empty())
        {
            return Err(denied(
                &at(key),
                format!(
                    "`{key}` is refused by the host's policy: capabilities, devices and security options cannot be added"
                ),
            ));
        }
    }
    for key in ["pid", "ipc", "userns_mode", "cgroup_parent"] {
        if let Some(value) = map.get(key).filter(|v| !v.is_null()) {
            let shown = text(value, &at(key))?;
            return Err(denied(
                &at(key),
                format!(
                    "`{key}: {shown}` is refused by the host's policy: no host or shared namespaces"
                ),
            ));
        }
    }
    if let Some(drop) = map.get("cap_drop").filter(|v| !v.is_null()) {
        let all = walk::strings(drop, &at("cap_drop"))?;
        if all != ["ALL"] {
            return Err(invalid(
                &at("cap_drop"),
                "only `cap_drop: [ALL]` is supported",
            ));
        }
    }
    if let Some(mode) = walk::opt_text(map, "network_mode", path)? {
        match mode.as_str() {
            "none" => {}
            "host" => {
                return Err(denied(
                    &at("network_mode"),
                    "`network_mode: host` is refused by the host's policy",
                ));
            }
            m if m.starts_with("container:") || m.starts_with("service:") => {
                return Err(denied(
                    &at("network_mode"),
                    format!(
                        "`network_mode: {m}` shares another container's namespace and is refused"
                    ),
                ));
            }
            other => {
                return Err(invalid(
                    &at("network_mode"),
                    format!("`network_mode: {other}` is not supported; use `networks`"),
                ));
            }
        }
    }
    Ok(())
}

fn build(value: &Value, path: &str, ctx: &Context<'_>) -> Result<Build> {
    let (context, dockerfile, args, target) = match value {
        Value::String(context) => (context.clone(), None, BTreeMap::new(), None),
        other => {
            let map = object(other, path)?;
            check_keys(
                map,
                path,
                &["context", "dockerfile", "args", "target"],
                &[
                    "dockerfile_inline",
                    "ssh",
                    "cache_from",
                    "cache_to",
                    "extra_hosts",
                    "labels",
                    "network",
                    "shm_size",
                    "secrets",
                    "tags",
                    "platforms",
                    "no_cache",
                    "pull",
                    "additional_contexts",
                    "isolation",
                    "privileged",
                    "entitlements",
                    "ulimits",
                ],
            )?;
            let args = match map.get("args") {
                None | Some(Value::Null) => BTreeMap::new(),
                Some(args) => walk::pairs(args, &child(path, "args"))?
                    .into_iter()
                    .filter_map(|(k, v)| v.map(|v| (k, v)))
                    .collect(),
            };
            (
                walk::opt_text(map, "context", path)?.unwrap_or_else(|| ".".into()),
                walk::opt_text(map, "dockerfile", path)?,
                args,
                walk::opt_text(map, "target", path)?,
            )
        }
    };
    if context.contains("://") || context.starts_with("git@") {
        return Err(invalid(
            path,
            "remote build contexts are not supported; use a directory",
        ));
    }
    Ok(Build {
        context: resolve(&context, ctx, path)?,
        dockerfile,
        args,
        target,
    })
}

/// A host path from the file: absolute as is, relative against the project directory,
/// then normalised lexically.
fn resolve(text: &str, ctx: &Context<'_>, path: &str) -> Result<PathBuf> {
    if text.starts_with('~') {
        return Err(invalid(
            path,
            "`~` is not known here; use an absolute or relative path",
        ));
    }
    let raw = Path::new(text);
    let joined = if raw.is_absolute() {
        raw.to_path_buf()
    } else {
        match ctx.project_dir {
            Some(dir) => dir.join(raw),
            None => {
                return Err(invalid(
                    path,
                    format!(
                        "relative path `{text}` needs a project directory: pass `file`, or `project_dir` with `yaml`"
                    ),
                ));
            }
        }
    };
    let mut normal = PathBuf::from("/");
    for component in joined.components() {
        match component {
            Component::ParentDir => {
                normal.pop();
            }
            Component::Normal(part) => normal.push(part),
            _ => {}
        }
    }
    Ok(normal)
}

fn env_files(value: &Value, path: &str) -> Result<Vec<(String, bool, String)>> {
    let items: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    let mut out = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        let at = format!("{path}[{index}]");
        match item {
            Value::Object(map) => {
                check_keys(map, &at, &["path", "required", "format"], &[])?;
                let file = walk::opt_text(map, "path", &at)?
                    .ok_or_else(|| invalid(&at, "`path` is required"))?;
                let required = match map.get("required") {
                    None => true,
                    Some(v) => walk::boolean(v, &child(&at, "required"))?,
                };
                out.push((file, required, at));
            }
            other => out.push((text(other, &at)?, true, at)),
        }
    }
    Ok(out)
}

fn command(value: Option<&Value>, path: &str) -> Result<Option<Vec<String>>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(line)) => units::shell_words(line)
            .map(Some)
            .ok_or_else(|| invalid(path, "unterminated quote")),
        Some(other @ Value::Array(_)) => walk::strings(other, path).map(Some),
        Some(other) => Err(invalid(
            path,
            format!("expected a string or a list, found {}", walk::kind(other)),
        )),
    }
}

fn networks(
    map: &Map<String, Value>,
    path: &str,
) -> Result<(bool, BTreeMap<String, ServiceNetwork>)> {
    let none = walk::opt_text(map, "network_mode", path)?.as_deref() == Some("none");
    let at = child(path, "networks");
    let mut out = BTreeMap::new();
    match map.get("networks") {
        None | Some(Value::Null) => {}
        Some(_) if none => {
            return Err(invalid(
                &at,
                "`networks` and `network_mode: none` exclude each other",
            ));
        }
        Some(Value::Array(items)) => {
            for (index, item) in items.iter().enumerate() {
                out.insert(
                    text(item, &format!("{at}[{index}]"))?,
                    ServiceNetwork::default(),
                );
            }
        }
        Some(Value::Object(entries)) => {
            for (key, entry) in entries {
                let entry_path = child(&at, key);
                let network = match entry {
                    Value::Null => ServiceNetwork::default(),
                    other => {
                        let entry = object(other, &entry_path)?;
                        check_keys(
                            entry,
                            &entry_path,
                            &["aliases", "ipv4_address"],
                            &[
                                "ipv6_address",
                                "link_local_ips",
                                "mac_address",
                                "priority",
                                "driver_opts",
                                "gw_priority",
                                "interface_name",
                            ],
                        )?;
                        ServiceNetwork {
                            aliases: match entry.get("aliases") {
                                None | Some(Value::Null) => Vec::new(),
                                Some(v) => walk::strings(v, &child(&entry_path, "aliases"))?,
                            },
                            ipv4_address: walk::opt_text(entry, "ipv4_address", &entry_path)?,
                        }
                    }
                };
                out.insert(key.clone(), network);
            }
        }
        Some(other) => {
            return Err(invalid(
                &at,
                format!("expected a list or a mapping, found {}", walk::kind(other)),
            ));
        }
    }
    if !none && out.is_empty() {
        out.insert("default".into(), ServiceNetwork::default());
    }
    Ok((none, out))
}

/// A service's limits and replicas, from `deploy` and the short keys.
struct Sizing {
    memory: Option<i64>,
    cpus: Option<i64>,
    pids: Option<i64>,
    replicas: u32,
}

/// Memory, CPUs, pids and replicas from `deploy` and the short keys.
fn deploy(map: &Map<String, Value>, path: &str) -> Result<Sizing> {
    let mut memory = walk::opt_text(map, "mem_limit", path)?
        .map(|m| size(&m, &child(path, "mem_limit")))
        .transpose()?;
    let mut cpus = walk::opt_text(map, "cpus", path)?
        .map(|c| nano_cpus(&c, &child(path, "cpus")))
        .transpose()?;
    let mut pids = match map.get("pids_limit") {
        None | Some(Value::Null) => None,
        Some(v) => Some(walk::unsigned(v, &child(path, "pids_limit"))? as i64),
    };
    let mut replicas = match map.get("scale") {
        None | Some(Value::Null) => None,
        Some(v) => Some(walk::unsigned(v, &child(path, "scale"))?),
    };
    if let Some(deploy) = map.get("deploy").filter(|v| !v.is_null()) {
        let at = child(path, "deploy");
        let deploy = object(deploy, &at)?;
        check_keys(
            deploy,
            &at,
            &["replicas", "resources", "mode"],
            &[
                "restart_policy",
                "placement",
                "update_config",
                "rollback_config",
                "endpoint_mode",
                "labels",
            ],
        )?;
        if let Some(mode) = walk::opt_text(deploy, "mode", &at)?
            && mode != "replicated"
        {
            return Err(invalid(
                &child(&at, "mode"),
                "only `replicated` is supported",
            ));
        }
        if let Some(v) = deploy.get("replicas").filter(|v| !v.is_null()) {
            replicas = Some(walk::unsigned(v, &child(&at, "replicas"))?);
        }
        if let Some(resources) = deploy.get("resources").filter(|v| !v.is_null()) {
            let rat = child(&at, "resources");
            let resources = object(resources, &rat)?;
            check_keys(resources, &rat, &["limits"], &["reservations"])?;
            if let Some(limits) = resources.get("limits").filter(|v| !v.is_null()) {
                let lat = child(&rat, "limits");
                let limits = object(limits, &lat)?;
                check_keys(limits, &lat, &["cpus", "memory", "pids"], &["devices"])?;
                if let Some(m) = walk::opt_text(limits, "memory", &lat)? {
                    memory = Some(size(&m, &child(&lat, "memory"))?);
                }
                if let Some(c) = walk::opt_text(limits, "cpus", &lat)? {
                    cpus = Some(nano_cpus(&c, &child(&lat, "cpus"))?);
                }
                if let Some(p) = limits.get("pids").filter(|v| !v.is_null()) {
                    pids = Some(walk::unsigned(p, &child(&lat, "pids"))? as i64);
                }
            }
        }
    }
    let replicas = replicas.unwrap_or(1);
    if replicas > MAX_REPLICAS {
        return Err(invalid(
            &child(path, "deploy.replicas"),
            format!("at most {MAX_REPLICAS} replicas"),
        ));
    }
    Ok(Sizing {
        memory,
        cpus,
        pids,
        replicas: replicas as u32,
    })
}

fn size(text: &str, path: &str) -> Result<i64> {
    units::bytes(text)
        .and_then(|b| i64::try_from(b).ok())
        .ok_or_else(|| invalid(path, format!("`{text}` is not a size such as 512m or 1g")))
}

fn nano_cpus(text: &str, path: &str) -> Result<i64> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|c| *c > 0.0 && *c <= 1024.0)
        .map(|c| (c * 1e9).round() as i64)
        .ok_or_else(|| invalid(path, format!("`{text}` is not a CPU count such as 0.5")))
}

fn ports(value: Option<&Value>, path: &str) -> Result<Vec<Port>> {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    let items = value
        .as_array()
        .ok_or_else(|| invalid(path, "expected a list"))?;
    let mut out = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let at = format!("{path}[{index}]");
        match item {
            Value::Object(map) => {
                check_keys(
                    map,
                    &at,
                    &[
                        "target",
                        "published",
                        "host_ip",
                        "protocol",
                        "mode",
                        "name",
                        "app_protocol",
                    ],
                    &[],
                )?;
                let target = port_number(
                    map.get("target")
                        .ok_or_else(|| invalid(&at, "`target` is required"))?,
                    &child(&at, "target"),
                )?;
                let published = match map.get("published") {
                    None | Some(Value::Null) => None,
                    Some(p) => Some(port_number(p, &child(&at, "published"))?),
                };
                if let Some(mode) = walk::opt_text(map, "mode", &at)?
                    && !matches!(mode.as_str(), "ingress" | "host")
                {
                    return Err(invalid(&child(&at, "mode"), "`mode` is ingress or host"));
                }
                out.push(Port {
                    target,
                    published,
                    host_ip: walk::opt_text(map, "host_ip", &at)?,
                    protocol: protocol(walk::opt_text(map, "protocol", &at)?.as_deref(), &at)?,
                });
            }
            other => out.extend(short_port(&text(other, &at)?, &at)?),
        }
    }
    Ok(out)
}

fn port_number(value: &Value, path: &str) -> Result<u16> {
    let n = walk::unsigned(value, path)?;
    u16::try_from(n)
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| invalid(path, "ports are 1-65535"))
}

fn protocol(text: Option<&str>, path: &str) -> Result<String> {
    match text.unwrap_or("tcp") {
        p @ ("tcp" | "udp" | "sctp") => Ok(p.to_string()),
        other => Err(invalid(
            path,
            format!("unknown protocol `{other}` (tcp, udp, sctp)"),
        )),
    }
}

/// `[HOST_IP:][PUBLISHED:]TARGET[/PROTOCOL]`, with ranges.
fn short_port(entry: &str, path: &str) -> Result<Vec<Port>> {
    let (spec, proto) = match entry.rsplit_once('/') {
        Some((spec, proto)) => (spec, protocol(Some(proto), path)?),
        None => (entry, "tcp".to_string()),
    };
    let (host_ip, rest) = if let Some(stripped) = spec.strip_prefix('[') {
        let (ip, rest) = stripped
            .split_once("]:")
            .ok_or_else(|| invalid(path, "unterminated `[` in an IPv6 address"))?;
        (Some(ip.to_string()), rest)
    } else {
        let parts: Vec<&str> = spec.split(':').collect();
        match parts.len() {
            1 | 2 => (None, spec),
            3 => (Some(parts[0].to_string()), &spec[parts[0].len() + 1..]),
            _ => return Err(invalid(path, format!("`{entry}` is not a port mapping"))),
        }
    };
    let (published, target) = match rest.split_once(':') {
        Some((published, target)) => (Some(published), target),
        None => (None, rest),
    };
    let range = |text: &str| -> Result<(u16, u16)> {
        let parse = |t: &str| t.trim().parse::<u16>().ok().filter(|p| *p > 0);
        let bad = || {
            invalid(
                path,
                format!("`{entry}` is not a port mapping (ports are 1-65535)"),
            )
        };
        match text.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (parse(a).ok_or_else(bad)?, parse(b).ok_or_else(bad)?);
                if b < a || u32::from(b - a) >= MAX_RANGE {
                    return Err(invalid(
                        path,
                        format!("`{entry}`: a range is ascending and at most {MAX_RANGE} ports"),
                    ));
                }
                Ok((a, b))
            }
            None => parse(text).map(|p| (p, p)).ok_or_else(bad),
        }
    };
    let (t0, t1) = range(target)?;
    let published = match published.filter(|p| !p.is_empty()) {
        None => None,
        Some(p) => Some(range(p)?),
    };
    if let Some((p0, p1)) = published
        && p1 - p0 != t1 - t0
    {
        return Err(invalid(
            path,
            format!("`{entry}`: the published and target ranges differ in length"),
        ));
    }
    Ok((0..=(t1 - t0))
        .map(|offset| Port {
            target: t0 + offset,
            published: published.map(|(p0, _)| p0 + offset),
            host_ip: host_ip.clone().filter(|ip| !ip.is_empty()),
            protocol: proto.clone(),
        })
        .collect())
}

fn mount(value: &Value, path: &str, ctx: &Context<'_>) -> Result<Mount> {
    match value {
        Value::Object(map) => {
            check_keys(
                map,
                path,
                &[
                    "type",
                    "source",
                    "target",
                    "read_only",
                    "volume",
                    "bind",
                    "tmpfs",
                    "consistency",
                ],
                &["image", "npipe", "cluster"],
            )?;
            let kind = match walk::opt_text(map, "type", path)?.as_deref() {
                Some("volume") => MountKind::Volume,
                Some("bind") => MountKind::Bind,
                Some("tmpfs") => MountKind::Tmpfs,
                Some(other) => {
                    return Err(invalid(
                        &child(path, "type"),
                        format!("mount type `{other}` is not supported"),
                    ));
                }
                None => return Err(invalid(path, "`type` is required (volume, bind or tmpfs)")),
            };
            let target = walk::opt_text(map, "target", path)?
                .ok_or_else(|| invalid(path, "`target` is required"))?;
            let source = walk::opt_text(map, "source", path)?;
            if let Some(bind) = map.get("bind").and_then(Value::as_object) {
                check_keys(
                    bind,
                    &child(path, "bind"),
                    &["create_host_path"],
                    &["propagation", "selinux", "recursive"],
                )?;
            }
            if let Some(volume) = map.get("volume").and_then(Value::as_object) {
                check_keys(volume, &child(path, "volume"), &["nocopy"], &["subpath"])?;
            }
            let tmpfs_size_bytes = match map.get("tmpfs").and_then(Value::as_object) {
                Some(tmpfs) => {
                    let at = child(path, "tmpfs");
                    check_keys(tmpfs, &at, &["size"], &["mode"])?;
                    walk::opt_text(tmpfs, "size", &at)?
                        .map(|s| {
                            units::bytes(&s).ok_or_else(|| {
                                invalid(&child(&at, "size"), format!("`{s}` is not a size"))
                            })
                        })
                        .transpose()?
                }
                None => None,
            };
            finish_mount(
                kind,
                source,
                target,
                walk::opt_bool(map, "read_only", path)?,
                tmpfs_size_bytes,
                path,
                ctx,
            )
        }
        other => {
            let entry = text(other, path)?;
            let parts: Vec<&str> = entry.split(':').collect();
            let (source, target, mode) = match parts.as_slice() {
                [target] => (None, *target, None),
                [source, target] => (Some(*source), *target, None),
                [source, target, mode] => (Some(*source), *target, Some(*mode)),
                _ => {
                    return Err(invalid(
                        path,
                        format!("`{entry}` is not SOURCE:TARGET[:MODE]"),
                    ));
                }
            };
            let mut read_only = false;
            for option in mode
                .unwrap_or_default()
                .split(',')
                .filter(|o| !o.is_empty())
            {
                match option {
                    "ro" => read_only = true,
                    "rw" | "z" | "Z" | "consistent" | "cached" | "delegated" | "nocopy" => {}
                    other => return Err(invalid(path, format!("unknown mount option `{other}`"))),
                }
            }
            let kind = match source {
                Some(s) if s.starts_with('.') || s.starts_with('/') || s.starts_with('~') => {
                    MountKind::Bind
                }
                _ => MountKind::Volume,
            };
            finish_mount(
                kind,
                source.map(str::to_string),
                target.to_string(),
                read_only,
                None,
                path,
                ctx,
            )
        }
    }
}

fn finish_mount(
    kind: MountKind,
    source: Option<String>,
    target: String,
    read_only: bool,
    tmpfs_size_bytes: Option<u64>,
    path: &str,
    ctx: &Context<'_>,
) -> Result<Mount> {
    if !target.starts_with('/') {
        return Err(invalid(
            path,
            format!("mount target `{target}` must be an absolute path"),
        ));
    }
    let source = match kind {
        MountKind::Bind => {
            let source = source.ok_or_else(|| invalid(path, "a bind needs a `source`"))?;
            Some(resolve(&source, ctx, path)?.display().to_string())
        }
        MountKind::Volume => source.filter(|s| !s.is_empty()),
        MountKind::Tmpfs => None,
    };
    Ok(Mount {
        kind,
        source,
        target,
        read_only,
        tmpfs_size_bytes,
    })
}

fn tmpfs_mount(entry: &str, path: &str) -> Result<Mount> {
    let (target, options) = entry.split_once(':').unwrap_or((entry, ""));
    let mut size = None;
    for option in options.split(',').filter(|o| !o.is_empty()) {
        match option.split_once('=') {
            Some(("size", value)) => {
                size = Some(
                    units::bytes(value)
                        .ok_or_else(|| invalid(path, format!("`{value}` is not a size")))?,
                );
            }
            Some(("mode" | "uid" | "gid", _)) => {}
            None if matches!(option, "rw" | "noexec" | "nosuid" | "nodev" | "exec") => {}
            _ => {
                return Err(invalid(
                    path,
                    format!("tmpfs option `{option}` is not supported (size=…)"),
                ));
            }
        }
    }
    if !target.starts_with('/') {
        return Err(invalid(path, "a tmpfs target must be an absolute path"));
    }
    Ok(Mount {
        kind: MountKind::Tmpfs,
        source: None,
        target: target.to_string(),
        read_only: false,
        tmpfs_size_bytes: size,
    })
}

fn depends_on(value: Option<&Value>, path: &str) -> Result<BTreeMap<String, DependsCondition>> {
    let mut out = BTreeMap::new();
    match value {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for (index, item) in items.iter().enumerate() {
                out.insert(
                    text(item, &format!("{path}[{index}]"))?,
                    DependsCondition::ServiceStarted,
                );
            }
        }
        Some(Value::Object(map)) => {
            for (name, entry) in map {
                let at = child(path, name);
                let entry = match entry {
                    Value::Null => {
                        out.insert(name.clone(), DependsCondition::ServiceStarted);
                        continue;
                    }
                    other => object(other, &at)?,
                };
                check_keys(entry, &at, &["condition", "restart", "required"], &[])?;
                let condition = match walk::opt_text(entry, "condition", &at)?.as_deref() {
                    None | Some("service_started") => DependsCondition::ServiceStarted,
                    Some("service_healthy") => DependsCondition::ServiceHealthy,
                    Some("service_completed_successfully") => {
                        DependsCondition::ServiceCompletedSuccessfully
                    }
                    Some(other) => {
                        return Err(invalid(
                            &child(&at, "condition"),
                            format!("unknown condition `{other}`"),
                        ));
                    }
                };
                out.insert(name.clone(), condition);
            }
        }
        Some(other) => {
            return Err(invalid(
                path,
                format!("expected a list or a mapping, found {}", walk::kind(other)),
            ));
        }
    }
    Ok(out)
}

/// Dependencies marked `required: false`, which may be absent.
pub fn optional_dependencies(service: &Value) -> BTreeSet<String> {
    service
        .get("depends_on")
        .and_then(Value::as_object)
        .map(|map| {
            map.iter()
                .filter(|(_, entry)| entry.get("required").and_then(Value::as_bool) == Some(false))
                .map(|(name, _)| name.clone())
                .collect()
        })
        .unwrap_or_default()
}

fn healthcheck(value: &Value, path: &str) -> Result<Healthcheck> {
    let map = object(value, path)?;
    check_keys(
        map,
        path,
        &[
            "test",
            "interval",
            "timeout",
            "retries",
            "start_period",
            "disable",
        ],
        &["start_interval"],
    )?;
    let duration = |key: &str| -> Result<Option<i64>> {
        walk::opt_text(map, key, path)?
            .map(|t| {
                units::duration_ns(&t).ok_or_else(|| {
                    invalid(
                        &child(path, key),
                        format!("`{t}` is not a duration such as 10s"),
                    )
                })
            })
            .transpose()
    };
    let test = if walk::opt_bool(map, "disable", path)? {
        vec!["NONE".to_string()]
    } else {
        match map.get("test") {
            None | Some(Value::Null) => {
                return Err(invalid(path, "`test` is required (or `disable: true`)"));
            }
            Some(Value::String(line)) => vec!["CMD-SHELL".to_string(), line.clone()],
            Some(other) => {
                let words = walk::strings(other, &child(path, "test"))?;
                match words.first().map(String::as_str) {
                    Some("NONE") if words.len() == 1 => words,
                    Some("CMD") if words.len() > 1 => words,
                    Some("CMD-SHELL") if words.len() == 2 => words,
                    _ => {
                        return Err(invalid(
                            &child(path, "test"),
                            "expected [\"CMD\", …], [\"CMD-SHELL\", \"…\"], [\"NONE\"] or a string",
                        ));
                    }
                }
            }
        }
    };
    Ok(Healthcheck {
        test,
        interval_ns: duration("interval")?,
        timeout_ns: duration("timeout")?,
        retries: match map.get("retries") {
            None | Some(Value::Null) => None,
            Some(v) => {
                Some(u32::try_from(walk::unsigned(v, &child(path, "retries"))?).unwrap_or(u32::MAX))
            }
        },
        start_period_ns: duration("start_period")?,
    })
}
