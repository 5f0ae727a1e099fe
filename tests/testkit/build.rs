//! Compiles the fixture plugins to wasm32-wasip2 once, for every test that needs them.

// Build scripts talk to cargo through stdout (`cargo:` lines).
#![allow(clippy::print_stdout)]

fn main() {
    let root = bulkhead_wasm_builder::workspace_root(2);
    let built = bulkhead_wasm_builder::build_plugins(
        &root,
        &["bulkhead-probe-fixture"],
        &["tests/fixtures", "plugins/sdk", "wit"],
    );
    println!(
        "cargo:rustc-env=BULKHEAD_PROBE_WASM={}",
        built[0].path.display()
    );
}
