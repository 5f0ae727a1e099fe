//! `serve --http`: MCP Streamable HTTP on a loopback port, behind bearer tokens made by
//! `bulkhead token new`. Real server, rmcp's HTTP client and raw requests, real engine.

use std::path::PathBuf;

use bulkhead::capabilities::Tier;
use bulkhead_testkit::{
    Cleanup, HttpServe, ServerOptions, TEST_IMAGE, docker, initialize_body, unique_name,
};
use serde_json::{Value, json};

use crate::{builtin_tools, run_bulkhead, shared_cache};

/// A token file with one token per (principal, scope); the tokens, in that order.
fn tokens(dir: &tempfile::TempDir, holders: &[(&str, &str)]) -> (PathBuf, Vec<String>) {
    let file = dir.path().join("tokens");
    let made = holders
        .iter()
        .map(|(principal, scope)| {
            let (ok, out) = run_bulkhead(&[
                "token",
                "new",
                "--file",
                &file.display().to_string(),
                "--principal",
                principal,
                "--scope",
                scope,
            ]);
            assert!(ok, "{out}");
            out.trim().to_string()
        })
        .collect();
    (file, made)
}

async fn serve(options: ServerOptions) -> HttpServe {
    HttpServe::start(crate::binary(), options.cache_dir(shared_cache()))
        .await
        .expect("the HTTP server starts")
}

fn with_tokens(file: &std::path::Path) -> ServerOptions {
    ServerOptions::default()
        .arg("--tokens")
        .arg(file.display().to_string())
}

