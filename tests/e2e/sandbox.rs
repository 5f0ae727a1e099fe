//! Misbehaving plugins are contained: each fault is a typed error and the server keeps
//! serving. The probe fixture misbehaves on purpose.

use bulkhead_testkit::{Server, ServerOptions, probe_plugin_dir};
use serde_json::json;

use crate::start;

async fn probe_server(extra: &[&str]) -> (Server, tempfile::TempDir) {
    let dir = probe_plugin_dir().unwrap();
    let mut options = ServerOptions::default()
        .arg("--plugin-dir")
        .arg(dir.path().display().to_string());
    for arg in extra {
        options = options.arg(*arg);
    }
    (start(options).await, dir)
}

async fn assert_still_serving(server: &Server) {
    let echo = server.call("probe_echo", json!({"text": "alive"})).await;
    assert_eq!(echo.ok()["text"], json!("alive"));
}

#[tokio::test]
async fn spinning_plugin_hits_the_deadline_and_the_server_keeps_serving() {
    let (server, _dir) = probe_server(&["--call-timeout", "2"]).await;
    let answer = server.call("probe_spin", json!({})).await;
    answer.expect_error("DKR-009");
    assert!(answer.text().contains("2 s"), "{}", answer.text());
    assert_still_serving(&server).await;
    // And again: a trap or timeout never poisons later calls.
    server
        .call("probe_spin", json!({}))
        .await
        .expect_error("DKR-009");
    assert_still_serving(&server).await;
}

#[tokio::test]
async fn memory_bomb_hits_the_memory_limit() {
    let (server, _dir) = probe_server(&["--memory-limit", "32"]).await;
    let answer = server.call("probe_alloc", json!({})).await;
    answer.expect_error("DKR-010");
    assert!(
        answer.text().contains("memory limit of 32 MiB"),
        "{}",
        answer.text()
    );
    assert_still_serving(&server).await;
}

#[tokio::test]
async fn panic_is_a_plugin_fault() {
    let (server, _dir) = probe_server(&[]).await;
    server
        .call("probe_panic", json!({}))
        .await
        .expect_error("DKR-010");
    assert_still_serving(&server).await;
}

#[tokio::test]
async fn huge_output_is_refused_not_forwarded() {
    let (server, _dir) = probe_server(&[]).await;
    let answer = server.call("probe_huge_output", json!({})).await;
    answer.expect_error("DKR-010");
    assert!(answer.text().contains("output limit"), "{}", answer.text());
    assert!(answer.text().len() < 4096, "the refusal itself is short");
    assert_still_serving(&server).await;
}

#[tokio::test]
async fn plugins_cannot_read_files_env_or_open_sockets() {
    // A listener the plugin would reach if sockets were open to it.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let (server, _dir) = probe_server(&[]).await;

    for (tool, args) in [
        ("probe_read_file", json!({"path": "/etc/passwd"})),
        (
            "probe_read_file",
            json!({"path": env!("CARGO_MANIFEST_DIR")}),
        ),
        ("probe_env", json!({})),
        ("probe_socket", json!({"address": address})),
    ] {
        let answer = server.call(tool, args.clone()).await;
        let result = answer.ok();
        assert_eq!(result["escaped"], json!(false), "{tool} {args}: {result}");
    }
    listener.set_nonblocking(true).unwrap();
    assert!(
        listener.accept().is_err(),
        "no connection reached the listener"
    );
}

#[tokio::test]
async fn a_stuck_call_does_not_block_other_calls() {
    let (server, _dir) = probe_server(&["--call-timeout", "5"]).await;
    let spin = server.call("probe_spin", json!({}));
    tokio::pin!(spin);
    // The spinning call can only end at its 5 s deadline; the echo must overtake it.
    tokio::select! {
        _ = &mut spin => panic!("the spinning call ended before the echo answered"),
        echo = server.call("probe_echo", json!({"text": "overtake"})) => {
            assert_eq!(echo.ok()["text"], json!("overtake"));
        }
    }
    spin.await.expect_error("DKR-009");
}

#[tokio::test]
async fn calls_over_the_concurrency_limit_are_refused_not_queued() {
    let (server, _dir) =
        probe_server(&["--call-timeout", "5", "--max-concurrent-calls", "1"]).await;
    // With one slot, whichever call arrives first holds it. An echo may win the race
    // against the spin (then the spin itself is refused, and we start over); once the spin
    // holds the slot, an echo must be refused at once, not queued behind it.
    for _attempt in 0..5 {
        let spin = server.call("probe_spin", json!({}));
        tokio::pin!(spin);
        loop {
            tokio::select! {
                spun = &mut spin => {
                    assert_eq!(spun.error_code(), "DKR-013", "the spin ran to its deadline while every echo got through: {}", spun.text());
                    break;
                }
                echo = server.call("probe_echo", json!({"text": "x"})) => {
                    if echo.is_error() {
                        echo.expect_error("DKR-013");
                        spin.await.expect_error("DKR-009");
                        assert_still_serving(&server).await;
                        return;
                    }
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    panic!("the spin never got the slot in 5 attempts");
}
