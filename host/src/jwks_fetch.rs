//! Fetching an OAuth authorization server's JWKS from its URL (`--oauth-jwks https://…`):
//! one HTTP/1.1 GET over TLS, trusting the Mozilla roots (webpki-roots) and any
//! `--oauth-ca` certificates, with a timeout and a size cap. Plain `http://` is taken
//! only from a loopback address, where nothing crosses a network.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::rt::TokioIo;
use jsonwebtoken::jwk::JwkSet;
use rustls_pki_types::ServerName;
use rustls_pki_types::pem::PemObject;

/// How long a fetch may take, connection included.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest JWKS read; real ones are a few KiB.
const MAX_JWKS_BYTES: usize = 1 << 20;

/// Where the keys come from, and how to reach it.
pub struct JwksSource {
    url: http::Uri,
    host: String,
    port: u16,
    /// `None` for plain HTTP (loopback only).
    tls: Option<tokio_rustls::TlsConnector>,
}

impl std::fmt::Display for JwksSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.url)
    }
}

/// Whether `value` (an `--oauth-jwks` setting) is a URL rather than a file.
pub fn is_url(value: &str) -> bool {
    value.starts_with("https://") || value.starts_with("http://")
}

impl JwksSource {
    /// Checks `url` and prepares TLS with the Mozilla roots plus the PEM certificates in
    /// `extra_roots`.
    pub fn new(url: &str, extra_roots: Option<&Path>) -> anyhow::Result<JwksSource> {
        let parsed: http::Uri = url
            .parse()
            .with_context(|| format!("the JWKS URL {url} does not parse"))?;
        let host = parsed
            .host()
            .context("the JWKS URL names no host")?
            .trim_matches(|c| c == '[' || c == ']')
            .to_string();
        let loopback = host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        let tls = match parsed.scheme_str() {
            Some("https") => Some(connector(extra_roots)?),
            Some("http") if loopback => None,
            Some("http") => anyhow::bail!(
                "the JWKS URL {url} is plain HTTP to another host: use https:// (plain HTTP is taken from a loopback address only)"
            ),
            _ => anyhow::bail!("the JWKS URL {url} is neither https:// nor http://"),
        };
        let port = parsed
            .port_u16()
            .unwrap_or(if tls.is_some() { 443 } else { 80 });
        Ok(JwksSource {
            url: parsed,
            host,
            port,
            tls,
        })
    }

    /// The key set, as the server serves it now.
    pub async fn fetch(&self) -> anyhow::Result<JwkSet> {
        let fetched = match tokio::time::timeout(FETCH_TIMEOUT, self.get()).await {
            Ok(fetched) => fetched,
            Err(_) => Err(anyhow::anyhow!("no answer within {FETCH_TIMEOUT:?}")),
        };
        fetched.with_context(|| format!("fetching the JWKS from {}", self.url))
    }

    async fn get(&self) -> anyhow::Result<JwkSet> {
        let tcp = tokio::net::TcpStream::connect((self.host.as_str(), self.port)).await?;
        let body = match &self.tls {
            Some(tls) => {
                let name = ServerName::try_from(self.host.clone())?;
                self.request(tls.connect(name, tcp).await?).await?
            }
            None => self.request(tcp).await?,
        };
        serde_json::from_slice(&body).context("the answer is not a JWKS")
    }

    async fn request<S>(&self, stream: S) -> anyhow::Result<bytes::Bytes>
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
    {
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        let path = self.url.path_and_query().map_or("/", |path| path.as_str());
        let authority = self
            .url
            .authority()
            .map_or(self.host.as_str(), |a| a.as_str());
        let request = http::Request::get(path)
            .header(http::header::HOST, authority)
            .header(http::header::ACCEPT, "application/json")
            .body(Empty::<bytes::Bytes>::new())?;
        let response = sender.send_request(request).await?;
        if !response.status().is_success() {
            anyhow::bail!("the server answered {}", response.status());
        }
        let body = Limited::new(response.into_body(), MAX_JWKS_BYTES)
            .collect()
            .await
            .map_err(|err| anyhow::anyhow!("reading the answer: {err}"))?;
        Ok(body.to_bytes())
    }
}

fn connector(extra_roots: Option<&Path>) -> anyhow::Result<tokio_rustls::TlsConnector> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = extra_roots {
        let pem = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let mut added = 0;
        for certificate in rustls_pki_types::CertificateDer::pem_slice_iter(&pem) {
            let certificate = certificate
                .with_context(|| format!("{} holds a bad certificate", path.display()))?;
            roots
                .add(certificate)
                .with_context(|| format!("{} holds an unusable certificate", path.display()))?;
            added += 1;
        }
        if added == 0 {
            anyhow::bail!("{} holds no PEM certificate", path.display());
        }
    }
    #[allow(deprecated)] // ring: see transport::tls for why.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_from_loopback() {
        assert!(JwksSource::new("http://127.0.0.1:8080/jwks", None).is_ok());
        assert!(JwksSource::new("http://localhost/jwks", None).is_ok());
        assert!(JwksSource::new("http://[::1]:9/jwks", None).is_ok());
        let err = JwksSource::new("http://idp.example/jwks", None)
            .err()
            .expect("refused");
        assert!(format!("{err:#}").contains("use https://"), "{err:#}");
        assert!(JwksSource::new("ftp://idp.example/jwks", None).is_err());
        assert!(JwksSource::new("https://idp.example/.well-known/jwks.json", None).is_ok());
        assert!(is_url("https://x") && !is_url("/etc/jwks.json"));
    }
}
