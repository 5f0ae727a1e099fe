//! Loading plugins: the built-ins, and files from disk, vetted (pin, signature) before
//! they are compiled. `plugin_files` keeps the folders' files and reloads them.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::router::Refused;
use crate::runtime::{LoadedPlugin, PluginSource, Runtime};
use crate::trust::TrustPolicy;

/// A plugin file larger than this is refused before it is read whole.
const MAX_PLUGIN_BYTES: u64 = 64 << 20;

/// The `.wasm` files of `dir`, sorted by name so load order (and so which of two
/// colliding plugins wins) is stable.
pub fn plugin_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading plugin directory {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "wasm") && path.is_file())
        .collect();
    files.sort();
    Ok(files)
}

pub fn read_source(path: &Path) -> anyhow::Result<PluginSource> {
    let size = std::fs::metadata(path)?.len();
    if size > MAX_PLUGIN_BYTES {
        anyhow::bail!("{size} bytes is over the {MAX_PLUGIN_BYTES}-byte plugin size limit");
    }
    let wasm = std::fs::read(path)?;
    Ok(PluginSource {
        origin: path.display().to_string(),
        digest: crate::runtime::digest(&wasm),
        wasm: std::borrow::Cow::Owned(wasm),
        builtin_grant: None,
        profile: None,
    })
}

/// Reads, vets (pin, signature), loads, and checks that a pinned file declares the name
/// it was pinned under: a grant follows the pinned file, not a name a file claims.
async fn load_vetted(
    runtime: &Runtime,
    path: &Path,
    trust: &TrustPolicy,
) -> anyhow::Result<LoadedPlugin> {
    let source = read_source(path)?;
    let pinned = trust
        .vet(path, &source.wasm, &source.digest)
        .map_err(|reason| anyhow::anyhow!("not vetted: {reason}"))?;
    let plugin = runtime.load(source).await?;
    if let Some(name) = pinned
        && plugin.manifest.name != name
    {
        anyhow::bail!(
            "not vetted: the file pinned for plugin `{name}` declares itself `{}`",
            plugin.manifest.name
        );
    }
    Ok(plugin)
}

/// Loads the built-in plugins. Each must load: a failure is a bug and stops the server.
pub async fn load_builtins(
    runtime: &Runtime,
    builtins: Vec<PluginSource>,
) -> anyhow::Result<Vec<LoadedPlugin>> {
    let mut loaded = Vec::with_capacity(builtins.len());
    for source in builtins {
        let origin = source.origin.clone();
        loaded.push(
            runtime
                .load(source)
                .await
                .with_context(|| format!("loading built-in plugin {origin}"))?,
        );
    }
    Ok(loaded)
}

/// Loads one plugin file from disk, vetted; on failure the reason, already logged.
pub async fn load_file(
    runtime: &Runtime,
    path: &Path,
    trust: &TrustPolicy,
) -> Result<LoadedPlugin, Refused> {
    load_vetted(runtime, path, trust).await.map_err(|err| {
        let origin = path.display().to_string();
        let reason = format!("{err:#}");
        tracing::error!(origin = %origin, "plugin refused: {reason}");
        Refused { origin, reason }
    })
}
