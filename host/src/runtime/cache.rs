//! On-disk cache of compiled components, so a second start does not compile again.
//!
//! Keyed by the wasm's sha256 and the engine's compatibility hash (wasmtime version,
//! Config and CPU features): an artifact only ever loads into an engine that could have
//! produced it. Only files this host wrote are deserialised; the cache lives in the
//! user's own cache directory, with the same trust as the binary itself.

use std::collections::hash_map::DefaultHasher;
use std::fs;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Hex sha256 of a plugin's bytes: its identity in the cache, in logs and in pins.
pub fn digest(wasm: &[u8]) -> String {
    let hash = Sha256::digest(wasm);
    hash.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Loaded a compiled artifact from disk.
    Hit,
    /// Compiled now and stored the artifact.
    Stored,
    /// Compiled now; no cache directory was usable.
    Uncached,
}

#[derive(Debug, Clone)]
pub struct ComponentCache {
    dir: Option<PathBuf>,
}

impl ComponentCache {
    /// A cache under `root`, in a folder specific to this engine's configuration. With
    /// `None`, every start compiles.
    pub fn new(engine: &Engine, root: Option<&Path>) -> Self {
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let dir = root.map(|root| root.join(format!("engine-{:016x}", hasher.finish())));
        ComponentCache { dir }
    }

    /// Compiles `wasm` or loads it from the cache. A damaged or unreadable cache entry
    /// is replaced, never fatal.
    pub fn load(
        &self,
        engine: &Engine,
        wasm: &[u8],
        digest: &str,
    ) -> wasmtime::Result<(Component, CacheOutcome)> {
        let Some(dir) = &self.dir else {
            return Ok((
                Component::from_binary(engine, wasm)?,
                CacheOutcome::Uncached,
            ));
        };
        let path = dir.join(format!("{digest}.cwasm"));
        if path.is_file() {
            match deserialize_own_artifact(engine, &path) {
                Ok(component) => return Ok((component, CacheOutcome::Hit)),
                Err(err) => {
                    tracing::warn!(path = %path.display(), "ignoring unusable cache entry: {err}")
                }
            }
        }
        let compiled = engine.precompile_component(wasm)?;
        // SAFETY of the later deserialisation rests on this: the bytes we store are the
        // ones `precompile_component` just produced.
        let component = deserialize_bytes(engine, &compiled)?;
        match store_atomically(dir, &path, &compiled) {
            Ok(()) => Ok((component, CacheOutcome::Stored)),
            Err(err) => {
                tracing::warn!(dir = %dir.display(), "component cache not writable, compiling on every start: {err}");
                Ok((component, CacheOutcome::Uncached))
            }
        }
    }
}

#[allow(unsafe_code)]
fn deserialize_own_artifact(engine: &Engine, path: &Path) -> wasmtime::Result<Component> {
    // SAFETY: files in this engine-specific cache folder are written only by
    // `store_atomically` with the output of `Engine::precompile_component`, and the
    // folder name pins the engine's compatibility hash. wasmtime still checks the
    // header and version before mapping the code.
    unsafe { Component::deserialize_file(engine, path) }
}

#[allow(unsafe_code)]
fn deserialize_bytes(engine: &Engine, compiled: &[u8]) -> wasmtime::Result<Component> {
    // SAFETY: `compiled` comes straight from `Engine::precompile_component` on this
    // engine, in this process.
    unsafe { Component::deserialize(engine, compiled) }
}

/// Writes to a temporary file and renames it into place, so a concurrent start never
/// reads a half-written artifact.
fn store_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("artifact"),
        std::process::id()
    ));
    let mut file = fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_is_hex_sha256() {
        assert_eq!(
            digest(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
