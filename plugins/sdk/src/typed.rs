//! Typed tools: declare a tool once, as a type, and get its manifest entry (with input
//! and output JSON Schemas derived from the Rust types) and its dispatch from the same
//! declaration. One registration list per plugin yields both the manifest and `call`.
//!
//! ```
//! use bulkhead_plugin_sdk::typed::{Reply, TypedTool};
//! use bulkhead_plugin_sdk::{Capability, ToolError};
//! use schemars::JsonSchema;
//! use serde::{Deserialize, Serialize};
//!
//! /// Arguments: doc comments become the schema's descriptions.
//! #[derive(Deserialize, JsonSchema)]
//! #[serde(deny_unknown_fields)]
//! pub struct GreetArgs {
//!     /// Who to greet.
//!     #[schemars(length(min = 1))]
//!     name: String,
//! }
//!
//! #[derive(Serialize, JsonSchema)]
//! pub struct Greeting {
//!     /// The greeting.
//!     text: String,
//! }
//!
//! pub struct Greet;
//!
//! impl TypedTool for Greet {
//!     const NAME: &'static str = "demo_greet";
//!     const TITLE: &'static str = "Greet";
//!     const DESCRIPTION: &'static str = "Says hello.";
//!     const CAPABILITIES: &'static [Capability] = &[];
//!     const IDEMPOTENT: bool = true;
//!     type Args = GreetArgs;
//!     type Output = Greeting;
//!
//!     fn run(args: GreetArgs) -> Result<Reply<Greeting>, ToolError> {
//!         let text = format!("Hello, {}!", args.name);
//!         Ok(Reply::new(text.clone(), Greeting { text }))
//!     }
//! }
//!
//! let tools = [bulkhead_plugin_sdk::typed::register::<Greet>()];
//! let manifest = bulkhead_plugin_sdk::typed::manifest("demo", "0.1.0", "Demo.", &tools);
//! assert_eq!(manifest.tools[0].name, "demo_greet");
//! ```

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Capability, Manifest, Tool, ToolError, ToolOutput, Value, parse_args};

/// One tool, declared as a type: metadata as constants, typed arguments and output, and
/// the body. The host validates arguments against the schema derived from `Args` before
/// the plugin runs, so `run` does not re-check what the schema bounds.
pub trait TypedTool {
    /// `^[a-z][a-z0-9_]{0,63}$`, carrying the plugin's prefix.
    const NAME: &'static str;
    /// Short human title.
    const TITLE: &'static str;
    /// What the tool does, written for the model that will call it.
    const DESCRIPTION: &'static str;
    /// Every capability the tool uses; a call may use nothing else.
    const CAPABILITIES: &'static [Capability];
    /// Repeating the call with the same arguments has no further effect.
    const IDEMPOTENT: bool = false;
    /// The tool reaches beyond the local engine (for example a registry).
    const OPEN_WORLD: bool = false;

    /// The arguments: `#[derive(Deserialize, JsonSchema)]` with
    /// `#[serde(deny_unknown_fields)]`; doc comments become descriptions.
    type Args: DeserializeOwned + JsonSchema;
    /// The structured result; its schema is the tool's output schema.
    type Output: Serialize + JsonSchema;

    fn run(args: Self::Args) -> Result<Reply<Self::Output>, ToolError>;
}

/// A successful typed call: a short text rendering and the structured value.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply<T> {
    pub text: String,
    pub value: T,
}

impl<T> Reply<T> {
    pub fn new(text: impl Into<String>, value: T) -> Self {
        Reply {
            text: text.into(),
            value,
        }
    }
}

