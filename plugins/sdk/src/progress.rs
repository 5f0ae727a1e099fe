//! Progress of a long tool call, through the `progress` interface (always granted). The
//! host forwards a report to the client only when the client asked for progress, only
//! when `progress` grew, and at most 10 a second (the rest are dropped), so report as
//! often as is natural. Natively (unit tests) reports go to the installed fakes
//! ([`crate::fake`]), which record them.

/// Reports `progress` units done out of `total` (if known), with a short message.
pub fn report(progress: u64, total: Option<u64>, message: &str) {
    #[cfg(target_arch = "wasm32")]
    crate::bindings::bulkhead::plugin::progress::report(progress, total, message);
    #[cfg(not(target_arch = "wasm32"))]
    crate::fake::progress(progress, total, message);
}
