//! `images-build`: build an image from a host-made context. Moderate tier. The host
//! checks the context (allowed directory, size), never lets `RUN` steps use the host's
//! network, stamps its ownership labels, reports `Step N/M` as progress, and keeps a
//! capped, sanitised tail of the build output.

use std::collections::HashMap;

use bollard::body_full;
use bollard::query_parameters::{BuildImageOptions, TagImageOptionsBuilder};
use futures_util::StreamExt;

use super::build_context::{directory_context, inline_context};
use super::image_stream::split_reference;
use super::labels::Stamp;
use super::ownership::ObjectKind;
use super::refs::image_ref;
use super::{engine_call, labels, map_error};
use crate::access::CallAccess;
use crate::argument_policy::ArgumentPolicy;
use crate::bindings::DockerError;
use crate::bindings::bulkhead::plugin::image_types::{BuildResult, BuildSpec};
use crate::bindings::bulkhead::plugin::images_build::Host;
use crate::capabilities::Capability;
use crate::sanitize::{keep_tail, strip_controls};

/// Build output kept for the answer, in bytes (the newest part).
const LOG_TAIL_BYTES: usize = 4 << 10;
/// At most this many tags per build.
const MAX_TAGS: usize = 16;
/// At most this many build arguments.
const MAX_BUILD_ARGS: usize = 64;

impl Host for CallAccess {
    async fn build_image(&mut self, spec: BuildSpec) -> Result<BuildResult, DockerError> {
        let docker = self.authorize(Capability::ImagesBuild).await?;
        let request = BuildRequest::check(&spec, self.stamp(), &self.rules)?;
        if let Some(dockerfile) = &spec.dockerfile {
            self.rules.names.check_build_bases(dockerfile)?;
        }
        let context = self.context_tar(spec).await?;

        let mut stream =
            docker.build_image(request.options(), None, Some(body_full(context.into())));
        let mut log = BuildLog::default();
        let mut id = None;
        self.report_progress(0, None, "sending the build context");
        while let Some(event) = stream.next().await {
            let event = match event {
                Ok(event) => event,
                Err(err) => {
                    let mapped = map_error(err);
                    if matches!(mapped, DockerError::Unavailable(_)) {
                        self.docker.reset().await;
                    }
                    return Err(build_failure(mapped));
                }
            };
            if let Some(aux_id) = event.aux.and_then(|aux| aux.id) {
                id = Some(aux_id);
            }
            if let Some(text) = event.stream
                && let Some((step, steps)) = log.push(&text)
            {
                let line = log.last_line().to_string();
                self.report_progress(step, Some(steps), &line);
            }
        }
        let id = id.or_else(|| log.built_id()).ok_or_else(|| {
            DockerError::Engine("the engine reported no image id for the build".into())
        })?;
        // Further tags are part of building; the first went with the build request.
        for tag in request.tags.iter().skip(1) {
            let (repository, tag_name) = split_reference(tag);
            let options = TagImageOptionsBuilder::new()
                .repo(repository)
                .tag(tag_name)
                .build();
            engine_call(&self.docker, docker.tag_image(&id, Some(options))).await?;
        }
        self.touched(ObjectKind::Image, &id);
        let (log_tail, log_truncated) = log.tail();
        Ok(BuildResult {
            id,
            tags: request.tags,
            steps: log.steps,
            log_tail,
            log_truncated,
        })
    }
}

impl CallAccess {
    /// The context tar, made off the async threads (a directory walk blocks).
    async fn context_tar(&self, spec: BuildSpec) -> Result<Vec<u8>, DockerError> {
        let rules = std::sync::Arc::clone(&self.rules);
        match (spec.dockerfile, spec.context_dir) {
            (Some(dockerfile), None) => inline_context(&dockerfile, &spec.files, &rules),
            (None, Some(dir)) => {
                if !spec.files.is_empty() {
                    return Err(DockerError::Invalid(
                        "inline `files` go with `dockerfile`, not with `context_dir`".into(),
                    ));
                }
                let dir = rules.check_build_context_dir(&dir)?;
                tokio::task::spawn_blocking(move || directory_context(&dir, &rules))
                    .await
                    .map_err(|_| DockerError::Engine("archiving the build context failed".into()))?
            }
            _ => Err(DockerError::Invalid(
                "give either `dockerfile` (with optional `files`) or `context_dir`".into(),
            )),
        }
    }
}

