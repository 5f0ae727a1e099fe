//! Tool arguments: typed parsing of the JSON object the host passes to a tool, with
//! failures mapped to `invalid-argument` errors the model can act on.

use serde::de::DeserializeOwned;

use crate::{ToolError, Value};

/// Converts a tool's arguments into `T`, typically a `#[derive(Deserialize)]` struct with
/// `#[serde(deny_unknown_fields)]` and defaults mirroring the input schema.
///
/// The host has validated the arguments against the tool's input schema already; this
/// still fails cleanly (code `invalid-argument`) when the schema and `T` disagree.
pub fn parse_args<T: DeserializeOwned>(args: Value) -> Result<T, ToolError> {
    serde_json::from_value(args).map_err(|err| {
        ToolError::invalid_argument(format!("invalid arguments: {err}"))
            .with_hint("check the arguments against the tool's input schema")
    })
}

/// "an object", "a string", … for messages about a JSON value of the wrong kind.
pub(crate) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;
    use crate::{ErrorCode, json};

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Args {
        container: String,
        #[serde(default)]
        force: bool,
        tail: Option<u32>,
    }

    #[test]
    fn parses_with_defaults() {
        let args: Args = parse_args(json!({"container": "web"})).unwrap();
        assert_eq!(
            args,
            Args {
                container: "web".into(),
                force: false,
                tail: None
            }
        );
        let args: Args = parse_args(json!({"container": "web", "force": true, "tail": 5})).unwrap();
        assert_eq!(
            args,
            Args {
                container: "web".into(),
                force: true,
                tail: Some(5)
            }
        );
    }

    #[test]
    fn missing_field_is_invalid_argument() {
        let err = parse_args::<Args>(json!({})).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument);
        assert_eq!(err.message, "invalid arguments: missing field `container`");
        assert_eq!(
            err.hint.as_deref(),
            Some("check the arguments against the tool's input schema")
        );
    }

    #[test]
    fn unknown_field_and_wrong_type_say_which() {
        let err = parse_args::<Args>(json!({"container": "web", "forse": true})).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument);
        assert!(
            err.message
                .starts_with("invalid arguments: unknown field `forse`"),
            "{}",
            err.message
        );

        let err = parse_args::<Args>(json!({"container": "web", "tail": -1})).unwrap_err();
        assert_eq!(
            err.message,
            "invalid arguments: invalid value: integer `-1`, expected u32"
        );
    }

    #[test]
    fn kinds_read_well() {
        assert_eq!(json_kind(&json!(null)), "null");
        assert_eq!(json_kind(&json!("x")), "a string");
        assert_eq!(json_kind(&json!({})), "an object");
    }
}
