//! `serve --watch` through the real binary and a real client: a plugin file added,
//! replaced (with a call in flight) and removed is loaded, swapped and dropped without a
//! restart, the client hears `notifications/tools/list_changed` each time, and a file
//! that does not load, or is not vetted, leaves the version before it serving.

use std::path::Path;
use std::time::Duration;

use bulkhead_testkit::{HELLO_WASM, RELOAD_V1_WASM, RELOAD_V2_WASM, ServerOptions};
use rmcp::model::ServerResult;
use serde_json::json;

use crate::start;

/// Long enough for a debug host to compile a changed plugin on a busy machine; the
/// server notices a change within about a second.
const NOTICE: Duration = Duration::from_secs(60);

/// Puts `source`'s bytes at `dir/name` the way an operator should: written beside it,
/// then renamed over it, so the server never sees half a file.
fn install(source: impl AsRef<Path>, dir: &Path, name: &str) {
    let staging = dir.join(format!(".{name}.partial"));
    std::fs::copy(source, &staging).unwrap();
    std::fs::rename(&staging, dir.join(name)).unwrap();
}

fn watching(dir: &Path) -> ServerOptions {
    ServerOptions::default()
        .arg("--no-default-plugins")
        .arg("--watch")
        .arg("--plugin-dir")
        .arg(dir.display().to_string())
}

