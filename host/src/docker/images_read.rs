//! `images-read`: list, inspect, history. Safe tier. Also the (empty) host side of
//! `image-types`, which only declares records.

use std::collections::HashMap;

use bollard::models::{ImageInspect, ImageSummary as EngineSummary};
use bollard::query_parameters::ListImagesOptionsBuilder;

use super::containers_read::{redact_argv_pair, sorted_labels};
use super::engine_call;
use super::paging::{clamp_or_default, paginate};
use super::refs::image_ref;
use crate::access::CallAccess;
use crate::bindings::DockerError;
use crate::bindings::bulkhead::plugin::image_types::{
    self, HistoryEntry, ImageDetails, ImageFilter, ImageLayers, ImagePage, ImageSummary,
};
use crate::bindings::bulkhead::plugin::images_read::Host;
use crate::bindings::bulkhead::plugin::types::PageRequest;
use crate::capabilities::Capability;
use crate::redact::{redact_command_line, redact_env_entry};
use crate::sanitize::one_line;

const DEFAULT_HISTORY: u32 = 50;
const MAX_HISTORY: u32 = 200;
/// A `created-by` line is a whole shell script for some layers; keep a readable head.
const MAX_CREATED_BY: usize = 512;

impl image_types::Host for CallAccess {}

impl Host for CallAccess {
    async fn list_images(
        &mut self,
        filter: ImageFilter,
        page: PageRequest,
    ) -> Result<ImagePage, DockerError> {
        let docker = self.authorize(Capability::ImagesRead).await?;
        let options = ListImagesOptionsBuilder::new()
            .all(filter.all)
            .filters(&engine_filters(&filter)?)
            .build();
        let mut all = engine_call(&self.docker, docker.list_images(Some(options))).await?;
        // Newest first, ties by id, so pages stay stable.
        all.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)));
        let page = paginate(all, &page)?.map(summary_from_engine);
        Ok(ImagePage {
            items: page.items,
            total: page.total,
            next_cursor: page.next_cursor,
        })
    }

    async fn inspect_image(&mut self, image: String) -> Result<ImageDetails, DockerError> {
        let docker = self.authorize(Capability::ImagesRead).await?;
        let image = image_ref(&image)?;
        let details = engine_call(&self.docker, docker.inspect_image(image))
            .await
            .map_err(image_not_found)?;
        Ok(details_from_engine(details))
    }

    async fn image_history(
        &mut self,
        image: String,
        limit: u32,
    ) -> Result<ImageLayers, DockerError> {
        let docker = self.authorize(Capability::ImagesRead).await?;
        let image = image_ref(&image)?;
        let limit = clamp_or_default(limit, DEFAULT_HISTORY, MAX_HISTORY) as usize;
        let layers = engine_call(&self.docker, docker.image_history(image))
            .await
            .map_err(image_not_found)?;
        let total = u32::try_from(layers.len()).unwrap_or(u32::MAX);
        // The engine answers newest first already.
        let layers = layers
            .into_iter()
            .take(limit)
            .map(|layer| HistoryEntry {
                id: layer.id,
                created: layer.created,
                created_by: one_line(&redact_command_line(&layer.created_by), MAX_CREATED_BY),
                size: layer.size,
                comment: one_line(&layer.comment, MAX_CREATED_BY),
                tags: layer.tags,
            })
            .collect();
        Ok(ImageLayers { layers, total })
    }
}

/// The engine says `No such image` with 404, which the shared mapping already types;
/// a reference it cannot resolve is still an image that is not there.
pub(super) fn image_not_found(err: DockerError) -> DockerError {
    match err {
        DockerError::NotFound(text) => DockerError::ImageNotFound(text),
        other => other,
    }
}

fn engine_filters(filter: &ImageFilter) -> Result<HashMap<String, Vec<String>>, DockerError> {
    let mut filters = HashMap::new();
    if let Some(reference) = filter.reference.as_deref().filter(|r| !r.is_empty()) {
        // Wildcards are allowed here, so this is not `image_ref`; the value travels in
        // the JSON of a query parameter, never in the URL path.
        if reference.len() > 255
            || reference
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(DockerError::Invalid(
                "`reference` must be an image name pattern without spaces".into(),
            ));
        }
        filters.insert("reference".to_string(), vec![reference.to_string()]);
    }
    if let Some(dangling) = filter.dangling {
        filters.insert("dangling".to_string(), vec![dangling.to_string()]);
    }
    if !filter.labels.is_empty() {
        filters.insert("label".to_string(), filter.labels.clone());
    }
    Ok(filters)
}

