//! `containers-manage`: create, start, stop, restart, pause, unpause, kill, rename and a
//! bounded wait. Moderate tier: changes state, deletes nothing. Argument policy is applied
//! here: what a spec may ask of the engine, under the operator's rules.

use std::collections::HashMap;
use std::time::Duration;

use bollard::models::{
    ContainerCreateBody, EndpointSettings, HostConfig, HostConfigLogConfig, NetworkingConfig,
    PortBinding as EnginePortBinding, RestartPolicy, RestartPolicyNameEnum,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, InspectContainerOptions, KillContainerOptionsBuilder,
    RenameContainerOptionsBuilder, RestartContainerOptionsBuilder, StartContainerOptions,
    StopContainerOptionsBuilder, WaitContainerOptionsBuilder,
};
use futures_util::StreamExt;

use super::labels;
use super::labels::Stamp;
use super::mounts::engine_mounts;
use super::ownership::ObjectKind;
use super::port_pool::{self, MAX_POOLED_PORTS};
use super::signals::parse_signal;
use super::{engine_call, map_error};
use crate::access::CallAccess;
use crate::argument_policy::{ArgumentPolicy, NO_NEW_PRIVILEGES, Resources, default_log_config};
use crate::bindings::DockerError;
use crate::bindings::bulkhead::plugin::containers_manage::{Host, WaitResult};
use crate::bindings::bulkhead::plugin::types::{ContainerSpec, CreatedContainer, MountKind};
use crate::capabilities::Capability;
use crate::sanitize::one_line;

/// Idle times after which the reaper may remove a container: 5 s to a week.
const IDLE_TTL_SECS: std::ops::RangeInclusive<u32> = 5..=604_800;
/// The engine's own minimum for a memory limit.
const MIN_MEMORY_BYTES: i64 = 6 << 20;
const MAX_STOP_TIMEOUT_SECS: u32 = 120;
/// Longest wait for a container to stop: a tool call has a 30-s deadline by default,
/// and a wait ends [`WAIT_MARGIN`] before the call's deadline whatever it is.
pub const MAX_WAIT_SECS: u32 = 25;
/// Time left after a wait for the plugin to answer (and, for a run, fetch the logs).
const WAIT_MARGIN: Duration = Duration::from_secs(5);

impl Host for CallAccess {
    async fn create_container(
        &mut self,
        spec: ContainerSpec,
    ) -> Result<CreatedContainer, DockerError> {
        let docker = self.authorize(Capability::ContainersManage).await?;
        let image = spec.image.trim().to_string();
        let volumes: Vec<String> = spec
            .mounts
            .iter()
            .filter(|m| m.kind == MountKind::Volume)
            .filter_map(|m| m.source.clone())
            .collect();
        let pooled = spec.pooled_ports.clone();
        let (name, mut body) = create_request(spec, self.stamp(), &self.rules)?;
        // What the spec names beyond itself: an allowed image, a network it may join,
        // volumes it may mount (under `scope = owned`, only its principal's).
        self.check_image_allowed(&docker, &image).await?;
        if let Some(host) = body.host_config.as_mut()
            && let Some(mode) = host.network_mode.take()
        {
            let joined = self.joinable_network(&docker, &mode).await?;
            if let Some(endpoints) = body
                .networking_config
                .as_mut()
                .and_then(|config| config.endpoints_config.as_mut())
                && let Some(endpoint) = endpoints.remove(&mode)
            {
                endpoints.insert(joined.clone(), endpoint);
            }
            host.network_mode = Some(joined);
        }
        for volume in volumes {
            self.resolve(&docker, ObjectKind::Volume, &volume).await?;
        }
        // Pool ports: held under the machine-wide lock until the container that records
        // them in its label exists.
        let _pool_lock = if pooled.is_empty() {
            None
        } else {
            let (lock, ports) = self.allocate_pooled(&docker, &pooled).await?;
            add_pooled_bindings(&mut body, &pooled, &ports);
            Some(lock)
        };
        let mut options = CreateContainerOptionsBuilder::new();
        if let Some(name) = &name {
            options = options.name(name);
        }
        let created = engine_call(
            &self.docker,
            docker.create_container(Some(options.build()), body),
        )
        .await?;
        self.touched(ObjectKind::Container, &created.id);
        let name = match name {
            Some(name) => name,
            // The engine picked one; it is part of creating, so no extra grant is needed.
            None => engine_call(
                &self.docker,
                docker.inspect_container(&created.id, None::<InspectContainerOptions>),
            )
            .await?
            .name
            .unwrap_or_default()
            .trim_start_matches('/')
            .to_string(),
        };
        Ok(CreatedContainer {
            id: created.id,
            name,
            warnings: created.warnings,
        })
    }

