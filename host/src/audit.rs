//! The audit trail: one JSON line per tool call, hash-chained, so an operator can show
//! afterwards what was done and detect a line that was edited, removed or reordered.
//!
//! Each line is a JSON object with sorted keys. `hash` is the sha256 of the line's other
//! fields serialised the same way, and `prev` is the previous line's `hash` (64 zeros for
//! the first line of a file), so `bulkhead audit verify FILE` recomputes the chain from
//! the file alone. The chain detects tampering by anyone who does not rewrite every later
//! line too; keep the file where the agent's user cannot write (it is never reachable
//! from a plugin).

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::identity::Identity;
use crate::redact::redact_label;
use crate::sanitize::truncate_at_char;

/// `prev` of a file's first line.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// Longest string value kept in an argument shape.
const MAX_ARGUMENT_TEXT: usize = 200;
/// Deepest nesting kept in an argument shape.
const MAX_ARGUMENT_DEPTH: usize = 6;

/// One tool call as the audit trail records it.
#[derive(Debug, Clone)]
pub struct CallRecord<'a> {
    /// Whom the call acted for.
    pub identity: &'a Identity,
    pub plugin: &'a str,
    pub plugin_version: &'a str,
    pub plugin_digest: &'a str,
    pub tool: &'a str,
    /// What the call was allowed to use.
    pub capabilities: String,
    /// `ok` or the `DKR-nnn` code.
    pub outcome: &'a str,
    pub duration_ms: u64,
    /// The argument shape, from [`argument_shape`].
    pub arguments: Value,
    /// Engine objects the call named or created (`container:<id>`, …), in order.
    pub objects: Vec<String>,
}

struct Chain {
    file: File,
    seq: u64,
    prev: String,
}

/// An append-only, hash-chained log file.
pub struct AuditLog {
    chain: Mutex<Chain>,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog").finish_non_exhaustive()
    }
}

impl AuditLog {
    /// Opens `path` for appending (mode 0600 when created). An existing file is verified
    /// first and its chain continued; a broken one is refused rather than extended.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        use anyhow::Context as _;
        use std::os::unix::fs::OpenOptionsExt;
        let (seq, prev) = if path.exists() {
            let tail = verify(path).map_err(|err| {
                anyhow::anyhow!("the audit log {} does not verify: {err}", path.display())
            })?;
            (tail.lines, tail.last_hash)
        } else {
            (0, GENESIS.to_string())
        };
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .with_context(|| format!("opening the audit log {}", path.display()))?;
        Ok(AuditLog {
            chain: Mutex::new(Chain { file, seq, prev }),
        })
    }

    /// Appends one line. A write failure is logged, never fatal to the call.
    pub fn record(&self, call: CallRecord<'_>) {
        let mut chain = match self.chain.lock() {
            Ok(chain) => chain,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut fields = Map::new();
        fields.insert("seq".into(), json!(chain.seq + 1));
        fields.insert("time_ms".into(), json!(now_ms() as u64));
        fields.insert("principal".into(), json!(call.identity.principal));
        fields.insert("session".into(), json!(call.identity.session));
        fields.insert("plugin".into(), json!(call.plugin));
        fields.insert("plugin_version".into(), json!(call.plugin_version));
        fields.insert("plugin_digest".into(), json!(call.plugin_digest));
        fields.insert("tool".into(), json!(call.tool));
        fields.insert("capabilities".into(), json!(call.capabilities));
        fields.insert("outcome".into(), json!(call.outcome));
        fields.insert("duration_ms".into(), json!(call.duration_ms));
        fields.insert("arguments".into(), call.arguments);
        fields.insert("objects".into(), json!(call.objects));
        fields.insert("prev".into(), json!(chain.prev));
        let hash = hash_of(&fields);
        fields.insert("hash".into(), json!(hash));
        let line = Value::Object(fields).to_string();
        match writeln!(chain.file, "{line}").and_then(|()| chain.file.flush()) {
            Ok(()) => {
                chain.seq += 1;
                chain.prev = hash;
            }
            Err(err) => tracing::error!("could not write the audit log: {err}"),
        }
    }
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

/// sha256 of the fields as sorted-key JSON (serde_json's map keeps keys sorted).
fn hash_of(fields: &Map<String, Value>) -> String {
    let text = Value::Object(fields.clone()).to_string();
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// What a call's arguments looked like, safe to keep: values of secret-looking keys
/// redacted, long strings cut, deep nesting elided.
pub fn argument_shape(arguments: &Map<String, Value>) -> Value {
    Value::Object(shape_map(arguments, 0))
}

fn shape_map(map: &Map<String, Value>, depth: usize) -> Map<String, Value> {
    map.iter()
        .map(|(key, value)| (key.clone(), shape(key, value, depth + 1)))
        .collect()
}

fn shape(key: &str, value: &Value, depth: usize) -> Value {
    if depth > MAX_ARGUMENT_DEPTH {
        return json!("<nested>");
    }
    match value {
        Value::String(text) => {
            let redacted = redact_label(key, text);
            if redacted.len() > MAX_ARGUMENT_TEXT {
                json!(format!(
                    "{}… ({} bytes)",
                    truncate_at_char(&redacted, MAX_ARGUMENT_TEXT),
                    text.len()
                ))
            } else {
                json!(redacted)
            }
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| shape(key, item, depth + 1))
                .collect(),
        ),
        Value::Object(map) => Value::Object(shape_map(map, depth)),
        other => other.clone(),
    }
}

/// A verified log: how many lines, and the last line's hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub lines: u64,
    pub last_hash: String,
}

