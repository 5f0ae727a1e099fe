//! An unreachable engine is a typed error, never a crash, and the next call succeeds
//! once the engine is back. The test puts its own unix-socket relay between the server
//! and the real engine, so it can take "the engine" away without touching the daemon.

use std::path::{Path, PathBuf};

use bulkhead_testkit::ServerOptions;
use serde_json::json;
use tokio::net::{UnixListener, UnixStream};
use tokio::task::JoinHandle;

use crate::start;

/// The real engine's socket, from DOCKER_HOST if it names one.
fn engine_socket() -> PathBuf {
    std::env::var("DOCKER_HOST")
        .ok()
        .and_then(|host| host.strip_prefix("unix://").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("/var/run/docker.sock"))
}

/// Relays every connection on `listen` to the engine until aborted. Connections live in
/// a `JoinSet` owned by the relay task, so aborting the relay cuts them too: "the engine
/// went away" must not leave a working connection behind.
fn relay(listen: &Path, engine: PathBuf) -> JoinHandle<()> {
    let listener = UnixListener::bind(listen).expect("bind relay socket");
    tokio::spawn(async move {
        let mut connections = tokio::task::JoinSet::new();
        loop {
            let Ok((mut inbound, _)) = listener.accept().await else {
                return;
            };
            let engine = engine.clone();
            connections.spawn(async move {
                if let Ok(mut outbound) = UnixStream::connect(&engine).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
            // Reap finished connections so the set does not grow without bound.
            while connections.try_join_next().is_some() {}
        }
    })
}

#[tokio::test]
async fn engine_down_is_dkr_001_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("engine.sock");
    let server =
        start(ServerOptions::default().env("DOCKER_HOST", format!("unix://{}", socket.display())))
            .await;

    // No engine behind the socket: a clear error, twice (nothing is cached wrongly).
    for _ in 0..2 {
        let answer = server.call("docker_list_containers", json!({})).await;
        answer.expect_error("DKR-001");
        assert!(answer.text().contains("Hint:"), "{}", answer.text());
    }

    // The engine "comes back".
    let relay_task = relay(&socket, engine_socket());
    let listed = server
        .call("docker_list_containers", json!({"all": true}))
        .await;
    assert!(listed.ok()["total"].is_u64(), "{}", listed.text());

    // And goes away again mid-session.
    relay_task.abort();
    let _ = relay_task.await;
    std::fs::remove_file(&socket).unwrap();
    server
        .call("docker_list_containers", json!({}))
        .await
        .expect_error("DKR-001");

    let relay_task = relay(&socket, engine_socket());
    assert!(server.call("docker_list_containers", json!({})).await.ok()["total"].is_u64());
    relay_task.abort();
}
