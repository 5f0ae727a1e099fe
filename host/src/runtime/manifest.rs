//! A plugin's manifest, checked at load: names, schemas, capability declarations. A
//! plugin with a bad manifest is refused with a message that says what to fix.

use jsonschema::Validator;
use serde_json::{Map, Value};

use crate::bindings::tools;
use crate::capabilities::{Capability, CapabilitySet};

#[derive(Debug)]
pub struct PluginManifest {
    pub name: String,
    pub version: String,
    pub description: String,
    pub tools: Vec<ToolSpec>,
}

pub struct ToolSpec {
    pub name: String,
    pub title: String,
    pub description: String,
    pub input_schema: Map<String, Value>,
    pub output_schema: Option<Map<String, Value>>,
    pub input_validator: Validator,
    pub output_validator: Option<Validator>,
    pub declared: CapabilitySet,
    pub idempotent: bool,
    pub open_world: bool,
}

impl std::fmt::Debug for ToolSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolSpec")
            .field("name", &self.name)
            .field("declared", &self.declared)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ManifestError {
    #[error(
        "plugin name `{0}` is invalid: use 1-32 characters, a lowercase letter then lowercase letters, digits or `-`"
    )]
    PluginName(String),
    #[error(
        "tool name `{0}` is invalid: use 1-64 characters, a lowercase letter then lowercase letters, digits or `_`"
    )]
    ToolName(String),
    #[error("tool `{0}` is declared twice")]
    DuplicateTool(String),
    #[error("tool `{tool}`: {what} is not valid: {reason}")]
    Schema {
        tool: String,
        what: &'static str,
        reason: String,
    },
    #[error("the manifest declares no tools")]
    NoTools,
}

pub fn validate(raw: tools::Manifest) -> Result<PluginManifest, ManifestError> {
    if !valid_identifier(&raw.name, 32, '-') {
        return Err(ManifestError::PluginName(raw.name));
    }
    if raw.tools.is_empty() {
        return Err(ManifestError::NoTools);
    }
    let mut tools = Vec::with_capacity(raw.tools.len());
    for tool in raw.tools {
        if !valid_identifier(&tool.name, 64, '_') {
            return Err(ManifestError::ToolName(tool.name));
        }
        if tools.iter().any(|t: &ToolSpec| t.name == tool.name) {
            return Err(ManifestError::DuplicateTool(tool.name));
        }
        let input_schema = parse_schema(&tool.name, "input schema", &tool.input_schema)?;
        if input_schema.get("type").and_then(Value::as_str) != Some("object") {
            return Err(ManifestError::Schema {
                tool: tool.name,
                what: "input schema",
                reason: "MCP requires `\"type\": \"object\"` at the top".into(),
            });
        }
        let input_validator = compile(&tool.name, "input schema", &input_schema)?;
        let (output_schema, output_validator) = match &tool.output_schema {
            None => (None, None),
            Some(text) => {
                let schema = parse_schema(&tool.name, "output schema", text)?;
                let validator = compile(&tool.name, "output schema", &schema)?;
                (Some(schema), Some(validator))
            }
        };
        tools.push(ToolSpec {
            declared: tool
                .capabilities
                .iter()
                .map(|c| Capability::from_wit(*c))
                .collect(),
            name: tool.name,
            title: tool.title,
            description: tool.description,
            input_schema,
            output_schema,
            input_validator,
            output_validator,
            idempotent: tool.idempotent,
            open_world: tool.open_world,
        });
    }
    Ok(PluginManifest {
        name: raw.name,
        version: raw.version,
        description: raw.description,
        tools,
    })
}

fn valid_identifier(name: &str, max: usize, separator: char) -> bool {
    let mut chars = name.chars();
    name.len() <= max
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == separator)
}

fn parse_schema(
    tool: &str,
    what: &'static str,
    text: &str,
) -> Result<Map<String, Value>, ManifestError> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ManifestError::Schema {
            tool: tool.into(),
            what,
            reason: "not a JSON object".into(),
        }),
        Err(err) => Err(ManifestError::Schema {
            tool: tool.into(),
            what,
            reason: err.to_string(),
        }),
    }
}

fn compile(
    tool: &str,
    what: &'static str,
    schema: &Map<String, Value>,
) -> Result<Validator, ManifestError> {
    jsonschema::validator_for(&Value::Object(schema.clone())).map_err(|err| ManifestError::Schema {
        tool: tool.into(),
        what,
        reason: err.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool(name: &str, schema: &str) -> tools::Tool {
        tools::Tool {
            name: name.into(),
            title: "T".into(),
            description: "d".into(),
            input_schema: schema.into(),
            output_schema: None,
            capabilities: vec![tools::Capability::ContainersRead],
            idempotent: true,
            open_world: false,
        }
    }

    fn manifest(name: &str, tools: Vec<tools::Tool>) -> tools::Manifest {
        tools::Manifest {
            name: name.into(),
            version: "1.0.0".into(),
            description: "d".into(),
            tools,
        }
    }

    const OBJECT: &str = r#"{"type":"object","properties":{}}"#;

    #[test]
    fn accepts_a_good_manifest() {
        let checked = validate(manifest("probe", vec![tool("probe_echo", OBJECT)])).unwrap();
        assert_eq!(
            checked.tools[0].declared,
            [Capability::ContainersRead].into_iter().collect()
        );
    }

    #[test]
    fn refuses_bad_manifests_with_reasons() {
        let cases = [
            (manifest("Bad Name", vec![tool("x", OBJECT)]), "plugin name"),
            (manifest("p", vec![]), "no tools"),
            (manifest("p", vec![tool("Shout", OBJECT)]), "tool name"),
            (
                manifest("p", vec![tool("a", OBJECT), tool("a", OBJECT)]),
                "declared twice",
            ),
            (manifest("p", vec![tool("a", "not json")]), "not valid"),
            (
                manifest("p", vec![tool("a", r#"{"type":"string"}"#)]),
                "type",
            ),
            (
                manifest(
                    "p",
                    vec![tool(
                        "a",
                        r#"{"type":"object","properties":{"x":{"type":"nonsense"}}}"#,
                    )],
                ),
                "not valid",
            ),
        ];
        for (raw, expected) in cases {
            let err = validate(raw).unwrap_err().to_string();
            assert!(err.contains(expected), "{err} should mention {expected}");
        }
    }
}
