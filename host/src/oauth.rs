//! OAuth 2.1 resource-server mode for `serve --http`: access tokens are JWTs that an
//! authorization server signed with a key from its JWKS. A token is accepted when its
//! signature verifies with the key its header names (asymmetric algorithms only: RS256,
//! PS256, ES256, ES384 and EdDSA, each tied to its key type), its issuer and audience
//! are the configured ones, it has not expired and is already valid (60 s of clock
//! leeway), and it carries at least the `bulkhead:read` scope. The subject (`sub`)
//! becomes the principal; the widest of `bulkhead:read`, `bulkhead:write` and
//! `bulkhead:admin` in `scope` (or `scp`) its tier. The server publishes RFC 9728
//! protected-resource metadata so that clients find the authorization server.
//!
//! The JWKS is a file (re-read on SIGHUP) or the server's URL: then it is fetched at
//! start (failing closed), again every [`REFRESH_EVERY`], and at once when a token names
//! a key the set does not hold (at most every [`REFETCH_AT_MOST_EVERY`]), so a rotated
//! key is taken up without a restart. A failed refresh keeps the keys held.

use std::path::Path;
use std::sync::{Arc, PoisonError, RwLock, Weak};
use std::time::Duration;

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use crate::capabilities::Tier;
use crate::identity::checked_principal;

/// The scopes this server understands, narrowest first, and the tier each grants.
pub const SCOPES: [(&str, Tier); 3] = [
    ("bulkhead:read", Tier::Read),
    ("bulkhead:write", Tier::Moderate),
    ("bulkhead:admin", Tier::Destructive),
];
/// Clock skew tolerated on `exp` and `nbf`, in seconds.
const LEEWAY_SECS: u64 = 60;
/// Longest token looked at; real ones are a few KiB.
const MAX_TOKEN_BYTES: usize = 16 << 10;
/// How often a JWKS from a URL is fetched again.
pub const REFRESH_EVERY: Duration = Duration::from_secs(600);
/// Fetches for unknown key ids come no closer together than this.
pub const REFETCH_AT_MOST_EVERY: Duration = Duration::from_secs(30);

/// The keys tokens are checked with; swapped whole by a refresh.
type KeyStore = RwLock<Arc<Vec<VerificationKey>>>;

/// What `--oauth-*` configured.
pub struct OAuth {
    issuer: String,
    audience: String,
    /// This server's resource identifier (its public MCP URL).
    resource: String,
    keys: Arc<KeyStore>,
    /// Wakes the refresher of a JWKS fetched from a URL; `None` for a file.
    refetch: Option<Arc<tokio::sync::Notify>>,
}

struct VerificationKey {
    id: Option<String>,
    algorithm: Algorithm,
    key: DecodingKey,
}

/// Why a token was not accepted.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Malformed, unsigned by a known key, expired, or for another issuer or audience.
    InvalidToken,
    /// Valid, but without any `bulkhead:*` scope.
    InsufficientScope,
}

/// Who an accepted token speaks for.
#[derive(Debug, PartialEq, Eq)]
pub struct Subject {
    pub principal: String,
    pub tier: Tier,
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    scp: Option<Vec<String>>,
}

impl OAuth {
    /// Reads the JWKS in `jwks`; a set with no usable key is refused.
    pub fn load(
        issuer: &str,
        audience: &str,
        resource: &str,
        jwks: &Path,
    ) -> anyhow::Result<OAuth> {
        let text = std::fs::read_to_string(jwks)
            .map_err(|err| anyhow::anyhow!("the JWKS {}: {err}", jwks.display()))?;
        let set: JwkSet = serde_json::from_str(&text)
            .map_err(|err| anyhow::anyhow!("the JWKS {}: {err}", jwks.display()))?;
        let oauth = OAuth::new(issuer, audience, resource, &set)
            .map_err(|err| anyhow::anyhow!("the JWKS {}: {err}", jwks.display()))?;
        Ok(oauth)
    }

    pub fn new(
        issuer: &str,
        audience: &str,
        resource: &str,
        set: &JwkSet,
    ) -> Result<OAuth, String> {
        if issuer.is_empty() || audience.is_empty() || resource.is_empty() {
            return Err("issuer, audience and resource must all be given".into());
        }
        let keys = keys_of(set)?;
        Ok(OAuth {
            issuer: issuer.to_string(),
            audience: audience.to_string(),
            resource: resource.to_string(),
            keys: Arc::new(RwLock::new(Arc::new(keys))),
            refetch: None,
        })
    }

