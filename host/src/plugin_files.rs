//! The plugins of the `--plugin-dir` folders, file by file, and `serve --watch`: the
//! folders are polled, and a plugin file added, replaced or removed is loaded, swapped
//! or dropped without a restart.
//!
//! A reload vets every changed file exactly as a start does (pin, signature, name),
//! then builds a whole new router from the built-ins and every file's plugin, under the
//! same policy, and swaps it in (see `transport::catalog`): calls in flight finish on the
//! plugins they started with. A file that changed but does not load leaves the version
//! loaded before it serving, and the reason is logged; only when the very bytes that
//! were vetted before fail now (their signature was removed or no longer verifies) is
//! the plugin dropped.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::audit::AuditLog;
use crate::loader;
use crate::policy::Policy;
use crate::router::{Refused, Router};
use crate::runtime::{LoadedPlugin, Runtime};
use crate::transport::catalog::Catalog;
use crate::trust::{TrustPolicy, signature_path};

/// How often `--watch` looks at the plugin folders. A change is acted on once it has
/// held still for one more look, so a file still being copied in is not loaded half
/// written (an atomic rename into the folder is better still).
pub const WATCH_INTERVAL: Duration = Duration::from_millis(500);

/// What builds a router the same way every time: at start and on each reload.
pub struct RouterFactory {
    pub runtime: Arc<Runtime>,
    pub policy: Policy,
    pub trust: TrustPolicy,
    pub audit: Option<Arc<AuditLog>>,
}

impl RouterFactory {
    /// A router over the built-ins, then the loaded files in folder and name order;
    /// files that did not load are listed as refused.
    pub fn build(&self, builtins: &[Arc<LoadedPlugin>], files: &PluginFiles) -> Router {
        let plugins = builtins
            .iter()
            .cloned()
            .chain(files.loaded().cloned())
            .collect();
        let mut router = Router::new(Arc::clone(&self.runtime), plugins, &self.policy);
        router.add_refused(files.refused().cloned().collect());
        if let Some(audit) = &self.audit {
            router = router.with_audit(Arc::clone(audit));
        }
        router
    }
}

/// What identifies one version of a plugin file (and of its signature) without
/// reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    file: FileStamp,
    signature: Option<FileStamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileStamp {
    device: u64,
    inode: u64,
    len: u64,
    modified_ns: i128,
}

impl FileStamp {
    fn of(path: &Path) -> std::io::Result<FileStamp> {
        let meta = std::fs::metadata(path)?;
        Ok(FileStamp {
            device: meta.dev(),
            inode: meta.ino(),
            len: meta.len(),
            modified_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
        })
    }
}

impl Stamp {
    fn of(path: &Path) -> std::io::Result<Stamp> {
        Ok(Stamp {
            file: FileStamp::of(path)?,
            signature: FileStamp::of(&signature_path(path)).ok(),
        })
    }
}

/// A file's key: its folder's place among `--plugin-dir`s, then its path, so plugins
/// load (and win name collisions) in the same order as at start.
type Key = (usize, PathBuf);

enum Outcome {
    Loaded(Arc<LoadedPlugin>),
    Refused(Refused),
}

struct Entry {
    stamp: Stamp,
    outcome: Outcome,
}

/// What a reload did, for its log line.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changes {
    pub added: Vec<String>,
    pub replaced: Vec<String>,
    pub removed: Vec<String>,
    /// Changed files that did not load; the version before them still serves.
    pub kept: Vec<String>,
    /// Files that did not load and had no version before (or lost their vetting).
    pub refused: Vec<String>,
}

impl Changes {
    /// Whether what is served changed (a file refused anew changes nothing served:
    /// clients are not told of it, the log is).
    pub fn swaps(&self) -> bool {
        !(self.added.is_empty() && self.replaced.is_empty() && self.removed.is_empty())
    }
}

/// The plugin files of the `--plugin-dir` folders, as last loaded.
pub struct PluginFiles {
    dirs: Vec<PathBuf>,
    entries: BTreeMap<Key, Entry>,
}

impl PluginFiles {
    /// Loads every plugin file of `dirs` (a folder that cannot be read stops the start).
    pub async fn load(dirs: &[PathBuf], factory: &RouterFactory) -> anyhow::Result<Self> {
        let mut files = PluginFiles {
            dirs: dirs.to_vec(),
            entries: BTreeMap::new(),
        };
        for (index, dir) in dirs.iter().enumerate() {
            for path in loader::plugin_files(dir)? {
                // Stamped before it is read: a change after this shows at the next look.
                let Ok(stamp) = Stamp::of(&path) else {
                    continue;
                };
                let outcome = load(&path, factory).await;
                files
                    .entries
                    .insert((index, path), Entry { stamp, outcome });
            }
        }
        Ok(files)
    }

    /// The plugins loaded from files, in load order.
    pub fn loaded(&self) -> impl Iterator<Item = &Arc<LoadedPlugin>> {
        self.entries
            .values()
            .filter_map(|entry| match &entry.outcome {
                Outcome::Loaded(plugin) => Some(plugin),
                Outcome::Refused(_) => None,
            })
    }

    fn refused(&self) -> impl Iterator<Item = &Refused> {
        self.entries
            .values()
            .filter_map(|entry| match &entry.outcome {
                Outcome::Refused(refused) => Some(refused),
                Outcome::Loaded(_) => None,
            })
    }

