//! The operator's policy: who is granted which capabilities, and the tier ceiling.
//!
//! Deny by default: a plugin loaded from disk gets nothing until the operator grants it.
//! Built-in plugins get a default grant. Nothing a plugin or an agent can call changes
//! the policy; it comes from the command line only.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::Arc;

use crate::argument_policy::ArgumentPolicy;
use crate::capabilities::{CapabilitySet, Tier};
use crate::embedded::BuiltinProfile;
use crate::runtime::Limits;

/// Which engine objects a plugin's primitives may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Everything on the engine: a local user managing their own engine.
    All,
    /// Only objects this server's principal created (the `io.bulkhead.owner` label);
    /// lists show only those. The default for plugins from disk.
    Owned,
}

impl Scope {
    pub fn parse(text: &str) -> Option<Scope> {
        match text {
            "all" => Some(Scope::All),
            "owned" => Some(Scope::Owned),
            _ => None,
        }
    }

    /// Built-in plugins manage the local user's engine; plugins from disk reach only
    /// what this principal created unless the operator says otherwise.
    pub fn default_for(builtin: bool) -> Scope {
        if builtin { Scope::All } else { Scope::Owned }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Scope::All => "all",
            Scope::Owned => "owned",
        })
    }
}

/// What the operator decided for one plugin beyond its grant: what it reaches, what its
/// arguments may ask of the engine, and how much one call may use.
#[derive(Debug, Clone)]
pub struct PluginSettings {
    pub scope: Scope,
    pub rules: Arc<ArgumentPolicy>,
    pub limits: Limits,
    /// Host directories its instances may read, preopened read-only at the same path.
    pub read_dirs: Arc<[std::path::PathBuf]>,
    /// Its removals reach only what its principal owns, and no volume (see
    /// [`BuiltinProfile::removes_only_owned`]); off once destructive operations are
    /// allowed.
    pub removes_only_owned: bool,
}

/// A plugin's own settings from the policy file, already checked to be no looser than
/// the server's.
#[derive(Debug, Clone, Default)]
pub struct PluginOverrides {
    pub scope: Option<Scope>,
    pub rules: Option<Arc<ArgumentPolicy>>,
    pub limits: Option<Limits>,
    /// The plugin's own section names its networks (a built-in default then yields).
    pub sets_networks: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Lets destructive capabilities (remove, prune) through the ceiling.
    pub allow_destructive: bool,
    /// Keeps only read capabilities, whatever else is allowed.
    pub read_only: bool,
    /// Explicit grants by plugin name; they replace a built-in default grant.
    pub grants: HashMap<String, CapabilitySet>,
    /// Only these tools are served (empty: all).
    pub tools_allow: BTreeSet<String>,
    /// These tools are never served; deny wins over allow.
    pub tools_deny: BTreeSet<String>,
    /// Only plugins with these names may load (`None`: all).
    pub plugins_allowed: Option<BTreeSet<String>>,
    /// Per-plugin tier ceilings, each at most the server's.
    pub plugin_ceilings: BTreeMap<String, Tier>,
    /// The server's argument rules and call limits: what a plugin gets unless its own
    /// settings narrow them.
    pub rules: Arc<ArgumentPolicy>,
    pub limits: Limits,
    /// Per-plugin scope, rules and limits from the policy file.
    pub plugin_overrides: BTreeMap<String, PluginOverrides>,
}

impl Policy {
    /// The highest tier any plugin may use.
    pub fn ceiling(&self) -> Tier {
        if self.read_only {
            Tier::Read
        } else if self.allow_destructive {
            Tier::Destructive
        } else {
            Tier::Moderate
        }
    }

    /// The ceiling for one plugin: the plugin's own from the policy if lower than the
    /// server's; else a built-in plugin's default tier (which a read-only server still
    /// overrides); else the server's.
    pub fn ceiling_for(&self, plugin: &str, builtin: Option<&BuiltinProfile>) -> Tier {
        let server = self.ceiling();
        if let Some(own) = self.plugin_ceilings.get(plugin) {
            return (*own).min(server);
        }
        match builtin.and_then(|profile| profile.default_tier) {
            Some(tier) if !self.read_only => tier,
            _ => server,
        }
    }

