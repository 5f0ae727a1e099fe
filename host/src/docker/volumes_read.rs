//! `volumes-read`: list and inspect volumes. Read tier. Also the (empty) host side of
//! `volume-types`, and the conversion of engine volumes shared with `volumes-manage`.

use std::collections::HashMap;

use bollard::models::Volume;
use bollard::query_parameters::ListVolumesOptionsBuilder;

use super::containers_read::sorted_labels;
use super::engine_call;
use super::filters::Filters;
use super::ownership::ObjectKind;
use super::paging::paginate;
use crate::access::CallAccess;
use crate::bindings::DockerError;
use crate::bindings::bulkhead::plugin::types::{KeyValue, PageRequest};
use crate::bindings::bulkhead::plugin::volume_types::{
    self, VolumeDetails, VolumeFilter, VolumePage, VolumeSummary, VolumeUsage,
};
use crate::bindings::bulkhead::plugin::volumes_read::Host;
use crate::capabilities::Capability;
use crate::redact::{REDACTED, is_secret_name, redact_label};

impl volume_types::Host for CallAccess {}

impl Host for CallAccess {
    async fn list_volumes(
        &mut self,
        filter: VolumeFilter,
        page: PageRequest,
    ) -> Result<VolumePage, DockerError> {
        let docker = self.authorize(Capability::VolumesRead).await?;
        let filters = Filters::new()
            .text("name", filter.name.as_deref())?
            .text("driver", filter.driver.as_deref())?
            .labels(&filter.labels)?
            .flag("dangling", filter.dangling)
            .into_map();
        let filters = self.scope_filters(filters);
        let options = ListVolumesOptionsBuilder::new().filters(&filters).build();
        let listed = engine_call(&self.docker, docker.list_volumes(Some(options))).await?;
        let mut all = listed.volumes.unwrap_or_default();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        let page = paginate(all, &page)?.map(summary_from_engine);
        Ok(VolumePage {
            items: page.items,
            total: page.total,
            next_cursor: page.next_cursor,
        })
    }

    async fn inspect_volume(&mut self, name: String) -> Result<VolumeDetails, DockerError> {
        let docker = self.authorize(Capability::VolumesRead).await?;
        let name = self.resolve(&docker, ObjectKind::Volume, &name).await?;
        let volume = engine_call(&self.docker, docker.inspect_volume(&name)).await?;
        Ok(details_from_engine(volume))
    }
}

fn summary_from_engine(volume: Volume) -> VolumeSummary {
    VolumeSummary {
        name: volume.name,
        driver: volume.driver,
        mountpoint: volume.mountpoint,
        created: volume.created_at.map(|c| c.to_string()),
        scope: volume.scope.map(|s| s.to_string()).unwrap_or_default(),
        labels: sorted_labels(Some(volume.labels)),
    }
}

pub(super) fn details_from_engine(volume: Volume) -> VolumeDetails {
    VolumeDetails {
        options: redacted_options(volume.options),
        usage: volume.usage_data.map(|usage| VolumeUsage {
            size_bytes: usage.size,
            ref_count: usage.ref_count,
        }),
        name: volume.name,
        driver: volume.driver,
        mountpoint: volume.mountpoint,
        created: volume.created_at.map(|c| c.to_string()),
        scope: volume.scope.map(|s| s.to_string()).unwrap_or_default(),
        labels: sorted_labels(Some(volume.labels)),
    }
}

/// Driver options sorted by key. Secret-looking keys lose their values; the mount
/// options `o` (`addr=…,username=…,password=…` for cifs, say) lose the values of their
/// secret-looking parts.
fn redacted_options(options: HashMap<String, String>) -> Vec<KeyValue> {
    let mut options: Vec<KeyValue> = options
        .into_iter()
        .map(|(key, value)| {
            let value = if key == "o" {
                redact_mount_options(&value)
            } else {
                redact_label(&key, &value)
            };
            KeyValue { key, value }
        })
        .collect();
    options.sort_by(|a, b| a.key.cmp(&b.key));
    options
}

fn redact_mount_options(options: &str) -> String {
    options
        .split(',')
        .map(|part| match part.split_once('=') {
            Some((key, _)) if is_secret_name(key) => format!("{key}={REDACTED}"),
            _ => part.to_string(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_options_are_redacted() {
        let options = HashMap::from([
            ("type".to_string(), "cifs".to_string()),
            (
                "o".to_string(),
                "addr=10.0.0.2,username=bob,password=hunter2,vers=3.0".to_string(),
            ),
            ("api_token".to_string(), "t0k3n".to_string()),
        ]);
        let shown = redacted_options(options);
        let text = format!("{shown:?}");
        assert!(
            !text.contains("hunter2") && !text.contains("t0k3n"),
            "{text}"
        );
        assert!(text.contains("username=bob"), "{text}");
        assert_eq!(shown[0].key, "api_token");
        assert_eq!(shown[2].value, "cifs");
    }
}
