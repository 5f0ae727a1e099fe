//! `docker_prune_containers`: delete every stopped container matching the filters.
//! Destructive: hidden unless the operator allows destructive operations.

use bulkhead_plugin_sdk::docker::containers_remove::{self, PruneFilter, PruneReport};
use bulkhead_plugin_sdk::{Capability, Reply, ToolError, TypedTool};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::render;

/// Which stopped containers to delete.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PruneArgs {
    /// Only containers created before this: Unix seconds, an RFC 3339 time, or a
    /// duration ago such as 24h.
    #[schemars(length(min = 1, max = 64))]
    until: Option<String>,
    /// Only containers with all of these labels, each `key` or `key=value`.
    #[serde(default)]
    #[schemars(length(max = 16))]
    labels: Vec<String>,
}

pub struct PruneContainers;

impl TypedTool for PruneContainers {
    const NAME: &'static str = "docker_prune_containers";
    const TITLE: &'static str = "Prune stopped containers";
    const DESCRIPTION: &'static str = "Permanently delete every stopped container that \
        matches the filters (like `docker container prune`); without filters, every stopped \
        container on the engine. Destructive: their writable layers are lost. Running \
        containers are never touched. Answers the deleted ids (first 100) and the space \
        reclaimed.";
    const CAPABILITIES: &'static [Capability] = &[Capability::ContainersRemove];
    type Args = PruneArgs;
    type Output = PruneReport;

    fn run(args: PruneArgs) -> Result<Reply<PruneReport>, ToolError> {
        let report = containers_remove::prune_containers(&PruneFilter {
            until: args.until,
            labels: args.labels,
        })
        .map_err(crate::docker_error)?;
        Ok(Reply::new(text(&report), report))
    }
}

pub(crate) fn text(report: &PruneReport) -> String {
    if report.deleted_total == 0 {
        return "No stopped containers matched; nothing was deleted.".to_owned();
    }
    let ids: Vec<String> = report
        .deleted
        .iter()
        .map(|id| render::short_id(id))
        .collect();
    let more = (report.deleted_total as usize).saturating_sub(report.deleted.len());
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    format!(
        "Deleted {} stopped container(s), reclaiming {}: {}{more}.",
        report.deleted_total,
        render::bytes_text(i64::try_from(report.space_reclaimed_bytes).unwrap_or(i64::MAX)),
        ids.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_text_counts_what_it_does_not_list() {
        let report = PruneReport {
            deleted: vec!["0123456789abcdef".into()],
            deleted_total: 3,
            space_reclaimed_bytes: 2048,
        };
        assert_eq!(
            text(&report),
            "Deleted 3 stopped container(s), reclaiming 2 KiB: 0123456789ab and 2 more."
        );
        let nothing = PruneReport {
            deleted: vec![],
            deleted_total: 0,
            space_reclaimed_bytes: 0,
        };
        assert!(text(&nothing).starts_with("No stopped containers matched"));
    }
}
