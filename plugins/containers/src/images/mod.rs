//! Image tools: reading local images, pulling and pushing, building, tagging, removing.

pub(crate) mod build;
pub(crate) mod inspect;
pub(crate) mod list;
pub(crate) mod remove;
pub(crate) mod transfer;
