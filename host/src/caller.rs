//! Who is asking, for one request. Over stdio that is the server's own identity with no
//! limit beyond the operator's policy (the local user started the server). Over HTTP it
//! is the authenticated subject, held to the tier its token's scope allows; the router
//! refuses what is above that tier, and the docker primitives stamp and filter by its
//! principal, so two principals of one server each see only their own objects under
//! `scope = owned`.

use std::sync::Arc;

use crate::capabilities::{CapabilitySet, Tier};
use crate::identity::Identity;

#[derive(Debug, Clone)]
pub struct Caller {
    pub identity: Arc<Identity>,
    /// The highest tier this caller may use. The policy's ceiling still applies on top.
    pub tier: Tier,
}

impl Caller {
    /// The operator: the server's own identity, no tier of its own.
    pub fn operator(identity: Arc<Identity>) -> Self {
        Caller {
            identity,
            tier: Tier::Destructive,
        }
    }

    /// Whether something that uses `capabilities` is within this caller's tier.
    pub fn may_use(&self, capabilities: CapabilitySet) -> bool {
        capabilities.max_tier().is_none_or(|tier| tier <= self.tier)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capabilities::Capability;

    #[test]
    fn a_caller_may_use_what_is_within_its_tier() {
        let identity = Arc::new(Identity::new(Some("alice")).unwrap());
        let reader = Caller {
            identity: Arc::clone(&identity),
            tier: Tier::Read,
        };
        let read: CapabilitySet = [Capability::ContainersRead].into_iter().collect();
        let write: CapabilitySet = [Capability::ContainersRead, Capability::ContainersManage]
            .into_iter()
            .collect();
        assert!(reader.may_use(read));
        assert!(reader.may_use(CapabilitySet::EMPTY));
        assert!(!reader.may_use(write));
        assert!(Caller::operator(identity).may_use(CapabilitySet::all()));
    }
}
