//! Test kit for Bulkhead: the fixture plugins (built to wasm32-wasip2 by build.rs), a
//! harness that spawns the real `bulkhead` binary and speaks to it with rmcp's MCP
//! client over stdio, and helpers for the real Docker engine the tests run against.
//!
//! Third-party plugin authors can use it the same way: start a server with their
//! plugin directory and grants, call tools, assert on typed answers.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{Context as _, bail};
use rmcp::handler::client::ClientHandler;
use rmcp::model::{
    CallToolRequest, CallToolRequestParams, CallToolResult, ClientRequest,
    ProgressNotificationParam, ProgressToken, ServerResult, Tool,
};
use rmcp::service::{
    NotificationContext, PeerRequestOptions, RequestHandle, RoleClient, RunningService,
    ServiceError,
};
use rmcp::transport::TokioChildProcess;
use serde_json::Value;

mod http;
mod registry;
pub use http::{HttpReply, HttpServe, initialize_body};
pub use registry::{LocalRegistry, SilentRegistry, free_port};

/// The probe fixture plugin: misbehaves on purpose (see tests/fixtures/probe).
pub const PROBE_WASM: &str = env!("BULKHEAD_PROBE_WASM");

/// The conformance fixture plugin `test`: what the MCP conformance suite calls.
pub const CONFORMANCE_WASM: &str = env!("BULKHEAD_CONFORMANCE_WASM");

/// The `reload` fixture plugin, version 1 (`reload_version`, `reload_wait`).
pub const RELOAD_V1_WASM: &str = env!("BULKHEAD_RELOAD_V1_WASM");

/// The `reload` fixture plugin, version 2 (one tool more: `reload_added`).
pub const RELOAD_V2_WASM: &str = env!("BULKHEAD_RELOAD_V2_WASM");

/// The guest SDK's example plugin (`plugins/sdk/examples/hello.rs`, shown in its README).
pub const HELLO_WASM: &str = env!("BULKHEAD_HELLO_WASM");

/// A tiny busybox image that scripts/ensure-test-images.sh imports (no registry here).
pub const TEST_IMAGE: &str = "bulkhead-test/busybox:latest";

/// The test client's handler: records every progress notification the server sends,
/// the URIs of `notifications/resources/updated`, and counts
/// `notifications/tools/list_changed`.
#[derive(Debug, Clone, Default)]
pub struct ProgressRecorder {
    seen: Arc<Mutex<Vec<ProgressNotificationParam>>>,
    updated: Arc<Mutex<Vec<String>>>,
    tool_list_changes: Arc<std::sync::atomic::AtomicUsize>,
}

impl ClientHandler for ProgressRecorder {
    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.tool_list_changes
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    async fn on_resource_updated(
        &self,
        params: rmcp::model::ResourceUpdatedNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        if let Ok(mut updated) = self.updated.lock() {
            updated.push(params.uri);
        }
    }

    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        if let Ok(mut seen) = self.seen.lock() {
            seen.push(params);
        }
    }
}

/// A running `bulkhead serve` and an MCP client session with it.
pub struct Server {
    client: RunningService<RoleClient, ProgressRecorder>,
    progress: ProgressRecorder,
    stderr_log: PathBuf,
    pid: Option<u32>,
    /// The stdio server's own files; an HTTP session's belong to its [`HttpServe`].
    _scratch: Option<tempfile::TempDir>,
}

/// How to start a server.
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    /// Share compiled plugins between servers (a start then skips compilation).
    pub cache_dir: Option<PathBuf>,
}

impl ServerOptions {
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_dir = Some(dir.into());
        self
    }

    /// `binary serve [transport…] --cache-dir … [args…]` with these options' environment;
    /// the cache defaults to one in `scratch`.
    fn serve_command(
        &self,
        binary: &Path,
        transport: &[&str],
        scratch: &Path,
    ) -> tokio::process::Command {
        let cache_dir = self
            .cache_dir
            .clone()
            .unwrap_or_else(|| scratch.join("cache"));
        let mut command = tokio::process::Command::new(binary);
        command
            .arg("serve")
            .args(transport)
            .arg("--cache-dir")
            .arg(&cache_dir)
            .args(&self.args)
            .env("BULKHEAD_LOG", "info")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        command
    }
}

impl Server {
    /// Spawns `binary serve …` and completes the MCP handshake.
    pub async fn start(binary: &Path, options: ServerOptions) -> anyhow::Result<Server> {
        Server::start_with(binary, options, rmcp::ClientLifecycleMode::Initialize).await
    }

