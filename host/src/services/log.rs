//! `log`: a plugin's messages go to the host's log (stderr), attributed, capped and
//! sanitised. Never to stdout, which is the MCP protocol channel.

use crate::bindings::bulkhead::plugin::log::{Host, Level};
use crate::docker::sanitize::one_line;
use crate::runtime::CallState;

/// Longest message kept, in bytes.
const MAX_MESSAGE: usize = 2048;

impl Host for CallState {
    async fn write(&mut self, level: Level, message: String) {
        if self.access.log_messages_left == 0 {
            return;
        }
        self.access.log_messages_left -= 1;
        let message = one_line(&message, MAX_MESSAGE);
        let plugin = &*self.access.plugin;
        let tool = &*self.access.tool;
        match level {
            Level::Trace => tracing::trace!(target: "bulkhead::plugin", plugin, tool, "{message}"),
            Level::Debug => tracing::debug!(target: "bulkhead::plugin", plugin, tool, "{message}"),
            Level::Info => tracing::info!(target: "bulkhead::plugin", plugin, tool, "{message}"),
            Level::Warn => tracing::warn!(target: "bulkhead::plugin", plugin, tool, "{message}"),
            Level::Error => tracing::error!(target: "bulkhead::plugin", plugin, tool, "{message}"),
        }
    }
}