/// POSTs an `initialize` to `/mcp` with `token` as the bearer.
async fn initialize_with(server: &HttpServe, token: &str) -> bulkhead_testkit::HttpReply {
    server
        .post(
            "/mcp",
            &[("authorization", &bearer(token))],
            initialize_body(),
        )
        .await
        .unwrap()
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[tokio::test]
async fn requests_without_valid_credentials_or_from_foreign_origins_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (file, made) = tokens(&dir, &[("alice", "write")]);
    let server = serve(with_tokens(&file)).await;
    let good = bearer(&made[0]);

    let missing = server.post("/mcp", &[], initialize_body()).await.unwrap();
    assert_eq!(missing.status, 401, "{}", missing.body);
    let challenge = missing.headers["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with("Bearer"), "{challenge}");

    // A token one character off, and the hash from the file used as a token.
    let file_text = std::fs::read_to_string(&file).unwrap();
    let hash = file_text.split_whitespace().next().unwrap();
    for wrong in [&made[0][..made[0].len() - 1], hash, "bht_"] {
        let refused = initialize_with(&server, wrong).await;
        assert_eq!(refused.status, 401, "{wrong}");
        let challenge = refused.headers["www-authenticate"].to_str().unwrap();
        assert!(challenge.contains("invalid_token"), "{challenge}");
    }

    // DNS rebinding: a browser page from elsewhere, or a Host this server is not.
    let foreign_origin = server
        .post(
            "/mcp",
            &[("authorization", &good), ("origin", "http://evil.example")],
            initialize_body(),
        )
        .await
        .unwrap();
    assert_eq!(foreign_origin.status, 403, "{}", foreign_origin.body);
    let foreign_host = server
        .post(
            "/mcp",
            &[("authorization", &good), ("host", "evil.example")],
            initialize_body(),
        )
        .await
        .unwrap();
    assert_eq!(foreign_host.status, 403, "{}", foreign_host.body);

    // Another path, and a body over the cap.
    let elsewhere = server
        .post("/admin", &[("authorization", &good)], initialize_body())
        .await
        .unwrap();
    assert_eq!(elsewhere.status, 404);
    let huge = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"ping","pad":"{}"}}"#,
        "x".repeat(2 << 20)
    );
    let too_big = server
        .post("/mcp", &[("authorization", &good)], huge)
        .await
        .unwrap();
    assert_eq!(too_big.status, 413);

    // The right token gets a session, and the server served through all of it.
    let session = server.connect(Some(&made[0])).await.unwrap();
    assert!(!session.tool_names().await.unwrap().is_empty());
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_read_scope_token_sees_and_calls_only_read_tools() {
    let dir = tempfile::tempdir().unwrap();
    let (file, made) = tokens(&dir, &[("reader", "read"), ("writer", "write")]);
    let server = serve(with_tokens(&file)).await;

    let reader = server.connect(Some(&made[0])).await.unwrap();
    let mut names = reader.tool_names().await.unwrap();
    names.sort();
    assert_eq!(names, builtin_tools(Tier::Read, Tier::Read));
    reader
        .call("docker_list_containers", json!({"limit": 1}))
        .await
        .ok();
    // A moderate tool, called by name anyway: refused by the tier, before any plugin runs.
    reader
        .call(
            "docker_create_container",
            json!({"image": TEST_IMAGE, "name": unique_name("reader")}),
        )
        .await
        .expect_error("DKR-008");

    // The write scope sees the moderate tools too, but nothing that removes, not even
    // the sandbox's and compose's removal of what their principal made.
    let writer = server.connect(Some(&made[1])).await.unwrap();
    let mut names = writer.tool_names().await.unwrap();
    names.sort();
    assert_eq!(names, builtin_tools(Tier::Moderate, Tier::Moderate));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn two_principals_over_http_see_only_their_own_containers() {
    let dir = tempfile::tempdir().unwrap();
    let (file, made) = tokens(&dir, &[("team:alice", "admin"), ("team:bob", "admin")]);
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        "[server]\nallow_destructive = true\n\n[plugins.containers]\nscope = \"owned\"\n",
    )
    .unwrap();
    let audit = dir.path().join("audit.jsonl");
    let server = serve(
        with_tokens(&file)
            .arg("--policy")
            .arg(policy.display().to_string())
            .arg("--audit-log")
            .arg(audit.display().to_string()),
    )
    .await;
    let alice = server.connect(Some(&made[0])).await.unwrap();
    let bob = server.connect(Some(&made[1])).await.unwrap();

    let mut cleanup = Cleanup::default();
    let alices = cleanup.container(&unique_name("http-alice"));
    let bobs = cleanup.container(&unique_name("http-bob"));
    for (session, name) in [(&alice, &alices), (&bob, &bobs)] {
        session
            .call(
                "docker_create_container",
                json!({"image": TEST_IMAGE, "name": name, "command": ["sleep", "300"]}),
            )
            .await
            .ok();
    }
    let owner = |name: &str| {
        docker(&[
            "inspect",
            "-f",
            "{{index .Config.Labels \"io.bulkhead.owner\"}}",
            name,
        ])
        .unwrap()
    };
    assert_eq!(owner(&alices), "team:alice");
    assert_eq!(owner(&bobs), "team:bob");

    // Bob cannot reach Alice's container, not even to remove it; each lists only theirs.
    for (tool, args) in [
        ("docker_inspect_container", json!({"container": alices})),
        (
            "docker_remove_container",
            json!({"container": alices, "force": true}),
        ),
    ] {
        bob.call(tool, args).await.expect_error("DKR-002");
    }
    for (session, mine) in [(&alice, &alices), (&bob, &bobs)] {
        let listed = session
            .call("docker_list_containers", json!({"all": true, "limit": 100}))
            .await;
        let names: Vec<&str> = listed.ok()["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|item| item["names"][0].as_str())
            .collect();
        assert_eq!(names, [mine.as_str()]);
    }
    assert_eq!(
        docker(&["inspect", "-f", "{{.Name}}", &alices]).unwrap(),
        format!("/{alices}")
    );

    // The audit trail names who made each call.
    let principals: Vec<String> = std::fs::read_to_string(&audit)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap()["principal"].to_string())
        .collect();
    assert!(
        principals.contains(&"\"team:alice\"".to_string()),
        "{principals:?}"
    );
    assert!(
        principals.contains(&"\"team:bob\"".to_string()),
        "{principals:?}"
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_principal_over_its_rate_is_answered_429_and_cannot_use_anothers_session() {
    let dir = tempfile::tempdir().unwrap();
    let (file, made) = tokens(&dir, &[("alice", "read"), ("bob", "read")]);
    let server = serve(
        with_tokens(&file)
            .arg("--rate-limit")
            .arg("1")
            .arg("--rate-burst")
            .arg("2"),
    )
    .await;
    let (alice, bob) = (bearer(&made[0]), bearer(&made[1]));

    let opened = server
        .post("/mcp", &[("authorization", &alice)], initialize_body())
        .await
        .unwrap();
    assert_eq!(opened.status, 200, "{}", opened.body);
    let session = opened.headers["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_string();

    // Bob's token is valid, but the session is Alice's: as if it did not exist.
    let ping = json!({"jsonrpc": "2.0", "id": 2, "method": "ping"}).to_string();
    let hijack = server
        .post(
            "/mcp",
            &[("authorization", &bob), ("mcp-session-id", &session)],
            ping.clone(),
        )
        .await
        .unwrap();
    assert_eq!(hijack.status, 404, "{}", hijack.body);

    // Alice's second request fits her burst of 2; the third does not.
    let second = server
        .post("/mcp", &[("authorization", &alice)], initialize_body())
        .await
        .unwrap();
    assert_eq!(second.status, 200);
    let limited = server
        .post("/mcp", &[("authorization", &alice)], initialize_body())
        .await
        .unwrap();
    assert_eq!(limited.status, 429);
    let retry: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry), "{retry}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn two_hundred_concurrent_sessions_are_all_served() {
    let server = serve(
        ServerOptions::default()
            .arg("--rate-limit")
            .arg("100000")
            .arg("--rate-burst")
            .arg("100000"),
    )
    .await;
    let sessions = futures_util::future::join_all((0..200).map(|_| async {
        let session = server.connect(None).await?;
        let answer = session
            .try_call("docker_list_containers", json!({"limit": 1}))
            .await?;
        anyhow::ensure!(answer.is_error != Some(true), "{answer:?}");
        Ok(session)
    }))
    .await;
    let failed: Vec<String> = sessions
        .iter()
        .filter_map(|s| s.as_ref().err().map(|e| format!("{e:#}")))
        .collect();
    assert!(
        failed.is_empty(),
        "{} failed: {:?}",
        failed.len(),
        &failed[..failed.len().min(3)]
    );
    server.stop().await.unwrap();
}

#[test]
fn a_reachable_bind_needs_credentials_and_host_names() {
    let dir = tempfile::tempdir().unwrap();
    let (file, _) = tokens(&dir, &[("alice", "read")]);
    let file = file.display().to_string();
    for (args, missing) in [
        (vec!["serve", "--http", "0.0.0.0:0"], "--tokens"),
        (
            vec!["serve", "--http", "0.0.0.0:0", "--tokens", &file],
            "--allowed-host",
        ),
    ] {
        let (ok, out) = run_bulkhead(&args);
        assert!(
            !ok && out.contains(missing),
            "{args:?} must refuse to start: {out}"
        );
    }
    // A token file others could write to is refused too.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
    let (ok, _) = run_bulkhead(&["serve", "--http", "127.0.0.1:0", "--tokens", &file]);
    assert!(!ok);
}

/// A certificate for `localhost` and 127.0.0.1, signed by a CA made for the test, both
/// by the openssl CLI: (the CA's certificate, the server's certificate, its key).
fn test_certificates(dir: &std::path::Path) -> (PathBuf, PathBuf, PathBuf) {
    let path = |name: &str| dir.join(name).display().to_string();
    let openssl = |args: &[&str]| {
        let status = std::process::Command::new("openssl")
            .args(args)
            .stderr(std::process::Stdio::null())
            .status()
            .expect("openssl runs");
        assert!(status.success(), "openssl {args:?}");
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    openssl(
        &[
            &["req", "-x509"][..],
            &ec,
            &["-days", "1", "-subj", "/CN=bulkhead test CA"],
            &["-keyout", &path("ca.key"), "-out", &path("ca.pem")],
        ]
        .concat(),
    );
    openssl(
        &[
            &["req"][..],
            &ec,
            &["-subj", "/CN=localhost"],
            &["-keyout", &path("key.pem"), "-out", &path("server.csr")],
        ]
        .concat(),
    );
    std::fs::write(
        dir.join("ext.cnf"),
        "basicConstraints=critical,CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        &path("server.csr"),
        "-CA",
        &path("ca.pem"),
        "-CAkey",
        &path("ca.key"),
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        &path("ext.cnf"),
        "-out",
        &path("cert.pem"),
    ]);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.join("key.pem"), std::fs::Permissions::from_mode(0o600)).unwrap();
    (
        dir.join("ca.pem"),
        dir.join("cert.pem"),
        dir.join("key.pem"),
    )
}

/// POSTs an `initialize` over TLS trusting only the CA `ca`; the status line's code.
async fn initialize_over_tls(addr: std::net::SocketAddr, ca: &std::path::Path, token: &str) -> u16 {
    use rustls_pki_types::pem::PemObject;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut roots = rustls::RootCertStore::empty();
    for der in rustls_pki_types::CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(der.unwrap()).unwrap();
    }
    #[allow(deprecated)] // The server's provider; see host/src/transport/tls.rs.
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = connector
        .connect(name, tcp)
        .await
        .expect("the handshake succeeds");
    let body = initialize_body();
    let request = format!(
        "POST /mcp HTTP/1.1\r\nHost: localhost:{}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        addr.port(),
        body.len()
    );
    tls.write_all(request.as_bytes()).await.unwrap();
    let mut head = [0u8; 12];
    tls.read_exact(&mut head).await.unwrap();
    let line = String::from_utf8_lossy(&head).to_string();
    line["HTTP/1.1 ".len()..].trim().parse().expect(&line)
}

