//! Prompts, resources and completions: which plugin answers for which prompt name and
//! URI scheme, the gate (grants, declared arguments, matched templates), and the checks
//! on what the plugin answers. Like tool calls, every call runs in the plugin's slot,
//! before its deadline, in a fresh instance, and its answer is bounded and sanitised.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use serde_json::{Map, Value};

use crate::access::Journal;
use crate::attachments::{self, Attachment, Body};
use crate::audit::argument_shape;
use crate::bindings::context;
use crate::caller::Caller;
use crate::capabilities::CapabilitySet;
use crate::errors::{ErrorCode, ToolFailure};
use crate::policy::Policy;
use crate::router::{Router, capability_refusal, tier_refusal};
use crate::runtime::context_manifest::{PromptSpec, TemplateSpec};
use crate::runtime::{CallContext, Invocation, LoadedPlugin, Reply};
use crate::sanitize::{one_line, strip_controls, truncate_at_char};
use crate::uri_template::scheme_of;

/// Longest prompt argument value, in bytes.
const MAX_ARGUMENT_VALUE_BYTES: usize = 4096;
/// Most resources one page from a plugin may hold.
const MAX_RESOURCES_PER_PAGE: usize = 500;
/// Most completion values one answer may hold (MCP's limit), and the longest value.
const MAX_COMPLETION_VALUES: usize = 100;
const MAX_COMPLETION_VALUE_BYTES: usize = 512;
/// Longest cursor a plugin may hand out.
const MAX_CURSOR_BYTES: usize = 1024;

/// Something a context call may be refused or hidden for.
struct Gate {
    allowed: CapabilitySet,
    refusal: Option<ToolFailure>,
}

pub struct RoutedPrompt {
    pub plugin: Arc<LoadedPlugin>,
    index: usize,
    gate: Gate,
}

impl RoutedPrompt {
    pub fn spec(&self) -> &PromptSpec {
        &self.plugin.context.prompts[self.index]
    }

    /// What getting this prompt may use.
    pub fn allowed(&self) -> CapabilitySet {
        self.gate.allowed
    }
}

/// A plugin that serves resources, with the gate of each of its templates.
pub struct ResourcePlugin {
    pub plugin: Arc<LoadedPlugin>,
    templates: Vec<Gate>,
    /// What `list-resources` may use: the capabilities of its granted templates.
    list_allowed: CapabilitySet,
}

impl ResourcePlugin {
    /// Its templates a client may see and use.
    pub fn listed_templates(&self) -> impl Iterator<Item = &TemplateSpec> {
        self.plugin
            .context
            .templates
            .iter()
            .zip(&self.templates)
            .filter(|(_, gate)| gate.refusal.is_none())
            .map(|(spec, _)| spec)
    }

    /// The first template `uri` matches, granted or not, with its variables.
    fn template_for(&self, uri: &str) -> Option<(usize, Vec<(String, String)>)> {
        self.plugin
            .context
            .templates
            .iter()
            .enumerate()
            .find_map(|(i, spec)| spec.template.matches(uri).map(|vars| (i, vars)))
    }
}

#[derive(Default)]
pub struct ContextRoutes {
    prompts: Vec<RoutedPrompt>,
    by_prompt: HashMap<String, usize>,
    resources: Vec<ResourcePlugin>,
    by_scheme: HashMap<String, usize>,
}

impl ContextRoutes {
    /// Why `plugin` cannot be served next to those registered: a prompt name or its URI
    /// scheme is taken.
    pub fn conflict(&self, plugin: &LoadedPlugin) -> Option<String> {
        if let Some(taken) = plugin
            .context
            .prompts
            .iter()
            .find(|p| self.by_prompt.contains_key(&p.name))
        {
            return Some(format!(
                "prompt `{}` is already provided by another plugin",
                taken.name
            ));
        }
        let scheme = plugin.context.templates.first()?.template.scheme();
        self.by_scheme
            .contains_key(scheme)
            .then(|| format!("resource scheme `{scheme}://` is already served by another plugin"))
    }

