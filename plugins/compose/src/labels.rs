//! The `com.docker.compose.*` labels and names `docker compose` gives a project's
//! objects, so stacks deployed here and stacks deployed by the real tool are one and the
//! same to both.

use bulkhead_plugin_sdk::docker::KeyValue;

pub const PROJECT: &str = "com.docker.compose.project";
pub const SERVICE: &str = "com.docker.compose.service";
pub const NUMBER: &str = "com.docker.compose.container-number";
pub const ONEOFF: &str = "com.docker.compose.oneoff";
pub const CONFIG_HASH: &str = "com.docker.compose.config-hash";
pub const VERSION: &str = "com.docker.compose.version";
pub const WORKING_DIR: &str = "com.docker.compose.project.working_dir";
pub const CONFIG_FILES: &str = "com.docker.compose.project.config_files";
pub const DEPENDS_ON: &str = "com.docker.compose.depends_on";
pub const NETWORK: &str = "com.docker.compose.network";
pub const VOLUME: &str = "com.docker.compose.volume";

/// What this plugin writes as the creating tool's version.
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// A container's name: `project-service-N`, as `docker compose` v2 names it.
pub fn container_name(project: &str, service: &str, number: u32) -> String {
    format!("{project}-{service}-{number}")
}

/// The image a service with `build` and no `image` is given: `project-service`.
pub fn built_image(project: &str, service: &str) -> String {
    format!("{project}-{service}")
}

/// The value of `key` among `labels`.
pub fn get<'a>(labels: &'a [KeyValue], key: &str) -> Option<&'a str> {
    labels
        .iter()
        .find(|kv| kv.key == key)
        .map(|kv| kv.value.as_str())
}

/// Builds a label list from pairs.
pub fn list<'a>(pairs: impl IntoIterator<Item = (&'a str, String)>) -> Vec<KeyValue> {
    pairs
        .into_iter()
        .map(|(key, value)| KeyValue {
            key: key.to_string(),
            value,
        })
        .collect()
}

/// A label filter `key=value`.
pub fn filter(key: &str, value: &str) -> String {
    format!("{key}={value}")
}
