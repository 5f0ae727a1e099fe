//! Bulkhead's `containers` plugin: the `docker_*` tools for containers (list, inspect,
//! logs, create, start, stop, remove), built on the guest SDK.
//!
//! Each tool lives in a module with its definition, its argument mapping, its output
//! rendering (all pure, tested natively) and a thin `run` that makes the Docker call.

use bulkhead_plugin_sdk::docker::DockerError;
use bulkhead_plugin_sdk::{
    ErrorCode, Manifest, Plugin, ToolError, ToolOutput, Value, export_plugin,
};

mod create;
mod inspect;
mod lifecycle;
mod list;
mod logs;
mod redact;
mod render;

/// The plugin: registered with the host through [`export_plugin!`].
pub struct Containers;

impl Plugin for Containers {
    fn manifest() -> Manifest {
        Manifest {
            name: "containers".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Docker containers: list, inspect, logs, create, start, stop, remove."
                .into(),
            tools: vec![
                list::tool(),
                inspect::tool(),
                logs::tool(),
                create::tool(),
                lifecycle::start_tool(),
                lifecycle::stop_tool(),
                lifecycle::remove_tool(),
            ],
        }
    }

    fn call(name: &str, args: Value) -> Result<ToolOutput, ToolError> {
        match name {
            list::NAME => list::run(args),
            inspect::NAME => inspect::run(args),
            logs::NAME => logs::run(args),
            create::NAME => create::run(args),
            lifecycle::START => lifecycle::run_start(args),
            lifecycle::STOP => lifecycle::run_stop(args),
            lifecycle::REMOVE => lifecycle::run_remove(args),
            other => Err(ToolError::unknown_tool(other)),
        }
    }
}

export_plugin!(Containers);

/// The SDK's mapping, with this plugin's own list tool named in the not-found hint.
fn docker_error(err: DockerError) -> ToolError {
    let mut mapped = ToolError::from(err);
    if mapped.code == ErrorCode::NotFound {
        mapped.hint = Some(
            "check the name or id: docker_list_containers with all: true lists every container, \
             stopped ones included"
                .to_owned(),
        );
    }
    mapped
}

#[cfg(test)]
mod tests {
    use bulkhead_plugin_sdk::testing::check_manifest;
    use bulkhead_plugin_sdk::{Capability, Tool, json};

    use super::*;

    /// Fails the test unless `value` is valid against `tool`'s output schema.
    pub(crate) fn assert_matches_schema(tool: &Tool, value: &Value) {
        let schema: Value = serde_json::from_str(
            tool.output_schema
                .as_deref()
                .expect("tool has an output schema"),
        )
        .unwrap();
        let validator = jsonschema::validator_for(&schema).expect("output schema compiles");
        let errors: Vec<String> = validator
            .iter_errors(value)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{} output does not match its schema: {errors:?}\n{value:#}",
            tool.name
        );
    }

    fn input_validator(tool: &Tool) -> jsonschema::Validator {
        let schema: Value = serde_json::from_str(&tool.input_schema).unwrap();
        jsonschema::validator_for(&schema).expect("input schema compiles")
    }

    fn tool(name: &str) -> Tool {
        Containers::manifest()
            .tools
            .into_iter()
            .find(|t| t.name == name)
            .unwrap()
    }

