//! `log`: a plugin's messages go to the host's log (stderr), attributed, capped and
//! sanitised, and to the client when it listens (`notifications/message`, through the
//! call's [`LogSink`](crate::client_log::LogSink)). Never to stdout directly, which is
//! the MCP protocol channel.

use crate::access::CallAccess;
use crate::bindings::bulkhead::plugin::log::{Host, Level};
use crate::client_log::Severity;
use crate::sanitize::one_line;

/// Longest message kept, in bytes.
const MAX_MESSAGE: usize = 2048;

impl Host for CallAccess {
    async fn write(&mut self, level: Level, message: String) {
        if self.log_messages_left == 0 {
            return;
        }
        self.log_messages_left -= 1;
        let message = one_line(&message, MAX_MESSAGE);
        let plugin = &*self.plugin;
        let tool = &*self.tool;
        let severity = match level {
            Level::Trace => {
                tracing::trace!(target: "bulkhead::plugin", plugin, tool, "{message}");
                Severity::Trace
            }
            Level::Debug => {
                tracing::debug!(target: "bulkhead::plugin", plugin, tool, "{message}");
                Severity::Debug
            }
            Level::Info => {
                tracing::info!(target: "bulkhead::plugin", plugin, tool, "{message}");
                Severity::Info
            }
            Level::Warn => {
                tracing::warn!(target: "bulkhead::plugin", plugin, tool, "{message}");
                Severity::Warn
            }
            Level::Error => {
                tracing::error!(target: "bulkhead::plugin", plugin, tool, "{message}");
                Severity::Error
            }
        };
        if let Some(sink) = &self.client_log {
            sink.log(severity, plugin, &message);
        }
    }
}
