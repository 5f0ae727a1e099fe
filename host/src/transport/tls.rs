//! TLS for `serve --http` when the operator gives a certificate: rustls with the ring
//! provider, TLS 1.2 and 1.3 with rustls's safe defaults, HTTP/1.1 by ALPN. Files are
//! read once at start; a key others can read, or files that do not parse, stop the
//! server rather than serve in the clear.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// An acceptor for the certificate chain in `cert` and the private key in `key` (PEM).
pub fn acceptor(cert: &Path, key: &Path) -> anyhow::Result<TlsAcceptor> {
    let chain = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("reading the certificate {}", cert.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("parsing the certificate {}", cert.display()))?;
    if chain.is_empty() {
        anyhow::bail!("{} holds no PEM certificate", cert.display());
    }
    check_key_mode(key)?;
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("reading the private key {}", key.display()))?;
    // rustls deprecates ring's provider for lacking post-quantum key exchange; its
    // replacement (aws-lc-rs) needs cmake and doubles the cold build. Classical ECDHE
    // (X25519, P-256) it is, until the build can afford it.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("configuring TLS")?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("the certificate and the private key do not go together")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// A private key everybody may read is no longer private.
fn check_key_mode(key: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let mode = std::fs::metadata(key)
        .with_context(|| format!("the private key {}", key.display()))?
        .mode();
    if mode & 0o004 != 0 {
        anyhow::bail!(
            "the private key {} is readable by everybody (mode {:o}): chmod 600 it",
            key.display(),
            mode & 0o777
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_empty_or_exposed_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        assert!(acceptor(&cert, &key).is_err());
        std::fs::write(&cert, "not a certificate\n").unwrap();
        std::fs::write(&key, "").unwrap();
        let err = acceptor(&cert, &key).err().unwrap().to_string();
        assert!(err.contains("no PEM certificate"), "{err}");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(
            check_key_mode(&key)
                .unwrap_err()
                .to_string()
                .contains("everybody")
        );
    }
}