    async fn start_container(&mut self, target: String) -> Result<(), DockerError> {
        let docker = self.authorize(Capability::ContainersManage).await?;
        let target = self
            .resolve(&docker, ObjectKind::Container, &target)
            .await?;
        let target = target.as_str();
        engine_call(
            &self.docker,
            docker.start_container(target, None::<StartContainerOptions>),
        )
        .await
    }

    async fn stop_container(
        &mut self,
        target: String,
        timeout_secs: Option<u32>,
    ) -> Result<(), DockerError> {
        let docker = self.authorize(Capability::ContainersManage).await?;
        let target = self
            .resolve(&docker, ObjectKind::Container, &target)
            .await?;
        let target = target.as_str();
        let mut options = StopContainerOptionsBuilder::new();
        if let Some(secs) = stop_timeout(timeout_secs)? {
            options = options.t(secs);
        }
        engine_call(
            &self.docker,
            docker.stop_container(target, Some(options.build())),
        )
        .await
    }

    async fn restart_container(
        &mut self,
        target: String,
        timeout_secs: Option<u32>,
    ) -> Result<(), DockerError> {
        let docker = self.authorize(Capability::ContainersManage).await?;
        let target = self
            .resolve(&docker, ObjectKind::Container, &target)
            .await?;
        let target = target.as_str();
        let mut options = RestartContainerOptionsBuilder::new();
        if let Some(secs) = stop_timeout(timeout_secs)? {
            options = options.t(secs);
        }
        engine_call(
            &self.docker,
            docker.restart_container(target, Some(options.build())),
        )
        .await
    }

    async fn pause_container(&mut self, target: String) -> Result<(), DockerError> {
        let docker = self.authorize(Capability::ContainersManage).await?;
        let target = self
            .resolve(&docker, ObjectKind::Container, &target)
            .await?;
        let target = target.as_str();
        engine_call(&self.docker, docker.pause_container(target)).await
    }

    async fn unpause_container(&mut self, target: String) -> Result<(), DockerError> {
        let docker = self.authorize(Capability::ContainersManage).await?;
        let target = self
            .resolve(&docker, ObjectKind::Container, &target)
            .await?;
        let target = target.as_str();
        engine_call(&self.docker, docker.unpause_container(target))
            .await
            .map_err(|err| match err {
                // Engine 20.10 answers 500 for this state error; later engines say 409.
                DockerError::Engine(text) if text.contains("is not paused") => {
                    DockerError::Conflict(text)
                }
                other => other,
            })
    }

    async fn kill_container(
        &mut self,
        target: String,
        signal: Option<String>,
    ) -> Result<(), DockerError> {
        let docker = self.authorize(Capability::ContainersManage).await?;
        let target = self
            .resolve(&docker, ObjectKind::Container, &target)
            .await?;
        let target = target.as_str();
        let signal = parse_signal(signal.as_deref())?;
        let options = KillContainerOptionsBuilder::new().signal(&signal).build();
        engine_call(&self.docker, docker.kill_container(target, Some(options))).await
    }

    async fn rename_container(
        &mut self,
        target: String,
        new_name: String,
    ) -> Result<(), DockerError> {
        let docker = self.authorize(Capability::ContainersManage).await?;
        let target = self
            .resolve(&docker, ObjectKind::Container, &target)
            .await?;
        let target = target.as_str();
        let new_name = new_name.strip_prefix('/').unwrap_or(&new_name);
        validate_name(new_name)?;
        let options = RenameContainerOptionsBuilder::new().name(new_name).build();
        engine_call(&self.docker, docker.rename_container(target, options)).await
    }

