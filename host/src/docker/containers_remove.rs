//! `containers-remove`: delete a container. Destructive tier: the policy grants it only
//! when the operator allows destructive operations.

use bollard::query_parameters::RemoveContainerOptionsBuilder;

use super::engine_call;
use super::refs::container_ref;
use crate::access::CallAccess;
use crate::bindings::DockerError;
use crate::bindings::bulkhead::plugin::containers_remove::Host;
use crate::capabilities::Capability;

impl Host for CallAccess {
    async fn remove_container(
        &mut self,
        target: String,
        force: bool,
        volumes: bool,
    ) -> Result<(), DockerError> {
        let docker = self.authorize(Capability::ContainersRemove).await?;
        let target = container_ref(&target)?;
        // Without `force` the engine itself refuses a running container (409), which
        // reaches the plugin as `conflict`: nothing running is deleted by accident.
        let options = RemoveContainerOptionsBuilder::new()
            .force(force)
            .v(volumes)
            .build();
        engine_call(&self.docker, docker.remove_container(target, Some(options))).await
    }
}
