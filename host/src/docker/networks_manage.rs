//! `networks-manage`: create bridge networks, connect and disconnect containers.
//! Moderate tier: changes state, deletes nothing. Only the `bridge` driver can be asked
//! for: `host` and `none` share or drop the host's stack, `macvlan`/`ipvlan` put
//! containers on the host's physical network, `overlay` needs a swarm.

use std::net::{IpAddr, Ipv4Addr};

use bollard::models::{
    EndpointIpamConfig, EndpointSettings, Ipam, IpamConfig, NetworkConnectRequest,
    NetworkCreateRequest, NetworkDisconnectRequest,
};

use super::engine_call;
use super::labels;
use super::labels::Stamp;
use super::ownership::ObjectKind;
use super::refs::object_ref;
use crate::access::CallAccess;
use crate::argument_policy::ArgumentPolicy;
use crate::bindings::DockerError;
use crate::bindings::bulkhead::plugin::network_types::{
    ConnectOptions, CreatedNetwork, NetworkSpec,
};
use crate::bindings::bulkhead::plugin::networks_manage::Host;
use crate::capabilities::Capability;
use crate::sanitize::one_line;

/// The one driver a plugin may create networks with.
const ALLOWED_DRIVER: &str = "bridge";
/// Most aliases one connect may give a container.
const MAX_ALIASES: usize = 16;

impl Host for CallAccess {
    async fn create_network(&mut self, spec: NetworkSpec) -> Result<CreatedNetwork, DockerError> {
        let docker = self.authorize(Capability::NetworksManage).await?;
        let request = create_request(spec, self.stamp(), &self.rules)?;
        let name = request.name.clone();
        let created = engine_call(&self.docker, docker.create_network(request)).await?;
        self.touched(ObjectKind::Network, &created.id);
        Ok(CreatedNetwork {
            id: created.id,
            name,
            warning: Some(one_line(&created.warning, 512)).filter(|w| !w.is_empty()),
        })
    }

    async fn connect_network(
        &mut self,
        network: String,
        container: String,
        options: ConnectOptions,
    ) -> Result<(), DockerError> {
        let docker = self.authorize(Capability::NetworksManage).await?;
        let endpoint = endpoint_settings(options)?;
        let network = self.joinable_network(&docker, &network).await?;
        let container = self
            .resolve(&docker, ObjectKind::Container, &container)
            .await?;
        engine_call(
            &self.docker,
            docker.connect_network(
                &network,
                NetworkConnectRequest {
                    container,
                    endpoint_config: Some(endpoint),
                },
            ),
        )
        .await
    }

    async fn disconnect_network(
        &mut self,
        network: String,
        container: String,
        force: bool,
    ) -> Result<(), DockerError> {
        let docker = self.authorize(Capability::NetworksManage).await?;
        let network = self.joinable_network(&docker, &network).await?;
        let container = self
            .resolve(&docker, ObjectKind::Container, &container)
            .await?;
        engine_call(
            &self.docker,
            docker.disconnect_network(
                &network,
                NetworkDisconnectRequest {
                    container,
                    force: Some(force),
                },
            ),
        )
        .await
    }
}