    /// Fetches the JWKS from `source` now (a failure stops the start), then keeps it
    /// fresh in the background for as long as this value lives.
    pub async fn remote(
        issuer: &str,
        audience: &str,
        resource: &str,
        source: crate::jwks_fetch::JwksSource,
    ) -> anyhow::Result<OAuth> {
        let set = source.fetch().await?;
        let mut oauth = OAuth::new(issuer, audience, resource, &set)
            .map_err(|err| anyhow::anyhow!("the JWKS at {source}: {err}"))?;
        let wake = Arc::new(tokio::sync::Notify::new());
        tokio::spawn(refresh(
            Arc::downgrade(&oauth.keys),
            source,
            Arc::clone(&wake),
        ));
        oauth.refetch = Some(wake);
        Ok(oauth)
    }

    /// Checks `token` as the module comment says.
    pub fn authenticate(&self, token: &str) -> Result<Subject, Refusal> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(Refusal::InvalidToken);
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| Refusal::InvalidToken)?;
        let keys = Arc::clone(&self.keys.read().unwrap_or_else(PoisonError::into_inner));
        let key = keys
            .iter()
            .filter(|key| key.algorithm == header.alg)
            .find(|key| match (&header.kid, &key.id) {
                (Some(wanted), Some(id)) => wanted == id,
                (Some(_), None) => false,
                (None, _) => true,
            });
        let Some(key) = key else {
            // A key the set does not hold yet may have been rotated in: look again.
            if let (Some(wake), Some(_)) = (&self.refetch, &header.kid) {
                wake.notify_one();
            }
            return Err(Refusal::InvalidToken);
        };
        let mut validation = Validation::new(key.algorithm);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS;
        let claims = jsonwebtoken::decode::<Claims>(token, &key.key, &validation)
            .map_err(|_| Refusal::InvalidToken)?
            .claims;
        let principal = checked_principal(&claims.sub)
            .map_err(|_| Refusal::InvalidToken)?
            .to_string();
        let granted: Vec<&str> = claims
            .scope
            .as_deref()
            .map(|scope| scope.split_whitespace().collect())
            .unwrap_or_default();
        let listed = claims.scp.iter().flatten().map(String::as_str);
        let tier = granted
            .into_iter()
            .chain(listed)
            .filter_map(|scope| SCOPES.iter().find(|(name, _)| *name == scope))
            .map(|(_, tier)| *tier)
            .max()
            .ok_or(Refusal::InsufficientScope)?;
        Ok(Subject { principal, tier })
    }

    /// RFC 9728 protected-resource metadata.
    pub fn metadata(&self) -> serde_json::Value {
        serde_json::json!({
            "resource": self.resource,
            "authorization_servers": [self.issuer],
            "scopes_supported": SCOPES.iter().map(|(name, _)| *name).collect::<Vec<_>>(),
            "bearer_methods_supported": ["header"],
            "resource_name": "Bulkhead",
        })
    }

    /// Where the metadata is served: the well-known path with the resource's own path
    /// appended (RFC 9728 §3.1).
    pub fn metadata_url(&self) -> String {
        match self.resource.split_once("://") {
            Some((scheme, rest)) => {
                let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
                let suffix = if path.is_empty() {
                    String::new()
                } else {
                    format!("/{path}")
                };
                format!("{scheme}://{authority}/.well-known/oauth-protected-resource{suffix}")
            }
            None => String::new(),
        }
    }
}

/// The usable verification keys of `set`; a set with none is refused.
fn keys_of(set: &JwkSet) -> Result<Vec<VerificationKey>, String> {
    let mut keys = Vec::new();
    for jwk in &set.keys {
        let algorithm = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => match jwk.common.key_algorithm {
                Some(jsonwebtoken::jwk::KeyAlgorithm::PS256) => Algorithm::PS256,
                _ => Algorithm::RS256,
            },
            AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
                EllipticCurve::P256 => Algorithm::ES256,
                EllipticCurve::P384 => Algorithm::ES384,
                _ => continue,
            },
            AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => {
                Algorithm::EdDSA
            }
            // Shared secrets have no place in a public key set.
            _ => continue,
        };
        let key =
            DecodingKey::from_jwk(jwk).map_err(|err| format!("a key does not parse: {err}"))?;
        keys.push(VerificationKey {
            id: jwk.common.key_id.clone(),
            algorithm,
            key,
        });
    }
    if keys.is_empty() {
        return Err("no RSA, P-256, P-384 or Ed25519 key in the set".into());
    }
    Ok(keys)
}

