//! Capabilities: a plugin gets what it imports AND is granted AND declares per tool.
//! Uses the probe fixture, loaded from a plugin directory like any third-party plugin.

use bulkhead_testkit::{PROBE_WASM, ServerOptions, probe_plugin_dir};
use serde_json::json;

use crate::start;

fn with_probe(dir: &tempfile::TempDir) -> ServerOptions {
    ServerOptions::default()
        .arg("--plugin-dir")
        .arg(dir.path().display().to_string())
}

#[tokio::test]
async fn third_party_plugin_gets_nothing_until_granted() {
    let dir = probe_plugin_dir().unwrap();
    let server = start(with_probe(&dir)).await;
    let names = server.tool_names().await.unwrap();
    assert!(names.iter().any(|n| n == "probe_echo"), "{names:?}");
    assert!(
        !names.iter().any(|n| n == "probe_list"),
        "needs an ungranted capability: {names:?}"
    );
    assert!(!names.iter().any(|n| n == "probe_remove"), "{names:?}");

    let refused = server.call("probe_list", json!({})).await;
    refused.expect_error("DKR-005");
    assert!(
        refused.text().contains("--grant probe=containers-read"),
        "{}",
        refused.text()
    );

    // A tool that declares nothing but calls a Docker primitive anyway: the host's
    // check at the primitive answers `denied`, which the plugin reports.
    server
        .call("probe_sneaky_list", json!({}))
        .await
        .expect_error("DKR-005");
    // The server is unaffected.
    assert_eq!(
        server
            .call("probe_echo", json!({"text": "still here"}))
            .await
            .ok()["text"],
        json!("still here")
    );
}

#[tokio::test]
async fn granted_capability_works_but_undeclared_use_is_still_denied() {
    let dir = probe_plugin_dir().unwrap();
    let server = start(with_probe(&dir).arg("--grant").arg("probe=containers-read")).await;
    let names = server.tool_names().await.unwrap();
    assert!(names.iter().any(|n| n == "probe_list"), "{names:?}");

    let listed = server.call("probe_list", json!({})).await;
    assert!(listed.ok()["total"].is_u64(), "{}", listed.text());
    server
        .call("probe_sneaky_list", json!({}))
        .await
        .expect_error("DKR-005");

    // Granting the destructive capability is not enough while destructive operations
    // are off: the tier ceiling wins.
    let ceiling = start(
        with_probe(&dir)
            .arg("--grant")
            .arg("probe=containers-read,containers-remove"),
    )
    .await;
    assert!(
        !ceiling
            .tool_names()
            .await
            .unwrap()
            .iter()
            .any(|n| n == "probe_remove")
    );
    ceiling
        .call("probe_remove", json!({"container": "anything"}))
        .await
        .expect_error("DKR-008");
}

#[tokio::test]
async fn grants_for_builtins_can_be_narrowed() {
    let server = start(
        ServerOptions::default()
            .arg("--grant")
            .arg("containers=containers-read"),
    )
    .await;
    let mut names = server.tool_names().await.unwrap();
    names.sort();
    assert_eq!(
        names,
        crate::containers_tools_granted(&[bulkhead::capabilities::Capability::ContainersRead])
    );
    server
        .call("docker_start_container", json!({"container": "x"}))
        .await
        .expect_error("DKR-005");
}

