//! Bad input gets a clear, typed error and the server keeps serving.

use bulkhead_testkit::ServerOptions;
use serde_json::json;

use crate::start;

#[tokio::test]
async fn bad_input_is_answered_and_the_server_keeps_serving() {
    let server = start(ServerOptions::default()).await;

    // An unknown tool is a protocol error (JSON-RPC invalid params), per the MCP spec.
    let unknown = server.try_call("docker_launch_missiles", json!({})).await;
    let err = unknown
        .expect_err("unknown tool is a protocol error")
        .to_string();
    assert!(err.contains("unknown tool"), "{err}");

    let cases = [
        (
            "docker_inspect_container",
            json!({"container": 42}),
            "DKR-004",
        ),
        ("docker_inspect_container", json!({}), "DKR-004"),
        (
            "docker_inspect_container",
            json!({"container": "x", "extra": true}),
            "DKR-004",
        ),
        (
            "docker_create_container",
            json!({"name": "no-image"}),
            "DKR-004",
        ),
        ("docker_list_containers", json!({"limit": "ten"}), "DKR-004"),
        (
            "docker_list_containers",
            json!({"limit": 100000}),
            "DKR-004",
        ),
        (
            "docker_list_containers",
            json!({"cursor": "not-a-cursor"}),
            "DKR-004",
        ),
        (
            "docker_container_logs",
            json!({"container": "x", "stream": "stdin"}),
            "DKR-004",
        ),
        (
            "docker_inspect_container",
            json!({"container": "x".repeat(100_000)}),
            "DKR-004",
        ),
        (
            "docker_inspect_container",
            json!({"container": "../../images/json"}),
            "DKR-004",
        ),
        (
            "docker_list_containers",
            json!({"name": "x".repeat(1 << 20)}),
            "DKR-004",
        ),
        (
            "docker_inspect_container",
            json!({"container": "bulkhead-no-such-container-0"}),
            "DKR-002",
        ),
        (
            "docker_start_container",
            json!({"container": "bulkhead-no-such-container-0"}),
            "DKR-002",
        ),
        (
            "docker_create_container",
            json!({"image": "bulkhead-test/no-such-image:none"}),
            "DKR-003",
        ),
        (
            "docker_create_container",
            json!({"image": "bulkhead-test/busybox:latest", "network": "host"}),
            "DKR-005",
        ),
    ];
    for (tool, args, code) in cases {
        let answer = server.call(tool, args.clone()).await;
        assert_eq!(
            answer.error_code(),
            code,
            "{tool} {}: {}",
            truncate(&args.to_string()),
            answer.text()
        );
        assert!(
            answer.text().len() < 4096,
            "errors stay short: {}",
            answer.text().len()
        );
    }

    let listed = server
        .call("docker_list_containers", json!({"all": true, "limit": 1}))
        .await;
    assert!(listed.ok()["total"].is_u64());
}

fn truncate(text: &str) -> &str {
    &text[..text.len().min(120)]
}
