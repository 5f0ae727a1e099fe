//! Engine list and prune filters built from plugin input: label filters and `until`
//! times are checked here before they reach a query string, so every list and prune
//! primitive refuses the same malformed input the same way.

use std::collections::HashMap;

use crate::bindings::DockerError;
use crate::sanitize::one_line;

/// Most label filters one request may carry.
const MAX_LABEL_FILTERS: usize = 16;
/// Longest label filter, `key=value`.
const MAX_LABEL_FILTER_BYTES: usize = 512;
/// Longest free-text filter value (a name substring, a driver).
const MAX_TEXT_FILTER_BYTES: usize = 255;

/// The engine's filter map, built up one checked entry at a time.
#[derive(Debug, Default)]
pub struct Filters(HashMap<String, Vec<String>>);

impl Filters {
    pub fn new() -> Self {
        Filters::default()
    }

    /// `label` entries: each `key` or `key=value`, non-empty, without control characters.
    pub fn labels(mut self, labels: &[String]) -> Result<Self, DockerError> {
        if labels.len() > MAX_LABEL_FILTERS {
            return Err(DockerError::Invalid(format!(
                "at most {MAX_LABEL_FILTERS} label filters"
            )));
        }
        for label in labels {
            let key = label.split_once('=').map_or(label.as_str(), |(k, _)| k);
            if key.trim().is_empty()
                || label.len() > MAX_LABEL_FILTER_BYTES
                || label.chars().any(char::is_control)
            {
                return Err(DockerError::Invalid(format!(
                    "label filter `{}` must be `key` or `key=value` (at most {MAX_LABEL_FILTER_BYTES} bytes)",
                    one_line(label, 80)
                )));
            }
        }
        if !labels.is_empty() {
            self.0.insert("label".into(), labels.to_vec());
        }
        Ok(self)
    }

    /// A free-text entry (`name`, `driver`, …); absent or empty adds nothing.
    pub fn text(mut self, key: &str, value: Option<&str>) -> Result<Self, DockerError> {
        let Some(value) = value.filter(|v| !v.is_empty()) else {
            return Ok(self);
        };
        if value.len() > MAX_TEXT_FILTER_BYTES || value.chars().any(char::is_control) {
            return Err(DockerError::Invalid(format!(
                "`{key}` filter must be at most {MAX_TEXT_FILTER_BYTES} bytes without control characters"
            )));
        }
        self.0.insert(key.into(), vec![value.to_string()]);
        Ok(self)
    }

    /// Several values of one key, each checked like [`Filters::text`].
    pub fn list(mut self, key: &str, values: &[String]) -> Result<Self, DockerError> {
        for value in values {
            self = self.text(key, Some(value))?;
        }
        // `text` keeps only the last value; put them all back.
        let values: Vec<String> = values.iter().filter(|v| !v.is_empty()).cloned().collect();
        if !values.is_empty() {
            self.0.insert(key.into(), values);
        }
        Ok(self)
    }

    /// A boolean entry, as the engine spells it.
    pub fn flag(mut self, key: &str, value: Option<bool>) -> Self {
        if let Some(value) = value {
            self.0.insert(key.into(), vec![value.to_string()]);
        }
        self
    }

    /// `until`: a Unix time, an RFC 3339 time or a Go duration (`24h`, `90m`), checked
    /// for shape only; the engine parses it.
    pub fn until(mut self, until: Option<&str>) -> Result<Self, DockerError> {
        let Some(until) = until.map(str::trim).filter(|u| !u.is_empty()) else {
            return Ok(self);
        };
        let shaped = until.len() <= 40
            && until
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '-' | '+' | '.'));
        if !shaped {
            return Err(DockerError::Invalid(format!(
                "`until` must be a Unix time, an RFC 3339 time or a duration such as 24h, not `{}`",
                one_line(until, 40)
            )));
        }
        self.0.insert("until".into(), vec![until.to_string()]);
        Ok(self)
    }

    pub fn into_map(self) -> HashMap<String, Vec<String>> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_engine_filters_and_refuses_malformed_ones() {
        let map = Filters::new()
            .labels(&["app".into(), "tier=web".into()])
            .unwrap()
            .text("name", Some("db"))
            .unwrap()
            .text("driver", Some(""))
            .unwrap()
            .flag("dangling", Some(true))
            .until(Some("24h"))
            .unwrap()
            .list("type", &["container".into(), "network".into()])
            .unwrap()
            .into_map();
        assert_eq!(map["label"], ["app", "tier=web"]);
        assert_eq!(map["name"], ["db"]);
        assert!(!map.contains_key("driver"));
        assert_eq!(map["dangling"], ["true"]);
        assert_eq!(map["until"], ["24h"]);
        assert_eq!(map["type"], ["container", "network"]);

        for bad in ["", "=x", "a\nb"] {
            assert!(
                matches!(
                    Filters::new().labels(&[bad.to_string()]),
                    Err(DockerError::Invalid(_))
                ),
                "{bad:?}"
            );
        }
        let many: Vec<String> = (0..17).map(|i| format!("k{i}")).collect();
        assert!(Filters::new().labels(&many).is_err());
        for bad in ["1h; rm", "2026-01-01T00:00:00Z&all=1", "x/y"] {
            assert!(Filters::new().until(Some(bad)).is_err(), "{bad}");
        }
        assert!(Filters::new().until(Some("2026-01-01T00:00:00Z")).is_ok());
        assert!(Filters::new().text("name", Some(&"x".repeat(300))).is_err());
    }
}