    /// The files of the folders now, by stamp. A folder that cannot be read now keeps
    /// the files it had (a folder briefly gone must not unload everything).
    fn look(&self) -> BTreeMap<Key, Stamp> {
        let mut seen = BTreeMap::new();
        for (index, dir) in self.dirs.iter().enumerate() {
            match loader::plugin_files(dir) {
                Ok(paths) => {
                    for path in paths {
                        if let Ok(stamp) = Stamp::of(&path) {
                            seen.insert((index, path), stamp);
                        }
                    }
                }
                Err(err) => {
                    tracing::warn!(dir = %dir.display(), "cannot read a plugin folder, keeping its plugins: {err:#}");
                    for (key, entry) in self.entries.range((index, PathBuf::new())..) {
                        if key.0 != index {
                            break;
                        }
                        seen.insert(key.clone(), entry.stamp.clone());
                    }
                }
            }
        }
        seen
    }

    /// Whether `seen` shows exactly the files as last loaded.
    fn matches(&self, seen: &BTreeMap<Key, Stamp>) -> bool {
        seen.len() == self.entries.len()
            && seen
                .iter()
                .zip(&self.entries)
                .all(|((key, stamp), (loaded, entry))| key == loaded && *stamp == entry.stamp)
    }

    /// Brings the entries to what `seen` shows: loads new and changed files, drops
    /// removed ones.
    async fn apply(&mut self, seen: BTreeMap<Key, Stamp>, factory: &RouterFactory) -> Changes {
        let mut changes = Changes::default();
        let gone: Vec<Key> = self
            .entries
            .keys()
            .filter(|key| !seen.contains_key(*key))
            .cloned()
            .collect();
        for key in gone {
            if let Some(Entry {
                outcome: Outcome::Loaded(plugin),
                ..
            }) = self.entries.remove(&key)
            {
                changes.removed.push(plugin.manifest.name.clone());
            }
        }
        for (key, stamp) in seen {
            let previous = self.entries.get(&key);
            if previous.is_some_and(|entry| entry.stamp == stamp) {
                continue;
            }
            let origin = key.1.display().to_string();
            let outcome = load(&key.1, factory).await;
            let outcome = match (outcome, previous.map(|entry| &entry.outcome)) {
                (Outcome::Loaded(plugin), None | Some(Outcome::Refused(_))) => {
                    changes.added.push(plugin.manifest.name.clone());
                    Outcome::Loaded(plugin)
                }
                (Outcome::Loaded(plugin), Some(Outcome::Loaded(old))) => {
                    if plugin.digest == old.digest {
                        // Touched, not changed: keep serving the same plugin (its call
                        // slots and queue included).
                        Outcome::Loaded(Arc::clone(old))
                    } else {
                        changes.replaced.push(plugin.manifest.name.clone());
                        Outcome::Loaded(plugin)
                    }
                }
                (Outcome::Refused(refused), Some(Outcome::Loaded(old)))
                    if !same_bytes(&key.1, &old.digest) =>
                {
                    tracing::error!(origin = %origin, plugin = %old.manifest.name, version = %old.manifest.version, "the new file does not load; the version loaded before keeps serving: {}", refused.reason);
                    changes.kept.push(old.manifest.name.clone());
                    Outcome::Loaded(Arc::clone(old))
                }
                (Outcome::Refused(refused), previous) => {
                    if let Some(Outcome::Loaded(old)) = previous {
                        changes.removed.push(old.manifest.name.clone());
                    }
                    changes.refused.push(origin);
                    Outcome::Refused(refused)
                }
            };
            self.entries.insert(key, Entry { stamp, outcome });
        }
        changes
    }
}

/// Whether the file at `path` still holds the bytes whose sha256 is `digest`.
fn same_bytes(path: &Path, digest: &str) -> bool {
    loader::read_source(path).is_ok_and(|source| source.digest == digest)
}

async fn load(path: &Path, factory: &RouterFactory) -> Outcome {
    match loader::load_file(&factory.runtime, path, &factory.trust).await {
        Ok(plugin) => Outcome::Loaded(Router::settle(plugin, &factory.policy)),
        Err(refused) => Outcome::Refused(refused),
    }
}

/// `serve --watch`: looks at the plugin folders every [`WATCH_INTERVAL`] and, after a
/// change held still for one look, reloads what changed and swaps the new router into
/// `catalog`. Runs until dropped.
pub async fn watch(
    mut files: PluginFiles,
    builtins: Vec<Arc<LoadedPlugin>>,
    factory: RouterFactory,
    catalog: Arc<Catalog>,
) {
    let mut settling: Option<BTreeMap<Key, Stamp>> = None;
    let mut ticks = tokio::time::interval(WATCH_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let seen = files.look();
        if files.matches(&seen) {
            settling = None;
            continue;
        }
        if settling.as_ref() != Some(&seen) {
            settling = Some(seen);
            continue;
        }
        settling = None;
        // Compiling a new plugin is CPU work that can take seconds: keep it off the
        // worker other tasks share.
        let changes = tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current().block_on(files.apply(seen, &factory))
        });
        if !changes.swaps() {
            tracing::warn!(kept = ?changes.kept, refused = ?changes.refused, "plugin reload: nothing swapped");
            continue;
        }
        let router = factory.build(&builtins, &files);
        tracing::info!(
            added = ?changes.added,
            replaced = ?changes.replaced,
            removed = ?changes.removed,
            kept = ?changes.kept,
            refused = ?changes.refused,
            tools = router.listed().count(),
            "plugins reloaded"
        );
        catalog.replace(Arc::new(router)).await;
    }
}
