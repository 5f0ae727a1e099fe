//! What the engine holds of a project: its containers, networks and volumes, found by
//! their `com.docker.compose.project` label, whoever deployed them.

use bulkhead_plugin_sdk::ToolError;
use bulkhead_plugin_sdk::docker::network_types::{NetworkFilter, NetworkSummary};
use bulkhead_plugin_sdk::docker::volume_types::{VolumeFilter, VolumeSummary};
use bulkhead_plugin_sdk::docker::{
    ContainerSummary, ListFilter, PageRequest, containers_read, networks_read, volumes_read,
};

use crate::labels;

/// Most pages read of one listing; 100 items each.
const MAX_PAGES: usize = 50;

/// One container of a project.
#[derive(Debug, Clone)]
pub struct Member {
    pub id: String,
    pub name: String,
    pub service: String,
    pub number: u32,
    pub state: String,
    pub status: String,
    pub image: String,
    pub image_id: String,
    pub config_hash: Option<String>,
    pub depends_on: Vec<String>,
    pub summary: ContainerSummary,
}

impl Member {
    pub fn running(&self) -> bool {
        matches!(self.state.as_str(), "running" | "restarting")
    }

    fn from_summary(summary: ContainerSummary) -> Option<Member> {
        let service = labels::get(&summary.labels, labels::SERVICE)?.to_string();
        let number = labels::get(&summary.labels, labels::NUMBER)
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let depends_on = labels::get(&summary.labels, labels::DEPENDS_ON)
            .map(|text| {
                text.split(',')
                    .filter_map(|entry| entry.split(':').next())
                    .filter(|name| !name.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        Some(Member {
            id: summary.id.clone(),
            name: summary.names.first().cloned().unwrap_or_default(),
            service,
            number,
            state: summary.state.clone(),
            status: summary.status.clone(),
            image: summary.image.clone(),
            image_id: summary.image_id.clone(),
            config_hash: labels::get(&summary.labels, labels::CONFIG_HASH).map(str::to_string),
            depends_on,
            summary,
        })
    }
}

/// Every container carrying `label_filters` (stopped ones too), one-off runs excluded.
pub fn containers(label_filters: Vec<String>) -> Result<Vec<ContainerSummary>, ToolError> {
    let filter = ListFilter {
        all: true,
        labels: label_filters,
        ..ListFilter::default()
    };
    let found = every_page(|page| {
        let page = containers_read::list_containers(&filter, &page)?;
        Ok((page.items, page.next_cursor))
    })?;
    Ok(found
        .into_iter()
        .filter(|c| {
            labels::get(&c.labels, labels::ONEOFF).is_none_or(|v| v.eq_ignore_ascii_case("false"))
        })
        .collect())
}

/// The project's containers, by service name then number.
pub fn members(project: &str) -> Result<Vec<Member>, ToolError> {
    let mut members: Vec<Member> = containers(vec![labels::filter(labels::PROJECT, project)])?
        .into_iter()
        .filter_map(Member::from_summary)
        .collect();
    members.sort_by(|a, b| (&a.service, a.number, &a.name).cmp(&(&b.service, b.number, &b.name)));
    Ok(members)
}

/// The project's networks (those it created; external ones carry no project label).
pub fn networks(project: &str) -> Result<Vec<NetworkSummary>, ToolError> {
    let filter = NetworkFilter {
        name: None,
        driver: None,
        labels: vec![labels::filter(labels::PROJECT, project)],
    };
    every_page(|page| {
        let page = networks_read::list_networks(&filter, &page)?;
        Ok((page.items, page.next_cursor))
    })
}

/// The project's volumes.
pub fn volumes(project: &str) -> Result<Vec<VolumeSummary>, ToolError> {
    let filter = VolumeFilter {
        name: None,
        driver: None,
        labels: vec![labels::filter(labels::PROJECT, project)],
        dangling: None,
    };
    every_page(|page| {
        let page = volumes_read::list_volumes(&filter, &page)?;
        Ok((page.items, page.next_cursor))
    })
}

/// Every item of a paged listing, 100 at a time, at most [`MAX_PAGES`] pages.
fn every_page<T>(
    mut fetch: impl FnMut(PageRequest) -> Result<(Vec<T>, Option<String>), ToolError>,
) -> Result<Vec<T>, ToolError> {
    let mut found = Vec::new();
    let mut cursor = None;
    for _ in 0..MAX_PAGES {
        let (items, next) = fetch(PageRequest {
            limit: 100,
            cursor: cursor.take(),
        })?;
        found.extend(items);
        match next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    Ok(found)
}