/// `<none>:<none>` is how the engine spells "no tag"; an empty list says it plainly.
fn real_references(references: Vec<String>) -> Vec<String> {
    references
        .into_iter()
        .filter(|r| !r.starts_with("<none>"))
        .collect()
}

fn summary_from_engine(summary: EngineSummary) -> ImageSummary {
    ImageSummary {
        id: summary.id,
        repo_tags: real_references(summary.repo_tags),
        repo_digests: real_references(summary.repo_digests),
        created: summary.created,
        size: summary.size,
        containers: summary.containers,
        labels: sorted_labels(Some(summary.labels)),
    }
}

fn details_from_engine(details: ImageInspect) -> ImageDetails {
    let config = details.config.unwrap_or_default();
    let (entrypoint, cmd) = redact_argv_pair(
        config.entrypoint.unwrap_or_default(),
        config.cmd.unwrap_or_default(),
    );
    let mut exposed_ports = config.exposed_ports.unwrap_or_default();
    exposed_ports.sort();
    ImageDetails {
        id: details.id.unwrap_or_default(),
        repo_tags: real_references(details.repo_tags.unwrap_or_default()),
        repo_digests: real_references(details.repo_digests.unwrap_or_default()),
        created: details.created.map(|c| c.to_string()),
        size: details.size.unwrap_or(0),
        architecture: details.architecture.unwrap_or_default(),
        os: details.os.unwrap_or_default(),
        author: details
            .author
            .filter(|a| !a.is_empty())
            .map(|a| one_line(&a, 256)),
        comment: details
            .comment
            .filter(|c| !c.is_empty())
            .map(|c| one_line(&c, 512)),
        cmd,
        entrypoint,
        env: config
            .env
            .unwrap_or_default()
            .iter()
            .map(|e| redact_env_entry(e))
            .collect(),
        exposed_ports,
        labels: sorted_labels(config.labels),
        user: config.user.filter(|s| !s.is_empty()),
        working_dir: config.working_dir.filter(|s| !s.is_empty()),
        layers: details
            .root_fs
            .and_then(|fs| fs.layers)
            .map_or(0, |layers| u32::try_from(layers.len()).unwrap_or(u32::MAX)),
    }
}

#[cfg(test)]
mod tests {
    use bollard::models::{ImageConfig, ImageInspectRootFs};

    use super::*;

    #[test]
    fn filters_map_to_engine_names() {
        let filters = engine_filters(&ImageFilter {
            reference: Some("bulkhead-test/*".into()),
            dangling: Some(false),
            labels: vec!["a=b".into()],
            all: false,
        })
        .unwrap();
        assert_eq!(filters["reference"], ["bulkhead-test/*"]);
        assert_eq!(filters["dangling"], ["false"]);
        assert_eq!(filters["label"], ["a=b"]);
        assert!(
            engine_filters(&ImageFilter {
                reference: Some("a b".into()),
                dangling: None,
                labels: vec![],
                all: false,
            })
            .is_err()
        );
    }

    #[test]
    fn details_are_redacted_and_untagged_markers_dropped() {
        let details = details_from_engine(ImageInspect {
            id: Some("sha256:abc".into()),
            repo_tags: Some(vec!["app:1".into(), "<none>:<none>".into()]),
            config: Some(ImageConfig {
                env: Some(vec!["PATH=/bin".into(), "API_TOKEN=s3cret".into()]),
                cmd: Some(vec!["mysql".into(), "-psecret".into()]),
                exposed_ports: Some(vec!["8080/tcp".into(), "443/tcp".into()]),
                ..Default::default()
            }),
            root_fs: Some(ImageInspectRootFs {
                layers: Some(vec!["sha256:1".into(), "sha256:2".into()]),
                ..Default::default()
            }),
            ..Default::default()
        });
        assert_eq!(details.repo_tags, ["app:1"]);
        assert_eq!(details.env, ["PATH=/bin", "API_TOKEN=<redacted>"]);
        assert_eq!(details.cmd, ["mysql", "-p<redacted>"]);
        assert_eq!(details.exposed_ports, ["443/tcp", "8080/tcp"]);
        assert_eq!(details.layers, 2);
    }
}
