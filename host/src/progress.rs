//! Progress of a long tool call (pull, push, build), as the core sees it: a
//! [`ProgressSink`] the transport implements (the MCP adapter turns reports into
//! `notifications/progress` for the client's progress token), and the per-call
//! [`ProgressReporter`] that guards it. The router and runtime only pass the sink along;
//! they know nothing of MCP.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::sanitize::one_line;

/// Where a call's progress goes. Implementations must not block: a report that cannot
/// be delivered at once is dropped.
pub trait ProgressSink: Send + Sync {
    fn report(&self, progress: u64, total: Option<u64>, message: &str);
}

/// At most this many reports a second reach the sink; the rest are dropped.
pub const MAX_REPORTS_PER_SECOND: u32 = 10;
/// Longest message forwarded, in bytes.
pub const MAX_MESSAGE: usize = 200;

/// One call's reporter: rate-limits (at most [`MAX_REPORTS_PER_SECOND`]), forwards a
/// report only when `progress` grew (MCP wants it to increase with each notification),
/// and sanitises messages to one short line.
pub struct ProgressReporter {
    sink: Arc<dyn ProgressSink>,
    gate: ProgressGate,
}

impl ProgressReporter {
    pub fn new(sink: Arc<dyn ProgressSink>) -> Self {
        ProgressReporter {
            sink,
            gate: ProgressGate::default(),
        }
    }

    /// Forwards the report if the gate admits it now.
    pub fn report(&mut self, progress: u64, total: Option<u64>, message: &str) {
        if self.gate.admit(Instant::now(), progress) {
            // A total below the progress would make a client's bar overflow.
            let total = total.filter(|total| *total >= progress);
            self.sink
                .report(progress, total, &one_line(message, MAX_MESSAGE));
        }
    }
}

/// The pure part of the reporter: which reports may pass.
#[derive(Debug, Default)]
struct ProgressGate {
    last_sent: Option<(Instant, u64)>,
}

impl ProgressGate {
    const MIN_INTERVAL: Duration = Duration::from_millis(1000 / MAX_REPORTS_PER_SECOND as u64);

    fn admit(&mut self, now: Instant, progress: u64) -> bool {
        let admitted = match self.last_sent {
            None => true,
            Some((at, last)) => {
                progress > last && now.saturating_duration_since(at) >= Self::MIN_INTERVAL
            }
        };
        if admitted {
            self.last_sent = Some((now, progress));
        }
        admitted
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[test]
    fn gate_rate_limits_and_wants_growth() {
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        let mut gate = ProgressGate::default();
        assert!(gate.admit(at(0), 0), "the first report always passes");
        assert!(!gate.admit(at(50), 10), "too soon");
        assert!(gate.admit(at(100), 10));
        assert!(!gate.admit(at(300), 10), "no growth");
        assert!(!gate.admit(at(400), 5), "progress went back");
        assert!(gate.admit(at(400), 11));
        // Over one second of constant reports, at most 10 pass.
        let mut gate = ProgressGate::default();
        let passed = (0..1000u64).filter(|ms| gate.admit(at(*ms), *ms)).count();
        assert_eq!(passed, 10);
    }

    #[derive(Default)]
    struct Recorder(Mutex<Vec<(u64, Option<u64>, String)>>);

    impl ProgressSink for Recorder {
        fn report(&self, progress: u64, total: Option<u64>, message: &str) {
            self.0
                .lock()
                .unwrap()
                .push((progress, total, message.to_string()));
        }
    }

    #[test]
    fn reporter_sanitises_messages_and_totals() {
        let sink = Arc::new(Recorder::default());
        let mut reporter = ProgressReporter::new(sink.clone());
        reporter.report(5, Some(3), "layer\n\u{1b}[31mred");
        let sent = sink.0.lock().unwrap().clone();
        assert_eq!(sent, [(5, None, "layer red".to_string())]);
    }
}
