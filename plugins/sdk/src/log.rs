//! Logging into the host's log through the `log` interface (always granted; the host
//! attributes each message to the plugin and tool, rate-limits and truncates it).
//!
//! Guests have no other channel: a plugin's stdout is discarded, and its stderr reaches
//! the host's log only as the last few KiB before a trap. Natively
//! (unit tests) the lines go to the installed fakes ([`crate::fake`]), which record them.

pub use crate::bindings::bulkhead::plugin::log::Level;

/// Writes `message` at `level`.
pub fn write(level: Level, message: &str) {
    #[cfg(target_arch = "wasm32")]
    crate::bindings::bulkhead::plugin::log::write(level, message);
    #[cfg(not(target_arch = "wasm32"))]
    crate::fake::log(level, message);
}

/// Writes `message` at trace level.
pub fn trace(message: &str) {
    write(Level::Trace, message);
}

/// Writes `message` at debug level.
pub fn debug(message: &str) {
    write(Level::Debug, message);
}

/// Writes `message` at info level.
pub fn info(message: &str) {
    write(Level::Info, message);
}

/// Writes `message` at warn level.
pub fn warn(message: &str) {
    write(Level::Warn, message);
}

/// Writes `message` at error level.
pub fn error(message: &str) {
    write(Level::Error, message);
}
