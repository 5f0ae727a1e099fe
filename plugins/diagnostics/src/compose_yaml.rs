//! Running containers → a Compose file the compose plugin's loader accepts. Pure: it
//! reads inspections and writes YAML by hand, every scalar double-quoted with JSON
//! escapes (valid YAML), and `$` doubled so nothing is interpolated by accident.

use std::collections::BTreeSet;

use bulkhead_plugin_sdk::docker::{ContainerDetails, ImageDetails};

/// The marker the host puts in place of a secret value.
const REDACTED: &str = "<redacted>";
/// Networks every container is on unless told otherwise; Compose makes its own.
const ENGINE_NETWORKS: &[&str] = &["bridge", "host", "none"];

/// One container to describe, with its image's defaults when the image still exists.
pub struct Source<'a> {
    pub details: &'a ContainerDetails,
    pub image: Option<&'a ImageDetails>,
}

/// The file, and what was left out or changed on the way, one line each.
pub struct Generated {
    pub yaml: String,
    pub notes: Vec<String>,
}

pub fn generate(project: Option<&str>, sources: &[Source<'_>]) -> Generated {
    let mut yaml = String::new();
    let mut notes = Vec::new();
    let mut networks = BTreeSet::new();
    let mut volumes = BTreeSet::new();
    let mut used_names = BTreeSet::new();
    if let Some(project) = project {
        yaml.push_str(&format!("name: {}\n", quote(project)));
    }
    yaml.push_str("services:\n");
    for source in sources {
        let details = source.details;
        let mut service = service_name(&details.name);
        while !used_names.insert(service.clone()) {
            service.push_str("-x");
        }
        yaml.push_str(&format!("  {}:\n", quote(&service)));
        let field = |yaml: &mut String, key: &str, value: &str| {
            yaml.push_str(&format!("    {key}: {}\n", quote(value)));
        };
        field(&mut yaml, "image", &details.image);
        if !details.entrypoint.is_empty() {
            yaml.push_str(&format!("    entrypoint: {}\n", flow(&details.entrypoint)));
        }
        if !details.cmd.is_empty() {
            yaml.push_str(&format!("    command: {}\n", flow(&details.cmd)));
        }
        environment(&mut yaml, source, &service, &mut notes);
        ports(&mut yaml, details);
        mounts(&mut yaml, details, &mut volumes, &service, &mut notes);
        let joined: Vec<&str> = details
            .networks
            .iter()
            .map(|n| n.network.as_str())
            .filter(|n| !ENGINE_NETWORKS.contains(n))
            .collect();
        if !joined.is_empty() {
            yaml.push_str("    networks:\n");
            for network in &joined {
                yaml.push_str(&format!("      - {}\n", quote(network)));
                networks.insert(network.to_string());
            }
        }
        if let Some(policy) = details.restart_policy.as_deref()
            && policy != "no"
            && !policy.is_empty()
        {
            field(&mut yaml, "restart", policy);
        }
        labels(&mut yaml, details);
        if let Some(user) = details.user.as_deref() {
            field(&mut yaml, "user", user);
        }
        if let Some(dir) = details.working_dir.as_deref() {
            field(&mut yaml, "working_dir", dir);
        }
        if details.read_only_rootfs {
            yaml.push_str("    read_only: true\n");
        }
        limits(&mut yaml, details);
        left_out(details, &service, &mut notes);
    }
    for (key, names) in [("networks", &networks), ("volumes", &volumes)] {
        if !names.is_empty() {
            yaml.push_str(&format!("{key}:\n"));
            for name in names {
                yaml.push_str(&format!("  {}: {{}}\n", quote(name)));
            }
        }
    }
    Generated { yaml, notes }
}

fn environment(yaml: &mut String, source: &Source<'_>, service: &str, notes: &mut Vec<String>) {
    let defaults: &[String] = source.image.map_or(&[], |image| &image.env);
    let entries: Vec<&String> = source
        .details
        .env
        .iter()
        .filter(|entry| !defaults.contains(entry))
        .collect();
    if entries.is_empty() {
        return;
    }
    yaml.push_str("    environment:\n");
    for entry in entries {
        let (key, value) = entry.split_once('=').unwrap_or((entry, ""));
        let value = if value == REDACTED {
            notes.push(format!(
                "{service}: `{key}` looked secret, so its value is `${{{key}}}`: pass it in `env` when deploying"
            ));
            format!("${{{key}}}")
        } else {
            value.replace('$', "$$")
        };
        yaml.push_str(&format!("      {}: {}\n", quote(key), quote(&value)));
    }
}

fn ports(yaml: &mut String, details: &ContainerDetails) {
    let mut seen = BTreeSet::new();
    let mut lines = Vec::new();
    for port in &details.ports {
        let Some(host_port) = port.host_port else {
            continue;
        };
        if !seen.insert((host_port, port.container_port, port.protocol.clone())) {
            continue; // the same binding on IPv6
        }
        let ip = match port.host_ip.as_deref() {
            None | Some("") | Some("0.0.0.0") | Some("::") => String::new(),
            Some(ip) if ip.contains(':') => format!("[{ip}]:"),
            Some(ip) => format!("{ip}:"),
        };
        lines.push(format!(
            "{ip}{host_port}:{}/{}",
            port.container_port, port.protocol
        ));
    }
    if !lines.is_empty() {
        yaml.push_str("    ports:\n");
        for line in lines {
            yaml.push_str(&format!("      - {}\n", quote(&line)));
        }
    }
}

fn mounts(
    yaml: &mut String,
    details: &ContainerDetails,
    volumes: &mut BTreeSet<String>,
    service: &str,
    notes: &mut Vec<String>,
) {
    let mut entries = Vec::new();
    let mut tmpfs = Vec::new();
    for mount in &details.mounts {
        let mode = if mount.read_write { "" } else { ":ro" };
        match mount.kind.as_str() {
            "volume" => match mount.name.as_deref().filter(|n| !is_anonymous(n)) {
                Some(name) => {
                    entries.push(format!("{name}:{}{mode}", mount.destination));
                    volumes.insert(name.to_string());
                }
                None => entries.push(mount.destination.clone()),
            },
            "bind" => entries.push(format!("{}:{}{mode}", mount.source, mount.destination)),
            "tmpfs" => tmpfs.push(mount.destination.clone()),
            other => notes.push(format!(
                "{service}: a `{other}` mount at {} was left out",
                mount.destination
            )),
        }
    }
    for (key, list) in [("volumes", entries), ("tmpfs", tmpfs)] {
        if !list.is_empty() {
            yaml.push_str(&format!("    {key}:\n"));
            for entry in list {
                yaml.push_str(&format!("      - {}\n", quote(&entry)));
            }
        }
    }
}

fn labels(yaml: &mut String, details: &ContainerDetails) {
    let kept: Vec<_> = details
        .labels
        .iter()
        .filter(|label| {
            !label.key.starts_with("com.docker.compose.")
                && !label.key.starts_with("io.bulkhead.")
                && label.value != REDACTED
        })
        .collect();
    if !kept.is_empty() {
        yaml.push_str("    labels:\n");
        for label in kept {
            yaml.push_str(&format!(
                "      {}: {}\n",
                quote(&label.key),
                quote(&label.value.replace('$', "$$"))
            ));
        }
    }
}

fn limits(yaml: &mut String, details: &ContainerDetails) {
    let mut lines = Vec::new();
    if let Some(memory) = details.memory_bytes {
        lines.push(format!("memory: {}", quote(&memory.to_string())));
    }
    if let Some(nano) = details.nano_cpus {
        lines.push(format!(
            "cpus: {}",
            quote(&format!("{}", nano as f64 / 1e9))
        ));
    }
    if let Some(pids) = details.pids_limit {
        lines.push(format!("pids: {pids}"));
    }
    if !lines.is_empty() {
        yaml.push_str("    deploy:\n      resources:\n        limits:\n");
        for line in lines {
            yaml.push_str(&format!("          {line}\n"));
        }
    }
}

/// What Bulkhead's compose plugin refuses, said instead of written.
fn left_out(details: &ContainerDetails, service: &str, notes: &mut Vec<String>) {
    if details.privileged {
        notes.push(format!(
            "{service}: `privileged` was left out: Bulkhead refuses privileged containers"
        ));
    }
    if !details.capabilities_added.is_empty() {
        notes.push(format!(
            "{service}: `cap_add` ({}) was left out: Bulkhead refuses added capabilities",
            details.capabilities_added.join(", ")
        ));
    }
    if !details.security_options.is_empty() {
        notes.push(format!(
            "{service}: `security_opt` was left out: Bulkhead sets its own"
        ));
    }
    if let Some(mode) = details.network_mode.as_deref()
        && (mode == "host" || mode.starts_with("container:"))
    {
        notes.push(format!(
            "{service}: `network_mode: {mode}` was left out: Bulkhead refuses shared namespaces"
        ));
    }
}

/// A Compose service name from a container name: lowercase `[a-z0-9][a-z0-9_.-]*`.
pub fn service_name(container: &str) -> String {
    let mut name: String = container
        .trim_start_matches('/')
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '_' | '.' | '-') => c,
            _ => '-',
        })
        .collect();
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        name.insert(0, 's');
    }
    name
}

