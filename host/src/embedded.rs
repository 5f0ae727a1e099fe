//! The default plugins, compiled to wasm32-wasip2 by build.rs and embedded in the
//! binary, so a single file serves them.

use std::sync::Arc;

use crate::capabilities::CapabilitySet;
use crate::runtime::PluginSource;

static CONTAINERS: &[u8] = include_bytes!(env!("BULKHEAD_PLUGIN_CONTAINERS"));

/// The built-in plugins with their default grants, in load order.
pub fn builtin_plugins() -> Vec<PluginSource> {
    vec![PluginSource {
        origin: "builtin:containers".into(),
        wasm: Arc::from(CONTAINERS),
        // Everything it asks for (its imports); the tier ceiling still keeps removal
        // off unless the operator allows destructive operations.
        builtin_grant: Some(CapabilitySet::all()),
    }]
}
