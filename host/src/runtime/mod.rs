//! The plugin runtime: compiles (or loads from cache) components, links them against
//! the capability interfaces, and runs each tool call in a fresh, limited instance.

mod cache;
mod code;
pub mod context_manifest;
mod engine;
mod invocation;
mod limits;
pub mod manifest;
mod manifest_cache;
mod state;
mod stderr_tail;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::Context as _;
use tokio::sync::Semaphore;
use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Engine, Store};

pub use cache::{CacheOutcome, digest};
pub use context_manifest::ContextSpec;
pub use invocation::{Invocation, Reply};
pub use limits::Limits;
pub use manifest::{PluginManifest, ToolSpec};
pub use state::CallState;

use crate::access::{CallAccess, Journal};
use crate::activity::Activity;
use crate::argument_policy::ArgumentPolicy;
use crate::bindings::{PluginWithContext, tools};
use crate::capabilities::{Capability, CapabilitySet};
use crate::docker::DockerConnector;
use crate::errors::{ErrorCode, ToolFailure};
use crate::identity::Identity;
use crate::policy::{PluginSettings, Scope};
use crate::progress::{ProgressReporter, ProgressSink};
use cache::ComponentCache;
use engine::EpochTicker;

/// Where a plugin's bytes came from.
#[derive(Debug, Clone)]
pub struct PluginSource {
    /// `builtin:containers`, or the file path.
    pub origin: String,
    /// Borrowed from the binary for built-ins, read from disk otherwise.
    pub wasm: std::borrow::Cow<'static, [u8]>,
    /// Hex sha256 of `wasm`: its identity in the cache, in logs and in pins.
    pub digest: String,
    /// The grant a built-in plugin gets unless the policy says otherwise.
    pub builtin_grant: Option<CapabilitySet>,
    /// A built-in plugin's defaults beyond its grant; `None` for plugins from disk.
    pub profile: Option<crate::embedded::BuiltinProfile>,
}

/// A plugin ready to serve calls.
pub struct LoadedPlugin {
    pub manifest: PluginManifest,
    /// Its prompts and resource templates; empty for a plugin that exports only tools.
    pub context: ContextSpec,
    pub origin: String,
    pub digest: String,
    /// What the component imports: its permission request.
    pub requested: CapabilitySet,
    pub builtin_grant: Option<CapabilitySet>,
    pub profile: Option<crate::embedded::BuiltinProfile>,
    pub cache: CacheOutcome,
    /// Whether its manifests came from the cache rather than from running it.
    pub manifest_cached: bool,
    /// The operator's scope, argument rules and limits for this plugin.
    pub settings: PluginSettings,
    name: Arc<str>,
    code: code::Code,
    /// Calls that may run at once (`settings.limits.concurrent_calls_per_plugin`).
    permits: Semaphore,
    /// Calls waiting for a permit now.
    queued: AtomicUsize,
}

/// Leaves the queue when dropped, however the wait ended.
struct Queued<'a>(&'a AtomicUsize);

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl LoadedPlugin {
    /// Applies the operator's settings for this plugin (the router does, from the
    /// policy, before serving it).
    pub fn with_settings(mut self, settings: PluginSettings) -> Self {
        self.permits = Semaphore::new(settings.limits.concurrent_calls_per_plugin);
        self.settings = settings;
        self
    }

    pub fn name(&self) -> &Arc<str> {
        &self.name
    }

    /// A call slot: at once if one is free, else after waiting in the plugin's queue
    /// (first come, first served) until one frees or `deadline` passes. `Busy` when the
    /// queue is full or the wait reached the deadline.
    pub async fn slot(
        &self,
        deadline: tokio::time::Instant,
    ) -> Result<tokio::sync::SemaphorePermit<'_>, ToolFailure> {
        if let Ok(permit) = self.permits.try_acquire() {
            return Ok(permit);
        }
        let limits = &self.settings.limits;
        let ahead = self.queued.fetch_add(1, Ordering::SeqCst);
        let _queued = Queued(&self.queued);
        let busy = |why: String| {
            ToolFailure::new(
                ErrorCode::Busy,
                format!(
                    "plugin `{}` is running {} calls, its limit, and {why}",
                    self.name, limits.concurrent_calls_per_plugin
                ),
            )
            .with_hint("Retry when some of them have finished.")
        };
        if ahead >= limits.queued_calls_per_plugin {
            return Err(busy(format!(
                "{} more are waiting, the queue's limit",
                limits.queued_calls_per_plugin
            )));
        }
        match tokio::time::timeout_at(deadline, self.permits.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_closed)) => Err(busy("it is shutting down".into())),
            Err(_elapsed) => Err(busy(
                "none of them finished before this call's deadline".into(),
            )),
        }
    }
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("name", &self.name)
            .field("origin", &self.origin)
            .field("requested", &self.requested)
            .finish_non_exhaustive()
    }
}

