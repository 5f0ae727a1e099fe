//! A service of the model turned into what the host creates: one container spec per
//! replica, with the labels `docker compose` reads, and the hash that tells an unchanged
//! service from a changed one.

use bulkhead_plugin_sdk::docker::{
    ContainerSpec, HealthcheckSpec, KeyValue, MountKind as WitMountKind, MountSpec, PortBinding,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::labels;
use crate::spec::{Healthcheck, MountKind, Project, Service};

/// Where a stack came from, for the project labels.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub working_dir: Option<String>,
    pub config_file: Option<String>,
}

/// The engine name of each network a service joins, the first being the one it is
/// created on (`none` when it has no network).
pub fn service_networks(project: &Project, service: &Service) -> Vec<(String, Vec<String>)> {
    if service.network_none {
        return Vec::new();
    }
    service
        .networks
        .iter()
        .map(|(key, joined)| {
            let name = project
                .networks
                .get(key)
                .map_or_else(|| format!("{}_{key}", project.name), |n| n.name.clone());
            // Every container answers to its service's name on each of its networks.
            let mut aliases = vec![service.name.clone()];
            for alias in &joined.aliases {
                if !aliases.contains(alias) {
                    aliases.push(alias.clone());
                }
            }
            (name, aliases)
        })
        .collect()
}

/// The image a service runs: its `image`, else the name its build gets.
pub fn image_of(project: &Project, service: &Service) -> String {
    service
        .image
        .clone()
        .unwrap_or_else(|| labels::built_image(&project.name, &service.name))
}

/// The hash of everything that defines a service's containers, replicas excluded (a
/// change of scale adds or removes containers, it does not recreate the others). The
/// engine names of its networks and volumes count, so renaming one recreates it.
pub fn config_hash(project: &Project, service: &Service) -> String {
    #[derive(Serialize)]
    struct Hashed<'a> {
        service: &'a Service,
        networks: Vec<(String, Vec<String>)>,
        volumes: Vec<String>,
    }
    let mut normalised = service.clone();
    normalised.replicas = 0;
    let hashed = Hashed {
        service: &normalised,
        networks: service_networks(project, service),
        volumes: service
            .mounts
            .iter()
            .filter_map(|m| m.source.as_ref().filter(|_| m.kind == MountKind::Volume))
            .map(|key| volume_name(project, key))
            .collect(),
    };
    let json = serde_json::to_vec(&hashed).unwrap_or_default();
    let digest = Sha256::digest(&json);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn volume_name(project: &Project, key: &str) -> String {
    project
        .volumes
        .get(key)
        .map_or_else(|| format!("{}_{key}", project.name), |v| v.name.clone())
}

/// The container name of replica `number`.
pub fn container_name(project: &Project, service: &Service, number: u32) -> String {
    service
        .container_name
        .clone()
        .unwrap_or_else(|| labels::container_name(&project.name, &service.name, number))
}

/// The spec of replica `number` of `service`, created on its first network.
pub fn container_spec(
    project: &Project,
    service: &Service,
    number: u32,
    hash: &str,
    origin: &Origin,
) -> ContainerSpec {
    let networks = service_networks(project, service);
    let (network, aliases) = match networks.first() {
        Some((name, aliases)) => (Some(name.clone()), aliases.clone()),
        None => (Some("none".to_string()), Vec::new()),
    };
    let mut label_list: Vec<KeyValue> = service
        .labels
        .iter()
        .map(|(key, value)| KeyValue {
            key: key.clone(),
            value: value.clone(),
        })
        .collect();
    let depends_on: Vec<String> = service
        .depends_on
        .iter()
        .map(|(name, condition)| {
            let condition = serde_json::to_value(condition)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            format!("{name}:{condition}:false")
        })
        .collect();
    let mut compose = vec![
        (labels::PROJECT, project.name.clone()),
        (labels::SERVICE, service.name.clone()),
        (labels::NUMBER, number.to_string()),
        (labels::ONEOFF, "False".to_string()),
        (labels::CONFIG_HASH, hash.to_string()),
        (labels::VERSION, labels::TOOL_VERSION.to_string()),
        (labels::DEPENDS_ON, depends_on.join(",")),
    ];
    if let Some(dir) = &origin.working_dir {
        compose.push((labels::WORKING_DIR, dir.clone()));
    }
    if let Some(file) = &origin.config_file {
        compose.push((labels::CONFIG_FILES, file.clone()));
    }
    label_list.extend(labels::list(compose));
    ContainerSpec {
        image: image_of(project, service),
        name: Some(container_name(project, service, number)),
        cmd: service.command.clone().unwrap_or_default(),
        entrypoint: service.entrypoint.clone(),
        env: service
            .environment
            .iter()
            .map(|(key, value)| format!("{key}={value}"))
            .collect(),
        labels: label_list,
        working_dir: service.working_dir.clone(),
        user: service.user.clone(),
        tty: service.tty,
        ports: service
            .ports
            .iter()
            .map(|port| PortBinding {
                container_port: port.target,
                protocol: port.protocol.clone(),
                host_ip: port.host_ip.clone(),
                host_port: port.published,
            })
            .collect(),
        network,
        network_aliases: aliases,
        memory_bytes: service.memory_bytes,
        nano_cpus: service.nano_cpus,
        pids_limit: service.pids_limit,
        read_only_rootfs: service.read_only,
        restart_policy: service.restart.clone(),
        mounts: service
            .mounts
            .iter()
            .map(|mount| MountSpec {
                kind: match mount.kind {
                    MountKind::Volume => WitMountKind::Volume,
                    MountKind::Bind => WitMountKind::Bind,
                    MountKind::Tmpfs => WitMountKind::Tmpfs,
                },
                source: match mount.kind {
                    MountKind::Volume => mount.source.as_ref().map(|key| volume_name(project, key)),
                    _ => mount.source.clone(),
                },
                target: mount.target.clone(),
                read_only: mount.read_only,
                volume_driver: None,
                volume_options: Vec::new(),
                tmpfs_size_bytes: mount.tmpfs_size_bytes,
            })
            .collect(),
        drop_all_capabilities: false,
        init: service.init,
        pooled_ports: Vec::new(),
        idle_ttl_secs: None,
        healthcheck: service.healthcheck.as_ref().map(healthcheck),
        stop_timeout_secs: service.stop_grace_period_secs,
    }
}

/// Nanoseconds to the host's milliseconds, rounding up so a short period stays non-zero.
fn millis(nanos: Option<i64>) -> Option<u32> {
    nanos.map(|ns| {
        let ms = (ns.max(0) as u64).div_ceil(1_000_000);
        u32::try_from(ms).unwrap_or(u32::MAX)
    })
}

fn healthcheck(check: &Healthcheck) -> HealthcheckSpec {
    HealthcheckSpec {
        test: check.test.clone(),
        interval_ms: millis(check.interval_ns),
        timeout_ms: millis(check.timeout_ns),
        retries: check.retries,
        start_period_ms: millis(check.start_period_ns),
    }
}
