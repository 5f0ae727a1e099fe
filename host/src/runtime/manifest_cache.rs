//! A plugin's raw manifests and import names, kept beside its compiled artifact, so a
//! warm start neither instantiates every plugin to ask what it offers nor maps its code
//! to read what it imports: the code is linked on the plugin's first call.
//!
//! `get-manifest` and `get-context-manifest` take no input and run with no capability,
//! and the imports are part of the component's type, so all of it is a function of the
//! component's bytes: the file is keyed by the same digest as the artifact and lives in
//! the same trusted folder. What is cached is
//! the plugin's own answer, before validation; every load validates it again, so a
//! newer host's stricter rules still apply. The host version is part of the file, and
//! a file from another version, a damaged file, or one that fails the folder's
//! ownership rule is ignored and the plugin asked again. The import names are checked
//! against this host's rules on every load too.
//!
//! The file format is this module's own records, not serde on the WIT bindings:
//! deriving serde for every WIT type would grow the binary for four records' sake.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::bindings::{context, tools};
use crate::capabilities::Capability;

/// Bumped when the layout below changes; the host version alone would miss a rebuild.
const FORMAT: u32 = 2;

/// The digest of the WIT contract this host was built from.
const WIT: &str = env!("BULKHEAD_WIT_SHA256");

/// What a plugin answered to `get-manifest` and, when it exports `context`,
/// `get-context-manifest`.
pub(super) type RawManifests = (tools::Manifest, Option<context::ContextManifest>);

