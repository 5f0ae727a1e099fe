//! `progress`: a plugin's own progress reports, through the same per-call reporter the
//! host primitives use (rate-limited, growth-only, sanitised; dropped when the client
//! did not ask for progress).

use crate::access::CallAccess;
use crate::bindings::bulkhead::plugin::progress::Host;

impl Host for CallAccess {
    async fn report(&mut self, progress: u64, total: Option<u64>, message: String) {
        self.report_progress(progress, total, &message);
    }
}