    /// Like [`Server::start`], with the client's lifecycle: `initialize` (up to
    /// 2025-11-25) or the 2026-07-28 revision's `server/discover`.
    pub async fn start_with(
        binary: &Path,
        options: ServerOptions,
        lifecycle: rmcp::ClientLifecycleMode,
    ) -> anyhow::Result<Server> {
        let scratch = tempfile::tempdir()?;
        let stderr_log = scratch.path().join("stderr.log");
        let command = options.serve_command(binary, &[], scratch.path());
        let (transport, _) = TokioChildProcess::builder(command)
            .stderr(Stdio::from(std::fs::File::create(&stderr_log)?))
            .spawn()
            .context("spawning bulkhead")?;
        let pid = transport.id();
        let progress = ProgressRecorder::default();
        let client =
            rmcp::ClientServiceExt::serve_with_lifecycle(progress.clone(), transport, lifecycle)
                .await
                .with_context(|| {
                    format!(
                        "MCP handshake failed; server stderr:\n{}",
                        std::fs::read_to_string(&stderr_log).unwrap_or_default()
                    )
                })?;
        Ok(Server {
            client,
            progress,
            stderr_log,
            pid,
            _scratch: Some(scratch),
        })
    }

    /// The server process's id (for reading its memory from /proc).
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    pub fn client(&self) -> &RunningService<RoleClient, ProgressRecorder> {
        &self.client
    }

    /// URIs the server said were updated (`notifications/resources/updated`), so far.
    pub fn updated_resources(&self) -> Vec<String> {
        self.progress
            .updated
            .lock()
            .map(|updated| updated.clone())
            .unwrap_or_default()
    }

