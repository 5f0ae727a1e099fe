//! Guest SDK for Bulkhead plugins: the WIT bindings of `bulkhead:plugin`, a [`Plugin`]
//! trait with an [`export_plugin!`] macro, and helpers for arguments, outputs and errors,
//! so a plugin author writes tools, not glue. See the crate's README for a whole plugin.
//!
//! A plugin crate is a `cdylib` built for `wasm32-wasip2`, which yields a component
//! directly. Its imports are its permission request: only the capability interfaces its
//! code actually calls end up in the component.

pub mod args;
pub mod client;
pub mod context;
pub mod docker;
pub mod error;
pub mod fake;
pub mod log;
pub mod output;
pub mod page;
pub mod progress;
pub mod testing;
pub mod tool;
pub mod typed;

pub use args::parse_args;
pub use output::fence_untrusted;
pub use page::{Page, page_request};
pub use serde_json::{Value, json};
pub use tool::ToolBuilder;
pub use typed::{Registration, Reply, TypedTool};

/// Re-exported so plugins derive schemas with the same version the SDK uses.
pub use schemars;

/// The generated bindings of world `bulkhead:plugin/plugin-with-context`, as
/// `wit-bindgen` emits them.
///
/// Plugins rarely need this module: [`docker`], [`log`] and the crate-root re-exports
/// cover it. It is public because [`export_plugin!`] expands to code that names it.
#[allow(unsafe_code, missing_docs, clippy::all)]
pub mod bindings {
    //! Output of `wit_bindgen::generate!` for `wit/` (world
    //! `bulkhead:plugin/plugin-with-context`).