/// What one file keeps for a component.
pub(super) struct Cached {
    pub manifests: RawManifests,
    /// The names the component imports, as its type lists them.
    pub imports: Vec<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CachedManifests {
    format: u32,
    host: String,
    /// The WIT contract's digest (build.rs): development builds share a version.
    wit: String,
    imports: Vec<String>,
    name: String,
    version: String,
    description: String,
    tools: Vec<CachedTool>,
    context: Option<CachedContext>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CachedTool {
    name: String,
    title: String,
    description: String,
    input_schema: String,
    output_schema: Option<String>,
    capabilities: Vec<String>,
    idempotent: bool,
    open_world: bool,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CachedContext {
    prompts: Vec<CachedPrompt>,
    templates: Vec<CachedTemplate>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CachedPrompt {
    name: String,
    title: String,
    description: String,
    /// (name, description, required)
    arguments: Vec<(String, String, bool)>,
    capabilities: Vec<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CachedTemplate {
    uri_template: String,
    name: String,
    title: String,
    description: String,
    mime_type: String,
    capabilities: Vec<String>,
}

/// Where the manifests of the component with `digest` are kept in the engine folder.
pub(super) fn path(dir: &Path, digest: &str) -> PathBuf {
    dir.join(format!("{digest}.manifest.json"))
}

/// The cached answer, if it is this host's and whole. `file` was opened and checked by
/// the artifact rule.
pub(super) fn read(file: &std::fs::File) -> Result<Cached, String> {
    let mut cached: CachedManifests =
        serde_json::from_reader(std::io::BufReader::new(file)).map_err(|err| err.to_string())?;
    if cached.format != FORMAT || cached.host != env!("CARGO_PKG_VERSION") {
        return Err(format!(
            "written by host {} (format {}), this is {} (format {FORMAT})",
            cached.host,
            cached.format,
            env!("CARGO_PKG_VERSION")
        ));
    }
    if cached.wit != WIT {
        return Err("written by a host built from another WIT contract".into());
    }
    let imports = std::mem::take(&mut cached.imports);
    Ok(Cached {
        manifests: from_cached(cached)?,
        imports,
    })
}

/// The bytes to store for a plugin's answer and its import names.
pub(super) fn encode(manifests: &RawManifests, imports: &[String]) -> Vec<u8> {
    let (manifest, context) = manifests;
    let cached = CachedManifests {
        format: FORMAT,
        host: env!("CARGO_PKG_VERSION").to_string(),
        wit: WIT.to_string(),
        imports: imports.to_vec(),
        name: manifest.name.clone(),
        version: manifest.version.clone(),
        description: manifest.description.clone(),
        tools: manifest.tools.iter().map(tool_to_cached).collect(),
        context: context.as_ref().map(|context| CachedContext {
            prompts: context.prompts.iter().map(prompt_to_cached).collect(),
            templates: context.templates.iter().map(template_to_cached).collect(),
        }),
    };
    serde_json::to_vec(&cached).expect("plain records always serialise")
}

fn names(capabilities: &[tools::Capability]) -> Vec<String> {
    capabilities
        .iter()
        .map(|cap| Capability::from_wit(*cap).name().to_string())
        .collect()
}

fn parse_names(names: Vec<String>) -> Result<Vec<tools::Capability>, String> {
    names
        .iter()
        .map(|name| {
            name.parse::<Capability>()
                .map(Capability::to_wit)
                .map_err(|err| err.to_string())
        })
        .collect()
}

fn tool_to_cached(tool: &tools::Tool) -> CachedTool {
    CachedTool {
        name: tool.name.clone(),
        title: tool.title.clone(),
        description: tool.description.clone(),
        input_schema: tool.input_schema.clone(),
        output_schema: tool.output_schema.clone(),
        capabilities: names(&tool.capabilities),
        idempotent: tool.idempotent,
        open_world: tool.open_world,
    }
}

fn prompt_to_cached(prompt: &context::Prompt) -> CachedPrompt {
    CachedPrompt {
        name: prompt.name.clone(),
        title: prompt.title.clone(),
        description: prompt.description.clone(),
        arguments: prompt
            .arguments
            .iter()
            .map(|arg| (arg.name.clone(), arg.description.clone(), arg.required))
            .collect(),
        capabilities: names(&prompt.capabilities),
    }
}

fn template_to_cached(template: &context::ResourceTemplate) -> CachedTemplate {
    CachedTemplate {
        uri_template: template.uri_template.clone(),
        name: template.name.clone(),
        title: template.title.clone(),
        description: template.description.clone(),
        mime_type: template.mime_type.clone(),
        capabilities: names(&template.capabilities),
    }
}

fn from_cached(cached: CachedManifests) -> Result<RawManifests, String> {
    let tools = cached
        .tools
        .into_iter()
        .map(|tool| {
            Ok(tools::Tool {
                name: tool.name,
                title: tool.title,
                description: tool.description,
                input_schema: tool.input_schema,
                output_schema: tool.output_schema,
                capabilities: parse_names(tool.capabilities)?,
                idempotent: tool.idempotent,
                open_world: tool.open_world,
            })
        })
        .collect::<Result<_, String>>()?;
    let context = match cached.context {
        None => None,
        Some(context) => Some(context::ContextManifest {
            prompts: context
                .prompts
                .into_iter()
                .map(|prompt| {
                    Ok(context::Prompt {
                        name: prompt.name,
                        title: prompt.title,
                        description: prompt.description,
                        arguments: prompt
                            .arguments
                            .into_iter()
                            .map(|(name, description, required)| context::PromptArgument {
                                name,
                                description,
                                required,
                            })
                            .collect(),
                        capabilities: parse_names(prompt.capabilities)?,
                    })
                })
                .collect::<Result<_, String>>()?,
            templates: context
                .templates
                .into_iter()
                .map(|template| {
                    Ok(context::ResourceTemplate {
                        uri_template: template.uri_template,
                        name: template.name,
                        title: template.title,
                        description: template.description,
                        mime_type: template.mime_type,
                        capabilities: parse_names(template.capabilities)?,
                    })
                })
                .collect::<Result<_, String>>()?,
        }),
    };
    Ok((
        tools::Manifest {
            name: cached.name,
            version: cached.version,
            description: cached.description,
            tools,
        },
        context,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> RawManifests {
        (
            tools::Manifest {
                name: "probe".into(),
                version: "1.0.0".into(),
                description: "d".into(),
                tools: vec![tools::Tool {
                    name: "probe_state".into(),
                    title: "State".into(),
                    description: "d".into(),
                    input_schema: r#"{"type":"object"}"#.into(),
                    output_schema: None,
                    capabilities: vec![tools::Capability::ContainersRead],
                    idempotent: true,
                    open_world: false,
                }],
            },
            Some(context::ContextManifest {
                prompts: vec![context::Prompt {
                    name: "probe_prompt".into(),
                    title: "t".into(),
                    description: "d".into(),
                    arguments: vec![context::PromptArgument {
                        name: "a".into(),
                        description: "d".into(),
                        required: true,
                    }],
                    capabilities: vec![tools::Capability::SystemRead],
                }],
                templates: vec![],
            }),
        )
    }

    fn through_a_file(bytes: &[u8]) -> Result<Cached, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.json");
        std::fs::write(&path, bytes).unwrap();
        read(&std::fs::File::open(&path).unwrap())
    }

    fn encoded() -> Vec<u8> {
        encode(&sample(), &["bulkhead:plugin/containers@0.1.0".to_string()])
    }

    #[test]
    fn an_answer_round_trips() {
        let cached = through_a_file(&encoded()).unwrap();
        assert_eq!(cached.imports, ["bulkhead:plugin/containers@0.1.0"]);
        let (manifest, context) = cached.manifests;
        assert_eq!(manifest.tools[0].name, "probe_state");
        assert_eq!(
            manifest.tools[0].capabilities,
            [tools::Capability::ContainersRead]
        );
        let context = context.unwrap();
        assert_eq!(context.prompts[0].arguments[0].name, "a");
        assert_eq!(
            context.prompts[0].capabilities,
            [tools::Capability::SystemRead]
        );
    }

    /// Why the file holding `value` is not used.
    fn refusal(value: &serde_json::Value) -> String {
        through_a_file(&serde_json::to_vec(value).unwrap())
            .err()
            .expect("the file is refused")
    }

    #[test]
    fn another_host_version_or_a_damaged_file_is_not_used() {
        let mut value: serde_json::Value = serde_json::from_slice(&encoded()).unwrap();
        value["host"] = "0.0.0-other".into();
        assert!(refusal(&value).contains("0.0.0-other"));
        assert!(through_a_file(b"{\"format\":1").is_err());
        value["host"] = env!("CARGO_PKG_VERSION").into();
        value["wit"] = "0".repeat(64).into();
        assert!(refusal(&value).contains("WIT contract"));
        value["wit"] = WIT.into();
        value["tools"][0]["capabilities"][0] = "root-shell".into();
        assert!(refusal(&value).contains("root-shell"));
    }
}
