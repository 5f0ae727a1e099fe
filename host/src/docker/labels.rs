//! Ownership labels: the host stamps every object a plugin creates (containers,
//! networks, volumes, built images) so that state lives in Docker itself, and refuses
//! plugin-supplied labels under its reserved prefix, which would forge ownership.

use std::collections::HashMap;

use crate::bindings::DockerError;
use crate::bindings::bulkhead::plugin::types::KeyValue;

/// Label the host puts on everything it creates.
pub const MANAGED_LABEL: &str = "io.bulkhead.managed";
/// Label naming the plugin that created an object; the basis of `scope = owned`.
pub const PLUGIN_LABEL: &str = "io.bulkhead.plugin";
/// Plugins may not set labels under this prefix.
pub const RESERVED_LABEL_PREFIX: &str = "io.bulkhead.";

/// The labels to create an object with: the plugin's own, checked, plus the host's.
pub fn stamped(
    labels: Vec<KeyValue>,
    plugin: &str,
) -> Result<HashMap<String, String>, DockerError> {
    let mut stamped = HashMap::with_capacity(labels.len() + 2);
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
        stamped.insert(label.key, label.value);
    }
    stamped.insert(MANAGED_LABEL.into(), "true".into());
    stamped.insert(PLUGIN_LABEL.into(), plugin.into());
    Ok(stamped)
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
        let labels = stamped(vec![label("app")], "containers").unwrap();
        assert_eq!(labels[MANAGED_LABEL], "true");
        assert_eq!(labels[PLUGIN_LABEL], "containers");
        assert_eq!(labels["app"], "v");
        assert!(matches!(
            stamped(vec![label("io.bulkhead.plugin")], "p"),
            Err(DockerError::Denied(_))
        ));
        assert!(matches!(
            stamped(vec![label("")], "p"),
            Err(DockerError::Invalid(_))
        ));
    }
}
