//! The sandbox plugin through MCP against the real engine: every hardening default as
//! `docker inspect` shows it, limits that hold (timeouts, pids, memory, network, the
//! read-only root), ownership across two principals, the port pool across two
//! processes, and the idle reaper.

use std::time::Duration;

use bulkhead_testkit::{Server, ServerOptions, TEST_IMAGE, docker, unique_name};
use serde_json::{Value, json};

use crate::start;

/// The Python test image (scripts/build-python-image.sh).
const PYTHON_IMAGE: &str = "bulkhead-test/python:latest";

/// Removes, on drop, every container and volume of the sandboxes a test made (found by
/// the principal the test gave its servers).
struct SandboxCleanup {
    principal: String,
}

impl SandboxCleanup {
    fn new(prefix: &str) -> Self {
        SandboxCleanup {
            principal: unique_name(prefix),
        }
    }
}

impl Drop for SandboxCleanup {
    fn drop(&mut self) {
        let filter = format!("label=io.bulkhead.owner={}", self.principal);
        if let Ok(ids) = docker(&["ps", "-aq", "--filter", &filter]) {
            for id in ids.lines().filter(|l| !l.is_empty()) {
                let _ = docker(&["rm", "-f", id]);
            }
        }
        if let Ok(names) = docker(&["volume", "ls", "-q", "--filter", &filter]) {
            for name in names.lines().filter(|l| !l.is_empty()) {
                let _ = docker(&["volume", "rm", "-f", name]);
            }
        }
    }
}

/// A server acting for `principal`, with `policy` as its policy file.
async fn server(principal: &str, policy: &str) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.toml");
    std::fs::write(
        &file,
        format!("[server]\nprincipal = \"{principal}\"\n{policy}"),
    )
    .unwrap();
    let server = start(
        ServerOptions::default()
            .arg("--policy")
            .arg(file.display().to_string()),
    )
    .await;
    (server, dir)
}

fn inspect(id: &str, format: &str) -> String {
    docker(&["inspect", "-f", format, id]).unwrap()
}

async fn create(server: &Server, args: Value) -> Value {
    server.call("sandbox_create", args).await.ok().clone()
}

async fn exec(server: &Server, sandbox: &str, command: &str) -> Value {
    server
        .call(
            "sandbox_exec",
            json!({"sandbox": sandbox, "command": command, "timeout_secs": 15}),
        )
        .await
        .ok()
        .clone()
}

