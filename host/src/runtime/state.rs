//! What one plugin instance can touch during one tool call: a WASI context that grants
//! nothing but the operator's read-only directories, if any; a memory cap; and the
//! call's capability access.

use std::path::PathBuf;
use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;

use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxView, WasiView};

use crate::access::CallAccess;

/// Store data of one instance. Instances are per call, so this is per call too.
pub struct CallState {
    wasi: WasiCtx,
    /// The end of what the instance wrote to stderr, for the log when it traps.
    pub stderr: super::stderr_tail::StderrTail,
    table: ResourceTable,
    pub memory: MemoryCap,
    pub access: CallAccess,
}

impl CallState {
    /// `read_dirs` are preopened read-only, each at its own host path, so a path means
    /// the same inside and outside. The preopen is a capability handle: `..` and
    /// symlinks cannot lead out of it.
    pub fn new(access: CallAccess, memory_bytes: usize, read_dirs: &[PathBuf]) -> Self {
        // The builder's defaults are the sandbox: no env, no args, no preopened
        // directories, stdin and stdout discarded, every socket refused. Stderr keeps
        // its last few KiB for the log, should the instance trap.
        let mut wasi = WasiCtx::builder();
        for dir in read_dirs {
            let Some(guest_path) = dir.to_str() else {
                continue;
            };
            if let Err(err) = wasi.preopened_dir(dir, guest_path, FsPerms::ReadOnly) {
                // Validated at start; a directory removed since reads as absent.
                tracing::warn!(dir = %dir.display(), "cannot open a compose directory: {err:#}");
            }
        }
        let stderr = super::stderr_tail::StderrTail::default();
        wasi.stderr(stderr.clone());
        CallState {
            wasi: wasi.build(),
            stderr,
            table: ResourceTable::new(),
            memory: MemoryCap::new(memory_bytes),
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

/// One memory budget for a whole instance: the sum of every linear memory of every core
/// instance in the component (a component may hold many), and likewise one budget of
/// table elements. Records that the memory cap was hit, so a fault can be reported as
/// "memory limit exceeded" rather than as an anonymous trap.
pub struct MemoryCap {
    pub max_bytes: usize,
    pub hit: bool,
    /// Bytes of linear memory across all memories so far.
    memory_used: usize,
    /// Elements across all tables so far.
    table_elements: usize,
}

/// Table elements one instance may hold across all its tables: generous for Rust guests.
const MAX_TABLE_ELEMENTS: usize = 1 << 20;

impl MemoryCap {
    pub fn new(max_bytes: usize) -> Self {
        MemoryCap {
            max_bytes,
            hit: false,
            memory_used: 0,
            table_elements: 0,
        }
    }
}

impl ResourceLimiter for MemoryCap {
    /// Called for each memory's creation (`current` 0) and every growth, so the running
    /// sum of `desired - current` is the instance's total.
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = self
            .memory_used
            .saturating_add(desired.saturating_sub(current));
        if total > self.max_bytes {
            self.hit = true;
            // An error (not `Ok(false)`) traps at once: a guest's allocator would
            // otherwise abort on its own with a less telling trap.
            return Err(wasmtime::format_err!(
                "plugin memory limit of {} bytes exceeded",
                self.max_bytes
            ));
        }
        self.memory_used = total;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = self
            .table_elements
            .saturating_add(desired.saturating_sub(current));
        if total > MAX_TABLE_ELEMENTS {
            return Ok(false);
        }
        self.table_elements = total;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1 << 20;

    #[test]
    fn the_budget_covers_all_memories_together() {
        let mut cap = MemoryCap::new(64 * MIB);
        // Two memories of 40 MiB each: the second one does not fit, although each alone
        // would.
        assert!(cap.memory_growing(0, 40 * MIB, None).unwrap());
        assert!(cap.memory_growing(0, 40 * MIB, None).is_err());
        assert!(cap.hit);
    }

    #[test]
    fn growth_counts_only_the_difference() {
        let mut cap = MemoryCap::new(64 * MIB);
        assert!(cap.memory_growing(0, 16 * MIB, None).unwrap());
        assert!(cap.memory_growing(16 * MIB, 48 * MIB, None).unwrap());
        assert!(cap.memory_growing(0, 16 * MIB, None).unwrap());
        assert!(cap.memory_growing(16 * MIB, 16 * MIB + 1, None).is_err());
    }

    #[test]
    fn tables_share_one_budget() {
        let mut cap = MemoryCap::new(64 * MIB);
        assert!(cap.table_growing(0, MAX_TABLE_ELEMENTS / 2, None).unwrap());
        assert!(cap.table_growing(0, MAX_TABLE_ELEMENTS / 2, None).unwrap());
        assert!(!cap.table_growing(0, 1, None).unwrap());
    }
}
