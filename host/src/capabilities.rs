//! Docker capabilities: one WIT interface each, one grant each.
//!
//! A plugin may use a capability only when three keys agree: it imports the interface
//! (its permission request, visible without running it), the operator grants it (policy
//! or built-in default), and the policy's tier ceiling allows its tier. Within a call the
//! tool must also have declared it. All of that is pure set logic, kept here with tests.

use std::fmt;
use std::str::FromStr;

/// How much harm a capability can do, derived from its interface, never from a plugin's
/// own description of a tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tier {
    /// Reads only (`*-read`).
    Read,
    /// Changes state but deletes nothing (create, start, stop, …).
    Moderate,
    /// Deletes (remove, prune).
    Destructive,
}

/// The capability table: the one place a capability is declared. Each row names the
/// enum variant, the WIT interface (which is also the grant name) and the tier; the
/// enum, [`Capability::ALL`], names, tiers, parsing, the list in [`UnknownCapability`]
/// and the mapping from the WIT `capability` enum all derive from it. Adding a
/// capability is one WIT interface, one host file under `docker/`, and one row here.
macro_rules! capability_table {
    ($($variant:ident => $name:literal, $tier:ident;)+) => {
        /// One Docker capability interface of the `bulkhead:plugin` WIT package.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Capability {
            $($variant,)+
        }

        impl Capability {
            pub const ALL: &'static [Capability] = &[$(Capability::$variant,)+];

            /// The WIT interface name, which is also the name used in grants.
            pub fn name(self) -> &'static str {
                match self {
                    $(Capability::$variant => $name,)+
                }
            }

            pub fn tier(self) -> Tier {
                match self {
                    $(Capability::$variant => Tier::$tier,)+
                }
            }

            /// The host's capability for a tool's declaration in its manifest.
            pub fn from_wit(cap: crate::bindings::tools::Capability) -> Capability {
                match cap {
                    $(crate::bindings::tools::Capability::$variant => Capability::$variant,)+
                }
            }

            /// The WIT enum value for this capability.
            pub fn to_wit(self) -> crate::bindings::tools::Capability {
                match self {
                    $(Capability::$variant => crate::bindings::tools::Capability::$variant,)+
                }
            }
        }

        /// Every capability name, for error messages.
        const KNOWN_NAMES: &str = concat!($($name, " "),+);
    };
}

capability_table! {
    ContainersRead => "containers-read", Read;
    ContainersManage => "containers-manage", Moderate;
    ContainersRemove => "containers-remove", Destructive;
    ContainersExec => "containers-exec", Moderate;
    ContainersFiles => "containers-files", Moderate;
    ImagesRead => "images-read", Read;
    ImagesPull => "images-pull", Moderate;
    ImagesBuild => "images-build", Moderate;
    ImagesPush => "images-push", Moderate;
    ImagesRemove => "images-remove", Destructive;
    NetworksRead => "networks-read", Read;
    NetworksManage => "networks-manage", Moderate;
    NetworksRemove => "networks-remove", Destructive;
    VolumesRead => "volumes-read", Read;
    VolumesManage => "volumes-manage", Moderate;
    VolumesRemove => "volumes-remove", Destructive;
    SystemRead => "system-read", Read;
    SystemPrune => "system-prune", Destructive;
}

// The set is a bit mask.
const _: () = assert!(Capability::ALL.len() <= 64);

impl Capability {
    fn bit(self) -> u64 {
        1 << (self as u32)
    }

    /// Maps a component import such as `bulkhead:plugin/containers-read@0.1.0` to its
    /// capability. `None` for anything that is not a Docker capability of this package.
    pub fn from_import(import: &str) -> Option<Capability> {
        let rest = import.strip_prefix(crate::bindings::WIT_PACKAGE_NAMESPACE)?;
        let interface = rest.split('@').next()?;
        interface.parse().ok()
    }

