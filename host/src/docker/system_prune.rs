//! `system-prune`: remove everything unused at once, like `docker system prune`.
//! Destructive tier. The same label and age filters reach every kind; build cache has no
//! labels, so a prune narrowed by labels leaves it alone rather than clearing all of it.

use bollard::query_parameters::{
    PruneBuildOptionsBuilder, PruneContainersOptionsBuilder, PruneImagesOptionsBuilder,
    PruneNetworksOptionsBuilder, PruneVolumesOptionsBuilder,
};

use super::engine_call;
use super::filters::Filters;
use super::volumes_remove::volume_prune_filters;
use crate::access::CallAccess;
use crate::bindings::DockerError;
use crate::bindings::bulkhead::plugin::system_prune::Host;
use crate::bindings::bulkhead::plugin::system_types::{SystemPruneReport, SystemPruneRequest};
use crate::capabilities::Capability;

impl Host for CallAccess {
    async fn prune_system(
        &mut self,
        request: SystemPruneRequest,
    ) -> Result<SystemPruneReport, DockerError> {
        // Check every filter before anything is deleted.
        let common = self.scope_filters(
            Filters::new()
                .labels(&request.labels)?
                .until(request.until.as_deref())?
                .into_map(),
        );
        let mut images = common.clone();
        // `dangling=false` widens the prune to every image no container uses.
        images.insert("dangling".into(), vec![(!request.all_images).to_string()]);
        let mut reclaimed: i64 = 0;

        let docker = self.authorize(Capability::SystemPrune).await?;
        let options = PruneContainersOptionsBuilder::new()
            .filters(&common)
            .build();
        let report = engine_call(&self.docker, docker.prune_containers(Some(options))).await?;
        reclaimed += report.space_reclaimed.unwrap_or(0).max(0);
        let containers = sorted(report.containers_deleted);

        let docker = self.authorize(Capability::SystemPrune).await?;
        let options = PruneNetworksOptionsBuilder::new().filters(&common).build();
        let report = engine_call(&self.docker, docker.prune_networks(Some(options))).await?;
        let networks = sorted(report.networks_deleted);

        let volumes = if request.volumes {
            let docker = self.authorize(Capability::SystemPrune).await?;
            let filters = self.scope_filters(volume_prune_filters(&docker, &request.labels)?);
            let options = PruneVolumesOptionsBuilder::new().filters(&filters).build();
            let report = engine_call(&self.docker, docker.prune_volumes(Some(options))).await?;
            reclaimed += report.space_reclaimed.unwrap_or(0).max(0);
            sorted(report.volumes_deleted)
        } else {
            Vec::new()
        };

        let docker = self.authorize(Capability::SystemPrune).await?;
        let options = PruneImagesOptionsBuilder::new().filters(&images).build();
        let report = engine_call(&self.docker, docker.prune_images(Some(options))).await?;
        reclaimed += report.space_reclaimed.unwrap_or(0).max(0);
        let images: Vec<String> = report
            .images_deleted
            .unwrap_or_default()
            .into_iter()
            .flat_map(|item| item.deleted.into_iter().chain(item.untagged))
            .collect();

        // Build cache carries no labels, so it is pruned only when the request is
        // engine-wide: no label filter, and not under `scope = owned`.
        let build_cache_pruned = request.labels.is_empty() && self.owner_filter().is_none();
        let mut build_cache_records = 0;
        if build_cache_pruned {
            let docker = self.authorize(Capability::SystemPrune).await?;
            let mut filters = Filters::new().until(request.until.as_deref())?.into_map();
            filters.retain(|_, values| !values.is_empty());
            let options = PruneBuildOptionsBuilder::new()
                .all(request.all_images)
                .filters(&filters)
                .build();
            let report = engine_call(&self.docker, docker.prune_build(Some(options))).await?;
            reclaimed += report.space_reclaimed.unwrap_or(0).max(0);
            build_cache_records =
                u32::try_from(report.caches_deleted.unwrap_or_default().len()).unwrap_or(u32::MAX);
        }

        Ok(SystemPruneReport {
            containers,
            networks,
            images,
            volumes,
            build_cache_records,
            build_cache_pruned,
            space_reclaimed: reclaimed as u64,
        })
    }
}

fn sorted(items: Option<Vec<String>>) -> Vec<String> {
    let mut items = items.unwrap_or_default();
    items.sort();
    items
}
