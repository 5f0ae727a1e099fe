//! Protocol adapters over the router. Only MCP over stdio for now.

pub mod mcp;
mod mcp_context;
