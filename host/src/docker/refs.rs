//! References to engine objects, checked before they go into an engine URL path: a
//! plugin must not be able to smuggle `../images/json` or a query string into a request.

use crate::bindings::DockerError;
use crate::sanitize::one_line;

/// A container, network or volume name or id: letters, digits, `_`, `.`, `-`, at most
/// 255 bytes; a leading `/` (as the engine prints container names) is dropped.
pub fn object_ref<'a>(kind: &str, target: &'a str) -> Result<&'a str, DockerError> {
    let trimmed = target.strip_prefix('/').unwrap_or(target);
    let valid = !trimmed.is_empty()
        && trimmed.len() <= 255
        && !trimmed.starts_with('.')
        && trimmed
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if valid {
        Ok(trimmed)
    } else {
        Err(DockerError::Invalid(format!(
            "`{}` is not a {kind} name or id (letters, digits, `_`, `.`, `-`)",
            one_line(target, 80)
        )))
    }
}

pub fn container_ref(target: &str) -> Result<&str, DockerError> {
    object_ref("container", target)
}

/// An image reference: `name[:tag]`, `name@sha256:…`, `registry:port/path/name:tag`, or
/// an id (`sha256:…` or a hex prefix). Lowercase path components, no whitespace, no `..`.
pub fn image_ref(target: &str) -> Result<&str, DockerError> {
    let invalid = || {
        DockerError::Invalid(format!(
            "`{}` is not an image reference (name[:tag], name@digest or id)",
            one_line(target, 80)
        ))
    };
    let target = target.trim();
    if target.is_empty() || target.len() > 512 || target.contains("..") || target.contains("//") {
        return Err(invalid());
    }
    let allowed =
        |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/' | ':' | '@');
    if !target.chars().all(allowed) || target.starts_with(['/', '-', '.', ':', '@']) {
        return Err(invalid());
    }
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_refs() {
        assert_eq!(container_ref("/web").unwrap(), "web");
        assert_eq!(container_ref("3f2a9c").unwrap(), "3f2a9c");
        for bad in [
            "",
            "../images/json",
            "a b",
            "web?force=1",
            "..",
            &"x".repeat(300),
        ] {
            assert!(
                matches!(container_ref(bad), Err(DockerError::Invalid(_))),
                "{bad}"
            );
        }
        assert_eq!(object_ref("network", "my-net_1").unwrap(), "my-net_1");
    }

    #[test]
    fn image_refs() {
        for good in [
            "busybox",
            "bulkhead-test/busybox:latest",
            "127.0.0.1:5000/team/app:1.2",
            "nginx@sha256:0123abcd",
            "sha256:0123456789abcdef",
            "3f2a9c",
        ] {
            assert_eq!(image_ref(good).unwrap(), good);
        }
        for bad in ["", "a b", "../x", "/abs", "x?all=1", "x#y", "-flag", "a//b"] {
            assert!(
                matches!(image_ref(bad), Err(DockerError::Invalid(_))),
                "{bad}"
            );
        }
    }
}
