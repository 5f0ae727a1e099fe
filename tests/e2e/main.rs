//! End-to-end tests: the real `bulkhead` binary, spoken to by rmcp's MCP client over
//! stdio, against the real Docker engine (scripts/test.sh makes sure one runs and the
//! test images exist). Linked into one test binary on purpose: one build, one place.

mod audit;
mod authoring;
mod bad_input;
mod compose;
mod conformance;
mod containers_more;
mod diagnostics;
mod doctor;
mod engine;
mod exec_files;
mod gating;
mod http;
mod images;
mod lifecycle;
mod networks_volumes;
mod ownership;
mod policy;
mod protocol;
mod reload;
mod sandbox;
mod sandboxes;
mod system;
mod trust;

use std::path::{Path, PathBuf};

use bulkhead::capabilities::{Capability, Tier};
use bulkhead_testkit::{Server, ServerOptions};

/// The tools of a plugin's registration list (the one place tool names are written
/// down) whose every capability passes `keep`.
fn tools_where(
    tools: &[bulkhead_plugin_sdk::Registration],
    keep: impl Fn(Capability) -> bool,
) -> Vec<String> {
    tools
        .iter()
        .filter(|tool| {
            tool.capabilities
                .iter()
                .all(|cap| keep(host_capability(cap)))
        })
        .map(|tool| tool.name.to_string())
        .collect()
}

/// What `tools/list` shows when the containers plugin runs under `containers` and the
/// sandbox and compose plugins under `owned_removal` (their default is destructive: they
/// remove only what their principal made; a read-only server makes them read), sorted.
pub fn builtin_tools(containers: Tier, owned_removal: Tier) -> Vec<String> {
    let mut names = tools_where(bulkhead_containers::TOOLS, |cap| cap.tier() <= containers);
    for tools in [bulkhead_sandbox::TOOLS, bulkhead_compose::TOOLS] {
        names.extend(tools_where(tools, |cap| cap.tier() <= owned_removal));
    }
    names.sort();
    names
}

/// `tools/list` under a server ceiling, with the sandbox at its default.
pub fn containers_tools(ceiling: Tier) -> Vec<String> {
    let sandbox = if ceiling == Tier::Read {
        Tier::Read
    } else {
        Tier::Destructive
    };
    builtin_tools(ceiling, sandbox)
}

/// `tools/list` when the operator narrows the containers plugin's grant to `granted`.
pub fn containers_tools_granted(granted: &[Capability]) -> Vec<String> {
    let mut names = tools_where(bulkhead_containers::TOOLS, |cap| granted.contains(&cap));
    names.extend(tools_where(bulkhead_sandbox::TOOLS, |_| true));
    names.extend(tools_where(bulkhead_compose::TOOLS, |_| true));
    names.sort();
    names
}

/// What `tools/list` shows with default options (destructive docker tools hidden).
pub fn default_tools() -> Vec<String> {
    containers_tools(Tier::Moderate)
}

/// The binary under test, built by cargo for this test target.
pub fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_bulkhead"))
}

/// Runs the binary with `args` (not `serve`): whether it succeeded, and its stdout and
/// stderr together.
pub fn run_bulkhead(args: &[&str]) -> (bool, String) {
    let output = std::process::Command::new(binary())
        .args(args)
        .output()
        .expect("the bulkhead binary runs");
    let text = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), text)
}

/// Compiled plugins shared by every server the tests start, so only the first start
/// compiles (the cache is itself under test in `protocol`).
pub fn shared_cache() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("component-cache")
}

pub async fn start(options: ServerOptions) -> Server {
    let options = if options.cache_dir.is_none() {
        options.cache_dir(shared_cache())
    } else {
        options
    };
    Server::start(binary(), options)
        .await
        .expect("server starts")
}

/// The host's capability for the guest SDK's. Both enums come from the same WIT enum, so
/// their variant names agree (the guest's Debug prints `Capability::Variant`).
fn host_capability(cap: &bulkhead_plugin_sdk::Capability) -> Capability {
    let guest = format!("{cap:?}");
    let variant = guest.rsplit("::").next().unwrap_or_default();
    *Capability::ALL
        .iter()
        .find(|host| format!("{host:?}") == variant)
        .expect("a host capability")
}