#[tokio::test]
async fn plugins_are_added_replaced_and_removed_while_serving() {
    let dir = tempfile::tempdir().unwrap();
    install(RELOAD_V1_WASM, dir.path(), "reload.wasm");
    let server = start(watching(dir.path())).await;
    let info = server.client().peer_info().expect("initialized");
    assert_eq!(
        info.capabilities
            .tools
            .as_ref()
            .and_then(|t| t.list_changed),
        Some(true),
        "{info:?}"
    );
    assert_eq!(
        server.call("reload_version", json!({})).await.ok()["version"],
        1
    );

    // Added.
    install(HELLO_WASM, dir.path(), "hello.wasm");
    server.wait_for_tool_list_changes(1, NOTICE).await;
    let names = server.tool_names().await.unwrap();
    assert!(names.iter().any(|n| n == "hello_greet"), "{names:?}");
    server
        .call("hello_greet", json!({"name": "reload"}))
        .await
        .ok();

    // Replaced while a call runs: the call finishes on version 1, new calls see 2.
    let in_flight = server
        .start_call("reload_wait", json!({"ms": 4000}))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    install(RELOAD_V2_WASM, dir.path(), "reload.wasm");
    server.wait_for_tool_list_changes(2, NOTICE).await;
    assert_eq!(
        server.call("reload_version", json!({})).await.ok()["version"],
        2
    );
    let names = server.tool_names().await.unwrap();
    assert!(names.iter().any(|n| n == "reload_added"), "{names:?}");
    match in_flight.await_response().await {
        Ok(ServerResult::CallToolResult(result)) => {
            let answer = bulkhead_testkit::Answer(result);
            assert_eq!(answer.ok()["version"], 1, "{}", answer.text());
        }
        other => panic!("the call in flight failed: {other:?}"),
    }

    // A broken new file: the version before it keeps serving, and the log says why.
    std::fs::write(dir.path().join(".broken"), b"\0asm not really").unwrap();
    std::fs::rename(dir.path().join(".broken"), dir.path().join("reload.wasm")).unwrap();
    wait_for_log(&server, "keeps serving").await;
    assert_eq!(
        server.call("reload_version", json!({})).await.ok()["version"],
        2
    );
    assert_eq!(server.tool_list_changes(), 2, "nothing was swapped");

    // Removed.
    std::fs::remove_file(dir.path().join("hello.wasm")).unwrap();
    server.wait_for_tool_list_changes(3, NOTICE).await;
    let names = server.tool_names().await.unwrap();
    assert!(!names.iter().any(|n| n.starts_with("hello_")), "{names:?}");
    assert!(
        server
            .try_call("hello_greet", json!({"name": "gone"}))
            .await
            .is_err(),
        "a removed plugin's tool is unknown"
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_reload_vets_the_new_file_as_a_start_does() {
    let dir = tempfile::tempdir().unwrap();
    let digest = bulkhead::runtime::digest(&std::fs::read(RELOAD_V1_WASM).unwrap());
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        format!("[plugins.reload]\nsha256 = \"{digest}\"\n"),
    )
    .unwrap();
    let plugins = tempfile::tempdir().unwrap();
    install(RELOAD_V1_WASM, plugins.path(), "reload.wasm");
    let server = start(
        watching(plugins.path())
            .arg("--policy")
            .arg(policy.display().to_string()),
    )
    .await;
    assert_eq!(
        server.call("reload_version", json!({})).await.ok()["version"],
        1
    );
    // Version 2 matches no pin: refused, and version 1 keeps serving.
    install(RELOAD_V2_WASM, plugins.path(), "reload.wasm");
    wait_for_log(&server, "matches no pin").await;
    assert_eq!(
        server.call("reload_version", json!({})).await.ok()["version"],
        1
    );
    // An unpinned plugin added beside it is refused too.
    install(HELLO_WASM, plugins.path(), "hello.wasm");
    wait_for_log(&server, "hello.wasm").await;
    let names = server.tool_names().await.unwrap();
    assert!(!names.iter().any(|n| n.starts_with("hello_")), "{names:?}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn watch_without_a_plugin_folder_is_refused() {
    let (ok, text) = crate::run_bulkhead(&["serve", "--no-default-plugins", "--watch"]);
    assert!(!ok && text.contains("--plugin-dir"), "{text}");
}

async fn wait_for_log(server: &bulkhead_testkit::Server, needle: &str) {
    let start = std::time::Instant::now();
    while !server.stderr().contains(needle) {
        assert!(
            start.elapsed() < NOTICE,
            "no `{needle}` in the server log:\n{}",
            server.stderr()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_listen_stream_carries_list_changes_and_resource_updates() {
    use bulkhead_testkit::{Cleanup, Server};
    use rmcp::model::{ProtocolVersion, ServerNotification, SubscriptionFilter};

    let mut cleanup = Cleanup::default();
    let name = cleanup.chatty_container("listened");
    let dir = tempfile::tempdir().unwrap();
    install(RELOAD_V1_WASM, dir.path(), "reload.wasm");
    // The default plugins (docker:// resources) and the watched folder, through a
    // 2026-07-28 client, which watches with subscriptions/listen.
    let server = Server::start_with(
        crate::binary(),
        ServerOptions::default()
            .cache_dir(crate::shared_cache())
            .arg("--watch")
            .arg("--plugin-dir")
            .arg(dir.path().display().to_string()),
        rmcp::ClientLifecycleMode::Discover {
            preferred_versions: vec![ProtocolVersion::V_2026_07_28],
        },
    )
    .await
    .unwrap();
    let uri = format!("docker://containers/{name}/logs");
    let mut subscription = server
        .client()
        .peer()
        .listen(
            SubscriptionFilter::builder()
                .tools_list_changed()
                .resource_subscription(uri.clone())
                .build(),
        )
        .await
        .expect("the server accepts subscriptions/listen");
    assert_eq!(subscription.acknowledged().tools_list_changed, Some(true));
    assert_eq!(
        subscription.acknowledged().resource_subscriptions,
        Some(vec![uri.clone()])
    );

    install(RELOAD_V2_WASM, dir.path(), "reload.wasm");
    let (mut list_changed, mut updated) = (false, false);
    let deadline = tokio::time::Instant::now() + NOTICE;
    while !(list_changed && updated) {
        let next = tokio::time::timeout_at(deadline, subscription.next())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "list changed: {list_changed}, updated: {updated}; server stderr:\n{}",
                    server.stderr()
                )
            });
        match next.unwrap() {
            Some(ServerNotification::ToolListChangedNotification(_)) => list_changed = true,
            Some(ServerNotification::ResourceUpdatedNotification(update)) => {
                assert_eq!(update.params.uri, uri);
                updated = true;
            }
            Some(_) => {}
            None => panic!("the stream ended; server stderr:\n{}", server.stderr()),
        }
    }
    server.stop().await.unwrap();
}
