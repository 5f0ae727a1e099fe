//! The rest of the container surface through MCP: stats, top, changes, restart, pause,
//! kill, rename, wait, run and prune, each on its happy path and a failure path; and the
//! operator's argument policy on create (mounts, ports, resources), refusal by refusal.

use std::path::Path;

use bulkhead_testkit::{Cleanup, Server, ServerOptions, TEST_IMAGE, docker, unique_name};
use serde_json::{Value, json};

use crate::start;

/// A running `sleep 300` container made with the docker CLI (setup, not under test).
fn sleeper(cleanup: &mut Cleanup, prefix: &str) -> String {
    let name = cleanup.container(&unique_name(prefix));
    docker(&["run", "-d", "--name", &name, TEST_IMAGE, "sleep", "300"]).unwrap();
    name
}

fn inspect(name: &str, format: &str) -> String {
    docker(&["inspect", "--format", format, name]).unwrap()
}

#[tokio::test]
async fn stats_of_a_running_container() {
    let mut cleanup = Cleanup::default();
    let name = sleeper(&mut cleanup, "stats");
    let server = start(ServerOptions::default()).await;
    let answer = server
        .call("docker_container_stats", json!({"container": name}))
        .await;
    let stats = &answer.ok()["stats"];
    assert_eq!(stats["running"], json!(true), "{stats}");
    assert!(stats["pids"].as_u64().unwrap() >= 1, "{stats}");
    assert!(stats["memory_limit_bytes"].as_u64().unwrap() > 0, "{stats}");
    assert!(stats["memory_usage_bytes"].as_u64().unwrap() > 0, "{stats}");
    assert!(stats["online_cpus"].as_u64().unwrap() >= 1, "{stats}");
    server
        .call(
            "docker_container_stats",
            json!({"container": unique_name("absent")}),
        )
        .await
        .expect_error("DKR-002");
}

#[tokio::test]
async fn top_lists_processes_and_redacts_arguments() {
    let mut cleanup = Cleanup::default();
    let (name, _) = cleanup.detached_shell("top", "sleep 300 --password=hunter2 || sleep 300");
    let server = start(ServerOptions::default()).await;
    let answer = server
        .call("docker_container_top", json!({"container": name}))
        .await;
    let out = answer.ok();
    let titles = out["titles"].as_array().unwrap();
    assert!(titles.iter().any(|t| t == "PID"), "{out}");
    assert!(out["total"].as_u64().unwrap() >= 1, "{out}");
    let rendered = out.to_string() + &answer.text();
    assert!(rendered.contains("sleep"), "{rendered}");
    assert!(!rendered.contains("hunter2"), "{rendered}");
    assert!(answer.text().contains("```"), "process rows are fenced");

    let stopped = cleanup.container(&unique_name("top-stopped"));
    docker(&["create", "--name", &stopped, TEST_IMAGE, "true"]).unwrap();
    server
        .call("docker_container_top", json!({"container": stopped}))
        .await
        .expect_error("DKR-007");
}

#[tokio::test]
async fn changes_list_the_diff_one_page_at_a_time() {
    let mut cleanup = Cleanup::default();
    let name = cleanup.container(&unique_name("diff"));
    docker(&[
        "run",
        "--name",
        &name,
        TEST_IMAGE,
        "sh",
        "-c",
        "echo x > /tmp/added-by-test; mkdir /made-by-test",
    ])
    .unwrap();
    let server = start(ServerOptions::default()).await;
    let all = server
        .call("docker_container_changes", json!({"container": name}))
        .await;
    let out = all.ok();
    let items = out["items"].as_array().unwrap();
    assert!(
        items.contains(&json!({"path": "/tmp/added-by-test", "kind": "added"})),
        "{out}"
    );
    assert!(
        items.contains(&json!({"path": "/tmp", "kind": "modified"})),
        "{out}"
    );
    assert!(
        all.text().contains("A /tmp/added-by-test"),
        "{}",
        all.text()
    );

    let first = server
        .call(
            "docker_container_changes",
            json!({"container": name, "limit": 1}),
        )
        .await;
    let first = first.ok();
    assert_eq!(first["items"].as_array().unwrap().len(), 1);
    assert_eq!(first["has_more"], json!(true), "{first}");
    assert_eq!(first["total"], out["total"]);

    server
        .call(
            "docker_container_changes",
            json!({"container": unique_name("absent")}),
        )
        .await
        .expect_error("DKR-002");
}

