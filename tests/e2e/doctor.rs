//! `bulkhead doctor` through the real binary against the real engine: a healthy setup
//! passes; an unreachable engine, a plugin that is not a component and a policy with an
//! unknown key fail; a cache others can write is a warning; an exposed HTTP bind fails.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

/// Runs `bulkhead doctor ARGS` with `DOCKER_HOST` set to `docker_host` (or as
/// inherited); the exit status and the report's lines (stdout).
fn doctor(args: &[&str], docker_host: Option<&str>) -> (bool, Vec<String>, String) {
    let mut command = Command::new(crate::binary());
    command
        .arg("doctor")
        .args(args)
        .env_remove("BULKHEAD_POLICY");
    if let Some(host) = docker_host {
        command.env("DOCKER_HOST", host);
    }
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    let lines = stdout.lines().map(str::to_string).collect();
    (output.status.success(), lines, stdout + &stderr)
}

/// The report's lines for one check (`<level> <check>: <detail>`).
fn lines_of<'a>(lines: &'a [String], check: &str) -> Vec<&'a str> {
    let name = format!("{check}:");
    lines
        .iter()
        .map(String::as_str)
        .filter(|line| line.split_whitespace().nth(1) == Some(name.as_str()))
        .collect()
}

/// The level word of a report line (`ok`, `warn`, `fail`).
fn level(line: &str) -> &str {
    line.split_whitespace().next().unwrap_or_default()
}

fn cache_arg() -> String {
    crate::shared_cache().display().to_string()
}

#[test]
fn doctor_passes_on_the_default_setup() {
    let (ok, lines, text) = doctor(&["--cache-dir", &cache_arg()], None);
    assert!(ok, "{text}");
    assert!(
        lines.iter().any(|line| line.starts_with("ok   engine:")),
        "{text}"
    );
    // One `plugins` line per plugin (both built-ins here); each check in order.
    let mut names: Vec<&str> = lines
        .iter()
        .filter_map(|line| line.split_whitespace().nth(1))
        .collect();
    names.dedup();
    assert_eq!(
        names,
        [
            "policy:", "engine:", "socket:", "cache:", "plugins:", "audit:", "http:"
        ],
        "{text}"
    );
}

#[test]
fn doctor_fails_when_the_engine_socket_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let host = format!("unix://{}", dir.path().join("docker.sock").display());
    let (ok, lines, text) = doctor(&["--no-default-plugins", "--no-cache"], Some(&host));
    assert!(!ok, "{text}");
    let engine = lines_of(&lines, "engine");
    assert_eq!(engine.len(), 1, "{text}");
    assert_eq!(level(engine[0]), "fail", "{text}");
    assert_eq!(level(lines_of(&lines, "socket")[0]), "fail", "{text}");
}

#[test]
fn doctor_fails_on_a_plugin_that_is_not_a_component() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.wasm"), b"\0asm garbage, not a component").unwrap();
    let (ok, lines, text) = doctor(
        &[
            "--no-default-plugins",
            "--cache-dir",
            &cache_arg(),
            "--plugin-dir",
            &dir.path().display().to_string(),
        ],
        None,
    );
    assert!(!ok, "{text}");
    let plugins = lines_of(&lines, "plugins");
    assert!(
        plugins
            .iter()
            .any(|line| level(line) == "fail" && line.contains("x.wasm")),
        "{text}"
    );
}

#[test]
fn doctor_fails_on_an_unknown_policy_key_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.toml");
    std::fs::write(&file, "[server]\nread_only = false\nreadonly = true\n").unwrap();
    let (ok, lines, text) = doctor(
        &[
            "--no-default-plugins",
            "--cache-dir",
            &cache_arg(),
            "--policy",
            &file.display().to_string(),
        ],
        None,
    );
    assert!(!ok, "{text}");
    let policy = lines_of(&lines, "policy");
    assert_eq!(policy.len(), 1, "{text}");
    assert_eq!(level(policy[0]), "fail", "{text}");
    assert!(policy[0].contains("line 3"), "{text}");
}

#[test]
fn doctor_warns_about_a_world_writable_cache() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let (_, lines, text) = doctor(
        &[
            "--no-default-plugins",
            "--cache-dir",
            &dir.path().display().to_string(),
        ],
        None,
    );
    let cache = lines_of(&lines, "cache");
    assert_eq!(cache.len(), 1, "{text}");
    assert_eq!(level(cache[0]), "warn", "{text}");
}

#[test]
fn http_settings_are_checked_before_serving() {
    let cache = tempfile::tempdir().unwrap();
    let cache_dir = cache.path().display().to_string();
    let (_, lines, all) = doctor(&["--cache-dir", &cache_dir], None);
    let http = lines_of(&lines, "http");
    assert_eq!(http.len(), 1, "{all}");
    assert_eq!(level(http[0]), "ok", "{all}");

    // Reachable from other hosts and nobody authenticates: the start would be refused.
    let (ok, lines, all) = doctor(&["--cache-dir", &cache_dir, "--http", "0.0.0.0:8080"], None);
    let http = lines_of(&lines, "http");
    assert!(!ok && level(http[0]) == "fail", "{all}");
}
