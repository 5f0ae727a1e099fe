//! Build-script helper that compiles plugin crates of this workspace to `wasm32-wasip2`
//! components, so the host can embed the default plugins and the test kit can ship its
//! fixture plugins, without anyone running a separate build step.
//!
//! It runs a nested `cargo build --release --target wasm32-wasip2` with its own target
//! directory (the outer build holds the lock on the usual one) and a clean environment:
//! every `CARGO_*` (but `CARGO_HOME`), `RUSTC*` and `RUSTFLAGS` variable belongs to the
//! outer build and would leak host-target settings into the guest build.

// Build scripts talk to cargo through stdout (`cargo:` lines); that is the one place
// printing there is right.
#![allow(clippy::print_stdout)]

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The only target plugins are built for: it yields components directly.
pub const TARGET: &str = "wasm32-wasip2";

/// One compiled plugin.
#[derive(Debug, Clone)]
pub struct BuiltPlugin {
    /// The cargo package name, e.g. `bulkhead-containers`.
    pub package: String,
    /// The `.wasm` component.
    pub path: PathBuf,
}

/// Compiles `packages` (cargo package names of the workspace at `workspace_root`) and
/// returns their components. Call it from a build script: it prints the
/// `rerun-if-changed` lines for `watch` (directories or files, relative to
/// `workspace_root`).
///
/// # Panics
/// On any failure, with a message that says what to do: a build script has no better way
/// to report one.
pub fn build_plugins(workspace_root: &Path, packages: &[&str], watch: &[&str]) -> Vec<BuiltPlugin> {
    for path in watch {
        println!(
            "cargo:rerun-if-changed={}",
            workspace_root.join(path).display()
        );
    }
    println!(
        "cargo:rerun-if-changed={}",
        workspace_root.join("Cargo.lock").display()
    );
    println!("cargo:rerun-if-env-changed=BULKHEAD_WASM_TARGET_DIR");

    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR is set for build scripts"));
    let target_dir = env::var_os("BULKHEAD_WASM_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| out_dir.join("wasm-target"));
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());

    let mut command = Command::new(cargo);
    command
        .current_dir(workspace_root)
        .args(["build", "--release", "--locked", "--target", TARGET])
        .arg("--target-dir")
        .arg(&target_dir);
    for package in packages {
        command.args(["-p", package]);
    }
    for (key, _) in env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let inherited_from_outer_build = (key.starts_with("CARGO") && key != "CARGO_HOME")
            || key.starts_with("RUSTC")
            || key == "RUSTFLAGS"
            || key == "RUSTDOCFLAGS";
        if inherited_from_outer_build {
            command.env_remove(key);
        }
    }

    let status = command
        .status()
        .unwrap_or_else(|err| panic!("could not run cargo to build plugins: {err}"));
    if !status.success() {
        panic!(
            "building plugins {packages:?} for {TARGET} failed (see the cargo output above). \
             If it says it can't find crate `core`/`std`, the target is missing: run \
             `rustup target add {TARGET}` (scripts/ensure-toolchain.sh does it for you)."
        );
    }

    packages
        .iter()
        .map(|package| {
            let file = format!("{}.wasm", package.replace('-', "_"));
            let path = target_dir.join(TARGET).join("release").join(file);
            assert!(
                path.is_file(),
                "plugin {package} built but {} is missing",
                path.display()
            );
            BuiltPlugin {
                package: (*package).to_string(),
                path,
            }
        })
        .collect()
}

/// The workspace root, for a build script of a crate `depth` directories below it.
pub fn workspace_root(depth: usize) -> PathBuf {
    let mut dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR is set"));
    for _ in 0..depth {
        dir.pop();
    }
    dir
}