#[tokio::test]
async fn restart_pause_and_unpause() {
    let mut cleanup = Cleanup::default();
    let name = sleeper(&mut cleanup, "state");
    let started = inspect(&name, "{{.State.StartedAt}}");
    let server = start(ServerOptions::default()).await;

    let restarted = server
        .call(
            "docker_restart_container",
            json!({"container": name, "timeout": 0}),
        )
        .await;
    assert_eq!(restarted.ok()["action"], json!("restarted"));
    assert_eq!(inspect(&name, "{{.State.Running}}"), "true");
    assert_ne!(inspect(&name, "{{.State.StartedAt}}"), started);

    server
        .call("docker_pause_container", json!({"container": name}))
        .await
        .ok();
    assert_eq!(inspect(&name, "{{.State.Paused}}"), "true");
    server
        .call("docker_unpause_container", json!({"container": name}))
        .await
        .ok();
    assert_eq!(inspect(&name, "{{.State.Paused}}"), "false");

    // Not paused any more: unpausing again conflicts with its state.
    server
        .call("docker_unpause_container", json!({"container": name}))
        .await
        .expect_error("DKR-007");
    server
        .call(
            "docker_restart_container",
            json!({"container": unique_name("absent")}),
        )
        .await
        .expect_error("DKR-002");
}

#[tokio::test]
async fn kill_sends_a_validated_signal() {
    let mut cleanup = Cleanup::default();
    let name = sleeper(&mut cleanup, "kill");
    let server = start(ServerOptions::default()).await;

    server
        .call(
            "docker_kill_container",
            json!({"container": name, "signal": "SIGFOO"}),
        )
        .await
        .expect_error("DKR-004");
    server
        .call(
            "docker_kill_container",
            json!({"container": name, "signal": "65"}),
        )
        .await
        .expect_error("DKR-004");
    assert_eq!(inspect(&name, "{{.State.Running}}"), "true", "nothing sent");

    server
        .call(
            "docker_kill_container",
            json!({"container": name, "signal": "KILL"}),
        )
        .await
        .ok();
    assert_eq!(inspect(&name, "{{.State.Running}}"), "false");
    assert_eq!(inspect(&name, "{{.State.ExitCode}}"), "137");
    // Not running any more.
    server
        .call("docker_kill_container", json!({"container": name}))
        .await
        .expect_error("DKR-007");
}

#[tokio::test]
async fn rename_validates_the_new_name() {
    let mut cleanup = Cleanup::default();
    let name = cleanup.container(&unique_name("rename-from"));
    let new_name = cleanup.container(&unique_name("rename-to"));
    let taken = cleanup.container(&unique_name("rename-taken"));
    docker(&["create", "--name", &name, TEST_IMAGE, "true"]).unwrap();
    docker(&["create", "--name", &taken, TEST_IMAGE, "true"]).unwrap();
    let server = start(ServerOptions::default()).await;

    server
        .call(
            "docker_rename_container",
            json!({"container": name, "new_name": "../etc"}),
        )
        .await
        .expect_error("DKR-004");
    server
        .call(
            "docker_rename_container",
            json!({"container": name, "new_name": taken}),
        )
        .await
        .expect_error("DKR-007");
    let renamed = server
        .call(
            "docker_rename_container",
            json!({"container": name, "new_name": new_name}),
        )
        .await;
    assert_eq!(renamed.ok()["container"], json!(new_name));
    assert_eq!(inspect(&new_name, "{{.Name}}"), format!("/{new_name}"));
}

