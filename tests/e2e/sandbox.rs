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
    let answer = server.call("probe_panic", json!({})).await;
    answer.expect_error("DKR-010");
    // The panic message reaches the host's log, not the client.
    assert!(
        !answer.text().contains("deliberate panic"),
        "{}",
        answer.text()
    );
    let log = server.stderr();
    assert!(
        log.contains("what the plugin wrote to stderr last") && log.contains("deliberate panic"),
        "{log}"
    );
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
async fn an_attachment_of_the_wrong_kind_fails_the_whole_answer() {
    let (server, _dir) = probe_server(&[]).await;
    // One real image and one "image" that is HTML: nothing of the answer goes out.
    let answer = server.call("probe_bad_attachment", json!({})).await;
    answer.expect_error("DKR-010");
    assert_eq!(answer.0.content.len(), 1, "{:?}", answer.0.content);
    assert!(!answer.text().contains("<script>"), "{}", answer.text());
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
async fn with_a_full_queue_calls_over_the_limit_are_refused_at_once() {
    let (server, _dir) = probe_server(&[
        "--call-timeout",
        "5",
        "--max-concurrent-calls",
        "1",
        "--max-queued-calls",
        "0",
    ])
    .await;
    // With one slot and no queue, whichever call reaches the slot first holds it. The spin
    // is sent alone and given a head start, so it normally holds the slot before any echo
    // is sent; on a loaded machine an echo may still overtake it (then the echo is served
    // or the spin is refused) and we start over. Once the spin holds the slot, an echo
    // must be refused at once, not queued behind it.
    for _attempt in 0..5 {
        let spin = server.call("probe_spin", json!({}));
        tokio::pin!(spin);
        let mut head_start = std::time::Duration::from_millis(500);
        loop {
            let echo = async {
                tokio::time::sleep(head_start).await;
                server.call("probe_echo", json!({"text": "x"})).await
            };
            tokio::select! {
                spun = &mut spin => {
                    assert_eq!(spun.error_code(), "DKR-013", "the spin ran to its deadline while every echo got through: {}", spun.text());
                    break;
                }
                echo = echo => {
                    if echo.is_error() {
                        echo.expect_error("DKR-013");
                        let spun = spin.await;
                        if spun.error_code() == "DKR-009" {
                            assert_still_serving(&server).await;
                            return;
                        }
                        // An echo abandoned by an earlier round was still finishing and
                        // turned both away: try again.
                        spun.expect_error("DKR-013");
                        break;
                    }
                }
            }
            head_start = std::time::Duration::from_millis(100);
        }
        // Let any echo this round abandoned finish before the next spin is sent.
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    panic!("the spin never got the slot in 5 attempts");
}

/// Agents send many calls at once: beyond the plugin's slots they wait their turn in the
/// queue, and none is refused. A correctness test, not a timing.
#[tokio::test]
async fn sixty_four_calls_in_flight_are_all_served() {
    let (server, _dir) = probe_server(&["--max-concurrent-calls", "4"]).await;
    let calls = (0..64).map(|i| {
        let server = &server;
        async move {
            let listed = server
                .call("docker_list_containers", json!({"all": true, "limit": 1}))
                .await;
            let echoed = server
                .call("probe_echo", json!({"text": format!("n{i}")}))
                .await;
            (listed, echoed, i)
        }
    });
    for (listed, echoed, i) in futures_util::future::join_all(calls).await {
        assert!(!listed.is_error(), "call {i}: {}", listed.text());
        assert_eq!(echoed.ok()["text"], json!(format!("n{i}")));
    }
}

#[tokio::test]
async fn a_queued_call_waits_for_the_slot_and_the_queue_has_a_bound() {
    let (server, _dir) = probe_server(&[
        "--call-timeout",
        "3",
        "--max-concurrent-calls",
        "1",
        "--max-queued-calls",
        "1",
    ])
    .await;
    // The spin takes the only slot and holds it until its 3-s deadline. Of two echoes
    // sent a moment later, one waits in the queue and is served when the slot frees
    // (inside its own deadline, which started later); the queue is then full, so the
    // other is refused at once.
    let (spun, (b, c)) = tokio::join!(server.call("probe_spin", json!({})), async {
        tokio::time::sleep(std::time::Duration::from_millis(800)).await;
        tokio::join!(
            server.call("probe_echo", json!({"text": "b"})),
            server.call("probe_echo", json!({"text": "c"})),
        )
    });
    spun.expect_error("DKR-009");
    let (served, refused) = if b.is_error() { (c, b) } else { (b, c) };
    assert!(!served.is_error(), "{}", served.text());
    refused.expect_error("DKR-013");
    assert!(refused.text().contains("waiting"), "{}", refused.text());
    assert_still_serving(&server).await;
}

#[tokio::test]
async fn the_server_wide_cap_refuses_calls_to_any_plugin_beyond_it() {
    let (server, _dir) = probe_server(&["--call-timeout", "3", "--max-calls-in-flight", "1"]).await;
    // The spin takes the server's only call slot as soon as its request is read, and
    // holds it until its deadline; a call to another plugin a second later is refused
    // at once rather than queued.
    let (spun, listed) = tokio::join!(server.call("probe_spin", json!({})), async {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        server
            .call("docker_list_containers", json!({"limit": 1}))
            .await
    });
    spun.expect_error("DKR-009");
    listed.expect_error("DKR-013");
    // The slot is free again.
    server
        .call("docker_list_containers", json!({"limit": 1}))
        .await
        .ok();
}
