//! The default plugins, compiled to wasm32-wasip2 by build.rs and embedded in the
//! binary, so a single file serves them, with what each needs beyond its grant.

use std::sync::Arc;

use crate::capabilities::{CapabilitySet, Tier};
use crate::policy::Scope;
use crate::runtime::PluginSource;

static CONTAINERS: &[u8] = include_bytes!(env!("BULKHEAD_PLUGIN_CONTAINERS"));
static SANDBOX: &[u8] = include_bytes!(env!("BULKHEAD_PLUGIN_SANDBOX"));

/// What a built-in plugin gets by default beyond its grant. The operator's policy
/// overrides each default, except a forced scope.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BuiltinProfile {
    /// The scope it always runs under, whatever the policy says.
    pub forced_scope: Option<Scope>,
    /// Its ceiling when the policy sets no tier for it; a read-only server still wins.
    pub default_tier: Option<Tier>,
    /// Networks its containers may join when the policy names none for it
    /// (`Some(vec![])`: none but `none`).
    pub networks: Option<Vec<String>>,
    /// Ceilings (and defaults) of its containers when the server has none.
    pub max_memory_bytes: Option<i64>,
    pub max_nano_cpus: Option<i64>,
    pub max_pids: Option<i64>,
}

/// The sandbox runs code an agent wrote: always owned, no network unless the operator
/// lists one for it, 1 GiB / 1 CPU / 512 processes unless the operator says otherwise,
/// and it may destroy its own sandboxes without `--allow-destructive` (it reaches
/// nothing else).
pub fn sandbox_profile() -> BuiltinProfile {
    BuiltinProfile {
        forced_scope: Some(Scope::Owned),
        default_tier: Some(Tier::Destructive),
        networks: Some(Vec::new()),
        max_memory_bytes: Some(1 << 30),
        max_nano_cpus: Some(1_000_000_000),
        max_pids: Some(512),
    }
}

/// The built-in plugins with their default grants, in load order.
pub fn builtin_plugins() -> Vec<PluginSource> {
    vec![
        PluginSource {
            origin: "builtin:containers".into(),
            wasm: Arc::from(CONTAINERS),
            // Everything it asks for (its imports); the tier ceiling still keeps removal
            // off unless the operator allows destructive operations.
            builtin_grant: Some(CapabilitySet::all()),
            profile: Some(BuiltinProfile::default()),
        },
        PluginSource {
            origin: "builtin:sandbox".into(),
            wasm: Arc::from(SANDBOX),
            builtin_grant: Some(CapabilitySet::all()),
            profile: Some(sandbox_profile()),
        },
    ]
}