    async fn wait_container(
        &mut self,
        target: String,
        timeout_secs: u32,
    ) -> Result<WaitResult, DockerError> {
        let docker = self.authorize(Capability::ContainersManage).await?;
        let target = self
            .resolve(&docker, ObjectKind::Container, &target)
            .await?;
        let target = target.as_str();
        if !(1..=MAX_WAIT_SECS).contains(&timeout_secs) {
            return Err(DockerError::Invalid(format!(
                "a wait lasts 1-{MAX_WAIT_SECS} s (the host ends it before the call's deadline); call again to wait longer"
            )));
        }
        let options = WaitContainerOptionsBuilder::new()
            .condition("not-running")
            .build();
        // Never past the call's own deadline (shorter under a small --call-timeout).
        let limit = Duration::from_secs(u64::from(timeout_secs)).min(
            self.deadline
                .saturating_duration_since(tokio::time::Instant::now())
                .saturating_sub(WAIT_MARGIN),
        );
        let mut stream = docker.wait_container(target, Some(options));
        let waited = tokio::time::timeout(limit, stream.next()).await;
        let answer = match waited {
            // Reaching the limit is an answer, not an error: the container runs on.
            Err(_elapsed) => {
                return Ok(WaitResult {
                    exit_code: None,
                    still_running: true,
                    error: None,
                });
            }
            Ok(answer) => answer,
        };
        match answer {
            Some(Ok(response)) => Ok(WaitResult {
                exit_code: Some(response.status_code),
                still_running: false,
                error: response
                    .error
                    .and_then(|e| e.message)
                    .filter(|m| !m.is_empty())
                    .map(|m| one_line(&m, 512)),
            }),
            // bollard reports a non-zero exit as an error; to a waiter it is the answer.
            Some(Err(bollard::errors::Error::DockerContainerWaitError { error, code })) => {
                Ok(WaitResult {
                    exit_code: Some(code),
                    still_running: false,
                    error: Some(error)
                        .filter(|e| !e.is_empty())
                        .map(|e| one_line(&e, 512)),
                })
            }
            Some(Err(err)) => {
                let mapped = map_error(err);
                if matches!(mapped, DockerError::Unavailable(_)) {
                    self.docker.reset().await;
                }
                Err(mapped)
            }
            None => Err(DockerError::Engine(
                "the engine ended the wait without an answer".into(),
            )),
        }
    }
}

/// The engine's `t` for a stop or restart: at most two minutes.
fn stop_timeout(timeout_secs: Option<u32>) -> Result<Option<i32>, DockerError> {
    match timeout_secs {
        None => Ok(None),
        Some(secs) if secs <= MAX_STOP_TIMEOUT_SECS => Ok(Some(secs as i32)),
        Some(_) => Err(DockerError::Invalid(format!(
            "stop timeout is at most {MAX_STOP_TIMEOUT_SECS} s"
        ))),
    }
}