#[tokio::test]
async fn tls_serves_https_and_refuses_plain_http() {
    let dir = tempfile::tempdir().unwrap();
    let (file, made) = tokens(&dir, &[("alice", "read")]);
    let (ca, cert, key) = test_certificates(dir.path());
    let server = serve(
        with_tokens(&file)
            .arg("--tls-cert")
            .arg(cert.display().to_string())
            .arg("--tls-key")
            .arg(key.display().to_string()),
    )
    .await;
    assert_eq!(initialize_over_tls(server.addr(), &ca, &made[0]).await, 200);
    assert_eq!(
        initialize_over_tls(server.addr(), &ca, "bht_wrong").await,
        401
    );
    // Plain HTTP to the TLS port gets no MCP answer.
    assert!(
        server
            .post(
                "/mcp",
                &[("authorization", &bearer(&made[0]))],
                initialize_body()
            )
            .await
            .is_err()
    );
    server.stop().await.unwrap();

    // A key everybody can read stops the server before it serves.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (ok, out) = run_bulkhead(&[
        "serve",
        "--http",
        "127.0.0.1:0",
        "--tls-cert",
        &cert.display().to_string(),
        "--tls-key",
        &key.display().to_string(),
    ]);
    assert!(!ok && out.contains("readable by everybody"), "{out}");
}

