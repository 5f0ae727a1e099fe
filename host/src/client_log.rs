//! A plugin's log lines, for the client: besides the host's own log (stderr), each
//! line a plugin writes during a call goes to the [`LogSink`] the transport gave that
//! call (the MCP adapter turns it into `notifications/message` at or above the level the
//! client chose with `logging/setLevel`). The line is already capped and sanitised by
//! the `log` import; the sink must not block.

/// Severity, as plugins write it (the WIT `log.level`), ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

/// Where a call's plugin log lines go.
pub trait LogSink: Send + Sync {
    /// One line from `plugin`.
    fn log(&self, severity: Severity, plugin: &str, message: &str);
}
