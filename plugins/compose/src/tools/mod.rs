//! The compose tools, one module per group.

pub mod deploy;
pub mod down;
pub mod lifecycle;
pub mod list;
pub mod logs;
pub mod ps;

use bulkhead_plugin_sdk::{ErrorCode, ToolError};

use crate::observed::{self, Member};

/// The project's containers, optionally one service's; an unknown project or service is
/// `not-found`.
pub fn project_members(project: &str, service: Option<&str>) -> Result<Vec<Member>, ToolError> {
    let members = observed::members(project)?;
    if members.is_empty() {
        return Err(ToolError::new(
            ErrorCode::NotFound,
            format!("no project `{project}` on the engine"),
        )
        .with_hint("compose_list shows the projects that exist"));
    }
    match service {
        None => Ok(members),
        Some(service) => {
            let chosen: Vec<Member> = members
                .into_iter()
                .filter(|m| m.service == service)
                .collect();
            if chosen.is_empty() {
                return Err(ToolError::new(
                    ErrorCode::NotFound,
                    format!("project `{project}` has no service `{service}`"),
                )
                .with_hint("compose_ps lists the project's services"));
            }
            Ok(chosen)
        }
    }
}

/// Services in the order their dependencies allow (from the `depends_on` labels the
/// containers carry), dependencies first; ties by name.
pub fn start_order(members: &[Member]) -> Vec<String> {
    let mut services: Vec<String> = members.iter().map(|m| m.service.clone()).collect();
    services.sort();
    services.dedup();
    let mut ordered: Vec<String> = Vec::new();
    let mut remaining = services.clone();
    while !remaining.is_empty() {
        let ready = remaining.iter().position(|service| {
            members
                .iter()
                .filter(|m| &m.service == service)
                .flat_map(|m| m.depends_on.iter())
                .all(|dep| ordered.contains(dep) || !services.contains(dep))
        });
        // A cycle in labels someone else wrote: keep going in name order.
        let next = remaining.remove(ready.unwrap_or(0));
        ordered.push(next);
    }
    ordered
}
