//! Vetted plugins through the real binary: a signed, pinned plugin loads; an altered,
//! unsigned or misnamed one is refused while the rest serve; the operator's commands
//! (`keygen`, `plugin sign|verify|inspect`) work on real files.

use std::path::Path;

use bulkhead_testkit::{HELLO_WASM, PROBE_WASM, ServerOptions};
use serde_json::json;

use crate::start;

use crate::run_bulkhead as run;

fn digest_of(path: &str) -> String {
    bulkhead::runtime::digest(&std::fs::read(path).unwrap())
}

/// A key pair in `dir`: the secret key file and the public key text.
fn keygen(dir: &Path) -> (String, String) {
    let secret = dir.join("key").display().to_string();
    let (ok, public) = run(&["keygen", "--out", &secret]);
    assert!(ok, "{public}");
    (secret, public.trim().to_string())
}

fn write_policy(dir: &Path, public: &str, pins: &[(&str, String)]) -> String {
    let mut text = format!("[trust]\nrequire_signatures = true\nkeys = [\"{public}\"]\n");
    for (name, digest) in pins {
        text.push_str(&format!("\n[plugins.{name}]\nsha256 = \"{digest}\"\n"));
    }
    let path = dir.join("policy.toml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[tokio::test]
async fn only_signed_pinned_plugins_load() {
    let keys = tempfile::tempdir().unwrap();
    let (secret, public) = keygen(keys.path());
    let plugins = tempfile::tempdir().unwrap();
    let probe = plugins.path().join("probe.wasm");
    std::fs::copy(PROBE_WASM, &probe).unwrap();
    let (ok, text) = run(&[
        "plugin",
        "sign",
        "--key",
        &secret,
        &probe.display().to_string(),
    ]);
    assert!(ok, "{text}");
    // Signed too, but not pinned: must be refused.
    let hello = plugins.path().join("hello.wasm");
    std::fs::copy(HELLO_WASM, &hello).unwrap();
    run(&[
        "plugin",
        "sign",
        "--key",
        &secret,
        &hello.display().to_string(),
    ]);
    let policy = write_policy(keys.path(), &public, &[("probe", digest_of(PROBE_WASM))]);

    let server = start(
        ServerOptions::default()
            .arg("--policy")
            .arg(policy)
            .arg("--plugin-dir")
            .arg(plugins.path().display().to_string()),
    )
    .await;
    let names = server.tool_names().await.unwrap();
    assert!(names.iter().any(|n| n == "probe_echo"), "{names:?}");
    assert!(!names.iter().any(|n| n.starts_with("hello_")), "{names:?}");
    assert!(
        names.iter().any(|n| n == "docker_list_containers"),
        "{names:?}"
    );
    server.call("probe_echo", json!({"text": "hi"})).await.ok();
    let log = server.stderr();
    assert!(
        log.contains("hello.wasm") && log.contains("matches no pin"),
        "{log}"
    );
}

/// What is in probe.wasm, whether it is signed, the pins, and why it must be refused.
type Case<'a> = (&'a str, bool, Vec<(&'a str, String)>, &'a str);

#[tokio::test]
async fn altered_unsigned_and_misnamed_plugins_are_refused() {
    let keys = tempfile::tempdir().unwrap();
    let (secret, public) = keygen(keys.path());
    let cases: [Case; 3] = [
        // Another file under the pinned plugin's file name: its digest matches no pin.
        (
            HELLO_WASM,
            true,
            vec![("probe", digest_of(PROBE_WASM))],
            "matches no pin",
        ),
        // The pinned file without its signature.
        (
            PROBE_WASM,
            false,
            vec![("probe", digest_of(PROBE_WASM))],
            "no readable signature",
        ),
        // Pinned under another plugin's name: grants follow the pin, not the claim.
        (
            PROBE_WASM,
            true,
            vec![("hello", digest_of(PROBE_WASM))],
            "declares itself `probe`",
        ),
    ];
    for (source, signed, pins, reason) in cases {
        let plugins = tempfile::tempdir().unwrap();
        let file = plugins.path().join("probe.wasm");
        std::fs::copy(source, &file).unwrap();
        if signed {
            run(&[
                "plugin",
                "sign",
                "--key",
                &secret,
                &file.display().to_string(),
            ]);
        }
        let policy = write_policy(keys.path(), &public, &pins);
        let (ok, report) = run(&[
            "plugins",
            "--no-cache",
            "--policy",
            &policy,
            "--plugin-dir",
            &plugins.path().display().to_string(),
        ]);
        assert!(ok, "{report}");
        assert!(
            report.contains("refused") && report.contains(reason),
            "{reason}: {report}"
        );
        assert!(
            report.contains("docker_list_containers"),
            "the rest still load: {report}"
        );
    }
}

#[test]
fn operator_commands_sign_verify_and_inspect() {
    let keys = tempfile::tempdir().unwrap();
    let (secret, public) = keygen(keys.path());
    let (again, text) = run(&["keygen", "--out", &secret]);
    assert!(!again, "an existing key is never overwritten: {text}");
    let file = keys.path().join("probe.wasm");
    std::fs::copy(PROBE_WASM, &file).unwrap();
    let file = file.display().to_string();
    run(&["plugin", "sign", "--key", &secret, &file]);
    let (ok, text) = run(&["plugin", "verify", "--key", &public, &file]);
    assert!(ok, "{text}");
    let other = tempfile::tempdir().unwrap();
    let (_, other_public) = keygen(other.path());
    let (ok, _) = run(&["plugin", "verify", "--key", &other_public, &file]);
    assert!(!ok, "a signature by another key does not verify");
    let (ok, text) = run(&["plugin", "inspect", &file]);
    assert!(ok, "{text}");
    assert!(text.contains(&digest_of(PROBE_WASM)), "{text}");
    assert!(text.contains("containers-remove (destructive)"), "{text}");
}
