//! The wasmtime engine shared by all plugins, and the epoch ticker that lets the host
//! interrupt a guest that never yields.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use wasmtime::{Config, Engine};

/// How often the epoch advances. A spinning guest yields to the async executor once per
/// tick, which is what lets a `tokio::time::timeout` around the call fire.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

pub fn new_engine() -> wasmtime::Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    // Deep recursion in a guest must trap, not exhaust the host thread's stack.
    config.max_wasm_stack(1 << 20);
    Engine::new(&config)
}

/// Advances the engine's epoch from an OS thread. A tokio task would not do: a guest
/// spinning on a current-thread runtime starves it (verified, see shared TIPS).
/// Dropping the ticker stops the thread.
pub struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl EpochTicker {
    pub fn start(engine: Engine) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = thread::Builder::new()
            .name("bulkhead-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })?;
        Ok(EpochTicker {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