/// Turns a plugin's spec into an engine request, refusing what the operator's `rules`
/// forbid and filling in their defaults. Pure apart from the rules' filesystem look-ups
/// (bind sources), so every rule has a table test.
pub(super) fn create_request(
    spec: ContainerSpec,
    stamp: Stamp<'_>,
    rules: &ArgumentPolicy,
) -> Result<(Option<String>, ContainerCreateBody), DockerError> {
    let image = spec.image.trim();
    if image.is_empty()
        || image.len() > 255
        || image.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(DockerError::Invalid(
            "`image` must be an image name, tag or id".into(),
        ));
    }
    if let Some(name) = &spec.name {
        validate_name(name)?;
    }
    for entry in &spec.env {
        match entry.split_once('=') {
            Some((key, _)) if !key.is_empty() && !key.contains('\0') => {}
            _ => {
                return Err(DockerError::Invalid(
                    "every env entry must look like KEY=value".into(),
                ));
            }
        }
    }
    let mut labels = labels::stamped(spec.labels, stamp, rules)?;
    if let Some(ttl) = spec.idle_ttl_secs {
        if !IDLE_TTL_SECS.contains(&ttl) {
            return Err(DockerError::Invalid(format!(
                "`idle_ttl_secs` must be {}-{}",
                IDLE_TTL_SECS.start(),
                IDLE_TTL_SECS.end()
            )));
        }
        labels.insert(labels::IDLE_TTL_LABEL.into(), ttl.to_string());
    }
    if spec.pooled_ports.len() > MAX_POOLED_PORTS
        || spec.pooled_ports.contains(&0)
        || spec
            .pooled_ports
            .iter()
            .any(|p| spec.ports.iter().any(|b| b.container_port == *p))
    {
        return Err(DockerError::Invalid(format!(
            "`pooled_ports` are at most {MAX_POOLED_PORTS} container ports (1-65535), each not also in `ports`"
        )));
    }

    let network_mode = match spec.network.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(mode) => Some(validate_network(mode)?.to_string()),
    };
    let aliases = network_aliases(network_mode.as_deref(), spec.network_aliases)?;
    let healthcheck = spec
        .healthcheck
        .map(super::healthcheck::engine_healthcheck)
        .transpose()?;
    let stop_timeout = stop_timeout(spec.stop_timeout_secs)?.map(i64::from);

    let mut exposed = Vec::new();
    let mut bindings: HashMap<String, Option<Vec<EnginePortBinding>>> = HashMap::new();
    for port in &spec.ports {
        if port.container_port == 0 {
            return Err(DockerError::Invalid(
                "`container_port` must be 1-65535".into(),
            ));
        }
        let protocol = port.protocol.trim().to_ascii_lowercase();
        let protocol = if protocol.is_empty() {
            "tcp".to_string()
        } else {
            protocol
        };
        if !matches!(protocol.as_str(), "tcp" | "udp" | "sctp") {
            return Err(DockerError::Invalid(format!(
                "unknown protocol `{protocol}` (tcp, udp, sctp)"
            )));
        }
        let key = format!("{}/{protocol}", port.container_port);
        exposed.push(key.clone());
        // Loopback unless the operator allows public ports; omitted = 127.0.0.1.
        let host_ip = rules.check_port(port.host_ip.as_deref(), port.host_port)?;
        bindings
            .entry(key)
            .or_insert_with(|| Some(Vec::new()))
            .get_or_insert_with(Vec::new)
            .push(EnginePortBinding {
                host_ip: Some(host_ip),
                host_port: Some(port.host_port.map(|p| p.to_string()).unwrap_or_default()),
            });
    }

    if spec
        .memory_bytes
        .is_some_and(|memory| memory < MIN_MEMORY_BYTES)
    {
        return Err(DockerError::Invalid(format!(
            "`memory` must be at least {MIN_MEMORY_BYTES} bytes (6 MiB)"
        )));
    }
    // Ceilings refuse, never clamp; omitted limits get the operator's defaults.
    let resources = rules.resources(Resources {
        memory_bytes: spec.memory_bytes,
        nano_cpus: spec.nano_cpus,
        pids_limit: spec.pids_limit,
    })?;
    let mounts = engine_mounts(spec.mounts, rules, stamp)?;
    let (log_driver, log_options) = default_log_config();
    let restart_policy = spec
        .restart_policy
        .as_deref()
        .map(parse_restart_policy)
        .transpose()?;

    let host_config = HostConfig {
        memory: resources.memory_bytes,
        nano_cpus: resources.nano_cpus,
        pids_limit: resources.pids_limit,
        readonly_rootfs: Some(spec.read_only_rootfs),
        network_mode,
        port_bindings: (!bindings.is_empty()).then_some(bindings),
        mounts: (!mounts.is_empty()).then_some(mounts),
        restart_policy,
        // Rotation, so a chatty container cannot fill the host's disk.
        log_config: Some(HostConfigLogConfig {
            typ: Some(log_driver.to_string()),
            config: Some(
                log_options
                    .into_iter()
                    .map(|(key, value)| (key.to_string(), value.to_string()))
                    .collect(),
            ),
        }),
        // setuid binaries in the image cannot gain privileges.
        security_opt: Some(vec![NO_NEW_PRIVILEGES.to_string()]),
        // Spelled out so a reader sees what the typed spec can never turn on.
        privileged: Some(false),
        cap_drop: spec.drop_all_capabilities.then(|| vec!["ALL".to_string()]),
        init: spec.init.then_some(true),
        ..Default::default()
    };
    let body = ContainerCreateBody {
        image: Some(image.to_string()),
        cmd: (!spec.cmd.is_empty()).then_some(spec.cmd),
        entrypoint: spec.entrypoint,
        env: (!spec.env.is_empty()).then_some(spec.env),
        labels: Some(labels),
        working_dir: spec.working_dir.filter(|s| !s.is_empty()),
        user: spec.user.filter(|s| !s.is_empty()),
        tty: Some(spec.tty),
        exposed_ports: (!exposed.is_empty()).then_some(exposed),
        host_config: Some(host_config),
        healthcheck,
        stop_timeout,
        // Keyed by the network asked for; `create_container` re-keys it once the
        // network is resolved (under `scope = owned`, to its full id).
        networking_config: aliases.map(|(network, aliases)| NetworkingConfig {
            endpoints_config: Some(HashMap::from([(
                network,
                EndpointSettings {
                    aliases: Some(aliases),
                    ..Default::default()
                },
            )])),
        }),
        ..Default::default()
    };
    Ok((spec.name, body))
}

