//! `containers-read`: list, inspect, logs, stats, top, changes. Safe tier.

use std::collections::HashMap;

use bollard::models::{ChangeType, ContainerTopResponse, FilesystemChange};
use bollard::models::{ContainerInspectResponse, ContainerSummary as EngineSummary, PortMap};
use bollard::query_parameters::{
    InspectContainerOptions, ListContainersOptionsBuilder, LogsOptionsBuilder, StatsOptionsBuilder,
    TopOptions,
};
use futures_util::StreamExt;

use super::ownership::ObjectKind;
use super::paging::{clamp_or_default, paginate};
use super::stats::stats_from_engine;
use super::{engine_call, map_error};
use crate::access::CallAccess;
use crate::bindings::DockerError;
use crate::bindings::bulkhead::plugin::containers_read::{
    ChangeKind, ChangePage, FsChange, Host, ProcessList, ResourceUsage,
};
use crate::bindings::bulkhead::plugin::types::{
    ContainerDetails, ContainerPage, ContainerState, ContainerSummary, KeyValue, ListFilter,
    LogChunk, LogOptions, MountInfo, NetworkAttachment, PageRequest, PortBinding,
};
use crate::capabilities::Capability;
use crate::redact::{redact_args, redact_command_line, redact_env_entry, redact_label};
use crate::sanitize::{keep_tail, one_line, strip_controls, truncate_at_char};

const DEFAULT_TAIL: u32 = 100;
const MAX_TAIL: u32 = 10_000;
const DEFAULT_LOG_BYTES: u32 = 64 << 10;
const MAX_LOG_BYTES: u32 = 1 << 20;
const DEFAULT_TOP_ROWS: u32 = 100;
const MAX_TOP_ROWS: u32 = 1000;
/// Longest cell of a process row (a command line can be as long as the kernel allows).
const MAX_TOP_CELL_BYTES: usize = 1024;
const MAX_PATH_BYTES: usize = 4096;

