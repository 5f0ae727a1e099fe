//! Wiring: build the runtime, load plugins, build the router, then serve or report.

use std::io::Write;
use std::sync::Arc;

use anyhow::Context as _;
use rmcp::ServiceExt;

use crate::audit::AuditLog;
use crate::caller::Caller;
use crate::cli::ServeArgs;
use crate::docker::DockerConnector;
use crate::plugin_files::{PluginFiles, RouterFactory};
use crate::reaper::Reaper;
use crate::router::Router;
use crate::runtime::{LoadedPlugin, Runtime};
use crate::sessions::SessionLock;
use crate::transport::catalog::Catalog;
use crate::transport::http::{HttpOptions, HttpServer};
use crate::transport::http_gate::{Authentication, MCP_PATH};
use crate::transport::mcp::{Callers, McpServer};

/// Stops a background task when the scope that started it ends.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

pub async fn build_router(args: ServeArgs) -> anyhow::Result<Router> {
    Ok(load_plugins(&args.with_policy_file()?).await?.router())
}

/// Everything loaded, and what it takes to load it again (`--watch`).
struct Loaded {
    factory: RouterFactory,
    builtins: Vec<Arc<LoadedPlugin>>,
    files: PluginFiles,
}

impl Loaded {
    fn router(&self) -> Router {
        self.factory.build(&self.builtins, &self.files)
    }
}

/// The plugins for arguments already folded with their policy file.
async fn load_plugins(args: &ServeArgs) -> anyhow::Result<Loaded> {
    let policy = args.policy()?;
    let identity = Arc::new(args.identity()?);
    tracing::info!(principal = %identity.principal, session = %identity.session, "acting for");
    let cache_root = args.cache_root();
    let runtime = Arc::new(Runtime::new(
        policy.limits.clone(),
        cache_root.as_deref(),
        Arc::new(DockerConnector::new()),
        Arc::clone(&identity),
    )?);
    let builtins = if args.no_default_plugins {
        Vec::new()
    } else {
        crate::embedded::builtin_plugins()
    };
    let builtins: Vec<Arc<LoadedPlugin>> = crate::loader::load_builtins(&runtime, builtins)
        .await?
        .into_iter()
        .map(|plugin| Router::settle(plugin, &policy))
        .collect();
    let audit = match &args.audit_log {
        Some(path) => Some(Arc::new(AuditLog::open(path)?)),
        None => None,
    };
    let factory = RouterFactory {
        runtime,
        policy,
        trust: args.file_rules.trust.clone(),
        audit,
    };
    let files = PluginFiles::load(&args.plugin_dirs, &factory).await?;
    let loaded = Loaded {
        factory,
        builtins,
        files,
    };
    for name in loaded.factory.policy.grants.keys() {
        if !loaded
            .builtins
            .iter()
            .chain(loaded.files.loaded())
            .any(|plugin| &plugin.manifest.name == name)
        {
            // A policy file is written ahead of time: a grant for a plugin that did not
            // load is a mistake worth stopping for (a typo, or a refused plugin).
            if args.file_rules.granted_plugins.contains(name) {
                anyhow::bail!(
                    "the policy file grants capabilities to plugin `{name}`, which is not loaded"
                );
            }
            tracing::warn!(plugin = %name, "--grant names a plugin that is not loaded");
        }
    }
    Ok(loaded)
}

