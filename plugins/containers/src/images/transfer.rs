//! `docker_pull_image`, `docker_push_image`, `docker_tag_image`: moving images between
//! the engine and a registry. The host reports per-layer progress while a pull or push
//! runs, and stops it at the call's deadline or when the client cancels.

use bulkhead_plugin_sdk::docker::{PullResult, PushResult, images_pull, images_push};
use bulkhead_plugin_sdk::{Capability, Reply, ToolError, TypedTool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::inspect::image_error;
use crate::render;

/// Which image to move.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferenceArgs {
    /// `[registry[:port]/]name[:tag]` (`latest` when no tag is given); a pull also takes
    /// `name@sha256:…`.
    #[schemars(length(min = 1, max = 512))]
    reference: String,
}

pub struct PullImage;

impl TypedTool for PullImage {
    const NAME: &'static str = "docker_pull_image";
    const TITLE: &'static str = "Pull an image";
    const DESCRIPTION: &'static str = "Pull an image from a registry (like `docker pull`), \
        one tag only (`latest` when none is given). Reports progress while it runs; answers \
        the digest and the engine's status. No registry credentials are sent.";
    const CAPABILITIES: &'static [Capability] = &[Capability::ImagesPull];
    const IDEMPOTENT: bool = true;
    const OPEN_WORLD: bool = true;
    type Args = ReferenceArgs;
    type Output = PullResult;

    fn run(args: ReferenceArgs) -> Result<Reply<PullResult>, ToolError> {
        let pulled = images_pull::pull_image(&args.reference).map_err(registry_error)?;
        let text = format!(
            "Pulled {} ({}): {}",
            render::one_line(&pulled.reference),
            render::one_line(pulled.digest.as_deref().unwrap_or("no digest reported")),
            render::one_line(&pulled.status)
        );
        Ok(Reply::new(text, pulled))
    }
}

pub struct PushImage;

impl TypedTool for PushImage {
    const NAME: &'static str = "docker_push_image";
    const TITLE: &'static str = "Push an image";
    const DESCRIPTION: &'static str = "Push a local image to its registry (like `docker \
        push`); tag it first with docker_tag_image to choose the destination. Reports \
        progress while it runs; answers the manifest digest. No registry credentials are \
        sent.";
    const CAPABILITIES: &'static [Capability] = &[Capability::ImagesPush];
    const IDEMPOTENT: bool = true;
    const OPEN_WORLD: bool = true;
    type Args = ReferenceArgs;
    type Output = PushResult;

    fn run(args: ReferenceArgs) -> Result<Reply<PushResult>, ToolError> {
        let pushed = images_push::push_image(&args.reference).map_err(registry_error)?;
        let text = format!(
            "Pushed {} ({}): {} layer(s) uploaded, {} already there.",
            render::one_line(&pushed.reference),
            render::one_line(pushed.digest.as_deref().unwrap_or("no digest reported")),
            pushed.layers_pushed,
            pushed.layers_existing
        );
        Ok(Reply::new(text, pushed))
    }
}

/// The image to tag and its new name.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TagArgs {
    /// The local image: reference or id.
    #[schemars(length(min = 1, max = 512))]
    source: String,
    /// The new reference, `[registry[:port]/]name[:tag]` (`latest` when no tag is given).
    #[schemars(length(min = 1, max = 512))]
    target: String,
}

/// What was tagged.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Tagged {
    /// The image, as named in the call.
    source: String,
    /// The new reference.
    target: String,
}

pub struct TagImage;

impl TypedTool for TagImage {
    const NAME: &'static str = "docker_tag_image";
    const TITLE: &'static str = "Tag an image";
    const DESCRIPTION: &'static str = "Give a local image another reference (like `docker \
        tag`), for example `127.0.0.1:5000/team/app:v1` before pushing it there.";
    const CAPABILITIES: &'static [Capability] = &[Capability::ImagesPush];
    const IDEMPOTENT: bool = true;
    type Args = TagArgs;
    type Output = Tagged;

    fn run(args: TagArgs) -> Result<Reply<Tagged>, ToolError> {
        images_push::tag_image(&args.source, &args.target).map_err(image_error)?;
        let text = format!(
            "Tagged {} as {}.",
            render::one_line(&args.source),
            render::one_line(&args.target)
        );
        Ok(Reply::new(
            text,
            Tagged {
                source: args.source,
                target: args.target,
            },
        ))
    }
}

/// Registry failures with hints that fit them.
fn registry_error(err: bulkhead_plugin_sdk::docker::DockerError) -> ToolError {
    use bulkhead_plugin_sdk::ErrorCode;
    let mut mapped = ToolError::from(err);
    mapped.hint = match mapped.code {
        ErrorCode::ImageNotFound => Some(
            "the registry has no such repository or tag; check the reference (a push needs \
             the image tagged locally first)"
                .to_owned(),
        ),
        ErrorCode::EngineError => Some(
            "check that the registry address is right and reachable from the Docker engine"
                .to_owned(),
        ),
        ErrorCode::PermissionDenied => {
            Some("the registry wants credentials, which this server does not send".to_owned())
        }
        _ => mapped.hint,
    };
    mapped
}
