//! `${VAR}` interpolation of every string value (never keys), as Compose does it, from
//! the call's variables and the project's `.env` only.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{SpecError, SpecErrorKind};

/// Interpolates every string in `value`; unset variables without a default become empty
/// and are reported in `unset`.
pub fn tree(
    value: &mut Value,
    vars: &BTreeMap<String, String>,
    path: &str,
    unset: &mut Vec<String>,
) -> Result<(), SpecError> {
    match value {
        Value::String(text) if text.contains('$') => {
            *text = string(text, vars, unset)
                .map_err(|message| SpecError::new(SpecErrorKind::Invalid, path, message))?;
        }
        Value::Array(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                tree(item, vars, &format!("{path}[{index}]"), unset)?;
            }
        }
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                tree(item, vars, &child, unset)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Interpolates one string.
pub fn string(
    text: &str,
    vars: &BTreeMap<String, String>,
    unset: &mut Vec<String>,
) -> Result<String, String> {
    expand(text, vars, unset, 0)
}

fn expand(
    text: &str,
    vars: &BTreeMap<String, String>,
    unset: &mut Vec<String>,
    depth: usize,
) -> Result<String, String> {
    if depth > 4 {
        return Err("interpolation nests too deeply".into());
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            let end = closing_brace(body).ok_or("unterminated `${`")?;
            out.push_str(&braced(&body[..end], vars, unset, depth)?);
            rest = &body[end + 1..];
        } else {
            let len = after
                .char_indices()
                .take_while(|(i, c)| {
                    c.is_ascii_alphanumeric() && !(*i == 0 && c.is_ascii_digit()) || *c == '_'
                })
                .count();
            if len == 0 {
                out.push('$');
                rest = after;
            } else {
                let name = &after[..len];
                out.push_str(&lookup(name, vars, unset));
                rest = &after[len..];
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// The index of the `}` closing a `${`, allowing one nested `${…}` in a default.
fn closing_brace(body: &str) -> Option<usize> {
    let mut depth = 0usize;
    let bytes = body.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'}' if depth == 0 => return Some(i),
            b'}' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    None
}

fn braced(
    body: &str,
    vars: &BTreeMap<String, String>,
    unset: &mut Vec<String>,
    depth: usize,
) -> Result<String, String> {
    let name_len = body
        .char_indices()
        .take_while(|(_, c)| c.is_ascii_alphanumeric() || *c == '_')
        .count();
    let (name, op) = body.split_at(name_len);
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(format!("`${{{body}}}` is not a variable reference"));
    }
    let value = vars.get(name);
    let set_nonempty = value.is_some_and(|v| !v.is_empty());
    let arg = |skip: usize, unset: &mut Vec<String>| expand(&op[skip..], vars, unset, depth + 1);
    Ok(match op {
        "" => lookup(name, vars, unset),
        _ if op.starts_with(":-") => {
            if set_nonempty {
                value.cloned().unwrap_or_default()
            } else {
                arg(2, unset)?
            }
        }
        _ if op.starts_with('-') => match value {
            Some(v) => v.clone(),
            None => arg(1, unset)?,
        },
        _ if op.starts_with(":?") => {
            if set_nonempty {
                value.cloned().unwrap_or_default()
            } else {
                return Err(required(name, &arg(2, unset)?));
            }
        }
        _ if op.starts_with('?') => match value {
            Some(v) => v.clone(),
            None => return Err(required(name, &arg(1, unset)?)),
        },
        _ if op.starts_with(":+") => {
            if set_nonempty {
                arg(2, unset)?
            } else {
                String::new()
            }
        }
        _ if op.starts_with('+') => {
            if value.is_some() {
                arg(1, unset)?
            } else {
                String::new()
            }
        }
        _ => return Err(format!("`${{{body}}}`: unknown interpolation form")),
    })
}

fn required(name: &str, message: &str) -> String {
    if message.is_empty() {
        format!("required variable `{name}` is not set")
    } else {
        format!("required variable `{name}` is not set: {message}")
    }
}

fn lookup(name: &str, vars: &BTreeMap<String, String>, unset: &mut Vec<String>) -> String {
    match vars.get(name) {
        Some(value) => value.clone(),
        None => {
            if !unset.iter().any(|n| n == name) {
                unset.push(name.to_string());
            }
            String::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Result<String, String> {
        let vars = BTreeMap::from([
            ("A".to_string(), "one".to_string()),
            ("EMPTY".to_string(), String::new()),
        ]);
        string(text, &vars, &mut Vec::new())
    }

    #[test]
    fn forms_of_the_compose_spec() {
        assert_eq!(run("$A ${A} $$A").unwrap(), "one one $A");
        assert_eq!(
            run("${B:-def} ${EMPTY:-def} ${EMPTY-def}").unwrap(),
            "def def "
        );
        assert_eq!(
            run("${A:+alt} ${EMPTY:+alt} ${EMPTY+alt}").unwrap(),
            "alt  alt"
        );
        assert_eq!(run("${B:-${A}}").unwrap(), "one");
        assert_eq!(run("${PORT:-8080}:80").unwrap(), "8080:80");
        assert_eq!(run("cost $5").unwrap(), "cost $5");
        assert!(run("${B:?set B}").unwrap_err().contains("set B"));
        assert!(run("${B?}").unwrap_err().contains("`B`"));
        assert!(run("${A").is_err());
    }

    #[test]
    fn unset_variables_are_empty_and_reported() {
        let mut unset = Vec::new();
        assert_eq!(
            string("x${NOPE}y", &BTreeMap::new(), &mut unset).unwrap(),
            "xy"
        );
        assert_eq!(unset, ["NOPE"]);
    }
}