/// A registered tool: its name, how to describe it, how to run it. Plain function
/// pointers, so a registration list can be a `const` and dispatch builds no schemas.
#[derive(Clone, Copy)]
pub struct Registration {
    pub name: &'static str,
    pub capabilities: &'static [Capability],
    describe: fn() -> Tool,
    invoke: fn(Value) -> Result<ToolOutput, ToolError>,
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Registration {
    /// The manifest entry, schemas included.
    pub fn tool(&self) -> Tool {
        (self.describe)()
    }

    /// Runs the tool with arguments the host has validated.
    pub fn call(&self, args: Value) -> Result<ToolOutput, ToolError> {
        (self.invoke)(args)
    }
}

/// Registers `T`; put the results in one list and hand it to [`manifest`] and [`call`]
/// (or to [`export_tools!`](crate::export_tools), which does both).
pub const fn register<T: TypedTool>() -> Registration {
    Registration {
        name: T::NAME,
        capabilities: T::CAPABILITIES,
        describe: describe::<T>,
        invoke: invoke::<T>,
    }
}

fn describe<T: TypedTool>() -> Tool {
    Tool {
        name: T::NAME.to_owned(),
        title: T::TITLE.to_owned(),
        description: T::DESCRIPTION.to_owned(),
        input_schema: schema_of::<T::Args>().to_string(),
        output_schema: Some(output_schema_of::<T::Output>().to_string()),
        capabilities: T::CAPABILITIES.to_vec(),
        idempotent: T::IDEMPOTENT,
        open_world: T::OPEN_WORLD,
    }
}

fn invoke<T: TypedTool>(args: Value) -> Result<ToolOutput, ToolError> {
    let args: T::Args = parse_args(args)?;
    let reply = T::run(args)?;
    ToolOutput::structured(reply.text, &reply.value)
}

/// The JSON Schema of `T` as a tool's input: draft 2020-12 (MCP's default dialect)
/// without `$schema`, every subschema inlined, no root title (the Rust type name means
/// nothing to a model).
pub fn schema_of<T: JsonSchema>() -> Value {
    let settings = SchemaSettings::draft2020_12().with(|settings| {
        settings.meta_schema = None;
    });
    tool_schema::<T>(settings)
}

/// The JSON Schema of `T` as a tool's output, declared as draft-07 (`$schema`), which
/// MCP allows. Clients such as the official Python SDK re-validate every result and,
/// with it, check the schema against its dialect's meta-schema on every call: the
/// 2020-12 meta-schema (vocabularies, `$dynamicRef`) makes that check about 3.5 times
/// slower than draft-07's for the same schema (measured by `bench/python/schema_cost.py`),
/// and the TypeScript SDK's default validator (ajv) speaks draft-07 natively. Output
/// types use no keyword whose meaning differs between the two.
pub fn output_schema_of<T: JsonSchema>() -> Value {
    tool_schema::<T>(SchemaSettings::draft07())
}

fn tool_schema<T: JsonSchema>(settings: SchemaSettings) -> Value {
    let generator = settings
        .with(|settings| settings.inline_subschemas = true)
        .into_generator();
    let mut schema = generator.into_root_schema_for::<T>().to_value();
    drop_null_defaults(&mut schema);
    numeric_formats_as_bounds(&mut schema);
    if let Value::Object(map) = &mut schema {
        map.remove("title");
        // A `()`-like output has no properties; MCP wants an object schema all the same.
        if !map.contains_key("type") && map.keys().all(|key| key == "$schema") {
            map.insert("type".into(), Value::String("object".into()));
        }
    }
    schema
}

/// `#[serde(default)]` on an `Option` yields `"default": null`, which tells a model
/// nothing; drop it everywhere (a property named `default` is an object, never null).
fn drop_null_defaults(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            if map.get("default") == Some(&Value::Null) {
                map.remove("default");
            }
            map.values_mut().for_each(drop_null_defaults);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_null_defaults),
        _ => {}
    }
}