/// `bulkhead serve`: MCP over stdio until the client closes stdin, or over HTTP until
/// SIGINT or SIGTERM. The idle reaper runs beside it, holding this session's liveness
/// lock.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let args = args.with_policy_file()?;
    // Credentials first: a bad token file or key set must stop the server before
    // anything loads.
    let HttpSettings {
        authentication,
        tls,
    } = http_settings(&args.http)?;
    if let Some(addr) = args.http.addr
        && !addr.ip().is_loopback()
        && tls.is_none()
    {
        tracing::warn!(%addr, "serving tokens over plain HTTP to the network: give --tls-cert and --tls-key unless a TLS proxy stands in front");
    }
    if args.watch && args.plugin_dirs.is_empty() {
        anyhow::bail!("--watch watches the --plugin-dir folders: give at least one");
    }
    let loaded = load_plugins(&args).await?;
    let router = Arc::new(loaded.router());
    let catalog = Catalog::new(Arc::clone(&router), args.watch);
    let _watcher = args.watch.then(|| {
        let Loaded {
            factory,
            builtins,
            files,
        } = loaded;
        tracing::info!(dirs = ?args.plugin_dirs, "watching the plugin folders");
        AbortOnDrop(tokio::spawn(crate::plugin_files::watch(
            files,
            builtins,
            factory,
            Arc::clone(&catalog),
        )))
    });
    let runtime = router.runtime();
    // Without a place for the session lock there is no telling live sessions from dead
    // ones, so the reaper stays off rather than reap a live server's containers.
    let sessions_dir = args.sessions_dir();
    let _reaper = match SessionLock::acquire(&sessions_dir, &runtime.identity().session) {
        Ok(sessions) => Some(AbortOnDrop(
            Reaper {
                docker: Arc::clone(runtime.docker()),
                identity: Arc::clone(runtime.identity()),
                activity: Arc::clone(runtime.activity()),
                sessions,
                interval: args.reap_interval(),
            }
            .spawn(),
        )),
        Err(err) => {
            tracing::warn!(
                dir = %sessions_dir.display(),
                "cannot lock this session ({err}); the idle reaper is off"
            );
            None
        }
    };
    let operator = Caller::operator(Arc::clone(runtime.identity()));
    let max_calls = args.http.max_calls_in_flight();
    if let Some(addr) = args.http.addr {
        let session = runtime.identity().session.clone();
        let (authentication, callers, reload) = match authentication {
            Some(authentication) => {
                let http = args.http.clone();
                let reload: crate::transport::http_gate::Reload = Box::new(move || {
                    authentication_of(&http)?
                        .ok_or_else(|| anyhow::anyhow!("the credentials are gone"))
                });
                (authentication, Callers::PerRequest, Some(reload))
            }
            None => (
                Authentication::None(operator.clone()),
                Callers::Operator(operator),
                None,
            ),
        };
        let tls_on = tls.is_some();
        let options = HttpOptions {
            addr,
            authentication,
            reload,
            allowed_hosts: args.http.allowed_hosts.clone(),
            allowed_origins: args.http.allowed_origins.clone(),
            rate_per_second: args.http.rate_per_second(),
            rate_burst: args.http.rate_burst(),
            tls,
        };
        let server = HttpServer::bind(
            options,
            McpServer::new(catalog, callers, max_calls),
            session,
        )
        .await?;
        // The bound address on stderr, so a caller that asked for port 0 learns it.
        tracing::info!(addr = %server.local_addr()?, path = MCP_PATH, tls = tls_on, "serving MCP over HTTP");
        server.serve(termination()).await?;
        tracing::info!("HTTP server stopped");
        return Ok(());
    }
    tracing::info!(tools = router.listed().count(), "serving MCP over stdio");
    // Declared first, so it is dropped last: the flags go back once the ends are closed.
    let (reader, writer, _restore) =
        crate::transport::stdio::ends().context("opening stdin and stdout")?;
    let service = McpServer::new(catalog, Callers::Operator(operator), max_calls)
        .serve((reader, writer))
        .await
        .context("MCP session did not start")?;
    let reason = service.waiting().await.context("MCP session failed")?;
    tracing::info!(?reason, "MCP session ended");
    Ok(())
}

/// What `serve --http` needs loaded before it serves.
pub struct HttpSettings {
    pub authentication: Option<Authentication>,
    pub tls: Option<tokio_rustls::TlsAcceptor>,
}

/// Loads and checks the credentials and TLS files, and that the bind is not exposed
/// without them (`serve` and `doctor` share this).
pub fn http_settings(http: &crate::cli::HttpArgs) -> anyhow::Result<HttpSettings> {
    let authentication = authentication_of(http)?;
    let tls = match (&http.tls_cert, &http.tls_key) {
        (Some(cert), Some(key)) => Some(crate::transport::tls::acceptor(cert, key)?),
        _ => None,
    };
    if let Some(addr) = http.addr {
        crate::transport::http::check_exposure(
            addr,
            authentication.is_some(),
            &http.allowed_hosts,
        )?;
    }
    Ok(HttpSettings {
        authentication,
        tls,
    })
}

