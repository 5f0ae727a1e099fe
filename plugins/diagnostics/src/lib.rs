//! Bulkhead's diagnostics plugin (being written).

use bulkhead_plugin_sdk::{Manifest, Plugin, ToolError, ToolOutput, Value, export_plugin};

pub struct Diagnostics;

impl Plugin for Diagnostics {
    fn manifest() -> Manifest {
        Manifest {
            name: "diagnostics".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Prompts that gather live evidence, docker:// resources.".into(),
            tools: Vec::new(),
        }
    }

    fn call(name: &str, _args: Value) -> Result<ToolOutput, ToolError> {
        Err(ToolError::unknown_tool(name))
    }
}

export_plugin!(Diagnostics);