    pub fn register(
        &mut self,
        plugin: &Arc<LoadedPlugin>,
        effective: CapabilitySet,
        policy: &Policy,
    ) {
        let gate = |what: String, declared: CapabilitySet| Gate {
            allowed: declared.intersect(effective),
            refusal: capability_refusal(plugin, &what, declared, effective, policy),
        };
        for (index, spec) in plugin.context.prompts.iter().enumerate() {
            self.by_prompt.insert(spec.name.clone(), self.prompts.len());
            self.prompts.push(RoutedPrompt {
                plugin: Arc::clone(plugin),
                index,
                gate: gate(format!("prompt `{}`", spec.name), spec.declared),
            });
        }
        let Some(first) = plugin.context.templates.first() else {
            return;
        };
        let templates: Vec<Gate> = plugin
            .context
            .templates
            .iter()
            .map(|spec| {
                gate(
                    format!("resource template `{}`", spec.template),
                    spec.declared,
                )
            })
            .collect();
        let list_allowed = templates
            .iter()
            .filter(|g| g.refusal.is_none())
            .fold(CapabilitySet::EMPTY, |all, g| all.union(g.allowed));
        self.by_scheme
            .insert(first.template.scheme().to_string(), self.resources.len());
        self.resources.push(ResourcePlugin {
            plugin: Arc::clone(plugin),
            templates,
            list_allowed,
        });
    }

    pub fn listed_prompts(&self) -> impl Iterator<Item = &RoutedPrompt> {
        self.prompts.iter().filter(|p| p.gate.refusal.is_none())
    }

    /// Plugins with at least one template a client may use, in load order.
    pub fn resource_plugins(&self) -> impl Iterator<Item = &ResourcePlugin> {
        self.resources
            .iter()
            .filter(|r| r.listed_templates().next().is_some())
    }

    pub fn offers_prompts(&self) -> bool {
        self.listed_prompts().next().is_some()
    }

    pub fn offers_resources(&self) -> bool {
        self.resource_plugins().next().is_some()
    }
}

/// Why a context request cannot be served at all: the MCP adapter answers these as
/// protocol errors (unknown name or URI, malformed cursor), not as a plugin's failure.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ContextError {
    #[error("unknown prompt `{0}`; call prompts/list for the available prompts")]
    UnknownPrompt(String),
    #[error("no resource `{0}`; call resources/list or resources/templates/list")]
    UnknownResource(String),
    #[error("no resource template `{0}`; call resources/templates/list")]
    UnknownTemplate(String),
    #[error("the cursor `{0}` was not handed out by this server")]
    BadCursor(String),
}

/// A failed context call: refused before the plugin ran, or the plugin's failure.
#[derive(Debug)]
pub enum ContextFailure {
    Route(ContextError),
    Failed(ToolFailure),
}

impl From<ToolFailure> for ContextFailure {
    fn from(failure: ToolFailure) -> Self {
        ContextFailure::Failed(failure)
    }
}

