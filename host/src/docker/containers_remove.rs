//! `containers-remove`: delete a container, prune stopped ones. Destructive tier: the
//! policy grants it only when the operator allows destructive operations.

use std::collections::HashMap;

use bollard::query_parameters::{PruneContainersOptionsBuilder, RemoveContainerOptionsBuilder};

use super::engine_call;
use super::ownership::ObjectKind;
use crate::access::CallAccess;
use crate::bindings::DockerError;
use crate::bindings::bulkhead::plugin::containers_remove::{Host, PruneFilter, PruneReport};
use crate::capabilities::Capability;
use crate::sanitize::one_line;

/// Ids listed in a prune report; the total is always exact.
const MAX_REPORTED_IDS: usize = 100;
const MAX_LABEL_FILTERS: usize = 16;
const MAX_FILTER_BYTES: usize = 512;

impl Host for CallAccess {
    async fn remove_container(
        &mut self,
        target: String,
        force: bool,
        volumes: bool,
    ) -> Result<(), DockerError> {
        let docker = self.authorize(Capability::ContainersRemove).await?;
        if volumes && self.removes_only_owned {
            return Err(DockerError::Denied(format!(
                "plugin `{}` may remove a container's anonymous volumes only with the \
                 operator's --allow-destructive",
                self.plugin
            )));
        }
        let target = self
            .resolve(&docker, ObjectKind::Container, &target)
            .await?;
        let target = target.as_str();
        // Without `force` the engine itself refuses a running container (409), which
        // reaches the plugin as `conflict`: nothing running is deleted by accident.
        let options = RemoveContainerOptionsBuilder::new()
            .force(force)
            .v(volumes)
            .build();
        engine_call(&self.docker, docker.remove_container(target, Some(options))).await
    }

    async fn prune_containers(&mut self, filter: PruneFilter) -> Result<PruneReport, DockerError> {
        let docker = self.authorize(Capability::ContainersRemove).await?;
        let filters = self.scope_filters(prune_filters(&filter)?);
        let options = PruneContainersOptionsBuilder::new()
            .filters(&filters)
            .build();
        // The engine prunes stopped containers only; running ones are never touched.
        let pruned = engine_call(&self.docker, docker.prune_containers(Some(options))).await?;
        let deleted = pruned.containers_deleted.unwrap_or_default();
        Ok(PruneReport {
            deleted_total: u32::try_from(deleted.len()).unwrap_or(u32::MAX),
            deleted: deleted.into_iter().take(MAX_REPORTED_IDS).collect(),
            space_reclaimed_bytes: pruned
                .space_reclaimed
                .and_then(|bytes| u64::try_from(bytes).ok())
                .unwrap_or(0),
        })
    }
}

/// The engine's prune filters, after checking the plugin's text: `until` is a Unix
/// time, an RFC 3339 time or a Go duration (`24h`); labels are `key` or `key=value`.
fn prune_filters(filter: &PruneFilter) -> Result<HashMap<String, Vec<String>>, DockerError> {
    let mut filters = HashMap::new();
    if let Some(until) = filter
        .until
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
    {
        let valid = until.len() <= 64
            && until
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '+' | '-'))
            && until.starts_with(|c: char| c.is_ascii_digit());
        if !valid {
            return Err(DockerError::Invalid(format!(
                "`until` `{}` is not a time: use Unix seconds, an RFC 3339 time or a duration such as 24h",
                one_line(until, 64)
            )));
        }
        filters.insert("until".to_string(), vec![until.to_string()]);
    }
    if filter.labels.len() > MAX_LABEL_FILTERS {
        return Err(DockerError::Invalid(format!(
            "at most {MAX_LABEL_FILTERS} label filters"
        )));
    }
    for label in &filter.labels {
        let key = label.split_once('=').map_or(label.as_str(), |(key, _)| key);
        if key.trim().is_empty()
            || label.len() > MAX_FILTER_BYTES
            || label.contains(char::is_control)
        {
            return Err(DockerError::Invalid(
                "label filters are `key` or `key=value`, without control characters".into(),
            ));
        }
    }
    if !filter.labels.is_empty() {
        filters.insert("label".to_string(), filter.labels.clone());
    }
    Ok(filters)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(until: Option<&str>, labels: &[&str]) -> PruneFilter {
        PruneFilter {
            until: until.map(str::to_string),
            labels: labels.iter().map(|l| l.to_string()).collect(),
        }
    }

    #[test]
    fn prune_filters_by_the_table() {
        let empty = prune_filters(&filter(None, &[])).unwrap();
        assert!(empty.is_empty());
        let both = prune_filters(&filter(Some("24h"), &["app=web", "tier"])).unwrap();
        assert_eq!(both["until"], ["24h"]);
        assert_eq!(both["label"], ["app=web", "tier"]);
        for until in ["1700000000", "2026-11-22T07:00:00Z", "1h30m", "2026-11-22"] {
            assert!(prune_filters(&filter(Some(until), &[])).is_ok(), "{until}");
        }
        for until in ["yesterday", "24h; rm", "-1h", "1h&all=1"] {
            assert!(
                matches!(
                    prune_filters(&filter(Some(until), &[])),
                    Err(DockerError::Invalid(_))
                ),
                "{until}"
            );
        }
        for label in ["", "=x", "a\nb"] {
            assert!(
                matches!(
                    prune_filters(&filter(None, &[label])),
                    Err(DockerError::Invalid(_))
                ),
                "{label:?}"
            );
        }
    }
}
