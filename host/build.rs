//! Compiles the default plugins to wasm32-wasip2 components for `embedded.rs`.

// Build scripts talk to cargo through stdout (`cargo:` lines).
#![allow(clippy::print_stdout)]

use bulkhead_wasm_builder::Artifact;
use sha2::{Digest, Sha256};

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
        // The digest is the plugin's cache key; taking it here means a start never
        // reads (so never pages in) the embedded bytes when the cache is warm.
        let bytes = std::fs::read(&plugin.path).expect("reading a built plugin");
        let digest: String = Sha256::digest(&bytes)
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        println!("cargo:rustc-env=BULKHEAD_PLUGIN_{key}_SHA256={digest}");
    }
}