/// schemars names Rust's number types in `format` (`uint16`, `int64`, `double`, …),
/// formats no JSON Schema dialect defines: validators ignore them, and strict ones (ajv,
/// in the TypeScript SDK and the MCP Inspector) warn about every one of them, for every
/// schema. Say the same in bounds instead, which every validator checks: an integer
/// format becomes the `minimum` and `maximum` of its type (the tighter of those and any
/// bound already given; 64-bit types get only their sign's bound, as JSON numbers are
/// doubles), and a float format is dropped.
fn numeric_formats_as_bounds(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            let format = map.get("format").and_then(Value::as_str).map(str::to_owned);
            let bounds: Option<(i64, Option<i64>)> = match format.as_deref() {
                Some("uint8") => Some((0, Some(u8::MAX.into()))),
                Some("uint16") => Some((0, Some(u16::MAX.into()))),
                Some("uint32") => Some((0, Some(u32::MAX.into()))),
                Some("uint64" | "uint" | "uint128") => Some((0, None)),
                Some("int8") => Some((i8::MIN.into(), Some(i8::MAX.into()))),
                Some("int16") => Some((i16::MIN.into(), Some(i16::MAX.into()))),
                Some("int32") => Some((i32::MIN.into(), Some(i32::MAX.into()))),
                Some("int64" | "int" | "int128" | "double" | "float") => Some((i64::MIN, None)),
                _ => None,
            };
            if let Some((min, max)) = bounds {
                map.remove("format");
                if min != i64::MIN {
                    let tighter = map
                        .get("minimum")
                        .and_then(Value::as_f64)
                        .map_or(min as f64, |given| given.max(min as f64));
                    map.insert("minimum".into(), json_number(tighter));
                }
                if let Some(max) = max {
                    let tighter = map
                        .get("maximum")
                        .and_then(Value::as_f64)
                        .map_or(max as f64, |given| given.min(max as f64));
                    map.insert("maximum".into(), json_number(tighter));
                }
            }
            map.values_mut().for_each(numeric_formats_as_bounds);
        }
        Value::Array(items) => items.iter_mut().for_each(numeric_formats_as_bounds),
        _ => {}
    }
}

/// A bound as JSON: an integer when it is one, so `1` stays `1`, not `1.0`.
fn json_number(value: f64) -> Value {
    if value.fract() == 0.0 && value.abs() < 9.0e15 {
        Value::from(value as i64)
    } else {
        Value::from(value)
    }
}

/// The manifest of a plugin whose tools are `tools`.
pub fn manifest(name: &str, version: &str, description: &str, tools: &[Registration]) -> Manifest {
    Manifest {
        name: name.to_owned(),
        version: version.to_owned(),
        description: description.to_owned(),
        tools: tools.iter().map(Registration::tool).collect(),
    }
}

/// Dispatches a call to the registered tool `name`.
pub fn call(tools: &[Registration], name: &str, args: Value) -> Result<ToolOutput, ToolError> {
    match tools.iter().find(|tool| tool.name == name) {
        Some(tool) => tool.call(args),
        None => Err(ToolError::unknown_tool(name)),
    }
}