impl Host for CallAccess {
    async fn list_containers(
        &mut self,
        filter: ListFilter,
        page: PageRequest,
    ) -> Result<ContainerPage, DockerError> {
        let docker = self.authorize(Capability::ContainersRead).await?;
        let options = ListContainersOptionsBuilder::new()
            .all(filter.all)
            .filters(&self.session_filter(
                filter.this_session,
                self.scope_filters(engine_filters(&filter)),
            ))
            .build();
        let mut all = engine_call(&self.docker, docker.list_containers(Some(options))).await?;
        // The engine lists newest first; keep that order stable across pages.
        all.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)));
        let page = paginate(all, &page)?.map(summary_from_engine);
        Ok(ContainerPage {
            items: page.items,
            total: page.total,
            next_cursor: page.next_cursor,
        })
    }

    async fn inspect_container(&mut self, target: String) -> Result<ContainerDetails, DockerError> {
        let docker = self.authorize(Capability::ContainersRead).await?;
        let target = self
            .resolve(&docker, ObjectKind::Container, &target)
            .await?;
        let target = target.as_str();
        let details = engine_call(
            &self.docker,
            docker.inspect_container(target, None::<InspectContainerOptions>),
        )
        .await?;
        let mut details = details_from_engine(details);
        details.idle_secs = self
            .activity
            .idle(&[&details.id, &details.name])
            .map(|idle| idle.as_secs());
        Ok(details)
    }

    async fn container_logs(
        &mut self,
        target: String,
        options: LogOptions,
    ) -> Result<LogChunk, DockerError> {
        let docker = self.authorize(Capability::ContainersRead).await?;
        let target = self
            .resolve(&docker, ObjectKind::Container, &target)
            .await?;
        let target = target.as_str();
        if !options.stdout && !options.stderr {
            return Err(DockerError::Invalid("choose stdout, stderr or both".into()));
        }
        let tail = clamp_or_default(options.tail, DEFAULT_TAIL, MAX_TAIL);
        let max_bytes =
            clamp_or_default(options.max_bytes, DEFAULT_LOG_BYTES, MAX_LOG_BYTES) as usize;
        let mut builder = LogsOptionsBuilder::new()
            .follow(false)
            .stdout(options.stdout)
            .stderr(options.stderr)
            .timestamps(options.timestamps)
            .tail(&tail.to_string());
        if let Some(since) = options.since {
            builder = builder.since(unix_seconds(since, "since")?);
        }
        if let Some(until) = options.until {
            builder = builder.until(unix_seconds(until, "until")?);
        }

        // Read the stream with a bounded buffer: a container can print lines of any
        // length, and only the newest `max_bytes` are wanted.
        let mut stream = docker.logs(target, Some(builder.build()));
        let mut raw: Vec<u8> = Vec::new();
        let mut dropped = false;
        while let Some(frame) = stream.next().await {
            let frame = match frame {
                Ok(frame) => frame,
                Err(err) => {
                    let mapped = map_error(err);
                    if matches!(mapped, DockerError::Unavailable(_)) {
                        self.docker.reset().await;
                    }
                    return Err(mapped);
                }
            };
            raw.extend_from_slice(&frame.into_bytes());
            if raw.len() > max_bytes * 2 {
                raw.drain(..raw.len() - max_bytes);
                dropped = true;
            }
        }
        let text = strip_controls(&String::from_utf8_lossy(&raw));
        let kept = keep_tail(&text, max_bytes);
        let truncated = dropped || kept.len() < text.len();
        Ok(LogChunk {
            lines: kept.lines().count() as u32,
            text: kept.to_string(),
            truncated,
        })
    }

    async fn container_stats(&mut self, target: String) -> Result<ResourceUsage, DockerError> {
        let docker = self.authorize(Capability::ContainersRead).await?;
        let target = self
            .resolve(&docker, ObjectKind::Container, &target)
            .await?;
        let target = target.as_str();
        // Not one-shot: the engine then samples twice (about a second apart), which the
        // CPU share needs; `stream(false)` makes it one answer.
        let options = StatsOptionsBuilder::new()
            .stream(false)
            .one_shot(false)
            .build();
        let mut stream = docker.stats(target, Some(options));
        match stream.next().await {
            Some(Ok(sample)) => Ok(stats_from_engine(&sample)),
            Some(Err(err)) => {
                let mapped = map_error(err);
                if matches!(mapped, DockerError::Unavailable(_)) {
                    self.docker.reset().await;
                }
                Err(mapped)
            }
            None => Err(DockerError::Engine(
                "the engine sent no stats sample".into(),
            )),
        }
    }

    async fn container_top(
        &mut self,
        target: String,
        max_rows: u32,
    ) -> Result<ProcessList, DockerError> {
        let docker = self.authorize(Capability::ContainersRead).await?;
        let target = self
            .resolve(&docker, ObjectKind::Container, &target)
            .await?;
        let target = target.as_str();
        let max_rows = clamp_or_default(max_rows, DEFAULT_TOP_ROWS, MAX_TOP_ROWS) as usize;
        // Default `ps` arguments only: `ps_args` is a command line the engine runs.
        let top = engine_call(
            &self.docker,
            docker.top_processes(target, None::<TopOptions>),
        )
        .await?;
        Ok(process_list(top, max_rows))
    }

    async fn container_changes(
        &mut self,
        target: String,
        page: PageRequest,
    ) -> Result<ChangePage, DockerError> {
        let docker = self.authorize(Capability::ContainersRead).await?;
        let target = self
            .resolve(&docker, ObjectKind::Container, &target)
            .await?;
        let target = target.as_str();
        let mut all = engine_call(&self.docker, docker.container_changes(target))
            .await?
            .unwrap_or_default();
        all.sort_by(|a, b| a.path.cmp(&b.path));
        let page = paginate(all, &page)?.map(change_from_engine);
        Ok(ChangePage {
            items: page.items,
            total: page.total,
            next_cursor: page.next_cursor,
        })
    }
}

