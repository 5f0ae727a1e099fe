//! The one place the WIT package is turned into Rust: host traits for every import
//! interface, and typed access to the plugin's exports. Bindings come from world
//! `plugin-with-context`, but each export is looked up on its own: `tools` is required,
//! `context` optional, so components of world `plugin` load unchanged.

wasmtime::component::bindgen!({
    world: "bulkhead:plugin/plugin-with-context",
    path: "../wit",
    imports: { default: async },
    exports: { default: async },
});

/// Prefix of every interface name of this WIT package in a component's imports.
pub const WIT_PACKAGE_NAMESPACE: &str = "bulkhead:plugin/";

pub use self::bulkhead::plugin::types::DockerError;
pub use self::exports::bulkhead::plugin::{context, tools};