/// What a plugin answered for a successful call.
#[derive(Debug, Clone)]
pub struct PluginOutput {
    pub text: String,
    pub structured: Option<String>,
    /// As the plugin sent them; the router checks them with the rest of the answer.
    pub attachments: Vec<crate::bindings::tools::Attachment>,
}

impl PluginOutput {
    /// Bytes of text and structured content, attachments aside.
    pub fn text_bytes(&self) -> usize {
        self.text.len() + self.structured.as_ref().map_or(0, String::len)
    }
}

pub struct Runtime {
    engine: Engine,
    linker: Linker<CallState>,
    cache: ComponentCache,
    limits: Limits,
    docker: Arc<DockerConnector>,
    identity: Arc<Identity>,
    activity: Arc<Activity>,
    _ticker: EpochTicker,
}

impl Runtime {
    pub fn new(
        limits: Limits,
        cache_dir: Option<&std::path::Path>,
        docker: Arc<DockerConnector>,
        identity: Arc<Identity>,
    ) -> anyhow::Result<Self> {
        let engine = engine::new_engine()
            .map_err(wasm_error)
            .context("configuring wasmtime")?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(wasm_error)
            .context("linking WASI")?;
        // Host imports see only the call's access, never the WASI context or limits.
        PluginWithContext::add_to_linker::<CallState, HasSelf<CallAccess>>(&mut linker, |state| {
            &mut state.access
        })
        .map_err(wasm_error)
        .context("linking the bulkhead:plugin interfaces")?;
        let ticker = EpochTicker::start(engine.clone()).context("starting the epoch ticker")?;
        let cache = ComponentCache::new(&engine, cache_dir);
        Ok(Runtime {
            engine,
            linker,
            cache,
            limits,
            docker,
            identity,
            activity: Arc::new(Activity::default()),
            _ticker: ticker,
        })
    }

    pub fn identity(&self) -> &Arc<Identity> {
        &self.identity
    }

    pub fn docker(&self) -> &Arc<DockerConnector> {
        &self.docker
    }

    /// When this server last touched each container.
    pub fn activity(&self) -> &Arc<Activity> {
        &self.activity
    }