/// The rows `ps` printed, capped, cleaned and with secret-looking arguments redacted.
fn process_list(top: ContainerTopResponse, max_rows: usize) -> ProcessList {
    let titles: Vec<String> = top
        .titles
        .unwrap_or_default()
        .iter()
        .map(|title| one_line(title, 64))
        .collect();
    // `ps -ef` calls it CMD, `ps aux` COMMAND; busybox's ps, COMMAND too.
    let command_column = titles
        .iter()
        .position(|title| matches!(title.as_str(), "CMD" | "COMMAND" | "ARGS"));
    let processes = top.processes.unwrap_or_default();
    let total = u32::try_from(processes.len()).unwrap_or(u32::MAX);
    let truncated = processes.len() > max_rows;
    let processes = processes
        .into_iter()
        .take(max_rows)
        .map(|row| {
            row.into_iter()
                .enumerate()
                .map(|(column, cell)| {
                    let cell = if Some(column) == command_column {
                        redact_command_line(&cell)
                    } else {
                        cell
                    };
                    one_line(&cell, MAX_TOP_CELL_BYTES)
                })
                .collect()
        })
        .collect();
    ProcessList {
        titles,
        processes,
        total,
        truncated,
    }
}

fn change_from_engine(change: FilesystemChange) -> FsChange {
    // A file name may hold any byte but `/` and NUL; show control characters as `?` so
    // one path stays one line without changing its length.
    let shown: String = change
        .path
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    FsChange {
        path: truncate_at_char(&shown, MAX_PATH_BYTES).to_string(),
        kind: match change.kind {
            ChangeType::_0 => ChangeKind::Modified,
            ChangeType::_1 => ChangeKind::Added,
            ChangeType::_2 => ChangeKind::Deleted,
        },
    }
}

fn unix_seconds(value: i64, field: &str) -> Result<i32, DockerError> {
    i32::try_from(value)
        .ok()
        .filter(|secs| *secs >= 0)
        .ok_or_else(|| DockerError::Invalid(format!("`{field}` must be a Unix time in seconds")))
}

fn engine_filters(filter: &ListFilter) -> HashMap<String, Vec<String>> {
    let mut filters = HashMap::new();
    if let Some(name) = filter.name.as_ref().filter(|n| !n.is_empty()) {
        filters.insert("name".to_string(), vec![name.clone()]);
    }
    if !filter.status.is_empty() {
        filters.insert("status".to_string(), filter.status.clone());
    }
    if !filter.labels.is_empty() {
        filters.insert("label".to_string(), filter.labels.clone());
    }
    if let Some(ancestor) = filter.ancestor.as_ref().filter(|a| !a.is_empty()) {
        filters.insert("ancestor".to_string(), vec![ancestor.clone()]);
    }
    filters
}

fn summary_from_engine(summary: EngineSummary) -> ContainerSummary {
    let ports = summary
        .ports
        .unwrap_or_default()
        .into_iter()
        .map(|port| PortBinding {
            container_port: port.private_port,
            protocol: port
                .typ
                .map(|t| t.to_string())
                .unwrap_or_else(|| "tcp".into()),
            host_ip: port.ip,
            host_port: port.public_port,
        })
        .collect();
    ContainerSummary {
        id: summary.id.unwrap_or_default(),
        names: summary
            .names
            .unwrap_or_default()
            .into_iter()
            .map(|name| name.trim_start_matches('/').to_string())
            .collect(),
        image: summary.image.unwrap_or_default(),
        image_id: summary.image_id.unwrap_or_default(),
        command: redact_command_line(&summary.command.unwrap_or_default()),
        created: summary.created.unwrap_or_default(),
        state: summary.state.map(|s| s.to_string()).unwrap_or_default(),
        status: summary.status.unwrap_or_default(),
        ports,
        labels: sorted_labels(summary.labels),
    }
}

/// Labels sorted by key, secret-looking values redacted.
pub(super) fn sorted_labels(labels: Option<HashMap<String, String>>) -> Vec<KeyValue> {
    let mut labels: Vec<KeyValue> = labels
        .unwrap_or_default()
        .into_iter()
        .map(|(key, value)| KeyValue {
            value: redact_label(&key, &value),
            key,
        })
        .collect();
    labels.sort_by(|a, b| a.key.cmp(&b.key));
    labels
}