/// An Ed25519 signing key named `kid`, and its public JWK.
fn signing_key(kid: &str) -> (jsonwebtoken::EncodingKey, Value) {
    use base64::Engine as _;
    let secret = bulkhead::trust::generate_key().unwrap();
    // PKCS#8 v1 for Ed25519: a fixed prefix, then the 32-byte seed.
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(&secret.to_bytes());
    let x =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret.verifying_key().to_bytes());
    (
        jsonwebtoken::EncodingKey::from_ed_der(&der),
        json!({"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "use": "sig"}),
    )
}

/// An Ed25519 signing key for a test authorization server, and its JWKS file.
fn authorization_server(dir: &std::path::Path) -> (jsonwebtoken::EncodingKey, PathBuf) {
    let (key, jwk) = signing_key("test");
    let jwks = dir.join("jwks.json");
    std::fs::write(&jwks, json!({"keys": [jwk]}).to_string()).unwrap();
    (key, jwks)
}

const ISSUER: &str = "https://auth.test";
const RESOURCE: &str = "https://bulkhead.test/mcp";

/// A token for `sub` with `scope`, expiring `expires_in` seconds from now, for `audience`.
fn access_token(
    key: &jsonwebtoken::EncodingKey,
    sub: &str,
    scope: &str,
    expires_in: i64,
    audience: &str,
) -> String {
    access_token_by(key, "test", sub, scope, expires_in, audience)
}

/// [`access_token`], signed by the key named `kid`.
fn access_token_by(
    key: &jsonwebtoken::EncodingKey,
    kid: &str,
    sub: &str,
    scope: &str,
    expires_in: i64,
    audience: &str,
) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    header.kid = Some(kid.into());
    let claims = json!({"iss": ISSUER, "aud": audience, "sub": sub, "exp": now + expires_in, "scope": scope});
    jsonwebtoken::encode(&header, &claims, key).unwrap()
}

