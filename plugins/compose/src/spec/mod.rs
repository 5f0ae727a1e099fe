//! The Compose file loader: YAML text to a validated, normalised [`Project`], with every
//! error naming the path of what is wrong. Pure logic apart from reading `.env` and
//! `env_file` files, which in the sandbox can only lie under the operator's compose
//! directories.

mod dotenv;
mod interpolate;
mod service;
mod units;
mod walk;
mod yaml;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use walk::{check_keys, child, invalid, object};

/// Most services, networks and volumes a project may declare.
const MAX_SERVICES: usize = 200;
const MAX_NETWORKS: usize = 100;
const MAX_VOLUMES: usize = 100;

/// What to load.
#[derive(Debug, Clone, Copy)]
pub struct LoadRequest<'a> {
    pub yaml: &'a str,
    /// Project name given by the caller (wins over the file's top-level `name`).
    pub project_name: Option<&'a str>,
    /// Directory of the compose file: relative paths resolve against it and its `.env`
    /// feeds interpolation.
    pub project_dir: Option<&'a Path>,
    /// Variables for interpolation given by the caller; they win over `.env`.
    pub env: &'a BTreeMap<String, String>,
    /// Active profiles.
    pub profiles: &'a [String],
}

#[derive(Debug, Clone, PartialEq)]
pub struct SpecError {
    pub kind: SpecErrorKind,
    /// Where in the file, such as `services.web.ports[1]`; empty for the whole file.
    pub path: String,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecErrorKind {
    /// Malformed or unsupported.
    Invalid,
    /// Refused by the host's safety policy (privileged and the like).
    Denied,
    /// Over a size, depth or alias limit.
    TooLarge,
    /// A file the stack names could not be read.
    Io,
}

impl SpecError {
    pub fn new(kind: SpecErrorKind, path: &str, message: impl Into<String>) -> Self {
        SpecError {
            kind,
            path: path.to_string(),
            message: message.into(),
        }
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "`{}`: {}", self.path, self.message)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Project {
    pub name: String,
    /// Only services active under the requested profiles.
    pub services: BTreeMap<String, Service>,
    /// By key in the file; `default` when a service uses the default network.
    pub networks: BTreeMap<String, NetworkDef>,
    pub volumes: BTreeMap<String, VolumeDef>,
    /// Non-fatal notes (obsolete keys, unset variables).
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NetworkDef {
    /// The engine's name: `name:` if given, else `{project}_{key}`.
    pub name: String,
    pub external: bool,
    pub internal: bool,
    pub driver: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub subnet: Option<String>,
    pub gateway: Option<String>,
    pub enable_ipv6: bool,
    pub attachable: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VolumeDef {
    /// The engine's name: `name:` if given, else `{project}_{key}`.
    pub name: String,
    pub external: bool,
    pub driver: Option<String>,
    pub driver_opts: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Service {
    pub name: String,
    pub image: Option<String>,
    pub build: Option<Build>,
    pub command: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    pub environment: BTreeMap<String, String>,
    pub ports: Vec<Port>,
    pub mounts: Vec<Mount>,
    /// Top-level network keys it joins.
    pub networks: BTreeMap<String, ServiceNetwork>,
    /// `network_mode: none`.
    pub network_none: bool,
    pub depends_on: BTreeMap<String, DependsCondition>,
    pub healthcheck: Option<Healthcheck>,
    pub restart: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub user: Option<String>,
    pub working_dir: Option<String>,
    pub memory_bytes: Option<i64>,
    pub nano_cpus: Option<i64>,
    pub pids_limit: Option<i64>,
    pub replicas: u32,
    pub container_name: Option<String>,
    pub init: bool,
    pub read_only: bool,
    pub tty: bool,
    pub stop_grace_period_secs: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Build {
    /// Absolute and lexically normalised; the host checks where it lies.
    pub context: PathBuf,
    pub dockerfile: Option<String>,
    pub args: BTreeMap<String, String>,
    pub target: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Port {
    pub target: u16,
    pub published: Option<u16>,
    pub host_ip: Option<String>,
    pub protocol: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MountKind {
    Volume,
    Bind,
    Tmpfs,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mount {
    pub kind: MountKind,
    /// Volume: a top-level volume key, or none for an anonymous volume. Bind: an
    /// absolute normalised host path. Tmpfs: none.
    pub source: Option<String>,
    pub target: String,
    pub read_only: bool,
    pub tmpfs_size_bytes: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ServiceNetwork {
    pub aliases: Vec<String>,
    pub ipv4_address: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DependsCondition {
    ServiceStarted,
    ServiceHealthy,
    ServiceCompletedSuccessfully,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Healthcheck {
    /// The engine's form: `["CMD", …]`, `["CMD-SHELL", "…"]` or `["NONE"]`.
    pub test: Vec<String>,
    pub interval_ns: Option<i64>,
    pub timeout_ns: Option<i64>,
    pub retries: Option<u32>,
    pub start_period_ns: Option<i64>,
}

impl Project {
    /// Service names in start order: dependencies first, ties by name.
    pub fn start_order(&self) -> Vec<String> {
        topological(&self.services).unwrap_or_else(|cycle| cycle)
    }
}

/// Docker's rule for project names.
pub fn valid_project_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= 63
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// A name made valid as Compose does: lowercase, other characters dropped, leading
/// non-alphanumerics stripped.
pub fn normalize_project_name(raw: &str) -> String {
    let lowered: String = raw
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')
        .collect();
    lowered
        .trim_start_matches(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit()))
        .to_string()
}

/// Loads and validates a Compose file.
pub fn load(request: &LoadRequest<'_>) -> Result<Project, SpecError> {
    let mut tree = yaml::parse(request.yaml)?;
    let mut vars = BTreeMap::new();
    if let Some(dir) = request.project_dir
        && let Some(dotenv) = dotenv::read(&dir.join(".env"), false, "")?
    {
        vars.extend(dotenv);
    }
    vars.extend(request.env.iter().map(|(k, v)| (k.clone(), v.clone())));
    let mut unset = Vec::new();
    interpolate::tree(&mut tree, &vars, "", &mut unset)?;
    let top = object(&tree, "")?;
    check_keys(
        top,
        "",
        &["name", "services", "networks", "volumes", "version"],
        &["configs", "secrets", "include", "models"],
    )?;
    let mut warnings: Vec<String> = unset
        .iter()
        .map(|name| format!("variable `{name}` is not set; it was replaced by an empty string"))
        .collect();
    if top.contains_key("version") {
        warnings.push("top-level `version` is obsolete and ignored".into());
    }
    let name = project_name(request, top)?;
    let context = service::Context {
        project_dir: request.project_dir,
        vars: &vars,
    };

    let declared_volumes = top_level_volumes(top.get("volumes"), &name)?;
    let declared_networks = top_level_networks(top.get("networks"), &name)?;

    let services_value = top
        .get("services")
        .ok_or_else(|| invalid("", "a Compose file needs `services`"))?;
    let services_map = object(services_value, "services")?;
    if services_map.len() > MAX_SERVICES {
        return Err(SpecError::new(
            SpecErrorKind::TooLarge,
            "services",
            format!("more than {MAX_SERVICES} services"),
        ));
    }
    let mut all = BTreeMap::new();
    let mut profiles_of = BTreeMap::new();
    for (service_name, value) in services_map {
        let path = child("services", service_name);
        let (service, profiles) = service::parse(service_name, value, &path, &context)?;
        profiles_of.insert(service_name.clone(), profiles);
        all.insert(service_name.clone(), service);
    }
    let active = |name: &String| {
        let profiles: &Vec<String> = &profiles_of[name];
        profiles.is_empty() || profiles.iter().any(|p| request.profiles.contains(p))
    };
    let mut services: BTreeMap<String, Service> = BTreeMap::new();
    for (service_name, service) in &all {
        if active(service_name) {
            services.insert(service_name.clone(), service.clone());
        }
    }
    // Dependencies and references, now that every service is known.
    for (service_name, service) in services.iter_mut() {
        let path = child("services", service_name);
        let optional = service::optional_dependencies(&services_map[service_name]);
        let mut kept = BTreeMap::new();
        for (dependency, condition) in &service.depends_on {
            let at = format!("{path}.depends_on.{dependency}");
            if dependency == service_name {
                return Err(invalid(&at, "a service cannot depend on itself"));
            }
            if !all.contains_key(dependency) {
                if optional.contains(dependency) {
                    continue;
                }
                return Err(invalid(
                    &at,
                    format!("no service `{dependency}` in the file"),
                ));
            }
            if !active(dependency) {
                if optional.contains(dependency) {
                    continue;
                }
                return Err(invalid(
                    &at,
                    format!("service `{dependency}` is not enabled by the active profiles"),
                ));
            }
            kept.insert(dependency.clone(), *condition);
        }
        service.depends_on = kept;
        for key in service.networks.keys() {
            if key != "default" && !declared_networks.contains_key(key) {
                return Err(invalid(
                    &format!("{path}.networks.{key}"),
                    format!("network `{key}` is not declared under top-level `networks`"),
                ));
            }
        }
        for (index, mount) in service.mounts.iter().enumerate() {
            if mount.kind == MountKind::Volume
                && let Some(key) = &mount.source
                && !declared_volumes.contains_key(key)
            {
                return Err(invalid(
                    &format!("{path}.volumes[{index}]"),
                    format!("volume `{key}` is not declared under top-level `volumes`"),
                ));
            }
        }
    }
    topological(&services).map_err(|cycle| {
        invalid(
            "services",
            format!("`depends_on` forms a cycle: {}", cycle.join(" -> ")),
        )
    })?;
    let mut networks = declared_networks;
    if services
        .values()
        .any(|s| s.networks.contains_key("default"))
    {
        networks
            .entry("default".into())
            .or_insert_with(|| NetworkDef {
                name: format!("{name}_default"),
                external: false,
                internal: false,
                driver: None,
                labels: BTreeMap::new(),
                subnet: None,
                gateway: None,
                enable_ipv6: false,
                attachable: false,
            });
    }
    Ok(Project {
        name,
        services,
        networks,
        volumes: declared_volumes,
        warnings,
    })
}

fn project_name(
    request: &LoadRequest<'_>,
    top: &serde_json::Map<String, Value>,
) -> Result<String, SpecError> {
    let (name, path) = if let Some(name) = request.project_name {
        (name.to_string(), "project")
    } else if let Some(name) = walk::opt_text(top, "name", "")? {
        (name, "name")
    } else if let Some(dir) = request.project_dir.and_then(Path::file_name) {
        (normalize_project_name(&dir.to_string_lossy()), "project")
    } else {
        return Err(invalid(
            "",
            "a project name is needed: pass `project`, or set `name:` in the file",
        ));
    };
    if !valid_project_name(&name) {
        return Err(invalid(
            path,
            format!(
                "`{name}` is not a project name: lowercase letters, digits, `_` and `-`, starting with a letter or digit"
            ),
        ));
    }
    Ok(name)
}

/// One entry of a top-level section: its key, its path and its mapping.
type Definition = (String, String, serde_json::Map<String, Value>);

/// The entries of a top-level `networks` or `volumes` section, each as a mapping (a
/// null entry is an empty one), extension keys skipped.
fn definitions(
    value: Option<&Value>,
    section: &str,
    max: usize,
) -> Result<Vec<Definition>, SpecError> {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    let map = object(value, section)?;
    if map.len() > max {
        return Err(SpecError::new(
            SpecErrorKind::TooLarge,
            section,
            format!("more than {max} entries"),
        ));
    }
    let mut out = Vec::new();
    for (key, def) in map.iter().filter(|(key, _)| !key.starts_with("x-")) {
        let path = child(section, key);
        let def = match def {
            Value::Null => serde_json::Map::new(),
            other => object(other, &path)?.clone(),
        };
        out.push((key.clone(), path, def));
    }
    Ok(out)
}

/// The engine name of a top-level network or volume: its `name`, else the key itself
/// when external, else `{project}_{key}`.
fn engine_name(
    def: &serde_json::Map<String, Value>,
    key: &str,
    path: &str,
    external: bool,
    project: &str,
) -> Result<String, SpecError> {
    Ok(walk::opt_text(def, "name", path)?.unwrap_or_else(|| {
        if external {
            key.to_string()
        } else {
            format!("{project}_{key}")
        }
    }))
}

fn top_level_networks(
    value: Option<&Value>,
    project: &str,
) -> Result<BTreeMap<String, NetworkDef>, SpecError> {
    let mut out = BTreeMap::new();
    for (key, path, def) in definitions(value, "networks", MAX_NETWORKS)? {
        let def = &def;
        check_keys(
            def,
            &path,
            &[
                "name",
                "external",
                "internal",
                "driver",
                "attachable",
                "enable_ipv6",
                "labels",
                "ipam",
            ],
            &["driver_opts", "enable_ipv4"],
        )?;
        let driver = walk::opt_text(def, "driver", &path)?;
        if let Some(driver) = &driver
            && driver != "bridge"
        {
            return Err(invalid(
                &child(&path, "driver"),
                format!("driver `{driver}` is not supported (only bridge)"),
            ));
        }
        let (subnet, gateway) = match def.get("ipam") {
            None | Some(Value::Null) => (None, None),
            Some(ipam) => ipam_config(ipam, &child(&path, "ipam"))?,
        };
        let external = walk::opt_bool(def, "external", &path)?;
        out.insert(
            key.clone(),
            NetworkDef {
                name: engine_name(def, &key, &path, external, project)?,
                external,
                internal: walk::opt_bool(def, "internal", &path)?,
                driver,
                labels: labels(def.get("labels"), &child(&path, "labels"))?,
                subnet,
                gateway,
                enable_ipv6: walk::opt_bool(def, "enable_ipv6", &path)?,
                attachable: walk::opt_bool(def, "attachable", &path)?,
            },
        );
    }
    Ok(out)
}

fn ipam_config(ipam: &Value, path: &str) -> Result<(Option<String>, Option<String>), SpecError> {
    let map = object(ipam, path)?;
    check_keys(map, path, &["driver", "config"], &["options"])?;
    if let Some(driver) = walk::opt_text(map, "driver", path)?
        && driver != "default"
    {
        return Err(invalid(
            &child(path, "driver"),
            "only the default IPAM driver is supported",
        ));
    }
    let Some(config) = map.get("config").and_then(Value::as_array) else {
        return Ok((None, None));
    };
    if config.len() > 1 {
        return Err(invalid(
            &child(path, "config"),
            "at most one IPAM pool is supported",
        ));
    }
    let Some(pool) = config.first() else {
        return Ok((None, None));
    };
    let pool_path = format!("{path}.config[0]");
    let pool = object(pool, &pool_path)?;
    check_keys(
        pool,
        &pool_path,
        &["subnet", "gateway"],
        &["ip_range", "aux_addresses"],
    )?;
    Ok((
        walk::opt_text(pool, "subnet", &pool_path)?,
        walk::opt_text(pool, "gateway", &pool_path)?,
    ))
}

fn top_level_volumes(
    value: Option<&Value>,
    project: &str,
) -> Result<BTreeMap<String, VolumeDef>, SpecError> {
    let mut out = BTreeMap::new();
    for (key, path, def) in definitions(value, "volumes", MAX_VOLUMES)? {
        let def = &def;
        check_keys(
            def,
            &path,
            &["name", "external", "driver", "driver_opts", "labels"],
            &[],
        )?;
        let external = walk::opt_bool(def, "external", &path)?;
        let driver_opts = match def.get("driver_opts") {
            None | Some(Value::Null) => BTreeMap::new(),
            Some(opts) => walk::pairs(opts, &child(&path, "driver_opts"))?
                .into_iter()
                .map(|(k, v)| (k, v.unwrap_or_default()))
                .collect(),
        };
        out.insert(
            key.clone(),
            VolumeDef {
                name: engine_name(def, &key, &path, external, project)?,
                external,
                driver: walk::opt_text(def, "driver", &path)?,
                driver_opts,
                labels: labels(def.get("labels"), &child(&path, "labels"))?,
            },
        );
    }
    Ok(out)
}

/// Labels in either form; the keys the plugin and the host write are reserved.
fn labels(value: Option<&Value>, path: &str) -> Result<BTreeMap<String, String>, SpecError> {
    let Some(value) = value else {
        return Ok(BTreeMap::new());
    };
    let mut out = BTreeMap::new();
    for (key, value) in walk::pairs(value, path)? {
        if key.starts_with("com.docker.compose.") || key.starts_with("io.bulkhead.") {
            return Err(invalid(
                &child(path, &key),
                "this label key is reserved: the compose plugin and the host set it",
            ));
        }
        out.insert(key, value.unwrap_or_default());
    }
    Ok(out)
}

/// Start order, or the services of a cycle.
fn topological(services: &BTreeMap<String, Service>) -> Result<Vec<String>, Vec<String>> {
    let mut ordered: Vec<String> = Vec::new();
    let mut remaining: Vec<&String> = services.keys().collect();
    while !remaining.is_empty() {
        let ready = remaining.iter().position(|name| {
            services[*name]
                .depends_on
                .keys()
                .all(|dep| ordered.contains(dep) || !services.contains_key(dep))
        });
        match ready {
            Some(index) => ordered.push(remaining.remove(index).clone()),
            None => {
                let mut cycle: Vec<String> = remaining.iter().map(|s| s.to_string()).collect();
                if let Some(first) = cycle.first().cloned() {
                    cycle.push(first);
                }
                let mut order = ordered;
                order.extend(remaining.iter().map(|s| s.to_string()));
                return Err(if cycle.is_empty() { order } else { cycle });
            }
        }
    }
    Ok(ordered)
}

#[cfg(test)]
mod tests;
