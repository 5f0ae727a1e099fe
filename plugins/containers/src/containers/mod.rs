//! Container tools: listing and reading, creating and running, run-state changes,
//! running commands inside, copying files in and out.

pub(crate) mod changes;
pub(crate) mod control;
pub(crate) mod create;
pub(crate) mod exec;
pub(crate) mod files;
pub(crate) mod inspect;
pub(crate) mod lifecycle;
pub(crate) mod list;
pub(crate) mod logs;
pub(crate) mod prune;
pub(crate) mod run;
pub(crate) mod stats;
pub(crate) mod top;
pub(crate) mod wait;
