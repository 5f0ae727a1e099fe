//! Bulkhead's benchmark suite: `scripts/bench.sh` (or `bulkhead-bench BINARY [RUNS]`).
//!
//! Spawns the real server over stdio with the default plugins, as a user does, and
//! measures against the real engine: start to an answered `tools/list` (cold and warm
//! cache), list and inspect calls next to the same request sent straight to the engine
//! (the floor), the list call over Streamable HTTP and 64 HTTP sessions at once, 64 calls
//! in flight on one session, and memory over 10,000 calls. Every
//! figure is taken in each of RUNS runs and reported as the median with its range; calls
//! are compared with the floor measured in the same run, as a ratio, because these
//! machines are shared and noisy. Writes BENCHMARKS.md in the current directory.

mod in_process;
mod stats;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bollard::Docker;
use bollard::query_parameters::{InspectContainerOptions, ListContainersOptionsBuilder};
use bulkhead_testkit::{HttpServe, Server, ServerOptions, TEST_IMAGE, docker, unique_name};
use futures_util::future::join_all;
use serde_json::json;

use stats::{Across, median, ms, percentile};

const CALLS: usize = 500;
const IN_FLIGHT: usize = 64;
const MEMORY_CALLS: usize = 10_000;
const CONTAINERS: usize = 5;
/// The default plugins a start loads (and a cold start compiles).
const PLUGINS: f64 = 4.0;

/// One run's figures.
#[derive(Debug, Default)]
struct Figures {
    cold_start: Across,
    compile_per_plugin: Across,
    warm_start: Across,
    rss_after_start: Across,
    /// Call median, call p99, floor median, median ratio.
    list: [Across; 4],
    inspect: [Across; 4],
    /// The list call over Streamable HTTP (loopback, a session), like `list`.
    http_list: [Across; 4],
    /// 64 sessions over HTTP, each one list call, all at once: wall, floor, ratio.
    http_sessions: [Across; 3],
    http_failed: Across,
    in_flight: [Across; 3],
    refused: Across,
    rss_1k: Across,
    rss_10k: Across,
    anon_10k: Across,
    peak_rss: Across,
    /// In process: a call with no primitive, what one primitive adds, the engine's request.
    wasm_call: Across,
    wasm_list: Across,
    wasm_primitive: Across,
    wasm_engine: Across,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let binary = PathBuf::from(args.next().context("usage: bulkhead-bench BINARY [RUNS]")?);
    let runs: usize = args.next().map_or(Ok(3), |r| r.parse())?;
    let engine = Docker::connect_with_local_defaults()?
        .negotiate_version()
        .await
        .context("no Docker engine answers")?;
    let containers: Vec<String> = (0..CONTAINERS).map(|_| unique_name("bench")).collect();
    for name in &containers {
        docker(&["run", "-d", "--name", name, TEST_IMAGE, "sleep", "3600"])?;
    }
    let result = measure(&binary, runs, &engine, &containers).await;
    for name in &containers {
        let _ = docker(&["rm", "-f", name]);
    }
    let figures = result?;
    let report = report(&binary, runs, &figures, &engine).await?;
    std::fs::write("BENCHMARKS.md", &report)?;
    std::io::Write::write_all(&mut std::io::stdout(), report.as_bytes())?;
    Ok(())
}