#[tokio::test]
async fn wait_returns_the_exit_code_or_still_running() {
    let mut cleanup = Cleanup::default();
    let done = cleanup.container(&unique_name("wait-done"));
    docker(&["run", "--name", &done, TEST_IMAGE, "sh", "-c", "exit 3"]).unwrap_or_default();
    let sleeping = sleeper(&mut cleanup, "wait-sleep");
    let server = start(ServerOptions::default()).await;

    let exited = server
        .call("docker_wait_container", json!({"container": done}))
        .await;
    assert_eq!(exited.ok()["exit_code"], json!(3), "{}", exited.text());
    assert_eq!(exited.ok()["still_running"], json!(false));

    let waiting = server
        .call(
            "docker_wait_container",
            json!({"container": sleeping, "timeout_secs": 2}),
        )
        .await;
    assert_eq!(
        waiting.ok()["still_running"],
        json!(true),
        "{}",
        waiting.text()
    );
    assert_eq!(waiting.ok()["exit_code"], Value::Null);
    assert_eq!(
        inspect(&sleeping, "{{.State.Running}}"),
        "true",
        "left running"
    );

    // Beyond what fits in a call's deadline: refused by the schema.
    server
        .call(
            "docker_wait_container",
            json!({"container": sleeping, "timeout_secs": 120}),
        )
        .await
        .expect_error("DKR-004");
    server
        .call(
            "docker_wait_container",
            json!({"container": unique_name("absent")}),
        )
        .await
        .expect_error("DKR-002");
}

#[tokio::test]
async fn run_returns_exit_code_and_output() {
    let mut cleanup = Cleanup::default();
    let name = cleanup.container(&unique_name("run"));
    let server = start(ServerOptions::default()).await;
    let answer = server
        .call(
            "docker_run_container",
            json!({
                "image": TEST_IMAGE,
                "name": name,
                "command": ["sh", "-c", "echo hello-from-run; echo to-stderr >&2; exit 3"],
                "mounts": [{"type": "tmpfs", "target": "/scratch", "tmpfs_size_bytes": 1048576}]
            }),
        )
        .await;
    let out = answer.ok();
    assert_eq!(out["exit_code"], json!(3), "{out}");
    assert_eq!(out["still_running"], json!(false));
    assert_eq!(out["name"], json!(name));
    let logs = out["logs"].as_str().unwrap();
    assert!(logs.contains("hello-from-run"), "{logs:?}");
    assert!(logs.contains("to-stderr"), "{logs:?}");
    let text = answer.text();
    assert!(text.contains("exited with code 3"), "{text}");
    assert!(text.contains("```"), "output is fenced: {text}");
    assert_eq!(inspect(&name, "{{.State.Running}}"), "false");

    server
        .call(
            "docker_run_container",
            json!({"image": "bulkhead-test/no-such-image:never"}),
        )
        .await
        .expect_error("DKR-003");
}

#[tokio::test]
async fn run_leaves_a_long_container_running_at_the_limit() {
    let mut cleanup = Cleanup::default();
    let name = cleanup.container(&unique_name("run-long"));
    let server = start(ServerOptions::default()).await;
    let answer = server
        .call(
            "docker_run_container",
            json!({
                "image": TEST_IMAGE,
                "name": name,
                "command": ["sh", "-c", "echo started; sleep 300"],
                "timeout_secs": 2
            }),
        )
        .await;
    let out = answer.ok();
    assert_eq!(out["still_running"], json!(true), "{out}");
    assert_eq!(out["exit_code"], Value::Null);
    assert!(answer.text().contains("left running"), "{}", answer.text());
    assert_eq!(inspect(&name, "{{.State.Running}}"), "true");
}

#[tokio::test]
async fn prune_is_hidden_and_refused_without_allow_destructive() {
    let mut cleanup = Cleanup::default();
    let name = cleanup.container(&unique_name("prune-keep"));
    let label = format!("bulkhead.test={}", unique_name("prune-keep"));
    docker(&[
        "create", "--name", &name, "--label", &label, TEST_IMAGE, "true",
    ])
    .unwrap();
    let server = start(ServerOptions::default()).await;
    let names = server.tool_names().await.unwrap();
    assert!(
        !names.iter().any(|n| n == "docker_prune_containers"),
        "{names:?}"
    );
    server
        .call("docker_prune_containers", json!({"labels": [label]}))
        .await
        .expect_error("DKR-008");
    assert!(docker(&["inspect", &name]).is_ok(), "nothing was deleted");
}

