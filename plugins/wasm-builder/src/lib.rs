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

/// What to compile: a plugin crate (a `cdylib` package) or a `cdylib` example of a
/// package, such as the SDK's documented example plugin.
#[derive(Debug, Clone, Copy)]
pub enum Artifact<'a> {
    Package(&'a str),
    Example { package: &'a str, example: &'a str },
}

/// One compiled plugin.
#[derive(Debug, Clone)]
pub struct BuiltPlugin {
    /// The package name (e.g. `bulkhead-containers`), or the example's name.
    pub name: String,
    /// The `.wasm` component.
    pub path: PathBuf,
}

/// Compiles `artifacts` of the workspace at `workspace_root` and returns their
/// components, in the same order. Call it from a build script: it prints the
/// `rerun-if-changed` lines for `watch` (directories or files, relative to
/// `workspace_root`).
///
/// # Panics
/// On any failure, with a message that says what to do: a build script has no better way
/// to report one.
pub fn build_plugins(
    workspace_root: &Path,
    artifacts: &[Artifact<'_>],
    watch: &[&str],
) -> Vec<BuiltPlugin> {
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
    let release_dir = target_dir.join(TARGET).join("release");

    // Packages build in one cargo run; each example needs its own (`--example` selects
    // only examples of the packages named).
    let packages: Vec<&str> = artifacts
        .iter()
        .filter_map(|artifact| match artifact {
            Artifact::Package(package) => Some(*package),
            Artifact::Example { .. } => None,
        })
        .collect();
    if !packages.is_empty() {
        let mut args = Vec::new();
        for package in &packages {
            args.extend(["-p", package]);
        }
        run_cargo(workspace_root, &target_dir, &args);
    }
    for artifact in artifacts {
        if let Artifact::Example { package, example } = artifact {
            run_cargo(
                workspace_root,
                &target_dir,
                &["-p", package, "--example", example],
            );
        }
    }

    artifacts
        .iter()
        .map(|artifact| {
            let (name, path) = match artifact {
                Artifact::Package(package) => (
                    *package,
                    release_dir.join(format!("{}.wasm", package.replace('-', "_"))),
                ),
                Artifact::Example { example, .. } => (
                    *example,
                    release_dir
                        .join("examples")
                        .join(format!("{}.wasm", example.replace('-', "_"))),
                ),
            };
            assert!(
                path.is_file(),
                "{name} built but {} is missing",
                path.display()
            );
            BuiltPlugin {
                name: name.to_string(),
                path,
            }
        })
        .collect()
}

/// One nested `cargo build` for the wasm target, in a clean environment.
fn run_cargo(workspace_root: &Path, target_dir: &Path, selection: &[&str]) {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace_root)
        .args(["build", "--release", "--locked", "--target", TARGET])
        .arg("--target-dir")
        .arg(target_dir)
        .args(selection);
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
    // Plugins are embedded in the host binary: no DWARF in them (the name section stays,
    // so a trap's backtrace still names its functions).
    command.env("CARGO_PROFILE_RELEASE_DEBUG", "false");
    command.env("CARGO_PROFILE_RELEASE_STRIP", "debuginfo");
    // The workspace's release profile is tuned for the host binary (size, fat LTO, one
    // codegen unit); plugins keep cargo's defaults, which build several times faster.
    command.env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "3");
    command.env("CARGO_PROFILE_RELEASE_LTO", "false");
    command.env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16");
    let status = command
        .status()
        .unwrap_or_else(|err| panic!("could not run cargo to build plugins: {err}"));
    if !status.success() {
        panic!(
            "building {selection:?} for {TARGET} failed (see the cargo output above). \
             If it says it can't find crate `core`/`std`, the target is missing: run \
             `rustup target add {TARGET}` (scripts/ensure-toolchain.sh does it for you)."
        );
    }
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
