//! Asking the MCP client during a call, through the `client` interface (always
//! importable): [`elicit`] shows the person a form, [`sample`] asks the client's model
//! to write. Each works only when the client declared the capability in its session,
//! waits no longer than the call's deadline, and fails with a [`ClientError`] otherwise
//! (`unsupported`, `invalid`, `failed`, `timeout`); a tool should then carry on without
//! the answer or say what it needed. The host shows the person which plugin asks.
//! Natively (unit tests) both answer with the installed fakes ([`crate::fake`]), under
//! the names `client::elicit` and `client::sample`.

pub use crate::bindings::bulkhead::plugin::client::{
    ClientError, ElicitAction, ElicitAnswer, Role, SamplingAnswer, SamplingMessage, SamplingRequest,
};

/// Shows the person `message` and a form described by `requested_schema`: a JSON
/// Schema object of flat string, number, integer, boolean or enum properties.
pub fn elicit(
    message: &str,
    requested_schema: &serde_json::Value,
) -> Result<ElicitAnswer, ClientError> {
    let schema = requested_schema.to_string();
    #[cfg(target_arch = "wasm32")]
    return crate::bindings::bulkhead::plugin::client::elicit(message, &schema);
    #[cfg(not(target_arch = "wasm32"))]
    return crate::fake::call_client("client::elicit", &(message, schema));
}

/// Asks the client's model to continue `request.messages`.
pub fn sample(request: &SamplingRequest) -> Result<SamplingAnswer, ClientError> {
    #[cfg(target_arch = "wasm32")]
    return crate::bindings::bulkhead::plugin::client::sample(request);
    #[cfg(not(target_arch = "wasm32"))]
    return crate::fake::call_client("client::sample", &(request,));
}

/// One user message asking for at most `max_tokens` tokens.
pub fn ask(prompt: &str, max_tokens: u32) -> SamplingRequest {
    SamplingRequest {
        messages: vec![SamplingMessage {
            role: Role::User,
            text: prompt.to_owned(),
        }],
        system_prompt: None,
        max_tokens,
    }
}
