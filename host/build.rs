//! Compiles the default plugins to wasm32-wasip2 components for `embedded.rs`.

// Build scripts talk to cargo through stdout (`cargo:` lines).
#![allow(clippy::print_stdout)]

use bulkhead_wasm_builder::Artifact;
use sha2::{Digest, Sha256};

fn main() {
    link_order();
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
    wit_digest(&root.join("wit"));
}

/// A digest of the WIT contract the host links plugins against. A plugin's cached
/// imports and manifests carry it, so a host built from another contract asks the
/// plugin again (and links it at load) even when its version number is the same.
fn wit_digest(dir: &std::path::Path) {
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("reading the wit folder")
        .map(|entry| entry.expect("listing the wit folder").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "wit"))
        .collect();
    files.sort();
    let mut hasher = Sha256::new();
    for path in files {
        hasher.update(path.file_name().unwrap().as_encoded_bytes());
        hasher.update(std::fs::read(&path).expect("reading a wit file"));
    }
    let digest: String = hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    println!("cargo:rustc-env=BULKHEAD_WIT_SHA256={digest}");
}

/// The release binary is linked with the functions a serving session runs side by side
/// (`link-order.txt`, written by `scripts/link-order.sh`). Left in the compiler's order,
/// the 3 MB that serving runs are spread over most of the 18 MB of code, and the kernel
/// maps a file in 64 KiB windows, so each function touched brings its neighbours into
/// memory: 11.5 MiB of the binary was resident, 6 MiB with the order. A name the list
/// holds but the build lacks (after an edit or an update) is skipped.
///
/// Only where the toolchain links with its own lld (the default for this target since
/// Rust 1.90) and nobody chose another linker: GNU ld has no such option.
fn link_order() {
    println!("cargo:rerun-if-changed=link-order.txt");
    println!("cargo:rerun-if-env-changed=CARGO_ENCODED_RUSTFLAGS");
    let env = |name: &str| std::env::var(name).unwrap_or_default();
    let own_linker =
        !env("RUSTC_LINKER").is_empty() || env("CARGO_ENCODED_RUSTFLAGS").contains("link");
    if env("PROFILE") != "release" || env("TARGET") != "x86_64-unknown-linux-gnu" || own_linker {
        return;
    }
    let order = std::path::Path::new(&env("CARGO_MANIFEST_DIR")).join("link-order.txt");
    println!(
        "cargo:rustc-link-arg-bin=bulkhead=-Wl,--symbol-ordering-file={}",
        order.display()
    );
    println!("cargo:rustc-link-arg-bin=bulkhead=-Wl,--no-warn-symbol-ordering");
    // The 33,000 relocations a position-independent binary needs at start take 800 KB
    // as RELA entries, which the loader reads and which then stay resident; packed
    // (DT_RELR) they take a few KB. The loader must know the format: glibc 2.36 and
    // later, checked on the machine that builds, which is the one the README runs on.
    if glibc_reads_relr() {
        println!("cargo:rustc-link-arg-bin=bulkhead=-Wl,-z,pack-relative-relocs");
    }
}

/// Whether this machine's glibc (2.36 or later) applies packed relative relocations.
fn glibc_reads_relr() -> bool {
    let Ok(out) = std::process::Command::new("getconf")
        .arg("GNU_LIBC_VERSION")
        .output()
    else {
        return false;
    };
    // "glibc 2.36"
    let text = String::from_utf8_lossy(&out.stdout);
    let mut version = text.trim().trim_start_matches("glibc ").split('.');
    let number = |part: Option<&str>| part.and_then(|p| p.parse::<u32>().ok());
    matches!(
        (number(version.next()), number(version.next())),
        (Some(major), Some(minor)) if (major, minor) >= (2, 36)
    )
}
