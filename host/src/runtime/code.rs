//! A plugin's code, linked against the host: at load when the load had to compile or run
//! the plugin anyway, otherwise on the plugin's first call.
//!
//! A warm start takes a plugin's manifests and import names from the cache, so it
//! needs none of its code: the artifact is only opened and checked. Mapping it waits
//! for a call, so a plugin that is never called costs neither code pages nor wasmtime's
//! metadata for it. Measured with the default plugins (release build): RSS after a warm
//! start fell from 11.6 to 9.8 MiB, and a session that calls only the containers plugin
//! peaked at 19.6 MiB instead of 20.3.
//!
//! The descriptor checked at load is the one mapped later: the file that runs is the
//! file that was checked, whatever has been renamed onto the cache path since.
//!
//! Should the artifact not load when the call comes, the plugin is compiled again from
//! its bytes (embedded, or read again from its file and matched against the digest it
//! was vetted under) and the artifact replaced, so the server heals itself.

use std::borrow::Cow;
use std::fs;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use anyhow::Context as _;
use tokio::sync::OnceCell;
use wasmtime::component::{Component, InstancePre};

use super::cache;
use super::invocation::Exports;
use super::{CallState, LoadedPlugin, PluginSource, Runtime, wasm_error};
use crate::errors::{ErrorCode, ToolFailure};

/// A component linked against this host: ready to instantiate.
pub(super) struct Linked {
    pub pre: InstancePre<CallState>,
    pub exports: Exports,
}

/// Where a plugin's bytes can be had again, to compile it anew.
#[derive(Debug, Clone)]
pub(super) enum Bytes {
    /// Built into the binary.
    Embedded(&'static [u8]),
    /// Read from this file at load (its origin, which names it).
    File(PathBuf),
}

impl Bytes {
    pub(super) fn of(source: &PluginSource) -> Self {
        match source.wasm {
            Cow::Borrowed(bytes) => Bytes::Embedded(bytes),
            Cow::Owned(_) => Bytes::File(PathBuf::from(&source.origin)),
        }
    }

    /// The bytes, if they still have the digest the plugin was loaded (and vetted) with.
    fn again(&self, expected: &str) -> Result<Cow<'static, [u8]>, String> {
        let path = match self {
            Bytes::Embedded(bytes) => return Ok(Cow::Borrowed(bytes)),
            Bytes::File(path) => path,
        };
        let source = crate::loader::read_source(path)
            .map_err(|err| format!("its file {} cannot be read: {err:#}", path.display()))?;
        if source.digest != expected {
            return Err("its file has changed since the server loaded it".into());
        }
        Ok(source.wasm)
    }
}

pub(super) struct Code {
    linked: OnceCell<Linked>,
    /// The cached artifact checked at load, until it is linked.
    artifact: Mutex<Option<fs::File>>,
    bytes: Bytes,
}

impl Code {
    pub(super) fn linked(linked: Linked, bytes: Bytes) -> Self {
        Code {
            linked: OnceCell::new_with(Some(linked)),
            artifact: Mutex::new(None),
            bytes,
        }
    }

    pub(super) fn on_first_call(artifact: fs::File, bytes: Bytes) -> Self {
        Code {
            linked: OnceCell::new(),
            artifact: Mutex::new(Some(artifact)),
            bytes,
        }
    }

    pub(super) fn is_linked(&self) -> bool {
        self.linked.initialized()
    }

    /// A descriptor of the artifact to map, if it is still to be linked.
    fn artifact(&self) -> Option<fs::File> {
        let artifact = self
            .artifact
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        artifact.as_ref().and_then(|file| file.try_clone().ok())
    }

    fn forget_artifact(&self) {
        *self
            .artifact
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
    }
}

impl Runtime {
    /// Links a compiled component: its imports against the host's, its exports found.
    pub(super) fn link(&self, component: &Component) -> anyhow::Result<Linked> {
        let pre = self
            .linker
            .instantiate_pre(component)
            .map_err(wasm_error)
            .context("cannot link the component against bulkhead:plugin@0.1.0")?;
        let exports = Exports::find(&pre)?;
        Ok(Linked { pre, exports })
    }

    /// The plugin's linked code, linking it now if this is its first call. Calls that
    /// arrive together wait for one link.
    pub(super) async fn linked<'p>(
        &self,
        plugin: &'p LoadedPlugin,
    ) -> Result<&'p Linked, ToolFailure> {
        plugin
            .code
            .linked
            .get_or_try_init(|| self.link_on_first_call(plugin))
            .await
    }

    async fn link_on_first_call(&self, plugin: &LoadedPlugin) -> Result<Linked, ToolFailure> {
        let started = Instant::now();
        let mapped = match plugin.code.artifact() {
            Some(file) => {
                let engine = self.engine.clone();
                off_the_executor(move || {
                    cache::deserialize_artifact(&engine, &file).map_err(|err| format!("{err:#}"))
                })
                .await
            }
            None => Err("its cached artifact cannot be opened again".to_string()),
        };
        let (component, compiled) = match mapped {
            Ok(component) => (component, false),
            Err(reason) => {
                tracing::warn!(plugin = %plugin.name, "the cached artifact does not load, compiling the plugin again: {reason}");
                (self.compile_again(plugin).await?, true)
            }
        };
        let linked = self
            .link(&component)
            .map_err(|err| cannot_load(plugin, &format!("{err:#}")))?;
        plugin.code.forget_artifact();
        tracing::info!(
            plugin = %plugin.name,
            compiled,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "plugin linked on its first call"
        );
        Ok(linked)
    }

    /// Compiles the plugin from its bytes, as a cold load would, and replaces its
    /// artifact in the cache (or takes one another start has stored meanwhile).
    async fn compile_again(&self, plugin: &LoadedPlugin) -> Result<Component, ToolFailure> {
        let bytes = plugin.code.bytes.clone();
        let digest = plugin.digest.clone();
        let cache = self.cache.clone();
        let engine = self.engine.clone();
        off_the_executor(move || {
            let wasm = bytes.again(&digest)?;
            cache
                .load(&engine, &wasm, &digest)
                .map(|(component, _)| component)
                .map_err(|err| format!("it does not compile: {err:#}"))
        })
        .await
        .map_err(|reason| cannot_load(plugin, &reason))
    }
}

/// Runs blocking work (mapping a file, compiling) on the blocking pool.
async fn off_the_executor<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|err| Err(format!("loading it stopped: {err}")))
}

fn cannot_load(plugin: &LoadedPlugin, reason: &str) -> ToolFailure {
    ToolFailure::new(
        ErrorCode::PluginFault,
        format!("plugin `{}` could not be loaded: {reason}", plugin.name),
    )
    .with_hint("Restart the server to load its current file; other plugins are unaffected.")
}