#[tokio::test]
async fn every_hardening_default_shows_in_docker_inspect() {
    let owner = SandboxCleanup::new("sbx-hard");
    let (server, _dir) = server(&owner.principal, "").await;
    let created = create(&server, json!({"image": TEST_IMAGE, "name": "hard"})).await;
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["existing"], json!(false));

    assert_eq!(
        inspect(&id, "{{.HostConfig.Memory}}"),
        (1u64 << 30).to_string()
    );
    assert_eq!(inspect(&id, "{{.HostConfig.NanoCpus}}"), "1000000000");
    assert_eq!(inspect(&id, "{{.HostConfig.PidsLimit}}"), "512");
    assert_eq!(inspect(&id, "{{.HostConfig.NetworkMode}}"), "none");
    assert_eq!(inspect(&id, "{{.HostConfig.CapDrop}}"), "[ALL]");
    assert_eq!(inspect(&id, "{{.HostConfig.CapAdd}}"), "[]");
    assert_eq!(
        inspect(&id, "{{.HostConfig.SecurityOpt}}"),
        "[no-new-privileges:true]"
    );
    assert_eq!(inspect(&id, "{{.HostConfig.ReadonlyRootfs}}"), "true");
    assert_eq!(inspect(&id, "{{.HostConfig.Privileged}}"), "false");
    assert_eq!(inspect(&id, "{{.HostConfig.Init}}"), "true");
    assert_eq!(inspect(&id, "{{.HostConfig.Binds}}"), "[]");
    assert_eq!(inspect(&id, "{{.Config.User}}"), "1000:1000");
    assert_eq!(inspect(&id, "{{.HostConfig.LogConfig.Type}}"), "json-file");
    let mounts = inspect(
        &id,
        "{{range .HostConfig.Mounts}}{{.Type}}:{{.Target}}:{{if .TmpfsOptions}}{{.TmpfsOptions.SizeBytes}}{{end}} {{end}}",
    );
    assert_eq!(mounts.trim(), "volume:/workspace: tmpfs:/tmp:67108864");
    assert_eq!(
        inspect(
            &id,
            "{{index .Config.Labels \"io.bulkhead.owner\"}} {{index .Config.Labels \"io.bulkhead.plugin\"}} {{index .Config.Labels \"io.bulkhead.idle-ttl\"}}"
        ),
        format!("{} sandbox 3600", owner.principal)
    );
    let workspace = created["workspace"].as_str().unwrap().to_string();
    assert_eq!(
        docker(&[
            "volume",
            "inspect",
            "-f",
            "{{index .Labels \"io.bulkhead.owner\"}}",
            &workspace
        ])
        .unwrap(),
        owner.principal
    );

    // The same name again is the same sandbox.
    let again = create(&server, json!({"image": TEST_IMAGE, "name": "hard"})).await;
    assert_eq!(again["existing"], json!(true));
    assert_eq!(again["id"], json!(id));

    // What runs inside is confined.
    let me = exec(
        &server,
        "hard",
        "id -u; touch /workspace/ok && touch /tmp/ok && echo writable",
    )
    .await;
    assert_eq!(me["stdout"], json!("1000\nwritable\n"), "{me}");
    let root = exec(
        &server,
        "hard",
        "touch /etc/evil || touch /bin/evil || echo refused",
    )
    .await;
    assert!(
        root["stdout"].as_str().unwrap().contains("refused"),
        "{root}"
    );
    let net = exec(
        &server,
        "hard",
        "wget -q -T 2 -O- http://1.1.1.1/ && echo reached || echo offline",
    )
    .await;
    assert!(net["stdout"].as_str().unwrap().contains("offline"), "{net}");

    let info = server
        .call("sandbox_info", json!({"sandbox": "hard"}))
        .await;
    let info = info.ok();
    assert_eq!(info["capabilities_dropped"], json!(true));
    assert_eq!(info["network"], json!("none"));
    assert_eq!(info["pids_limit"], json!(512));
    assert!(info["idle_secs"].as_u64().is_some(), "{info}");
    assert_eq!(info["idle_ttl_secs"], json!(3600));

    // Files stay in the workspace (or /tmp for reading).
    server
        .call(
            "sandbox_write_file",
            json!({"sandbox": "hard", "path": "/etc/passwd", "content": "x"}),
        )
        .await
        .expect_error("DKR-004");
    server
        .call(
            "sandbox_write_file",
            json!({"sandbox": "hard", "path": "notes/a.txt", "content": "hello"}),
        )
        .await
        .ok();
    let owned = exec(
        &server,
        "hard",
        "stat -c %u /workspace/notes/a.txt && cat /workspace/notes/a.txt",
    )
    .await;
    assert_eq!(owned["stdout"], json!("1000\nhello"), "{owned}");
    let read = server
        .call(
            "sandbox_read_file",
            json!({"sandbox": "hard", "path": "notes/a.txt"}),
        )
        .await;
    assert_eq!(read.ok()["content"], json!("hello"));

    // Destroy keeps the workspace unless asked.
    let destroyed = server
        .call("sandbox_destroy", json!({"sandbox": "hard"}))
        .await;
    assert_eq!(destroyed.ok()["sandboxes"], json!(["hard"]));
    assert!(docker(&["inspect", &id]).is_err(), "the container is gone");
    docker(&["volume", "inspect", &workspace]).expect("the workspace is kept");
}

