//! The stable error codes every failed tool call carries (`DKR-nnn`), and how a failure
//! is rendered for the model: code, a sentence a person understands, and a hint.

use std::fmt;

/// A stable error code. The numbers never change meaning; new codes get new numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// The Docker engine could not be reached.
    EngineUnreachable,
    /// A container (or other object) does not exist.
    NotFound,
    /// An image does not exist locally.
    ImageNotFound,
    /// Arguments do not match the tool's schema or are out of range.
    InvalidArgument,
    /// The plugin lacks the capability (not imported, not granted, or not declared).
    PermissionDenied,
    /// A host port is already bound.
    PortInUse,
    /// The request conflicts with the object's state.
    Conflict,
    /// The operator's policy refuses this (destructive tools off, read-only mode).
    PolicyDenied,
    /// The call ran past its deadline and was stopped.
    Timeout,
    /// The plugin trapped, panicked, ran out of memory or answered malformed output.
    PluginFault,
    /// The engine reported another error.
    EngineError,
    /// The call used more Docker requests than one call may.
    BudgetExceeded,
    /// Too many calls to this plugin are running at once.
    Busy,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::EngineUnreachable => "DKR-001",
            ErrorCode::NotFound => "DKR-002",
            ErrorCode::ImageNotFound => "DKR-003",
            ErrorCode::InvalidArgument => "DKR-004",
            ErrorCode::PermissionDenied => "DKR-005",
            ErrorCode::PortInUse => "DKR-006",
            ErrorCode::Conflict => "DKR-007",
            ErrorCode::PolicyDenied => "DKR-008",
            ErrorCode::Timeout => "DKR-009",
            ErrorCode::PluginFault => "DKR-010",
            ErrorCode::EngineError => "DKR-011",
            ErrorCode::BudgetExceeded => "DKR-012",
            ErrorCode::Busy => "DKR-013",
        }
    }

    /// A short label shown after the code.
    pub fn label(self) -> &'static str {
        match self {
            ErrorCode::EngineUnreachable => "engine unreachable",
            ErrorCode::NotFound => "not found",
            ErrorCode::ImageNotFound => "image not found",
            ErrorCode::InvalidArgument => "invalid argument",
            ErrorCode::PermissionDenied => "permission denied",
            ErrorCode::PortInUse => "port in use",
            ErrorCode::Conflict => "conflict",
            ErrorCode::PolicyDenied => "denied by policy",
            ErrorCode::Timeout => "timeout",
            ErrorCode::PluginFault => "plugin fault",
            ErrorCode::EngineError => "engine error",
            ErrorCode::BudgetExceeded => "budget exceeded",
            ErrorCode::Busy => "busy",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed tool call, as the model will see it (`isError: true`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolFailure {
    pub code: ErrorCode,
    pub message: String,
    pub hint: Option<String>,
    /// The third-party plugin whose own words the message carries, if any.
    pub plugin: Option<String>,
}

impl ToolFailure {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ToolFailure {
            code,
            message: message.into(),
            hint: None,
            plugin: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// `DKR-002 not found: No such container: web` plus a hint line.
    pub fn render(&self) -> String {
        let mut text = format!("{} {}: {}", self.code, self.code.label(), self.message);
        if let Some(hint) = &self.hint {
            text.push_str("\nHint: ");
            text.push_str(hint);
        }
        text
    }

    /// The machine-readable form placed in the result's `_meta`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut json = serde_json::json!({
            "code": self.code.as_str(),
            "message": self.message,
            "hint": self.hint,
        });
        if let Some(plugin) = &self.plugin {
            json["plugin"] = serde_json::Value::String(plugin.clone());
        }
        json
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_code_label_message_and_hint() {
        let failure = ToolFailure::new(ErrorCode::NotFound, "No such container: web")
            .with_hint("List containers with docker_list_containers.");
        assert_eq!(
            failure.render(),
            "DKR-002 not found: No such container: web\nHint: List containers with docker_list_containers."
        );
        assert_eq!(
            ToolFailure::new(ErrorCode::Timeout, "slow").render(),
            "DKR-009 timeout: slow"
        );
    }

    #[test]
    fn codes_are_unique() {
        use ErrorCode::*;
        let all = [
            EngineUnreachable,
            NotFound,
            ImageNotFound,
            InvalidArgument,
            PermissionDenied,
            PortInUse,
            Conflict,
            PolicyDenied,
            Timeout,
            PluginFault,
            EngineError,
            BudgetExceeded,
            Busy,
        ];
        let mut codes: Vec<&str> = all.iter().map(|c| c.as_str()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
    }
}