impl From<ContextError> for ContextFailure {
    fn from(error: ContextError) -> Self {
        ContextFailure::Route(error)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PromptMessage {
    pub from_assistant: bool,
    pub text: String,
    /// Carried instead of the text when set.
    pub attachment: Option<Attachment>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FilledPrompt {
    pub description: String,
    pub messages: Vec<PromptMessage>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListedResource {
    pub uri: String,
    pub name: String,
    pub title: String,
    pub description: String,
    pub mime_type: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResourceText {
    pub uri: String,
    pub mime_type: String,
    pub body: Body,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Suggestions {
    pub values: Vec<String>,
    pub total: Option<u32>,
    pub has_more: bool,
}

/// What a completion is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompletionRef {
    Prompt(String),
    Template(String),
}

/// Suggest values for `argument` of `target`, given `value` so far and the arguments
/// already chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletionRequest {
    pub target: CompletionRef,
    pub argument: String,
    pub value: String,
    pub chosen: Vec<(String, String)>,
}

impl Router {
    /// Fills in prompt `name` with `arguments` (MCP sends strings; numbers and booleans
    /// are taken as their text).
    pub async fn get_prompt(
        &self,
        caller: &Caller,
        name: &str,
        arguments: Option<Map<String, Value>>,
    ) -> Result<FilledPrompt, ContextFailure> {
        let prompt = self.prompt(name)?;
        let spec = prompt.spec();
        let shape = self
            .audits()
            .then(|| argument_shape(arguments.as_ref().unwrap_or(&Map::new())));
        let checked = prompt_arguments(spec, arguments.unwrap_or_default());
        let invocation = checked.map(|arguments| Invocation::GetPrompt {
            name: name.to_string(),
            arguments,
        });
        let reply = self
            .context_call(
                caller,
                &prompt.plugin,
                &format!("prompt `{name}`"),
                &prompt.gate,
                shape,
                invocation,
            )
            .await?;
        let Reply::Prompt(answer) = reply else {
            unreachable!("a prompt invocation answers with a prompt");
        };
        let limit = prompt.plugin.settings.limits.output_bytes;
        let refused = |reason: String| {
            ToolFailure::new(
                ErrorCode::PluginFault,
                format!(
                    "plugin `{}` answered a prompt message the host refuses: {reason}",
                    prompt.plugin.name()
                ),
            )
        };
        let attached = answer
            .messages
            .iter()
            .filter(|m| m.attachment.is_some())
            .count();
        if attached > attachments::MAX_ATTACHMENTS {
            return Err(refused(format!(
                "{attached} attachments, over the limit of {}",
                attachments::MAX_ATTACHMENTS
            ))
            .into());
        }
        let mut size = answer.description.len();
        let mut messages = Vec::with_capacity(answer.messages.len());
        for message in answer.messages {
            let attachment = match message.attachment {
                None => None,
                Some(_) if !message.text.is_empty() => {
                    return Err(
                        refused("a message carries both text and an attachment".into()).into(),
                    );
                }
                Some(attachment) => Some(Attachment::from_wit(attachment).map_err(refused)?),
            };
            size += message.text.len() + attachment.as_ref().map_or(0, Attachment::size);
            messages.push(PromptMessage {
                from_assistant: message.role == context::Role::Assistant,
                text: strip_controls(&message.text),
                attachment,
            });
        }
        check_size(&prompt.plugin, size, limit)?;
        Ok(FilledPrompt {
            description: one_line(&answer.description, 1024),
            messages,
        })
    }

    /// One page of resources. The cursor walks the resource plugins in load order:
    /// `<plugin index>:<that plugin's cursor>`.
    pub async fn list_resources(
        &self,
        caller: &Caller,
        cursor: Option<&str>,
    ) -> Result<(Vec<ListedResource>, Option<String>), ContextFailure> {
        let plugins: Vec<&ResourcePlugin> = self.context.resource_plugins().collect();
        let (position, inner) = match cursor {
            None => (0, None),
            Some(cursor) => parse_cursor(cursor, plugins.len())?,
        };
        let Some(serving) = plugins.get(position) else {
            return Ok((Vec::new(), None));
        };
        let gate = Gate {
            allowed: serving.list_allowed,
            refusal: None,
        };
        let invocation = Ok(Invocation::ListResources { cursor: inner });
        let shape = self.audits().then(|| Value::Object(Map::new()));
        let reply = self
            .context_call(
                caller,
                &serving.plugin,
                "resources/list",
                &gate,
                shape,
                invocation,
            )
            .await?;
        let Reply::Resources(page) = reply else {
            unreachable!("a list invocation answers with a page");
        };
        if page.resources.len() > MAX_RESOURCES_PER_PAGE {
            return Err(ToolFailure::new(
                ErrorCode::PluginFault,
                format!(
                    "plugin `{}` listed {} resources in one page, over the limit of {MAX_RESOURCES_PER_PAGE}",
                    serving.plugin.name(),
                    page.resources.len()
                ),
            )
            .into());
        }
        let resources = listed_resources(serving, page.resources);
        let next = match page.next_cursor {
            Some(inner) if !inner.is_empty() && inner.len() <= MAX_CURSOR_BYTES => {
                Some(format!("{position}:{inner}"))
            }
            _ if position + 1 < plugins.len() => Some(format!("{}:", position + 1)),
            _ => None,
        };
        Ok((resources, next))
    }

    /// Reads `uri`: routed by its scheme, matched to a granted template.
    pub async fn read_resource(
        &self,
        caller: &Caller,
        uri: &str,
    ) -> Result<ResourceText, ContextFailure> {
        self.read(caller, uri, true).await
    }

    /// Reads `uri` again for a subscription's watch: gated and limited like any read,
    /// but not written to the audit log (the subscription's first read was), which a
    /// poll every few seconds would flood.
    pub async fn reread_resource(
        &self,
        caller: &Caller,
        uri: &str,
    ) -> Result<ResourceText, ContextFailure> {
        self.read(caller, uri, false).await
    }

    async fn read(
        &self,
        caller: &Caller,
        uri: &str,
        audited: bool,
    ) -> Result<ResourceText, ContextFailure> {
        let unknown = || {
            ContextError::UnknownResource(truncate_at_char(&strip_controls(uri), 256).to_string())
        };
        let serving = scheme_of(uri)
            .and_then(|scheme| self.context.by_scheme.get(scheme))
            .map(|&i| &self.context.resources[i])
            .ok_or_else(unknown)?;
        let (index, variables) = serving.template_for(uri).ok_or_else(unknown)?;
        let spec = &serving.plugin.context.templates[index];
        let invocation = Ok(Invocation::ReadResource {
            uri: uri.to_string(),
            template: spec.template.to_string(),
            variables,
        });
        let shape = (audited && self.audits()).then(|| serde_json::json!({"uri": "string"}));
        let what = format!("resource `{}`", spec.template);
        let reply = self
            .context_call(
                caller,
                &serving.plugin,
                &what,
                &serving.templates[index],
                shape,
                invocation,
            )
            .await?;
        let Reply::Contents(contents) = reply else {
            unreachable!("a read invocation answers with contents");
        };
        check_size(
            &serving.plugin,
            contents.text.len() + contents.blob.as_ref().map_or(0, Vec::len),
            serving.plugin.settings.limits.output_bytes,
        )?;
        let body = attachments::body(contents.text, contents.blob).map_err(|reason| {
            ToolFailure::new(
                ErrorCode::PluginFault,
                format!(
                    "plugin `{}` answered resource contents the host refuses: {reason}",
                    serving.plugin.name()
                ),
            )
        })?;
        Ok(ResourceText {
            // The URI asked for, whatever the plugin echoed: it cannot answer for another.
            uri: uri.to_string(),
            mime_type: spec.mime_type.clone(),
            body,
        })
    }

    /// Suggestions for a prompt's argument or a template's variable.
    pub async fn complete(
        &self,
        caller: &Caller,
        request: CompletionRequest,
    ) -> Result<Suggestions, ContextFailure> {
        let CompletionRequest {
            target,
            argument,
            value,
            chosen,
        } = request;
        let (plugin, gate, wit_target, what) = match &target {
            CompletionRef::Prompt(name) => {
                let prompt = self.prompt(name)?;
                if !prompt.spec().arguments.iter().any(|a| a.name == argument) {
                    return Err(
                        invalid(format!("prompt `{name}` has no argument `{argument}`")).into(),
                    );
                }
                (
                    &prompt.plugin,
                    &prompt.gate,
                    context::CompletionTarget::Prompt(name.clone()),
                    format!("completion for prompt `{name}`"),
                )
            }
            CompletionRef::Template(template) => {
                let (serving, index) = self.template(template)?;
                let spec = &serving.plugin.context.templates[index];
                if !spec.template.variables().any(|v| v == argument) {
                    return Err(invalid(format!(
                        "template `{template}` has no variable `{argument}`"
                    ))
                    .into());
                }
                (
                    &serving.plugin,
                    &serving.templates[index],
                    context::CompletionTarget::Template(template.clone()),
                    format!("completion for `{template}`"),
                )
            }
        };
        let invocation = if value.len() > MAX_ARGUMENT_VALUE_BYTES {
            Err(invalid(format!(
                "the value to complete is over {MAX_ARGUMENT_VALUE_BYTES} bytes"
            )))
        } else {
            Ok(Invocation::Complete {
                target: wit_target,
                argument,
                value,
                context: chosen,
            })
        };
        let shape = self
            .audits()
            .then(|| serde_json::json!({"argument": "string", "value": "string"}));
        let reply = self
            .context_call(caller, plugin, &what, gate, shape, invocation)
            .await?;
        let Reply::Completion(completion) = reply else {
            unreachable!("a completion invocation answers with a completion");
        };
        Ok(clean_completion(completion))
    }

    fn prompt(&self, name: &str) -> Result<&RoutedPrompt, ContextError> {
        self.context
            .by_prompt
            .get(name)
            .map(|&i| &self.context.prompts[i])
            .ok_or_else(|| {
                ContextError::UnknownPrompt(
                    truncate_at_char(&strip_controls(name), 128).to_string(),
                )
            })
    }

    fn template(&self, template: &str) -> Result<(&ResourcePlugin, usize), ContextError> {
        let unknown = || {
            ContextError::UnknownTemplate(
                truncate_at_char(&strip_controls(template), 256).to_string(),
            )
        };
        let serving = scheme_of(template)
            .and_then(|scheme| self.context.by_scheme.get(scheme))
            .map(|&i| &self.context.resources[i])
            .ok_or_else(unknown)?;
        let index = serving
            .plugin
            .context
            .templates
            .iter()
            .position(|spec| spec.template.as_str() == template)
            .ok_or_else(unknown)?;
        Ok((serving, index))
    }

    /// Gate, then run `invocation` in the plugin's slot; audited like a tool call.
    async fn context_call(
        &self,
        caller: &Caller,
        plugin: &Arc<LoadedPlugin>,
        what: &str,
        gate: &Gate,
        shape: Option<Value>,
        invocation: Result<Invocation, ToolFailure>,
    ) -> Result<Reply, ToolFailure> {
        let started = Instant::now();
        let journal = Journal::default();
        let above_tier = tier_refusal(caller, what, gate.allowed);
        let result = match (gate.refusal.as_ref().or(above_tier.as_ref()), invocation) {
            (Some(refusal), _) => Err(refusal.clone()),
            (None, Err(invalid)) => Err(invalid),
            (None, Ok(invocation)) => {
                self.within_slot(plugin, what, |deadline| {
                    let call = CallContext {
                        tool: what.to_string(),
                        allowed: gate.allowed,
                        deadline,
                        journal: journal.clone(),
                        progress: None,
                        log: None,
                        client: None,
                        identity: Arc::clone(&caller.identity),
                    };
                    self.runtime().invoke(plugin, call, invocation)
                })
                .await
            }
        };
        let outcome = match &result {
            Ok(_) => "ok",
            Err(failure) => failure.code.as_str(),
        };
        self.record(
            caller,
            plugin,
            what,
            gate.allowed,
            outcome,
            started,
            shape,
            &journal,
        );
        result
    }
}

fn invalid(message: String) -> ToolFailure {
    ToolFailure::new(ErrorCode::InvalidArgument, message)
}

/// The prompt's arguments as the plugin takes them: declared names only, every required
/// one present, each a short string.
fn prompt_arguments(
    spec: &PromptSpec,
    arguments: Map<String, Value>,
) -> Result<Vec<(String, String)>, ToolFailure> {
    let hint = "Call prompts/list for the prompt's arguments.";
    let mut out = Vec::with_capacity(arguments.len());
    for (name, value) in arguments {
        if !spec.arguments.iter().any(|a| a.name == name) {
            return Err(invalid(format!(
                "prompt `{}` has no argument `{}`",
                spec.name,
                truncate_at_char(&strip_controls(&name), 64)
            ))
            .with_hint(hint));
        }
        let text = match value {
            Value::String(text) => text,
            Value::Number(number) => number.to_string(),
            Value::Bool(flag) => flag.to_string(),
            Value::Null => continue,
            _ => {
                return Err(invalid(format!("argument `{name}` must be a string")).with_hint(hint));
            }
        };
        if text.len() > MAX_ARGUMENT_VALUE_BYTES {
            return Err(invalid(format!(
                "argument `{name}` is {} bytes, over the {MAX_ARGUMENT_VALUE_BYTES}-byte limit",
                text.len()
            )));
        }
        out.push((name, text));
    }
    if let Some(missing) = spec
        .arguments
        .iter()
        .find(|a| a.required && !out.iter().any(|(name, _)| *name == a.name))
    {
        return Err(invalid(format!(
            "prompt `{}` needs argument `{}`: {}",
            spec.name, missing.name, missing.description
        ))
        .with_hint(hint));
    }
    Ok(out)
}

/// `position:inner` → the resource plugin's index and its own cursor (none when empty).
fn parse_cursor(cursor: &str, plugins: usize) -> Result<(usize, Option<String>), ContextError> {
    let bad = || ContextError::BadCursor(truncate_at_char(&strip_controls(cursor), 64).to_string());
    let (position, inner) = cursor.split_once(':').ok_or_else(bad)?;
    let position: usize = position.parse().map_err(|_| bad())?;
    if position >= plugins || inner.len() > MAX_CURSOR_BYTES {
        return Err(bad());
    }
    Ok((position, (!inner.is_empty()).then(|| inner.to_string())))
}

/// The plugin's resources that match one of its granted templates, cleaned; the rest
/// are dropped (a plugin lists only what it can be asked to read).
fn listed_resources(
    serving: &ResourcePlugin,
    resources: Vec<context::Resource>,
) -> Vec<ListedResource> {
    resources
        .into_iter()
        .filter_map(|resource| {
            let Some((index, _)) = serving.template_for(&resource.uri) else {
                tracing::warn!(plugin = %serving.plugin.name(), "dropped a listed resource that matches none of its templates");
                return None;
            };
            if serving.templates[index].refusal.is_some() {
                return None;
            }
            let spec = &serving.plugin.context.templates[index];
            Some(ListedResource {
                uri: resource.uri,
                name: one_line(&resource.name, 128),
                title: one_line(&resource.title, 128),
                description: one_line(&resource.description, 1024),
                mime_type: spec.mime_type.clone(),
            })
        })
        .collect()
}

fn clean_completion(completion: context::Completion) -> Suggestions {
    let offered = completion.values.len();
    let values: Vec<String> = completion
        .values
        .iter()
        .map(|value| one_line(value, MAX_COMPLETION_VALUE_BYTES))
        .filter(|value| !value.is_empty())
        .take(MAX_COMPLETION_VALUES)
        .collect();
    Suggestions {
        has_more: completion.has_more || offered > MAX_COMPLETION_VALUES,
        total: completion.total,
        values,
    }
}

fn check_size(plugin: &LoadedPlugin, size: usize, limit: usize) -> Result<(), ToolFailure> {
    if size > limit {
        return Err(ToolFailure::new(
            ErrorCode::PluginFault,
            format!(
                "plugin `{}` answered {size} bytes, over the {limit}-byte output limit; nothing was returned",
                plugin.name()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::context_manifest::PromptArgumentSpec;

    fn spec() -> PromptSpec {
        PromptSpec {
            name: "troubleshoot".into(),
            title: "T".into(),
            description: "D".into(),
            arguments: vec![
                PromptArgumentSpec {
                    name: "container".into(),
                    description: "Name or id.".into(),
                    required: true,
                },
                PromptArgumentSpec {
                    name: "tail".into(),
                    description: "Lines.".into(),
                    required: false,
                },
            ],
            declared: CapabilitySet::EMPTY,
        }
    }

    fn args(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn prompt_arguments_are_declared_present_and_strings() {
        assert_eq!(
            prompt_arguments(
                &spec(),
                args(serde_json::json!({"container": "web", "tail": 20}))
            )
            .unwrap(),
            vec![
                ("container".into(), "web".into()),
                ("tail".into(), "20".into())
            ]
        );
        let code = |value| prompt_arguments(&spec(), args(value)).unwrap_err().code;
        assert_eq!(code(serde_json::json!({})), ErrorCode::InvalidArgument);
        assert_eq!(
            code(serde_json::json!({"container": "web", "other": "x"})),
            ErrorCode::InvalidArgument
        );
        assert_eq!(
            code(serde_json::json!({"container": ["web"]})),
            ErrorCode::InvalidArgument
        );
        assert_eq!(
            code(serde_json::json!({"container": "x".repeat(5000)})),
            ErrorCode::InvalidArgument
        );
        let missing = prompt_arguments(&spec(), Map::new()).unwrap_err();
        assert!(
            missing.message.contains("`container`"),
            "{}",
            missing.message
        );
    }

    #[test]
    fn cursors_name_a_plugin_and_its_own_cursor() {
        assert_eq!(parse_cursor("0:", 2), Ok((0, None)));
        assert_eq!(
            parse_cursor("1:abc:def", 2),
            Ok((1, Some("abc:def".into())))
        );
        for bad in ["", "x:", "2:", "1", "-1:"] {
            assert!(parse_cursor(bad, 2).is_err(), "{bad}");
        }
    }

    #[test]
    fn completions_are_capped_and_cleaned() {
        let completion = context::Completion {
            values: (0..150)
                .map(|i| format!("c{i}\u{1b}[0m"))
                .chain([String::new()])
                .collect(),
            total: Some(151),
            has_more: false,
        };
        let cleaned = clean_completion(completion);
        assert_eq!(cleaned.values.len(), MAX_COMPLETION_VALUES);
        assert_eq!(cleaned.values[0], "c0");
        assert!(cleaned.has_more);
    }
}