/// Why a log does not verify: the 1-based line and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct VerifyError {
    pub line: u64,
    pub reason: String,
}

/// Checks every line's hash, its link to the line before and its sequence number.
pub fn verify(path: &Path) -> Result<Verified, VerifyError> {
    let file = File::open(path).map_err(|err| VerifyError {
        line: 0,
        reason: format!("cannot open: {err}"),
    })?;
    let mut prev = GENESIS.to_string();
    let mut lines = 0u64;
    for line in BufReader::new(file).lines() {
        let number = lines + 1;
        let fail = |reason: String| VerifyError {
            line: number,
            reason,
        };
        let line = line.map_err(|err| fail(format!("unreadable: {err}")))?;
        let mut fields = match serde_json::from_str::<Value>(&line) {
            Ok(Value::Object(fields)) => fields,
            _ => return Err(fail("not a JSON object".into())),
        };
        let Some(Value::String(stated)) = fields.remove("hash") else {
            return Err(fail("no hash".into()));
        };
        if hash_of(&fields) != stated {
            return Err(fail("its content does not match its hash (edited)".into()));
        }
        if fields.get("prev").and_then(Value::as_str) != Some(prev.as_str()) {
            return Err(fail(
                "it does not follow the line before (a line was removed, inserted or moved)".into(),
            ));
        }
        if fields.get("seq").and_then(Value::as_u64) != Some(number) {
            return Err(fail(format!("sequence number is not {number}")));
        }
        prev = stated;
        lines = number;
    }
    Ok(Verified {
        lines,
        last_hash: prev,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(log: &AuditLog, tool: &str) {
        log.record(CallRecord {
            identity: &actor(),
            plugin: "containers",
            plugin_version: "0.1.0",
            plugin_digest: "abc",
            tool,
            capabilities: "containers-read".into(),
            outcome: "ok",
            duration_ms: 3,
            arguments: json!({"container": "web"}),
            objects: vec!["container:0123abcd".into()],
        });
    }

    fn actor() -> Identity {
        Identity {
            principal: "local:1000".into(),
            session: "s1".into(),
        }
    }

    /// A log of three lines, and its lines.
    fn three_lines() -> (tempfile::TempDir, std::path::PathBuf, Vec<String>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let log = AuditLog::open(&path).unwrap();
        for tool in ["a", "b", "c"] {
            record(&log, tool);
        }
        let lines = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        (dir, path, lines)
    }

    #[test]
    fn a_written_log_verifies_and_continues_across_opens() {
        let (_dir, path, _) = three_lines();
        assert_eq!(verify(&path).unwrap().lines, 3);
        let log = AuditLog::open(&path).unwrap();
        record(&log, "d");
        assert_eq!(verify(&path).unwrap().lines, 4);
    }

    #[test]
    fn edits_removals_and_reordering_are_detected() {
        let (_dir, path, lines) = three_lines();
        let cases: [(Vec<String>, u64); 3] = [
            (
                vec![
                    lines[0].clone(),
                    lines[1].replace("\"outcome\":\"ok\"", "\"outcome\":\"DKR-005\""),
                    lines[2].clone(),
                ],
                2,
            ),
            (vec![lines[0].clone(), lines[2].clone()], 2),
            (
                vec![lines[1].clone(), lines[0].clone(), lines[2].clone()],
                1,
            ),
        ];
        for (tampered, bad_line) in cases {
            std::fs::write(&path, tampered.join("\n") + "\n").unwrap();
            assert_eq!(verify(&path).unwrap_err().line, bad_line);
            assert!(AuditLog::open(&path).is_err());
        }
    }

    #[test]
    fn argument_shapes_keep_no_secrets() {
        let arguments = json!({
            "env": {"DB_PASSWORD": "hunter2", "MODE": "dev"},
            "command": ["sh", "-c", "x".repeat(500)],
            "limit": 5
        });
        let shape = argument_shape(arguments.as_object().unwrap());
        assert_eq!(shape["env"]["DB_PASSWORD"], json!("<redacted>"));
        assert_eq!(shape["env"]["MODE"], json!("dev"));
        assert_eq!(shape["limit"], json!(5));
        assert!(
            shape["command"][2]
                .as_str()
                .unwrap()
                .ends_with("(500 bytes)")
        );
    }
}
