//! The default plugins, compiled to wasm32-wasip2 by build.rs and embedded in the
//! binary, so a single file serves them, with what each needs beyond its grant.

use std::borrow::Cow;

use crate::capabilities::{CapabilitySet, Tier};
use crate::policy::Scope;
use crate::runtime::PluginSource;

/// A component embedded in the binary, with the sha256 build.rs took of it.
struct Embedded {
    wasm: &'static [u8],
    sha256: &'static str,
}

/// The component build.rs made for `$key` (`CONTAINERS` → `BULKHEAD_PLUGIN_CONTAINERS`)
/// and its digest.
macro_rules! embedded {
    ($key:literal) => {
        Embedded {
            wasm: include_bytes!(env!(concat!("BULKHEAD_PLUGIN_", $key))),
            sha256: env!(concat!("BULKHEAD_PLUGIN_", $key, "_SHA256")),
        }
    };
}

static CONTAINERS: Embedded = embedded!("CONTAINERS");
static SANDBOX: Embedded = embedded!("SANDBOX");
static COMPOSE: Embedded = embedded!("COMPOSE");
static DIAGNOSTICS: Embedded = embedded!("DIAGNOSTICS");

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
    /// Its instances see the operator's compose directories (`--compose-dir`) as
    /// read-only WASI preopens, at the same paths as on the host.
    pub reads_compose_dirs: bool,
    /// Unless the operator allows destructive operations, its removals reach only
    /// containers and networks its principal owns, and it may remove no volume.
    pub removes_only_owned: bool,
    /// The URI scheme of its resources when not its own name (`docker` for
    /// diagnostics); no other plugin may use it.
    pub resource_scheme: Option<&'static str>,
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
        ..BuiltinProfile::default()
    }
}

/// Compose sees every stack on the engine (those of `docker compose` too) and may
/// recreate and bring down the stacks its principal deployed without
/// `--allow-destructive`: a redeploy that cannot replace a changed container would be
/// no deploy at all. Anyone else's stack, and every volume, needs the operator's
/// `--allow-destructive`.
pub fn compose_profile() -> BuiltinProfile {
    BuiltinProfile {
        default_tier: Some(Tier::Destructive),
        reads_compose_dirs: true,
        removes_only_owned: true,
        ..BuiltinProfile::default()
    }
}

/// Diagnostics reads and never changes anything: its prompts gather evidence and its
/// resources serve `docker://` URIs.
pub fn diagnostics_profile() -> BuiltinProfile {
    BuiltinProfile {
        default_tier: Some(Tier::Read),
        resource_scheme: Some(crate::runtime::context_manifest::BUILTIN_SCHEME),
        ..BuiltinProfile::default()
    }
}

/// The scope a built-in plugin named `plugin` is forced to run under, if any; a policy
/// naming another scope for it is a mistake.
pub fn forced_scope(plugin: &str) -> Option<Scope> {
    builtins()
        .into_iter()
        .find(|(name, _, _)| *name == plugin)
        .and_then(|(_, _, profile)| profile.forced_scope)
}

/// The one list of built-in plugins, in load order: name, component, profile.
fn builtins() -> [(&'static str, &'static Embedded, BuiltinProfile); 4] {
    [
        ("containers", &CONTAINERS, BuiltinProfile::default()),
        ("compose", &COMPOSE, compose_profile()),
        ("sandbox", &SANDBOX, sandbox_profile()),
        ("diagnostics", &DIAGNOSTICS, diagnostics_profile()),
    ]
}

/// The built-in plugins with their default grants, in load order. Each is granted
/// everything it asks for (its imports); the tier ceiling still applies on top (removal
/// stays off for `containers` unless the operator allows destructive operations).
/// Their bytes are borrowed from the binary, not copied: with a warm cache they are
/// never read at all.
pub fn builtin_plugins() -> Vec<PluginSource> {
    builtins()
        .into_iter()
        .map(|(name, embedded, profile)| PluginSource {
            origin: format!("builtin:{name}"),
            wasm: Cow::Borrowed(embedded.wasm),
            digest: embedded.sha256.to_string(),
            builtin_grant: Some(CapabilitySet::all()),
            profile: Some(profile),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_time_digests_match_the_embedded_bytes() {
        for source in builtin_plugins() {
            assert_eq!(
                source.digest,
                crate::runtime::digest(&source.wasm),
                "{}",
                source.origin
            );
        }
    }
}
