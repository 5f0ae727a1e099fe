//! The Docker capability interfaces a plugin may import, one module per grant, and the
//! record types they share. Calling a function of a module adds that interface to the
//! component's imports, which is the plugin's permission request.
//!
//! Every function returns `Result<_, DockerError>`; `?` in a tool turns the error into a
//! [`ToolError`](crate::ToolError) with the matching code and a hint. Built natively (a
//! plugin's unit tests), each function answers with the fake the test installed
//! ([`crate::fake`]).

/// Declares a capability interface: in a component, the import itself; built natively
/// (unit tests), a module with the same types and functions of the same signatures
/// (checked at compile time against the import's) that answer with the test's fakes
/// (see [`crate::fake`]).
macro_rules! capability {
    ($(#[$doc:meta])* $module:ident { $( fn $function:ident ( $($argument:ident : $type:ty),* ) -> $answer:ty; )* }) => {
        $(#[$doc])*
        #[cfg(target_arch = "wasm32")]
        pub use crate::bindings::bulkhead::plugin::$module;

        $(#[$doc])*
        #[cfg(not(target_arch = "wasm32"))]
        pub mod $module {
            pub use crate::bindings::bulkhead::plugin::$module::*;
            $(
                #[doc = concat!("Natively: the fake installed for `", stringify!($module), "::", stringify!($function), "`.")]
                pub fn $function($($argument: $type),*) -> $answer {
                    const _SAME_AS_THE_IMPORT: fn($($type),*) -> $answer =
                        crate::bindings::bulkhead::plugin::$module::$function;
                    crate::fake::call(
                        concat!(stringify!($module), "::", stringify!($function)),
                        &($($argument,)*),
                    )
                }
            )*
        }
    };
}

capability! {
    /// Read-only access to containers: list, inspect, logs, stats, top, changes (safety
    /// tier: read).
    containers_read {
        fn list_containers(filter: &ListFilter, page: &PageRequest) -> Result<ContainerPage, DockerError>;
        fn inspect_container(target: &str) -> Result<ContainerDetails, DockerError>;
        fn container_logs(target: &str, options: LogOptions) -> Result<LogChunk, DockerError>;
        fn container_stats(target: &str) -> Result<ResourceUsage, DockerError>;
        fn container_top(target: &str, max_rows: u32) -> Result<ProcessList, DockerError>;
        fn container_changes(target: &str, page: &PageRequest) -> Result<ChangePage, DockerError>;
    }
}

capability! {
    /// Creating containers and changing their run state: create, start, stop, restart,
    /// pause, unpause, kill, rename, wait (safety tier: moderate).
    containers_manage {
        fn create_container(spec: &ContainerSpec) -> Result<CreatedContainer, DockerError>;
        fn start_container(target: &str) -> Result<(), DockerError>;
        fn stop_container(target: &str, timeout_secs: Option<u32>) -> Result<(), DockerError>;
        fn restart_container(target: &str, timeout_secs: Option<u32>) -> Result<(), DockerError>;
        fn pause_container(target: &str) -> Result<(), DockerError>;
        fn unpause_container(target: &str) -> Result<(), DockerError>;
        fn kill_container(target: &str, signal: Option<&str>) -> Result<(), DockerError>;
        fn rename_container(target: &str, new_name: &str) -> Result<(), DockerError>;
        fn wait_container(target: &str, timeout_secs: u32) -> Result<WaitResult, DockerError>;
    }
}

capability! {
    /// Deleting containers: remove, prune (safety tier: destructive).
    containers_remove {
        fn remove_container(target: &str, force: bool, volumes: bool) -> Result<(), DockerError>;
        fn prune_containers(filter: &PruneFilter) -> Result<PruneReport, DockerError>;
    }
}

capability! {
    /// Running commands in a running container, killed at a timeout (safety tier:
    /// moderate).
    containers_exec {
        fn exec(target: &str, request: &ExecRequest) -> Result<ExecResult, DockerError>;
    }
}

capability! {
    /// Copying files into and out of a container, size-capped (safety tier: moderate).
    containers_files {
        fn copy_to(target: &str, path: &str, files: &[FileEntry]) -> Result<CopySummary, DockerError>;
        fn copy_from(target: &str, path: &str, max_bytes: u32) -> Result<ArchiveContents, DockerError>;
    }
}

capability! {
    /// Reading local images: list, inspect, history (safety tier: read).
    images_read {
        fn list_images(filter: &ImageFilter, page: &PageRequest) -> Result<ImagePage, DockerError>;
        fn inspect_image(image: &str) -> Result<ImageDetails, DockerError>;
        fn image_history(image: &str, limit: u32) -> Result<ImageLayers, DockerError>;
    }
}

capability! {
    /// Pulling images from a registry (safety tier: moderate).
    images_pull {
        fn pull_image(reference: &str) -> Result<PullResult, DockerError>;
    }
}

capability! {
    /// Building images from a Dockerfile and a context (safety tier: moderate).
    images_build {
        fn build_image(spec: &BuildSpec) -> Result<BuildResult, DockerError>;
    }
}

capability! {
    /// Pushing images to a registry and tagging them (safety tier: moderate).
    images_push {
        fn push_image(reference: &str) -> Result<PushResult, DockerError>;
        fn tag_image(source: &str, target: &str) -> Result<(), DockerError>;
    }
}

capability! {
    /// Deleting images: remove, prune (safety tier: destructive).
    images_remove {
        fn remove_image(image: &str, force: bool) -> Result<RemovedImage, DockerError>;
        fn prune_images(all: bool) -> Result<PrunedImages, DockerError>;
    }
}

/// The records of the image interfaces.
pub use crate::bindings::bulkhead::plugin::image_types;

capability! {
    /// Listing and inspecting networks (safety tier: read).
    networks_read {
        fn list_networks(filter: &NetworkFilter, page: &PageRequest) -> Result<NetworkPage, DockerError>;
        fn inspect_network(network: &str) -> Result<NetworkDetails, DockerError>;
    }
}

capability! {
    /// Creating networks, connecting and disconnecting containers (safety tier:
    /// moderate).
    networks_manage {
        fn create_network(spec: &NetworkSpec) -> Result<CreatedNetwork, DockerError>;
        fn connect_network(network: &str, container: &str, options: &ConnectOptions) -> Result<(), DockerError>;
        fn disconnect_network(network: &str, container: &str, force: bool) -> Result<(), DockerError>;
    }
}

capability! {
    /// Removing and pruning networks (safety tier: destructive).
    networks_remove {
        fn remove_network(network: &str) -> Result<(), DockerError>;
        fn prune_networks(labels: &[String], until: Option<&str>) -> Result<Vec<String>, DockerError>;
    }
}

/// The records of the network interfaces.
pub use crate::bindings::bulkhead::plugin::network_types;

capability! {
    /// Listing and inspecting volumes (safety tier: read).
    volumes_read {
        fn list_volumes(filter: &VolumeFilter, page: &PageRequest) -> Result<VolumePage, DockerError>;
        fn inspect_volume(name: &str) -> Result<VolumeDetails, DockerError>;
    }
}

capability! {
    /// Creating volumes (safety tier: moderate).
    volumes_manage {
        fn create_volume(spec: &VolumeSpec) -> Result<VolumeDetails, DockerError>;
    }
}

capability! {
    /// Removing and pruning volumes (safety tier: destructive).
    volumes_remove {
        fn remove_volume(name: &str, force: bool) -> Result<(), DockerError>;
        fn prune_volumes(labels: &[String]) -> Result<VolumePruneReport, DockerError>;
    }
}

/// The records of the volume interfaces.
pub use crate::bindings::bulkhead::plugin::volume_types;

capability! {
    /// Engine info, version, disk use and bounded events (safety tier: read).
    system_read {
        fn info() -> Result<SystemInfo, DockerError>;
        fn version() -> Result<VersionInfo, DockerError>;
        fn df() -> Result<DiskUsage, DockerError>;
        fn events(request: &EventsRequest) -> Result<EventBatch, DockerError>;
    }
}

capability! {
    /// Pruning everything unused (safety tier: destructive).
    system_prune {
        fn prune_system(request: &SystemPruneRequest) -> Result<SystemPruneReport, DockerError>;
    }
}

/// The records of the system interfaces.
pub use crate::bindings::bulkhead::plugin::system_types;

/// The records shared by the capability interfaces.
pub use crate::bindings::bulkhead::plugin::types;

pub use image_types::{
    BuildFile, BuildResult, BuildSpec, HistoryEntry, ImageDetails, ImageFilter, ImageLayers,
    ImagePage, ImageSummary, PrunedImages, PullResult, PushResult, RemovedImage,
};
pub use types::*;
