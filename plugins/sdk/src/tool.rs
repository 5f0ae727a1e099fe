//! Tool definitions: [`ToolBuilder`] turns a name, texts, JSON Schemas as
//! [`serde_json::Value`]s, capabilities and hints into the manifest's [`Tool`] record.

use crate::{Capability, Tool, Value, json};

/// Builds one [`Tool`] for a plugin's manifest. Start with [`Tool::builder`].
///
/// ```
/// use bulkhead_plugin_sdk::{Capability, Tool, json};
///
/// let tool = Tool::builder("demo_count", "Count containers", "Counts containers.")
///     .input_schema(json!({"type": "object", "properties": {}, "additionalProperties": false}))
///     .output_schema(json!({"type": "object", "properties": {"total": {"type": "integer"}}}))
///     .capabilities([Capability::ContainersRead])
///     .idempotent()
///     .build();
/// assert_eq!(tool.name, "demo_count");
/// ```
#[derive(Debug, Clone)]
pub struct ToolBuilder {
    name: String,
    title: String,
    description: String,
    input_schema: Value,
    output_schema: Option<Value>,
    capabilities: Vec<Capability>,
    idempotent: bool,
    open_world: bool,
}

impl Tool {
    /// Starts a tool definition. `name` must match `^[a-z][a-z0-9_]{0,63}$` and carry the
    /// plugin's prefix; `description` is written for the model that will call the tool.
    pub fn builder(
        name: impl Into<String>,
        title: impl Into<String>,
        description: impl Into<String>,
    ) -> ToolBuilder {
        ToolBuilder {
            name: name.into(),
            title: title.into(),
            description: description.into(),
            input_schema: json!({"type": "object", "properties": {}, "additionalProperties": false}),
            output_schema: None,
            capabilities: Vec::new(),
            idempotent: false,
            open_world: false,
        }
    }
}

impl ToolBuilder {
    /// The JSON Schema (an object schema) of the arguments. Without one, the tool takes
    /// no arguments.
    #[must_use]
    pub fn input_schema(mut self, schema: Value) -> Self {
        self.input_schema = schema;
        self
    }

    /// The JSON Schema of the structured result. Declare one whenever the tool returns
    /// [`ToolOutput::structured`](crate::ToolOutput::structured).
    #[must_use]
    pub fn output_schema(mut self, schema: Value) -> Self {
        self.output_schema = Some(schema);
        self
    }

    /// Adds capabilities the tool uses. A call may use nothing else: any other
    /// capability answers `denied`, and the tool is listed only when all are granted.
    #[must_use]
    pub fn capabilities(mut self, capabilities: impl IntoIterator<Item = Capability>) -> Self {
        for capability in capabilities {
            if !self.capabilities.contains(&capability) {
                self.capabilities.push(capability);
            }
        }
        self
    }

    /// Repeating the call with the same arguments has no further effect.
    #[must_use]
    pub fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }

    /// The tool reaches beyond the local engine (for example a registry).
    #[must_use]
    pub fn open_world(mut self) -> Self {
        self.open_world = true;
        self
    }

    /// The finished [`Tool`], schemas rendered as JSON text.
    pub fn build(self) -> Tool {
        Tool {
            name: self.name,
            title: self.title,
            description: self.description,
            input_schema: self.input_schema.to_string(),
            output_schema: self.output_schema.map(|schema| schema.to_string()),
            capabilities: self.capabilities,
            idempotent: self.idempotent,
            open_world: self.open_world,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_describe_a_tool_without_arguments() {
        let tool = Tool::builder("demo_ping", "Ping", "Answers pong.").build();
        assert_eq!(tool.name, "demo_ping");
        assert_eq!(tool.title, "Ping");
        assert_eq!(tool.description, "Answers pong.");
        let schema: Value = serde_json::from_str(&tool.input_schema).unwrap();
        assert_eq!(
            schema,
            json!({"type": "object", "properties": {}, "additionalProperties": false})
        );
        assert_eq!(tool.output_schema, None);
        assert!(tool.capabilities.is_empty());
        assert!(!tool.idempotent);
        assert!(!tool.open_world);
    }

    #[test]
    fn every_field_is_set() {
        let tool = Tool::builder("demo_rm", "Remove", "Removes.")
            .input_schema(json!({"type": "object"}))
            .output_schema(json!({"type": "object", "properties": {"ok": {"type": "boolean"}}}))
            .capabilities([Capability::ContainersRead, Capability::ContainersRemove])
            .capabilities([Capability::ContainersRead])
            .idempotent()
            .open_world()
            .build();
        assert_eq!(tool.input_schema, r#"{"type":"object"}"#);
        let output: Value = serde_json::from_str(tool.output_schema.as_deref().unwrap()).unwrap();
        assert_eq!(output["properties"]["ok"]["type"], "boolean");
        assert_eq!(
            tool.capabilities,
            vec![Capability::ContainersRead, Capability::ContainersRemove]
        );
        assert!(tool.idempotent);
        assert!(tool.open_world);
    }
}
