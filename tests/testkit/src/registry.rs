//! Registries for pull and push tests (no public registry is reachable here): a real
//! one, Debian's `docker-registry` on a free loopback port with throw-away storage
//! (scripts/ensure-registry.sh installs it), and a silent one that accepts connections
//! and never answers, for pulls that must be cancelled or time out.

use std::io::Write as _;
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context as _, bail};

/// A loopback port nothing listens on (at the moment of asking).
pub fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// A `docker-registry serve` this test started; stopped (only this process) on drop.
/// The engine accepts plain HTTP for registries on 127.0.0.0/8.
pub struct LocalRegistry {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl LocalRegistry {
    pub fn start() -> anyhow::Result<LocalRegistry> {
        let dir = tempfile::tempdir()?;
        let port = free_port()?;
        let config = dir.path().join("config.yml");
        let mut file = std::fs::File::create(&config)?;
        write!(
            file,
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
            dir.path().join("data").display()
        )?;
        let log = std::fs::File::create(dir.path().join("registry.log"))?;
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("starting docker-registry (scripts/ensure-registry.sh installs it)")?;
        let mut registry = LocalRegistry {
            child,
            port,
            _dir: dir,
        };
        for _ in 0..200 {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(registry);
            }
            if let Some(status) = registry.child.try_wait()? {
                bail!("docker-registry exited with {status}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!("docker-registry did not listen on 127.0.0.1:{port}")
    }

    /// `127.0.0.1:PORT`, the registry part of an image reference.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for LocalRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Accepts connections and never answers: a registry that hangs. Counts connections so
/// a test knows the engine is waiting on it.
pub struct SilentRegistry {
    port: u16,
    connections: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl SilentRegistry {
    pub fn start() -> anyhow::Result<SilentRegistry> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let connections = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let connections = Arc::clone(&connections);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut held = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            held.push(stream);
                            connections.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(20)),
                    }
                }
            })
        };
        Ok(SilentRegistry {
            port,
            connections,
            stop,
            thread: Some(thread),
        })
    }

    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }
}

impl Drop for SilentRegistry {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
