//! Third-party plugins as their authors make them, through the real binary and a real
//! client: the Python and JavaScript examples (plugins/examples), built with their own
//! toolchains, load, list, answer, are denied what was not granted and refused when their
//! pin does not match; and the projects `bulkhead plugin new` writes build in each of the
//! three languages with the commands their READMEs give, and load.

use std::path::{Path, PathBuf};
use std::process::Command;

use bulkhead_testkit::{HELLO_WASM, ServerOptions, build_plugin_project, workspace_root};
use serde_json::json;

use crate::{run_bulkhead, start};

/// Builds example `language` (`python` or `js`) into `dir/<name>.wasm`.
fn build_example(language: &str, name: &str, dir: &Path) -> PathBuf {
    let out = dir.join(format!("{name}.wasm"));
    build_plugin_project(
        language,
        &workspace_root().join("plugins/examples").join(language),
        &out,
        &[],
    )
    .unwrap();
    out
}

/// The example `name` (tools `<prefix>_greet`, `_count`, `_images`) granted only
/// containers-read: greet and count answer, images is hidden and denied; then signed
/// and pinned it loads, and pinned to another file's digest it is refused.
async fn check_example(name: &str, dir: &Path) {
    let prefix = name.replace('-', "_");
    let server = start(
        ServerOptions::default()
            .arg("--no-default-plugins")
            .arg("--plugin-dir")
            .arg(dir.display().to_string())
            .arg("--grant")
            .arg(format!("{name}=containers-read")),
    )
    .await;
    let names = server.tool_names().await.unwrap();
    assert!(names.contains(&format!("{prefix}_greet")), "{names:?}");
    assert!(names.contains(&format!("{prefix}_count")), "{names:?}");
    assert!(!names.contains(&format!("{prefix}_images")), "{names:?}");

    let greeting = server
        .call(&format!("{prefix}_greet"), json!({"name": "e2e"}))
        .await;
    assert_eq!(greeting.ok()["greeting"], "Hello, e2e!");
    // The host checks arguments against the plugin's schema before it runs.
    server
        .call(&format!("{prefix}_greet"), json!({"name": ""}))
        .await
        .expect_error("DKR-004");
    let count = server.call(&format!("{prefix}_count"), json!({})).await;
    assert!(count.ok()["running"].is_u64(), "{}", count.text());
    server
        .call(&format!("{prefix}_images"), json!({}))
        .await
        .expect_error("DKR-005");
    server.stop().await.unwrap();

    // Signed and pinned, as a restricted deployment wants it: loads. Pinned to another
    // file's digest: refused, with the reason.
    let keys = tempfile::tempdir().unwrap();
    let secret = keys.path().join("signing.key").display().to_string();
    let (ok, public) = run_bulkhead(&["keygen", "--out", &secret]);
    assert!(ok, "{public}");
    let wasm = dir.join(format!("{name}.wasm"));
    let (ok, text) = run_bulkhead(&[
        "plugin",
        "sign",
        "--key",
        &secret,
        &wasm.display().to_string(),
    ]);
    assert!(ok, "{text}");
    let own = bulkhead::runtime::digest(&std::fs::read(&wasm).unwrap());
    let other = bulkhead::runtime::digest(&std::fs::read(HELLO_WASM).unwrap());
    for (pin, loads) in [(own, true), (other, false)] {
        let policy = keys.path().join("policy.toml");
        std::fs::write(
            &policy,
            format!(
                "[trust]\nrequire_signatures = true\nkeys = [\"{}\"]\n\n[plugins.{name}]\nsha256 = \"{pin}\"\n",
                public.trim()
            ),
        )
        .unwrap();
        let (ok, report) = run_bulkhead(&[
            "plugins",
            "--no-default-plugins",
            "--cache-dir",
            &crate::shared_cache().display().to_string(),
            "--policy",
            &policy.display().to_string(),
            "--plugin-dir",
            &dir.display().to_string(),
        ]);
        assert!(ok, "{report}");
        assert_eq!(
            report.contains(&format!("{prefix}_greet")),
            loads,
            "{report}"
        );
        assert_eq!(report.contains("matches no pin"), !loads, "{report}");
    }
}

