//! System tools through MCP against the real engine: info, version, disk use, and
//! events read from a bounded window that holds containers this test created.

use std::time::{SystemTime, UNIX_EPOCH};

use bulkhead_testkit::{Cleanup, ServerOptions, TEST_IMAGE, docker, unique_name};
use serde_json::json;

use crate::start;

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test]
async fn info_version_and_disk_usage() {
    let server = start(ServerOptions::default()).await;

    let info = server.call("docker_system_info", json!({})).await;
    let info = info.ok()["info"].clone();
    assert!(
        !info["engine_version"].as_str().unwrap().is_empty(),
        "{info}"
    );
    assert!(info["cpus"].as_u64().unwrap() >= 1, "{info}");
    assert!(info["images"].as_u64().unwrap() >= 1, "{info}");

    let version = server.call("docker_version", json!({})).await;
    let version = version.ok()["version"].clone();
    assert!(
        !version["api_version"].as_str().unwrap().is_empty(),
        "{version}"
    );
    assert!(
        version["negotiated_api_version"]
            .as_str()
            .unwrap()
            .starts_with("1."),
        "{version}"
    );

    let usage = server.call("docker_system_df", json!({})).await;
    let usage = usage.ok().clone();
    assert!(usage["images"]["count"].as_u64().unwrap() >= 1, "{usage}");
    assert!(
        usage["images"]["size_bytes"].as_i64().unwrap() > 0,
        "{usage}"
    );

    for tool in ["docker_system_info", "docker_version", "docker_system_df"] {
        server
            .call(tool, json!({"verbose": true}))
            .await
            .expect_error("DKR-004");
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn events_window_holds_the_containers_this_test_created() {
    let mut cleanup = Cleanup::default();
    let label = format!("bulkhead-test-events={}", unique_name("ev"));
    let since = now() - 1;
    for _ in 0..2 {
        let name = cleanup.container(&unique_name("evc"));
        docker(&[
            "create", "--name", &name, "--label", &label, TEST_IMAGE, "true",
        ])
        .unwrap();
    }
    let until = now() + 1;
    let server = start(ServerOptions::default()).await;

    let batch = server
        .call(
            "docker_events",
            json!({"since": since, "until": until, "types": ["container"], "labels": [label]}),
        )
        .await;
    let batch = batch.ok().clone();
    let creates = batch["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "create")
        .count();
    assert_eq!(creates, 2, "{batch}");
    assert_eq!(batch["truncated"], json!(false), "{batch}");

    let capped = server
        .call(
            "docker_events",
            json!({"since": since, "until": until, "labels": [label], "max_events": 1}),
        )
        .await;
    let capped = capped.ok().clone();
    assert_eq!(capped["events"].as_array().unwrap().len(), 1, "{capped}");
    assert_eq!(capped["truncated"], json!(true), "{capped}");

    server
        .call("docker_events", json!({"until": now() + 3600}))
        .await
        .expect_error("DKR-004");
    server.stop().await.unwrap();
}