#[tokio::test]
async fn oauth_tokens_are_checked_for_signature_expiry_audience_and_scope() {
    let dir = tempfile::tempdir().unwrap();
    let (key, jwks) = authorization_server(dir.path());
    let server = serve(
        ServerOptions::default()
            .arg("--oauth-issuer")
            .arg(ISSUER)
            .arg("--oauth-jwks")
            .arg(jwks.display().to_string())
            .arg("--oauth-resource")
            .arg(RESOURCE),
    )
    .await;

    // Clients find the authorization server from the metadata the challenge names.
    let missing = server.post("/mcp", &[], initialize_body()).await.unwrap();
    assert_eq!(missing.status, 401);
    let challenge = missing.headers["www-authenticate"].to_str().unwrap();
    let metadata_url = "https://bulkhead.test/.well-known/oauth-protected-resource/mcp";
    assert!(challenge.contains(metadata_url), "{challenge}");
    let metadata = server
        .get("/.well-known/oauth-protected-resource/mcp")
        .await
        .unwrap();
    assert_eq!(metadata.status, 200);
    let metadata: Value = serde_json::from_str(&metadata.body).unwrap();
    assert_eq!(metadata["resource"], RESOURCE);
    assert_eq!(metadata["authorization_servers"], json!([ISSUER]));

    let refused = [
        (
            access_token(&key, "ada", "bulkhead:read", -300, RESOURCE),
            401,
        ),
        (
            access_token(
                &key,
                "ada",
                "bulkhead:read",
                300,
                "https://elsewhere.test/mcp",
            ),
            401,
        ),
        (
            access_token(&key, "ada", "openid profile", 300, RESOURCE),
            403,
        ),
    ];
    for (token, status) in refused {
        let answer = initialize_with(&server, &token).await;
        assert_eq!(answer.status, status, "{}", answer.body);
    }

    // A read-scope token is a read-tier caller named by its subject.
    let reader = access_token(&key, "user:ada", "openid bulkhead:read", 300, RESOURCE);
    let session = server.connect(Some(&reader)).await.unwrap();
    let mut names = session.tool_names().await.unwrap();
    names.sort();
    assert_eq!(names, builtin_tools(Tier::Read, Tier::Read));
    session
        .call(
            "docker_create_container",
            json!({"image": TEST_IMAGE, "name": unique_name("oauth")}),
        )
        .await
        .expect_error("DKR-008");
    assert!(
        server.stderr().contains("principal=user:ada"),
        "{}",
        server.stderr()
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn the_policy_file_can_require_tokens_and_set_the_rate() {
    let dir = tempfile::tempdir().unwrap();
    let (file, made) = tokens(&dir, &[("alice", "read")]);
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        format!(
            "[http]\ntokens = \"{}\"\nrate_limit = 1\nrate_burst = 1\n",
            file.display()
        ),
    )
    .unwrap();
    let server = serve(
        ServerOptions::default()
            .arg("--policy")
            .arg(policy.display().to_string()),
    )
    .await;
    let missing = server.post("/mcp", &[], initialize_body()).await.unwrap();
    assert_eq!(missing.status, 401);
    let alice = bearer(&made[0]);
    let first = server
        .post("/mcp", &[("authorization", &alice)], initialize_body())
        .await
        .unwrap();
    assert_eq!(first.status, 200);
    let second = server
        .post("/mcp", &[("authorization", &alice)], initialize_body())
        .await
        .unwrap();
    assert_eq!(second.status, 429);
    server.stop().await.unwrap();

    // Settings that only make sense together are refused together, from the file too.
    std::fs::write(
        &policy,
        format!(
            "[http]\ntokens = \"{}\"\noauth_issuer = \"https://auth.test\"\n",
            file.display()
        ),
    )
    .unwrap();
    let (ok, out) = run_bulkhead(&[
        "serve",
        "--http",
        "127.0.0.1:0",
        "--policy",
        &policy.display().to_string(),
    ]);
    assert!(!ok && out.contains("not both"), "{out}");
}

/// Sends SIGHUP to the server and waits until it logged the reload's outcome.
async fn hang_up(server: &HttpServe, outcome: &str) {
    let before = server.stderr().matches(outcome).count();
    let pid = server.pid().expect("the server runs").to_string();
    let sent = std::process::Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
    for _ in 0..200 {
        if server.stderr().matches(outcome).count() > before {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("no `{outcome}` after SIGHUP:\n{}", server.stderr());
}

#[tokio::test]
async fn sighup_reloads_the_token_file_and_a_broken_one_lets_nobody_in() {
    let dir = tempfile::tempdir().unwrap();
    let (file, made) = tokens(&dir, &[("alice", "read")]);
    let server = serve(with_tokens(&file)).await;
    assert_eq!(initialize_with(&server, &made[0]).await.status, 200);

    // Bob's token is added and Alice's revoked: both take effect on SIGHUP.
    let (_, bob) = tokens(&dir, &[("bob", "read")]);
    assert_eq!(initialize_with(&server, &bob[0]).await.status, 401);
    let text = std::fs::read_to_string(&file).unwrap();
    let without_alice: Vec<&str> = text.lines().filter(|l| !l.contains(" alice ")).collect();
    std::fs::write(&file, without_alice.join("\n") + "\n").unwrap();
    hang_up(&server, "credentials reloaded").await;
    assert_eq!(initialize_with(&server, &bob[0]).await.status, 200);
    assert_eq!(initialize_with(&server, &made[0]).await.status, 401);

    // A file that no longer parses: nobody, not even Bob, until it is fixed.
    std::fs::write(&file, "garbage\n").unwrap();
    hang_up(&server, "credentials could not be reloaded").await;
    assert_eq!(initialize_with(&server, &bob[0]).await.status, 401);
    std::fs::write(&file, without_alice.join("\n") + "\n").unwrap();
    hang_up(&server, "credentials reloaded").await;
    assert_eq!(initialize_with(&server, &bob[0]).await.status, 200);
    server.stop().await.unwrap();
}

/// An HTTPS server on 127.0.0.1 that answers every request with the JWKS `current`
/// holds, as an authorization server publishes it; its port.
async fn jwks_server(
    cert: &std::path::Path,
    key: &std::path::Path,
    current: std::sync::Arc<std::sync::Mutex<String>>,
) -> u16 {
    use rustls_pki_types::pem::PemObject;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let chain = rustls_pki_types::CertificateDer::pem_file_iter(cert)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let private = rustls_pki_types::PrivateKeyDer::from_pem_file(key).unwrap();
    #[allow(deprecated)]
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, current) = (acceptor.clone(), std::sync::Arc::clone(&current));
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut request = Vec::new();
                let mut chunk = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&chunk[..n]),
                    }
                }
                let body = current.lock().unwrap().clone();
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(response.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    port
}

