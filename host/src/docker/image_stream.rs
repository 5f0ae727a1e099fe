//! The engine's JSON progress streams of pulls and pushes, folded into what a call
//! reports and answers: bytes done and known in all layers (for progress
//! notifications), layer counts, the manifest digest, the final status; and the
//! registry's errors as typed `docker-error`s. Pure, so it has table tests.

use std::collections::BTreeMap;

use crate::bindings::DockerError;
use crate::sanitize::one_line;

/// Longest status or message kept from the engine.
const MAX_TEXT: usize = 300;

/// What a pull or push stream said so far.
#[derive(Debug, Default)]
pub struct TransferState {
    /// `(layer id, phase)` → (bytes done, bytes in all). Phases (download, extract,
    /// upload) count separately; done only grows, so the sum only grows.
    bytes: BTreeMap<(String, String), (u64, u64)>,
    /// Layers a push uploaded, and ones the registry already had.
    pub layers_pushed: u32,
    pub layers_existing: u32,
    pub digest: Option<String>,
    /// Manifest size from a push's final line.
    pub size: Option<u64>,
    /// The last status without a layer id (`Status: Downloaded newer image …`).
    pub status: String,
}

impl TransferState {
    /// Folds one stream event in; returns a one-line progress message for it. Push
    /// events come without their layer id (bollard's model drops it), so byte counts
    /// of a push are kept per phase, which still only grows.
    pub fn observe(
        &mut self,
        id: Option<&str>,
        status: Option<&str>,
        detail: Option<(Option<i64>, Option<i64>)>,
    ) -> String {
        let status = one_line(status.unwrap_or_default(), MAX_TEXT);
        let id = id.filter(|id| !id.is_empty()).map(|id| one_line(id, 80));
        match status.as_str() {
            "Pushed" => self.layers_pushed += 1,
            "Layer already exists" => self.layers_existing += 1,
            _ => {}
        }
        if let Some((Some(current), Some(total))) = detail
            && total > 0
        {
            let entry = self
                .bytes
                .entry((id.clone().unwrap_or_default(), status.clone()))
                .or_insert((0, 0));
            entry.0 = entry.0.max(u64::try_from(current).unwrap_or(0));
            entry.1 = entry.1.max(u64::try_from(total).unwrap_or(0));
        }
        if let Some((digest, size)) = push_digest(&status) {
            self.digest = Some(digest);
            self.size = size;
        } else if let Some(digest) = status.strip_prefix("Digest: ") {
            self.digest = Some(digest.trim().to_string());
        } else if id.is_none() && !status.is_empty() {
            self.status = status
                .strip_prefix("Status: ")
                .unwrap_or(&status)
                .to_string();
        }
        match id {
            Some(layer) => format!("{layer}: {status}"),
            None => status,
        }
    }

    /// Bytes done in all layers and phases.
    pub fn done(&self) -> u64 {
        self.bytes.values().map(|(done, _)| done).sum()
    }

    /// Bytes known in all layers and phases; `None` before any size is known.
    pub fn total(&self) -> Option<u64> {
        let total: u64 = self.bytes.values().map(|(_, total)| total).sum();
        (total > 0).then_some(total)
    }
}

/// `latest: digest: sha256:… size: 527`, the last line of a push.
fn push_digest(status: &str) -> Option<(String, Option<u64>)> {
    let (_, rest) = status.split_once("digest: ")?;
    let mut words = rest.split_whitespace();
    let digest = words.next()?.to_string();
    let size = match (words.next(), words.next()) {
        (Some("size:"), Some(size)) => size.parse().ok(),
        _ => None,
    };
    digest.starts_with("sha256:").then_some((digest, size))
}

/// A registry's failure during a pull or push, typed by what it means for the caller.
pub fn registry_error(err: DockerError, reference: &str) -> DockerError {
    let text = match &err {
        DockerError::NotFound(text)
        | DockerError::ImageNotFound(text)
        | DockerError::Engine(text)
        | DockerError::Invalid(text)
        | DockerError::Denied(text) => text.clone(),
        // Engine unreachable, budget, timeouts: already the right type.
        _ => return err,
    };
    let lower = text.to_ascii_lowercase();
    let reference = one_line(reference, 200);
    if lower.contains("manifest unknown")
        || lower.contains("not found")
        || lower.contains("does not exist")
        || lower.contains("no such image")
    {
        DockerError::ImageNotFound(format!("`{reference}`: {text}"))
    } else if lower.contains("unauthorized")
        || lower.contains("authentication required")
        || lower.contains("access denied")
        || lower.contains("denied:")
    {
        DockerError::Denied(format!(
            "the registry refused `{reference}` (no credentials are sent): {text}"
        ))
    } else if lower.contains("timeout") || lower.contains("deadline exceeded") {
        DockerError::Timeout(format!(
            "the registry did not answer for `{reference}`: {text}"
        ))
    } else if lower.contains("connection refused")
        || lower.contains("no such host")
        || lower.contains("network is unreachable")
        || lower.contains("dial tcp")
        || lower.contains("server gave http response")
    {
        DockerError::Engine(format!(
            "the registry for `{reference}` cannot be reached: {text}"
        ))
    } else if matches!(err, DockerError::Invalid(_)) {
        DockerError::Invalid(text)
    } else {
        DockerError::Engine(format!("`{reference}`: {text}"))
    }
}

