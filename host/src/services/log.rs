//! `log`: a plugin's messages go to the host's log (stderr), attributed, capped and
//! sanitised. Never to stdout, which is the MCP protocol channel.

use crate::access::CallAccess;
use crate::bindings::bulkhead::plugin::log::{Host, Level};
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
        match level {
            Level::Trace => tracing::trace!(target: "bulkhead::plugin", plugin, tool, "{message}"),
            Level::Debug => tracing::debug!(target: "bulkhead::plugin", plugin, tool, "{message}"),
            Level::Info => tracing::info!(target: "bulkhead::plugin", plugin, tool, "{message}"),
            Level::Warn => tracing::warn!(target: "bulkhead::plugin", plugin, tool, "{message}"),
            Level::Error => tracing::error!(target: "bulkhead::plugin", plugin, tool, "{message}"),
        }
    }
}
