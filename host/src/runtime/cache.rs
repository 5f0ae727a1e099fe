//! On-disk cache of compiled components, so a second start does not compile again.
//!
//! Keyed by the wasm's sha256 and the engine's compatibility hash (wasmtime version,
//! Config and CPU features): an artifact only ever loads into an engine that could have
//! produced it.
//!
//! A `.cwasm` is native code that runs in a process holding the Docker socket, so the
//! cache is only trusted when nobody else could have written it: the cache directory and
//! each artifact must be owned by the running user, writable by nobody else, and not a
//! symlink; artifacts are opened without following links and checked on the open file;
//! temporary files have unpredictable names. Anything else is ignored with a warning
//! and the plugin is compiled instead.

use std::collections::hash_map::DefaultHasher;
use std::fs;
use std::hash::{Hash, Hasher};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
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

    /// The engine's folder under the cache root (`None` when caching is off).
    pub(crate) fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Compiles `wasm` or loads it from the cache. A damaged or unreadable cache entry
    /// is replaced, never fatal.
    pub fn load(
        &self,
        engine: &Engine,
        wasm: &[u8],
        digest: &str,
    ) -> wasmtime::Result<(Component, CacheOutcome)> {
        let artifact = self.open_artifact(digest);
        self.load_opened(engine, wasm, digest, artifact)
    }

    /// The compiled artifact of the component `digest`, open, when the cache holds one
    /// it trusts; why not is logged. Nothing is mapped yet: see [`deserialize_artifact`].
    pub(super) fn open_artifact(&self, digest: &str) -> Option<fs::File> {
        let dir = self.dir.as_deref()?;
        if let Err(reason) = trusted_dir(dir) {
            tracing::warn!(dir = %dir.display(), "component cache not trusted, compiling instead: {reason}");
            return None;
        }
        let path = artifact_path(dir, digest);
        match open_own_artifact(&path) {
            Ok(found) => found,
            Err(reason) => {
                tracing::warn!(path = %path.display(), "ignoring cache entry: {reason}");
                None
            }
        }
    }

    /// Loads `artifact` (from [`ComponentCache::open_artifact`]) or, when there is none
    /// or it does not load, compiles `wasm` and stores the result in its place.
    pub(super) fn load_opened(
        &self,
        engine: &Engine,
        wasm: &[u8],
        digest: &str,
        artifact: Option<fs::File>,
    ) -> wasmtime::Result<(Component, CacheOutcome)> {
        if let Some(file) = artifact {
            match deserialize_artifact(engine, &file) {
                Ok(component) => return Ok((component, CacheOutcome::Hit)),
                Err(err) => {
                    tracing::warn!(digest = %&digest[..digest.len().min(12)], "ignoring unusable cache entry: {err:#}")
                }
            }
        }
        let compiled = engine.precompile_component(wasm)?;
        let component = deserialize_bytes(engine, &compiled)?;
        // Only a folder that passes the trust check now is written to (untrusted, it
        // was reported when the artifact was looked for).
        let Some(dir) = self.dir.as_deref().filter(|dir| trusted_dir(dir).is_ok()) else {
            return Ok((component, CacheOutcome::Uncached));
        };
        match store_atomically(dir, &artifact_path(dir, digest), &compiled) {
            Ok(()) => Ok((component, CacheOutcome::Stored)),
            Err(err) => {
                tracing::warn!(dir = %dir.display(), "component cache not writable, compiling on every start: {err}");
                Ok((component, CacheOutcome::Uncached))
            }
        }
    }

    /// The manifests cached for the component `digest`, if a trusted, whole file of
    /// this host's holds them. Only asked once the artifact itself was found and
    /// opened, so the folder has just passed the trust check.
    pub(super) fn manifests(&self, digest: &str) -> Option<super::manifest_cache::Cached> {
        let path = super::manifest_cache::path(self.dir.as_deref()?, digest);
        let outcome = open_own_artifact(&path).and_then(|file| match file {
            Some(file) => super::manifest_cache::read(&file).map(Some),
            None => Ok(None),
        });
        match outcome {
            Ok(found) => found,
            Err(reason) => {
                tracing::warn!(path = %path.display(), "asking the plugin again: cached manifest unusable: {reason}");
                None
            }
        }
    }

    /// Keeps a plugin's manifests beside its artifact; failing to is only a slower
    /// next start.
    pub(super) fn store_manifests(&self, digest: &str, encoded: &[u8]) {
        let Some(dir) = &self.dir else { return };
        let path = super::manifest_cache::path(dir, digest);
        if let Err(err) = store_atomically(dir, &path, encoded) {
            tracing::warn!(path = %path.display(), "cannot cache the plugin's manifest: {err}");
        }
    }
}