    /// A removal that stays within reason when limited to its principal's objects:
    /// containers and networks are recreated from their spec, while a volume or an
    /// image holds data or work that is gone for good.
    pub fn removes_owned_only(self) -> bool {
        matches!(
            self,
            Capability::ContainersRemove | Capability::NetworksRemove
        )
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error for a capability name that does not exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown capability `{0}` (known: {known})", known = KNOWN_NAMES.trim_end().replace(' ', ", "))]
pub struct UnknownCapability(pub String);

impl FromStr for Capability {
    type Err = UnknownCapability;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Capability::ALL
            .iter()
            .copied()
            .find(|cap| cap.name() == name)
            .ok_or_else(|| UnknownCapability(name.to_string()))
    }
}

/// A set of capabilities, cheap to copy and intersect.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct CapabilitySet(u64);

impl CapabilitySet {
    pub const EMPTY: CapabilitySet = CapabilitySet(0);

    /// Every capability whose tier is at most `ceiling`.
    pub fn up_to(ceiling: Tier) -> Self {
        Capability::ALL
            .iter()
            .copied()
            .filter(|cap| cap.tier() <= ceiling)
            .collect()
    }

    pub fn contains(self, cap: Capability) -> bool {
        self.0 & cap.bit() != 0
    }

    pub fn insert(&mut self, cap: Capability) {
        self.0 |= cap.bit();
    }

    pub fn intersect(self, other: CapabilitySet) -> CapabilitySet {
        CapabilitySet(self.0 & other.0)
    }

    pub fn union(self, other: CapabilitySet) -> CapabilitySet {
        CapabilitySet(self.0 | other.0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The members of `self` missing from `other`.
    pub fn difference(self, other: CapabilitySet) -> CapabilitySet {
        CapabilitySet(self.0 & !other.0)
    }

    /// Every capability there is.
    pub fn all() -> Self {
        Capability::ALL.iter().copied().collect()
    }

    pub fn iter(self) -> impl Iterator<Item = Capability> {
        Capability::ALL
            .iter()
            .copied()
            .filter(move |cap| self.contains(*cap))
    }

    /// The highest tier in the set; `None` when empty.
    pub fn max_tier(self) -> Option<Tier> {
        self.iter().map(Capability::tier).max()
    }

    /// Parses `a,b,c` (spaces allowed). An empty string is the empty set.
    pub fn parse_list(list: &str) -> Result<Self, UnknownCapability> {
        let mut set = CapabilitySet::EMPTY;
        for name in list
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
        {
            set.insert(name.parse()?);
        }
        Ok(set)
    }
}

impl FromIterator<Capability> for CapabilitySet {
    fn from_iter<I: IntoIterator<Item = Capability>>(iter: I) -> Self {
        let mut set = CapabilitySet::EMPTY;
        for cap in iter {
            set.insert(cap);
        }
        set
    }
}

impl fmt::Debug for CapabilitySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(self.iter().map(Capability::name))
            .finish()
    }
}

impl fmt::Display for CapabilitySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Capability::name).collect();
        if names.is_empty() {
            f.write_str("(none)")
        } else {
            f.write_str(&names.join(", "))
        }
    }
}

/// What a plugin may use at all: what it asks for (imports), what it was granted, capped
/// by the policy's tier ceiling.
pub fn effective_grant(
    requested: CapabilitySet,
    granted: CapabilitySet,
    ceiling: Tier,
) -> CapabilitySet {
    requested
        .intersect(granted)
        .intersect(CapabilitySet::up_to(ceiling))
}

/// MCP annotations implied by the capabilities a tool declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DerivedHints {
    pub read_only: bool,
    pub destructive: bool,
}