    /// How many `notifications/tools/list_changed` arrived so far.
    pub fn tool_list_changes(&self) -> usize {
        self.progress
            .tool_list_changes
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Waits until `tool_list_changes()` reaches `count`, or panics after `limit` with
    /// the server's log.
    pub async fn wait_for_tool_list_changes(&self, count: usize, limit: std::time::Duration) {
        let start = std::time::Instant::now();
        while self.tool_list_changes() < count {
            if start.elapsed() > limit {
                panic!(
                    "{} of {count} tools/list_changed notifications after {limit:?}; server stderr:\n{}",
                    self.tool_list_changes(),
                    self.stderr()
                );
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Progress notifications received so far for `token`.
    pub fn progress(&self, token: &ProgressToken) -> Vec<ProgressNotificationParam> {
        self.progress
            .seen
            .lock()
            .map(|seen| {
                seen.iter()
                    .filter(|p| &p.progress_token == token)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Sends a tool call and hands back its handle (with the progress token the client
    /// put into `_meta`), to await or to cancel with `notifications/cancelled`.
    pub async fn start_call(
        &self,
        name: &str,
        arguments: Value,
    ) -> Result<RequestHandle<RoleClient>, ServiceError> {
        let mut params = CallToolRequestParams::new(name.to_string());
        if let Value::Object(map) = arguments {
            params = params.with_arguments(map);
        }
        self.client
            .peer()
            .send_cancellable_request(
                ClientRequest::CallToolRequest(CallToolRequest::new(params)),
                PeerRequestOptions::no_options(),
            )
            .await
    }

    /// Calls a tool with a progress token; answers the result and the token, whose
    /// notifications [`Server::progress`] returns.
    pub async fn call_with_progress(
        &self,
        name: &str,
        arguments: Value,
    ) -> (Answer, ProgressToken) {
        let handle = match self.start_call(name, arguments).await {
            Ok(handle) => handle,
            Err(err) => panic!("{name}: cannot send: {err}"),
        };
        let token = handle.progress_token.clone();
        match handle.await_response().await {
            Ok(ServerResult::CallToolResult(result)) => (Answer(result), token),
            other => panic!(
                "{name}: unexpected response {other:?}; server stderr:\n{}",
                self.stderr()
            ),
        }
    }

    /// What the server wrote to stderr so far (its log).
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_log).unwrap_or_default()
    }

    pub async fn tools(&self) -> anyhow::Result<Vec<Tool>> {
        Ok(self.client.list_all_tools().await?)
    }

    pub async fn tool_names(&self) -> anyhow::Result<Vec<String>> {
        Ok(self
            .tools()
            .await?
            .into_iter()
            .map(|t| t.name.to_string())
            .collect())
    }

    /// Calls a tool; a protocol-level error comes back as `Err`.
    pub async fn try_call(
        &self,
        name: &str,
        arguments: Value,
    ) -> Result<CallToolResult, ServiceError> {
        let mut params = CallToolRequestParams::new(name.to_string());
        if let Value::Object(map) = arguments {
            params = params.with_arguments(map);
        }
        self.client.call_tool(params).await
    }

    /// Calls a tool that must answer (successfully or with a tool error).
    pub async fn call(&self, name: &str, arguments: Value) -> Answer {
        match self.try_call(name, arguments).await {
            Ok(result) => Answer(result),
            Err(err) => panic!(
                "{name}: protocol error {err}; server stderr:\n{}",
                self.stderr()
            ),
        }
    }

    /// Closes stdin and waits for the server to exit.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.client
            .cancel()
            .await
            .context("closing the MCP session")?;
        Ok(())
    }
}

/// A tool call's result with assertions that say what went wrong.
#[derive(Debug, Clone)]
pub struct Answer(pub CallToolResult);

impl Answer {
    pub fn is_error(&self) -> bool {
        self.0.is_error == Some(true)
    }

    /// All text content joined.
    pub fn text(&self) -> String {
        self.0
            .content
            .iter()
            .filter_map(|block| block.as_text().map(|t| t.text.clone()))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The structured content of a successful call.
    #[track_caller]
    pub fn ok(&self) -> &Value {
        assert!(
            !self.is_error(),
            "expected success, got error: {}",
            self.text()
        );
        self.0
            .structured_content
            .as_ref()
            .unwrap_or_else(|| panic!("no structured content: {}", self.text()))
    }

    /// The stable error code (`DKR-nnn`) of a failed call.
    #[track_caller]
    pub fn error_code(&self) -> String {
        assert!(
            self.is_error(),
            "expected an error, got success: {}",
            self.text()
        );
        let meta = self
            .0
            .meta
            .as_ref()
            .and_then(|m| m.0.get("bulkhead/error"))
            .cloned();
        let code = meta
            .as_ref()
            .and_then(|m| m.get("code"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let code = code.unwrap_or_else(|| panic!("error without a code: {}", self.text()));
        assert!(
            self.text().starts_with(&code),
            "text should start with the code: {}",
            self.text()
        );
        code
    }

    #[track_caller]
    pub fn expect_error(&self, code: &str) -> &Self {
        assert_eq!(self.error_code(), code, "{}", self.text());
        self
    }
}

/// A unique, recognisable name for objects a test creates.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    format!(
        "bulkhead-test-{prefix}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Runs the docker CLI for test setup and cleanup (never for the behaviour under test).
pub fn docker(args: &[&str]) -> anyhow::Result<String> {
    let output = std::process::Command::new("docker")
        .args(args)
        .output()
        .context("running the docker CLI")?;
    if !output.status.success() {
        bail!(
            "docker {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// Removes, on drop, the containers, networks and volumes a test created (by the names
/// it chose), so a failing test leaves nothing behind. Touches nothing else.
#[derive(Debug, Default)]
pub struct Cleanup {
    containers: Vec<String>,
    images: Vec<String>,
    networks: Vec<String>,
    volumes: Vec<String>,
}

impl Cleanup {
    pub fn container(&mut self, name: &str) -> String {
        self.containers.push(name.to_string());
        name.to_string()
    }

    /// An image reference (tag) the test creates; removed (untagged) on drop.
    pub fn image(&mut self, reference: &str) -> String {
        self.images.push(reference.to_string());
        reference.to_string()
    }

    pub fn network(&mut self, name: &str) -> String {
        self.networks.push(name.to_string());
        name.to_string()
    }

    pub fn volume(&mut self, name: &str) -> String {
        self.volumes.push(name.to_string());
        name.to_string()
    }

    /// Runs `script` under `sh -c` in a detached test-image container named after
    /// `prefix`; its name and id.
    pub fn detached_shell(&mut self, prefix: &str, script: &str) -> (String, String) {
        let name = self.container(&unique_name(prefix));
        let id = docker(&["run", "-d", "--name", &name, TEST_IMAGE, "sh", "-c", script])
            .expect("the test image runs");
        (name, id.trim().to_string())
    }

    /// Runs a container named after `prefix` whose logs grow by a line every second
    /// (a resource that keeps changing); its name.
    pub fn chatty_container(&mut self, prefix: &str) -> String {
        self.detached_shell(prefix, "while true; do date +%s%N; sleep 1; done")
            .0
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        // Containers first: they hold networks and volumes.
        let commands = self
            .containers
            .iter()
            .map(|name| ["rm", "-f", name.as_str()])
            .chain(
                self.networks
                    .iter()
                    .map(|name| ["network", "rm", name.as_str()]),
            )
            .chain(
                self.volumes
                    .iter()
                    .map(|name| ["volume", "rm", name.as_str()]),
            );
        for args in commands {
            let _ = std::process::Command::new("docker")
                .args(args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        for reference in &self.images {
            let _ = std::process::Command::new("docker")
                .args(["image", "rm", reference])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// A plugin directory holding only the probe fixture.
pub fn probe_plugin_dir() -> anyhow::Result<tempfile::TempDir> {
    plugin_dir(PROBE_WASM, "probe.wasm")
}

/// A plugin directory holding one component, under `file_name`.
pub fn plugin_dir(component: &str, file_name: &str) -> anyhow::Result<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    std::fs::copy(component, dir.path().join(file_name))
        .with_context(|| format!("copying {component}"))?;
    Ok(dir)
}

/// The repository's root folder.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Builds the plugin project in `src`, written in `language` (`python` or `js`), into
/// the component `out`, with the repository's build script for that language (which
/// installs the toolchain outside the clone the first time, and caches builds by their
/// sources). `env` goes to the script.
pub fn build_plugin_project(
    language: &str,
    src: &Path,
    out: &Path,
    env: &[(&str, &str)],
) -> anyhow::Result<()> {
    let script = workspace_root().join(format!("scripts/build-{language}-plugin.sh"));
    let output = std::process::Command::new("bash")
        .arg(&script)
        .arg(src)
        .arg(out)
        .envs(env.iter().copied())
        .output()
        .with_context(|| format!("running {}", script.display()))?;
    if !output.status.success() {
        anyhow::bail!(
            "{} {} failed:\n{}",
            script.display(),
            src.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}