#[tokio::test]
async fn timeouts_pids_and_memory_limits_hold() {
    let owner = SandboxCleanup::new("sbx-limits");
    let (server, _dir) = server(&owner.principal, "").await;
    create(
        &server,
        json!({"image": TEST_IMAGE, "name": "tight", "pids": 32, "memory_mb": 32}),
    )
    .await;

    // A call may ask for less than the ceilings (1 GiB here), never more.
    let greedy = server
        .call(
            "sandbox_create",
            json!({"image": TEST_IMAGE, "memory_mb": 4096}),
        )
        .await;
    greedy.expect_error("DKR-005");
    assert!(
        greedy.text().contains("memory-ceiling"),
        "{}",
        greedy.text()
    );

    // Past its timeout the command and what it started are killed, with the output so far.
    let slow = server
        .call(
            "sandbox_exec",
            json!({"sandbox": "tight", "command": "echo started; sleep 300 & sleep 300; echo never", "timeout_secs": 2}),
        )
        .await;
    let slow = slow.ok();
    assert_eq!(slow["timed_out"], json!(true), "{slow}");
    assert_eq!(slow["stdout"], json!("started\n"));
    let left = exec(
        &server,
        "tight",
        "ps -o args | grep -c '^sleep 300' || true",
    )
    .await;
    assert_eq!(left["stdout"], json!("0\n"), "no sleeper survives: {left}");

    // A fork bomb stops at the pids limit.
    let bomb = exec(
        &server,
        "tight",
        "i=0; while [ $i -lt 100 ]; do sleep 2 & i=$((i+1)); done 2>&1; echo survived",
    )
    .await;
    let all = format!("{}{}", bomb["stdout"], bomb["stderr"]);
    assert!(
        all.contains("fork") || all.contains("Resource temporarily unavailable"),
        "{bomb}"
    );
    assert_eq!(
        inspect(
            &created_id(&server, "tight").await,
            "{{.HostConfig.PidsLimit}}"
        ),
        "32"
    );
    // Let the sleepers end before the next run needs processes again.
    tokio::time::sleep(Duration::from_secs(3)).await;

    // A memory hog is killed and the answer says why.
    let hog = server
        .call(
            "sandbox_exec",
            json!({"sandbox": "tight", "command": "head -c 200000000 /dev/zero | tail", "timeout_secs": 15}),
        )
        .await;
    assert_eq!(hog.ok()["exit_code"], json!(137), "{}", hog.text());
    assert!(hog.text().contains("memory"), "{}", hog.text());
}

