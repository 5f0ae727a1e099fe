//! Per-call limits, enforced on every tool call.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Limits {
    /// Wall-clock deadline of one tool call, Docker requests included.
    pub call_timeout: Duration,
    /// Linear memory a plugin instance may grow to.
    pub memory_bytes: usize,
    /// Bytes of text plus structured JSON one answer may carry.
    pub output_bytes: usize,
    /// Docker primitives one tool call may invoke.
    pub docker_calls_per_call: u32,
    /// Calls to one plugin that may run at the same time; more wait in its queue.
    pub concurrent_calls_per_plugin: usize,
    /// Calls to one plugin that may wait for a slot (each at most until its deadline);
    /// more fail at once with `Busy`. 0: no queue.
    pub queued_calls_per_plugin: usize,
    /// Log messages one tool call may send to the host's log.
    pub log_messages_per_call: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            call_timeout: Duration::from_secs(30),
            memory_bytes: 64 << 20,
            output_bytes: 512 << 10,
            docker_calls_per_call: 64,
            concurrent_calls_per_plugin: 16,
            queued_calls_per_plugin: 256,
            log_messages_per_call: 256,
        }
    }
}
