//! `networks-read`: list and inspect networks. Read tier. Also the (empty) host side of
//! `network-types`, which only declares records.

use bollard::models::{Ipam, Network, NetworkInspect};
use bollard::query_parameters::{InspectNetworkOptions, ListNetworksOptionsBuilder};

use super::containers_read::sorted_labels;
use super::engine_call;
use super::filters::Filters;
use super::ownership::ObjectKind;
use super::paging::paginate;
use crate::access::CallAccess;
use crate::bindings::DockerError;
use crate::bindings::bulkhead::plugin::network_types::{
    self, IpamPool, NetworkDetails, NetworkEndpoint, NetworkFilter, NetworkPage, NetworkSummary,
};
use crate::bindings::bulkhead::plugin::networks_read::Host;
use crate::bindings::bulkhead::plugin::types::PageRequest;
use crate::capabilities::Capability;

impl network_types::Host for CallAccess {}

impl Host for CallAccess {
    async fn list_networks(
        &mut self,
        filter: NetworkFilter,
        page: PageRequest,
    ) -> Result<NetworkPage, DockerError> {
        let docker = self.authorize(Capability::NetworksRead).await?;
        let filters = Filters::new()
            .text("name", filter.name.as_deref())?
            .text("driver", filter.driver.as_deref())?
            .labels(&filter.labels)?
            .into_map();
        let filters = self.scope_filters(filters);
        let options = ListNetworksOptionsBuilder::new().filters(&filters).build();
        let mut all = engine_call(&self.docker, docker.list_networks(Some(options))).await?;
        all.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
        let page = paginate(all, &page)?.map(summary_from_engine);
        Ok(NetworkPage {
            items: page.items,
            total: page.total,
            next_cursor: page.next_cursor,
        })
    }

    async fn inspect_network(&mut self, network: String) -> Result<NetworkDetails, DockerError> {
        let docker = self.authorize(Capability::NetworksRead).await?;
        let network = self.resolve(&docker, ObjectKind::Network, &network).await?;
        let details = engine_call(
            &self.docker,
            docker.inspect_network(&network, None::<InspectNetworkOptions>),
        )
        .await?;
        Ok(details_from_engine(details))
    }
}

fn summary_from_engine(network: Network) -> NetworkSummary {
    NetworkSummary {
        id: network.id.unwrap_or_default(),
        name: network.name.unwrap_or_default(),
        driver: network.driver.unwrap_or_default(),
        scope: network.scope.unwrap_or_default(),
        created: network.created.map(|c| c.to_string()),
        internal: network.internal.unwrap_or(false),
        attachable: network.attachable.unwrap_or(false),
        enable_ipv6: network.enable_ipv6.unwrap_or(false),
        subnets: ipam_pools(network.ipam)
            .1
            .into_iter()
            .filter_map(|pool| pool.subnet)
            .collect(),
        labels: sorted_labels(network.labels),
    }
}

/// The IPAM driver and pools, empty strings dropped.
fn ipam_pools(ipam: Option<Ipam>) -> (String, Vec<IpamPool>) {
    let ipam = ipam.unwrap_or_default();
    let pools = ipam
        .config
        .unwrap_or_default()
        .into_iter()
        .map(|config| IpamPool {
            subnet: config.subnet.filter(|s| !s.is_empty()),
            gateway: config.gateway.filter(|s| !s.is_empty()),
            ip_range: config.ip_range.filter(|s| !s.is_empty()),
        })
        .collect();
    (ipam.driver.unwrap_or_default(), pools)
}

pub(super) fn details_from_engine(network: NetworkInspect) -> NetworkDetails {
    let (ipam_driver, ipam) = ipam_pools(network.ipam);
    let mut containers: Vec<NetworkEndpoint> = network
        .containers
        .unwrap_or_default()
        .into_iter()
        .map(|(id, endpoint)| NetworkEndpoint {
            container_id: id,
            container_name: endpoint.name.unwrap_or_default(),
            ipv4_address: endpoint.ipv4_address.filter(|s| !s.is_empty()),
            ipv6_address: endpoint.ipv6_address.filter(|s| !s.is_empty()),
            mac_address: endpoint.mac_address.filter(|s| !s.is_empty()),
        })
        .collect();
    containers.sort_by(|a, b| {
        (&a.container_name, &a.container_id).cmp(&(&b.container_name, &b.container_id))
    });
    NetworkDetails {
        id: network.id.unwrap_or_default(),
        name: network.name.unwrap_or_default(),
        driver: network.driver.unwrap_or_default(),
        scope: network.scope.unwrap_or_default(),
        created: network.created.map(|c| c.to_string()),
        internal: network.internal.unwrap_or(false),
        attachable: network.attachable.unwrap_or(false),
        ingress: network.ingress.unwrap_or(false),
        enable_ipv6: network.enable_ipv6.unwrap_or(false),
        ipam_driver,
        ipam,
        labels: sorted_labels(network.labels),
        // Driver options are key/value metadata like labels: same redaction.
        options: sorted_labels(network.options),
        containers,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use bollard::models::{EndpointResource, IpamConfig};

    use super::*;

    #[test]
    fn details_keep_addresses_and_redact_options() {
        let network = NetworkInspect {
            id: Some("n1".into()),
            name: Some("app".into()),
            driver: Some("bridge".into()),
            ipam: Some(Ipam {
                driver: Some("default".into()),
                config: Some(vec![IpamConfig {
                    subnet: Some("10.9.0.0/24".into()),
                    gateway: Some("10.9.0.1".into()),
                    ip_range: Some(String::new()),
                    auxiliary_addresses: None,
                }]),
                options: None,
            }),
            options: Some(HashMap::from([("api_token".into(), "s3cret".into())])),
            containers: Some(HashMap::from([(
                "c1".into(),
                EndpointResource {
                    name: Some("web".into()),
                    ipv4_address: Some("10.9.0.2/24".into()),
                    ipv6_address: Some(String::new()),
                    ..Default::default()
                },
            )])),
            ..Default::default()
        };
        let details = details_from_engine(network);
        assert_eq!(details.ipam[0].subnet.as_deref(), Some("10.9.0.0/24"));
        assert_eq!(details.ipam[0].ip_range, None);
        assert_eq!(details.containers[0].container_name, "web");
        assert_eq!(details.containers[0].ipv6_address, None);
        assert_ne!(details.options[0].value, "s3cret");
    }
}
