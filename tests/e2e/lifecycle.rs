//! The containers plugin through MCP: a container's whole life, and the safety rails
//! around deleting one.

use std::time::Duration;

use bulkhead_testkit::{Cleanup, ServerOptions, TEST_IMAGE, docker, unique_name};
use serde_json::json;

use crate::start;

#[tokio::test]
async fn container_lifecycle_through_mcp() {
    let mut cleanup = Cleanup::default();
    let name = cleanup.container(&unique_name("life"));
    let server = start(ServerOptions::default().arg("--allow-destructive")).await;

    let mut names = server.tool_names().await.unwrap();
    names.sort();
    assert_eq!(
        names,
        crate::containers_tools(bulkhead::capabilities::Tier::Destructive)
    );

    let created = server
        .call(
            "docker_create_container",
            json!({
                "image": TEST_IMAGE,
                "name": name,
                "command": ["sh", "-c", "echo hello-from-bulkhead; printf '\\033[31mred\\033[0m\\n'; sleep 300"],
                "env": {"GREETING": "hi", "DB_PASSWORD": "hunter2"},
                "labels": {"purpose": "e2e"},
                "memory_bytes": 67108864,
                "pids_limit": 64
            }),
        )
        .await;
    let id = created.ok()["id"].as_str().expect("id").to_string();
    assert_eq!(created.ok()["name"], json!(name));
    assert!(id.len() >= 12, "{id}");

    server
        .call("docker_start_container", json!({"container": name}))
        .await
        .ok();

    let logs = poll_logs_until(&server, &name, "hello-from-bulkhead").await;
    assert!(
        !logs.contains('\u{1b}'),
        "escape sequences must be stripped: {logs:?}"
    );
    assert!(logs.contains("red"), "{logs:?}");

    let inspected = server
        .call("docker_inspect_container", json!({"container": name}))
        .await;
    let details = inspected.ok()["container"].clone();
    assert_eq!(details["state"]["running"], json!(true), "{details}");
    let rendered = details.to_string() + &inspected.text();
    assert!(
        !rendered.contains("hunter2"),
        "secret env values must be redacted: {rendered}"
    );
    assert!(rendered.contains("GREETING=hi"), "{rendered}");
    assert!(
        rendered.contains("io.bulkhead.managed"),
        "host adds ownership labels: {rendered}"
    );

    let listed = server
        .call("docker_list_containers", json!({"name": name}))
        .await;
    let listed = listed.ok();
    assert_eq!(listed["total"], json!(1), "{listed}");
    assert_eq!(listed["items"][0]["state"], json!("running"), "{listed}");

    server
        .call(
            "docker_stop_container",
            json!({"container": name, "timeout": 1}),
        )
        .await
        .ok();
    let stopped = server
        .call("docker_inspect_container", json!({"container": name}))
        .await;
    assert_eq!(stopped.ok()["container"]["state"]["running"], json!(false));
    // Stopping again is fine (idempotent).
    server
        .call("docker_stop_container", json!({"container": name}))
        .await
        .ok();

    server
        .call("docker_remove_container", json!({"container": name}))
        .await
        .ok();
    server
        .call("docker_inspect_container", json!({"container": name}))
        .await
        .expect_error("DKR-002");
    assert!(
        docker(&["inspect", &name]).is_err(),
        "the container is really gone"
    );
    server.stop().await.unwrap();
}