/// The checked parts of a build spec. Pure, so every rule has a test.
#[derive(Debug)]
struct BuildRequest {
    tags: Vec<String>,
    build_args: HashMap<String, String>,
    labels: HashMap<String, String>,
    network: Option<String>,
    target: Option<String>,
    no_cache: bool,
    pull: bool,
}

impl BuildRequest {
    fn check(
        spec: &BuildSpec,
        stamp: Stamp<'_>,
        rules: &ArgumentPolicy,
    ) -> Result<BuildRequest, DockerError> {
        if spec.tags.len() > MAX_TAGS {
            return Err(DockerError::Invalid(format!("at most {MAX_TAGS} tags")));
        }
        let mut tags = Vec::with_capacity(spec.tags.len());
        for tag in &spec.tags {
            let tag = image_ref(tag)?;
            if tag.contains('@') || tag.starts_with("sha256:") {
                return Err(DockerError::Invalid(
                    "tags are name[:tag], not digests or ids".into(),
                ));
            }
            let (repository, name) = split_reference(tag);
            tags.push(format!("{repository}:{name}"));
        }
        if spec.build_args.len() > MAX_BUILD_ARGS {
            return Err(DockerError::Invalid(format!(
                "at most {MAX_BUILD_ARGS} build arguments"
            )));
        }
        let mut build_args = HashMap::new();
        for arg in &spec.build_args {
            let valid = !arg.key.is_empty()
                && arg.key.len() <= 128
                && arg
                    .key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err(DockerError::Invalid(
                    "build argument names are letters, digits and `_`".into(),
                ));
            }
            build_args.insert(arg.key.clone(), arg.value.clone());
        }
        let labels = labels::stamped(spec.labels.clone(), stamp, rules)?;
        let network = spec
            .network
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty());
        ArgumentPolicy::check_build_network(network)?;
        let target = spec.target.as_deref().filter(|t| !t.is_empty());
        if let Some(target) = target {
            let valid = target.len() <= 128
                && target
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
            if !valid {
                return Err(DockerError::Invalid(
                    "`target` is a stage name: letters, digits, `_`, `.`, `-`".into(),
                ));
            }
        }
        Ok(BuildRequest {
            tags,
            build_args,
            labels,
            network: network.map(str::to_string),
            target: target.map(str::to_string),
            no_cache: spec.no_cache,
            pull: spec.pull,
        })
    }

    fn options(&self) -> BuildImageOptions {
        BuildImageOptions {
            t: self.tags.first().cloned(),
            nocache: self.no_cache,
            pull: self.pull.then(|| "1".to_string()),
            // Intermediate containers go, even when a step fails.
            rm: true,
            forcerm: true,
            buildargs: (!self.build_args.is_empty()).then(|| self.build_args.clone()),
            labels: Some(self.labels.clone()),
            networkmode: self.network.clone(),
            target: self.target.clone().unwrap_or_default(),
            ..Default::default()
        }
    }
}

/// A build failure, typed: a Dockerfile the engine cannot parse is the caller's
/// mistake; a failing step is the engine's answer. The build log is not quoted in the
/// error: it is untrusted output that belongs fenced in an answer.
fn build_failure(err: DockerError) -> DockerError {
    match err {
        DockerError::Engine(text) | DockerError::Invalid(text) => {
            let lower = text.to_ascii_lowercase();
            if lower.contains("parse error")
                || lower.contains("unknown instruction")
                || lower.contains("dockerfile")
            {
                DockerError::Invalid(format!("the Dockerfile is invalid: {text}"))
            } else {
                DockerError::Engine(format!("the build failed: {text}"))
            }
        }
        DockerError::NotFound(text) | DockerError::ImageNotFound(text) => {
            DockerError::ImageNotFound(format!("the build needs an image that is not here: {text}"))
        }
        other => other,
    }
}

/// The build's output, sanitised, with only its newest part kept.
#[derive(Debug, Default)]
struct BuildLog {
    text: String,
    dropped: bool,
    steps: u32,
}

impl BuildLog {
    /// Adds output; returns `(step, steps)` when it starts a Dockerfile step.
    fn push(&mut self, raw: &str) -> Option<(u64, u64)> {
        let clean = strip_controls(raw);
        self.text.push_str(&clean);
        if self.text.len() > LOG_TAIL_BYTES * 2 {
            let keep = keep_tail(&self.text, LOG_TAIL_BYTES).to_string();
            self.text = keep;
            self.dropped = true;
        }
        let step = parse_step(&clean)?;
        self.steps = self.steps.max(u32::try_from(step.0).unwrap_or(u32::MAX));
        Some(step)
    }