/// Where the artifact of the component `digest` is kept in the engine folder `dir`.
fn artifact_path(dir: &Path, digest: &str) -> PathBuf {
    dir.join(format!("{digest}.cwasm"))
}

/// The running process's effective user: the only owner a trusted cache file may have.
fn current_user() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// Why a file's metadata makes it untrustworthy, if it does.
fn untrusted_because(metadata: &fs::Metadata, what: &str) -> Option<String> {
    if metadata.file_type().is_symlink() {
        return Some(format!("the {what} is a symbolic link"));
    }
    if metadata.uid() != current_user() {
        return Some(format!(
            "the {what} is owned by uid {}, not by this user (uid {})",
            metadata.uid(),
            current_user()
        ));
    }
    if metadata.mode() & 0o022 != 0 {
        return Some(format!(
            "the {what} is writable by group or others (mode {:o})",
            metadata.mode() & 0o7777
        ));
    }
    None
}

/// Creates the engine's cache folder (mode 0700) if needed and checks that it and the
/// cache root above it are safe: owned by this user, not writable by others, not
/// symlinks. `bulkhead doctor` asks the same question.
pub(crate) fn trusted_dir(dir: &Path) -> Result<(), String> {
    if let Some(root) = dir.parent() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(root)
            .map_err(|err| format!("cannot create {}: {err}", root.display()))?;
        let metadata = fs::symlink_metadata(root).map_err(|err| err.to_string())?;
        if let Some(reason) = untrusted_because(&metadata, "cache directory") {
            return Err(reason);
        }
    }
    match fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(err) => return Err(format!("cannot create {}: {err}", dir.display())),
    }
    let metadata = fs::symlink_metadata(dir).map_err(|err| err.to_string())?;
    match untrusted_because(&metadata, "engine cache folder") {
        Some(reason) => Err(reason),
        None if !metadata.is_dir() => Err("the engine cache folder is not a directory".into()),
        None => Ok(()),
    }
}

/// The artifact, open, if it exists and is trustworthy. Opened without following a
/// symlink and checked on the open file, so nothing can be swapped in between.
fn open_own_artifact(path: &Path) -> Result<Option<fs::File>, String> {
    let file = match fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)
    {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(format!("cannot open it without following links: {err}")),
    };
    let metadata = file.metadata().map_err(|err| err.to_string())?;
    if !metadata.is_file() {
        return Err("not a regular file".into());
    }
    if let Some(reason) = untrusted_because(&metadata, "artifact") {
        return Err(reason);
    }
    Ok(Some(file))
}

/// Maps the checked artifact instead of reading it: only the pages a call touches
/// become resident, they are shared with the page cache, and data segments are
/// copy-on-write from the file. wasmtime 48 maps by path only, so the path given is
/// `/proc/self/fd/N`, which names the very file that was checked, not whatever sits at
/// the cache path now. Without `/proc`, or on a file system that cannot map, the bytes
/// are read instead.
#[allow(unsafe_code)]
pub(super) fn deserialize_artifact(
    engine: &Engine,
    file: &fs::File,
) -> wasmtime::Result<Component> {
    use std::os::fd::AsRawFd;
    let by_descriptor = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
    if by_descriptor.exists() {
        // SAFETY: as for `deserialize_bytes`; the file is this user's own, mode 0600 in
        // a 0700 folder, and is only ever replaced by rename, never written in place.
        match unsafe { Component::deserialize_file(engine, &by_descriptor) } {
            Ok(component) => return Ok(component),
            Err(err) => tracing::debug!("cannot map the artifact, reading it: {err:#}"),
        }
    }
    // From the start: a duplicate of this descriptor may have been read before.
    let mut bytes = Vec::new();
    (&*file).seek(std::io::SeekFrom::Start(0))?;
    (&*file).read_to_end(&mut bytes)?;
    deserialize_bytes(engine, &bytes)
}

#[allow(unsafe_code)]
fn deserialize_bytes(engine: &Engine, compiled: &[u8]) -> wasmtime::Result<Component> {
    // SAFETY: `compiled` comes straight from `Engine::precompile_component` on this
    // engine, or from a cache file that only this user could have written (checked by
    // `trusted_dir` and `open_own_artifact`) in a folder that pins the engine's
    // compatibility hash; wasmtime still checks the header and version.
    unsafe { Component::deserialize(engine, compiled) }
}