#[tokio::test]
async fn the_python_example_answers_and_is_denied_what_was_not_granted() {
    let dir = tempfile::tempdir().unwrap();
    build_example("python", "hello-py", dir.path());
    check_example("hello-py", dir.path()).await;
}

#[tokio::test]
async fn the_javascript_example_answers_and_is_denied_what_was_not_granted() {
    let dir = tempfile::tempdir().unwrap();
    build_example("js", "hello-js", dir.path());
    check_example("hello-js", dir.path()).await;
}

/// The channel rust-toolchain.toml pins.
fn pinned_toolchain() -> String {
    let file = std::fs::read_to_string(workspace_root().join("rust-toolchain.toml")).unwrap();
    file.lines()
        .find_map(|line| line.trim().strip_prefix("channel = "))
        .map(|channel| channel.trim_matches('"').to_string())
        .expect("rust-toolchain.toml names a channel")
}

fn run(command: &mut Command) {
    let output = command.output().expect("the command runs");
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn new_projects_build_and_load_in_every_language() {
    let projects = tempfile::tempdir().unwrap();
    let plugins = tempfile::tempdir().unwrap();
    let new = |name: &str, lang: &str| {
        let (ok, text) = run_bulkhead(&[
            "plugin",
            "new",
            name,
            "--lang",
            lang,
            "--dir",
            &projects.path().display().to_string(),
        ]);
        assert!(ok, "{text}");
        projects.path().join(name)
    };

    // Rust: the README's commands, natively (its unit tests) and for wasm32-wasip2.
    let rust = new("new-rs", "rust");
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("plugin-new-target");
    // The project lies outside the repository, so rustup would pick the machine's
    // default toolchain: use the pinned one, which scripts/ensure-toolchain.sh gave the
    // wasm32-wasip2 target.
    let toolchain = pinned_toolchain();
    let cargo = || {
        let mut command = Command::new("cargo");
        command
            .current_dir(&rust)
            .env("CARGO_TARGET_DIR", &target)
            .env("RUSTUP_TOOLCHAIN", &toolchain);
        command
    };
    run(cargo().arg("test").arg("--quiet"));
    run(cargo().args(["build", "--release", "--target", "wasm32-wasip2", "--quiet"]));
    std::fs::copy(
        target.join("wasm32-wasip2/release/new_rs.wasm"),
        plugins.path().join("new-rs.wasm"),
    )
    .unwrap();

    // Python and JavaScript: the build scripts take a project that carries its own WIT
    // as it is; for JavaScript with the engine features package.json keeps.
    let python = new("new-py", "python");
    build_plugin_project("python", &python, &plugins.path().join("new-py.wasm"), &[]).unwrap();
    let js = new("new-js", "js");
    let package = std::fs::read_to_string(js.join("package.json")).unwrap();
    assert!(package.contains("--enable clocks random"), "{package}");
    build_plugin_project(
        "js",
        &js,
        &plugins.path().join("new-js.wasm"),
        &[("BH_JS_ENABLE", "clocks random")],
    )
    .unwrap();

    let server = start(
        ServerOptions::default()
            .arg("--no-default-plugins")
            .arg("--plugin-dir")
            .arg(plugins.path().display().to_string()),
    )
    .await;
    for prefix in ["new_rs", "new_py", "new_js"] {
        let answer = server
            .call(&format!("{prefix}_greet"), json!({"name": prefix}))
            .await;
        assert_eq!(answer.ok()["greeting"], format!("Hello, {prefix}!"));
    }
    server.stop().await.unwrap();
}

#[test]
fn a_project_is_not_written_over_an_existing_folder_or_under_a_bad_name() {
    let projects = tempfile::tempdir().unwrap();
    let dir = projects.path().display().to_string();
    std::fs::create_dir(projects.path().join("taken")).unwrap();
    for (name, reason) in [
        ("taken", "already exists"),
        ("Bad_Name", "not a plugin name"),
        ("docker", "taken by Bulkhead"),
    ] {
        let (ok, text) = run_bulkhead(&["plugin", "new", name, "--dir", &dir]);
        assert!(!ok && text.contains(reason), "{name}: {text}");
    }
}
