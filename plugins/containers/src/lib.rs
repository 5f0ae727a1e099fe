//! Bulkhead's `containers` plugin: the `docker_*` tools for containers, images, networks,
//! volumes and the system, built on the guest SDK's typed tools.
//!
//! Each tool is a type implementing [`TypedTool`](bulkhead_plugin_sdk::TypedTool): its
//! arguments and output are Rust types whose JSON Schemas are derived, and the one
//! registration list below yields both the manifest and the dispatch.

use bulkhead_plugin_sdk::docker::DockerError;
use bulkhead_plugin_sdk::{ErrorCode, ToolError};

mod containers;
mod images;
mod networks;
mod render;
mod system;
mod volumes;

use containers::{
    changes, control, create, exec, files, inspect, lifecycle, list, logs, prune, run, stats, top,
    wait,
};
use images::{build, remove, transfer};

bulkhead_plugin_sdk::export_tools!(Containers {
    name: "containers",
    description: "Docker containers, images, networks, volumes and system.",
    tools: [
        list::ListContainers,
        inspect::InspectContainer,
        logs::ContainerLogs,
        stats::ContainerStatsTool,
        top::ContainerTop,
        changes::ContainerChanges,
        create::CreateContainer,
        run::RunContainer,
        lifecycle::StartContainer,
        lifecycle::StopContainer,
        control::RestartContainer,
        control::PauseContainer,
        control::UnpauseContainer,
        control::KillContainer,
        control::RenameContainer,
        wait::WaitContainer,
        lifecycle::RemoveContainer,
        prune::PruneContainers,
        exec::Exec,
        files::CopyToContainer,
        files::CopyFromContainer,
        images::list::ListImages,
        images::inspect::InspectImage,
        images::inspect::ImageHistory,
        transfer::PullImage,
        build::BuildImage,
        transfer::PushImage,
        transfer::TagImage,
        remove::RemoveImage,
        remove::PruneImages,
        networks::ListNetworks,
        networks::InspectNetwork,
        networks::CreateNetwork,
        networks::ConnectNetwork,
        networks::DisconnectNetwork,
        networks::RemoveNetwork,
        networks::PruneNetworks,
        volumes::ListVolumes,
        volumes::InspectVolume,
        volumes::CreateVolume,
        volumes::RemoveVolume,
        volumes::PruneVolumes,
        system::SystemInfoTool,
        system::Version,
        system::SystemDf,
        system::Events,
        system::PruneSystem,
    ],
});

/// The SDK's mapping, with this plugin's own list tool named in the not-found hint.
pub(crate) fn docker_error(err: DockerError) -> ToolError {
    let mut mapped = ToolError::from(err);
    if mapped.code == ErrorCode::NotFound {
        mapped.hint = Some(
            "check the name or id: the docker_list_* tools list what exists (containers: \
             all: true includes stopped ones)"
                .to_owned(),
        );
    }
    mapped
}

#[cfg(test)]
mod tests {
    use bulkhead_plugin_sdk::Plugin;
    use bulkhead_plugin_sdk::testing::check_manifest;

    use super::*;

    #[test]
    fn manifest_is_clean() {
        let manifest = Containers::manifest();
        assert_eq!(check_manifest(&manifest), Vec::<String>::new());
        assert_eq!(manifest.name, "containers");
        for tool in &manifest.tools {
            assert!(tool.name.starts_with("docker_"), "{}", tool.name);
            let schema: serde_json::Value =
                serde_json::from_str(tool.output_schema.as_deref().unwrap()).unwrap();
            assert_eq!(
                schema["type"], "object",
                "{} output is an object",
                tool.name
            );
            jsonschema::validator_for(&serde_json::from_str(&tool.input_schema).unwrap())
                .unwrap_or_else(|err| panic!("{}: input schema compiles: {err}", tool.name));
            jsonschema::validator_for(&schema)
                .unwrap_or_else(|err| panic!("{}: output schema compiles: {err}", tool.name));
        }
    }

    #[test]
    fn unknown_tools_are_refused() {
        let err = Containers::call("docker_nope", serde_json::json!({})).unwrap_err();
        assert_eq!(err.code, ErrorCode::PluginFault);
    }

    /// The README's tool table is the user's view of this list: every tool has its row,
    /// with exactly the capabilities it declares.
    #[test]
    fn readme_lists_every_tool_with_its_capabilities() {
        bulkhead_plugin_sdk::testing::assert_readme_table(
            include_str!("../../../README.md"),
            TOOLS,
            "docker_",
        );
    }
}
