//! Start-up: gather plugin sources (built-ins, then `--plugin-dir` files in name
//! order), load each, and report what could not be loaded without stopping the rest.

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

/// Loads every source. Built-in plugins must load (a failure is a bug and stops the
/// server); a plugin from disk that fails is refused with its reason and the rest load.
pub async fn load_all(
    runtime: &Runtime,
    builtins: Vec<PluginSource>,
    dirs: &[PathBuf],
    trust: &TrustPolicy,
) -> anyhow::Result<(Vec<LoadedPlugin>, Vec<Refused>)> {
    let mut loaded = Vec::new();
    let mut refused = Vec::new();
    for source in builtins {
        let origin = source.origin.clone();
        loaded.push(
            runtime
                .load(source)
                .await
                .with_context(|| format!("loading built-in plugin {origin}"))?,
        );
    }
    for dir in dirs {
        for path in plugin_files(dir)? {
            let origin = path.display().to_string();
            let result = load_vetted(runtime, &path, trust).await;
            match result {
                Ok(plugin) => loaded.push(plugin),
                Err(err) => {
                    let reason = format!("{err:#}");
                    tracing::error!(origin = %origin, "plugin refused: {reason}");
                    refused.push(Refused { origin, reason });
                }
            }
        }
    }
    Ok((loaded, refused))
}