/// A volume the engine named by a 64-digit hex id: an anonymous one.
fn is_anonymous(name: &str) -> bool {
    name.len() == 64 && name.chars().all(|c| c.is_ascii_hexdigit())
}

/// A YAML double-quoted scalar: JSON string syntax is a subset of it.
fn quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into())
}

fn flow(items: &[String]) -> String {
    let quoted: Vec<String> = items
        .iter()
        .map(|item| quote(&item.replace('$', "$$")))
        .collect();
    format!("[{}]", quoted.join(", "))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::tests::{bind, details};
    use bulkhead_plugin_sdk::docker::{KeyValue, NetworkAttachment, PortBinding};

    fn load(
        yaml: &str,
    ) -> Result<bulkhead_compose::spec::Project, bulkhead_compose::spec::SpecError> {
        let env = BTreeMap::from([("API_TOKEN".to_string(), "x".to_string())]);
        bulkhead_compose::spec::load(&bulkhead_compose::spec::LoadRequest {
            yaml,
            project_name: Some("gen"),
            project_dir: None,
            env: &env,
            profiles: &[],
        })
    }

    #[test]
    fn the_file_loads_and_keeps_no_secret() {
        let mut web = details("/Web_App");
        web.env = vec![
            "PATH=/usr/bin".into(),
            "MODE=a$b".into(),
            "API_TOKEN=<redacted>".into(),
        ];
        web.cmd = vec!["sh".into(), "-c".into(), "echo \"$HOME\"".into()];
        web.ports = vec![
            PortBinding {
                container_port: 80,
                protocol: "tcp".into(),
                host_ip: Some("127.0.0.1".into()),
                host_port: Some(8080),
            },
            PortBinding {
                container_port: 80,
                protocol: "tcp".into(),
                host_ip: Some("::".into()),
                host_port: Some(8081),
            },
        ];
        web.mounts = vec![bind("/srv/data", "/data")];
        web.mounts[0].kind = "volume".into();
        web.mounts[0].name = Some("data".into());
        web.networks = vec![
            NetworkAttachment {
                network: "bridge".into(),
                ip_address: None,
                gateway: None,
                mac_address: None,
            },
            NetworkAttachment {
                network: "backend".into(),
                ip_address: None,
                gateway: None,
                mac_address: None,
            },
        ];
        web.labels = vec![
            KeyValue {
                key: "team".into(),
                value: "diag".into(),
            },
            KeyValue {
                key: "com.docker.compose.project".into(),
                value: "old".into(),
            },
        ];
        web.memory_bytes = Some(64 << 20);
        web.nano_cpus = Some(500_000_000);
        web.pids_limit = Some(64);
        web.privileged = true;
        web.restart_policy = Some("unless-stopped".into());
        let image = crate::tests::image(&["PATH=/usr/bin"]);
        let generated = generate(
            Some("gen"),
            &[Source {
                details: &web,
                image: Some(&image),
            }],
        );
        assert!(!generated.yaml.contains("PATH"), "{}", generated.yaml);
        assert!(
            generated.yaml.contains("\"${API_TOKEN}\""),
            "{}",
            generated.yaml
        );
        assert!(!generated.yaml.contains("privileged"), "{}", generated.yaml);
        assert!(
            !generated.yaml.contains("com.docker.compose"),
            "{}",
            generated.yaml
        );
        assert!(generated.notes.iter().any(|n| n.contains("privileged")));
        let project =
            load(&generated.yaml).unwrap_or_else(|err| panic!("{err:?}\n{}", generated.yaml));
        assert!(format!("{project:?}").contains("web_app"));
    }

    #[test]
    fn service_names_follow_compose_rules() {
        assert_eq!(service_name("/My App"), "my-app");
        assert_eq!(service_name("_x"), "s_x");
    }
}