/// How HTTP callers authenticate, if they must. The flags' own rules are checked again
/// here, since a policy file can set the same keys.
fn authentication_of(http: &crate::cli::HttpArgs) -> anyhow::Result<Option<Authentication>> {
    let oauth = http.oauth_issuer.is_some()
        || http.oauth_jwks.is_some()
        || http.oauth_resource.is_some()
        || http.oauth_audience.is_some();
    if http.tokens.is_some() && oauth {
        anyhow::bail!("give either a token file or OAuth settings, not both");
    }
    if oauth
        && (http.oauth_issuer.is_none()
            || http.oauth_jwks.is_none()
            || http.oauth_resource.is_none())
    {
        anyhow::bail!("OAuth needs an issuer, a JWKS file and the resource URL together");
    }
    if http.tls_cert.is_some() != http.tls_key.is_some() {
        anyhow::bail!("TLS needs both a certificate and its private key");
    }
    if http.addr.is_none() && (http.tokens.is_some() || oauth || http.tls_cert.is_some()) {
        anyhow::bail!(
            "credentials and TLS settings apply to HTTP only: give an address to serve on"
        );
    }
    if let Some(path) = &http.tokens {
        return Ok(Some(Authentication::Tokens(
            crate::tokens::TokenStore::load(path)?,
        )));
    }
    if let (Some(issuer), Some(jwks), Some(resource)) =
        (&http.oauth_issuer, &http.oauth_jwks, &http.oauth_resource)
    {
        let audience = http.oauth_audience.as_deref().unwrap_or(resource);
        let oauth = match jwks.to_str().filter(|jwks| crate::jwks_fetch::is_url(jwks)) {
            Some(url) => {
                let source = crate::jwks_fetch::JwksSource::new(url, http.oauth_ca.as_deref())?;
                // Callers are synchronous (start, SIGHUP, doctor) but run on the
                // runtime's workers: wait for the first fetch without stalling them.
                tokio::task::block_in_place(|| {
                    tokio::runtime::Handle::current().block_on(crate::oauth::OAuth::remote(
                        issuer, audience, resource, source,
                    ))
                })?
            }
            None if http.oauth_ca.is_some() => {
                anyhow::bail!("--oauth-ca applies to a JWKS fetched from a URL, not to a file")
            }
            None => crate::oauth::OAuth::load(issuer, audience, resource, jwks)?,
        };
        return Ok(Some(Authentication::OAuth(oauth)));
    }
    Ok(None)
}

/// Completes on SIGINT or SIGTERM.
async fn termination() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut terminate) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// `bulkhead token new`: appends the token's hash to the file, prints the token.
pub fn new_token(file: &std::path::Path, principal: &str, scope: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let (token, line) = crate::tokens::new_token(principal, scope).map_err(anyhow::Error::msg)?;
    let mut out = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(file)
        .with_context(|| format!("opening {}", file.display()))?;
    writeln!(out, "{line}").with_context(|| format!("writing {}", file.display()))?;
    writeln!(std::io::stdout().lock(), "{token}")?;
    Ok(())
}

/// `bulkhead plugins`: a human-readable table on stdout (not a protocol session).
pub async fn report(args: ServeArgs) -> anyhow::Result<()> {
    let router = build_router(args).await?;
    let mut out = std::io::stdout().lock();
    let mut current = String::new();
    for tool in router.all_tools() {
        let plugin = &tool.plugin;
        if plugin.manifest.name != current {
            current = plugin.manifest.name.clone();
            writeln!(
                out,
                "{} {} ({}, sha256 {}, {:?})\n  requests: {}",
                plugin.manifest.name,
                plugin.manifest.version,
                plugin.origin,
                &plugin.digest[..16],
                plugin.cache,
                plugin.requested
            )?;
        }
        let state = if tool.is_listed() { "listed" } else { "hidden" };
        let hints = match (tool.hints.read_only, tool.hints.destructive) {
            (true, _) => "read-only",
            (false, true) => "destructive",
            (false, false) => "moderate",
        };
        writeln!(
            out,
            "  {:<28} {:<7} {:<11} needs {}",
            tool.spec().name,
            state,
            hints,
            tool.spec().declared
        )?;
    }
    for refused in router.refused() {
        writeln!(out, "refused {}: {}", refused.origin, refused.reason)?;
    }
    Ok(())
}