/// `name[:tag]` or `name@digest` split for the engine's pull and push parameters: the
/// repository, and the tag (`latest` when none is given, so a pull never fetches every
/// tag) or the digest.
pub fn split_reference(reference: &str) -> (&str, &str) {
    if let Some((name, digest)) = reference.split_once('@') {
        return (name, digest);
    }
    // A `:` after the last `/` is a tag; one before it is a registry port.
    let last_slash = reference.rfind('/').map_or(0, |i| i + 1);
    match reference[last_slash..].rfind(':') {
        Some(colon) => {
            let colon = last_slash + colon;
            (&reference[..colon], &reference[colon + 1..])
        }
        None => (reference, "latest"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_split_into_repository_and_tag() {
        assert_eq!(split_reference("busybox"), ("busybox", "latest"));
        assert_eq!(split_reference("busybox:1.36"), ("busybox", "1.36"));
        assert_eq!(
            split_reference("127.0.0.1:5000/team/app"),
            ("127.0.0.1:5000/team/app", "latest")
        );
        assert_eq!(
            split_reference("127.0.0.1:5000/team/app:v2"),
            ("127.0.0.1:5000/team/app", "v2")
        );
        assert_eq!(split_reference("app@sha256:0123"), ("app", "sha256:0123"));
    }

    #[test]
    fn pull_stream_folds_into_bytes_digest_and_status() {
        let mut state = TransferState::default();
        state.observe(None, Some("Pulling from team/app"), None);
        state.observe(Some("a1"), Some("Pulling fs layer"), None);
        state.observe(
            Some("a1"),
            Some("Downloading"),
            Some((Some(100), Some(400))),
        );
        assert_eq!((state.done(), state.total()), (100, Some(400)));
        // Done never goes back, even if the engine repeats an older figure.
        state.observe(Some("a1"), Some("Downloading"), Some((Some(50), Some(400))));
        state.observe(Some("a1"), Some("Extracting"), Some((Some(200), Some(400))));
        assert_eq!((state.done(), state.total()), (300, Some(800)));
        let message = state.observe(Some("a1"), Some("Pull\ncomplete"), None);
        assert_eq!(message, "a1: Pull complete");
        state.observe(None, Some("Digest: sha256:feed"), None);
        state.observe(
            None,
            Some("Status: Downloaded newer image for 127.0.0.1:5000/team/app:v2"),
            None,
        );
        assert_eq!(state.digest.as_deref(), Some("sha256:feed"));
        assert_eq!(
            state.status,
            "Downloaded newer image for 127.0.0.1:5000/team/app:v2"
        );
    }

    #[test]
    fn push_stream_counts_layers_and_reads_the_digest() {
        let mut state = TransferState::default();
        state.observe(None, Some("The push refers to repository [r/app]"), None);
        state.observe(None, Some("Pushing"), Some((Some(10), Some(20))));
        state.observe(None, Some("Pushed"), None);
        state.observe(None, Some("Layer already exists"), None);
        assert_eq!((state.done(), state.total()), (10, Some(20)));
        state.observe(None, Some("v2: digest: sha256:beef size: 527"), None);
        assert_eq!((state.layers_pushed, state.layers_existing), (1, 1));
        assert_eq!(state.digest.as_deref(), Some("sha256:beef"));
        assert_eq!(state.size, Some(527));
    }

    #[test]
    fn registry_errors_are_typed() {
        let kind = |err: DockerError| match err {
            DockerError::ImageNotFound(_) => "image-not-found",
            DockerError::Denied(_) => "denied",
            DockerError::Timeout(_) => "timeout",
            DockerError::Engine(_) => "engine",
            DockerError::Unavailable(_) => "unavailable",
            _ => "other",
        };
        let cases = [
            (DockerError::NotFound("manifest for r/a:1 not found: manifest unknown".into()), "image-not-found"),
            (DockerError::Engine("unauthorized: authentication required".into()), "denied"),
            (DockerError::Engine("Get \"http://127.0.0.1:1/v2/\": dial tcp 127.0.0.1:1: connect: connection refused".into()), "engine"),
            (DockerError::Engine("net/http: TLS handshake timeout".into()), "timeout"),
            (DockerError::Unavailable("engine gone".into()), "unavailable"),
        ];
        for (err, expected) in cases {
            assert_eq!(kind(registry_error(err, "r/a:1")), expected);
        }
    }
}
