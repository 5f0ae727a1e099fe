//! What a plugin may ask the MCP client during a call (the `client` import): a form
//! for the person (elicitation) or a completion from the client's model (sampling).
//! The transport gives a call a [`ClientRequests`] when its session can carry requests
//! to the client; the host import checks and bounds what is asked before it gets here.

use std::future::Future;
use std::pin::Pin;

use serde_json::{Map, Value};

use crate::bindings::bulkhead::plugin::client::{
    ClientError, ElicitAnswer, SamplingAnswer, SamplingRequest,
};

pub type Asked<T> = Pin<Box<dyn Future<Output = Result<T, ClientError>> + Send>>;

/// The client of the session a call came from.
pub trait ClientRequests: Send + Sync {
    /// Shows `message` and the form `schema` (a JSON Schema object) to the person.
    fn elicit(&self, message: String, schema: Map<String, Value>) -> Asked<ElicitAnswer>;

    /// Asks the client's model to continue `request.messages`.
    fn sample(&self, request: SamplingRequest) -> Asked<SamplingAnswer>;
}
