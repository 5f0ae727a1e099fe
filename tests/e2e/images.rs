//! The image tools through MCP: reading the test image, building (inline context,
//! broken Dockerfile, refused context directory), tagging and removing what the test
//! made, pushing to and pulling from a throw-away local registry with progress
//! notifications, a registry that is not there, and a cancelled pull.

use std::time::Duration;

use bulkhead_testkit::{
    Cleanup, LocalRegistry, ServerOptions, SilentRegistry, TEST_IMAGE, docker, free_port,
    unique_name,
};
use serde_json::json;

use crate::start;

#[tokio::test]
async fn read_tools_show_the_test_image() {
    let server = start(ServerOptions::default()).await;
    let listed = server
        .call("docker_list_images", json!({"reference": TEST_IMAGE}))
        .await;
    let listed = listed.ok();
    assert_eq!(listed["total"], json!(1), "{listed}");
    assert_eq!(listed["items"][0]["repo_tags"][0], json!(TEST_IMAGE));

    let inspected = server
        .call("docker_inspect_image", json!({"image": TEST_IMAGE}))
        .await;
    let image = &inspected.ok()["image"];
    assert!(
        image["id"].as_str().unwrap().starts_with("sha256:"),
        "{image}"
    );
    assert_eq!(image["cmd"], json!(["sh"]), "{image}");
    assert_eq!(image["os"], json!("linux"));
    assert!(image["layers"].as_u64().unwrap() >= 1);

    let history = server
        .call(
            "docker_image_history",
            json!({"image": TEST_IMAGE, "limit": 1}),
        )
        .await;
    let history = history.ok();
    assert_eq!(history["layers"].as_array().unwrap().len(), 1, "{history}");
    assert!(history["total"].as_u64().unwrap() >= 1);

    server
        .call(
            "docker_inspect_image",
            json!({"image": "bulkhead-test/no-such-image:never"}),
        )
        .await
        .expect_error("DKR-003");
    server
        .call(
            "docker_image_history",
            json!({"image": "no-such-image:never"}),
        )
        .await
        .expect_error("DKR-003");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn build_tag_and_remove_an_image() {
    let mut cleanup = Cleanup::default();
    let tag = cleanup.image(&format!("{}:v1", unique_name("build")));
    let extra = cleanup.image(&format!("{}:extra", unique_name("tagged")));
    let server = start(ServerOptions::default().arg("--allow-destructive")).await;

    let (built, token) = server
        .call_with_progress(
            "docker_build_image",
            json!({
                "dockerfile": format!("FROM {TEST_IMAGE}\nCOPY greeting.txt /file\nRUN cat /file\n"),
                "files": [{"path": "greeting.txt", "content": "hello-from-the-build-context"}],
                "tags": [tag],
                "labels": {"purpose": "e2e"}
            }),
        )
        .await;
    let result = built.ok();
    let id = result["id"].as_str().unwrap().to_string();
    assert_eq!(result["tags"], json!([tag]));
    // Engine 20.10's builder turns each label into a step of its own: 3 from the
    // Dockerfile, 4 ownership labels from the host (managed, owner, plugin, session),
    // 1 from the call.
    assert_eq!(result["steps"], json!(8), "{result}");
    assert!(
        result["log_tail"]
            .as_str()
            .unwrap()
            .contains("hello-from-the-build-context"),
        "{result}"
    );
    assert!(
        built.text().contains("untrusted"),
        "the log is fenced: {}",
        built.text()
    );
    assert!(
        !server.progress(&token).is_empty(),
        "build steps are reported as progress"
    );

    let inspected = server
        .call("docker_inspect_image", json!({"image": tag}))
        .await;
    let image = &inspected.ok()["image"];
    assert_eq!(image["id"], json!(id));
    let labels = image["labels"].to_string();
    assert!(labels.contains("io.bulkhead.plugin"), "{labels}");
    assert!(labels.contains("purpose"), "{labels}");

    server
        .call("docker_tag_image", json!({"source": tag, "target": extra}))
        .await
        .ok();
    assert_eq!(
        docker(&["image", "inspect", "--format", "{{.Id}}", &extra]).unwrap(),
        id
    );

    let removed = server
        .call("docker_remove_image", json!({"image": extra}))
        .await;
    assert_eq!(
        removed.ok()["untagged"],
        json!([extra]),
        "{}",
        removed.text()
    );
    let removed = server
        .call("docker_remove_image", json!({"image": tag}))
        .await;
    assert!(
        !removed.ok()["deleted"].as_array().unwrap().is_empty(),
        "the last tag deletes the image: {}",
        removed.text()
    );
    server
        .call("docker_inspect_image", json!({"image": tag}))
        .await
        .expect_error("DKR-003");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn broken_builds_and_refused_contexts_are_typed() {
    let server = start(ServerOptions::default()).await;
    server
        .call(
            "docker_build_image",
            json!({"dockerfile": format!("FROM {TEST_IMAGE}\nFROBNICATE everything\n")}),
        )
        .await
        .expect_error("DKR-004");
    server
        .call(
            "docker_build_image",
            json!({"dockerfile": format!("FROM {TEST_IMAGE}\nRUN exit 3\n")}),
        )
        .await
        .expect_error("DKR-011");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Dockerfile"),
        format!("FROM {TEST_IMAGE}\n"),
    )
    .unwrap();
    let refused = server
        .call(
            "docker_build_image",
            json!({"context_dir": dir.path().to_str().unwrap()}),
        )
        .await;
    refused.expect_error("DKR-005");
    assert!(
        refused.text().contains("--allow-bind"),
        "{}",
        refused.text()
    );
    server
        .call(
            "docker_build_image",
            json!({"dockerfile": format!("FROM {TEST_IMAGE}\n"), "network": "host"}),
        )
        .await
        .expect_error("DKR-005");

    // Deleting tools are hidden and refused without --allow-destructive.
    let names = server.tool_names().await.unwrap();
    assert!(
        !names.contains(&"docker_prune_images".to_string()),
        "{names:?}"
    );
    assert!(
        !names.contains(&"docker_remove_image".to_string()),
        "{names:?}"
    );
    server
        .call("docker_prune_images", json!({}))
        .await
        .expect_error("DKR-008");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn push_and_pull_through_a_local_registry() {
    let registry = LocalRegistry::start().expect("docker-registry starts");
    let mut cleanup = Cleanup::default();
    let remote = cleanup.image(&format!(
        "{}/bulkhead-test/busybox:{}",
        registry.address(),
        unique_name("push")
    ));
    let server = start(ServerOptions::default()).await;
    server
        .call(
            "docker_tag_image",
            json!({"source": TEST_IMAGE, "target": remote}),
        )
        .await
        .ok();

    let (pushed, token) = server
        .call_with_progress("docker_push_image", json!({"reference": remote}))
        .await;
    let result = pushed.ok();
    let digest = result["digest"].as_str().expect("a digest").to_string();
    assert!(digest.starts_with("sha256:"), "{result}");
    assert_eq!(result["reference"], json!(remote));
    assert!(
        !server.progress(&token).is_empty(),
        "the client asked for progress and got some"
    );

    docker(&["image", "rm", &remote]).unwrap();
    let (pulled, token) = server
        .call_with_progress("docker_pull_image", json!({"reference": remote}))
        .await;
    let result = pulled.ok();
    assert_eq!(result["digest"], json!(digest), "{result}");
    assert!(!server.progress(&token).is_empty());
    let inspected = server
        .call("docker_inspect_image", json!({"image": remote}))
        .await;
    assert!(
        inspected.ok()["image"]["repo_digests"]
            .to_string()
            .contains(&digest)
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn pulling_from_a_registry_that_is_not_there_is_a_typed_error() {
    let port = free_port().unwrap();
    let server = start(ServerOptions::default()).await;
    let failed = server
        .call(
            "docker_pull_image",
            json!({"reference": format!("127.0.0.1:{port}/nothing/here:1")}),
        )
        .await;
    failed.expect_error("DKR-011");
    assert!(
        failed.text().contains("cannot be reached"),
        "{}",
        failed.text()
    );
    server
        .call("docker_pull_image", json!({"reference": "UPPER/case"}))
        .await
        .expect_error("DKR-004");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_cancelled_pull_returns_and_the_server_keeps_serving() {
    let registry = SilentRegistry::start().unwrap();
    // One call at a time and no queue: while the pull holds the slot, other calls are
    // busy; once the cancelled pull has really stopped, they are served again.
    let server = start(
        ServerOptions::default()
            .arg("--max-concurrent-calls")
            .arg("1")
            .arg("--max-queued-calls")
            .arg("0"),
    )
    .await;
    let handle = server
        .start_call(
            "docker_pull_image",
            json!({"reference": format!("{}/hangs/forever:1", registry.address())}),
        )
        .await
        .unwrap();
    for _ in 0..200 {
        if registry.connections() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        registry.connections() > 0,
        "the engine is waiting on the registry"
    );
    server
        .call("docker_list_images", json!({}))
        .await
        .expect_error("DKR-013");

    handle.cancel(Some("test".into())).await.unwrap();
    let mut served = None;
    for _ in 0..100 {
        let answer = server.call("docker_list_images", json!({"limit": 1})).await;
        if !answer.is_error() {
            served = Some(answer);
            break;
        }
        answer.expect_error("DKR-013");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    served
        .expect("the server serves again after the cancellation")
        .ok();
    server.stop().await.unwrap();
}