/// Declares and exports a plugin made of typed tools:
///
/// ```ignore
/// bulkhead_plugin_sdk::export_tools!(Containers {
///     name: "containers",
///     description: "Docker containers, images, networks, volumes and system.",
///     tools: [list::ListContainers, inspect::InspectContainer],
/// });
/// ```
///
/// It defines `pub struct Containers`, a `pub const TOOLS: &[Registration]` in the
/// calling module (the one list tests and the manifest share), implements
/// [`Plugin`](crate::Plugin) with the crate's version, and exports it.
#[macro_export]
macro_rules! export_tools {
    ($plugin:ident { name: $name:expr, description: $description:expr, tools: [$($tool:ty),+ $(,)?] $(,)? }) => {
        /// The plugin, exported to the host as `bulkhead:plugin/tools`.
        pub struct $plugin;

        /// Every tool of this plugin, in manifest order.
        pub const TOOLS: &[$crate::typed::Registration] = &[$($crate::typed::register::<$tool>()),+];

        impl $crate::Plugin for $plugin {
            fn manifest() -> $crate::Manifest {
                $crate::typed::manifest($name, env!("CARGO_PKG_VERSION"), $description, TOOLS)
            }

            fn call(
                name: &str,
                args: $crate::Value,
            ) -> ::core::result::Result<$crate::ToolOutput, $crate::ToolError> {
                $crate::typed::call(TOOLS, name, args)
            }
        }

        $crate::export_plugin!($plugin);
    };
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;
    use crate::{ErrorCode, json};

    /// Arguments of the test tool.
    #[derive(Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    struct EchoArgs {
        /// What to echo.
        #[schemars(length(min = 1))]
        text: String,
        /// How often, 1-3.
        #[serde(default)]
        #[schemars(range(min = 1, max = 3))]
        times: Option<u8>,
    }

    #[derive(Serialize, JsonSchema)]
    struct Echoed {
        /// The echoed text.
        text: String,
    }

    struct Echo;

    impl TypedTool for Echo {
        const NAME: &'static str = "demo_echo";
        const TITLE: &'static str = "Echo";
        const DESCRIPTION: &'static str = "Echoes.";
        const CAPABILITIES: &'static [Capability] = &[Capability::ContainersRead];
        const IDEMPOTENT: bool = true;
        type Args = EchoArgs;
        type Output = Echoed;

        fn run(args: EchoArgs) -> Result<Reply<Echoed>, ToolError> {
            let text = args.text.repeat(usize::from(args.times.unwrap_or(1)));
            Ok(Reply::new(format!("echoed {text}"), Echoed { text }))
        }
    }

    const TOOLS: &[Registration] = &[register::<Echo>()];

    #[test]
    fn manifest_entry_is_derived_from_the_types() {
        let manifest = manifest("demo", "1.0.0", "Demo.", TOOLS);
        assert_eq!(
            crate::testing::check_manifest(&manifest),
            Vec::<String>::new()
        );
        let tool = &manifest.tools[0];
        assert_eq!(tool.name, "demo_echo");
        assert_eq!(tool.capabilities, vec![Capability::ContainersRead]);
        assert!(tool.idempotent && !tool.open_world);
        let input: Value = serde_json::from_str(&tool.input_schema).unwrap();
        assert_eq!(
            input,
            json!({
                "type": "object",
                "properties": {
                    "text": {"type": "string", "minLength": 1, "description": "What to echo."},
                    "times": {
                        "type": ["integer", "null"],
                        "minimum": 1, "maximum": 3, "description": "How often, 1-3."
                    }
                },
                "required": ["text"],
                "additionalProperties": false,
                "description": "Arguments of the test tool."
            })
        );
        let output: Value = serde_json::from_str(tool.output_schema.as_deref().unwrap()).unwrap();
        assert_eq!(output["properties"]["text"]["type"], "string");
        // Outputs declare the dialect that is cheap for clients to check every call.
        assert_eq!(output["$schema"], "http://json-schema.org/draft-07/schema#");
        assert!(input.get("$schema").is_none());
    }

    #[test]
    fn number_formats_become_bounds_every_validator_checks() {
        #[derive(Serialize, JsonSchema)]
        struct Numbers {
            port: u16,
            delta: i32,
            size: u64,
            ratio: f64,
            /// A property that happens to be called `format`.
            format: String,
            nested: Vec<u8>,
        }
        let schema = output_schema_of::<Numbers>();
        let properties = &schema["properties"];
        assert_eq!(properties["port"]["minimum"], 0);
        assert_eq!(properties["port"]["maximum"], 65535);
        assert_eq!(properties["delta"]["minimum"], i32::MIN);
        assert_eq!(properties["size"]["minimum"], 0);
        assert!(properties["size"].get("maximum").is_none());
        assert_eq!(properties["format"]["type"], "string");
        assert_eq!(properties["nested"]["items"]["maximum"], 255);
        assert!(!schema.to_string().contains("\"format\":\""), "{schema}");
    }

    #[test]
    fn an_empty_output_is_still_an_object_schema() {
        #[derive(Serialize, JsonSchema)]
        struct Nothing {}
        let schema = output_schema_of::<Nothing>();
        assert_eq!(schema["type"], "object");
    }

    #[test]
    fn dispatch_parses_runs_and_serialises() {
        let output = call(TOOLS, "demo_echo", json!({"text": "ab", "times": 2})).unwrap();
        assert_eq!(output.text, "echoed abab");
        assert_eq!(output.structured.as_deref(), Some(r#"{"text":"abab"}"#));
        let err = call(TOOLS, "demo_echo", json!({"text": "a", "bogus": 1})).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument);
        let err = call(TOOLS, "demo_nope", json!({})).unwrap_err();
        assert_eq!(err.code, ErrorCode::PluginFault);
    }
}