/// Keeps the keys in `keys` fresh from `source` until the [`OAuth`] holding them is
/// gone: every [`REFRESH_EVERY`], and when `wake` says a token named an unknown key.
async fn refresh(
    keys: Weak<KeyStore>,
    source: crate::jwks_fetch::JwksSource,
    wake: Arc<tokio::sync::Notify>,
) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(REFRESH_EVERY) => {}
            () = wake.notified() => {}
        }
        let Some(store) = keys.upgrade() else {
            return;
        };
        match source
            .fetch()
            .await
            .map_err(|err| format!("{err:#}"))
            .and_then(|set| keys_of(&set))
        {
            Ok(fresh) => {
                tracing::info!(source = %source, keys = fresh.len(), "JWKS refreshed");
                *store.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(fresh);
            }
            Err(err) => {
                tracing::warn!(source = %source, "JWKS refresh failed, keeping the keys held: {err}")
            }
        }
        drop(store);
        // However often tokens name unknown keys, the server is asked this seldom.
        tokio::time::sleep(REFETCH_AT_MOST_EVERY).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use jsonwebtoken::{EncodingKey, Header};

    const ISSUER: &str = "https://auth.example";
    const RESOURCE: &str = "https://mcp.example/mcp";

    /// An Ed25519 key pair: the signer's encoding key and the public JWK set.
    fn keys(kid: &str) -> (EncodingKey, JwkSet) {
        let secret = crate::trust::generate_key().unwrap();
        // PKCS#8 v1 for Ed25519 is a fixed prefix and the 32-byte seed.
        let mut der = vec![
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
            0x04, 0x20,
        ];
        der.extend_from_slice(&secret.to_bytes());
        let x = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(secret.verifying_key().to_bytes());
        let set: JwkSet = serde_json::from_value(serde_json::json!({
            "keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "use": "sig"}]
        }))
        .unwrap();
        (EncodingKey::from_ed_der(&der), set)
    }

    fn sign(key: &EncodingKey, kid: &str, claims: serde_json::Value) -> String {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(kid.into());
        jsonwebtoken::encode(&header, &claims, key).unwrap()
    }

    fn claims(scope: &str, exp_from_now: i64, aud: &str) -> serde_json::Value {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        serde_json::json!({"iss": ISSUER, "aud": aud, "sub": "user:ada", "exp": now + exp_from_now, "scope": scope})
    }

    #[test]
    fn a_valid_token_names_its_subject_and_widest_scope() {
        let (key, set) = keys("k1");
        let oauth = OAuth::new(ISSUER, RESOURCE, RESOURCE, &set).unwrap();
        let token = sign(
            &key,
            "k1",
            claims("openid bulkhead:read bulkhead:write", 300, RESOURCE),
        );
        assert_eq!(
            oauth.authenticate(&token),
            Ok(Subject {
                principal: "user:ada".into(),
                tier: Tier::Moderate
            })
        );
    }

    #[test]
    fn expired_foreign_unscoped_and_forged_tokens_are_refused() {
        let (key, set) = keys("k1");
        let (other_key, _) = keys("k1");
        let oauth = OAuth::new(ISSUER, RESOURCE, RESOURCE, &set).unwrap();
        let cases = [
            (
                sign(&key, "k1", claims("bulkhead:read", -120, RESOURCE)),
                Refusal::InvalidToken,
            ),
            (
                sign(
                    &key,
                    "k1",
                    claims("bulkhead:read", 300, "https://other.example"),
                ),
                Refusal::InvalidToken,
            ),
            (
                sign(&key, "k2", claims("bulkhead:read", 300, RESOURCE)),
                Refusal::InvalidToken,
            ),
            (
                sign(&other_key, "k1", claims("bulkhead:read", 300, RESOURCE)),
                Refusal::InvalidToken,
            ),
            (
                sign(&key, "k1", claims("openid", 300, RESOURCE)),
                Refusal::InsufficientScope,
            ),
            ("not.a.jwt".to_string(), Refusal::InvalidToken),
        ];
        for (token, refusal) in cases {
            assert_eq!(oauth.authenticate(&token), Err(refusal), "{token}");
        }
        // An HMAC token signed with the public key as the secret (algorithm confusion).
        let public = serde_json::to_vec(&set).unwrap();
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("k1".into());
        let confused = jsonwebtoken::encode(
            &header,
            &claims("bulkhead:admin", 300, RESOURCE),
            &EncodingKey::from_secret(&public).unwrap(),
        )
        .unwrap();
        assert_eq!(oauth.authenticate(&confused), Err(Refusal::InvalidToken));
    }

    #[test]
    fn a_set_without_usable_keys_is_refused_and_metadata_names_the_issuer() {
        let symmetric: JwkSet =
            serde_json::from_value(serde_json::json!({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}))
                .unwrap();
        assert!(OAuth::new(ISSUER, RESOURCE, RESOURCE, &symmetric).is_err());
        let (_, set) = keys("k1");
        let oauth = OAuth::new(ISSUER, RESOURCE, RESOURCE, &set).unwrap();
        assert_eq!(oauth.metadata()["authorization_servers"][0], ISSUER);
        assert_eq!(
            oauth.metadata_url(),
            "https://mcp.example/.well-known/oauth-protected-resource/mcp"
        );
    }
}