async fn created_id(server: &Server, name: &str) -> String {
    let info = server.call("sandbox_info", json!({"sandbox": name})).await;
    info.ok()["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn another_principal_cannot_reach_my_sandbox() {
    let alice = SandboxCleanup::new("sbx-alice");
    let bob = SandboxCleanup::new("sbx-bob");
    let (alice_server, _a) = server(&alice.principal, "").await;
    let (bob_server, _b) = server(&bob.principal, "").await;
    let mine = create(
        &alice_server,
        json!({"image": TEST_IMAGE, "name": "shared"}),
    )
    .await;
    let id = mine["id"].as_str().unwrap().to_string();

    for reference in ["shared", id.as_str()] {
        for (tool, extra) in [
            ("sandbox_exec", json!({"command": "id"})),
            ("sandbox_read_file", json!({"path": "x"})),
            ("sandbox_write_file", json!({"path": "x", "content": "y"})),
            ("sandbox_info", json!({})),
            ("sandbox_destroy", json!({})),
        ] {
            let mut args = extra;
            args["sandbox"] = json!(reference);
            bob_server.call(tool, args).await.expect_error("DKR-002");
        }
    }
    let listed = bob_server
        .call("sandbox_list", json!({"all_sessions": true}))
        .await;
    assert_eq!(listed.ok()["sandboxes"], json!([]));
    // Bob's own `shared` is a different sandbox.
    let his = create(&bob_server, json!({"image": TEST_IMAGE, "name": "shared"})).await;
    assert_eq!(his["existing"], json!(false));
    assert_ne!(his["id"], json!(id));
    // Destroying all of Bob's session leaves Alice's running.
    bob_server
        .call(
            "sandbox_destroy",
            json!({"all": true, "remove_workspace": true}),
        )
        .await
        .ok();
    assert_eq!(inspect(&id, "{{.State.Running}}"), "true");
}

#[tokio::test]
async fn two_processes_never_hand_out_the_same_pool_port() {
    let owner = SandboxCleanup::new("sbx-ports");
    let policy = "[arguments]\nport_pool = \"18431-18434\"\n\n\
                  [plugins.sandbox.arguments]\nnetworks = [\"bridge\"]\n";
    let ported = json!({"image": TEST_IMAGE, "ports": [8000], "network": true});
    let (first, _a) = server(&owner.principal, policy).await;
    let (second, _b) = server(&owner.principal, policy).await;
    let (a, b) = tokio::join!(
        async {
            let one = create(&first, ported.clone()).await;
            let two = create(&first, ported.clone()).await;
            (one, two)
        },
        async {
            let one = create(&second, ported.clone()).await;
            let two = create(&second, ported.clone()).await;
            (one, two)
        }
    );
    let mut ports: Vec<u64> = [a.0, a.1, b.0, b.1]
        .iter()
        .map(|created| created["host_ports"][0]["host_port"].as_u64().unwrap())
        .collect();
    ports.sort();
    assert_eq!(ports, [18431, 18432, 18433, 18434]);
    // Without the operator's network grant there are no ports at all.
    let (plain, _c) = server(&owner.principal, "").await;
    let refused = plain.call("sandbox_create", ported.clone()).await;
    refused.expect_error("DKR-005");
    assert!(
        refused.text().contains("network-not-allowed"),
        "{}",
        refused.text()
    );
    let full = first.call("sandbox_create", ported.clone()).await;
    full.expect_error("DKR-006");
    // A destroyed sandbox gives its port back.
    let listed = first.call("sandbox_list", json!({})).await;
    let name = listed.ok()["sandboxes"][0]["name"]
        .as_str()
        .unwrap()
        .to_string();
    first
        .call("sandbox_destroy", json!({"sandbox": name}))
        .await
        .ok();
    let again = create(&first, ported.clone()).await;
    assert!(again["host_ports"][0]["host_port"].as_u64().is_some());
}

#[tokio::test]
async fn idle_sandboxes_are_reaped_also_after_their_server_is_gone() {
    let owner = SandboxCleanup::new("sbx-reap");
    let policy = "reap_interval_secs = 1\n";
    let (first, _a) = server(&owner.principal, policy).await;
    let gone = create(&first, json!({"image": TEST_IMAGE, "idle_ttl_secs": 5})).await;
    let kept = create(&first, json!({"image": TEST_IMAGE})).await;
    first.stop().await.unwrap();
    // A later server of the same principal reaps the dead session's idle sandbox, and
    // its own idle one, but not one with the default hour.
    let (second, _b) = server(&owner.principal, policy).await;
    let own = create(&second, json!({"image": TEST_IMAGE, "idle_ttl_secs": 5})).await;
    let gone_id = gone["id"].as_str().unwrap();
    let own_id = own["id"].as_str().unwrap();
    let mut reaped = false;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        if docker(&["inspect", gone_id]).is_err() && docker(&["inspect", own_id]).is_err() {
            reaped = true;
            break;
        }
    }
    assert!(reaped, "both idle sandboxes are removed within 20 s");
    docker(&["inspect", kept["id"].as_str().unwrap()]).expect("the hour-long one stays");
}

#[test]
fn the_sandbox_plugin_cannot_be_given_scope_all() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.toml");
    std::fs::write(&file, "[plugins.sandbox]\nscope = \"all\"\n").unwrap();
    let output = std::process::Command::new(crate::binary())
        .args(["policy", "check"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("always runs with scope `owned`"));
}