#[tokio::test]
async fn colliding_and_broken_plugins_are_refused_and_the_rest_serve() {
    let dir = probe_plugin_dir().unwrap();
    // Same plugin name and tool names as probe.wasm: it must not shadow anything.
    std::fs::copy(PROBE_WASM, dir.path().join("probe-again.wasm")).unwrap();
    std::fs::write(dir.path().join("broken.wasm"), b"\0asm but not a component").unwrap();

    let server = start(with_probe(&dir)).await;
    let names = server.tool_names().await.unwrap();
    assert_eq!(
        names.iter().filter(|n| *n == "probe_echo").count(),
        1,
        "{names:?}"
    );
    assert!(
        names.iter().any(|n| n == "docker_list_containers"),
        "{names:?}"
    );
    let log = server.stderr();
    assert!(
        log.contains("probe-again.wasm") && log.contains("already loaded"),
        "{log}"
    );
    assert!(
        log.contains("broken.wasm") && log.contains("not a valid"),
        "{log}"
    );

    // The operator's view says the same, without starting a session.
    let report = std::process::Command::new(crate::binary())
        .args(["plugins", "--cache-dir"])
        .arg(crate::shared_cache())
        .arg("--plugin-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(report.status.success());
    let report = String::from_utf8(report.stdout).unwrap();
    assert!(
        report.contains("probe_echo") && report.contains("listed"),
        "{report}"
    );
    assert!(
        report.contains("probe_list") && report.contains("hidden"),
        "{report}"
    );
    assert!(
        report.contains("refused") && report.contains("broken.wasm"),
        "{report}"
    );
}

#[tokio::test]
async fn the_sdk_example_works_as_a_third_party_plugin() {
    let dir = bulkhead_testkit::plugin_dir(bulkhead_testkit::HELLO_WASM, "hello.wasm").unwrap();
    let plugin_dir = dir.path().display().to_string();

    // Ungranted: the tool that needs containers-read is hidden, the other one works.
    let ungranted = start(
        ServerOptions::default()
            .arg("--plugin-dir")
            .arg(&plugin_dir),
    )
    .await;
    let names = ungranted.tool_names().await.unwrap();
    assert!(names.iter().any(|n| n == "hello_greet"), "{names:?}");
    assert!(!names.iter().any(|n| n == "hello_count"), "{names:?}");
    let greeting = ungranted.call("hello_greet", json!({"name": "Ada"})).await;
    assert!(!greeting.is_error(), "{}", greeting.text());
    assert_eq!(greeting.text(), "Hello, Ada!");

    let granted = start(
        ServerOptions::default()
            .arg("--plugin-dir")
            .arg(&plugin_dir)
            .arg("--grant")
            .arg("hello=containers-read"),
    )
    .await;
    let count = granted.call("hello_count", json!({})).await;
    assert!(count.ok()["running"].is_u64(), "{}", count.text());
}

/// A plugin from disk cannot pass for a built-in: `docker_` tool names are reserved, so a
/// copy of the containers plugin loaded as a third-party plugin is refused whole.
#[tokio::test]
async fn third_party_plugins_cannot_claim_builtin_tool_names() {
    let dir =
        bulkhead_testkit::plugin_dir(env!("BULKHEAD_PLUGIN_CONTAINERS"), "lookalike.wasm").unwrap();
    let server = start(
        ServerOptions::default()
            .arg("--no-default-plugins")
            .arg("--plugin-dir")
            .arg(dir.path().display().to_string())
            .arg("--grant")
            .arg("containers=containers-read"),
    )
    .await;
    assert_eq!(server.tool_names().await.unwrap(), Vec::<String>::new());
    let log = server.stderr();
    assert!(
        log.contains("lookalike.wasm") && log.contains("reserved for built-in plugins"),
        "{log}"
    );
    server
        .try_call("docker_list_containers", json!({}))
        .await
        .expect_err("unknown tool");
}

/// A plugin's error text cannot imitate a host denial: it is attributed to the plugin and
/// any `DKR-nnn` in it is masked; the code is the one the plugin may use (DKR-005).
#[tokio::test]
async fn plugin_errors_are_attributed_and_cannot_claim_host_codes() {
    let dir = probe_plugin_dir().unwrap();
    let server = start(with_probe(&dir)).await;
    let answer = server.call("probe_fake_denial", json!({})).await;
    answer.expect_error("DKR-005");
    let text = answer.text();
    assert!(
        text.starts_with("DKR-005 permission denied: plugin `probe` says: DKR-*** "),
        "{text}"
    );
    assert!(!text.contains("DKR-008"), "{text}");
    let meta = answer.0.meta.as_ref().unwrap().0["bulkhead/error"].clone();
    assert_eq!(meta["plugin"], json!("probe"));
}
