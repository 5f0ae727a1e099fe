//! Vetted plugins: pins by sha256 and ed25519 signatures, checked on every load of a
//! plugin from disk (before compilation or a cache hit), so a restricted deployment
//! runs only the files its operator approved.
//!
//! A signature is the ed25519 signature of the component's bytes, hex-encoded in a
//! `.sig` file beside it (`plugin.wasm.sig`). Keys are written `ed25519:<64 hex>`
//! (public) and `ed25519-secret:<64 hex>` (secret seed, in a file of mode 0600).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

const PUBLIC_PREFIX: &str = "ed25519:";
const SECRET_PREFIX: &str = "ed25519-secret:";

/// What the operator trusts.
#[derive(Debug, Clone, Default)]
pub struct TrustPolicy {
    /// sha256 → the plugin name that file must declare.
    pub pins: BTreeMap<String, String>,
    /// Every plugin from disk must match a pin (true whenever any pin is set).
    pub require_pins: bool,
    /// Keys whose signatures are accepted.
    pub keys: Vec<VerifyingKey>,
    /// Every plugin from disk must carry a valid signature by one of `keys`.
    pub require_signatures: bool,
}

impl TrustPolicy {
    /// Checks a plugin file before it is compiled; answers the name it must declare
    /// (when pinned).
    pub fn vet(&self, path: &Path, wasm: &[u8], digest: &str) -> Result<Option<String>, String> {
        let pinned = self.pins.get(digest).cloned();
        if pinned.is_none() && (self.require_pins || !self.pins.is_empty()) {
            return Err(format!(
                "its sha256 {digest} matches no pin in the policy (unpinned or altered)"
            ));
        }
        if self.require_signatures {
            let signature = read_signature(&signature_path(path))?;
            if !self
                .keys
                .iter()
                .any(|key| key.verify_strict(wasm, &signature).is_ok())
            {
                return Err("its signature is not valid for any trusted key".into());
            }
        }
        Ok(pinned)
    }
}

/// `plugin.wasm` → `plugin.wasm.sig`.
pub fn signature_path(wasm: &Path) -> PathBuf {
    let mut name = wasm.as_os_str().to_owned();
    name.push(".sig");
    PathBuf::from(name)
}

fn read_signature(path: &Path) -> Result<Signature, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|err| format!("no readable signature at {}: {err}", path.display()))?;
    let bytes: [u8; 64] = decode_hex(text.trim())
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| format!("{} does not hold a hex ed25519 signature", path.display()))?;
    Ok(Signature::from_bytes(&bytes))
}

/// A public key written `ed25519:<64 hex>`.
pub fn parse_public_key(text: &str) -> Result<VerifyingKey, String> {
    let hex = text
        .trim()
        .strip_prefix(PUBLIC_PREFIX)
        .ok_or_else(|| format!("a public key looks like `{PUBLIC_PREFIX}<64 hex digits>`"))?;
    let bytes: [u8; 32] = decode_hex(hex)
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| "a public key has 64 hex digits".to_string())?;
    VerifyingKey::from_bytes(&bytes).map_err(|err| format!("not an ed25519 public key: {err}"))
}

pub fn public_key_text(key: &VerifyingKey) -> String {
    format!("{PUBLIC_PREFIX}{}", encode_hex(key.as_bytes()))
}

/// A new signing key from the operating system's randomness.
pub fn generate_key() -> std::io::Result<SigningKey> {
    let mut seed = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut seed)?;
    Ok(SigningKey::from_bytes(&seed))
}

pub fn secret_key_text(key: &SigningKey) -> String {
    format!("{SECRET_PREFIX}{}\n", encode_hex(&key.to_bytes()))
}

pub fn parse_secret_key(text: &str) -> Result<SigningKey, String> {
    let hex = text
        .trim()
        .strip_prefix(SECRET_PREFIX)
        .ok_or_else(|| format!("a secret key file holds `{SECRET_PREFIX}<64 hex digits>`"))?;
    let seed: [u8; 32] = decode_hex(hex)
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| "a secret key has 64 hex digits".to_string())?;
    Ok(SigningKey::from_bytes(&seed))
}

/// The hex signature of `wasm`, as a `.sig` file holds it.
pub fn sign(key: &SigningKey, wasm: &[u8]) -> String {
    format!("{}\n", encode_hex(&key.sign(wasm).to_bytes()))
}

/// Whether `.sig` beside `path` is a valid signature of `wasm` by `key`.
pub fn verify_file(key: &VerifyingKey, path: &Path, wasm: &[u8]) -> Result<(), String> {
    let signature = read_signature(&signature_path(path))?;
    key.verify_strict(wasm, &signature)
        .map_err(|_| "the signature does not match this file and key".to_string())
}

fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed_plugin(key: &SigningKey) -> (tempfile::TempDir, PathBuf, Vec<u8>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.wasm");
        let wasm = b"\0asm pretend component".to_vec();
        std::fs::write(&path, &wasm).unwrap();
        std::fs::write(signature_path(&path), sign(key, &wasm)).unwrap();
        (dir, path, wasm)
    }

    #[test]
    fn keys_round_trip_through_their_text() {
        let key = generate_key().unwrap();
        let again = parse_secret_key(&secret_key_text(&key)).unwrap();
        assert_eq!(again.to_bytes(), key.to_bytes());
        let public = parse_public_key(&public_key_text(&key.verifying_key())).unwrap();
        assert_eq!(public, key.verifying_key());
        assert!(parse_public_key("ed25519:zz").is_err());
        assert!(parse_public_key("rsa:00").is_err());
    }

    #[test]
    fn signatures_are_required_and_checked() {
        let key = generate_key().unwrap();
        let other = generate_key().unwrap();
        let (_dir, path, wasm) = signed_plugin(&key);
        let policy = TrustPolicy {
            keys: vec![key.verifying_key()],
            require_signatures: true,
            ..TrustPolicy::default()
        };
        assert_eq!(policy.vet(&path, &wasm, "d"), Ok(None));
        // Altered bytes, or a signature by an untrusted key: refused.
        assert!(policy.vet(&path, b"\0asm altered", "d").is_err());
        std::fs::write(signature_path(&path), sign(&other, &wasm)).unwrap();
        assert!(policy.vet(&path, &wasm, "d").is_err());
        std::fs::remove_file(signature_path(&path)).unwrap();
        assert!(policy.vet(&path, &wasm, "d").is_err());
        assert!(verify_file(&key.verifying_key(), &path, &wasm).is_err());
    }

    #[test]
    fn pins_bind_a_digest_to_a_name() {
        let policy = TrustPolicy {
            pins: [("abc".to_string(), "probe".to_string())].into(),
            ..TrustPolicy::default()
        };
        let path = Path::new("/nonexistent/p.wasm");
        assert_eq!(policy.vet(path, b"", "abc"), Ok(Some("probe".into())));
        assert!(policy.vet(path, b"", "def").is_err());
    }
}
