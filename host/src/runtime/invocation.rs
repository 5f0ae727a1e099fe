//! What one call into a plugin asks of it, and where in the component each export is.
//! `tools` is required; `context` (prompts, resources, completions) is looked up on its
//! own and may be absent, so a component of world `plugin` loads unchanged.

use anyhow::Context as _;
use wasmtime::Store;
use wasmtime::component::{Instance, InstancePre};

use super::{CallState, PluginOutput, wasm_error};
use crate::bindings::{context, tools};

/// One call into a plugin.
#[derive(Debug, Clone)]
pub enum Invocation {
    Tool {
        name: String,
        arguments: String,
    },
    GetPrompt {
        name: String,
        arguments: Vec<(String, String)>,
    },
    ListResources {
        cursor: Option<String>,
    },
    ReadResource {
        uri: String,
        template: String,
        variables: Vec<(String, String)>,
    },
    Complete {
        target: context::CompletionTarget,
        argument: String,
        value: String,
        context: Vec<(String, String)>,
    },
}

/// What the plugin answered, one variant per [`Invocation`] kind.
#[derive(Debug)]
pub enum Reply {
    Tool(PluginOutput),
    Prompt(context::PromptAnswer),
    Resources(context::ResourcePage),
    Contents(context::ResourceContents),
    Completion(context::Completion),
}

/// The component's exports, found once at load.
#[derive(Clone)]
pub(super) struct Exports {
    tools: tools::GuestIndices,
    context: Option<context::GuestIndices>,
}

impl Exports {
    pub(super) fn find(pre: &InstancePre<CallState>) -> anyhow::Result<Self> {
        let tools = tools::GuestIndices::new(pre)
            .map_err(wasm_error)
            .context("the component does not export bulkhead:plugin/tools")?;
        Ok(Exports {
            tools,
            context: context::GuestIndices::new(pre).ok(),
        })
    }

    /// The manifest, and the context manifest when `context` is exported. Loading the
    /// export checks its types, so a mismatched `context` fails the load, not a call.
    pub(super) async fn manifests(
        &self,
        store: &mut Store<CallState>,
        instance: &Instance,
    ) -> wasmtime::Result<(tools::Manifest, Option<context::ContextManifest>)> {
        let manifest = self
            .tools
            .load(&mut *store, instance)?
            .call_get_manifest(&mut *store)
            .await?;
        let context = match &self.context {
            None => None,
            Some(indices) => Some(
                indices
                    .load(&mut *store, instance)?
                    .call_get_context_manifest(&mut *store)
                    .await?,
            ),
        };
        Ok((manifest, context))
    }

    pub(super) async fn dispatch(
        &self,
        store: &mut Store<CallState>,
        instance: &Instance,
        invocation: Invocation,
    ) -> wasmtime::Result<Result<Reply, tools::ToolError>> {
        if let Invocation::Tool { name, arguments } = invocation {
            let tools = self.tools.load(&mut *store, instance)?;
            let answer = tools.call_call_tool(&mut *store, &name, &arguments).await?;
            return Ok(answer.map(|output| {
                Reply::Tool(PluginOutput {
                    text: output.text,
                    structured: output.structured,
                    attachments: output.attachments,
                })
            }));
        }
        let Some(indices) = &self.context else {
            wasmtime::bail!("the plugin does not export bulkhead:plugin/context");
        };
        let context = indices.load(&mut *store, instance)?;
        let store = &mut *store;
        Ok(match invocation {
            Invocation::Tool { .. } => unreachable!("handled above"),
            Invocation::GetPrompt { name, arguments } => context
                .call_get_prompt(store, &name, &arguments)
                .await?
                .map(Reply::Prompt),
            Invocation::ListResources { cursor } => context
                .call_list_resources(store, cursor.as_deref())
                .await?
                .map(Reply::Resources),
            Invocation::ReadResource {
                uri,
                template,
                variables,
            } => context
                .call_read_resource(store, &uri, &template, &variables)
                .await?
                .map(Reply::Contents),
            Invocation::Complete {
                target,
                argument,
                value,
                context: chosen,
            } => context
                .call_complete(store, &target, &argument, &value, &chosen)
                .await?
                .map(Reply::Completion),
        })
    }
}
