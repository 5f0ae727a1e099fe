//! Compiles the default plugins to wasm32-wasip2 components for `embedded.rs`.

// Build scripts talk to cargo through stdout (`cargo:` lines).
#![allow(clippy::print_stdout)]

use bulkhead_wasm_builder::Artifact;

fn main() {
    let root = bulkhead_wasm_builder::workspace_root(1);
    let built = bulkhead_wasm_builder::build_plugins(
        &root,
        &[
            Artifact::Package("bulkhead-containers"),
            Artifact::Package("bulkhead-sandbox"),
            Artifact::Package("bulkhead-compose"),
            Artifact::Package("bulkhead-diagnostics"),
        ],
        &["plugins", "wit"],
    );
    for plugin in built {
        let key = plugin
            .name
            .trim_start_matches("bulkhead-")
            .replace('-', "_")
            .to_uppercase();
        println!(
            "cargo:rustc-env=BULKHEAD_PLUGIN_{key}={}",
            plugin.path.display()
        );
    }
}
