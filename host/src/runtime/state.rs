//! What one plugin instance can touch during one tool call: a WASI context that grants
//! nothing, a memory cap, and the call's capability access.

use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::access::CallAccess;

/// Store data of one instance. Instances are per call, so this is per call too.
pub struct CallState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub memory: MemoryCap,
    pub access: CallAccess,
}

impl CallState {
    pub fn new(access: CallAccess, memory_bytes: usize) -> Self {
        CallState {
            // The builder's defaults are the sandbox: no env, no args, no preopened
            // directories, stdio discarded, every socket refused.
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
            memory: MemoryCap {
                max_bytes: memory_bytes,
                hit: false,
            },
            access,
        }
    }
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Caps linear memory and records that the cap was hit, so a fault can be reported as
/// "memory limit exceeded" rather than as an anonymous trap.
pub struct MemoryCap {
    pub max_bytes: usize,
    pub hit: bool,
}

/// At most this many tables and table elements: generous for Rust guests.
const MAX_TABLE_ELEMENTS: usize = 1 << 20;

impl ResourceLimiter for MemoryCap {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_bytes {
            self.hit = true;
            // An error (not `Ok(false)`) traps at once: a guest's allocator would
            // otherwise abort on its own with a less telling trap.
            return Err(wasmtime::format_err!(
                "plugin memory limit of {} bytes exceeded",
                self.max_bytes
            ));
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}
