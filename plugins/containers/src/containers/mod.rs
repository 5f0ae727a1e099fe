//! Container tools: listing and reading, creating and running, run-state changes.

pub(crate) mod create;
pub(crate) mod inspect;
pub(crate) mod lifecycle;
pub(crate) mod list;
pub(crate) mod logs;
