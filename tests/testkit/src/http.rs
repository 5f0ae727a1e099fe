//! `bulkhead serve --http` under test: one server process on a loopback port the kernel
//! picked, and any number of MCP client sessions with it (rmcp's Streamable HTTP client),
//! each with its own bearer token or none. Raw requests check what a client library
//! would hide: status codes and headers.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context as _, bail};
use rmcp::ServiceExt;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;

use crate::{ProgressRecorder, Server, ServerOptions};

/// How long a server may take to load its plugins and bind.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running `bulkhead serve --http 127.0.0.1:0`.
pub struct HttpServe {
    child: tokio::process::Child,
    addr: SocketAddr,
    stderr_log: PathBuf,
    http: reqwest::Client,
    _scratch: tempfile::TempDir,
}

/// A raw HTTP answer.
#[derive(Debug)]
pub struct HttpReply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl HttpServe {
    /// Spawns the server and waits until it has bound its port.
    pub async fn start(binary: &Path, options: ServerOptions) -> anyhow::Result<HttpServe> {
        let scratch = tempfile::tempdir()?;
        let stderr_log = scratch.path().join("stderr.log");
        let child = options
            .serve_command(binary, &["--http", "127.0.0.1:0"], scratch.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(std::fs::File::create(&stderr_log)?))
            .kill_on_drop(true)
            .spawn()
            .context("spawning bulkhead")?;
        let mut serve = HttpServe {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            stderr_log,
            http: reqwest::Client::new(),
            _scratch: scratch,
        };
        serve.addr = serve.wait_for_address().await?;
        Ok(serve)
    }

    /// Reads the bound address from the server's log line `serving MCP over HTTP`.
    async fn wait_for_address(&mut self) -> anyhow::Result<SocketAddr> {
        let deadline = tokio::time::Instant::now() + START_TIMEOUT;
        loop {
            let log = self.stderr();
            if let Some(addr) = log
                .lines()
                .filter(|line| line.contains("serving MCP over HTTP"))
                .flat_map(str::split_whitespace)
                .find_map(|field| field.strip_prefix("addr="))
            {
                return addr.parse().context("the logged address");
            }
            if let Some(status) = self.child.try_wait()? {
                bail!("bulkhead exited ({status}) before serving; stderr:\n{log}");
            }
            if tokio::time::Instant::now() > deadline {
                bail!("bulkhead did not bind within {START_TIMEOUT:?}; stderr:\n{log}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The MCP endpoint.
    pub fn url(&self) -> String {
        format!("http://{}/mcp", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// What the server wrote to stderr so far (its log).
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_log).unwrap_or_default()
    }

    /// An MCP session with the server, authenticated by `token` when given.
    pub async fn connect(&self, token: Option<&str>) -> anyhow::Result<Server> {
        let mut config = StreamableHttpClientTransportConfig::with_uri(self.url());
        config.auth_header = token.map(str::to_string);
        let transport = StreamableHttpClientTransport::from_config(config);
        let progress = ProgressRecorder::default();
        let client = progress.clone().serve(transport).await.with_context(|| {
            format!(
                "MCP handshake over HTTP failed; server stderr:\n{}",
                self.stderr()
            )
        })?;
        Ok(Server {
            client,
            progress,
            stderr_log: self.stderr_log.clone(),
            pid: None,
            _scratch: None,
        })
    }

    /// POSTs `body` to `path` with `headers`, as a client library would not.
    pub async fn post(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        body: String,
    ) -> anyhow::Result<HttpReply> {
        let mut request = self
            .http
            .post(format!("http://{}{path}", self.addr))
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await?;
        Ok(HttpReply {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.text().await?,
        })
    }

    /// GETs `path`.
    pub async fn get(&self, path: &str) -> anyhow::Result<HttpReply> {
        let response = self
            .http
            .get(format!("http://{}{path}", self.addr))
            .send()
            .await?;
        Ok(HttpReply {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.text().await?,
        })
    }

    /// Stops the server (SIGTERM, then SIGKILL if it lingers) and waits for it.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .arg("-TERM")
                .arg(pid.to_string())
                .status();
        }
        match tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await {
            Ok(status) => {
                status?;
            }
            Err(_) => self.child.kill().await?,
        }
        Ok(())
    }
}

/// A JSON-RPC `initialize` request body, for raw posts.
pub fn initialize_body() -> String {
    serde_json::json!({
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "raw", "version": "0"}
        }
    })
    .to_string()
}
