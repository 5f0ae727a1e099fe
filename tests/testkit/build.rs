//! Compiles the fixture plugins (and the SDK's example plugin) to wasm32-wasip2 once,
//! for every test that needs them.

// Build scripts talk to cargo through stdout (`cargo:` lines).
#![allow(clippy::print_stdout)]

use bulkhead_wasm_builder::Artifact;

fn main() {
    let root = bulkhead_wasm_builder::workspace_root(2);
    let built = bulkhead_wasm_builder::build_plugins(
        &root,
        &[
            Artifact::Package("bulkhead-probe-fixture"),
            // The MCP conformance suite's tools, prompts and resources.
            Artifact::Package("bulkhead-conformance-fixture"),
            // Two versions of one plugin, for `serve --watch`.
            Artifact::Example {
                package: "bulkhead-reload-fixture",
                example: "reload_v1",
            },
            Artifact::Example {
                package: "bulkhead-reload-fixture",
                example: "reload_v2",
            },
            // The SDK's documented example, loaded as any third party's plugin would be.
            Artifact::Example {
                package: "bulkhead-plugin-sdk",
                example: "hello",
            },
        ],
        &["tests/fixtures", "plugins/sdk", "wit"],
    );
    println!(
        "cargo:rustc-env=BULKHEAD_PROBE_WASM={}",
        built[0].path.display()
    );
    println!(
        "cargo:rustc-env=BULKHEAD_CONFORMANCE_WASM={}",
        built[1].path.display()
    );
    println!(
        "cargo:rustc-env=BULKHEAD_RELOAD_V1_WASM={}",
        built[2].path.display()
    );
    println!(
        "cargo:rustc-env=BULKHEAD_RELOAD_V2_WASM={}",
        built[3].path.display()
    );
    println!(
        "cargo:rustc-env=BULKHEAD_HELLO_WASM={}",
        built[4].path.display()
    );
}
