//! The policy file through the real binary: strict parsing with the line that is wrong,
//! tool lists and per-plugin tiers that only tighten, and grants that must name a loaded
//! plugin.

use bulkhead::capabilities::Tier;
use bulkhead_testkit::ServerOptions;
use serde_json::json;

use crate::start;

/// Runs `bulkhead policy check` on `text`; the exit status and what it printed.
fn check(text: &str) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.toml");
    std::fs::write(&file, text).unwrap();
    let output = std::process::Command::new(crate::binary())
        .args(["policy", "check"])
        .arg(&file)
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), printed)
}

#[test]
fn policy_check_refuses_mistakes_with_their_line() {
    let cases = [
        ("[server]\nread_only = false\nreadonly = true\n", "line 3"),
        (
            "[plugins.probe]\ngrants = [\"containers-root\"]\n",
            "unknown capability",
        ),
        (
            "[plugins.containers]\ntier = \"destructive\"\n",
            "looser than the server",
        ),
        ("[limits]\ncall_timeout_secs = 0\n", "out of range"),
        ("[plugins.containers]\nscope = \"mine\"\n", "line 2"),
        (
            "[arguments]\nmax_memory_mib = 512\n\n[plugins.containers.arguments]\nmax_memory_mib = 1024\n",
            "line 4: plugins.containers.arguments: max_memory_mib",
        ),
        (
            "[plugins.containers.limits]\ncall_timeout_secs = 600\n",
            "looser than the server",
        ),
        (
            "[arguments]\nimages = [\"team/*\"]\n[plugins.containers.arguments]\nimages = [\"*\"]\n",
            "not within the server's list",
        ),
        ("[server]\nprincipal = \"a b\"\n", "principal"),
    ];
    for (text, expected) in cases {
        let (ok, printed) = check(text);
        assert!(!ok, "{text:?} should be refused");
        assert!(printed.contains(expected), "{text:?}: {printed}");
    }
    let (ok, printed) = check(include_str!("../../host/policy.example.toml"));
    assert!(ok, "{printed}");
}

#[tokio::test]
async fn policy_file_tightens_what_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.toml");
    std::fs::write(
        &file,
        "[server]\ntools_deny = [\"docker_container_logs\"]\n\n[plugins.containers]\ntier = \"read\"\n",
    )
    .unwrap();
    let server = start(
        ServerOptions::default()
            .arg("--policy")
            .arg(file.display().to_string()),
    )
    .await;
    let mut names = server.tool_names().await.unwrap();
    names.sort();
    let expected: Vec<String> = crate::builtin_tools(Tier::Read, Tier::Destructive)
        .into_iter()
        .filter(|name| name != "docker_container_logs")
        .collect();
    assert_eq!(names, expected);
    server
        .call("docker_container_logs", json!({"container": "x"}))
        .await
        .expect_error("DKR-008");
    server
        .call("docker_create_container", json!({"image": "x"}))
        .await
        .expect_error("DKR-008");
}

#[tokio::test]
async fn a_grant_for_a_plugin_that_does_not_load_stops_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.toml");
    std::fs::write(&file, "[plugins.probe]\ngrants = [\"containers-read\"]\n").unwrap();
    let output = std::process::Command::new(crate::binary())
        .args(["serve", "--no-cache", "--policy"])
        .arg(&file)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("plugin `probe`, which is not loaded"),
        "{stderr}"
    );
}