    /// Compiles (or maps from the cache), links and asks a plugin for its manifest. On a
    /// warm start, when the cache holds both its artifact and its manifests, the code
    /// is only checked here and linked on the plugin's first call (see `code`).
    pub async fn load(&self, source: PluginSource) -> anyhow::Result<LoadedPlugin> {
        let digest = source.digest.clone();
        let started = Instant::now();
        let bytes = code::Bytes::of(&source);
        let artifact = self.cache.open_artifact(&digest);
        // A cached answer only stands beside a cached artifact: both are keyed by the
        // digest and live in the same trusted folder.
        let cached = artifact
            .as_ref()
            .and_then(|_| self.cache.manifests(&digest));
        let manifest_cached = cached.is_some();
        let (code, cache, requested, answer, to_cache) = match (artifact, cached) {
            (Some(artifact), Some(cached)) => (
                code::Code::on_first_call(artifact, bytes),
                CacheOutcome::Hit,
                check_imports(&cached.imports)?,
                cached.manifests,
                None,
            ),
            (artifact, _) => {
                let (component, cache) = self
                    .cache
                    .load_opened(&self.engine, &source.wasm, &digest, artifact)
                    .map_err(wasm_error)
                    .context("not a valid wasm32-wasip2 component")?;
                let imports = import_names(&self.engine, &component);
                let requested = check_imports(&imports)?;
                let linked = self.link(&component)?;
                let answer = self.fetch_manifests(&linked).await?;
                let to_cache = (cache != CacheOutcome::Uncached)
                    .then(|| manifest_cache::encode(&answer, &imports));
                (
                    code::Code::linked(linked, bytes),
                    cache,
                    requested,
                    answer,
                    to_cache,
                )
            }
        };
        let (raw, raw_context) = answer;
        let origin = if source.builtin_grant.is_some() {
            manifest::Origin::Builtin
        } else {
            manifest::Origin::ThirdParty
        };
        let compile = if manifest_cached {
            manifest::Compile::OnFirstUse
        } else {
            manifest::Compile::AtLoad
        };
        let manifest = manifest::validate(raw, origin, compile).context("invalid manifest")?;
        let namespace = source
            .profile
            .as_ref()
            .and_then(|profile| profile.resource_scheme)
            .unwrap_or(&manifest.name);
        let context = match raw_context {
            None => ContextSpec::default(),
            Some(_)
                if origin == manifest::Origin::ThirdParty
                    && namespace == context_manifest::BUILTIN_SCHEME =>
            {
                anyhow::bail!(
                    "a plugin loaded from disk cannot be named `{namespace}`: its resource scheme is reserved for the built-in diagnostics plugin"
                )
            }
            Some(raw) => {
                let prefix = (origin == manifest::Origin::ThirdParty)
                    .then(|| format!("{}_", manifest.name.replace('-', "_")));
                context_manifest::validate(raw, namespace, prefix.as_deref())
                    .context("invalid context manifest (prompts and resources)")?
            }
        };
        if manifest.tools.is_empty() && context.is_empty() {
            return Err(manifest::ManifestError::NothingOffered).context("invalid manifest");
        }
        if let Some(encoded) = to_cache {
            self.cache.store_manifests(&digest, &encoded);
        }
        tracing::info!(
            plugin = %manifest.name,
            version = %manifest.version,
            origin = %source.origin,
            digest = %&digest[..12],
            cache = ?cache,
            manifest_cached,
            requested = %requested,
            linked = code.is_linked(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "plugin loaded"
        );
        Ok(LoadedPlugin {
            name: Arc::from(manifest.name.as_str()),
            manifest,
            context,
            origin: source.origin,
            digest,
            requested,
            settings: PluginSettings {
                scope: Scope::default_for(source.builtin_grant.is_some()),
                rules: Arc::new(ArgumentPolicy::default()),
                limits: self.limits.clone(),
                read_dirs: Arc::from([]),
                removes_only_owned: false,
            },
            builtin_grant: source.builtin_grant,
            profile: source.profile,
            cache,
            manifest_cached,
            code,
            permits: Semaphore::new(self.limits.concurrent_calls_per_plugin),
            queued: AtomicUsize::new(0),
        })
    }

    /// The plugin's manifest and, when it exports `context`, its context manifest, from
    /// one instance.
    async fn fetch_manifests(
        &self,
        linked: &code::Linked,
    ) -> anyhow::Result<manifest_cache::RawManifests> {
        let access = CallAccess {
            plugin: Arc::from("(loading)"),
            tool: Arc::from("(manifest)"),
            allowed: CapabilitySet::EMPTY,
            docker: Arc::clone(&self.docker),
            rules: Arc::new(ArgumentPolicy::default()),
            identity: Arc::clone(&self.identity),
            scope: Scope::Owned,
            removes_only_owned: false,
            journal: Journal::default(),
            activity: Arc::clone(&self.activity),
            current: None,
            docker_calls_left: 0,
            log_messages_left: self.limits.log_messages_per_call,
            deadline: tokio::time::Instant::now() + self.limits.call_timeout,
            progress: None,
            client_log: None,
            client: None,
            client_requests_left: 0,
        };
        let mut store = self.new_store(access, self.limits.memory_bytes, &[]);
        let call = async {
            let instance = linked.pre.instantiate_async(&mut store).await?;
            linked.exports.manifests(&mut store, &instance).await
        };
        match tokio::time::timeout(self.limits.call_timeout, call).await {
            Ok(Ok(manifests)) => Ok(manifests),
            Ok(Err(err)) => {
                let stderr = store.data().stderr.text();
                let context = if stderr.is_empty() {
                    "the plugin trapped while producing its manifest".to_string()
                } else {
                    format!(
                        "the plugin trapped while producing its manifest, after writing to stderr: {}",
                        crate::sanitize::one_line(&stderr, 1024)
                    )
                };
                Err(wasm_error(err)).context(context)
            }
            Err(_) => anyhow::bail!(
                "the plugin did not produce its manifest within {:?}",
                self.limits.call_timeout
            ),
        }
    }

    fn new_store(
        &self,
        access: CallAccess,
        memory_bytes: usize,
        read_dirs: &[std::path::PathBuf],
    ) -> Store<CallState> {
        let state = CallState::new(access, memory_bytes, read_dirs);
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.memory);
        // Yield to the executor every epoch tick: a spinning guest then cannot hold a
        // worker thread, and the timeout around the call can fire.
        store.set_epoch_deadline(1);
        store.epoch_deadline_async_yield_and_update(1);
        store
    }

