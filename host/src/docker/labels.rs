//! Ownership labels: the host stamps every object a plugin creates (containers,
//! networks, volumes, built images) with who created it, in which session and through
//! which plugin, so that state lives in Docker itself. Plugin-supplied labels under the
//! reserved prefix (which would forge ownership) and on the operator's deny list are
//! refused.

use std::collections::HashMap;

use crate::access::CallAccess;
use crate::argument_policy::ArgumentPolicy;
use crate::bindings::DockerError;
use crate::bindings::bulkhead::plugin::types::KeyValue;
use crate::identity::Identity;

/// Label the host puts on everything it creates.
pub const MANAGED_LABEL: &str = "io.bulkhead.managed";
/// The principal that created an object: the basis of `scope = owned`.
pub const OWNER_LABEL: &str = "io.bulkhead.owner";
/// The server process (session id) that created an object.
pub const SESSION_LABEL: &str = "io.bulkhead.session";
/// The plugin that created an object.
pub const PLUGIN_LABEL: &str = "io.bulkhead.plugin";
/// Seconds of idleness after which the host's reaper removes a container.
pub const IDLE_TTL_LABEL: &str = "io.bulkhead.idle-ttl";
/// The host ports a container took from the port pool, `8192,8193`.
pub const POOLED_PORTS_LABEL: &str = "io.bulkhead.pooled-ports";
/// Plugins may not set labels under this prefix.
pub const RESERVED_LABEL_PREFIX: &str = "io.bulkhead.";

/// Who is creating an object: what the host stamps on it.
#[derive(Debug, Clone, Copy)]
pub struct Stamp<'a> {
    pub plugin: &'a str,
    pub identity: &'a Identity,
}

impl CallAccess {
    pub(super) fn stamp(&self) -> Stamp<'_> {
        Stamp {
            plugin: &self.plugin,
            identity: &self.identity,
        }
    }
}

/// The labels to create an object with: the plugin's own, checked against the reserved
/// prefix and the operator's deny list, plus the host's.
pub fn stamped(
    labels: Vec<KeyValue>,
    stamp: Stamp<'_>,
    rules: &ArgumentPolicy,
) -> Result<HashMap<String, String>, DockerError> {
    let mut stamped = HashMap::with_capacity(labels.len() + 4);
    for label in labels {
        if label.key.starts_with(RESERVED_LABEL_PREFIX) {
            return Err(DockerError::Denied(format!(
                "labels under `{RESERVED_LABEL_PREFIX}` are set by the host only"
            )));
        }
        if label.key.is_empty() || label.key.len() > 256 || label.key.contains(char::is_control) {
            return Err(DockerError::Invalid(
                "label keys must be 1-256 characters without control characters".into(),
            ));
        }
        rules.names.check_label_key(&label.key)?;
        stamped.insert(label.key, label.value);
    }
    stamped.insert(MANAGED_LABEL.into(), "true".into());
    stamped.insert(OWNER_LABEL.into(), stamp.identity.principal.clone());
    stamped.insert(SESSION_LABEL.into(), stamp.identity.session.clone());
    stamped.insert(PLUGIN_LABEL.into(), stamp.plugin.into());
    Ok(stamped)
}

/// A stamp for tests: plugin `plugin`, principal `local:1000`, session `s1`.
#[cfg(test)]
pub fn test_stamp(plugin: &'static str) -> Stamp<'static> {
    static IDENTITY: std::sync::LazyLock<Identity> = std::sync::LazyLock::new(|| Identity {
        principal: "local:1000".into(),
        session: "s1".into(),
    });
    Stamp {
        plugin,
        identity: &IDENTITY,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(key: &str) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: "v".into(),
        }
    }

    #[test]
    fn host_labels_are_added_and_cannot_be_forged() {
        let stamp = test_stamp;
        let rules = ArgumentPolicy::default();
        let labels = stamped(vec![label("app")], stamp("containers"), &rules).unwrap();
        assert_eq!(labels[MANAGED_LABEL], "true");
        assert_eq!(labels[PLUGIN_LABEL], "containers");
        assert_eq!(labels[OWNER_LABEL], "local:1000");
        assert_eq!(labels[SESSION_LABEL], "s1");
        assert_eq!(labels["app"], "v");
        for forged in ["io.bulkhead.plugin", "io.bulkhead.owner", "traefik.enable"] {
            assert!(
                matches!(
                    stamped(vec![label(forged)], stamp("p"), &rules),
                    Err(DockerError::Denied(_))
                ),
                "{forged}"
            );
        }
        assert!(matches!(
            stamped(vec![label("")], stamp("p"), &rules),
            Err(DockerError::Invalid(_))
        ));
    }
}