async fn measure(
    binary: &Path,
    runs: usize,
    engine: &Docker,
    containers: &[String],
) -> anyhow::Result<Figures> {
    let mut figures = Figures::default();
    for run in 1..=runs {
        eprintln!("run {run}/{runs}");
        let cache = tempfile::tempdir()?;
        let (started, server) = start(binary, cache.path()).await?;
        figures.cold_start.push(ms(started));
        drop(server);
        let mut warm = Vec::new();
        for _ in 0..5 {
            let (started, server) = start(binary, cache.path()).await?;
            warm.push(started);
            drop(server);
        }
        figures.warm_start.push(ms(median(&warm)));
        figures
            .compile_per_plugin
            .push((ms(started) - ms(median(&warm))) / PLUGINS);

        let (_, server) = start(binary, cache.path()).await?;
        let pid = server.pid().context("the server's pid")?;
        figures.rss_after_start.push(mib(status(pid, "VmRSS")?));

        let list = time_calls(&server, "docker_list_containers", json!({"all": true})).await?;
        let floor = list_floor(engine).await?;
        record(&mut figures.list, &list, &floor);

        let target = &containers[0];
        let inspect = time_calls(
            &server,
            "docker_inspect_container",
            json!({"container": target}),
        )
        .await?;
        let floor = time_engine(CALLS, || async {
            engine
                .inspect_container(target, None::<InspectContainerOptions>)
                .await
                .map(|_| ())
        })
        .await?;
        record(&mut figures.inspect, &inspect, &floor);

        let (http_list, (wall, failed)) = over_http(binary, cache.path()).await?;
        let floor = list_floor(engine).await?;
        record(&mut figures.http_list, &http_list, &floor);
        let floor_wall = parallel_floor(engine).await?;
        figures.http_sessions[0].push(ms(wall));
        figures.http_sessions[1].push(ms(floor_wall));
        figures.http_sessions[2].push(wall.as_secs_f64() / floor_wall.as_secs_f64());
        figures.http_failed.push(failed as f64);

        let (wall, refused) = in_flight(&server).await;
        let floor_wall = parallel_floor(engine).await?;
        figures.in_flight[0].push(ms(wall));
        figures.in_flight[1].push(ms(floor_wall));
        figures.in_flight[2].push(wall.as_secs_f64() / floor_wall.as_secs_f64());
        figures.refused.push(refused as f64);

        for done in 1..=MEMORY_CALLS {
            let answer = server
                .call("docker_list_containers", json!({"limit": 1}))
                .await;
            if answer.is_error() {
                bail!("call {done} failed: {}", answer.text());
            }
            if done == 1_000 {
                figures.rss_1k.push(mib(status(pid, "VmRSS")?));
            }
        }
        figures.rss_10k.push(mib(status(pid, "VmRSS")?));
        figures.anon_10k.push(mib(status(pid, "RssAnon")?));
        figures.peak_rss.push(mib(status(pid, "VmHWM")?));
        drop(server);

        let overhead = in_process::measure(engine).await?;
        figures.wasm_call.push(ms(overhead.per_call));
        figures.wasm_list.push(ms(overhead.list_call));
        figures.wasm_primitive.push(ms(overhead.per_primitive()));
        figures.wasm_engine.push(ms(overhead.engine));
    }
    Ok(figures)
}

/// Spawn to an answered `tools/list`.
async fn start(binary: &Path, cache: &Path) -> anyhow::Result<(Duration, Server)> {
    let started = Instant::now();
    let server = Server::start(binary, ServerOptions::default().cache_dir(cache)).await?;
    let tools = server.tool_names().await?;
    let elapsed = started.elapsed();
    if tools.is_empty() {
        bail!("the server lists no tools");
    }
    Ok((elapsed, server))
}

async fn time_calls(
    server: &Server,
    tool: &str,
    args: serde_json::Value,
) -> anyhow::Result<Vec<Duration>> {
    let mut samples = Vec::with_capacity(CALLS);
    for _ in 0..CALLS {
        let started = Instant::now();
        let answer = server.call(tool, args.clone()).await;
        samples.push(started.elapsed());
        if answer.is_error() {
            bail!("{tool}: {}", answer.text());
        }
    }
    Ok(samples)
}

async fn time_engine<F, Fut>(count: usize, request: F) -> anyhow::Result<Vec<Duration>>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<(), bollard::errors::Error>>,
{
    let mut samples = Vec::with_capacity(count);
    for _ in 0..count {
        let started = Instant::now();
        request().await?;
        samples.push(started.elapsed());
    }
    Ok(samples)
}

