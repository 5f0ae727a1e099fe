//! Bulkhead's `sandbox` plugin: run code in hardened, throw-away containers.
//!
//! A sandbox is a container the host creates with every capability dropped, a read-only
//! root filesystem, `no-new-privileges`, a non-root user, no network, a size-capped
//! tmpfs `/tmp` and a workspace volume at `/workspace`, within the operator's ceilings
//! (by default 1 GiB, 1 CPU, 512 processes). The host runs this plugin under
//! `scope = owned` always: it reaches only what its principal created, and removes a
//! sandbox nobody has used for its idle TTL.
//!
//! State lives in Docker, never in the plugin: a sandbox is found by its labels.

mod files;
mod lifecycle;
mod run;
mod sandbox;

bulkhead_plugin_sdk::export_tools!(Sandbox {
    name: "sandbox",
    description: "Run code in hardened, throw-away containers owned by this server's principal.",
    tools: [
        lifecycle::CreateSandbox,
        run::ExecInSandbox,
        run::RunScript,
        run::Install,
        files::WriteFile,
        files::ReadFile,
        lifecycle::ListSandboxes,
        lifecycle::SandboxInfo,
        lifecycle::DestroySandbox,
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
            "sandbox_",
        );
    }
}