// Multi-threaded: the JWKS server keeps answering while the test waits on a process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jwks_from_its_url_is_fetched_again_when_a_token_names_a_new_key() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, cert_key) = test_certificates(dir.path());
    let (first, first_jwk) = signing_key("first");
    let current = std::sync::Arc::new(std::sync::Mutex::new(
        json!({"keys": [first_jwk]}).to_string(),
    ));
    let port = jwks_server(&cert, &cert_key, std::sync::Arc::clone(&current)).await;
    let url = format!("https://localhost:{port}/jwks");

    // Without the test CA the fetch fails, and the server does not start (fail closed).
    let (ok, out) = run_bulkhead(&[
        "serve",
        "--no-default-plugins",
        "--http",
        "127.0.0.1:0",
        "--oauth-issuer",
        ISSUER,
        "--oauth-jwks",
        &url,
        "--oauth-resource",
        RESOURCE,
    ]);
    assert!(!ok && out.contains("fetching the JWKS"), "{out}");

    let server = serve(
        ServerOptions::default()
            .arg("--oauth-issuer")
            .arg(ISSUER)
            .arg("--oauth-jwks")
            .arg(&url)
            .arg("--oauth-ca")
            .arg(ca.display().to_string())
            .arg("--oauth-resource")
            .arg(RESOURCE),
    )
    .await;
    let token = access_token_by(&first, "first", "ada", "bulkhead:read", 300, RESOURCE);
    assert_eq!(initialize_with(&server, &token).await.status, 200);

    // The authorization server rotates its key: a token by the new one is refused until
    // the host has fetched the set again, which the unknown key id makes it do at once.
    let (next, next_jwk) = signing_key("next");
    *current.lock().unwrap() = json!({"keys": [next_jwk]}).to_string();
    let token = access_token_by(&next, "next", "ada", "bulkhead:read", 300, RESOURCE);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        match initialize_with(&server, &token).await.status {
            200 => break,
            401 if std::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
            status => panic!("status {status}; server stderr:\n{}", server.stderr()),
        }
    }
    assert!(
        server.stderr().contains("JWKS refreshed"),
        "{}",
        server.stderr()
    );
    server.stop().await.unwrap();
}