/// Over Streamable HTTP on loopback (no credentials, limits out of the way): the list
/// call's samples on one session; then 64 new sessions at once, each making one list
/// call, their wall time and how many failed.
async fn over_http(
    binary: &Path,
    cache: &Path,
) -> anyhow::Result<(Vec<Duration>, (Duration, usize))> {
    let options = ServerOptions::default()
        .cache_dir(cache)
        .arg("--rate-limit")
        .arg("100000")
        .arg("--rate-burst")
        .arg("1000000");
    let server = HttpServe::start(binary, options).await?;
    let session = server.connect(None).await?;
    let samples = time_calls(&session, "docker_list_containers", json!({"all": true})).await?;
    let started = Instant::now();
    let answers = join_all((0..IN_FLIGHT).map(|_| async {
        let session = server.connect(None).await?;
        let answer = session
            .try_call("docker_list_containers", json!({"all": true}))
            .await?;
        anyhow::ensure!(answer.is_error != Some(true), "tool error");
        anyhow::Ok(())
    }))
    .await;
    let wall = started.elapsed();
    let failed = answers.iter().filter(|a| a.is_err()).count();
    server.stop().await?;
    Ok((samples, (wall, failed)))
}

/// The list request sent straight to the engine, `CALLS` times one after another.
async fn list_floor(engine: &Docker) -> anyhow::Result<Vec<Duration>> {
    time_engine(CALLS, || async {
        let options = ListContainersOptionsBuilder::new().all(true).build();
        engine.list_containers(Some(options)).await.map(|_| ())
    })
    .await
}

/// Wall time of 64 list requests sent at once straight to the engine.
async fn parallel_floor(engine: &Docker) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let floors = join_all((0..IN_FLIGHT).map(|_| {
        let options = ListContainersOptionsBuilder::new().all(true).build();
        engine.list_containers(Some(options))
    }))
    .await;
    if floors.iter().any(Result::is_err) {
        bail!("the engine refused a direct request");
    }
    Ok(started.elapsed())
}

/// Wall time of 64 list calls sent at once on one session, and how many were refused.
async fn in_flight(server: &Server) -> (Duration, usize) {
    let started = Instant::now();
    let answers = join_all(
        (0..IN_FLIGHT).map(|_| server.call("docker_list_containers", json!({"all": true}))),
    )
    .await;
    let refused = answers.iter().filter(|a| a.is_error()).count();
    (started.elapsed(), refused)
}

/// Median and p99 of the calls, the floor's median, and the ratio of the medians.
fn record(into: &mut [Across; 4], calls: &[Duration], floor: &[Duration]) {
    into[0].push(ms(median(calls)));
    into[1].push(ms(percentile(calls, 99.0)));
    into[2].push(ms(median(floor)));
    into[3].push(median(calls).as_secs_f64() / median(floor).as_secs_f64());
}

/// A `/proc/PID/status` field in KiB.
fn status(pid: u32, field: &str) -> anyhow::Result<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{field}:")))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("{field} in /proc/{pid}/status"))
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// A table row with no floor to compare against.
fn alone(measure: &'static str, ours: String) -> (&'static str, String, String, String) {
    (measure, ours, "—".into(), "—".into())
}

