//! Native checks for a plugin's unit tests: [`check_plugin`] (and [`check_manifest`] for
//! tools alone) finds what the host would refuse at load (bad names, duplicate tools,
//! prompts or templates, schemas that are not JSON objects, URI templates it cannot
//! route) and where a manifest breaks Bulkhead's conventions for input schemas.

use std::collections::BTreeSet;

use crate::{Manifest, Value};

/// Every problem with plugin `P`'s manifest and context manifest, one sentence each;
/// empty when there is none. Besides [`check_manifest`]'s rules: the plugin offers at
/// least one tool, prompt or resource template; prompt, argument and template names
/// match `^[a-z][a-z0-9_]{0,63}$` and are unique where they must be; a URI template is
/// `scheme://…` with well-formed `{variable}`s, at most one per path segment.
pub fn check_plugin<P: crate::Plugin>() -> Vec<String> {
    let manifest = P::manifest();
    let context = P::context();
    let mut problems = check_manifest(&manifest);
    if manifest.tools.is_empty() && context.prompts.is_empty() && context.templates.is_empty() {
        problems.push("the plugin declares no tools, prompts or resource templates".to_owned());
    }
    check_context(&context, &mut problems);
    problems
}

fn check_context(context: &crate::context::ContextManifest, problems: &mut Vec<String>) {
    let mut prompts = BTreeSet::new();
    for prompt in &context.prompts {
        let name = &prompt.name;
        if !is_name(name, 64, '_') {
            problems.push(format!(
                "prompt name `{name}` does not match ^[a-z][a-z0-9_]{{0,63}}$"
            ));
        }
        if !prompts.insert(name.as_str()) {
            problems.push(format!("prompt `{name}` is declared twice"));
        }
        if prompt.description.trim().is_empty() {
            problems.push(format!("prompt `{name}`: description is empty"));
        }
        let mut arguments = BTreeSet::new();
        for argument in &prompt.arguments {
            if !is_name(&argument.name, 64, '_') {
                problems.push(format!(
                    "prompt `{name}`: argument name `{}` does not match ^[a-z][a-z0-9_]{{0,63}}$",
                    argument.name
                ));
            }
            if !arguments.insert(argument.name.as_str()) {
                problems.push(format!(
                    "prompt `{name}`: argument `{}` is declared twice",
                    argument.name
                ));
            }
        }
    }
    let mut templates = BTreeSet::new();
    for template in &context.templates {
        let name = &template.name;
        if !is_name(name, 64, '_') {
            problems.push(format!(
                "template name `{name}` does not match ^[a-z][a-z0-9_]{{0,63}}$"
            ));
        }
        if !templates.insert(name.as_str()) {
            problems.push(format!("template `{name}` is declared twice"));
        }
        if let Err(reason) = template_shape(&template.uri_template) {
            problems.push(format!(
                "template `{name}`: `{}` {reason}",
                template.uri_template
            ));
        }
        if template.mime_type.trim().is_empty() {
            problems.push(format!("template `{name}`: MIME type is empty"));
        }
    }
}

/// Whether `template` is `scheme://` then segments, each literal or one `{variable}`.
fn template_shape(template: &str) -> Result<(), &'static str> {
    let Some((scheme, path)) = template.split_once("://") else {
        return Err("has no `scheme://`");
    };
    if !is_name(scheme, 32, '-') {
        return Err("has a scheme that is not ^[a-z][a-z0-9-]{0,31}$");
    }
    for segment in path.split('/') {
        let opens = segment.matches('{').count();
        let closes = segment.matches('}').count();
        match (opens, closes) {
            (0, 0) => {}
            (1, 1) if segment.starts_with('{') && segment.ends_with('}') => {
                if !is_name(&segment[1..segment.len() - 1], 64, '_') {
                    return Err("has a variable name that is not ^[a-z][a-z0-9_]{0,63}$");
                }
            }
            _ => {
                return Err(
                    "has a path segment that is neither literal nor one whole `{variable}`",
                );
            }
        }
    }
    Ok(())
}

