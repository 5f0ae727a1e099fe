//! Security findings for one container, each numbered by its CIS Docker Benchmark item
//! (v1.6), from the container's inspection alone: pure, so every rule is unit-tested.

use bulkhead_plugin_sdk::docker::ContainerDetails;

/// One finding: the CIS item, how much it matters, what was seen, how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub item: &'static str,
    pub severity: &'static str,
    pub evidence: String,
    pub fix: &'static str,
}

/// Host paths that must not be mounted into a container (CIS 5.5).
const SENSITIVE_PATHS: &[&str] = &[
    "/",
    "/boot",
    "/dev",
    "/etc",
    "/lib",
    "/proc",
    "/sys",
    "/usr",
    "/root",
    "/var/lib/docker",
];
const DOCKER_SOCKETS: &[&str] = &["/var/run/docker.sock", "/run/docker.sock"];

pub fn findings(details: &ContainerDetails) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut add = |item, severity, evidence: String, fix| {
        out.push(Finding {
            item,
            severity,
            evidence,
            fix,
        })
    };
    let user = details.user.as_deref().unwrap_or("").trim();
    if user.is_empty()
        || user == "root"
        || user == "0"
        || user.starts_with("0:")
        || user.starts_with("root:")
    {
        add(
            "4.1",
            "medium",
            format!(
                "runs as root (user `{}`)",
                if user.is_empty() { "unset" } else { user }
            ),
            "set a non-root `user` (e.g. 1000:1000) in the image or at create",
        );
    }
    if details.state.health.is_none() {
        add(
            "4.6",
            "low",
            "no health check".into(),
            "add a HEALTHCHECK to the image or a healthcheck at create",
        );
    }
    if !details.capabilities_added.is_empty() {
        add(
            "5.3",
            "high",
            format!(
                "capabilities added: {}",
                details.capabilities_added.join(", ")
            ),
            "drop the added capabilities; add back only what the process needs",
        );
    } else if !details.capabilities_dropped {
        add(
            "5.3",
            "low",
            "the default capability set is kept (no --cap-drop ALL)".into(),
            "drop all capabilities and add back only what is needed",
        );
    }
    if details.privileged {
        add(
            "5.4",
            "critical",
            "runs privileged".into(),
            "never run privileged; grant single capabilities instead",
        );
    }
    for mount in details.mounts.iter().filter(|m| m.kind == "bind") {
        let source = mount.source.trim_end_matches('/');
        let source = if source.is_empty() { "/" } else { source };
        if DOCKER_SOCKETS.contains(&source) {
            add(
                "5.31",
                "critical",
                format!("the Docker socket is mounted at {}", mount.destination),
                "never mount the Docker socket: it is root on the host",
            );
        } else if SENSITIVE_PATHS.contains(&source) {
            add(
                "5.5",
                "high",
                format!(
                    "host path {source} is mounted at {} ({})",
                    mount.destination,
                    if mount.read_write {
                        "read-write"
                    } else {
                        "read-only"
                    }
                ),
                "mount only application directories, read-only where possible",
            );
        }
    }
    for port in &details.ports {
        let Some(host_port) = port.host_port else {
            continue;
        };
        if host_port < 1024 {
            add(
                "5.7",
                "medium",
                format!(
                    "privileged host port {host_port} maps to {}/{}",
                    port.container_port, port.protocol
                ),
                "publish on a host port of 1024 or above",
            );
        }
        let ip = port.host_ip.as_deref().unwrap_or("");
        if ip.is_empty() || ip == "0.0.0.0" || ip == "::" {
            add(
                "5.13",
                "medium",
                format!("port {host_port} is published on all interfaces"),
                "bind published ports to one interface, e.g. 127.0.0.1",
            );
        }
    }
    if details.network_mode.as_deref() == Some("host") {
        add(
            "5.9",
            "high",
            "shares the host's network namespace".into(),
            "use a bridge network and publish only the ports needed",
        );
    }
    if details.memory_bytes.is_none() {
        add(
            "5.10",
            "medium",
            "no memory limit".into(),
            "set a memory limit (--memory)",
        );
    }
    if details.nano_cpus.is_none() {
        add(
            "5.11",
            "low",
            "no CPU limit".into(),
            "set a CPU limit (--cpus)",
        );
    }
    if !details.read_only_rootfs {
        add(
            "5.12",
            "low",
            "the root filesystem is writable".into(),
            "run with --read-only and a tmpfs or volume for writable paths",
        );
    }
    if let Some(policy) = details.restart_policy.as_deref()
        && (policy == "always" || policy == "unless-stopped")
    {
        add(
            "5.14",
            "low",
            format!("restart policy `{policy}` restarts without bound"),
            "use on-failure with a maximum retry count of 5",
        );
    }
    let no_new_privileges = details
        .security_options
        .iter()
        .any(|opt| opt.starts_with("no-new-privileges") && !opt.ends_with("false"));
    if !no_new_privileges {
        add(
            "5.25",
            "medium",
            "processes may gain privileges (no no-new-privileges)".into(),
            "run with --security-opt no-new-privileges",
        );
    }
    if details.pids_limit.is_none() {
        add(
            "5.28",
            "medium",
            "no pids limit".into(),
            "set a pids limit (--pids-limit)",
        );
    }
    out
}