/// BENCHMARKS.md: method, machine, and the table.
async fn report(
    binary: &Path,
    runs: usize,
    f: &Figures,
    engine: &Docker,
) -> anyhow::Result<String> {
    let version = engine.version().await?;
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
            })
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let size = |path: &Path| std::fs::metadata(path).map_or(0.0, |m| m.len() as f64 / 1e6);
    let mut out = String::new();
    out.push_str("# Benchmarks\n\n");
    out.push_str("Written by `scripts/bench.sh` (the `bulkhead-bench` crate in `bench/`); do not edit by hand.\n\n");
    out.push_str("## Method\n\n");
    out.push_str(&format!(
        "The release binary is spawned over stdio with the default plugins and driven by rmcp's client, as a user's client would. \
         {runs} run(s); each figure is the median over runs with the range in brackets. Calls are {CALLS} sequential requests per measure, \
         compared with the same request sent straight to the engine socket in the same run (the floor). \
         {IN_FLIGHT} calls in flight are sent at once on one session. The HTTP rows serve `--http 127.0.0.1:0` (no credentials, rate limits out of the way) to rmcp's Streamable HTTP client: {CALLS} list calls on one session, then {IN_FLIGHT} new sessions at once, each opened and making one list call, against {IN_FLIGHT} parallel engine requests. Memory is the server's RSS from /proc after 1,000 and 10,000 list calls, and its peak (VmHWM). \
         The engine holds {CONTAINERS} running containers made for the run. \
         The in-process rows load the probe fixture into the host library with no transport and time `probe_echo` (a fresh instance and one call) and `probe_list` (the same plus one `containers-read` primitive) against the bare engine request; a primitive's cost is list − echo − engine. \
         These machines are shared and noisy: ratios travel, absolute times do not.\n\n"
    ));
    out.push_str("## Machine\n\n");
    out.push_str(&format!(
        "- {cpu}, {cores} cores available\n- Docker {} (API {}), {} {}\n- binary {} ({:.1} MB)\n\n",
        version.version.unwrap_or_default(),
        version.api_version.unwrap_or_default(),
        version.os.unwrap_or_default(),
        version.kernel_version.unwrap_or_default(),
        binary.display(),
        size(binary),
    ));
    out.push_str("## Results\n\n| measure | Bulkhead | floor (engine directly) | ratio |\n| --- | --- | --- | --- |\n");
    let rows = [
        alone(
            "start, warm cache: spawn → tools/list (ms)",
            f.warm_start.show(1),
        ),
        alone(
            "start, empty cache: compiles the plugins (ms)",
            f.cold_start.show(0),
        ),
        alone(
            "… compiling, per plugin: (cold − warm) / 4 (ms)",
            f.compile_per_plugin.show(0),
        ),
        alone("RSS after start (MiB)", f.rss_after_start.show(1)),
        (
            "`docker_list_containers` median (ms)",
            f.list[0].show(2),
            f.list[2].show(2),
            f.list[3].show(2),
        ),
        alone("`docker_list_containers` p99 (ms)", f.list[1].show(2)),
        (
            "`docker_inspect_container` median (ms)",
            f.inspect[0].show(2),
            f.inspect[2].show(2),
            f.inspect[3].show(2),
        ),
        alone("`docker_inspect_container` p99 (ms)", f.inspect[1].show(2)),
        (
            "64 list calls in flight on one session: wall (ms)",
            f.in_flight[0].show(1),
            f.in_flight[1].show(1),
            f.in_flight[2].show(1),
        ),
        alone("… of which refused", f.refused.show(0)),
        (
            "`docker_list_containers` over HTTP, one session: median (ms)",
            f.http_list[0].show(2),
            f.http_list[2].show(2),
            f.http_list[3].show(2),
        ),
        alone("… over HTTP: p99 (ms)", f.http_list[1].show(2)),
        (
            "64 HTTP sessions at once, each opened and one list call: wall (ms)",
            f.http_sessions[0].show(1),
            f.http_sessions[1].show(1),
            f.http_sessions[2].show(1),
        ),
        alone("… of which failed", f.http_failed.show(0)),
        alone("RSS after 1,000 calls (MiB)", f.rss_1k.show(1)),
        alone("RSS after 10,000 calls (MiB)", f.rss_10k.show(1)),
        alone(
            "… of which private (RssAnon; the rest is mapped files: the binary, compiled plugins, libc) (MiB)",
            f.anon_10k.show(1),
        ),
        alone("peak RSS (MiB)", f.peak_rss.show(1)),
        alone(
            "in process: one call into a fresh plugin instance, no primitive (ms)",
            f.wasm_call.show(3),
        ),
        (
            "in process: the same plus one list primitive (ms)",
            f.wasm_list.show(3),
            f.wasm_engine.show(3),
            "—".into(),
        ),
        alone(
            "in process: what one primitive adds beyond the engine request (ms)",
            f.wasm_primitive.show(3),
        ),
    ];
    for (measure, ours, floor, ratio) in rows {
        out.push_str(&format!("| {measure} | {ours} | {floor} | {ratio} |\n"));
    }
    Ok(out)
}
