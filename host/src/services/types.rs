//! The `types` interface declares only types; wasmtime still wants its (empty) host trait.

use crate::access::CallAccess;
use crate::bindings::bulkhead::plugin::types::Host;

impl Host for CallAccess {}
