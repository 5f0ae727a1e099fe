//! A complete minimal Bulkhead plugin: one tool that needs no capability, one that reads
//! containers. Build it with
//! `cargo build --release --target wasm32-wasip2 -p bulkhead-plugin-sdk --example hello`.

use bulkhead_plugin_sdk::docker::{ListFilter, PageRequest, containers_read};
use bulkhead_plugin_sdk::{Capability, Manifest, Plugin, Tool, ToolError, ToolOutput, Value};
use bulkhead_plugin_sdk::{export_plugin, json, parse_args};
use serde::{Deserialize, Serialize};

/// The plugin. `pub`: the host calls it, not this crate.
pub struct Hello;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GreetArgs {
    name: String,
}

#[derive(Serialize)]
struct CountOutput {
    running: u32,
}

fn greet_tool() -> Tool {
    Tool::builder(
        "hello_greet",
        "Greet",
        "Says hello to `name`. Touches nothing.",
    )
    .input_schema(json!({
        "type": "object",
        "properties": {
            "name": {"type": "string", "description": "Who to greet."}
        },
        "required": ["name"],
        "additionalProperties": false
    }))
    .idempotent()
    .build()
}

fn count_tool() -> Tool {
    Tool::builder("hello_count", "Count", "Counts running containers.")
        .output_schema(json!({
            "type": "object",
            "properties": {"running": {"type": "integer", "minimum": 0}},
            "required": ["running"],
            "additionalProperties": false
        }))
        .capabilities([Capability::ContainersRead])
        .idempotent()
        .build()
}

impl Plugin for Hello {
    fn manifest() -> Manifest {
        Manifest {
            name: "hello".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Greets people and counts running containers.".into(),
            tools: vec![greet_tool(), count_tool()],
        }
    }

    fn call(name: &str, args: Value) -> Result<ToolOutput, ToolError> {
        match name {
            "hello_greet" => {
                let args: GreetArgs = parse_args(args)?;
                Ok(ToolOutput::text(format!("Hello, {}!", args.name)))
            }
            "hello_count" => {
                // `?` maps a DockerError (denied, unavailable, …) to a ToolError with a hint.
                let filter = ListFilter::default(); // running containers only
                let page = containers_read::list_containers(&filter, &PageRequest::default())?;
                let text = format!("{} running container(s)", page.total);
                ToolOutput::structured(
                    text,
                    &CountOutput {
                        running: page.total,
                    },
                )
            }
            other => Err(ToolError::unknown_tool(other)),
        }
    }
}

export_plugin!(Hello);