/// Publishes each pooled container port on 127.0.0.1 at its allocated host port, and
/// records the ports in the label the pool reads.
fn add_pooled_bindings(body: &mut ContainerCreateBody, pooled: &[u16], ports: &[u16]) {
    let host = body.host_config.get_or_insert_with(HostConfig::default);
    let bindings = host.port_bindings.get_or_insert_with(HashMap::new);
    let exposed = body.exposed_ports.get_or_insert_with(Vec::new);
    for (container_port, host_port) in pooled.iter().zip(ports) {
        let key = format!("{container_port}/tcp");
        exposed.push(key.clone());
        bindings.insert(
            key,
            Some(vec![EnginePortBinding {
                host_ip: Some("127.0.0.1".into()),
                host_port: Some(host_port.to_string()),
            }]),
        );
    }
    body.labels.get_or_insert_with(HashMap::new).insert(
        labels::POOLED_PORTS_LABEL.into(),
        port_pool::ports_label(ports),
    );
}

fn validate_name(name: &str) -> Result<(), DockerError> {
    let mut chars = name.chars();
    let valid = name.len() >= 2
        && name.len() <= 128
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if valid {
        Ok(())
    } else {
        Err(DockerError::Invalid(
            "container names are 2-128 characters: a letter or digit, then letters, digits, `_`, `.`, `-`".into(),
        ))
    }
}

/// Most DNS aliases one container may have on its network.
const MAX_ALIASES: usize = 16;

/// The network and aliases of the endpoint to create, if any aliases were asked for.
/// Aliases exist only on user-defined networks: the default bridge has no DNS.
fn network_aliases(
    network: Option<&str>,
    aliases: Vec<String>,
) -> Result<Option<(String, Vec<String>)>, DockerError> {
    if aliases.is_empty() {
        return Ok(None);
    }
    let network = match network {
        Some(name) if !matches!(name, "bridge" | "none" | "default") => name,
        _ => {
            return Err(DockerError::Invalid(
                "`network_aliases` need a user-defined `network`".into(),
            ));
        }
    };
    let valid = |alias: &String| {
        let mut chars = alias.chars();
        alias.len() <= 253
            && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
            && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    };
    if aliases.len() > MAX_ALIASES || !aliases.iter().all(valid) {
        return Err(DockerError::Invalid(format!(
            "`network_aliases` are at most {MAX_ALIASES} DNS names: letters, digits, `_`, `.`, `-`"
        )));
    }
    Ok(Some((network.to_string(), aliases)))
}

fn validate_network(mode: &str) -> Result<&str, DockerError> {
    if mode == "host" || mode.starts_with("container:") {
        return Err(DockerError::Denied(format!(
            "network mode `{mode}` shares a namespace with the host or another container and is not allowed"
        )));
    }
    let valid = mode.len() <= 128
        && mode
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if valid {
        Ok(mode)
    } else {
        Err(DockerError::Invalid(format!(
            "`{mode}` is not a network name"
        )))
    }
}

fn parse_restart_policy(text: &str) -> Result<RestartPolicy, DockerError> {
    let (name, retries) = match text.split_once(':') {
        Some((name, count)) => (name, Some(count)),
        None => (text, None),
    };
    let invalid = || {
        DockerError::Invalid(format!(
            "restart policy `{text}`: use no, on-failure[:N], always or unless-stopped"
        ))
    };
    let name = match name {
        "no" | "" => RestartPolicyNameEnum::NO,
        "on-failure" => RestartPolicyNameEnum::ON_FAILURE,
        "always" => RestartPolicyNameEnum::ALWAYS,
        "unless-stopped" => RestartPolicyNameEnum::UNLESS_STOPPED,
        _ => return Err(invalid()),
    };
    let maximum_retry_count = match retries {
        None => None,
        Some(count) if name == RestartPolicyNameEnum::ON_FAILURE => {
            Some(count.parse::<i64>().map_err(|_| invalid())?)
        }
        Some(_) => return Err(invalid()),
    };
    Ok(RestartPolicy {
        name: Some(name),
        maximum_retry_count,
    })
}

#[cfg(test)]
mod tests {
    use super::labels::{MANAGED_LABEL, PLUGIN_LABEL};
    use super::*;
    use crate::argument_policy::DEFAULT_PIDS_LIMIT;
    use crate::bindings::bulkhead::plugin::types::{KeyValue, MountKind, MountSpec, PortBinding};
    use bollard::models::MountType;

