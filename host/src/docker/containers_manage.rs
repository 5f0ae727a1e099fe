//! `containers-manage`: create, start, stop. Moderate tier: changes state, deletes
//! nothing. Argument policy lives here: what a spec may ask of the engine.

use std::collections::HashMap;

use bollard::models::{
    ContainerCreateBody, HostConfig, PortBinding as EnginePortBinding, RestartPolicy,
    RestartPolicyNameEnum,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, InspectContainerOptions, StartContainerOptions,
    StopContainerOptionsBuilder,
};

use super::engine_call;
use super::labels;
use super::refs::container_ref;
use crate::access::CallAccess;
use crate::bindings::DockerError;
use crate::bindings::bulkhead::plugin::containers_manage::Host;
use crate::bindings::bulkhead::plugin::types::{ContainerSpec, CreatedContainer};
use crate::capabilities::Capability;

/// The engine's own minimum for a memory limit.
const MIN_MEMORY_BYTES: i64 = 6 << 20;
const MAX_STOP_TIMEOUT_SECS: u32 = 120;

impl Host for CallAccess {
    async fn create_container(
        &mut self,
        spec: ContainerSpec,
    ) -> Result<CreatedContainer, DockerError> {
        let docker = self.authorize(Capability::ContainersManage).await?;
        let (name, body) = create_request(spec, &self.plugin)?;
        let mut options = CreateContainerOptionsBuilder::new();
        if let Some(name) = &name {
            options = options.name(name);
        }
        let created = engine_call(
            &self.docker,
            docker.create_container(Some(options.build()), body),
        )
        .await?;
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
        let target = container_ref(&target)?;
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
        let target = container_ref(&target)?;
        let mut options = StopContainerOptionsBuilder::new();
        if let Some(secs) = timeout_secs {
            if secs > MAX_STOP_TIMEOUT_SECS {
                return Err(DockerError::Invalid(format!(
                    "stop timeout is at most {MAX_STOP_TIMEOUT_SECS} s"
                )));
            }
            options = options.t(secs as i32);
        }
        engine_call(
            &self.docker,
            docker.stop_container(target, Some(options.build())),
        )
        .await
    }
}

/// Turns a plugin's spec into an engine request, refusing what the policy forbids.
/// Pure, so every rule has a table test.
pub(super) fn create_request(
    spec: ContainerSpec,
    plugin: &str,
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
    let labels = labels::stamped(spec.labels, plugin)?;

    let network_mode = match spec.network.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(mode) => Some(validate_network(mode)?.to_string()),
    };

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
        let host_ip = match port.host_ip.as_deref().map(str::trim) {
            None | Some("") => "127.0.0.1".to_string(),
            Some(ip) => ip
                .parse::<std::net::IpAddr>()
                .map_err(|_| DockerError::Invalid(format!("`{ip}` is not an IP address")))?
                .to_string(),
        };
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
    if spec.nano_cpus.is_some_and(|n| n <= 0) {
        return Err(DockerError::Invalid("`cpus` must be positive".into()));
    }
    if spec.pids_limit.is_some_and(|n| n <= 0) {
        return Err(DockerError::Invalid("`pids_limit` must be positive".into()));
    }
    let restart_policy = spec
        .restart_policy
        .as_deref()
        .map(parse_restart_policy)
        .transpose()?;

    let host_config = HostConfig {
        memory: spec.memory_bytes,
        nano_cpus: spec.nano_cpus,
        pids_limit: spec.pids_limit,
        readonly_rootfs: Some(spec.read_only_rootfs),
        network_mode,
        port_bindings: (!bindings.is_empty()).then_some(bindings),
        restart_policy,
        // Spelled out so a reader sees what the typed spec can never turn on.
        privileged: Some(false),
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
        ..Default::default()
    };
    Ok((spec.name, body))
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
    use crate::bindings::bulkhead::plugin::types::{KeyValue, PortBinding};

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
        let (_, body) = create_request(request, "containers").unwrap();
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
            create_request(request, "p")
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