async fn poll_logs_until(server: &bulkhead_testkit::Server, name: &str, needle: &str) -> String {
    let mut last = String::new();
    for _ in 0..50 {
        let answer = server
            .call(
                "docker_container_logs",
                json!({"container": name, "tail": 50}),
            )
            .await;
        last = answer.ok()["logs"].as_str().unwrap_or_default().to_string();
        if last.contains(needle) {
            assert!(
                answer.text().contains(needle),
                "text rendering carries the logs too"
            );
            return last;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("logs never contained {needle:?}: {last:?}");
}

#[tokio::test]
async fn removal_is_hidden_and_refused_without_allow_destructive() {
    let mut cleanup = Cleanup::default();
    let name = cleanup.container(&unique_name("keep"));
    docker(&["create", "--name", &name, TEST_IMAGE, "true"]).unwrap();

    let server = start(ServerOptions::default()).await;
    let names = server.tool_names().await.unwrap();
    assert_eq!(names.len(), crate::default_tools().len(), "{names:?}");
    assert!(!names.iter().any(|n| n == "docker_remove_container"));

    let refused = server
        .call(
            "docker_remove_container",
            json!({"container": name, "force": true}),
        )
        .await;
    refused.expect_error("DKR-008");
    assert!(
        refused.text().contains("--allow-destructive"),
        "{}",
        refused.text()
    );
    assert!(docker(&["inspect", &name]).is_ok(), "nothing was deleted");
}

#[tokio::test]
async fn read_only_mode_serves_only_reads() {
    let server = start(ServerOptions::default().arg("--read-only")).await;
    let mut names = server.tool_names().await.unwrap();
    names.sort();
    assert_eq!(
        names,
        crate::containers_tools(bulkhead::capabilities::Tier::Read)
    );
    server
        .call("docker_create_container", json!({"image": TEST_IMAGE}))
        .await
        .expect_error("DKR-008");
}

#[tokio::test]
async fn running_container_is_not_removed_without_force() {
    let mut cleanup = Cleanup::default();
    let name = cleanup.container(&unique_name("running"));
    docker(&["run", "-d", "--name", &name, TEST_IMAGE, "sleep", "300"]).unwrap();

    let server = start(ServerOptions::default().arg("--allow-destructive")).await;
    server
        .call("docker_remove_container", json!({"container": name}))
        .await
        .expect_error("DKR-007");
    assert!(docker(&["inspect", &name]).is_ok(), "still there");
    server
        .call(
            "docker_remove_container",
            json!({"container": name, "force": true}),
        )
        .await
        .ok();
    assert!(docker(&["inspect", &name]).is_err(), "removed when forced");
}

#[tokio::test]
async fn annotations_follow_capabilities() {
    let server = start(ServerOptions::default().arg("--allow-destructive")).await;
    let tools = server.tools().await.unwrap();
    let hints = |name: &str| {
        let tool = tools
            .iter()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("{name} listed"));
        let a = tool.annotations.clone().expect("annotations");
        assert!(
            tool.output_schema.is_some(),
            "{name} declares an output schema"
        );
        (a.read_only_hint, a.destructive_hint, a.idempotent_hint)
    };
    assert_eq!(
        hints("docker_list_containers"),
        (Some(true), Some(false), Some(true))
    );
    assert_eq!(
        hints("docker_container_logs"),
        (Some(true), Some(false), Some(true))
    );
    assert_eq!(
        hints("docker_create_container"),
        (Some(false), Some(false), Some(false))
    );
    assert_eq!(
        hints("docker_stop_container"),
        (Some(false), Some(false), Some(true))
    );
    assert_eq!(
        hints("docker_remove_container"),
        (Some(false), Some(true), Some(false))
    );
}

#[tokio::test]
async fn list_paginates_with_a_cursor() {
    let mut cleanup = Cleanup::default();
    let label = unique_name("page");
    for i in 0..3 {
        let name = cleanup.container(&format!("{label}-{i}"));
        docker(&[
            "create",
            "--name",
            &name,
            "--label",
            &format!("bulkhead.test={label}"),
            TEST_IMAGE,
            "true",
        ])
        .unwrap();
    }
    let server = start(ServerOptions::default()).await;
    let filter = format!("bulkhead.test={label}");
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..3 {
        let mut args = json!({"all": true, "labels": [filter], "limit": 2});
        if let Some(c) = &cursor {
            args["cursor"] = json!(c);
        }
        let page = server.call("docker_list_containers", args).await;
        let page = page.ok().clone();
        assert_eq!(page["total"], json!(3), "{page}");
        for c in page["items"].as_array().unwrap() {
            seen.push(c["names"][0].as_str().unwrap().to_string());
        }
        cursor = page["next_cursor"].as_str().map(str::to_string);
        assert_eq!(page["has_more"], json!(cursor.is_some()));
        if cursor.is_none() {
            break;
        }
    }
    seen.sort();
    assert_eq!(
        seen,
        (0..3).map(|i| format!("{label}-{i}")).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn logs_are_capped_and_keep_the_newest_lines() {
    let mut cleanup = Cleanup::default();
    let name = cleanup.container(&unique_name("chatty"));
    // Runs to completion: 20 000 lines, about 110 KB of output.
    docker(&["run", "--name", &name, TEST_IMAGE, "seq", "1", "20000"]).unwrap();
    let server = start(ServerOptions::default()).await;

    let capped = server
        .call(
            "docker_container_logs",
            json!({"container": name, "tail": 10000, "max_bytes": 2048}),
        )
        .await;
    let out = capped.ok();
    assert_eq!(out["truncated"], json!(true), "{out}");
    let logs = out["logs"].as_str().unwrap();
    assert!(logs.len() <= 2048, "{}", logs.len());
    assert!(
        logs.trim_end().ends_with("\n20000"),
        "newest lines kept: {logs:?}"
    );

    let default = server
        .call("docker_container_logs", json!({"container": name}))
        .await;
    let out = default.ok();
    assert_eq!(out["lines"], json!(100), "logs default to a tail: {out}");
    assert!(
        out["logs"].as_str().unwrap().starts_with("19901\n"),
        "{out}"
    );
}

#[tokio::test]
async fn a_taken_host_port_is_dkr_006() {
    let mut cleanup = Cleanup::default();
    let name = cleanup.container(&unique_name("port"));
    // Hold a loopback port so the engine cannot bind it.
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port();
    let server = start(ServerOptions::default()).await;
    server
        .call(
            "docker_create_container",
            json!({
                "image": TEST_IMAGE,
                "name": name,
                "command": ["sleep", "30"],
                "ports": [{"container_port": 80, "host_port": port}]
            }),
        )
        .await
        .ok();
    let answer = server
        .call("docker_start_container", json!({"container": name}))
        .await;
    answer.expect_error("DKR-006");
    drop(holder);
}
