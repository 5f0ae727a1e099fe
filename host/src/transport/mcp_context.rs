//! The MCP side of prompts, resources and completions: router answers as protocol
//! results, and failures as JSON-RPC errors whose `data` carries the stable `DKR-nnn`
//! code, message and hint (these methods have no `isError` result as tools do).

use rmcp::ErrorData as McpError;
use rmcp::model::{
    CompleteRequestParams, CompleteResult, CompletionInfo, GetPromptResult, ListResourcesResult,
    Prompt, PromptArgument, PromptMessage, Reference, Resource, ResourceContents, ResourceTemplate,
    Role,
};

use crate::caller::Caller;
use crate::context_routes::{
    CompletionRef, CompletionRequest, ContextError, ContextFailure, FilledPrompt, ListedResource,
    ResourceText, Suggestions,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rmcp::model::ContentBlock;

use crate::attachments::{Attachment, Body};
use crate::errors::{ErrorCode, ToolFailure};
use crate::router::Router;

/// Every prompt `caller` may see (listed, and within its tier), in load order.
pub fn prompts(router: &Router, caller: &Caller) -> Vec<Prompt> {
    router
        .context
        .listed_prompts()
        .filter(|routed| caller.may_use(routed.allowed()))
        .map(|routed| {
            let spec = routed.spec();
            let arguments = spec
                .arguments
                .iter()
                .map(|a| {
                    PromptArgument::new(&a.name)
                        .with_description(&a.description)
                        .with_required(a.required)
                })
                .collect();
            Prompt::new(&spec.name, Some(&spec.description), Some(arguments))
                .with_title(&spec.title)
        })
        .collect()
}

/// Every resource template a client may see (fixed URIs are listed as resources).
pub fn templates(router: &Router) -> Vec<ResourceTemplate> {
    router
        .context
        .resource_plugins()
        .flat_map(|serving| serving.listed_templates())
        .filter(|spec| !spec.template.is_fixed())
        .map(|spec| {
            ResourceTemplate::new(spec.template.as_str(), &spec.name)
                .with_title(&spec.title)
                .with_description(&spec.description)
                .with_mime_type(&spec.mime_type)
        })
        .collect()
}

pub fn prompt_result(filled: FilledPrompt) -> GetPromptResult {
    let messages = filled
        .messages
        .into_iter()
        .map(|message| {
            let role = if message.from_assistant {
                Role::Assistant
            } else {
                Role::User
            };
            match message.attachment {
                Some(attachment) => PromptMessage::new(role, content_block(attachment)),
                None => PromptMessage::new_text(role, message.text),
            }
        })
        .collect();
    GetPromptResult::new(messages).with_description(filled.description)
}

pub fn resources_result(
    (resources, next): (Vec<ListedResource>, Option<String>),
) -> ListResourcesResult {
    let resources = resources
        .into_iter()
        .map(|listed| {
            Resource::new(listed.uri, listed.name)
                .with_title(listed.title)
                .with_description(listed.description)
                .with_mime_type(listed.mime_type)
        })
        .collect();
    let mut result = ListResourcesResult::with_all_items(resources);
    result.next_cursor = next;
    result
}

pub fn read_result(read: ResourceText) -> rmcp::model::ReadResourceResult {
    rmcp::model::ReadResourceResult::new(vec![resource_contents(
        read.uri,
        read.mime_type,
        read.body,
    )])
}

/// A resource's contents as MCP carries them: text, or base64 bytes.
fn resource_contents(uri: String, mime_type: String, body: Body) -> ResourceContents {
    match body {
        Body::Text(text) => ResourceContents::TextResourceContents {
            uri,
            mime_type: Some(mime_type),
            text,
            meta: None,
        },
        Body::Blob(bytes) => ResourceContents::BlobResourceContents {
            uri,
            mime_type: Some(mime_type),
            blob: BASE64.encode(bytes),
            meta: None,
        },
    }
}

/// An attachment as an MCP content block.
pub fn content_block(attachment: Attachment) -> ContentBlock {
    match attachment {
        Attachment::Image { mime_type, data } => {
            ContentBlock::image(BASE64.encode(data), mime_type)
        }
        Attachment::Audio { mime_type, data } => {
            ContentBlock::audio(BASE64.encode(data), mime_type)
        }
        Attachment::Embedded {
            uri,
            mime_type,
            body,
        } => ContentBlock::resource(resource_contents(uri, mime_type, body)),
    }
}

/// What `completion/complete` asks, as the router takes it; a kind of reference this
/// server does not know is an invalid request.
pub fn completion_request(request: CompleteRequestParams) -> Result<CompletionRequest, McpError> {
    let target = match request.r#ref {
        Reference::Prompt(prompt) => CompletionRef::Prompt(prompt.name),
        Reference::Resource(template) => CompletionRef::Template(template.uri),
        other => {
            return Err(McpError::invalid_params(
                format!("cannot complete a `{}` reference", other.reference_type()),
                None,
            ));
        }
    };
    let mut chosen: Vec<(String, String)> = request
        .context
        .and_then(|context| context.arguments)
        .unwrap_or_default()
        .into_iter()
        .collect();
    chosen.sort();
    Ok(CompletionRequest {
        target,
        argument: request.argument.name,
        value: request.argument.value,
        chosen,
    })
}

pub fn completion_result(suggestions: Suggestions) -> CompleteResult {
    let mut info = CompletionInfo::default();
    info.values = suggestions.values;
    info.total = suggestions.total;
    info.has_more = Some(suggestions.has_more);
    CompleteResult::new(info)
}

/// A failed context call as a JSON-RPC error: unknown names and URIs as the spec says
/// (`-32602`, resources `-32002`), a plugin's or the gate's failure by its code, with the
/// `DKR-nnn` form in `data`.
pub fn error(failure: ContextFailure) -> McpError {
    match failure {
        ContextFailure::Route(error @ ContextError::UnknownResource(_)) => {
            McpError::resource_not_found(error.to_string(), None)
        }
        ContextFailure::Route(error) => McpError::invalid_params(error.to_string(), None),
        ContextFailure::Failed(failure) => failed(&failure),
    }
}

fn failed(failure: &ToolFailure) -> McpError {
    let data = Some(failure.to_json());
    let text = failure.render();
    match failure.code {
        ErrorCode::NotFound | ErrorCode::ImageNotFound | ErrorCode::InvalidArgument => {
            McpError::invalid_params(text, data)
        }
        _ => McpError::internal_error(text, data),
    }
}
