//! The one place the WIT package is turned into Rust: host traits for every import
//! interface, and typed access to the plugin's `tools` export.

wasmtime::component::bindgen!({
    world: "bulkhead:plugin/plugin",
    path: "../wit",
    imports: { default: async },
    exports: { default: async },
});

/// Prefix of every interface name of this WIT package in a component's imports.
pub const WIT_PACKAGE_NAMESPACE: &str = "bulkhead:plugin/";

pub use self::bulkhead::plugin::types::DockerError;
pub use self::exports::bulkhead::plugin::tools;
