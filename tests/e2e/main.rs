//! End-to-end tests: the real `bulkhead` binary, spoken to by rmcp's MCP client over
//! stdio, against the real Docker engine (scripts/test.sh makes sure one runs and the
//! test images exist). Linked into one test binary on purpose: one build, one place.

mod bad_input;
mod engine;
mod gating;
mod lifecycle;
mod protocol;
mod sandbox;

use std::path::{Path, PathBuf};

use bulkhead_testkit::{Server, ServerOptions};

/// The containers plugin's read-tier tools, sorted.
pub const READ_TOOLS: [&str; 3] = [
    "docker_container_logs",
    "docker_inspect_container",
    "docker_list_containers",
];

/// The binary under test, built by cargo for this test target.
pub fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_bulkhead"))
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
