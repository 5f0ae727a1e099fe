//! A complete minimal Bulkhead plugin: one tool that needs no capability, one that reads
//! containers. Build it with
//! `cargo build --release --target wasm32-wasip2 -p bulkhead-plugin-sdk --example hello`.

use bulkhead_plugin_sdk::docker::{ListFilter, PageRequest, containers_read};
use bulkhead_plugin_sdk::{
    Capability, Manifest, Plugin, Tool, ToolError, ToolOutput, Value, export_plugin, json, parse_args,
};
use serde::{Deserialize, Serialize};

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

impl Plugin for Hello {
    fn manifest() -> Manifest {
        Manifest {
            name: "hello".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Greets people and counts running containers.".into(),
            tools: vec![
                Tool::builder("hello_greet", "Greet", "Says hello to `name`. Touches nothing.")
                    .input_schema(json!({
                        "type": "object",
                        "properties": {
                            "name": {"type": "string", "description": "Who to greet."}
                        },
                        "required": ["name"],
                        "additionalProperties": false
                    }))
                    .idempotent()
                    .build(),
                Tool::builder("hello_count", "Count running containers", "Counts running containers.")
                    .output_schema(json!({
                        "type": "object",
                        "properties": {"running": {"type": "integer", "minimum": 0}},
                        "required": ["running"],
                        "additionalProperties": false
                    }))
                    .capabilities([Capability::ContainersRead])
                    .idempotent()
                    .build(),
            ],
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
                let page = containers_read::list_containers(&ListFilter::default(), &PageRequest::default())?;
                let output = CountOutput { running: page.total };
                ToolOutput::structured(format!("{} running container(s)", page.total), &output)
            }
            other => Err(ToolError::unknown_tool(other)),
        }
    }
}

export_plugin!(Hello);
