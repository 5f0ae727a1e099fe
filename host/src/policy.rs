//! The operator's policy: who is granted which capabilities, and the tier ceiling.
//!
//! Deny by default: a plugin loaded from disk gets nothing until the operator grants it.
//! Built-in plugins get a default grant. Nothing a plugin or an agent can call changes
//! the policy; it comes from the command line only.

use std::collections::HashMap;

use crate::capabilities::{CapabilitySet, Tier};

#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Lets destructive capabilities (remove, prune) through the ceiling.
    pub allow_destructive: bool,
    /// Keeps only read capabilities, whatever else is allowed.
    pub read_only: bool,
    /// Explicit grants by plugin name; they replace a built-in default grant.
    pub grants: HashMap<String, CapabilitySet>,
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
    pub fn ceiling_refusal(&self, needed: CapabilitySet) -> Option<&'static str> {
        let over = needed.difference(CapabilitySet::up_to(self.ceiling()));
        if over.is_empty() {
            None
        } else if self.read_only {
            Some("the server runs in read-only mode")
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
            policy.ceiling_refusal(remove),
            Some("destructive operations are disabled")
        );
        let read: CapabilitySet = [ContainersRead].into_iter().collect();
        assert_eq!(policy.ceiling_refusal(read), None);
        let read_only = Policy {
            read_only: true,
            ..Policy::default()
        };
        let manage: CapabilitySet = [ContainersManage].into_iter().collect();
        assert_eq!(
            read_only.ceiling_refusal(manage),
            Some("the server runs in read-only mode")
        );
    }
}