    fn last_line(&self) -> &str {
        self.text.trim_end().lines().last().unwrap_or_default()
    }

    /// `Successfully built 0123abcd`: the classic builder's last word.
    fn built_id(&self) -> Option<String> {
        self.text
            .lines()
            .rev()
            .find_map(|line| line.trim().strip_prefix("Successfully built "))
            .map(|id| id.trim().to_string())
    }

    fn tail(&self) -> (String, bool) {
        let tail = keep_tail(&self.text, LOG_TAIL_BYTES);
        (
            tail.to_string(),
            self.dropped || tail.len() < self.text.len(),
        )
    }
}

/// `Step 2/5 : RUN make` → (2, 5).
fn parse_step(text: &str) -> Option<(u64, u64)> {
    let rest = text.trim_start().strip_prefix("Step ")?;
    let (numbers, _) = rest.split_once(' ')?;
    let (step, steps) = numbers.split_once('/')?;
    Some((step.parse().ok()?, steps.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::bulkhead::plugin::types::KeyValue;

    fn spec() -> BuildSpec {
        BuildSpec {
            dockerfile: Some("FROM scratch".into()),
            files: vec![],
            context_dir: None,
            tags: vec![],
            build_args: vec![],
            labels: vec![],
            network: None,
            no_cache: false,
            pull: false,
            target: None,
        }
    }

    #[test]
    fn requests_are_checked_and_stamped() {
        let mut request = spec();
        request.tags = vec!["app".into(), "127.0.0.1:5000/app:v1".into()];
        request.build_args = vec![KeyValue {
            key: "VERSION".into(),
            value: "1".into(),
        }];
        let checked = BuildRequest::check(
            &request,
            labels::test_stamp("containers"),
            &ArgumentPolicy::default(),
        )
        .unwrap();
        assert_eq!(checked.tags, ["app:latest", "127.0.0.1:5000/app:v1"]);
        let options = checked.options();
        assert_eq!(options.t.as_deref(), Some("app:latest"));
        assert!(options.rm && options.forcerm);
        assert_eq!(options.labels.unwrap()[labels::PLUGIN_LABEL], "containers");

        let refused = |mutate: fn(&mut BuildSpec)| {
            let mut request = spec();
            mutate(&mut request);
            BuildRequest::check(
                &request,
                labels::test_stamp("p"),
                &ArgumentPolicy::default(),
            )
            .unwrap_err()
        };
        assert!(matches!(
            refused(|s| s.network = Some("host".into())),
            DockerError::Denied(_)
        ));
        assert!(matches!(
            refused(|s| s.tags = vec!["app@sha256:00".into()]),
            DockerError::Invalid(_)
        ));
        assert!(matches!(
            refused(|s| s.build_args = vec![KeyValue {
                key: "A=B".into(),
                value: String::new()
            }]),
            DockerError::Invalid(_)
        ));
        assert!(matches!(
            refused(|s| s.labels = vec![KeyValue {
                key: "io.bulkhead.plugin".into(),
                value: "x".into()
            }]),
            DockerError::Denied(_)
        ));
    }

    #[test]
    fn log_keeps_steps_ids_and_a_bounded_tail() {
        let mut log = BuildLog::default();
        assert_eq!(log.push("Step 1/2 : FROM scratch\n"), Some((1, 2)));
        assert_eq!(log.push(" ---> \u{1b}[31mabc\n"), None);
        assert_eq!(log.push("Step 2/2 : RUN x\n"), Some((2, 2)));
        log.push("Successfully built 0123abcd\n");
        assert_eq!(log.steps, 2);
        assert_eq!(log.built_id().as_deref(), Some("0123abcd"));
        assert!(!log.tail().0.contains('\u{1b}'));
        for _ in 0..1000 {
            log.push("0123456789012345678901234567890123456789\n");
        }
        let (tail, truncated) = log.tail();
        assert!(truncated && tail.len() <= LOG_TAIL_BYTES);
    }

    #[test]
    fn failures_are_typed() {
        assert!(matches!(
            build_failure(DockerError::Engine(
                "dockerfile parse error line 1: unknown instruction: FROBNICATE".into()
            )),
            DockerError::Invalid(_)
        ));
        assert!(matches!(
            build_failure(DockerError::Engine(
                "The command '/bin/sh -c false' returned a non-zero code: 1".into()
            )),
            DockerError::Engine(_)
        ));
    }
}