    wit_bindgen::generate!({
        world: "bulkhead:plugin/plugin-with-context",
        path: "../../wit",
        pub_export_macro: true,
        default_bindings_module: "bulkhead_plugin_sdk::bindings",
        // Records are plain data: they serialise straight into a tool's structured
        // output, and their WIT doc comments become the output schema's descriptions.
        additional_derives: [PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema],
        additional_type_attributes: {
            "bulkhead:plugin/types@0.1.0/list-filter": [#[derive(Default)]],
            "bulkhead:plugin/types@0.1.0/page-request": [#[derive(Default)]],
            "bulkhead:plugin/types@0.1.0/log-options": [#[derive(Default)]],
            "bulkhead:plugin/types@0.1.0/container-spec": [#[derive(Default)]],
            // Enums read as the WIT spells them, not as Rust variant names.
            "bulkhead:plugin/types@0.1.0/mount-kind": [#[serde(rename_all = "lowercase")]],
            "bulkhead:plugin/containers-read@0.1.0/change-kind": [#[serde(rename_all = "lowercase")]],
            "bulkhead:plugin/containers-files@0.1.0/entry-kind": [#[serde(rename_all = "lowercase")]],
        },
    });
}

/// A Docker capability a tool declares (one WIT interface, one grant).
pub use bindings::exports::bulkhead::plugin::tools::Capability;
/// The stable error codes the host renders as `DKR-nnn`.
pub use bindings::exports::bulkhead::plugin::tools::ErrorCode;
/// What a plugin exports: its name, version, description and tools.
pub use bindings::exports::bulkhead::plugin::tools::Manifest;
/// One tool as the MCP client sees it; build one with [`Tool::builder`].
pub use bindings::exports::bulkhead::plugin::tools::Tool;
/// A failed tool call (`isError: true` with a stable code, a message and a hint).
pub use bindings::exports::bulkhead::plugin::tools::ToolError;
/// A successful tool call: short text, optional structured JSON, and attachments.
pub use bindings::exports::bulkhead::plugin::tools::ToolOutput;
/// Content beside an answer's text: an image, audio, or an embedded resource.
pub use bindings::exports::bulkhead::plugin::tools::{Attachment, EmbeddedResource, Media};

/// A plugin: a manifest of tools and a dispatcher that runs one of them.
///
/// The host makes a fresh instance for every call, so there is no `self`: state that
/// must outlive a call lives in Docker (labels, volumes), not in the plugin.
/// Register the implementing type with [`export_plugin!`].
pub trait Plugin {
    /// The plugin's name, version and tools. Called at load and whenever the host needs
    /// it; must be pure (no Docker calls).
    fn manifest() -> Manifest;

    /// Runs the tool `name` with `args`, a JSON object the host has already validated
    /// against the tool's input schema. Convert it with [`parse_args`].
    fn call(name: &str, args: Value) -> Result<ToolOutput, ToolError>;

    /// The plugin's prompts and resource templates (see [`context`]); none by default.
    /// Called at load; must be pure.
    fn context() -> context::ContextManifest {
        context::ContextManifest {
            prompts: Vec::new(),
            templates: Vec::new(),
        }
    }

    /// Fills in prompt `name`. The host has checked that `args` holds only declared
    /// arguments and every required one.
    fn get_prompt(
        name: &str,
        args: &[(String, String)],
    ) -> Result<context::PromptAnswer, ToolError> {
        let _ = args;
        Err(context_mismatch("prompt", name))
    }

    /// One page of concrete resources; none by default.
    fn list_resources(cursor: Option<&str>) -> Result<context::ResourcePage, ToolError> {
        let _ = cursor;
        Ok(context::ResourcePage {
            resources: Vec::new(),
            next_cursor: None,
        })
    }

    /// Reads `uri`, which the host matched to `template` (as declared) with `variables`.
    fn read_resource(
        uri: &str,
        template: &str,
        variables: &[(String, String)],
    ) -> Result<context::ResourceContents, ToolError> {
        let _ = (uri, variables);
        Err(context_mismatch("resource template", template))
    }

    /// Suggestions for `argument` of `target` starting from `value`; none by default.
    fn complete(
        target: &context::CompletionTarget,
        argument: &str,
        value: &str,
        context: &[(String, String)],
    ) -> Result<context::Completion, ToolError> {
        let _ = (target, argument, value, context);
        Ok(context::Completion::none())
    }
}

/// The host routed a prompt or template that the plugin's `context` and its handler
/// disagree on.
fn context_mismatch(what: &str, name: &str) -> ToolError {
    ToolError::new(
        ErrorCode::PluginFault,
        format!("this plugin cannot answer for {what} `{name}`"),
    )
    .with_hint("the plugin's context manifest and its handlers disagree; report it to its author")
}

/// Exports a type implementing [`Plugin`] as the component's `bulkhead:plugin/tools` and
/// `bulkhead:plugin/context`.
///
/// Invoke it once, at the root of the plugin crate, with the name of a `pub` type
/// defined in that crate (`pub`, or the compiler warns that it is never constructed: the
/// host calls it, not your code):
///
/// ```
/// use bulkhead_plugin_sdk::{Manifest, Plugin, Tool, ToolError, ToolOutput, Value, export_plugin};
///
/// pub struct Ping;
///
/// impl Plugin for Ping {
///     fn manifest() -> Manifest {
///         Manifest {
///             name: "ping".into(),
///             version: "0.1.0".into(),
///             description: "Answers pong.".into(),
///             tools: vec![Tool::builder("ping_ping", "Ping", "Answers pong.").idempotent().build()],
///         }
///     }
///
///     fn call(name: &str, _args: Value) -> Result<ToolOutput, ToolError> {
///         match name {
///             "ping_ping" => Ok(ToolOutput::text("pong")),
///             other => Err(ToolError::unknown_tool(other)),
///         }
///     }
/// }
///
/// export_plugin!(Ping);
/// ```
///
/// The arguments JSON text is parsed before [`Plugin::call`] sees it; text that is not a
/// JSON object answers `invalid-argument` without calling the plugin. The component
/// exports exist only when compiling for `wasm32`; natively the macro just implements
/// the generated `Guest` trait, so plugin crates still build and test on the host.
#[macro_export]
macro_rules! export_plugin {
    ($ty:ident) => {
        const _: () = {
            impl $crate::bindings::exports::bulkhead::plugin::tools::Guest for $ty {
                fn get_manifest() -> $crate::Manifest {
                    <$ty as $crate::Plugin>::manifest()
                }

                fn call_tool(
                    name: ::std::string::String,
                    arguments: ::std::string::String,
                ) -> ::core::result::Result<$crate::ToolOutput, $crate::ToolError> {
                    $crate::__private::call_tool::<$ty>(&name, &arguments)
                }
            }

            impl $crate::bindings::exports::bulkhead::plugin::context::Guest for $ty {
                fn get_context_manifest() -> $crate::context::ContextManifest {
                    <$ty as $crate::Plugin>::context()
                }

                fn get_prompt(
                    name: ::std::string::String,
                    arguments: ::std::vec::Vec<(::std::string::String, ::std::string::String)>,
                ) -> ::core::result::Result<$crate::context::PromptAnswer, $crate::ToolError> {
                    <$ty as $crate::Plugin>::get_prompt(&name, &arguments)
                }

                fn list_resources(
                    cursor: ::core::option::Option<::std::string::String>,
                ) -> ::core::result::Result<$crate::context::ResourcePage, $crate::ToolError> {
                    <$ty as $crate::Plugin>::list_resources(cursor.as_deref())
                }

                fn read_resource(
                    uri: ::std::string::String,
                    template: ::std::string::String,
                    variables: ::std::vec::Vec<(::std::string::String, ::std::string::String)>,
                ) -> ::core::result::Result<$crate::context::ResourceContents, $crate::ToolError> {
                    <$ty as $crate::Plugin>::read_resource(&uri, &template, &variables)
                }

                fn complete(
                    target: $crate::context::CompletionTarget,
                    argument: ::std::string::String,
                    value: ::std::string::String,
                    context: ::std::vec::Vec<(::std::string::String, ::std::string::String)>,
                ) -> ::core::result::Result<$crate::context::Completion, $crate::ToolError> {
                    <$ty as $crate::Plugin>::complete(&target, &argument, &value, &context)
                }
            }
        };
        // Only components carry the exports: natively (unit tests, clippy) the symbol
        // names, which contain `:` and `@`, would break the cdylib's linker script.
        #[cfg(target_arch = "wasm32")]
        $crate::bindings::export!($ty with_types_in $crate::bindings);
    };
}

#[doc(hidden)]
pub mod __private {
    //! Support code for [`export_plugin!`](crate::export_plugin); not a public API.

    use crate::{Plugin, ToolError, ToolOutput, Value};

    /// Parses the arguments JSON text and dispatches to `P::call`.
    pub fn call_tool<P: Plugin>(name: &str, arguments: &str) -> Result<ToolOutput, ToolError> {
        let args = parse_arguments_text(arguments)?;
        P::call(name, args)
    }

    /// The arguments of a call as a JSON object; empty text counts as `{}`.
    pub fn parse_arguments_text(arguments: &str) -> Result<Value, ToolError> {
        if arguments.trim().is_empty() {
            return Ok(Value::Object(serde_json::Map::new()));
        }
        match serde_json::from_str::<Value>(arguments) {
            Ok(value @ Value::Object(_)) => Ok(value),
            Ok(other) => Err(ToolError::invalid_argument(format!(
                "tool arguments must be a JSON object, got {}",
                crate::args::json_kind(&other)
            ))),
            Err(err) => Err(ToolError::invalid_argument(format!(
                "tool arguments are not valid JSON: {err}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::__private::parse_arguments_text;
    use super::*;

    #[test]
    fn arguments_text_must_be_an_object() {
        assert_eq!(parse_arguments_text(r#"{"a":1}"#).unwrap(), json!({"a": 1}));
        assert_eq!(parse_arguments_text("  ").unwrap(), json!({}));
        let err = parse_arguments_text("[1]").unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument);
        assert_eq!(
            err.message,
            "tool arguments must be a JSON object, got an array"
        );
        let err = parse_arguments_text("{").unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument);
        assert!(
            err.message
                .starts_with("tool arguments are not valid JSON: "),
            "{}",
            err.message
        );
    }

    #[test]
    fn readme_example_is_the_built_example() {
        let readme = include_str!("../README.md");
        let example = include_str!("../examples/hello.rs");
        let block = readme
            .split("```rust\n")
            .nth(1)
            .and_then(|rest| rest.split("```").next())
            .expect("README has a rust code block");
        assert_eq!(
            block, example,
            "README's first rust block must equal examples/hello.rs"
        );
    }
}