/// `bulkhead audit verify FILE`: exit 0 and a one-line summary when the chain holds.
pub fn verify_audit(file: &std::path::Path) -> anyhow::Result<()> {
    let verified = crate::audit::verify(file)
        .map_err(|err| anyhow::anyhow!("{} does not verify: {err}", file.display()))?;
    writeln!(
        std::io::stdout().lock(),
        "{}: {} line(s), chain intact",
        file.display(),
        verified.lines
    )?;
    Ok(())
}

/// `bulkhead policy check FILE`: parses and checks the file as `serve` would.
pub fn check_policy(file: &std::path::Path) -> anyhow::Result<()> {
    let args = crate::cli::ServeArgs {
        policy: Some(file.to_path_buf()),
        ..crate::cli::ServeArgs::default()
    }
    .with_policy_file()?;
    args.identity()?;
    let policy = args.policy()?;
    writeln!(
        std::io::stdout().lock(),
        "{}: valid; ceiling {}, {} plugin grant(s), {} denied tool(s)",
        file.display(),
        crate::policy_file::tier_name(policy.ceiling()),
        policy.grants.len(),
        policy.tools_deny.len()
    )?;
    Ok(())
}

/// `bulkhead keygen --out FILE`.
pub fn keygen(out: &std::path::Path) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let key = crate::trust::generate_key().context("reading randomness")?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(out)
        .with_context(|| format!("creating {}", out.display()))?;
    file.write_all(crate::trust::secret_key_text(&key).as_bytes())?;
    writeln!(
        std::io::stdout().lock(),
        "{}",
        crate::trust::public_key_text(&key.verifying_key())
    )?;
    Ok(())
}

/// `bulkhead plugin sign|verify|inspect`.
pub fn plugin_command(command: crate::cli::PluginCommand) -> anyhow::Result<()> {
    use crate::cli::PluginCommand;
    let mut out = std::io::stdout().lock();
    match command {
        PluginCommand::Sign { key, file } => {
            let key = std::fs::read_to_string(&key)
                .with_context(|| format!("reading {}", key.display()))?;
            let key = crate::trust::parse_secret_key(&key).map_err(anyhow::Error::msg)?;
            let wasm =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let sig = crate::trust::signature_path(&file);
            std::fs::write(&sig, crate::trust::sign(&key, &wasm))?;
            writeln!(out, "wrote {}", sig.display())?;
        }
        PluginCommand::Verify { key, file } => {
            let key = crate::trust::parse_public_key(&key).map_err(anyhow::Error::msg)?;
            let wasm =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            crate::trust::verify_file(&key, &file, &wasm)
                .map_err(|err| anyhow::anyhow!("{}: {err}", file.display()))?;
            writeln!(out, "{}: signature valid", file.display())?;
        }
        PluginCommand::New { name, lang, dir } => {
            let root = crate::scaffold::new_project(&name, lang, &dir)?;
            writeln!(
                out,
                "wrote {}; its README.md says how to build and load it",
                root.display()
            )?;
        }
        PluginCommand::Inspect { file } => {
            let wasm =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let imports = crate::runtime::inspect_imports(&wasm)?;
            writeln!(out, "{}", file.display())?;
            writeln!(out, "  sha256:   {}", crate::runtime::digest(&wasm))?;
            writeln!(out, "  size:     {} bytes", wasm.len())?;
            writeln!(out, "  requests: {}", imports.requested)?;
            for (name, tier) in imports.requested.iter().map(|c| (c.name(), c.tier())) {
                writeln!(out, "    {name} ({})", crate::policy_file::tier_name(tier))?;
            }
            if !imports.foreign.is_empty() {
                writeln!(
                    out,
                    "  imports this host does not provide: {}",
                    imports.foreign.join(", ")
                )?;
            }
        }
    }
    Ok(())
}