/// Turns a plugin's spec into an engine request, refusing what the host forbids. Pure,
/// so every rule has a table test.
fn create_request(
    spec: NetworkSpec,
    stamp: Stamp<'_>,
    rules: &ArgumentPolicy,
) -> Result<NetworkCreateRequest, DockerError> {
    let name = object_ref("network", &spec.name)?.to_string();
    let driver = spec.driver.as_deref().map(str::trim).unwrap_or("");
    if !driver.is_empty() && driver != ALLOWED_DRIVER {
        return Err(DockerError::Denied(format!(
            "network driver `{}` refused: only `{ALLOWED_DRIVER}` networks may be created \
             (host and none share or drop the host's network stack, macvlan and ipvlan attach \
             to the host's physical network, overlay needs a swarm); nothing loosens this",
            one_line(driver, 64)
        )));
    }
    let subnet = spec
        .subnet
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let gateway = spec
        .gateway
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let ipam = match (subnet, gateway) {
        (None, None) => None,
        (None, Some(_)) => {
            return Err(DockerError::Invalid(
                "`gateway` needs `subnet` as well".into(),
            ));
        }
        (Some(subnet), gateway) => {
            let (network, prefix) = parse_ipv4_cidr(subnet)?;
            if let Some(gateway) = gateway {
                let ip: Ipv4Addr = gateway.parse().map_err(|_| {
                    DockerError::Invalid(format!(
                        "`gateway` `{}` is not an IPv4 address",
                        one_line(gateway, 64)
                    ))
                })?;
                if !in_subnet(ip, network, prefix) {
                    return Err(DockerError::Invalid(format!(
                        "`gateway` {ip} is outside subnet {network}/{prefix}"
                    )));
                }
            }
            Some(Ipam {
                driver: Some("default".into()),
                config: Some(vec![IpamConfig {
                    subnet: Some(format!("{network}/{prefix}")),
                    gateway: gateway.map(str::to_string),
                    ..Default::default()
                }]),
                options: None,
            })
        }
    };
    Ok(NetworkCreateRequest {
        name,
        driver: Some(ALLOWED_DRIVER.into()),
        internal: Some(spec.internal),
        attachable: Some(spec.attachable),
        enable_ipv6: Some(spec.enable_ipv6),
        ipam,
        labels: Some(labels::stamped(spec.labels, stamp, rules)?),
        ..Default::default()
    })
}

/// `a.b.c.d/n` with the host bits zero, as the engine wants it.
fn parse_ipv4_cidr(text: &str) -> Result<(Ipv4Addr, u8), DockerError> {
    let invalid = || {
        DockerError::Invalid(format!(
            "`subnet` `{}` is not an IPv4 subnet such as 10.10.0.0/24",
            one_line(text, 64)
        ))
    };
    let (address, prefix) = text.split_once('/').ok_or_else(invalid)?;
    let address: Ipv4Addr = address.parse().map_err(|_| invalid())?;
    let prefix: u8 = prefix.parse().map_err(|_| invalid())?;
    if !(8..=30).contains(&prefix) {
        return Err(DockerError::Invalid(
            "`subnet` prefix length must be 8-30".into(),
        ));
    }
    if u32::from(address) & !mask(prefix) != 0 {
        return Err(DockerError::Invalid(format!(
            "`subnet` {address}/{prefix} has host bits set"
        )));
    }
    Ok((address, prefix))
}

fn mask(prefix: u8) -> u32 {
    u32::MAX << (32 - u32::from(prefix))
}

fn in_subnet(ip: Ipv4Addr, network: Ipv4Addr, prefix: u8) -> bool {
    u32::from(ip) & mask(prefix) == u32::from(network) & mask(prefix)
}

