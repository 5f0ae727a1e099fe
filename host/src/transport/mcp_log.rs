//! `notifications/message`: plugin log lines for the client, filtered by the level its
//! session set with `logging/setLevel`. MCP deprecates logging with the 2026-07-28
//! revision (SEP-2577), and rmcp marks its types so; clients of the revisions before it
//! use it, and the conformance suite checks it, so this module serves it knowingly.
#![allow(deprecated)]

use std::sync::OnceLock;

use rmcp::RoleServer;
use rmcp::model::{LoggingLevel, LoggingMessageNotificationParam};
use rmcp::service::Peer;
use tokio::sync::mpsc;

use crate::client_log::{LogSink, Severity};

/// Forwarded without `logging/setLevel`: warnings and errors.
pub const DEFAULT_LEVEL: u8 = 3;

/// MCP's levels, least severe first; a level's rank is its place here.
const LEVELS: [LoggingLevel; 8] = [
    LoggingLevel::Debug,
    LoggingLevel::Info,
    LoggingLevel::Notice,
    LoggingLevel::Warning,
    LoggingLevel::Error,
    LoggingLevel::Critical,
    LoggingLevel::Alert,
    LoggingLevel::Emergency,
];

pub fn level_rank(level: LoggingLevel) -> u8 {
    LEVELS.iter().position(|l| *l == level).unwrap_or(0) as u8
}

/// The MCP level of a plugin's severity (MCP has no trace).
fn mcp_level(severity: Severity) -> LoggingLevel {
    match severity {
        Severity::Trace | Severity::Debug => LoggingLevel::Debug,
        Severity::Info => LoggingLevel::Info,
        Severity::Warn => LoggingLevel::Warning,
        Severity::Error => LoggingLevel::Error,
    }
}

/// A call's plugin log lines as `notifications/message`, at or above the session's
/// level when the call started. Like progress, lines go through a small queue to a task
/// that writes them in order, started with the first line; a full queue drops lines.
pub struct McpLog {
    peer: Peer<RoleServer>,
    threshold: u8,
    queue: OnceLock<mpsc::Sender<LoggingMessageNotificationParam>>,
}

impl McpLog {
    /// Lines for `peer` at or above the level ranked `threshold`.
    pub fn new(peer: Peer<RoleServer>, threshold: u8) -> Self {
        McpLog {
            peer,
            threshold,
            queue: OnceLock::new(),
        }
    }
}

impl LogSink for McpLog {
    fn log(&self, severity: Severity, plugin: &str, message: &str) {
        let level = mcp_level(severity);
        if level_rank(level) < self.threshold {
            return;
        }
        let queue = self.queue.get_or_init(|| {
            let (queue, mut lines) = mpsc::channel::<LoggingMessageNotificationParam>(LOG_QUEUE);
            let peer = self.peer.clone();
            tokio::spawn(async move {
                while let Some(line) = lines.recv().await {
                    if peer.notify_logging_message(line).await.is_err() {
                        break;
                    }
                }
            });
            queue
        });
        let line = LoggingMessageNotificationParam::new(level, serde_json::Value::from(message))
            .with_logger(plugin);
        let _ = queue.try_send(line);
    }
}

/// Log lines waiting to be written; beyond this, lines are dropped.
const LOG_QUEUE: usize = 64;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_severities_rank_like_mcp_levels() {
        let ranks: Vec<u8> = [
            Severity::Trace,
            Severity::Debug,
            Severity::Info,
            Severity::Warn,
            Severity::Error,
        ]
        .into_iter()
        .map(|severity| level_rank(mcp_level(severity)))
        .collect();
        assert_eq!(ranks, [0, 0, 1, 3, 4]);
        assert_eq!(DEFAULT_LEVEL, level_rank(LoggingLevel::Warning));
    }
}
