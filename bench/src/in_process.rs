//! What the Wasm boundary costs, measured inside one process with no MCP transport: the
//! probe fixture's `probe_echo` (a fresh instance, one call, no primitive) and
//! `probe_list` (the same plus one `containers-read` primitive), next to the bare engine
//! request that primitive makes. Per call: echo. Per primitive: list − echo − the
//! engine request.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bollard::Docker;
use bollard::query_parameters::ListContainersOptionsBuilder;
use bulkhead::access::Journal;
use bulkhead::argument_policy::ArgumentPolicy;
use bulkhead::capabilities::{Capability, CapabilitySet};
use bulkhead::docker::DockerConnector;
use bulkhead::identity::Identity;
use bulkhead::policy::{PluginSettings, Scope};
use bulkhead::runtime::{CallContext, Limits, LoadedPlugin, Runtime};

use crate::stats::median;

/// Sequential calls per measure.
const CALLS: usize = 2_000;

/// Medians of one run: echo call, list call, the engine's list request.
pub struct Overhead {
    pub per_call: Duration,
    pub list_call: Duration,
    pub engine: Duration,
}

impl Overhead {
    /// What one primitive adds beyond the engine's own time.
    pub fn per_primitive(&self) -> Duration {
        self.list_call
            .saturating_sub(self.per_call)
            .saturating_sub(self.engine)
    }
}

pub async fn measure(engine: &Docker) -> anyhow::Result<Overhead> {
    let cache = tempfile::tempdir()?;
    let runtime = Runtime::new(
        Limits::default(),
        Some(cache.path()),
        Arc::new(DockerConnector::new()),
        Arc::new(Identity::new(Some("bench:in-process")).map_err(anyhow::Error::msg)?),
    )?;
    let source = bulkhead::loader::read_source(std::path::Path::new(bulkhead_testkit::PROBE_WASM))?;
    // Scope `all`, so the primitive makes the very request the floor makes (under
    // `owned` it would add a label filter and list fewer containers).
    let plugin = runtime
        .load(source)
        .await
        .context("loading the probe")?
        .with_settings(PluginSettings {
            scope: Scope::All,
            rules: Arc::new(ArgumentPolicy::default()),
            limits: Limits::default(),
            read_dirs: Arc::from([]),
            removes_only_owned: false,
        });
    // Warm the engine connection and the code paths before timing.
    for _ in 0..50 {
        call(&runtime, &plugin, "probe_echo").await?;
        call(&runtime, &plugin, "probe_list").await?;
    }
    let per_call = time(CALLS, || call(&runtime, &plugin, "probe_echo")).await?;
    let list_call = time(CALLS, || call(&runtime, &plugin, "probe_list")).await?;
    let engine = time(CALLS, || async {
        let options = ListContainersOptionsBuilder::new().build();
        engine.list_containers(Some(options)).await?;
        Ok(())
    })
    .await?;
    Ok(Overhead {
        per_call,
        list_call,
        engine,
    })
}

async fn call(runtime: &Runtime, plugin: &LoadedPlugin, tool: &str) -> anyhow::Result<()> {
    let context = CallContext {
        tool: tool.to_string(),
        allowed: [Capability::ContainersRead]
            .into_iter()
            .collect::<CapabilitySet>(),
        deadline: tokio::time::Instant::now() + Duration::from_secs(30),
        journal: Journal::default(),
        progress: None,
        log: None,
        client: None,
        identity: Arc::clone(runtime.identity()),
    };
    let arguments = if tool == "probe_echo" {
        r#"{"text":"x"}"#
    } else {
        "{}"
    };
    match runtime.call(plugin, context, arguments.to_string()).await {
        Ok(_) => Ok(()),
        Err(failure) => bail!("{tool} failed: {failure:?}"),
    }
}

async fn time<F, Fut>(count: usize, mut once: F) -> anyhow::Result<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let mut samples = Vec::with_capacity(count);
    for _ in 0..count {
        let started = Instant::now();
        once().await?;
        samples.push(started.elapsed());
    }
    Ok(median(&samples))
}