#[tokio::test]
async fn prune_removes_only_stopped_containers_with_the_label() {
    let mut cleanup = Cleanup::default();
    let label = format!("bulkhead.test={}", unique_name("prune"));
    let stopped: Vec<String> = (0..2)
        .map(|i| {
            let name = cleanup.container(&unique_name(&format!("prune-stopped{i}")));
            docker(&[
                "create", "--name", &name, "--label", &label, TEST_IMAGE, "true",
            ])
            .unwrap();
            name
        })
        .collect();
    let running = cleanup.container(&unique_name("prune-running"));
    docker(&[
        "run", "-d", "--name", &running, "--label", &label, TEST_IMAGE, "sleep", "300",
    ])
    .unwrap();
    let unlabelled = cleanup.container(&unique_name("prune-other"));
    docker(&["create", "--name", &unlabelled, TEST_IMAGE, "true"]).unwrap();

    let server = start(ServerOptions::default().arg("--allow-destructive")).await;
    server
        .call(
            "docker_prune_containers",
            json!({"labels": [label], "until": "yesterday"}),
        )
        .await
        .expect_error("DKR-004");
    let answer = server
        .call("docker_prune_containers", json!({"labels": [label]}))
        .await;
    let report = answer.ok();
    assert_eq!(report["deleted_total"], json!(2), "{report}");
    assert_eq!(report["deleted"].as_array().unwrap().len(), 2);
    for name in &stopped {
        assert!(docker(&["inspect", name]).is_err(), "{name} pruned");
    }
    assert!(docker(&["inspect", &running]).is_ok(), "running kept");
    assert!(docker(&["inspect", &unlabelled]).is_ok(), "unlabelled kept");
}

// --- The operator's argument policy on create -------------------------------------

/// Creates with `extra` merged into a minimal spec and expects a policy refusal
/// (DKR-005) naming `rule`; nothing may have been created.
async fn expect_refused(server: &Server, extra: Value, rule: &str) {
    let mut cleanup = Cleanup::default();
    let name = cleanup.container(&unique_name("refused"));
    let mut args = json!({"image": TEST_IMAGE, "name": name, "command": ["true"]});
    for (key, value) in extra.as_object().unwrap() {
        args[key] = value.clone();
    }
    let answer = server.call("docker_create_container", args).await;
    answer.expect_error("DKR-005");
    assert!(
        answer.text().contains(&format!("rule: {rule}")),
        "{}",
        answer.text()
    );
    assert!(docker(&["inspect", &name]).is_err(), "nothing created");
}

fn bind(source: &str) -> Value {
    json!({"mounts": [{"type": "bind", "source": source, "target": "/data"}]})
}

/// A server that allows binds from a fresh directory, and that directory.
async fn server_allowing_binds() -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    std::fs::write(dir.path().join("data/hello.txt"), "hello from the host\n").unwrap();
    let root = dir.path().display().to_string();
    let server = start(ServerOptions::default().arg("--allow-bind").arg(root)).await;
    (server, dir)
}

fn path_in(dir: &tempfile::TempDir, rel: &str) -> String {
    dir.path().join(rel).display().to_string()
}

#[tokio::test]
async fn bind_without_allowed_dirs_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(ServerOptions::default()).await;
    expect_refused(
        &server,
        bind(&dir.path().display().to_string()),
        "bind-outside-allowed-dirs",
    )
    .await;
}

#[tokio::test]
async fn bind_of_etc_is_refused_even_with_allow_bind() {
    let (server, _dir) = server_allowing_binds().await;
    expect_refused(&server, bind("/etc"), "sensitive-path").await;
}

#[tokio::test]
async fn symlink_under_an_allowed_dir_to_etc_is_refused() {
    let (server, dir) = server_allowing_binds().await;
    std::os::unix::fs::symlink("/etc", dir.path().join("data/innocent")).unwrap();
    expect_refused(
        &server,
        bind(&path_in(&dir, "data/innocent")),
        "sensitive-path",
    )
    .await;
}

