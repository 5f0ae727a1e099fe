//! `docker_exec`, `docker_copy_to_container` and `docker_copy_from_container` through
//! MCP against the real engine: output, exit codes, stdin, the kill at the timeout, the
//! output cap, and files in and out with their refusals.

use base64::Engine as _;
use bulkhead_testkit::{Cleanup, ServerOptions, TEST_IMAGE, docker, unique_name};
use serde_json::{Value, json};

use crate::start;

/// A running busybox container that sleeps; removed by `cleanup`.
fn sleeper(cleanup: &mut Cleanup, prefix: &str) -> String {
    let name = cleanup.container(&unique_name(prefix));
    docker(&["run", "-d", "--name", &name, TEST_IMAGE, "sleep", "600"]).expect("container runs");
    name
}

#[tokio::test]
async fn exec_reports_output_exit_code_env_workdir_and_stdin() {
    let mut cleanup = Cleanup::default();
    let name = sleeper(&mut cleanup, "exec");
    let server = start(ServerOptions::default()).await;

    let ran = server
        .call(
            "docker_exec",
            json!({
                "container": name,
                "command": ["sh", "-c", "echo out-$GREETING; pwd; echo err-line >&2; printf '\\033[31mred\\033[0m\\n'; exit 3"],
                "env": {"GREETING": "hi"},
                "working_dir": "/tmp"
            }),
        )
        .await;
    let result = ran.ok();
    assert_eq!(result["exit_code"], json!(3), "{result}");
    assert_eq!(
        result["stdout"],
        json!("out-hi\n/tmp\nred\n"),
        "ANSI stripped: {result}"
    );
    assert_eq!(result["stderr"], json!("err-line\n"), "{result}");
    assert_eq!(result["timed_out"], json!(false));
    assert_eq!(result["truncated"], json!(false));
    assert!(
        ran.text().contains("untrusted"),
        "output is fenced: {}",
        ran.text()
    );

    let echoed = server
        .call(
            "docker_exec",
            json!({"container": name, "command": ["cat"], "stdin": "line one\nline two\n"}),
        )
        .await;
    assert_eq!(echoed.ok()["stdout"], json!("line one\nline two\n"));
    assert_eq!(echoed.ok()["exit_code"], json!(0));

    // A command that does not exist answers at once with the engine's exit code.
    let missing = server
        .call(
            "docker_exec",
            json!({"container": name, "command": ["no-such-program"]}),
        )
        .await;
    let code = missing.ok()["exit_code"].as_i64().expect("an exit code");
    assert!(code == 126 || code == 127, "{}", missing.ok());

    server
        .call(
            "docker_exec",
            json!({"container": name, "command": ["ls"], "env": {"BULKHEAD_EXEC_TOKEN": "x"}}),
        )
        .await
        .expect_error("DKR-004");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn exec_in_a_stopped_container_is_a_conflict() {
    let mut cleanup = Cleanup::default();
    let name = cleanup.container(&unique_name("exec-stopped"));
    docker(&["create", "--name", &name, TEST_IMAGE, "sleep", "600"]).unwrap();
    let server = start(ServerOptions::default()).await;
    server
        .call("docker_exec", json!({"container": name, "command": ["ls"]}))
        .await
        .expect_error("DKR-007");
    server
        .call(
            "docker_exec",
            json!({"container": unique_name("absent"), "command": ["ls"]}),
        )
        .await
        .expect_error("DKR-002");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn exec_timeout_kills_the_process_and_its_children() {
    let mut cleanup = Cleanup::default();
    let name = sleeper(&mut cleanup, "exec-timeout");
    let server = start(ServerOptions::default()).await;

    let ran = server
        .call(
            "docker_exec",
            json!({
                "container": name,
                // A child in the background and the shell itself both sleep.
                "command": ["sh", "-c", "sleep 301 & echo started; sleep 302"],
                "timeout_secs": 2
            }),
        )
        .await;
    let result = ran.ok();
    assert_eq!(result["timed_out"], json!(true), "{result}");
    assert_eq!(result["stdout"], json!("started\n"), "{result}");

    let processes = docker(&["top", &name]).unwrap();
    assert!(
        !processes.contains("sleep 301") && !processes.contains("sleep 302"),
        "the exec and its child are gone: {processes}"
    );
    assert!(
        processes.contains("sleep 600"),
        "the container itself lives: {processes}"
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn exec_output_is_capped_to_the_newest_bytes() {
    let mut cleanup = Cleanup::default();
    let name = sleeper(&mut cleanup, "exec-cap");
    let server = start(ServerOptions::default()).await;
    let ran = server
        .call(
            "docker_exec",
            json!({
                "container": name,
                "command": ["sh", "-c", "yes 0123456789 | head -c 5000000; echo; echo the-end"],
                "max_output_bytes": 4096
            }),
        )
        .await;
    let result = ran.ok();
    assert_eq!(result["truncated"], json!(true));
    assert_eq!(result["exit_code"], json!(0));
    let stdout = result["stdout"].as_str().unwrap();
    assert!(stdout.len() <= 4096, "{}", stdout.len());
    assert!(stdout.ends_with("the-end\n"), "newest bytes kept");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn files_go_in_and_come_back_out() {
    let mut cleanup = Cleanup::default();
    let name = sleeper(&mut cleanup, "files");
    let server = start(ServerOptions::default()).await;

    let written = server
        .call(
            "docker_copy_to_container",
            json!({
                "container": name,
                "path": "/tmp",
                "files": [
                    {"path": "tree/readme.txt", "content": "hello ✓\n"},
                    {"path": "tree/bin/run.sh", "content": "#!/bin/sh\necho ran\n", "mode": "0755"},
                    {"path": "tree/blob", "content_base64": base64::engine::general_purpose::STANDARD.encode([0u8, 0xff, 7])}
                ]
            }),
        )
        .await;
    let summary = written.ok();
    assert_eq!(summary["files"], json!(3), "{summary}");
    assert_eq!(summary["bytes"], json!(10 + 19 + 3), "{summary}");

    // The script is really there and executable.
    let ran = server
        .call(
            "docker_exec",
            json!({"container": name, "command": ["/tmp/tree/bin/run.sh"]}),
        )
        .await;
    assert_eq!(ran.ok()["stdout"], json!("ran\n"));

    let read = server
        .call(
            "docker_copy_from_container",
            json!({"container": name, "path": "/tmp/tree"}),
        )
        .await;
    let out = read.ok();
    assert_eq!(out["truncated"], json!(false), "{out}");
    let entry = |path: &str| -> Value {
        out["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["path"].as_str().map(|p| p.trim_end_matches('/')) == Some(path))
            .cloned()
            .unwrap_or_else(|| panic!("{path} in {out}"))
    };
    assert_eq!(entry("tree")["kind"], json!("directory"));
    assert_eq!(entry("tree/readme.txt")["content"], json!("hello ✓\n"));
    assert_eq!(entry("tree/bin/run.sh")["mode"], json!("0755"));
    assert_eq!(entry("tree/blob")["content_base64"], json!("AP8H"));
    assert!(read.text().contains("untrusted"), "{}", read.text());

    // A symlink is listed, never followed.
    docker(&[
        "exec",
        &name,
        "busybox",
        "ln",
        "-s",
        "/etc/passwd",
        "/tmp/tree/link",
    ])
    .unwrap();
    let linked = server
        .call(
            "docker_copy_from_container",
            json!({"container": name, "path": "/tmp/tree/link"}),
        )
        .await;
    let link = linked.ok()["entries"][0].clone();
    assert_eq!(link["kind"], json!("symlink"), "{link}");
    assert_eq!(link["link_target"], json!("/etc/passwd"));
    assert!(link.get("content").is_none(), "{link}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn file_copies_refuse_bad_paths_missing_paths_and_oversize() {
    let mut cleanup = Cleanup::default();
    let name = sleeper(&mut cleanup, "files-bad");
    let server = start(ServerOptions::default()).await;

    server
        .call(
            "docker_copy_from_container",
            json!({"container": name, "path": "/no/such/file"}),
        )
        .await
        .expect_error("DKR-002");
    server
        .call(
            "docker_copy_to_container",
            json!({"container": name, "path": "/tmp", "files": [{"path": "../etc/evil", "content": "x"}]}),
        )
        .await
        .expect_error("DKR-004");
    server
        .call(
            "docker_copy_from_container",
            json!({"container": name, "path": "/tmp/../etc"}),
        )
        .await
        .expect_error("DKR-004");
    // Over the server's argument limit (256 KiB), which bounds an MCP caller long
    // before the host's own 8 MiB cap on one copy (that one is unit-tested).
    let big = "x".repeat(300 << 10);
    server
        .call(
            "docker_copy_to_container",
            json!({"container": name, "path": "/tmp", "files": [{"path": "big0", "content": big}]}),
        )
        .await
        .expect_error("DKR-004");
    assert!(
        docker(&["exec", &name, "ls", "/tmp/big0"]).is_err(),
        "nothing was written"
    );
    server.stop().await.unwrap();
}
