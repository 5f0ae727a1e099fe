//! Reading the JSON tree by hand, so every error names the path of what is wrong.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{SpecError, SpecErrorKind};

pub type Result<T> = std::result::Result<T, SpecError>;

/// Longest string value accepted.
const MAX_STRING_BYTES: usize = 64 << 10;

pub fn invalid(path: &str, message: impl Into<String>) -> SpecError {
    SpecError::new(SpecErrorKind::Invalid, path, message)
}

pub fn denied(path: &str, message: impl Into<String>) -> SpecError {
    SpecError::new(SpecErrorKind::Denied, path, message)
}

pub fn child(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

pub fn object<'v>(value: &'v Value, path: &str) -> Result<&'v Map<String, Value>> {
    value
        .as_object()
        .ok_or_else(|| invalid(path, format!("expected a mapping, found {}", kind(value))))
}

/// Refuses keys outside `known` (extension keys `x-…` pass), naming each unsupported
/// Compose key differently from one that does not exist at all.
pub fn check_keys(
    map: &Map<String, Value>,
    path: &str,
    known: &[&str],
    unsupported: &[&str],
) -> Result<()> {
    for key in map.keys() {
        if key.starts_with("x-") || known.contains(&key.as_str()) {
            continue;
        }
        let at = child(path, key);
        return Err(if unsupported.contains(&key.as_str()) {
            invalid(
                &at,
                format!("`{key}` is not supported by Bulkhead's compose plugin"),
            )
        } else {
            invalid(&at, format!("unknown key `{key}`"))
        });
    }
    Ok(())
}

/// A scalar as text: strings as they are, numbers and booleans in their usual form.
pub fn text(value: &Value, path: &str) -> Result<String> {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => {
            return Err(invalid(
                path,
                format!("expected a string, found {}", kind(other)),
            ));
        }
    };
    if text.len() > MAX_STRING_BYTES {
        return Err(SpecError::new(
            SpecErrorKind::TooLarge,
            path,
            format!("longer than {MAX_STRING_BYTES} bytes"),
        ));
    }
    Ok(text)
}

pub fn opt_text(map: &Map<String, Value>, key: &str, path: &str) -> Result<Option<String>> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => text(value, &child(path, key)).map(Some),
    }
}

pub fn boolean(value: &Value, path: &str) -> Result<bool> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s == "true" => Ok(true),
        Value::String(s) if s == "false" => Ok(false),
        other => Err(invalid(
            path,
            format!("expected true or false, found {}", kind(other)),
        )),
    }
}

pub fn opt_bool(map: &Map<String, Value>, key: &str, path: &str) -> Result<bool> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(value) => boolean(value, &child(path, key)),
    }
}

pub fn unsigned(value: &Value, path: &str) -> Result<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .ok_or_else(|| {
        invalid(
            path,
            format!("expected a whole number, found {}", kind(value)),
        )
    })
}

/// A string or a list of strings.
pub fn strings(value: &Value, path: &str) -> Result<Vec<String>> {
    match value {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| text(item, &format!("{path}[{i}]")))
            .collect(),
        other => Ok(vec![text(other, path)?]),
    }
}

/// `{KEY: value}` or `["KEY=value", "KEY"]`: values absent for bare keys and nulls.
pub fn pairs(value: &Value, path: &str) -> Result<BTreeMap<String, Option<String>>> {
    let mut out = BTreeMap::new();
    match value {
        Value::Object(map) => {
            for (key, item) in map {
                let item = match item {
                    Value::Null => None,
                    other => Some(text(other, &child(path, key))?),
                };
                out.insert(key.clone(), item);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let entry = text(item, &format!("{path}[{i}]"))?;
                match entry.split_once('=') {
                    Some((key, value)) => out.insert(key.to_string(), Some(value.to_string())),
                    None => out.insert(entry, None),
                };
            }
        }
        Value::Null => {}
        other => {
            return Err(invalid(
                path,
                format!(
                    "expected a mapping or a list of KEY=value, found {}",
                    kind(other)
                ),
            ));
        }
    }
    Ok(out)
}