fn ports_from_map(map: Option<PortMap>) -> Vec<PortBinding> {
    let mut ports = Vec::new();
    for (key, bindings) in map.unwrap_or_default() {
        let (port, protocol) = key.split_once('/').unwrap_or((key.as_str(), "tcp"));
        let Ok(container_port) = port.parse::<u16>() else {
            continue;
        };
        let bindings = bindings.unwrap_or_default();
        if bindings.is_empty() {
            ports.push(PortBinding {
                container_port,
                protocol: protocol.to_string(),
                host_ip: None,
                host_port: None,
            });
        }
        for binding in bindings {
            ports.push(PortBinding {
                container_port,
                protocol: protocol.to_string(),
                host_ip: binding.host_ip.filter(|ip| !ip.is_empty()),
                host_port: binding.host_port.and_then(|p| p.parse().ok()),
            });
        }
    }
    ports.sort_by(|a, b| {
        (a.container_port, &a.protocol, a.host_port).cmp(&(
            b.container_port,
            &b.protocol,
            b.host_port,
        ))
    });
    ports
}

fn details_from_engine(details: ContainerInspectResponse) -> ContainerDetails {
    let config = details.config.unwrap_or_default();
    let host = details.host_config.unwrap_or_default();
    let state = details.state.unwrap_or_default();
    let network = details.network_settings.unwrap_or_default();
    let (entrypoint, cmd) = redact_argv_pair(
        config.entrypoint.clone().unwrap_or_default(),
        config.cmd.clone().unwrap_or_default(),
    );
    let mut networks: Vec<NetworkAttachment> = network
        .networks
        .unwrap_or_default()
        .into_iter()
        .map(|(name, endpoint)| NetworkAttachment {
            network: name,
            ip_address: endpoint.ip_address.filter(|s| !s.is_empty()),
            gateway: endpoint.gateway.filter(|s| !s.is_empty()),
            mac_address: endpoint.mac_address.filter(|s| !s.is_empty()),
        })
        .collect();
    networks.sort_by(|a, b| a.network.cmp(&b.network));
    let restart_policy = host.restart_policy.and_then(|policy| {
        let name = policy.name?.to_string();
        if name.is_empty() {
            return None;
        }
        Some(match policy.maximum_retry_count {
            Some(count) if count > 0 && name == "on-failure" => format!("{name}:{count}"),
            _ => name,
        })
    });
    let idle_ttl_secs = config
        .labels
        .as_ref()
        .and_then(|labels| labels.get(super::labels::IDLE_TTL_LABEL))
        .and_then(|ttl| ttl.parse().ok());
    ContainerDetails {
        id: details.id.unwrap_or_default(),
        name: details
            .name
            .unwrap_or_default()
            .trim_start_matches('/')
            .to_string(),
        image: config.image.unwrap_or_default(),
        image_id: details.image.unwrap_or_default(),
        created: details.created.map(|c| c.to_string()).unwrap_or_default(),
        state: ContainerState {
            status: state.status.map(|s| s.to_string()).unwrap_or_default(),
            running: state.running.unwrap_or(false),
            paused: state.paused.unwrap_or(false),
            restarting: state.restarting.unwrap_or(false),
            oom_killed: state.oom_killed.unwrap_or(false),
            exit_code: state.exit_code.unwrap_or(0),
            error: state
                .error
                .filter(|e| !e.is_empty())
                .map(|e| crate::sanitize::one_line(&e, 512)),
            started_at: state.started_at.filter(|s| !s.starts_with("0001-")),
            finished_at: state.finished_at.filter(|s| !s.starts_with("0001-")),
            health: super::healthcheck::health_status(state.health),
        },
        // Redacted as one command line: `mysql` in the entrypoint makes `-psecret` in the
        // command a password.
        entrypoint,
        cmd,
        env: config
            .env
            .unwrap_or_default()
            .iter()
            .map(|e| redact_env_entry(e))
            .collect(),
        working_dir: config.working_dir.filter(|s| !s.is_empty()),
        user: config.user.filter(|s| !s.is_empty()),
        labels: sorted_labels(config.labels),
        restart_policy,
        restart_count: details.restart_count.unwrap_or(0),
        network_mode: host.network_mode.filter(|s| !s.is_empty()),
        memory_bytes: host.memory.filter(|m| *m > 0),
        nano_cpus: host.nano_cpus.filter(|n| *n > 0),
        pids_limit: host.pids_limit.filter(|p| *p > 0),
        read_only_rootfs: host.readonly_rootfs.unwrap_or(false),
        privileged: host.privileged.unwrap_or(false),
        ports: ports_from_map(network.ports),
        capabilities_dropped: host
            .cap_drop
            .as_ref()
            .is_some_and(|caps| caps.iter().any(|c| c.eq_ignore_ascii_case("ALL"))),
        capabilities_added: host.cap_add.clone().unwrap_or_default(),
        security_options: host.security_opt.clone().unwrap_or_default(),
        idle_secs: None,
        idle_ttl_secs,
        mounts: details
            .mounts
            .unwrap_or_default()
            .into_iter()
            .map(|mount| MountInfo {
                kind: mount.typ.map(|t| t.to_string()).unwrap_or_default(),
                source: mount.source.unwrap_or_default(),
                destination: mount.destination.unwrap_or_default(),
                read_write: mount.rw.unwrap_or(false),
                name: mount.name.filter(|n| !n.is_empty()),
            })
            .collect(),
        networks,
    }
}