fn endpoint_settings(options: ConnectOptions) -> Result<EndpointSettings, DockerError> {
    if options.aliases.len() > MAX_ALIASES {
        return Err(DockerError::Invalid(format!(
            "at most {MAX_ALIASES} aliases"
        )));
    }
    for alias in &options.aliases {
        let valid = !alias.is_empty()
            && alias.len() <= 253
            && !alias.starts_with(['-', '.'])
            && alias
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !valid {
            return Err(DockerError::Invalid(format!(
                "alias `{}` must be a DNS name (letters, digits, `-`, `_`, `.`)",
                one_line(alias, 64)
            )));
        }
    }
    let ipv4 = match options.ipv4_address.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => match text.parse::<IpAddr>() {
            Ok(IpAddr::V4(ip)) => Some(ip.to_string()),
            _ => {
                return Err(DockerError::Invalid(format!(
                    "`ipv4_address` `{}` is not an IPv4 address",
                    one_line(text, 64)
                )));
            }
        },
    };
    Ok(EndpointSettings {
        aliases: (!options.aliases.is_empty()).then_some(options.aliases),
        ipam_config: ipv4.map(|ip| EndpointIpamConfig {
            ipv4_address: Some(ip),
            ..Default::default()
        }),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::bulkhead::plugin::types::KeyValue;

    fn spec(name: &str) -> NetworkSpec {
        NetworkSpec {
            name: name.into(),
            driver: None,
            internal: false,
            attachable: false,
            enable_ipv6: false,
            labels: vec![],
            subnet: None,
            gateway: None,
        }
    }

    #[test]
    fn only_bridge_networks_with_host_labels() {
        let request = create_request(
            spec("app"),
            labels::test_stamp("containers"),
            &ArgumentPolicy::default(),
        )
        .unwrap();
        assert_eq!(request.driver.as_deref(), Some("bridge"));
        let labels = request.labels.unwrap();
        assert_eq!(labels[labels::PLUGIN_LABEL], "containers");
        for driver in [
            "host", "none", "macvlan", "ipvlan", "overlay", "null", "weave",
        ] {
            let mut asked = spec("app");
            asked.driver = Some(driver.into());
            assert!(
                matches!(
                    create_request(asked, labels::test_stamp("p"), &ArgumentPolicy::default()),
                    Err(DockerError::Denied(_))
                ),
                "{driver}"
            );
        }
        let mut bridge = spec("app");
        bridge.driver = Some(" bridge ".into());
        assert!(
            create_request(bridge, labels::test_stamp("p"), &ArgumentPolicy::default()).is_ok()
        );
        let mut forged = spec("app");
        forged.labels = vec![KeyValue {
            key: "io.bulkhead.owner".into(),
            value: "me".into(),
        }];
        assert!(matches!(
            create_request(forged, labels::test_stamp("p"), &ArgumentPolicy::default()),
            Err(DockerError::Denied(_))
        ));
        assert!(matches!(
            create_request(
                spec("../x"),
                labels::test_stamp("p"),
                &ArgumentPolicy::default()
            ),
            Err(DockerError::Invalid(_))
        ));
    }

    #[test]
    fn subnets_and_gateways() {
        let with = |subnet: Option<&str>, gateway: Option<&str>| {
            let mut asked = spec("app");
            asked.subnet = subnet.map(str::to_string);
            asked.gateway = gateway.map(str::to_string);
            create_request(asked, labels::test_stamp("p"), &ArgumentPolicy::default())
        };
        let ok = with(Some("10.10.0.0/24"), Some("10.10.0.1")).unwrap();
        let pool = &ok.ipam.unwrap().config.unwrap()[0];
        assert_eq!(pool.subnet.as_deref(), Some("10.10.0.0/24"));
        assert_eq!(pool.gateway.as_deref(), Some("10.10.0.1"));
        for (subnet, gateway) in [
            (Some("10.10.0.1/24"), None),
            (Some("10.10.0.0"), None),
            (Some("10.10.0.0/33"), None),
            (Some("fd00::/64"), None),
            (Some("10.10.0.0/24"), Some("10.11.0.1")),
            (Some("10.10.0.0/24"), Some("gw")),
            (None, Some("10.10.0.1")),
        ] {
            assert!(
                matches!(with(subnet, gateway), Err(DockerError::Invalid(_))),
                "{subnet:?} {gateway:?}"
            );
        }
    }

    #[test]
    fn connect_options() {
        let settings = endpoint_settings(ConnectOptions {
            aliases: vec!["db".into()],
            ipv4_address: Some("10.10.0.5".into()),
        })
        .unwrap();
        assert_eq!(settings.aliases, Some(vec!["db".to_string()]));
        assert_eq!(
            settings.ipam_config.unwrap().ipv4_address.as_deref(),
            Some("10.10.0.5")
        );
        for (aliases, ip) in [
            (vec!["a b".to_string()], None),
            (vec!["-x".to_string()], None),
            (vec![], Some("::1")),
            (vec![], Some("10.0.0.300")),
        ] {
            assert!(
                endpoint_settings(ConnectOptions {
                    aliases,
                    ipv4_address: ip.map(str::to_string)
                })
                .is_err()
            );
        }
    }
}