    /// Runs one tool in a fresh instance, under the plugin's settings. The caller holds
    /// the plugin's call slot and enforces `deadline` around this; primitives that wait
    /// end early enough to answer before it. `allowed` is what this call may use; the
    /// objects it touches go to `journal`, its progress to `progress`.
    pub async fn call(
        &self,
        plugin: &LoadedPlugin,
        call: CallContext,
        arguments: String,
    ) -> Result<PluginOutput, ToolFailure> {
        let name = call.tool.clone();
        match self
            .invoke(plugin, call, Invocation::Tool { name, arguments })
            .await?
        {
            Reply::Tool(output) => Ok(output),
            _ => unreachable!("a tool invocation answers with a tool reply"),
        }
    }

    /// Runs one invocation of either export in a fresh instance, like [`Runtime::call`].
    pub async fn invoke(
        &self,
        plugin: &LoadedPlugin,
        call: CallContext,
        invocation: Invocation,
    ) -> Result<Reply, ToolFailure> {
        let settings = &plugin.settings;
        let access = CallAccess {
            plugin: Arc::clone(&plugin.name),
            tool: Arc::from(call.tool.as_str()),
            allowed: call.allowed,
            docker: Arc::clone(&self.docker),
            rules: Arc::clone(&settings.rules),
            identity: call.identity,
            scope: settings.scope,
            removes_only_owned: settings.removes_only_owned,
            journal: call.journal,
            activity: Arc::clone(&self.activity),
            current: None,
            docker_calls_left: settings.limits.docker_calls_per_call,
            log_messages_left: settings.limits.log_messages_per_call,
            deadline: call.deadline,
            progress: call.progress.map(ProgressReporter::new),
            client_log: call.log,
            client: call.client,
            client_requests_left: crate::services::MAX_CLIENT_REQUESTS_PER_CALL,
        };
        let memory_bytes = settings.limits.memory_bytes;
        let linked = self.linked(plugin).await?;
        let mut store = self.new_store(access, memory_bytes, &settings.read_dirs);
        let result = async {
            let instance = linked.pre.instantiate_async(&mut store).await?;
            linked
                .exports
                .dispatch(&mut store, &instance, invocation)
                .await
        }
        .await;
        match result {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(error)) => Err(failure_from_plugin(plugin, error)),
            Err(trap) => Err(fault(
                &plugin.name,
                &trap,
                store.data().memory.hit,
                memory_bytes,
                &store.data().stderr.text(),
            )),
        }
    }
}

