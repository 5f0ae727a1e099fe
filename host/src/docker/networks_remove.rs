//! `networks-remove`: remove one network, prune unused ones. Destructive tier. The
//! predefined networks are refused whatever they are called by (name, id or id prefix).

use bollard::query_parameters::{InspectNetworkOptions, PruneNetworksOptionsBuilder};

use super::engine_call;
use super::filters::Filters;
use super::ownership::ObjectKind;
use crate::access::CallAccess;
use crate::bindings::DockerError;
use crate::bindings::bulkhead::plugin::networks_remove::Host;
use crate::capabilities::Capability;

/// Networks the engine creates itself; removing one breaks every default container.
const PREDEFINED: &[&str] = &["bridge", "host", "none"];

impl Host for CallAccess {
    async fn remove_network(&mut self, network: String) -> Result<(), DockerError> {
        let docker = self.authorize(Capability::NetworksRemove).await?;
        let network = self.resolve(&docker, ObjectKind::Network, &network).await?;
        let network = network.as_str();
        refuse_predefined(network)?;
        // Resolve ids and prefixes to the real name, then remove by full id so the
        // object checked is the object removed.
        let found = engine_call(
            &self.docker,
            docker.inspect_network(network, None::<InspectNetworkOptions>),
        )
        .await?;
        refuse_predefined(found.name.as_deref().unwrap_or_default())?;
        let id = found.id.unwrap_or_else(|| network.to_string());
        engine_call(&self.docker, docker.remove_network(&id)).await
    }

    async fn prune_networks(
        &mut self,
        labels: Vec<String>,
        until: Option<String>,
    ) -> Result<Vec<String>, DockerError> {
        let docker = self.authorize(Capability::NetworksRemove).await?;
        let filters = Filters::new()
            .labels(&labels)?
            .until(until.as_deref())?
            .into_map();
        let filters = self.scope_filters(filters);
        let options = PruneNetworksOptionsBuilder::new().filters(&filters).build();
        let report = engine_call(&self.docker, docker.prune_networks(Some(options))).await?;
        let mut removed = report.networks_deleted.unwrap_or_default();
        removed.sort();
        Ok(removed)
    }
}

fn refuse_predefined(name: &str) -> Result<(), DockerError> {
    if PREDEFINED.contains(&name) {
        return Err(DockerError::Denied(format!(
            "`{name}` is a predefined network of the engine and cannot be removed; nothing \
             loosens this"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predefined_networks_are_refused() {
        for name in PREDEFINED {
            assert!(matches!(
                refuse_predefined(name),
                Err(DockerError::Denied(_))
            ));
        }
        assert!(refuse_predefined("bridge-app").is_ok());
    }
}