/// Every problem with `manifest`, one sentence each; empty when there is none.
///
/// Host rules (from the WIT and the host's load checks): the plugin name matches
/// `^[a-z][a-z0-9-]{0,31}$`, tool names match
/// `^[a-z][a-z0-9_]{0,63}$` and are unique, input schemas are object schemas and output
/// schemas are JSON objects. Conventions: the version is
/// `MAJOR.MINOR.PATCH`, titles and descriptions are not empty, input schemas set
/// `"additionalProperties": false`, every property has a description and every required
/// name is a property.
pub fn check_manifest(manifest: &Manifest) -> Vec<String> {
    let mut problems = Vec::new();
    if !is_name(&manifest.name, 32, '-') {
        problems.push(format!(
            "plugin name `{}` does not match ^[a-z][a-z0-9-]{{0,31}}$",
            manifest.name
        ));
    }
    if !is_semver(&manifest.version) {
        problems.push(format!(
            "plugin version `{}` is not MAJOR.MINOR.PATCH",
            manifest.version
        ));
    }
    if manifest.description.trim().is_empty() {
        problems.push("plugin description is empty".to_owned());
    }
    let mut seen = BTreeSet::new();
    for tool in &manifest.tools {
        let name = &tool.name;
        if !is_name(name, 64, '_') {
            problems.push(format!(
                "tool name `{name}` does not match ^[a-z][a-z0-9_]{{0,63}}$"
            ));
        }
        if !seen.insert(name.as_str()) {
            problems.push(format!("tool `{name}` is declared twice"));
        }
        if tool.title.trim().is_empty() {
            problems.push(format!("tool `{name}`: title is empty"));
        }
        if tool.description.trim().is_empty() {
            problems.push(format!("tool `{name}`: description is empty"));
        }
        match serde_json::from_str::<Value>(&tool.input_schema) {
            Ok(schema) => check_input_schema(name, &schema, &mut problems),
            Err(err) => problems.push(format!("tool `{name}`: input schema is not JSON: {err}")),
        }
        if let Some(output) = &tool.output_schema {
            match serde_json::from_str::<Value>(output) {
                Ok(Value::Object(_)) => {}
                Ok(_) => {
                    problems.push(format!("tool `{name}`: output schema is not a JSON object"))
                }
                Err(err) => {
                    problems.push(format!("tool `{name}`: output schema is not JSON: {err}"))
                }
            }
        }
    }
    problems
}

fn check_input_schema(tool: &str, schema: &Value, problems: &mut Vec<String>) {
    if schema.get("type").and_then(Value::as_str) != Some("object") {
        problems.push(format!(
            "tool `{tool}`: input schema must have \"type\": \"object\""
        ));
        return;
    }
    if schema.get("additionalProperties") != Some(&Value::Bool(false)) {
        problems.push(format!(
            "tool `{tool}`: input schema should set \"additionalProperties\": false"
        ));
    }
    let properties = schema.get("properties").and_then(Value::as_object);
    for (property, definition) in properties.into_iter().flatten() {
        let described = definition
            .get("description")
            .and_then(Value::as_str)
            .is_some_and(|d| !d.trim().is_empty());
        if !described {
            problems.push(format!(
                "tool `{tool}`: property `{property}` has no description"
            ));
        }
    }
    let required = schema.get("required").and_then(Value::as_array);
    for entry in required.into_iter().flatten() {
        let known = entry
            .as_str()
            .is_some_and(|name| properties.is_some_and(|p| p.contains_key(name)));
        if !known {
            problems.push(format!(
                "tool `{tool}`: required entry {entry} is not a property"
            ));
        }
    }
}

/// `^[a-z][a-z0-9<sep>]{0,max-1}$`
fn is_name(name: &str, max: usize, separator: char) -> bool {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    first_ok
        && name.len() <= max
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == separator)
}

