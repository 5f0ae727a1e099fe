//! Tool errors: constructors for [`ToolError`] and the mapping from the host's
//! [`DockerError`] to the stable error codes, each with a hint saying what to try next.

use crate::docker::DockerError;
use crate::{ErrorCode, ToolError};

impl ToolError {
    /// An error with `code` and `message` and no hint.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ToolError {
            code,
            message: message.into(),
            hint: None,
        }
    }

    /// Replaces the hint: what the caller should try instead.
    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// `invalid-argument` with `message`.
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidArgument, message)
    }

    /// The answer to a call of a tool this plugin does not declare. The host routes only
    /// declared names, so this means the manifest and the dispatcher disagree.
    pub fn unknown_tool(name: &str) -> Self {
        Self::new(
            ErrorCode::PluginFault,
            format!("this plugin has no tool named `{name}`"),
        )
        .with_hint("the plugin's manifest and dispatcher disagree; report it to its author")
    }
}

impl From<DockerError> for ToolError {
    fn from(err: DockerError) -> Self {
        let (code, text, default_message, hint) = match err {
            DockerError::Denied(text) => (
                ErrorCode::PermissionDenied,
                text,
                "permission denied",
                Some(
                    "this tool needs a capability that is not granted, or the host's policy \
                     refused these arguments; only the operator can change the policy",
                ),
            ),
            DockerError::NotFound(text) => (
                ErrorCode::NotFound,
                text,
                "no such object",
                Some(
                    "check the name or id: list containers (including stopped ones) to see \
                     what exists",
                ),
            ),
            DockerError::ImageNotFound(text) => (
                ErrorCode::ImageNotFound,
                text,
                "no such image",
                Some(
                    "the image must already exist locally (nothing is pulled implicitly); \
                     check the name and tag",
                ),
            ),
            DockerError::Invalid(text) => (
                ErrorCode::InvalidArgument,
                text,
                "invalid argument",
                Some("check the arguments against the tool's input schema"),
            ),
            DockerError::Conflict(text) => (
                ErrorCode::Conflict,
                text,
                "conflict with the object's current state",
                Some(
                    "the name is taken or the object's state forbids this (for example \
                     removing a running container needs force); inspect it first",
                ),
            ),
            DockerError::PortInUse(text) => (
                ErrorCode::PortInUse,
                text,
                "a host port asked for is already in use",
                Some("pick another host port, or leave the host port out to get a free one"),
            ),
            DockerError::Unavailable(text) => (
                ErrorCode::EngineUnreachable,
                text,
                "the Docker engine is unreachable",
                Some("is the Docker daemon running? DOCKER_HOST?"),
            ),
            DockerError::Timeout(text) => (
                ErrorCode::Timeout,
                text,
                "the Docker engine did not answer in time",
                Some("the engine is slow or busy; try again, or ask for less at once"),
            ),
            DockerError::BudgetExceeded(text) => (
                ErrorCode::BudgetExceeded,
                text,
                "too many Docker calls in one tool call",
                Some("ask for less in one call, for example with filters or a smaller limit"),
            ),
            DockerError::Engine(text) => (
                ErrorCode::EngineError,
                text,
                "the Docker engine reported an error",
                None,
            ),
        };
        let message = if text.trim().is_empty() {
            default_message.to_owned()
        } else {
            text
        };
        ToolError {
            code,
            message,
            hint: hint.map(str::to_owned),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(err: DockerError) -> ToolError {
        ToolError::from(err)
    }

    #[test]
    fn every_docker_error_maps_to_its_code() {
        let cases = [
            (DockerError::Denied("d".into()), ErrorCode::PermissionDenied),
            (DockerError::NotFound("n".into()), ErrorCode::NotFound),
            (
                DockerError::ImageNotFound("i".into()),
                ErrorCode::ImageNotFound,
            ),
            (DockerError::Invalid("v".into()), ErrorCode::InvalidArgument),
            (DockerError::Conflict("c".into()), ErrorCode::Conflict),
            (DockerError::PortInUse("p".into()), ErrorCode::PortInUse),
            (
                DockerError::Unavailable("u".into()),
                ErrorCode::EngineUnreachable,
            ),
            (DockerError::Timeout("t".into()), ErrorCode::Timeout),
            (
                DockerError::BudgetExceeded("b".into()),
                ErrorCode::BudgetExceeded,
            ),
            (DockerError::Engine("e".into()), ErrorCode::EngineError),
        ];
        for (err, code) in cases {
            let text = match &err {
                DockerError::Denied(t)
                | DockerError::NotFound(t)
                | DockerError::ImageNotFound(t)
                | DockerError::Invalid(t)
                | DockerError::Conflict(t)
                | DockerError::PortInUse(t)
                | DockerError::Unavailable(t)
                | DockerError::Timeout(t)
                | DockerError::BudgetExceeded(t)
                | DockerError::Engine(t) => t.clone(),
            };
            let mapped = map(err);
            assert_eq!(mapped.code, code);
            assert_eq!(
                mapped.message, text,
                "the host's text is kept as the message"
            );
        }
    }

    #[test]
    fn hints_say_what_to_do() {
        let unavailable = map(DockerError::Unavailable("connection refused".into()));
        assert_eq!(
            unavailable.hint.as_deref(),
            Some("is the Docker daemon running? DOCKER_HOST?")
        );

        let not_found = map(DockerError::NotFound("no such container: web".into()));
        assert!(
            not_found
                .hint
                .as_deref()
                .unwrap()
                .contains("list containers")
        );

        let denied = map(DockerError::Denied(
            "containers-remove is not granted".into(),
        ));
        assert_eq!(denied.code, ErrorCode::PermissionDenied);
        assert!(denied.hint.as_deref().unwrap().contains("operator"));

        assert_eq!(map(DockerError::Engine("boom".into())).hint, None);
    }

    #[test]
    fn empty_host_text_gets_a_readable_message() {
        let mapped = map(DockerError::Timeout("  ".into()));
        assert_eq!(mapped.message, "the Docker engine did not answer in time");
    }

    #[test]
    fn constructors() {
        let err = ToolError::new(ErrorCode::Conflict, "taken").with_hint("rename");
        assert_eq!(
            err,
            ToolError {
                code: ErrorCode::Conflict,
                message: "taken".into(),
                hint: Some("rename".into())
            }
        );
        let err = ToolError::unknown_tool("nope");
        assert_eq!(err.code, ErrorCode::PluginFault);
        assert_eq!(err.message, "this plugin has no tool named `nope`");
    }
}
