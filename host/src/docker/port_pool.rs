//! Host ports from the operator's pool (`arguments.port_pool`, default 8192-8199), for
//! containers that ask to publish a port without choosing one.
//!
//! Two Bulkhead processes on one machine must never hand out the same port, so an
//! allocation runs under an exclusive lock on a file every process uses
//! ([`LOCK_FILE`]): it lists the containers that already hold pool ports (the engine is
//! the record, through the `io.bulkhead.pooled-ports` label, so a port is free again as
//! soon as its container is removed, whoever removed it), probes each candidate with a
//! bind on 127.0.0.1 (something outside Bulkhead may hold it), and keeps the lock until
//! the container carrying the label has been created.

use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::ops::RangeInclusive;
use std::time::Duration;

use bollard::Docker;
use bollard::query_parameters::ListContainersOptionsBuilder;

use super::engine_call;
use super::labels::POOLED_PORTS_LABEL;
use crate::access::CallAccess;
use crate::bindings::DockerError;

/// The lock every Bulkhead process on this machine takes to allocate pool ports.
pub const LOCK_FILE: &str = "/tmp/bulkhead-port-pool.lock";
/// How long an allocation waits for another process's allocation to finish.
const LOCK_WAIT: Duration = Duration::from_secs(5);
const LOCK_POLL: Duration = Duration::from_millis(20);
/// Most pooled ports one container may take.
pub const MAX_POOLED_PORTS: usize = 8;

/// Holds the pool lock; dropping it lets the next allocation in.
#[derive(Debug)]
pub struct PoolLock {
    _file: File,
}

impl CallAccess {
    /// Host ports for `wanted` container ports, and the lock to hold until the
    /// container that records them exists.
    pub(super) async fn allocate_pooled(
        &self,
        docker: &Docker,
        wanted: &[u16],
    ) -> Result<(PoolLock, Vec<u16>), DockerError> {
        let lock = lock_pool().await?;
        let options = ListContainersOptionsBuilder::new()
            .all(true)
            .filters(&HashMap::from([(
                "label".to_string(),
                vec![POOLED_PORTS_LABEL.to_string()],
            )]))
            .build();
        let holders = engine_call(&self.docker, docker.list_containers(Some(options))).await?;
        let taken: BTreeSet<u16> = holders
            .iter()
            .filter_map(|c| c.labels.as_ref()?.get(POOLED_PORTS_LABEL))
            .flat_map(|value| parse_ports(value))
            .collect();
        let ports =
            pick(&self.rules.port_pool, &taken, wanted.len(), port_is_free).ok_or_else(|| {
                DockerError::PortInUse(format!(
                    "the port pool {}-{} has no {} free port(s) left ({} held by other containers)",
                    self.rules.port_pool.start(),
                    self.rules.port_pool.end(),
                    wanted.len(),
                    taken.len()
                ))
            })?;
        Ok((lock, ports))
    }
}

/// The label value recording pool ports: `8192,8193`.
pub fn ports_label(ports: &[u16]) -> String {
    ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn parse_ports(value: &str) -> impl Iterator<Item = u16> + '_ {
    value.split(',').filter_map(|p| p.trim().parse().ok())
}

/// The first `count` ports of `pool` that nobody holds and `free` accepts.
fn pick(
    pool: &RangeInclusive<u16>,
    taken: &BTreeSet<u16>,
    count: usize,
    free: impl Fn(u16) -> bool,
) -> Option<Vec<u16>> {
    let ports: Vec<u16> = pool
        .clone()
        .filter(|port| !taken.contains(port) && free(*port))
        .take(count)
        .collect();
    (ports.len() == count).then_some(ports)
}

/// Whether something on this machine already listens on 127.0.0.1:`port`.
fn port_is_free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// Takes the machine-wide pool lock, waiting at most [`LOCK_WAIT`].
async fn lock_pool() -> Result<PoolLock, DockerError> {
    use rustix::fs::{FlockOperation, Mode, OFlags, flock, open};
    let started = tokio::time::Instant::now();
    // Read-only is enough for flock, so a lock file created by another user (mode 0644
    // after their umask) still serves everyone; never follow a planted symlink.
    let fd = open(
        LOCK_FILE,
        OFlags::RDONLY | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o644),
    )
    .map_err(|err| {
        DockerError::Engine(format!("cannot open the port pool lock {LOCK_FILE}: {err}"))
    })?;
    loop {
        match flock(&fd, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => {
                return Ok(PoolLock {
                    _file: File::from(fd),
                });
            }
            Err(rustix::io::Errno::WOULDBLOCK) if started.elapsed() < LOCK_WAIT => {
                tokio::time::sleep(LOCK_POLL).await;
            }
            Err(err) => {
                return Err(DockerError::Timeout(format!(
                    "the port pool lock {LOCK_FILE} stayed busy ({err}); retry"
                )));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_free_ports_in_order() {
        let pool = 8192..=8195;
        let taken: BTreeSet<u16> = parse_ports("8192, 8194").collect();
        assert_eq!(pick(&pool, &taken, 2, |_| true), Some(vec![8193, 8195]));
        assert_eq!(pick(&pool, &taken, 3, |_| true), None);
        assert_eq!(pick(&pool, &taken, 1, |p| p != 8193), Some(vec![8195]));
        assert_eq!(ports_label(&[8192, 8193]), "8192,8193");
    }

    #[tokio::test]
    async fn the_lock_is_exclusive_until_dropped() {
        let first = lock_pool().await.unwrap();
        let fd = File::open(LOCK_FILE).unwrap();
        assert!(
            rustix::fs::flock(&fd, rustix::fs::FlockOperation::NonBlockingLockExclusive).is_err()
        );
        drop(first);
        assert!(
            rustix::fs::flock(&fd, rustix::fs::FlockOperation::NonBlockingLockExclusive).is_ok()
        );
    }
}