/// The finish line, through MCP: a Python script imports a package installed
/// offline from a wheel in the workspace, the file it wrote is read back, and the
/// sandbox goes away with its workspace. Two scripts run at once do not clobber each
/// other, and an online install without a network says why it cannot work.
#[tokio::test]
async fn a_python_script_imports_a_package_from_a_local_wheel() {
    use base64::Engine as _;
    let owner = SandboxCleanup::new("sbx-python");
    let (server, _dir) = server(&owner.principal, "").await;
    let created = create(&server, json!({"image": PYTHON_IMAGE, "name": "py"})).await;
    assert_eq!(created["user"], json!("1000:1000"));

    let wheels = tempfile::tempdir().unwrap();
    let made = std::process::Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/make_wheel.py"
        ))
        .arg(wheels.path())
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    let wheel_path = String::from_utf8(made.stdout).unwrap().trim().to_string();
    let wheel = std::fs::read(&wheel_path).unwrap();
    let file_name = std::path::Path::new(&wheel_path)
        .file_name()
        .unwrap()
        .to_string_lossy()
        .to_string();
    server
        .call(
            "sandbox_write_file",
            json!({
                "sandbox": "py",
                "path": format!("wheels/{file_name}"),
                "content": base64::engine::general_purpose::STANDARD.encode(&wheel),
                "encoding": "base64"
            }),
        )
        .await
        .ok();

    let online = server
        .call(
            "sandbox_install",
            json!({"sandbox": "py", "packages": ["requests"]}),
        )
        .await;
    online.expect_error("DKR-007");
    assert!(
        online.text().contains("networking is off"),
        "{}",
        online.text()
    );

    let run = server
        .call(
            "sandbox_run_script",
            json!({
                "sandbox": "py",
                "script": "import pathlib, bulkhead_probe_pkg\n\
                           pathlib.Path('/workspace/out.txt').write_text(bulkhead_probe_pkg.VALUE)\n\
                           print('imported', bulkhead_probe_pkg.VALUE)\n",
                "packages": ["bulkhead_probe_pkg"],
                "find_links": "/workspace/wheels",
                "timeout_secs": 25
            }),
        )
        .await;
    let run = run.ok();
    assert_eq!(run["language"], json!("python"), "{run}");
    assert_eq!(run["install"]["exit_code"], json!(0), "{run}");
    assert_eq!(run["result"]["exit_code"], json!(0), "{run}");
    assert_eq!(run["result"]["stdout"], json!("imported wheel-ok\n"));
    let read = server
        .call(
            "sandbox_read_file",
            json!({"sandbox": "py", "path": "out.txt"}),
        )
        .await;
    assert_eq!(read.ok()["content"], json!("wheel-ok"));

    // Two runs at once, each with its own script file.
    let script = |n: u32| json!({"sandbox": "py", "script": format!("import time\ntime.sleep(0.5)\nprint({n})\n")});
    let (first, second) = tokio::join!(
        server.call("sandbox_run_script", script(1)),
        server.call("sandbox_run_script", script(2))
    );
    assert_eq!(first.ok()["result"]["stdout"], json!("1\n"));
    assert_eq!(second.ok()["result"]["stdout"], json!("2\n"));
    assert_ne!(first.ok()["path"], second.ok()["path"]);

    let destroyed = server
        .call(
            "sandbox_destroy",
            json!({"sandbox": "py", "remove_workspace": true}),
        )
        .await;
    let destroyed = destroyed.ok();
    assert_eq!(destroyed["workspaces_removed"].as_array().unwrap().len(), 1);
    let workspace = created["workspace"].as_str().unwrap();
    assert!(docker(&["volume", "inspect", workspace]).is_err());
    assert!(docker(&["inspect", created["id"].as_str().unwrap()]).is_err());
}