/// The findings as a markdown table, item number first (`CIS 5.4`).
pub fn table(findings: &[Finding]) -> String {
    if findings.is_empty() {
        return "No findings among the checked CIS items.\n".into();
    }
    let mut out = String::from("| item | severity | evidence | fix |\n| --- | --- | --- | --- |\n");
    for finding in findings {
        out.push_str(&format!(
            "| CIS {} | {} | {} | {} |\n",
            finding.item,
            finding.severity,
            finding.evidence.replace('|', "/"),
            finding.fix
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::details;
    use bulkhead_plugin_sdk::docker::{HealthStatus, PortBinding};

    fn items(details: &ContainerDetails) -> Vec<&'static str> {
        findings(details).iter().map(|f| f.item).collect()
    }

    #[test]
    fn an_exposed_root_container_without_limits_has_the_findings() {
        let mut exposed = details("web");
        exposed.ports = vec![PortBinding {
            container_port: 80,
            protocol: "tcp".into(),
            host_ip: Some("0.0.0.0".into()),
            host_port: Some(80),
        }];
        let found = items(&exposed);
        for item in ["4.1", "5.7", "5.10", "5.13", "5.28", "5.25", "5.12"] {
            assert!(found.contains(&item), "{item} in {found:?}");
        }
        assert!(table(&findings(&exposed)).contains("| CIS 5.7 |"));
    }

    #[test]
    fn a_hardened_container_has_none_of_them() {
        let mut hardened = details("api");
        hardened.user = Some("1000:1000".into());
        hardened.memory_bytes = Some(64 << 20);
        hardened.nano_cpus = Some(500_000_000);
        hardened.pids_limit = Some(64);
        hardened.read_only_rootfs = true;
        hardened.capabilities_dropped = true;
        hardened.security_options = vec!["no-new-privileges".into()];
        hardened.state.health = Some(HealthStatus {
            status: "healthy".into(),
            failing_streak: 0,
            last_exit_code: Some(0),
            last_output: None,
        });
        assert_eq!(items(&hardened), Vec::<&str>::new());
    }

    #[test]
    fn privileged_sockets_and_host_paths_are_critical() {
        let mut bad = details("bad");
        bad.privileged = true;
        bad.mounts = vec![
            crate::tests::bind("/var/run/docker.sock", "/var/run/docker.sock"),
            crate::tests::bind("/etc/", "/host-etc"),
        ];
        bad.capabilities_added = vec!["NET_ADMIN".into()];
        bad.network_mode = Some("host".into());
        bad.restart_policy = Some("always".into());
        let found = items(&bad);
        for item in ["5.4", "5.31", "5.5", "5.3", "5.9", "5.14"] {
            assert!(found.contains(&item), "{item} in {found:?}");
        }
    }
}
