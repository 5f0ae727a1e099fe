//! The Docker capability interfaces a plugin may import, one module per grant, and the
//! record types they share. Calling a function of a module adds that interface to the
//! component's imports, which is the plugin's permission request.
//!
//! Every function returns `Result<_, DockerError>`; `?` in a tool turns the error into a
//! [`ToolError`](crate::ToolError) with the matching code and a hint.

/// Read-only access to containers: list, inspect, logs, stats, top, changes (safety
/// tier: read).
pub use crate::bindings::bulkhead::plugin::containers_read;

/// Creating containers and changing their run state: create, start, stop, restart,
/// pause, unpause, kill, rename, wait (safety tier: moderate).
pub use crate::bindings::bulkhead::plugin::containers_manage;

/// Deleting containers: remove, prune (safety tier: destructive).
pub use crate::bindings::bulkhead::plugin::containers_remove;

/// Running commands in a running container, killed at a timeout (safety tier: moderate).
pub use crate::bindings::bulkhead::plugin::containers_exec;

/// Copying files into and out of a container, size-capped (safety tier: moderate).
pub use crate::bindings::bulkhead::plugin::containers_files;
/// Reading local images: list, inspect, history (safety tier: read).
pub use crate::bindings::bulkhead::plugin::images_read;

/// Pulling images from a registry (safety tier: moderate).
pub use crate::bindings::bulkhead::plugin::images_pull;

/// Building images from a Dockerfile and a context (safety tier: moderate).
pub use crate::bindings::bulkhead::plugin::images_build;

/// Pushing images to a registry and tagging them (safety tier: moderate).
pub use crate::bindings::bulkhead::plugin::images_push;

/// Deleting images: remove, prune (safety tier: destructive).
pub use crate::bindings::bulkhead::plugin::images_remove;

/// The records of the image interfaces.
pub use crate::bindings::bulkhead::plugin::image_types;
/// Listing and inspecting networks (safety tier: read).
pub use crate::bindings::bulkhead::plugin::networks_read;

/// Creating networks, connecting and disconnecting containers (safety tier: moderate).
pub use crate::bindings::bulkhead::plugin::networks_manage;

/// Removing and pruning networks (safety tier: destructive).
pub use crate::bindings::bulkhead::plugin::networks_remove;

/// The records of the network interfaces.
pub use crate::bindings::bulkhead::plugin::network_types;

/// Listing and inspecting volumes (safety tier: read).
pub use crate::bindings::bulkhead::plugin::volumes_read;

/// Creating volumes (safety tier: moderate).
pub use crate::bindings::bulkhead::plugin::volumes_manage;

/// Removing and pruning volumes (safety tier: destructive).
pub use crate::bindings::bulkhead::plugin::volumes_remove;

/// The records of the volume interfaces.
pub use crate::bindings::bulkhead::plugin::volume_types;

/// Engine info, version, disk use and bounded events (safety tier: read).
pub use crate::bindings::bulkhead::plugin::system_read;

/// Pruning everything unused (safety tier: destructive).
pub use crate::bindings::bulkhead::plugin::system_prune;

/// The records of the system interfaces.
pub use crate::bindings::bulkhead::plugin::system_types;

/// The records shared by the capability interfaces.
pub use crate::bindings::bulkhead::plugin::types;

pub use image_types::{
    BuildFile, BuildResult, BuildSpec, HistoryEntry, ImageDetails, ImageFilter, ImageLayers,
    ImagePage, ImageSummary, PrunedImages, PullResult, PushResult, RemovedImage,
};
pub use types::*;
