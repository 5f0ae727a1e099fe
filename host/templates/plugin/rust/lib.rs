//! {{name}}: a Bulkhead plugin. Build it with
//! `cargo build --release --target wasm32-wasip2` and load
//! `target/wasm32-wasip2/release/{{crate}}.wasm` with `bulkhead serve --plugin-dir DIR`
//! (see README.md).

use bulkhead_plugin_sdk::schemars::{self, JsonSchema};
use bulkhead_plugin_sdk::{Capability, Reply, ToolError, TypedTool, export_tools};
use serde::{Deserialize, Serialize};

/// The tool's arguments. Doc comments become the JSON Schema's descriptions, and the
/// host validates every call against that schema before your code runs.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GreetArgs {
    /// Who to greet.
    #[schemars(length(min = 1, max = 100))]
    name: String,
}

/// What the tool answers: its structured output, described by the output schema.
#[derive(Serialize, JsonSchema)]
pub struct Greeting {
    /// The whole sentence.
    greeting: String,
}

pub struct Greet;

impl TypedTool for Greet {
    // A plugin loaded from disk prefixes every tool with its own name.
    const NAME: &'static str = "{{prefix}}_greet";
    const TITLE: &'static str = "Greet";
    const DESCRIPTION: &'static str = "Says hello to `name`. Touches nothing.";
    // What a call may use, e.g. `&[Capability::ContainersRead]`: the tool is listed only
    // when the operator granted all of it, and any other Docker call answers `denied`.
    const CAPABILITIES: &'static [Capability] = &[];
    const IDEMPOTENT: bool = true;
    type Args = GreetArgs;
    type Output = Greeting;

    fn run(args: GreetArgs) -> Result<Reply<Greeting>, ToolError> {
        let greeting = format!("Hello, {}!", args.name);
        Ok(Reply::new(greeting.clone(), Greeting { greeting }))
    }
}

// Defines `pub struct Plugin`, the `TOOLS` list, the manifest and the dispatch, and
// exports the component.
export_tools!(Plugin {
    name: "{{name}}",
    description: "Greets people.",
    tools: [Greet],
});

#[cfg(test)]
mod tests {
    use bulkhead_plugin_sdk::testing::check_plugin;

    use super::*;

    #[test]
    fn the_host_would_load_this_manifest() {
        assert_eq!(check_plugin::<Plugin>(), Vec::<String>::new());
    }

    #[test]
    fn greets() {
        let reply = Greet::run(GreetArgs {
            name: "world".into(),
        })
        .unwrap();
        assert_eq!(reply.value.greeting, "Hello, world!");
    }
}
