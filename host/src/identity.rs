//! Who this server acts for: a principal (configured, or `local:<uid>` over stdio) and
//! a session id that is new for every server process. The host stamps both on every
//! object a plugin creates, checks them under `scope = owned`, and writes them on every
//! audit line.

use std::fmt;

/// Longest principal; it becomes a label value and a filter on every list.
const MAX_PRINCIPAL_BYTES: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Owner of what this server creates (`io.bulkhead.owner`).
    pub principal: String,
    /// This server process (`io.bulkhead.session`); random, 16 hex digits.
    pub session: String,
}

impl Identity {
    /// `principal`, or the local user (`local:<euid>`) when none is configured, with a
    /// fresh session id.
    pub fn new(principal: Option<&str>) -> Result<Self, String> {
        let principal = match principal {
            Some(principal) => checked_principal(principal)?.to_string(),
            None => format!("local:{}", rustix::process::geteuid().as_raw()),
        };
        Ok(Identity {
            principal,
            session: new_session_id(),
        })
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (session {})", self.principal, self.session)
    }
}

/// A principal is printable ASCII without spaces or `=` (it is matched in label filters
/// `key=value`), 1-128 bytes.
pub fn checked_principal(principal: &str) -> Result<&str, String> {
    let valid = !principal.is_empty()
        && principal.len() <= MAX_PRINCIPAL_BYTES
        && principal
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '=' | ',' | '"' | '\\'));
    if valid {
        Ok(principal)
    } else {
        Err(format!(
            "principal `{}` must be 1-{MAX_PRINCIPAL_BYTES} printable ASCII characters without spaces, `=`, `,`, quotes or backslashes",
            crate::sanitize::one_line(principal, 80)
        ))
    }
}

/// 64 random bits from the OS, as 16 hex digits.
fn new_session_id() -> String {
    use std::io::Read;
    let mut bytes = [0u8; 8];
    let read = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if read.is_err() {
        // No OS randomness: a per-process seeded hasher still tells sessions apart.
        use std::hash::{BuildHasher, Hasher};
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u32(std::process::id());
        bytes = hasher.finish().to_be_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_to_the_local_user_with_a_new_session_each_time() {
        let a = Identity::new(None).unwrap();
        let b = Identity::new(None).unwrap();
        assert!(a.principal.starts_with("local:"));
        assert_eq!(a.principal, b.principal);
        assert_ne!(a.session, b.session);
        assert_eq!(a.session.len(), 16);
    }

    #[test]
    fn principals_are_checked() {
        assert_eq!(Identity::new(Some("team:ci")).unwrap().principal, "team:ci");
        for bad in ["", "a b", "a=b", "x\n", &"p".repeat(200)] {
            assert!(Identity::new(Some(bad)).is_err(), "{bad:?}");
        }
    }
}
