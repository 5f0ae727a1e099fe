//! Host services every plugin may import without a grant (they touch nothing outside
//! the host): `log`, `progress`, and `client` (which asks the MCP client, when it can be
//! asked).

mod client;
mod log;
mod progress;

pub use client::MAX_REQUESTS_PER_CALL as MAX_CLIENT_REQUESTS_PER_CALL;
mod types;