    /// Why the operator's tool lists keep `tool` from being served, if they do.
    pub fn tool_refusal(&self, tool: &str) -> Option<&'static str> {
        if self.tools_deny.contains(tool) {
            Some("the policy denies this tool")
        } else if !self.tools_allow.is_empty() && !self.tools_allow.contains(tool) {
            Some("the policy's tool allow-list does not include it")
        } else {
            None
        }
    }

    /// Whether a plugin of this name may load.
    pub fn plugin_allowed(&self, plugin: &str) -> bool {
        self.plugins_allowed
            .as_ref()
            .is_none_or(|allowed| allowed.contains(plugin))
    }

    /// Scope, rules and limits of `plugin`: its own settings, else the server's, with
    /// the scope defaulting by origin ([`Scope::default_for`]) and a built-in plugin's
    /// profile filling what the operator left open (a forced scope always wins).
    pub fn settings_for(&self, plugin: &str, builtin: Option<&BuiltinProfile>) -> PluginSettings {
        let own = self.plugin_overrides.get(plugin);
        let mut rules = own
            .and_then(|o| o.rules.clone())
            .unwrap_or_else(|| Arc::clone(&self.rules));
        if let Some(profile) = builtin {
            let mut filled = (*rules).clone();
            let defaults = [
                (&mut filled.max_memory_bytes, profile.max_memory_bytes),
                (&mut filled.max_nano_cpus, profile.max_nano_cpus),
                (&mut filled.max_pids, profile.max_pids),
            ];
            for (value, default) in defaults {
                if value.is_none() {
                    *value = default;
                }
            }
            if !own.is_some_and(|o| o.sets_networks) && profile.networks.is_some() {
                filled.names.networks = profile.networks.clone();
            }
            rules = Arc::new(filled);
        }
        PluginSettings {
            scope: builtin
                .and_then(|p| p.forced_scope)
                .or(own.and_then(|o| o.scope))
                .unwrap_or(Scope::default_for(builtin.is_some())),
            read_dirs: if builtin.is_some_and(|p| p.reads_compose_dirs) {
                Arc::from(rules.read_roots.as_slice())
            } else {
                Arc::from([])
            },
            removes_only_owned: builtin.is_some_and(|p| p.removes_only_owned)
                && !self.allow_destructive,
            rules,
            limits: own
                .and_then(|o| o.limits.clone())
                .unwrap_or_else(|| self.limits.clone()),
        }
    }

    /// What `plugin` is granted before the ceiling: an explicit grant, else the
    /// built-in default, else nothing.
    pub fn granted(&self, plugin: &str, builtin_default: Option<CapabilitySet>) -> CapabilitySet {
        self.grants
            .get(plugin)
            .copied()
            .or(builtin_default)
            .unwrap_or(CapabilitySet::EMPTY)
    }

    /// Why a tool needing `needed` is unavailable under this ceiling, if the ceiling is
    /// the reason. Used to give a precise error instead of "unknown tool".
    pub fn ceiling_refusal(
        &self,
        plugin: &str,
        builtin: Option<&BuiltinProfile>,
        needed: CapabilitySet,
    ) -> Option<&'static str> {
        let ceiling = self.ceiling_for(plugin, builtin);
        let over = needed.difference(CapabilitySet::up_to(ceiling));
        if over.is_empty() {
            None
        } else if self.read_only {
            Some("the server runs in read-only mode")
        } else if ceiling < self.ceiling() {
            Some("the policy limits this plugin's tier")
        } else {
            Some("destructive operations are disabled")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capabilities::Capability::*;

    #[test]
    fn ceiling_follows_flags() {
        let mut policy = Policy::default();
        assert_eq!(policy.ceiling(), Tier::Moderate);
        policy.allow_destructive = true;
        assert_eq!(policy.ceiling(), Tier::Destructive);
        policy.read_only = true;
        assert_eq!(
            policy.ceiling(),
            Tier::Read,
            "read-only wins over allow-destructive"
        );
    }

    #[test]
    fn explicit_grant_replaces_default_and_unknown_plugins_get_nothing() {
        let mut policy = Policy::default();
        let default: CapabilitySet = [ContainersRead, ContainersManage].into_iter().collect();
        assert_eq!(policy.granted("containers", Some(default)), default);
        assert_eq!(policy.granted("third-party", None), CapabilitySet::EMPTY);
        let narrow: CapabilitySet = [ContainersRead].into_iter().collect();
        policy.grants.insert("containers".into(), narrow);
        assert_eq!(policy.granted("containers", Some(default)), narrow);
    }

    #[test]
    fn explains_ceiling_refusals() {
        let policy = Policy::default();
        let remove: CapabilitySet = [ContainersRemove].into_iter().collect();
        assert_eq!(
            policy.ceiling_refusal("p", None, remove),
            Some("destructive operations are disabled")
        );
        let read: CapabilitySet = [ContainersRead].into_iter().collect();
        assert_eq!(policy.ceiling_refusal("p", None, read), None);
        let read_only = Policy {
            read_only: true,
            ..Policy::default()
        };
        let manage: CapabilitySet = [ContainersManage].into_iter().collect();
        assert_eq!(
            read_only.ceiling_refusal("p", None, manage),
            Some("the server runs in read-only mode")
        );
    }

    #[test]
    fn scope_defaults_by_origin_and_follows_the_file() {
        let mut policy = Policy::default();
        let builtin = BuiltinProfile::default();
        assert_eq!(
            policy.settings_for("containers", Some(&builtin)).scope,
            Scope::All
        );
        assert_eq!(policy.settings_for("hello", None).scope, Scope::Owned);
        policy.plugin_overrides.insert(
            "containers".into(),
            PluginOverrides {
                scope: Some(Scope::Owned),
                ..PluginOverrides::default()
            },
        );
        assert_eq!(
            policy.settings_for("containers", Some(&builtin)).scope,
            Scope::Owned
        );
    }

    #[test]
    fn the_sandbox_profile_fills_what_the_operator_left_open() {
        let sandbox = crate::embedded::sandbox_profile();
        let mut policy = Policy::default();
        let settings = policy.settings_for("sandbox", Some(&sandbox));
        assert_eq!(settings.scope, Scope::Owned);
        assert_eq!(settings.rules.max_memory_bytes, Some(1 << 30));
        assert_eq!(settings.rules.names.networks, Some(vec![]));
        assert_eq!(
            policy.ceiling_for("sandbox", Some(&sandbox)),
            Tier::Destructive
        );
        policy.read_only = true;
        assert_eq!(policy.ceiling_for("sandbox", Some(&sandbox)), Tier::Read);
        policy.read_only = false;
        policy.plugin_overrides.insert(
            "sandbox".into(),
            PluginOverrides {
                scope: Some(Scope::All),
                sets_networks: true,
                ..PluginOverrides::default()
            },
        );
        let settings = policy.settings_for("sandbox", Some(&sandbox));
        assert_eq!(settings.scope, Scope::Owned, "forced");
        assert_eq!(
            settings.rules.names.networks, None,
            "the operator's (the server's any)"
        );
    }

    #[test]
    fn tool_lists_and_plugin_tiers() {
        let policy = Policy {
            tools_allow: ["a".to_string(), "b".to_string()].into(),
            tools_deny: ["b".to_string()].into(),
            plugins_allowed: Some(["containers".to_string()].into()),
            plugin_ceilings: [("probe".to_string(), Tier::Read)].into(),
            ..Policy::default()
        };
        assert_eq!(policy.tool_refusal("a"), None);
        assert_eq!(
            policy.tool_refusal("b"),
            Some("the policy denies this tool")
        );
        assert!(policy.tool_refusal("c").is_some());
        assert!(policy.plugin_allowed("containers") && !policy.plugin_allowed("probe"));
        assert_eq!(policy.ceiling_for("probe", None), Tier::Read);
        assert_eq!(policy.ceiling_for("containers", None), Tier::Moderate);
        let manage: CapabilitySet = [ContainersManage].into_iter().collect();
        assert_eq!(
            policy.ceiling_refusal("probe", None, manage),
            Some("the policy limits this plugin's tier")
        );
    }
}