/// Redacts entrypoint and command together (they form one argv) and splits them back.
pub(super) fn redact_argv_pair(
    entrypoint: Vec<String>,
    cmd: Vec<String>,
) -> (Vec<String>, Vec<String>) {
    let split = entrypoint.len();
    let mut joined = entrypoint;
    joined.extend(cmd);
    let mut redacted = redact_args(&joined);
    let cmd = redacted.split_off(split);
    (redacted, cmd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entrypoint_and_command_are_redacted_as_one_argv() {
        let (entrypoint, cmd) = redact_argv_pair(
            vec!["mysql".into()],
            vec!["-uroot".into(), "-psecret".into()],
        );
        assert_eq!(entrypoint, ["mysql"]);
        assert_eq!(cmd, ["-uroot", "-p<redacted>"]);
    }

    #[test]
    fn process_rows_are_capped_cleaned_and_redacted() {
        let row = |pid: &str, cmd: &str| vec![pid.to_string(), cmd.to_string()];
        let top = ContainerTopResponse {
            titles: Some(vec!["PID".into(), "COMMAND".into()]),
            processes: Some(vec![
                row("1", "mysqld --password=hunter2"),
                row("2", "sh -c \u{1b}[31mecho\nhi"),
                row("3", "sleep 300"),
            ]),
        };
        let list = process_list(top, 2);
        assert_eq!(list.titles, ["PID", "COMMAND"]);
        assert_eq!((list.total, list.truncated), (3, true));
        assert_eq!(list.processes.len(), 2);
        assert!(
            !list.processes[0][1].contains("hunter2"),
            "{:?}",
            list.processes
        );
        assert_eq!(list.processes[1][1], "sh -c echo hi");
    }

    #[test]
    fn changes_keep_paths_on_one_line() {
        let change = change_from_engine(FilesystemChange {
            path: "/tmp/a\nb".into(),
            kind: ChangeType::_1,
        });
        assert_eq!(change.path, "/tmp/a?b");
        assert!(matches!(change.kind, ChangeKind::Added));
    }

    #[test]
    fn labels_are_sorted_and_redacted() {
        let labels = sorted_labels(Some(HashMap::from([
            ("b.api_token".to_string(), "t0k".to_string()),
            ("a".to_string(), "x".to_string()),
        ])));
        assert_eq!(labels[0].key, "a");
        assert_eq!(labels[1].value, "<redacted>");
    }
}