#[tokio::test]
async fn bind_of_the_docker_socket_is_refused() {
    let (server, _dir) = server_allowing_binds().await;
    expect_refused(&server, bind("/var/run/docker.sock"), "sensitive-path").await;
}

fn volume_with(options: Value) -> Value {
    json!({"mounts": [{
        "type": "volume",
        "source": unique_name("disguised"),
        "target": "/data",
        "volume_options": options
    }]})
}

#[tokio::test]
async fn volume_driver_opts_bind_of_etc_is_refused() {
    let (server, _dir) = server_allowing_binds().await;
    expect_refused(
        &server,
        volume_with(json!({"type": "none", "o": "bind", "device": "/etc"})),
        "sensitive-path",
    )
    .await;
}

#[tokio::test]
async fn volume_o_bind_with_device_is_checked_as_a_bind() {
    let server = start(ServerOptions::default()).await;
    expect_refused(
        &server,
        volume_with(json!({"o": "bind", "device": "/etc"})),
        "sensitive-path",
    )
    .await;
}

#[tokio::test]
async fn publishing_on_every_interface_is_refused() {
    let server = start(ServerOptions::default()).await;
    expect_refused(
        &server,
        json!({"ports": [{"container_port": 80, "host_port": 18080, "host_ip": "0.0.0.0"}]}),
        "public-port",
    )
    .await;
}

#[tokio::test]
async fn a_privileged_host_port_is_refused() {
    let server = start(ServerOptions::default()).await;
    expect_refused(
        &server,
        json!({"ports": [{"container_port": 80, "host_port": 80}]}),
        "privileged-port",
    )
    .await;
}

#[tokio::test]
async fn memory_above_the_ceiling_is_refused() {
    let server = start(ServerOptions::default().arg("--max-memory").arg("64")).await;
    expect_refused(
        &server,
        json!({"memory_bytes": 128 * 1024 * 1024}),
        "memory-ceiling",
    )
    .await;
}

#[tokio::test]
async fn an_allowed_bind_mounts_and_defaults_are_applied() {
    let mut cleanup = Cleanup::default();
    let name = cleanup.container(&unique_name("bind"));
    let (server, dir) = server_allowing_binds().await;
    let answer = server
        .call(
            "docker_run_container",
            json!({
                "image": TEST_IMAGE,
                "name": name,
                "command": ["cat", "/data/hello.txt"],
                "mounts": [{"type": "bind", "source": path_in(&dir, "data"), "target": "/data", "read_only": true}],
                "timeout_secs": 20
            }),
        )
        .await;
    let out = answer.ok();
    assert_eq!(out["exit_code"], json!(0), "{out}");
    assert!(
        out["logs"]
            .as_str()
            .unwrap()
            .contains("hello from the host"),
        "{out}"
    );

    let inspected = server
        .call("docker_inspect_container", json!({"container": name}))
        .await;
    let mounts = inspected.ok()["container"]["mounts"].clone();
    let canonical = std::fs::canonicalize(dir.path().join("data")).unwrap();
    assert_eq!(mounts[0]["kind"], json!("bind"), "{mounts}");
    assert_eq!(
        mounts[0]["source"],
        json!(canonical.display().to_string()),
        "{mounts}"
    );
    assert_eq!(mounts[0]["destination"], json!("/data"));
    assert_eq!(mounts[0]["read_write"], json!(false));

    // Defaults the agent did not ask for, as the engine recorded them.
    assert_eq!(inspect(&name, "{{.HostConfig.PidsLimit}}"), "1024");
    assert_eq!(
        inspect(&name, "{{.HostConfig.LogConfig.Type}}"),
        "json-file"
    );
    assert_eq!(
        inspect(&name, "{{index .HostConfig.LogConfig.Config \"max-size\"}}"),
        "10m"
    );
    assert_eq!(
        inspect(&name, "{{index .HostConfig.LogConfig.Config \"max-file\"}}"),
        "3"
    );
    assert_eq!(
        inspect(&name, "{{json .HostConfig.SecurityOpt}}"),
        r#"["no-new-privileges:true"]"#
    );
    assert!(Path::new(&path_in(&dir, "data/hello.txt")).exists());
}