    #[test]
    fn manifest_is_clean() {
        let manifest = Containers::manifest();
        assert_eq!(check_manifest(&manifest), Vec::<String>::new());
        assert_eq!(manifest.name, "containers");
        let names: Vec<&str> = manifest.tools.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "docker_list_containers",
                "docker_inspect_container",
                "docker_container_logs",
                "docker_create_container",
                "docker_start_container",
                "docker_stop_container",
                "docker_remove_container",
            ]
        );
        for tool in &manifest.tools {
            assert!(
                tool.output_schema.is_some(),
                "{} declares an output schema",
                tool.name
            );
            assert!(!tool.open_world, "{} stays on the local engine", tool.name);
            input_validator(tool);
        }
    }

    #[test]
    fn capabilities_and_hints() {
        let expected = [
            ("docker_list_containers", Capability::ContainersRead, true),
            ("docker_inspect_container", Capability::ContainersRead, true),
            ("docker_container_logs", Capability::ContainersRead, true),
            (
                "docker_create_container",
                Capability::ContainersManage,
                false,
            ),
            ("docker_start_container", Capability::ContainersManage, true),
            ("docker_stop_container", Capability::ContainersManage, true),
            (
                "docker_remove_container",
                Capability::ContainersRemove,
                false,
            ),
        ];
        for (name, capability, idempotent) in expected {
            let tool = tool(name);
            assert_eq!(tool.capabilities, vec![capability], "{name}");
            assert_eq!(tool.idempotent, idempotent, "{name}");
        }
    }

    #[test]
    fn input_schemas_accept_and_refuse_what_the_code_does() {
        let cases = [
            ("docker_list_containers", json!({}), true),
            ("docker_list_containers", json!({"limit": 201}), false),
            (
                "docker_list_containers",
                json!({"status": ["sleeping"]}),
                false,
            ),
            ("docker_list_containers", json!({"bogus": 1}), false),
            (
                "docker_inspect_container",
                json!({"container": "web"}),
                true,
            ),
            ("docker_inspect_container", json!({}), false),
            (
                "docker_container_logs",
                json!({"container": "web", "stream": "stderr", "tail": 10000}),
                true,
            ),
            (
                "docker_container_logs",
                json!({"container": "web", "max_bytes": 100}),
                false,
            ),
            (
                "docker_create_container",
                json!({"image": "busybox", "ports": [{"container_port": 80}], "cpus": 0.5}),
                true,
            ),
            (
                "docker_create_container",
                json!({"image": "busybox", "cpus": 0}),
                false,
            ),
            (
                "docker_create_container",
                json!({"image": "busybox", "memory_bytes": 1024}),
                false,
            ),
            (
                "docker_create_container",
                json!({"image": "busybox", "labels": {"io.bulkhead.plugin": "x"}}),
                false,
            ),
            (
                "docker_create_container",
                json!({"image": "busybox", "privileged": true}),
                false,
            ),
            (
                "docker_create_container",
                json!({"image": "busybox", "ports": [{"host_port": 80}]}),
                false,
            ),
            (
                "docker_stop_container",
                json!({"container": "web", "timeout": 121}),
                false,
            ),
            (
                "docker_remove_container",
                json!({"container": "web", "force": true, "volumes": true}),
                true,
            ),
        ];
        for (name, args, valid) in cases {
            assert_eq!(
                input_validator(&tool(name)).is_valid(&args),
                valid,
                "{name} {args}"
            );
        }
    }

    #[test]
    fn schema_valid_arguments_are_accepted_by_the_code() {
        let create: Value = json!({
            "image": "nginx", "name": "web", "command": ["a"], "entrypoint": ["b"], "env": {"A": "1"},
            "labels": {"k": "v"}, "working_dir": "/", "user": "1", "tty": true,
            "ports": [{"container_port": 80, "host_port": 81, "host_ip": "127.0.0.1", "protocol": "udp"}],
            "network": "none", "memory_bytes": 6291456, "cpus": 2, "pids_limit": 5, "read_only": true,
            "restart_policy": "always"
        });
        assert!(input_validator(&tool("docker_create_container")).is_valid(&create));
        let spec = create::spec(bulkhead_plugin_sdk::parse_args(create).unwrap()).unwrap();
        assert_eq!(spec.nano_cpus, Some(2_000_000_000));
    }

    #[test]
    fn unknown_tools_are_refused() {
        let err = Containers::call("docker_nope", json!({})).unwrap_err();
        assert_eq!(err.code, ErrorCode::PluginFault);
    }

    #[test]
    fn not_found_names_the_list_tool() {
        let err = docker_error(DockerError::NotFound("no such container: web".into()));
        assert_eq!(err.code, ErrorCode::NotFound);
        assert!(err.hint.unwrap().contains("docker_list_containers"));
        let err = docker_error(DockerError::Unavailable("refused".into()));
        assert_eq!(
            err.hint.as_deref(),
            Some("is the Docker daemon running? DOCKER_HOST?")
        );
    }
}
