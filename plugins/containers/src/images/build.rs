//! `docker_build_image`: build an image from Dockerfile text plus inline files, or from
//! a context directory the operator allowed. The build log is untrusted (it comes from
//! `RUN` steps) and is fenced in the text.

use bulkhead_plugin_sdk::docker::{BuildFile, BuildResult, BuildSpec, KeyValue, images_build};
use bulkhead_plugin_sdk::{Capability, Reply, ToolError, TypedTool, fence_untrusted};
use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::BTreeMap;

use super::inspect::image_error;
use crate::render;

/// A file of an inline build context.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InlineFile {
    /// Relative path inside the context (`app/main.py`); no `..`, not `Dockerfile`.
    #[schemars(length(min = 1, max = 255))]
    path: String,
    /// The file's text.
    content: String,
}

/// What to build and how to name it.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BuildArgs {
    /// Dockerfile text for an inline context. Give this or `context_dir`.
    #[schemars(length(min = 1, max = 65536))]
    dockerfile: Option<String>,
    /// Files to put beside the Dockerfile (at most 100), for `COPY`/`ADD`.
    #[serde(default)]
    #[schemars(length(max = 100))]
    files: Vec<InlineFile>,
    /// A host directory with a `Dockerfile`, sent as the context. It must lie under a
    /// directory the operator allowed (--allow-bind) and fit the context size limit.
    #[schemars(length(min = 1, max = 4096))]
    context_dir: Option<String>,
    /// References for the result, `name[:tag]` (at most 16).
    #[serde(default)]
    #[schemars(length(max = 16))]
    tags: Vec<String>,
    /// `ARG` values by name.
    #[serde(default)]
    build_args: BTreeMap<String, String>,
    /// Labels for the image (the server adds its ownership labels).
    #[serde(default)]
    labels: BTreeMap<String, String>,
    /// Network for `RUN` steps: omit for the default, `none`, or a network name. `host`
    /// is refused.
    #[schemars(length(min = 1, max = 128))]
    network: Option<String>,
    /// Do not use the build cache. Default false.
    #[serde(default)]
    no_cache: bool,
    /// Try to pull newer base images. Default false (base images must exist locally).
    #[serde(default)]
    pull: bool,
    /// Build up to this stage of a multi-stage Dockerfile.
    #[schemars(length(min = 1, max = 128))]
    target: Option<String>,
}

pub struct BuildImage;

impl TypedTool for BuildImage {
    const NAME: &'static str = "docker_build_image";
    const TITLE: &'static str = "Build an image";
    const DESCRIPTION: &'static str = "Build an image (like `docker build`) from `dockerfile` \
        text plus inline `files`, or from an allowed `context_dir`. Reports each step as \
        progress; answers the image id, its tags and the end of the build log. Base images \
        must exist locally unless `pull` is true. RUN steps never get the host network.";
    const CAPABILITIES: &'static [Capability] = &[Capability::ImagesBuild];
    type Args = BuildArgs;
    type Output = BuildResult;

    fn run(args: BuildArgs) -> Result<Reply<BuildResult>, ToolError> {
        let pairs = |map: BTreeMap<String, String>| {
            map.into_iter()
                .map(|(key, value)| KeyValue { key, value })
                .collect::<Vec<_>>()
        };
        let spec = BuildSpec {
            dockerfile: args.dockerfile,
            files: args
                .files
                .into_iter()
                .map(|f| BuildFile {
                    path: f.path,
                    content: f.content,
                })
                .collect(),
            context_dir: args.context_dir,
            tags: args.tags,
            build_args: pairs(args.build_args),
            labels: pairs(args.labels),
            network: args.network,
            no_cache: args.no_cache,
            pull: args.pull,
            target: args.target,
        };
        let built = images_build::build_image(&spec).map_err(build_error)?;
        Ok(Reply::new(text(&built), built))
    }
}

fn text(built: &BuildResult) -> String {
    let tags = if built.tags.is_empty() {
        "no tags".to_owned()
    } else {
        render::one_line(&built.tags.join(", "))
    };
    let mut text = format!(
        "Built {} ({tags}) in {} step(s).",
        render::short_id(&built.id),
        built.steps
    );
    if !built.log_tail.is_empty() {
        let label = if built.log_truncated {
            "build log (end)"
        } else {
            "build log"
        };
        text.push('\n');
        text.push_str(&fence_untrusted(label, &built.log_tail));
    }
    text
}

fn build_error(err: bulkhead_plugin_sdk::docker::DockerError) -> ToolError {
    use bulkhead_plugin_sdk::ErrorCode;
    let mut mapped = image_error(err);
    if mapped.code == ErrorCode::EngineError {
        mapped.hint = Some(
            "a Dockerfile step failed; fix the step (or the files it uses) and build again"
                .to_owned(),
        );
    } else if mapped.code == ErrorCode::ImageNotFound {
        mapped.hint = Some(
            "the base image is not here: pull it first (docker_pull_image) or pass pull: true"
                .to_owned(),
        );
    }
    mapped
}