/// One call as the router hands it to the runtime.
pub struct CallContext {
    /// The tool's name, or what a context call is for (`prompt troubleshoot`): it
    /// attributes the plugin's log lines and the objects it touches.
    pub tool: String,
    /// Declared by the tool ∩ effective grant of the plugin.
    pub allowed: CapabilitySet,
    /// When the call's wall-clock deadline expires.
    pub deadline: tokio::time::Instant,
    pub journal: Journal,
    pub progress: Option<Arc<dyn ProgressSink>>,
    /// Where the plugin's log lines go besides the host's log.
    pub log: Option<Arc<dyn crate::client_log::LogSink>>,
    /// The MCP client, when the call may ask it something (the `client` import).
    pub client: Option<Arc<dyn crate::client_requests::ClientRequests>>,
    /// Whom the call acts for: stamped on what it creates, checked under `Owned`.
    pub identity: Arc<Identity>,
}

/// What a component imports: its permission request, and anything this host lacks.
#[derive(Debug, Clone, Default)]
pub struct Imports {
    pub requested: CapabilitySet,
    pub foreign: Vec<String>,
}

/// The WASI 0.2 packages every instance is linked against (all of them deny by
/// default: no preopened directory, no socket, no environment). Anything else under
/// `wasi:` (wasi:http, for one) is not provided.
const PROVIDED_WASI: &[&str] = &[
    "wasi:cli/",
    "wasi:clocks/",
    "wasi:filesystem/",
    "wasi:io/",
    "wasi:random/",
    "wasi:sockets/",
];

/// The names a component imports, as its type lists them.
fn import_names(engine: &Engine, component: &wasmtime::component::Component) -> Vec<String> {
    component
        .component_type()
        .imports(engine)
        .map(|(name, _)| name.to_string())
        .collect()
}

fn imports_of<'a>(names: impl IntoIterator<Item = &'a str>) -> Imports {
    let mut imports = Imports::default();
    for name in names {
        if let Some(cap) = Capability::from_import(name) {
            imports.requested.insert(cap);
        } else if !name.starts_with(crate::bindings::WIT_PACKAGE_NAMESPACE)
            && !PROVIDED_WASI
                .iter()
                .any(|package| name.starts_with(package))
        {
            imports.foreign.push(name.to_string());
        }
    }
    imports
}

/// The permission request of a component importing `names`; refused when it imports
/// what this host does not provide.
fn check_imports(names: &[String]) -> anyhow::Result<CapabilitySet> {
    let Imports { requested, foreign } = imports_of(names.iter().map(String::as_str));
    if !foreign.is_empty() {
        anyhow::bail!(
            "imports interfaces this host does not provide: {}",
            foreign.join(", ")
        );
    }
    Ok(requested)
}

/// Reads a component's imports without instantiating or running it.
pub fn inspect_imports(wasm: &[u8]) -> anyhow::Result<Imports> {
    let engine = engine::new_engine().map_err(wasm_error)?;
    let component = wasmtime::component::Component::from_binary(&engine, wasm)
        .map_err(wasm_error)
        .context("not a valid wasm32-wasip2 component")?;
    let names = import_names(&engine, &component);
    Ok(imports_of(names.iter().map(String::as_str)))
}

/// Whether compiled plugins under the cache root `root` would be trusted, by the rule
/// every load applies. Like a start, this creates the engine's folder (mode 0700) in
/// a root that passes the check.
pub(crate) fn cache_trusted(root: &std::path::Path) -> Result<(), String> {
    let engine = engine::new_engine().map_err(|err| format!("{err:#}"))?;
    let cache = ComponentCache::new(&engine, Some(root));
    let dir = cache.dir().ok_or("caching is off")?;
    cache::trusted_dir(dir)
}

/// wasmtime 48's error is not `anyhow::Error`; keep its whole cause chain in the text.
fn wasm_error(err: wasmtime::Error) -> anyhow::Error {
    anyhow::anyhow!("{err:#}")
}