fn is_semver(version: &str) -> bool {
    let core = version.split(['-', '+']).next().unwrap_or_default();
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

/// `Capability::ImagesRead` → `images-read`: the name the WIT and the host use.
pub fn capability_name(cap: &crate::Capability) -> String {
    let debug = format!("{cap:?}");
    let variant = debug.rsplit("::").next().unwrap_or_default();
    let mut name = String::new();
    for (i, ch) in variant.chars().enumerate() {
        if ch.is_ascii_uppercase() && i > 0 {
            name.push('-');
        }
        name.push(ch.to_ascii_lowercase());
    }
    name
}

/// Checks that a README table lists every tool of `tools` (rows starting
/// ``| `name` |``) with exactly the capabilities it declares in its second column, and
/// that it has no other row for a tool starting with `prefix`. Panics with the row that
/// is wrong.
pub fn assert_readme_table(readme: &str, tools: &[crate::Registration], prefix: &str) {
    for tool in tools {
        let row = readme
            .lines()
            .find(|line| line.starts_with(&format!("| `{}` |", tool.name)))
            .unwrap_or_else(|| panic!("README has no row for {}", tool.name));
        let declared: Vec<String> = tool
            .capabilities
            .iter()
            .map(|cap| format!("`{}`", capability_name(cap)))
            .collect();
        assert_eq!(
            row.split('|').nth(2).map(str::trim),
            Some(declared.join(", ").as_str()),
            "{row}"
        );
    }
    let rows = readme
        .lines()
        .filter(|l| l.starts_with(&format!("| `{prefix}")))
        .count();
    assert_eq!(rows, tools.len(), "one README row per tool");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Tool, json};

    fn manifest(tools: Vec<Tool>) -> Manifest {
        Manifest {
            name: "demo".into(),
            version: "0.1.0".into(),
            description: "Demo.".into(),
            tools,
        }
    }

    fn good_tool(name: &str) -> Tool {
        Tool::builder(name, "Title", "Does a thing.")
            .input_schema(json!({
                "type": "object",
                "properties": {"container": {"type": "string", "description": "Name or id."}},
                "required": ["container"],
                "additionalProperties": false,
            }))
            .build()
    }

    #[test]
    fn a_good_manifest_has_no_problems() {
        assert_eq!(
            check_manifest(&manifest(vec![good_tool("demo_a"), good_tool("demo_b")])),
            Vec::<String>::new()
        );
    }

    #[test]
    fn names_and_duplicates_are_checked() {
        let mut bad = manifest(vec![
            good_tool("demo_a"),
            good_tool("demo_a"),
            good_tool("Demo-b"),
        ]);
        bad.name = "Demo".into();
        bad.version = "1.0".into();
        assert_eq!(
            check_manifest(&bad),
            vec![
                "plugin name `Demo` does not match ^[a-z][a-z0-9-]{0,31}$",
                "plugin version `1.0` is not MAJOR.MINOR.PATCH",
                "tool `demo_a` is declared twice",
                "tool name `Demo-b` does not match ^[a-z][a-z0-9_]{0,63}$",
            ]
        );
    }

    #[test]
    fn schema_conventions_are_checked() {
        let tool = Tool::builder("demo_x", "X", "X.")
            .input_schema(json!({
                "type": "object",
                "properties": {"a": {"type": "string"}},
                "required": ["a", "b"],
            }))
            .output_schema(json!(true))
            .build();
        assert_eq!(
            check_manifest(&manifest(vec![tool])),
            vec![
                "tool `demo_x`: input schema should set \"additionalProperties\": false",
                "tool `demo_x`: property `a` has no description",
                "tool `demo_x`: required entry \"b\" is not a property",
                "tool `demo_x`: output schema is not a JSON object",
            ]
        );
        let not_object = Tool::builder("demo_y", "Y", "Y.")
            .input_schema(json!({"type": "array"}))
            .build();
        assert_eq!(
            check_manifest(&manifest(vec![not_object])),
            vec!["tool `demo_y`: input schema must have \"type\": \"object\""]
        );
    }

    #[test]
    fn name_and_version_shapes() {
        assert!(is_name("a", 32, '-'));
        assert!(is_name("containers-2", 32, '-'));
        assert!(!is_name("", 32, '-'));
        assert!(!is_name("9lives", 32, '-'));
        assert!(!is_name(&"a".repeat(33), 32, '-'));
        assert!(is_name(&"a".repeat(64), 64, '_'));
        assert!(is_semver("1.2.3-rc.1+build"));
        assert!(!is_semver("1.2"));
        assert!(!is_semver("1.x.3"));
    }

    #[test]
    fn uri_templates_must_be_routable() {
        assert_eq!(template_shape("docker://containers/{id}/logs"), Ok(()));
        assert_eq!(template_shape("docker://system/info"), Ok(()));
        assert!(template_shape("containers/{id}").is_err());
        assert!(template_shape("Docker://x").is_err());
        assert!(template_shape("docker://c/{id}-{n}").is_err());
        assert!(template_shape("docker://c/x{id}").is_err());
        assert!(template_shape("docker://c/{Id}").is_err());
    }
}
