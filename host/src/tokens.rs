//! Bearer tokens for `serve --http`: a file of token hashes, each with the principal it
//! authenticates and the scope it grants. The file holds no token, only its sha256, so
//! reading the file does not let anybody in; a token is shown once, when
//! `bulkhead token new` makes it.
//!
//! ```text
//! # sha256 of the token        principal   scope
//! sha256:9f86d08…              alice       write
//! ```
//!
//! Scopes map to tiers: `read` calls read-only tools, `write` also tools that change
//! state, `admin` also destructive ones (which the policy must still allow). A file that
//! does not parse, is writable by others or names no token stops the server: a mistake
//! here must fail closed.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::capabilities::Tier;
use crate::identity::checked_principal;

/// Random bytes in a token: 256 bits.
const TOKEN_BYTES: usize = 32;
/// What every token starts with, so a leaked one is easy to recognise in a scan.
pub const TOKEN_PREFIX: &str = "bht_";

/// One accepted token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenEntry {
    hash: [u8; 32],
    pub principal: String,
    pub tier: Tier,
}

/// The accepted tokens.
#[derive(Debug, Clone, Default)]
pub struct TokenStore {
    entries: Vec<TokenEntry>,
}

impl TokenStore {
    /// Reads and checks `path`.
    pub fn load(path: &Path) -> anyhow::Result<TokenStore> {
        use std::os::unix::fs::MetadataExt;
        let metadata = std::fs::metadata(path)
            .map_err(|err| anyhow::anyhow!("the token file {}: {err}", path.display()))?;
        if metadata.mode() & 0o022 != 0 {
            anyhow::bail!(
                "the token file {} is writable by others (mode {:o}); anybody who can write it can let themselves in: chmod 600 it",
                path.display(),
                metadata.mode() & 0o777
            );
        }
        let text = std::fs::read_to_string(path)
            .map_err(|err| anyhow::anyhow!("the token file {}: {err}", path.display()))?;
        let store = TokenStore::parse(&text)
            .map_err(|err| anyhow::anyhow!("the token file {}: {err}", path.display()))?;
        if store.entries.is_empty() {
            anyhow::bail!(
                "the token file {} names no token; add one with `bulkhead token new`",
                path.display()
            );
        }
        Ok(store)
    }

    /// Parses the file's text: blank lines and `#` comments are skipped.
    pub fn parse(text: &str) -> Result<TokenStore, String> {
        let mut entries: Vec<TokenEntry> = Vec::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let entry = parse_line(line).map_err(|err| format!("line {}: {err}", number + 1))?;
            if entries.iter().any(|e| e.hash == entry.hash) {
                return Err(format!(
                    "line {}: the same token is listed twice",
                    number + 1
                ));
            }
            entries.push(entry);
        }
        Ok(TokenStore { entries })
    }

    /// Whom `token` authenticates, if anybody. Every entry is compared, in constant
    /// time, whatever matches: the time taken tells nothing about the table.
    pub fn authenticate(&self, token: &str) -> Option<&TokenEntry> {
        let presented: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let mut found = None;
        for entry in &self.entries {
            if constant_time_eq(&entry.hash, &presented) {
                found = Some(entry);
            }
        }
        found
    }
}

fn parse_line(line: &str) -> Result<TokenEntry, String> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let [hash, principal, scope] = fields[..] else {
        return Err("expected `sha256:<64 hex digits> <principal> <read|write|admin>`".into());
    };
    let hex = hash
        .strip_prefix("sha256:")
        .ok_or("the hash must start with `sha256:`")?;
    let hash = decode_hash(hex).ok_or("the hash must be 64 lowercase hex digits")?;
    let principal = checked_principal(principal)?.to_string();
    let tier = scope_tier(scope)?;
    Ok(TokenEntry {
        hash,
        principal,
        tier,
    })
}

/// The tier a scope grants.
pub fn scope_tier(scope: &str) -> Result<Tier, String> {
    match scope {
        "read" => Ok(Tier::Read),
        "write" => Ok(Tier::Moderate),
        "admin" => Ok(Tier::Destructive),
        other => Err(format!(
            "scope `{}` is not one of read, write, admin",
            crate::sanitize::one_line(other, 40)
        )),
    }
}

fn decode_hash(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64
        || !hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let difference = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(difference) == 0
}

/// A new token and the line that accepts it.
pub fn new_token(principal: &str, scope: &str) -> Result<(String, String), String> {
    use std::io::Read;
    let principal = checked_principal(principal)?;
    scope_tier(scope)?;
    let mut bytes = [0u8; TOKEN_BYTES];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut random| random.read_exact(&mut bytes))
        .map_err(|err| format!("reading randomness: {err}"))?;
    let token = format!("{TOKEN_PREFIX}{}", hex(&bytes));
    let line = format!(
        "sha256:{} {principal} {scope}",
        hex(&Sha256::digest(token.as_bytes()))
    );
    Ok((token, line))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_token_authenticates_its_principal_and_nothing_else_does() {
        let (token, line) = new_token("alice", "write").unwrap();
        let (other, other_line) = new_token("bob", "read").unwrap();
        assert!(token.starts_with(TOKEN_PREFIX) && token.len() == 4 + 64);
        assert!(
            !line.contains(&token[4..]),
            "the file must not hold the token"
        );
        let store = TokenStore::parse(&format!("# tokens\n\n{line}\n{other_line}\n")).unwrap();
        let alice = store.authenticate(&token).unwrap();
        assert_eq!(
            (alice.principal.as_str(), alice.tier),
            ("alice", Tier::Moderate)
        );
        assert_eq!(store.authenticate(&other).unwrap().tier, Tier::Read);
        for wrong in ["", "bht_", &token[..token.len() - 1], &format!("{token}x")] {
            assert!(store.authenticate(wrong).is_none(), "{wrong:?}");
        }
    }

    #[test]
    fn malformed_lines_are_refused_with_their_number() {
        let good = new_token("alice", "read").unwrap().1;
        let hash = good.split_whitespace().next().unwrap();
        for (text, why) in [
            (format!("{hash} alice"), "expected"),
            (format!("{hash} alice owner"), "scope"),
            ("md5:abc alice read".to_string(), "sha256:"),
            ("sha256:ABC alice read".to_string(), "64 lowercase"),
            (format!("{hash} a=b read"), "principal"),
            (format!("{good}\n{good}"), "twice"),
        ] {
            let err = TokenStore::parse(&text).unwrap_err();
            assert!(
                err.contains(why) && err.starts_with("line "),
                "{text}: {err}"
            );
        }
    }

    #[test]
    fn a_file_others_can_write_or_without_tokens_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens");
        std::fs::write(
            &path,
            format!("{}\n", new_token("alice", "read").unwrap().1),
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(TokenStore::load(&path).is_ok());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert!(
            TokenStore::load(&path)
                .unwrap_err()
                .to_string()
                .contains("writable")
        );
        std::fs::write(&path, "# nothing\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(
            TokenStore::load(&path)
                .unwrap_err()
                .to_string()
                .contains("no token")
        );
        assert!(TokenStore::load(&dir.path().join("missing")).is_err());
    }
}
