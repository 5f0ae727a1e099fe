//! Compose text to a JSON tree, under limits: size before parsing, then a parser budget
//! (events, nodes, depth, documents) and alias-replay limits, so an alias bomb or a
//! deeply nested file is refused in milliseconds, never expanded.

use serde_json::Value;
use serde_saphyr::{DuplicateKeyPolicy, MergeKeyPolicy};

use super::{SpecError, SpecErrorKind};

/// Largest Compose text accepted.
pub const MAX_YAML_BYTES: usize = 1 << 20;
/// Deepest nesting a Compose file needs, with room to spare.
const MAX_DEPTH: usize = 64;
/// Parser events (scalars, collection starts and ends) of one file.
const MAX_EVENTS: usize = 200_000;
/// Events replayed from aliases, over the whole file.
const MAX_REPLAYED_EVENTS: usize = 20_000;

pub fn parse(text: &str) -> Result<Value, SpecError> {
    if text.len() > MAX_YAML_BYTES {
        return Err(SpecError::new(
            SpecErrorKind::TooLarge,
            "",
            format!("the Compose text is larger than {MAX_YAML_BYTES} bytes"),
        ));
    }
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_events: MAX_EVENTS,
            max_nodes: MAX_EVENTS,
            max_depth: MAX_DEPTH,
            max_documents: 1,
            max_aliases: 2_000,
            max_anchors: 2_000,
            max_total_scalar_bytes: MAX_YAML_BYTES * 2,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: MAX_REPLAYED_EVENTS,
            max_replay_stack_depth: 16,
            max_alias_expansions_per_anchor: 1_000,
        },
        duplicate_keys: DuplicateKeyPolicy::Error,
        merge_keys: MergeKeyPolicy::Merge,
    };
    match serde_saphyr::from_str_with_options::<Value>(text, options) {
        Ok(Value::Null) => Err(SpecError::new(
            SpecErrorKind::Invalid,
            "",
            "the Compose file is empty",
        )),
        Ok(value) => Ok(value),
        Err(err) => {
            let text = err.to_string();
            let lower = text.to_ascii_lowercase();
            let kind = if ["budget", "limit", "exceed", "too many", "depth"]
                .iter()
                .any(|word| lower.contains(word))
            {
                SpecErrorKind::TooLarge
            } else {
                SpecErrorKind::Invalid
            };
            let first_line: String = text
                .lines()
                .next()
                .unwrap_or_default()
                .chars()
                .take(300)
                .collect();
            let message = if kind == SpecErrorKind::TooLarge {
                format!("refused before expanding it: {first_line}")
            } else {
                format!("not valid YAML: {first_line}")
            };
            Err(SpecError::new(kind, "", message))
        }
    }
}
