//! Bulkhead: an MCP server that lets AI agents manage Docker through sandboxed
//! WebAssembly plugins.
//!
//! A tool call flows `transport` → `router` (gate, schema validation) → `runtime`
//! (fresh limited instance) → plugin → `docker` host imports (capability check,
//! argument policy) → engine. See DESIGN.md for the whole picture.

pub mod access;
pub mod activity;
pub mod app;
pub mod argument_policy;
pub mod attachments;
pub mod audit;
pub mod bindings;
pub mod caller;
pub mod capabilities;
pub mod cli;
pub mod client_log;
pub mod client_requests;
pub mod context_routes;
pub mod docker;
pub mod doctor;
pub mod embedded;
pub mod errors;
pub mod glob;
pub mod identity;
pub mod jwks_fetch;
pub mod loader;
pub mod name_rules;
pub mod narrowing;
pub mod oauth;
pub mod plugin_files;
pub mod policy;
pub mod policy_file;
pub mod progress;
pub mod rate_limit;
pub mod reaper;
pub mod redact;
pub mod router;
pub mod runtime;
pub mod sanitize;
pub mod scaffold;
mod services;
pub mod sessions;
pub mod tokens;
pub mod transport;
pub mod trust;
pub mod uri_template;