fn fault(
    plugin: &str,
    trap: &wasmtime::Error,
    memory_hit: bool,
    memory_bytes: usize,
    stderr: &str,
) -> ToolFailure {
    if !stderr.is_empty() {
        // Debug formatting escapes newlines and controls: the plugin's text cannot
        // forge lines of the host's log.
        tracing::warn!(plugin, stderr = ?stderr, "what the plugin wrote to stderr last");
    }
    if memory_hit {
        return ToolFailure::new(
            ErrorCode::PluginFault,
            format!(
                "plugin `{plugin}` exceeded its memory limit of {} MiB and was stopped",
                memory_bytes >> 20
            ),
        );
    }
    let reason = match trap.downcast_ref::<wasmtime::Trap>() {
        Some(trap) => trap.to_string(),
        None => "it trapped".to_string(),
    };
    tracing::warn!(plugin, "plugin fault: {trap:?}");
    ToolFailure::new(
        ErrorCode::PluginFault,
        format!("plugin `{plugin}` crashed ({reason}); the server is unaffected"),
    )
}

/// A plugin's own error, as the model will see it. A third-party plugin's text is
/// attributed to it and cannot claim a host code (`DKR-nnn` in its words is masked), so
/// it cannot pass for a host denial; built-in plugins speak for the host.
fn failure_from_plugin(plugin: &LoadedPlugin, error: tools::ToolError) -> ToolFailure {
    use tools::ErrorCode as Wit;
    let code = match error.code {
        Wit::EngineUnreachable => ErrorCode::EngineUnreachable,
        Wit::NotFound => ErrorCode::NotFound,
        Wit::ImageNotFound => ErrorCode::ImageNotFound,
        Wit::InvalidArgument => ErrorCode::InvalidArgument,
        Wit::PermissionDenied => ErrorCode::PermissionDenied,
        Wit::PortInUse => ErrorCode::PortInUse,
        Wit::Conflict => ErrorCode::Conflict,
        Wit::Timeout => ErrorCode::Timeout,
        Wit::EngineError => ErrorCode::EngineError,
        Wit::BudgetExceeded => ErrorCode::BudgetExceeded,
        Wit::PluginFault => ErrorCode::PluginFault,
    };
    if plugin.builtin_grant.is_some() {
        return ToolFailure {
            code,
            message: error.message,
            hint: error.hint,
            plugin: None,
        };
    }
    ToolFailure {
        code,
        message: format!(
            "plugin `{}` says: {}",
            plugin.name,
            mask_host_codes(&error.message)
        ),
        hint: error.hint.as_deref().map(mask_host_codes),
        plugin: Some(plugin.name.to_string()),
    }
}

