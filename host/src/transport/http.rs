//! `bulkhead serve --http ADDR`: MCP Streamable HTTP on one listening socket. rmcp
//! speaks the protocol (the stateless 2026-07-28 revision, and sessions for older
//! clients); hyper carries HTTP/1.1; [`HttpGate`] authenticates and limits each request
//! first. A bind that other hosts can reach must authenticate its callers, and must be
//! told which host names it answers to: both are refused at start, never guessed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use crate::rate_limit::RateLimiter;
use crate::transport::http_gate::{Authentication, HttpGate, Reload};
use crate::transport::mcp::McpServer;

/// Largest request body: tool arguments are capped at 256 KiB, and JSON-RPC framing
/// adds little.
const MAX_REQUEST_BYTES: usize = 1 << 20;
/// Connections served at once; more wait in the kernel's backlog.
const MAX_CONNECTIONS: usize = 1024;
/// A client has this long to send a request's headers (slow-loris defence).
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// What `serve --http` was told.
pub struct HttpOptions {
    pub addr: SocketAddr,
    pub authentication: Authentication,
    /// How to read the credentials again on SIGHUP, when they come from files.
    pub reload: Option<Reload>,
    /// Extra `Host` values to answer to, beyond the loopback names.
    pub allowed_hosts: Vec<String>,
    /// Browser origins allowed to call besides this machine's own (requests without
    /// `Origin`, from non-browser clients, always pass).
    pub allowed_origins: Vec<String>,
    pub rate_per_second: u32,
    pub rate_burst: u32,
    /// Serve HTTPS with this; plain HTTP without.
    pub tls: Option<TlsAcceptor>,
}

/// Refuses what would expose the engine: a bind other hosts can reach without
/// authentication, or without the host names it is reached by. Checked before anything
/// loads, and again when binding.
pub fn check_exposure(
    addr: SocketAddr,
    authenticated: bool,
    allowed_hosts: &[String],
) -> anyhow::Result<()> {
    if addr.ip().is_loopback() {
        return Ok(());
    }
    if !authenticated {
        anyhow::bail!(
            "--http {addr} is reachable from other hosts, and nobody would need to authenticate: give --tokens FILE, or bind 127.0.0.1"
        );
    }
    if allowed_hosts.is_empty() {
        anyhow::bail!(
            "--http {addr} is reachable from other hosts: name the host names clients use with --allowed-host (DNS-rebinding defence)"
        );
    }
    Ok(())
}

/// A bound server, not yet serving: tests and the CLI learn its address first.
pub struct HttpServer {
    listener: TcpListener,
    gate: Arc<HttpGate>,
    tls: Option<TlsAcceptor>,
    shutdown: CancellationToken,
}

impl HttpServer {
    pub async fn bind(
        options: HttpOptions,
        server: McpServer,
        server_session: String,
    ) -> anyhow::Result<HttpServer> {
        let authenticated = !matches!(options.authentication, Authentication::None(_));
        check_exposure(options.addr, authenticated, &options.allowed_hosts)?;
        let shutdown = CancellationToken::new();
        let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "::1", "[::1]"]
            .into_iter()
            .map(String::from)
            .collect();
        hosts.extend(options.allowed_hosts);
        // Pages served from this machine may call; a page from anywhere else (the
        // DNS-rebinding attack) only when the operator lists its origin.
        let mut origins: Vec<String> = ["http", "https"]
            .into_iter()
            .flat_map(|scheme| {
                ["localhost", "127.0.0.1", "[::1]"].map(|host| format!("{scheme}://{host}:*"))
            })
            .collect();
        origins.extend(options.allowed_origins);
        let config = StreamableHttpServerConfig::default()
            .with_allowed_hosts(hosts)
            .with_allowed_origins(origins)
            .enforce_origin_validation()
            .with_max_request_body_bytes(MAX_REQUEST_BYTES)
            .with_cancellation_token(shutdown.child_token());
        let mcp = StreamableHttpService::new(
            move || Ok(server.for_session()),
            Arc::new(LocalSessionManager::default()),
            config,
        );
        let gate = HttpGate::new(
            options.authentication,
            options.reload,
            RateLimiter::new(options.rate_per_second, options.rate_burst),
            server_session,
            mcp,
        );
        let listener = TcpListener::bind(options.addr)
            .await
            .with_context(|| format!("binding {}", options.addr))?;
        Ok(HttpServer {
            listener,
            gate: Arc::new(gate),
            tls: options.tls,
            shutdown,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `stop` completes; then stops accepting and ends open streams.
    /// SIGHUP reloads the credential files meanwhile.
    pub async fn serve(self, stop: impl std::future::Future<Output = ()>) -> anyhow::Result<()> {
        let _reloader = self.gate.reloads().then(|| {
            let gate = Arc::clone(&self.gate);
            AbortOnDrop(tokio::spawn(async move {
                use tokio::signal::unix::{SignalKind, signal};
                let Ok(mut hangups) = signal(SignalKind::hangup()) else {
                    tracing::warn!("cannot watch SIGHUP; credentials reload only on restart");
                    return;
                };
                while hangups.recv().await.is_some() {
                    gate.reload();
                }
            }))
        });
        let connections = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        tokio::pin!(stop);
        loop {
            let permit = tokio::select! {
                () = &mut stop => break,
                permit = Arc::clone(&connections).acquire_owned() => permit?,
            };
            let (stream, peer) = tokio::select! {
                () = &mut stop => break,
                accepted = self.listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(err) => {
                        // Out of descriptors and the like: pause rather than spin.
                        tracing::warn!("accepting a connection failed: {err}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let _ = stream.set_nodelay(true);
            let gate = Arc::clone(&self.gate);
            let shutdown = self.shutdown.clone();
            let tls = self.tls.clone();
            tokio::spawn(async move {
                match tls {
                    None => serve_connection(stream, gate, shutdown).await,
                    Some(tls) => {
                        // The handshake counts against the same clock as the headers.
                        match tokio::time::timeout(HEADER_TIMEOUT, tls.accept(stream)).await {
                            Ok(Ok(stream)) => serve_connection(stream, gate, shutdown).await,
                            Ok(Err(err)) => tracing::debug!(%peer, "TLS handshake failed: {err}"),
                            Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                        }
                    }
                }
                drop(permit);
            });
        }
        self.shutdown.cancel();
        Ok(())
    }
}

/// Stops a background task when the server stops.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Serves one connection (plain or TLS) until the client closes it or the server stops.
async fn serve_connection<Io>(io: Io, gate: Arc<HttpGate>, shutdown: CancellationToken)
where
    Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |request| {
        let gate = Arc::clone(&gate);
        async move { Ok::<_, std::convert::Infallible>(gate.handle(request).await) }
    });
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .serve_connection(TokioIo::new(io), service);
    tokio::pin!(connection);
    tokio::select! {
        result = connection.as_mut() => {
            if let Err(err) = result {
                tracing::debug!("HTTP connection ended: {err}");
            }
        }
        () = shutdown.cancelled() => {
            connection.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(Duration::from_secs(5), connection).await;
        }
    }
}
