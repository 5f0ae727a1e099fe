//! Protocol adapters over the router: MCP over stdio, and MCP Streamable HTTP behind
//! authentication and rate limits.

pub mod catalog;
pub mod http;
pub mod http_gate;
pub mod mcp;
mod mcp_client;
mod mcp_context;
mod mcp_log;
mod pagination;
pub mod stdio;
mod subscriptions;
pub mod tls;
