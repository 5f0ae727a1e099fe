//! Bulkhead's `compose` plugin: Compose stacks parsed inside the sandbox and deployed
//! only through the host's capability-checked primitives, so every container of a
//! stack passes the same policy as any other create.
//!
//! State lives in Docker: a project is the set of objects carrying its
//! `com.docker.compose.project` label, the same labels and names `docker compose` uses,
//! so stacks deployed here and there are one and the same to both tools.

mod apply;
mod convert;
mod labels;
mod observed;
mod plan;
mod source;
pub mod spec;
mod tools;

bulkhead_plugin_sdk::export_tools!(Compose {
    name: "compose",
    description: "Deploy and manage Compose stacks through the host's capability-checked primitives.",
    tools: [
        tools::deploy::ComposeDeploy,
        tools::deploy::ComposePlan,
        tools::ps::ComposePs,
        tools::logs::ComposeLogs,
        tools::lifecycle::ComposeStart,
        tools::lifecycle::ComposeStop,
        tools::lifecycle::ComposeRestart,
        tools::down::ComposeDown,
        tools::list::ComposeList,
    ],
});

#[cfg(test)]
mod tests {
    use super::*;

    /// The README's tool table is the user's view of this list: every tool has its row,
    /// with exactly the capabilities it declares.
    #[test]
    fn readme_lists_every_tool_with_its_capabilities() {
        bulkhead_plugin_sdk::testing::assert_readme_table(
            include_str!("../../../README.md"),
            TOOLS,
            "compose_",
        );
    }
}