    fn spec(image: &str) -> ContainerSpec {
        ContainerSpec {
            image: image.into(),
            name: None,
            cmd: vec![],
            entrypoint: None,
            env: vec![],
            labels: vec![],
            working_dir: None,
            user: None,
            tty: false,
            ports: vec![],
            network: None,
            memory_bytes: None,
            nano_cpus: None,
            pids_limit: None,
            read_only_rootfs: false,
            restart_policy: None,
            mounts: vec![],
            drop_all_capabilities: false,
            init: false,
            pooled_ports: vec![],
            idle_ttl_secs: None,
            network_aliases: vec![],
            healthcheck: None,
            stop_timeout_secs: None,
        }
    }

    #[test]
    fn adds_ownership_labels_and_defaults_ports_to_loopback() {
        let mut request = spec("busybox");
        request.ports = vec![PortBinding {
            container_port: 80,
            protocol: String::new(),
            host_ip: None,
            host_port: Some(8080),
        }];
        let (_, body) = create_request(
            request,
            labels::test_stamp("containers"),
            &ArgumentPolicy::default(),
        )
        .unwrap();
        let labels = body.labels.unwrap();
        assert_eq!(labels.get(MANAGED_LABEL).map(String::as_str), Some("true"));
        assert_eq!(
            labels.get(PLUGIN_LABEL).map(String::as_str),
            Some("containers")
        );
        assert_eq!(body.exposed_ports, Some(vec!["80/tcp".to_string()]));
        let host = body.host_config.unwrap();
        let binding = &host.port_bindings.unwrap()["80/tcp"].clone().unwrap()[0];
        assert_eq!(binding.host_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(binding.host_port.as_deref(), Some("8080"));
        assert_eq!(host.privileged, Some(false));
    }

    #[test]
    fn refuses_what_policy_forbids() {
        let denied = |mutate: fn(&mut ContainerSpec)| {
            let mut request = spec("busybox");
            mutate(&mut request);
            create_request(request, labels::test_stamp("p"), &ArgumentPolicy::default())
        };
        assert!(matches!(
            denied(|s| s.network = Some("host".into())),
            Err(DockerError::Denied(_))
        ));
        assert!(matches!(
            denied(|s| s.network = Some("container:abc".into())),
            Err(DockerError::Denied(_))
        ));
        assert!(matches!(
            denied(|s| s.labels = vec![KeyValue {
                key: "io.bulkhead.plugin".into(),
                value: "other".into()
            }]),
            Err(DockerError::Denied(_))
        ));
        assert!(matches!(
            denied(|s| s.image = " ".into()),
            Err(DockerError::Invalid(_))
        ));
        assert!(matches!(
            denied(|s| s.name = Some("../x".into())),
            Err(DockerError::Invalid(_))
        ));
        assert!(matches!(
            denied(|s| s.env = vec!["NOEQUALS".into()]),
            Err(DockerError::Invalid(_))
        ));
        assert!(matches!(
            denied(|s| s.memory_bytes = Some(1024)),
            Err(DockerError::Invalid(_))
        ));
        assert!(matches!(
            denied(|s| s.restart_policy = Some("sometimes".into())),
            Err(DockerError::Invalid(_))
        ));
        assert!(matches!(
            denied(|s| s.ports = vec![PortBinding {
                container_port: 80,
                protocol: "icmp".into(),
                host_ip: None,
                host_port: None
            }]),
            Err(DockerError::Invalid(_))
        ));
    }

    #[test]
    fn defaults_are_applied_when_omitted() {
        let (_, body) = create_request(
            spec("busybox"),
            labels::test_stamp("p"),
            &ArgumentPolicy::default(),
        )
        .unwrap();
        let host = body.host_config.unwrap();
        assert_eq!(host.pids_limit, Some(DEFAULT_PIDS_LIMIT));
        assert_eq!(host.memory, None);
        assert_eq!(host.security_opt, Some(vec![NO_NEW_PRIVILEGES.to_string()]));
        let log = host.log_config.unwrap();
        assert_eq!(log.typ.as_deref(), Some("json-file"));
        let log_options = log.config.unwrap();
        assert_eq!(log_options["max-size"], "10m");
        assert_eq!(log_options["max-file"], "3");
        assert_eq!(host.mounts, None);

        let capped = ArgumentPolicy {
            max_memory_bytes: Some(64 << 20),
            ..ArgumentPolicy::default()
        };
        let (_, body) = create_request(spec("busybox"), labels::test_stamp("p"), &capped).unwrap();
        assert_eq!(body.host_config.unwrap().memory, Some(64 << 20));
    }

    fn mount(kind: MountKind, source: Option<&str>, target: &str) -> MountSpec {
        MountSpec {
            kind,
            source: source.map(str::to_string),
            target: target.into(),
            read_only: false,
            volume_driver: None,
            volume_options: vec![],
            tmpfs_size_bytes: None,
        }
    }

    fn kv(key: &str, value: &str) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: value.into(),
        }
    }

    /// Which answer a policy case expects.
    #[derive(Debug, PartialEq)]
    enum Want {
        Ok,
        Invalid,
        /// Denied, naming this rule.
        Denied(String),
    }

    fn outcome(result: Result<(Option<String>, ContainerCreateBody), DockerError>) -> Want {
        match result {
            Ok(_) => Want::Ok,
            Err(DockerError::Invalid(_)) => Want::Invalid,
            Err(DockerError::Denied(text)) => {
                let rule = text
                    .split("(rule: ")
                    .nth(1)
                    .and_then(|rest| rest.split([';', ')']).next())
                    .unwrap_or("?")
                    .to_string();
                Want::Denied(rule)
            }
            Err(other) => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn the_operator_policy_by_the_table() {
        let dir = tempfile::tempdir().unwrap();
        let allowed = dir.path().join("allowed");
        std::fs::create_dir_all(allowed.join("data")).unwrap();
        std::os::unix::fs::symlink("/etc", allowed.join("to-etc")).unwrap();
        let data = allowed.join("data").display().to_string();
        let to_etc = allowed.join("to-etc").display().to_string();
        let outside = dir.path().display().to_string();
        let rules = ArgumentPolicy {
            max_memory_bytes: Some(1 << 30),
            ..ArgumentPolicy::default()
        }
        .with_bind_roots([&allowed])
        .unwrap();

        let port = |ip: Option<&str>, host_port: Option<u16>| PortBinding {
            container_port: 80,
            protocol: "tcp".into(),
            host_ip: ip.map(str::to_string),
            host_port,
        };
        let with = |mutate: &dyn Fn(&mut ContainerSpec)| {
            let mut request = spec("busybox");
            mutate(&mut request);
            outcome(create_request(request, labels::test_stamp("p"), &rules))
        };
        let mounts = |list: Vec<MountSpec>| with(&move |s| s.mounts = list.clone());
        let bind = |source: &str| mount(MountKind::Bind, Some(source), "/data");
        let volume_with = |options: &[(&str, &str)]| {
            let mut m = mount(MountKind::Volume, Some("v1"), "/data");
            m.volume_options = options.iter().map(|(k, v)| kv(k, v)).collect();
            m
        };

        let cases: Vec<(&str, Want)> = vec![
            ("bind under the allowed dir", mounts(vec![bind(&data)])),
            ("bind outside", mounts(vec![bind(&outside)])),
            ("bind /etc", mounts(vec![bind("/etc")])),
            ("symlink to /etc", mounts(vec![bind(&to_etc)])),
            ("docker socket", mounts(vec![bind("/var/run/docker.sock")])),
            ("relative bind", mounts(vec![bind("data")])),
            (
                "bind without source",
                mounts(vec![mount(MountKind::Bind, None, "/x")]),
            ),
            (
                "volume type=none,o=bind,device=/etc",
                mounts(vec![volume_with(&[
                    ("type", "none"),
                    ("o", "bind"),
                    ("device", "/etc"),
                ])]),
            ),
            (
                "volume o=bind,device=/etc",
                mounts(vec![volume_with(&[("o", "bind"), ("device", "/etc")])]),
            ),
            (
                "volume nfs",
                mounts(vec![volume_with(&[("type", "nfs"), ("device", ":/x")])]),
            ),
            ("plain named volume", mounts(vec![volume_with(&[])])),
            (
                "anonymous volume",
                mounts(vec![mount(MountKind::Volume, None, "/v")]),
            ),
            (
                "bad volume name",
                mounts(vec![mount(MountKind::Volume, Some("../x"), "/v")]),
            ),
            ("tmpfs", mounts(vec![mount(MountKind::Tmpfs, None, "/run")])),
            (
                "tmpfs with source",
                mounts(vec![mount(MountKind::Tmpfs, Some("x"), "/run")]),
            ),
            (
                "duplicate target",
                mounts(vec![
                    mount(MountKind::Tmpfs, None, "/a/b"),
                    mount(MountKind::Volume, None, "/a//b/"),
                ]),
            ),
            (
                "relative target",
                mounts(vec![mount(MountKind::Tmpfs, None, "run")]),
            ),
            ("target /", mounts(vec![mount(MountKind::Tmpfs, None, "/")])),
            (
                "target with ..",
                mounts(vec![mount(MountKind::Tmpfs, None, "/a/../etc")]),
            ),
            (
                "loopback port",
                with(&|s| s.ports = vec![port(None, Some(8080))]),
            ),
            (
                "0.0.0.0",
                with(&|s| s.ports = vec![port(Some("0.0.0.0"), Some(8080))]),
            ),
            (
                "host port 80",
                with(&|s| s.ports = vec![port(None, Some(80))]),
            ),
            (
                "memory at ceiling",
                with(&|s| s.memory_bytes = Some(1 << 30)),
            ),
            (
                "memory above ceiling",
                with(&|s| s.memory_bytes = Some((1 << 30) + 1)),
            ),
        ];
        let expected = [
            Want::Ok,
            Want::Denied("bind-outside-allowed-dirs".into()),
            Want::Denied("sensitive-path".into()),
            Want::Denied("sensitive-path".into()),
            Want::Denied("sensitive-path".into()),
            Want::Invalid,
            Want::Invalid,
            Want::Denied("sensitive-path".into()),
            Want::Denied("sensitive-path".into()),
            Want::Denied("volume-driver-opts".into()),
            Want::Ok,
            Want::Ok,
            Want::Invalid,
            Want::Ok,
            Want::Invalid,
            Want::Invalid,
            Want::Invalid,
            Want::Invalid,
            Want::Invalid,
            Want::Ok,
            Want::Denied("public-port".into()),
            Want::Denied("privileged-port".into()),
            Want::Ok,
            Want::Denied("memory-ceiling".into()),
        ];
        assert_eq!(cases.len(), expected.len());
        for ((case, got), want) in cases.into_iter().zip(expected) {
            assert_eq!(got, want, "{case}");
        }
    }

    #[test]
    fn mounts_reach_the_engine_resolved_and_labelled() {
        let dir = tempfile::tempdir().unwrap();
        let allowed = dir.path().join("allowed");
        std::fs::create_dir_all(allowed.join("data")).unwrap();
        std::os::unix::fs::symlink(allowed.join("data"), allowed.join("link")).unwrap();
        let rules = ArgumentPolicy::default()
            .with_bind_roots([&allowed])
            .unwrap();
        let canonical_data = std::fs::canonicalize(allowed.join("data")).unwrap();
        let mut request = spec("busybox");
        let mut bind = mount(
            MountKind::Bind,
            Some(&allowed.join("link").display().to_string()),
            "/data",
        );
        bind.read_only = true;
        let mut tmpfs = mount(MountKind::Tmpfs, None, "/scratch");
        tmpfs.tmpfs_size_bytes = Some(1 << 20);
        request.mounts = vec![
            bind,
            mount(MountKind::Volume, Some("cache"), "/cache"),
            tmpfs,
        ];
        let (_, body) = create_request(request, labels::test_stamp("containers"), &rules).unwrap();
        let mounts = body.host_config.unwrap().mounts.unwrap();
        assert_eq!(mounts[0].typ, Some(MountType::BIND));
        assert_eq!(
            mounts[0].source.as_deref(),
            Some(canonical_data.to_str().unwrap()),
            "the symlink is resolved before the engine sees it"
        );
        assert_eq!(mounts[0].read_only, Some(true));
        let volume = mounts[1].volume_options.clone().unwrap();
        assert_eq!(
            volume.labels.unwrap().get(PLUGIN_LABEL).map(String::as_str),
            Some("containers")
        );
        assert_eq!(volume.driver_config, None);
        assert_eq!(
            mounts[2].tmpfs_options.clone().unwrap().size_bytes,
            Some(1 << 20)
        );
    }

    #[test]
    fn parses_restart_policies() {
        let policy = parse_restart_policy("on-failure:3").unwrap();
        assert_eq!(policy.name, Some(RestartPolicyNameEnum::ON_FAILURE));
        assert_eq!(policy.maximum_retry_count, Some(3));
        assert!(parse_restart_policy("always:3").is_err());
        assert_eq!(
            parse_restart_policy("unless-stopped").unwrap().name,
            Some(RestartPolicyNameEnum::UNLESS_STOPPED)
        );
    }
}
