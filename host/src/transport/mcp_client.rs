//! The `client` import over MCP: `elicitation/create` and `sampling/createMessage` sent
//! to the client of the session a call came from, when that client declared the
//! capability. rmcp marks sampling deprecated (SEP-2577 drops server-to-client requests
//! in the 2026-07-28 revision, whose clients never get here: they declare neither
//! capability, and rmcp refuses the request for them); that deprecation is allowed in
//! this file only. Requests are built and read as JSON, so the plugin's schema is
//! checked by rmcp's own elicitation-schema type.

#![allow(deprecated)]

use std::sync::Arc;

use rmcp::RoleServer;
use rmcp::model::{CreateMessageRequestParams, CreateMessageResult, ElicitRequestParams};
use rmcp::service::{Peer, RequestContext};
use serde_json::{Map, Value, json};

use crate::bindings::bulkhead::plugin::client::{
    ClientError, ElicitAction, ElicitAnswer, Role, SamplingAnswer, SamplingRequest,
};
use crate::client_requests::{Asked, ClientRequests};

pub struct McpClient {
    peer: Peer<RoleServer>,
    elicitation: bool,
    sampling: bool,
}

impl McpClient {
    /// The client of `context`'s session, if it declared elicitation or sampling.
    pub fn of(context: &RequestContext<RoleServer>) -> Option<Arc<dyn ClientRequests>> {
        let capabilities = &context.peer.peer_info()?.capabilities;
        let (elicitation, sampling) = (
            capabilities.elicitation.is_some(),
            capabilities.sampling.is_some(),
        );
        (elicitation || sampling).then(|| {
            Arc::new(McpClient {
                peer: context.peer.clone(),
                elicitation,
                sampling,
            }) as Arc<dyn ClientRequests>
        })
    }
}

fn failed(err: impl std::fmt::Display) -> ClientError {
    ClientError::Failed(crate::sanitize::one_line(&err.to_string(), 1024))
}

impl ClientRequests for McpClient {
    fn elicit(&self, message: String, schema: Map<String, Value>) -> Asked<ElicitAnswer> {
        let (peer, declared) = (self.peer.clone(), self.elicitation);
        Box::pin(async move {
            if !declared {
                return Err(ClientError::Unsupported(
                    "the client did not declare elicitation".into(),
                ));
            }
            let params: ElicitRequestParams = serde_json::from_value(json!({
                "mode": "form",
                "message": message,
                "requestedSchema": schema,
            }))
            .map_err(|err| {
                ClientError::Invalid(format!(
                    "the requested schema is not an MCP elicitation schema (an object of flat string, number, integer, boolean or enum properties): {err}"
                ))
            })?;
            let answer = peer.create_elicitation(params).await.map_err(failed)?;
            let answer = serde_json::to_value(answer).map_err(failed)?;
            let action = match answer["action"].as_str() {
                Some("accept") => ElicitAction::Accept,
                Some("decline") => ElicitAction::Decline,
                _ => ElicitAction::Cancel,
            };
            let content = match &answer["content"] {
                Value::Object(content) => Some(Value::Object(content.clone()).to_string()),
                _ => None,
            };
            Ok(ElicitAnswer { action, content })
        })
    }

    fn sample(&self, request: SamplingRequest) -> Asked<SamplingAnswer> {
        let (peer, declared) = (self.peer.clone(), self.sampling);
        Box::pin(async move {
            if !declared {
                return Err(ClientError::Unsupported(
                    "the client did not declare sampling".into(),
                ));
            }
            let messages: Vec<Value> = request
                .messages
                .iter()
                .map(|message| {
                    json!({
                        "role": match message.role { Role::User => "user", Role::Assistant => "assistant" },
                        "content": {"type": "text", "text": message.text},
                    })
                })
                .collect();
            let mut params = json!({"messages": messages, "maxTokens": request.max_tokens});
            if let Some(system) = &request.system_prompt {
                params["systemPrompt"] = json!(system);
            }
            let params: CreateMessageRequestParams = serde_json::from_value(params)
                .map_err(|err| ClientError::Invalid(err.to_string()))?;
            let answer: CreateMessageResult = peer.create_message(params).await.map_err(failed)?;
            let answer = serde_json::to_value(answer).map_err(failed)?;
            let blocks = match &answer["content"] {
                Value::Array(blocks) => blocks.clone(),
                block => vec![block.clone()],
            };
            let texts: Vec<&str> = blocks
                .iter()
                .filter(|block| block["type"] == "text")
                .filter_map(|block| block["text"].as_str())
                .collect();
            if texts.is_empty() {
                return Err(ClientError::Failed(
                    "the client's model answered with no text".into(),
                ));
            }
            Ok(SamplingAnswer {
                text: texts.join("\n"),
                model: answer["model"].as_str().unwrap_or_default().to_string(),
                stop_reason: answer["stopReason"].as_str().map(str::to_string),
            })
        })
    }
}
