//! The `types` interface declares only types; wasmtime still wants its (empty) host trait.

use crate::bindings::bulkhead::plugin::types::Host;
use crate::runtime::CallState;

impl Host for CallState {}