/// `DKR-008` → `DKR-***`: only the host hands out codes.
fn mask_host_codes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("DKR-") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 4..];
        let digits = after.chars().take_while(char::is_ascii_digit).count();
        if digits > 0 {
            out.push_str("DKR-***");
            rest = &after[digits..];
        } else {
            out.push_str("DKR-");
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool_names(plugin: &LoadedPlugin) -> Vec<(String, Option<manifest::Schema>)> {
        plugin
            .manifest
            .tools
            .iter()
            .map(|tool| (tool.name.clone(), tool.output_schema.clone()))
            .collect()
    }

    #[tokio::test]
    async fn a_warm_load_takes_the_manifest_from_the_cache_and_offers_the_same() {
        let root = tempfile::tempdir().unwrap();
        let runtime = runtime_caching_in(root.path());
        let source = crate::embedded::builtin_plugins()
            .into_iter()
            .find(|source| source.origin == "builtin:containers")
            .unwrap();
        let cold = runtime.load(source.clone()).await.unwrap();
        assert_eq!(
            (cold.cache, cold.manifest_cached),
            (CacheOutcome::Stored, false)
        );
        let warm = runtime.load(source.clone()).await.unwrap();
        assert_eq!(
            (warm.cache, warm.manifest_cached),
            (CacheOutcome::Hit, true)
        );
        // The cold load ran the plugin, so its code is linked; the warm one links on
        // the first call.
        assert!(cold.code.is_linked() && !warm.code.is_linked());
        runtime.linked(&warm).await.unwrap();
        assert!(warm.code.is_linked());
        assert_eq!(tool_names(&warm), tool_names(&cold));
        for (cold, warm) in cold.manifest.tools.iter().zip(&warm.manifest.tools) {
            assert_eq!(cold.input_schema, warm.input_schema);
            assert_eq!(cold.declared, warm.declared);
            assert_eq!(cold.description, warm.description);
        }

        // A damaged file is not trusted: the plugin is asked again and the file
        // rewritten, so the next start is warm again.
        let file = manifest_cache::path(runtime.cache.dir().unwrap(), &source.digest);
        std::fs::write(&file, b"{\"format\":").unwrap();
        let asked = runtime.load(source.clone()).await.unwrap();
        assert_eq!(
            (asked.cache, asked.manifest_cached),
            (CacheOutcome::Hit, false)
        );
        assert_eq!(tool_names(&asked), tool_names(&cold));
        let again = runtime.load(source).await.unwrap();
        assert!(again.manifest_cached);
    }

    fn runtime_caching_in(root: &std::path::Path) -> Runtime {
        Runtime::new(
            Limits::default(),
            Some(root),
            Arc::new(DockerConnector::new()),
            Arc::new(Identity::new(Some("team:cache")).unwrap()),
        )
        .unwrap()
    }

    /// Loads `source` twice, so the second load is warm (its code not linked yet), and
    /// damages the artifact that load checked, in place; the artifact's path beside.
    async fn warm_with_a_damaged_artifact(
        runtime: &Runtime,
        source: &PluginSource,
    ) -> (LoadedPlugin, std::path::PathBuf) {
        runtime.load(source.clone()).await.unwrap();
        let warm = runtime.load(source.clone()).await.unwrap();
        assert!(!warm.code.is_linked());
        let artifact = runtime
            .cache
            .dir()
            .unwrap()
            .join(format!("{}.cwasm", source.digest));
        std::fs::write(&artifact, DAMAGED).unwrap();
        (warm, artifact)
    }

    const DAMAGED: &[u8] = b"not an artifact";

    #[tokio::test]
    async fn a_builtin_whose_artifact_went_bad_is_compiled_again_on_its_first_call() {
        let root = tempfile::tempdir().unwrap();
        let runtime = runtime_caching_in(root.path());
        let source = crate::embedded::builtin_plugins().remove(0);
        let (warm, artifact) = warm_with_a_damaged_artifact(&runtime, &source).await;
        runtime.linked(&warm).await.unwrap();
        // The artifact was replaced, so the next start maps a good one again.
        assert_ne!(std::fs::read(&artifact).unwrap(), DAMAGED);
        let next = runtime.load(source.clone()).await.unwrap();
        assert_eq!(next.cache, CacheOutcome::Hit);
        runtime.linked(&next).await.unwrap();
    }

    #[tokio::test]
    async fn a_plugin_file_is_compiled_again_only_while_it_has_the_vetted_digest() {
        let root = tempfile::tempdir().unwrap();
        let runtime = runtime_caching_in(&root.path().join("cache"));
        let file = root.path().join("probe.wasm");
        std::fs::copy(bulkhead_testkit::PROBE_WASM, &file).unwrap();
        let source = crate::loader::read_source(&file).unwrap();
        let (warm, _) = warm_with_a_damaged_artifact(&runtime, &source).await;

        // Another file in its place: never compiled in the vetted one's stead.
        std::fs::copy(bulkhead_testkit::HELLO_WASM, &file).unwrap();
        let refused = runtime.linked(&warm).await.err().unwrap();
        assert_eq!(refused.code, ErrorCode::PluginFault);
        assert!(!warm.code.is_linked());

        // The vetted bytes back: the next call links.
        std::fs::copy(bulkhead_testkit::PROBE_WASM, &file).unwrap();
        runtime.linked(&warm).await.unwrap();
        assert!(warm.code.is_linked());
    }

    #[test]
    fn host_codes_are_masked_in_plugin_text() {
        assert_eq!(
            mask_host_codes("DKR-008 denied by policy (DKR-5, DKR-)"),
            "DKR-*** denied by policy (DKR-***, DKR-)"
        );
        assert_eq!(mask_host_codes("plain"), "plain");
    }
}