pub fn derive_hints(declared: CapabilitySet) -> DerivedHints {
    let tier = declared.max_tier().unwrap_or(Tier::Read);
    DerivedHints {
        read_only: tier == Tier::Read,
        destructive: tier == Tier::Destructive,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Capability::*;

    fn set(caps: &[Capability]) -> CapabilitySet {
        caps.iter().copied().collect()
    }

    #[test]
    fn effective_grant_needs_request_grant_and_tier() {
        // (requested, granted, ceiling, expected)
        type Case<'a> = (&'a [Capability], &'a [Capability], Tier, &'a [Capability]);
        let cases: &[Case] = &[
            // Asked and granted: allowed.
            (
                &[ContainersRead],
                &[ContainersRead],
                Tier::Destructive,
                &[ContainersRead],
            ),
            // Granted but never asked for: not allowed (imports are the request).
            (&[], &[ContainersRead], Tier::Destructive, &[]),
            // Asked but not granted: not allowed.
            (
                &[ContainersRead, ContainersRemove],
                &[ContainersRead],
                Tier::Destructive,
                &[ContainersRead],
            ),
            // Granted, asked, but above the ceiling: not allowed.
            (
                &[ContainersRemove, ContainersManage],
                &[ContainersRemove, ContainersManage],
                Tier::Moderate,
                &[ContainersManage],
            ),
            // Read-only mode keeps reads only.
            (
                &[ContainersRead, ContainersManage],
                &[ContainersRead, ContainersManage],
                Tier::Read,
                &[ContainersRead],
            ),
        ];
        for (requested, granted, ceiling, expected) in cases {
            assert_eq!(
                effective_grant(set(requested), set(granted), *ceiling),
                set(expected),
                "requested {requested:?} granted {granted:?} ceiling {ceiling:?}"
            );
        }
    }

    #[test]
    fn hints_follow_the_highest_tier() {
        assert_eq!(
            derive_hints(set(&[])),
            DerivedHints {
                read_only: true,
                destructive: false
            }
        );
        assert_eq!(
            derive_hints(set(&[ContainersRead])),
            DerivedHints {
                read_only: true,
                destructive: false
            }
        );
        assert_eq!(
            derive_hints(set(&[ContainersRead, ContainersManage])),
            DerivedHints {
                read_only: false,
                destructive: false
            }
        );
        assert_eq!(
            derive_hints(set(&[ContainersRemove])),
            DerivedHints {
                read_only: false,
                destructive: true
            }
        );
    }

    #[test]
    fn parses_lists_and_rejects_unknown_names() {
        assert_eq!(
            CapabilitySet::parse_list("containers-read, containers-remove").unwrap(),
            set(&[ContainersRead, ContainersRemove])
        );
        assert_eq!(CapabilitySet::parse_list("").unwrap(), CapabilitySet::EMPTY);
        assert_eq!(
            CapabilitySet::parse_list("containers-read,docker-root").unwrap_err(),
            UnknownCapability("docker-root".into())
        );
    }

    #[test]
    fn maps_component_imports_to_capabilities() {
        assert_eq!(
            Capability::from_import("bulkhead:plugin/containers-read@0.1.0"),
            Some(ContainersRead)
        );
        assert_eq!(
            Capability::from_import("bulkhead:plugin/containers-remove"),
            Some(ContainersRemove)
        );
        assert_eq!(Capability::from_import("bulkhead:plugin/log@0.1.0"), None);
        assert_eq!(Capability::from_import("wasi:io/poll@0.2.6"), None);
        assert_eq!(
            Capability::from_import("evil:plugin/containers-read@0.1.0"),
            None
        );
    }

    #[test]
    fn set_algebra() {
        let a = set(&[ContainersRead, ContainersManage]);
        assert_eq!(set(&[ContainersRead]).union(set(&[ContainersManage])), a);
        assert_eq!(
            set(&[ContainersRead, ContainersRemove]).difference(a),
            set(&[ContainersRemove])
        );
        assert_eq!(a.to_string(), "containers-read, containers-manage");
        assert_eq!(CapabilitySet::EMPTY.to_string(), "(none)");
    }
}
