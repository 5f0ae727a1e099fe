//! `volumes-remove`: remove one volume, prune unused ones. Destructive tier: the data in
//! a volume is gone for good.

use bollard::query_parameters::{PruneVolumesOptionsBuilder, RemoveVolumeOptionsBuilder};

use super::engine_call;
use super::filters::Filters;
use super::ownership::ObjectKind;
use crate::access::CallAccess;
use crate::bindings::DockerError;
use crate::bindings::bulkhead::plugin::volume_types::VolumePruneReport;
use crate::bindings::bulkhead::plugin::volumes_remove::Host;
use crate::capabilities::Capability;

impl Host for CallAccess {
    async fn remove_volume(&mut self, name: String, force: bool) -> Result<(), DockerError> {
        let docker = self.authorize(Capability::VolumesRemove).await?;
        let name = self.resolve(&docker, ObjectKind::Volume, &name).await?;
        let options = RemoveVolumeOptionsBuilder::new().force(force).build();
        engine_call(&self.docker, docker.remove_volume(&name, Some(options))).await
    }

    async fn prune_volumes(
        &mut self,
        labels: Vec<String>,
    ) -> Result<VolumePruneReport, DockerError> {
        let docker = self.authorize(Capability::VolumesRemove).await?;
        let filters = self.scope_filters(volume_prune_filters(&docker, &labels)?);
        let options = PruneVolumesOptionsBuilder::new().filters(&filters).build();
        let report = engine_call(&self.docker, docker.prune_volumes(Some(options))).await?;
        let mut removed = report.volumes_deleted.unwrap_or_default();
        removed.sort();
        Ok(VolumePruneReport {
            removed,
            space_reclaimed: report.space_reclaimed.unwrap_or(0).max(0) as u64,
        })
    }
}

/// The prune filters for the negotiated API: from 1.42 the engine prunes only anonymous
/// volumes unless asked for `all`; the host asks for it, so a prune means the same on
/// every engine (every unused volume matching the labels, as 20.10 does).
pub(super) fn volume_prune_filters(
    docker: &bollard::Docker,
    labels: &[String],
) -> Result<std::collections::HashMap<String, Vec<String>>, DockerError> {
    let version = docker.client_version();
    let filters = Filters::new().labels(labels)?;
    let filters = if (version.major_version, version.minor_version) >= (1, 42) {
        filters.flag("all", Some(true))
    } else {
        filters
    };
    Ok(filters.into_map())
}
