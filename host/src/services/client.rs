//! `client`: a plugin asks the MCP client, mid-call, for a person's answers
//! (elicitation) or its model's text (sampling). The host bounds what is asked (sizes,
//! a JSON Schema object, a few requests per call), says which plugin asks, waits no
//! longer than the call's deadline, and caps what comes back.

use crate::access::CallAccess;
use crate::bindings::bulkhead::plugin::client::{
    ClientError, ElicitAnswer, Host, SamplingAnswer, SamplingRequest,
};
use crate::sanitize::{strip_controls, truncate_at_char};

/// Requests one call may make of the client.
pub const MAX_REQUESTS_PER_CALL: u32 = 8;
/// Longest elicitation message, in bytes.
const MAX_MESSAGE: usize = 4096;
/// Largest elicitation schema, in bytes of JSON.
const MAX_SCHEMA: usize = 16 << 10;
/// Most sampling messages, and their text together, in bytes.
const MAX_MESSAGES: usize = 32;
const MAX_SAMPLING_TEXT: usize = 64 << 10;
/// Most tokens a plugin may ask the client's model for.
const MAX_TOKENS: u32 = 8192;
/// Largest answer handed back to the plugin, in bytes.
pub const MAX_ANSWER: usize = 64 << 10;

impl CallAccess {
    /// The client, if this call may still ask it something.
    fn client_for_request(
        &mut self,
    ) -> Result<std::sync::Arc<dyn crate::client_requests::ClientRequests>, ClientError> {
        let Some(client) = self.client.clone() else {
            return Err(ClientError::Unsupported(
                "this call's client cannot be asked anything (it declared neither elicitation nor sampling, or its protocol revision forbids requests to the client)".into(),
            ));
        };
        if self.client_requests_left == 0 {
            return Err(ClientError::Invalid(format!(
                "a call may ask the client at most {MAX_REQUESTS_PER_CALL} times"
            )));
        }
        self.client_requests_left -= 1;
        Ok(client)
    }

    /// Waits for `asked` until the call's deadline.
    async fn until_deadline<T>(
        &self,
        asked: crate::client_requests::Asked<T>,
    ) -> Result<T, ClientError> {
        match tokio::time::timeout_at(self.deadline, asked).await {
            Ok(answer) => answer,
            Err(_) => Err(ClientError::Timeout),
        }
    }
}

impl Host for CallAccess {
    async fn elicit(
        &mut self,
        message: String,
        requested_schema: String,
    ) -> Result<ElicitAnswer, ClientError> {
        let client = self.client_for_request()?;
        if message.len() > MAX_MESSAGE || requested_schema.len() > MAX_SCHEMA {
            return Err(ClientError::Invalid(format!(
                "an elicitation's message is at most {MAX_MESSAGE} bytes and its schema {MAX_SCHEMA}"
            )));
        }
        let schema = match serde_json::from_str(&requested_schema) {
            Ok(serde_json::Value::Object(schema)) => schema,
            _ => {
                return Err(ClientError::Invalid(
                    "the requested schema is not a JSON object".into(),
                ));
            }
        };
        // The person sees who asks: a plugin cannot pass for the server or another one.
        let message = format!("[{}] {}", self.plugin, strip_controls(&message));
        tracing::info!(plugin = %self.plugin, tool = %self.tool, "asking the client's user (elicitation)");
        let mut answer = self.until_deadline(client.elicit(message, schema)).await?;
        if answer
            .content
            .as_ref()
            .is_some_and(|c| c.len() > MAX_ANSWER)
        {
            return Err(ClientError::Failed(format!(
                "the client's answer is over {MAX_ANSWER} bytes"
            )));
        }
        if !matches!(
            answer.action,
            crate::bindings::bulkhead::plugin::client::ElicitAction::Accept
        ) {
            answer.content = None;
        }
        Ok(answer)
    }

    async fn sample(&mut self, request: SamplingRequest) -> Result<SamplingAnswer, ClientError> {
        let client = self.client_for_request()?;
        let text: usize = request.messages.iter().map(|m| m.text.len()).sum::<usize>()
            + request.system_prompt.as_ref().map_or(0, String::len);
        if request.messages.is_empty()
            || request.messages.len() > MAX_MESSAGES
            || text > MAX_SAMPLING_TEXT
            || !(1..=MAX_TOKENS).contains(&request.max_tokens)
        {
            return Err(ClientError::Invalid(format!(
                "a sampling request has 1-{MAX_MESSAGES} messages, at most {MAX_SAMPLING_TEXT} bytes of text and asks for 1-{MAX_TOKENS} tokens"
            )));
        }
        tracing::info!(plugin = %self.plugin, tool = %self.tool, "asking the client's model (sampling)");
        let mut answer = self.until_deadline(client.sample(request)).await?;
        if answer.text.len() > MAX_ANSWER {
            answer.text = truncate_at_char(&answer.text, MAX_ANSWER).to_string();
        }
        Ok(answer)
    }
}