/// Writes to a temporary file with an unpredictable name (created exclusively, mode
/// 0600) and renames it into place, so a concurrent start never reads a half-written
/// artifact and nobody can pre-create the temporary file.
fn store_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = tempfile::Builder::new()
        .prefix(".artifact-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    // Drop the pages just written from the page cache: pages that are cached because
    // they were written, not read, can be mapped in bigger pieces than a read fault
    // brings in. Measured: a warm start right after the cold one had the diagnostics
    // plugin's artifact resident whole (1.1 MiB); read back from disk, 0.2 MiB. Advice
    // only: when it fails, the cache still works.
    let _ = rustix::fs::fadvise(file.as_file(), 0, None, rustix::fs::Advice::DontNeed);
    file.persist(path).map_err(|err| err.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn digest_is_hex_sha256() {
        assert_eq!(
            digest(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    /// A cache in a fresh directory, an engine, and a real component to compile.
    fn setup() -> (
        tempfile::TempDir,
        Engine,
        ComponentCache,
        std::borrow::Cow<'static, [u8]>,
    ) {
        let root = tempfile::tempdir().unwrap();
        let engine = super::super::engine::new_engine().unwrap();
        let cache = ComponentCache::new(&engine, Some(&root.path().join("cache")));
        let wasm = crate::embedded::builtin_plugins().remove(0).wasm;
        (root, engine, cache, wasm)
    }

    fn outcome(cache: &ComponentCache, engine: &Engine, wasm: &[u8]) -> CacheOutcome {
        cache.load(engine, wasm, &digest(wasm)).unwrap().1
    }

    fn artifact(cache: &ComponentCache, wasm: &[u8]) -> PathBuf {
        artifact_path(cache.dir.as_ref().unwrap(), &digest(wasm))
    }

    #[test]
    fn second_load_is_a_hit() {
        let (_root, engine, cache, wasm) = setup();
        assert_eq!(outcome(&cache, &engine, &wasm), CacheOutcome::Stored);
        assert_eq!(outcome(&cache, &engine, &wasm), CacheOutcome::Hit);
        let dir = fs::metadata(cache.dir.as_ref().unwrap()).unwrap();
        assert_eq!(dir.mode() & 0o777, 0o700);
    }

    #[test]
    fn a_damaged_artifact_is_compiled_again_and_replaced() {
        let (_root, engine, cache, wasm) = setup();
        assert_eq!(outcome(&cache, &engine, &wasm), CacheOutcome::Stored);
        fs::write(artifact(&cache, &wasm), b"not an artifact").unwrap();
        assert_eq!(outcome(&cache, &engine, &wasm), CacheOutcome::Stored);
        assert_eq!(outcome(&cache, &engine, &wasm), CacheOutcome::Hit);
    }

    #[test]
    fn cache_writable_by_others_is_not_trusted() {
        let (root, engine, cache, wasm) = setup();
        assert_eq!(outcome(&cache, &engine, &wasm), CacheOutcome::Stored);
        fs::set_permissions(root.path().join("cache"), fs::Permissions::from_mode(0o777)).unwrap();
        assert_eq!(outcome(&cache, &engine, &wasm), CacheOutcome::Uncached);
    }

    #[test]
    fn symlinked_artifact_is_not_loaded() {
        let (root, engine, cache, wasm) = setup();
        assert_eq!(outcome(&cache, &engine, &wasm), CacheOutcome::Stored);
        let path = artifact(&cache, &wasm);
        let elsewhere = root.path().join("planted.cwasm");
        fs::rename(&path, &elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &path).unwrap();
        // Compiled again and stored over the link, never loaded through it.
        assert_eq!(outcome(&cache, &engine, &wasm), CacheOutcome::Stored);
        assert!(
            !fs::symlink_metadata(&path)
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }

    #[test]
    fn artifact_writable_by_others_is_not_loaded() {
        let (_root, engine, cache, wasm) = setup();
        assert_eq!(outcome(&cache, &engine, &wasm), CacheOutcome::Stored);
        let path = artifact(&cache, &wasm);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o666)).unwrap();
        assert_eq!(outcome(&cache, &engine, &wasm), CacheOutcome::Stored);
    }

    #[test]
    fn artifact_owned_by_another_user_is_not_loaded() {
        let (_root, engine, cache, wasm) = setup();
        assert_eq!(outcome(&cache, &engine, &wasm), CacheOutcome::Stored);
        let path = artifact(&cache, &wasm);
        // Handing a file to another user takes root; CI and these machines run as root.
        // Elsewhere chown fails and the other checks above still run.
        if rustix::fs::chown(&path, Some(rustix::fs::Uid::from_raw(65534)), None).is_err() {
            return;
        }
        assert_eq!(outcome(&cache, &engine, &wasm), CacheOutcome::Stored);
    }
}
