//! A complete minimal Bulkhead plugin: one tool that needs no capability, one that reads
//! containers. Build it with
//! `cargo build --release --target wasm32-wasip2 -p bulkhead-plugin-sdk --example hello`.

use bulkhead_plugin_sdk::docker::{ListFilter, PageRequest, containers_read};
use bulkhead_plugin_sdk::schemars::{self, JsonSchema};
use bulkhead_plugin_sdk::{Capability, Reply, ToolError, TypedTool, export_tools};
use serde::{Deserialize, Serialize};

/// Whom to greet. Doc comments become the JSON Schema's descriptions.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GreetArgs {
    /// Who to greet.
    #[schemars(length(min = 1, max = 100))]
    name: String,
}

/// The greeting.
#[derive(Serialize, JsonSchema)]
pub struct Greeting {
    /// The whole sentence.
    greeting: String,
}

pub struct Greet;

impl TypedTool for Greet {
    const NAME: &'static str = "hello_greet";
    const TITLE: &'static str = "Greet";
    const DESCRIPTION: &'static str = "Says hello to `name`. Touches nothing.";
    const CAPABILITIES: &'static [Capability] = &[];
    const IDEMPOTENT: bool = true;
    type Args = GreetArgs;
    type Output = Greeting;

    fn run(args: GreetArgs) -> Result<Reply<Greeting>, ToolError> {
        let greeting = format!("Hello, {}!", args.name);
        Ok(Reply::new(greeting.clone(), Greeting { greeting }))
    }
}

/// No arguments.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoArgs {}

/// How many containers run.
#[derive(Serialize, JsonSchema)]
pub struct Count {
    /// Running containers.
    running: u32,
}

pub struct CountRunning;

impl TypedTool for CountRunning {
    const NAME: &'static str = "hello_count";
    const TITLE: &'static str = "Count";
    const DESCRIPTION: &'static str = "Counts running containers.";
    // A call may use only what it declares, and only if the operator granted it.
    const CAPABILITIES: &'static [Capability] = &[Capability::ContainersRead];
    const IDEMPOTENT: bool = true;
    type Args = NoArgs;
    type Output = Count;

    fn run(_: NoArgs) -> Result<Reply<Count>, ToolError> {
        // `?` maps a DockerError (denied, unavailable, …) to a ToolError with a hint.
        let page =
            containers_read::list_containers(&ListFilter::default(), &PageRequest::default())?;
        let text = format!("{} running container(s)", page.total);
        Ok(Reply::new(
            text,
            Count {
                running: page.total,
            },
        ))
    }
}

// Defines `pub struct Hello`, the `TOOLS` list, the manifest and the dispatch.
export_tools!(Hello {
    name: "hello",
    description: "Greets people and counts running containers.",
    tools: [Greet, CountRunning],
});

// Natively, `cargo test` runs the tools against fakes of the Docker primitives.
#[cfg(test)]
mod tests {
    use bulkhead_plugin_sdk::docker::{ContainerPage, DockerError};
    use bulkhead_plugin_sdk::fake::Fakes;
    use bulkhead_plugin_sdk::{ErrorCode, json, testing, typed};

    use super::*;

    #[test]
    fn the_host_would_load_it() {
        assert_eq!(testing::check_plugin::<Hello>(), Vec::<String>::new());
    }

    #[test]
    fn count_reports_what_the_engine_lists() {
        let fakes = Fakes::new()
            .on(
                "containers_read::list_containers",
                |_: (ListFilter, PageRequest)| {
                    Ok(ContainerPage {
                        items: vec![],
                        total: 3,
                        next_cursor: None,
                    })
                },
            )
            .install();
        let out = typed::call(TOOLS, "hello_count", json!({})).unwrap();
        assert_eq!(out.structured.as_deref(), Some(r#"{"running":3}"#));
        assert_eq!(fakes.calls(), ["containers_read::list_containers"]);
    }

    #[test]
    fn a_denial_is_permission_denied() {
        let _fakes = Fakes::new()
            .on(
                "containers_read::list_containers",
                |_: (ListFilter, PageRequest)| -> Result<ContainerPage, DockerError> {
                    Err(DockerError::Denied("not granted".into()))
                },
            )
            .install();
        let err = typed::call(TOOLS, "hello_count", json!({})).unwrap_err();
        assert_eq!(err.code, ErrorCode::PermissionDenied);
    }
}
