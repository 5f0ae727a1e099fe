//! Live evidence about one container, gathered through read primitives, and its
//! rendering as markdown sections. Anything the container produced is fenced.

use bulkhead_plugin_sdk::ToolError;
use bulkhead_plugin_sdk::docker::containers_read::ResourceUsage;
use bulkhead_plugin_sdk::docker::{
    ContainerDetails, ImageDetails, LogChunk, containers_read, images_read,
};

use crate::prompts::{fence, log_options};

/// Log bytes a prompt carries at most.
const LOG_BYTES: u32 = 16 << 10;
/// Failing lines called out at most.
const MAX_FAILING_LINES: usize = 10;
const FAILURE_WORDS: &[&str] = &[
    "error",
    "fatal",
    "panic",
    "exception",
    "traceback",
    "failed",
    "denied",
];

pub struct Evidence {
    pub details: ContainerDetails,
    pub usage: Option<ResourceUsage>,
    pub logs: Option<LogChunk>,
    pub image: Option<ImageDetails>,
}

impl Evidence {
    /// Inspects `container` (a missing one is `not-found`), and, best effort, its stats
    /// when running, the last `tail` log lines (none when 0) and its image.
    pub fn gather(container: &str, tail: u32) -> Result<Self, ToolError> {
        let details = containers_read::inspect_container(container)?;
        let usage = details
            .state
            .running
            .then(|| containers_read::container_stats(&details.id).ok())
            .flatten();
        let logs = (tail > 0)
            .then(|| {
                containers_read::container_logs(&details.id, log_options(tail, LOG_BYTES)).ok()
            })
            .flatten();
        let image = images_read::inspect_image(&details.image_id).ok();
        Ok(Evidence {
            details,
            usage,
            logs,
            image,
        })
    }

    pub fn label(&self) -> String {
        label(&self.details)
    }

    pub fn state_section(&self) -> String {
        let state = &self.details.state;
        let mut out = String::from("## State\n");
        out.push_str(&format!("- status: {}", state.status));
        if !state.running {
            out.push_str(&format!(
                ", exit code {} ({})",
                state.exit_code,
                exit_meaning(state.exit_code)
            ));
        }
        out.push('\n');
        out.push_str(&format!(
            "- restart count: {}\n",
            self.details.restart_count
        ));
        out.push_str(&format!(
            "- killed for running out of memory (OOM): {}\n",
            if state.oom_killed { "yes" } else { "no" }
        ));
        if let Some(error) = state.error.as_deref().filter(|e| !e.is_empty()) {
            out.push_str(&format!("- engine error: {}\n", one_line(error)));
        }
        if let Some(started) = &state.started_at {
            out.push_str(&format!("- started at: {started}\n"));
        }
        if let Some(finished) = state.finished_at.as_ref().filter(|_| !state.running) {
            out.push_str(&format!("- finished at: {finished}\n"));
        }
        match &state.health {
            None => out.push_str("- health check: none\n"),
            Some(health) => {
                out.push_str(&format!(
                    "- health: {} ({} failing probes in a row, last exit code {})\n",
                    health.status,
                    health.failing_streak,
                    health
                        .last_exit_code
                        .map_or("unknown".into(), |c| c.to_string())
                ));
                if let Some(output) = health
                    .last_output
                    .as_deref()
                    .filter(|o| !o.trim().is_empty())
                {
                    out.push_str(&fence("last health probe output", output));
                }
            }
        }
        out
    }

    pub fn usage_section(&self) -> String {
        let d = &self.details;
        let mut out = String::from("\n## Resources\n");
        let limit = |value: Option<i64>, unit: &str| {
            value.map_or("none".to_string(), |v| format!("{v}{unit}"))
        };
        out.push_str(&format!(
            "- limits: memory {}, CPUs {}, pids {}\n",
            d.memory_bytes.map_or("none".into(), mib),
            d.nano_cpus
                .map_or("none".into(), |n| format!("{:.2}", n as f64 / 1e9)),
            limit(d.pids_limit, "")
        ));
        match &self.usage {
            Some(usage) if usage.running => out.push_str(&format!(
                "- in use: CPU {:.1}% of one core, memory {} ({:.1}% of {}), {} processes\n",
                usage.cpu_percent,
                mib(usage.memory_usage_bytes as i64),
                usage.memory_percent,
                mib(usage.memory_limit_bytes as i64),
                usage.pids
            )),
            _ => out.push_str("- in use: not running, no live figures\n"),
        }
        out
    }

    pub fn config_section(&self) -> String {
        let d = &self.details;
        let mut out = String::from("\n## Configuration\n");
        out.push_str(&format!("- image: {}\n", one_line(&d.image)));
        if let Some(image) = &self.image {
            out.push_str(&format!(
                "- image created: {}\n",
                image.created.as_deref().unwrap_or("unknown")
            ));
        }
        let command: Vec<&str> = d
            .entrypoint
            .iter()
            .chain(&d.cmd)
            .map(String::as_str)
            .collect();
        out.push_str(&format!("- command: {}\n", one_line(&command.join(" "))));
        out.push_str(&format!(
            "- user: {}\n",
            d.user
                .as_deref()
                .filter(|u| !u.is_empty())
                .unwrap_or("root (unset)")
        ));
        out.push_str(&format!(
            "- privileged: {}\n",
            if d.privileged { "yes" } else { "no" }
        ));
        out.push_str(&format!(
            "- capabilities: {}{}\n",
            if d.capabilities_dropped {
                "all dropped"
            } else {
                "default set"
            },
            if d.capabilities_added.is_empty() {
                String::new()
            } else {
                format!(", added {}", d.capabilities_added.join(", "))
            }
        ));
        out.push_str(&format!(
            "- restart policy: {}\n",
            d.restart_policy.as_deref().unwrap_or("no")
        ));
        out.push_str(&format!(
            "- read-only root filesystem: {}\n",
            if d.read_only_rootfs { "yes" } else { "no" }
        ));
        for mount in &d.mounts {
            out.push_str(&format!(
                "- mount: {} {} → {} ({})\n",
                mount.kind,
                one_line(mount.name.as_deref().unwrap_or(&mount.source)),
                one_line(&mount.destination),
                if mount.read_write { "rw" } else { "ro" }
            ));
        }
        out.push_str(&network_section(d));
        out
    }

    pub fn image_section(&self) -> String {
        match &self.image {
            None => "\n## Image\n- the image no longer exists locally\n".into(),
            Some(image) => format!(
                "\n## Image\n- {} MiB in {} layers, created {}, user {}\n",
                image.size >> 20,
                image.layers,
                image.created.as_deref().unwrap_or("unknown"),
                image
                    .user
                    .as_deref()
                    .filter(|u| !u.is_empty())
                    .unwrap_or("root (unset)")
            ),
        }
    }

    pub fn logs_section(&self) -> String {
        let Some(logs) = &self.logs else {
            return "\n## Logs\n- unavailable\n".into();
        };
        let mut out = format!(
            "\n## Logs (last {} lines{})\n",
            logs.lines,
            if logs.truncated {
                ", cut to the newest"
            } else {
                ""
            }
        );
        let failing = failing_lines(&logs.text);
        if !failing.is_empty() {
            out.push_str(&fence("failing lines", &failing.join("\n")));
        }
        out.push_str(&fence("recent logs", &logs.text));
        out
    }
}

/// Name and short id, reduced to one safe line.
pub fn label(details: &ContainerDetails) -> String {
    let short = details.id.get(..12).unwrap_or(&details.id);
    format!(
        "{} ({short})",
        one_line(details.name.trim_start_matches('/'))
    )
}

pub fn network_section(details: &ContainerDetails) -> String {
    let mut out = format!(
        "- network mode: {}\n",
        details.network_mode.as_deref().unwrap_or("default")
    );
    for attachment in &details.networks {
        out.push_str(&format!(
            "- network {}: address {}, gateway {}\n",
            one_line(&attachment.network),
            attachment
                .ip_address
                .as_deref()
                .filter(|a| !a.is_empty())
                .unwrap_or("none"),
            attachment
                .gateway
                .as_deref()
                .filter(|g| !g.is_empty())
                .unwrap_or("none")
        ));
    }
    if details.ports.is_empty() {
        out.push_str("- published ports: none\n");
    }
    for port in &details.ports {
        match port.host_port {
            Some(host) => out.push_str(&format!(
                "- port {}/{} published on {}:{host}\n",
                port.container_port,
                port.protocol,
                port.host_ip
                    .as_deref()
                    .filter(|ip| !ip.is_empty())
                    .unwrap_or("0.0.0.0")
            )),
            None => out.push_str(&format!(
                "- port {}/{} exposed, not published\n",
                port.container_port, port.protocol
            )),
        }
    }
    out
}

/// Lines that look like a failure, at most [`MAX_FAILING_LINES`], newest last.
pub fn failing_lines(logs: &str) -> Vec<&str> {
    let mut found: Vec<&str> = logs
        .lines()
        .filter(|line| {
            let lower = line.to_lowercase();
            FAILURE_WORDS.iter().any(|word| lower.contains(word))
        })
        .collect();
    let skip = found.len().saturating_sub(MAX_FAILING_LINES);
    found.drain(..skip);
    found
}

/// What an exit code usually means.
pub fn exit_meaning(code: i64) -> &'static str {
    match code {
        0 => "success",
        1 => "the application reported an error",
        2 => "misuse of a shell builtin or bad arguments",
        125 => "the engine could not run the container",
        126 => "the command cannot be executed (permissions or not executable)",
        127 => "the command was not found",
        130 => "interrupted (SIGINT)",
        137 => "killed (SIGKILL): out of memory or `docker kill`/stop timeout",
        139 => "segmentation fault (SIGSEGV)",
        143 => "terminated (SIGTERM), usually a normal stop",
        _ if code > 128 => "killed by a signal",
        _ => "application-specific failure",
    }
}

/// Text from the engine (names, errors) on one line, without control characters.
pub fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn mib(bytes: i64) -> String {
    format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failing_lines_are_picked_newest_last() {
        let logs = "ok\nERROR one\nfine\nTraceback (most recent call last):\npanic: boom\n";
        assert_eq!(
            failing_lines(logs),
            vec![
                "ERROR one",
                "Traceback (most recent call last):",
                "panic: boom"
            ]
        );
        let many: String = (0..20).map(|i| format!("error {i}\n")).collect();
        assert_eq!(failing_lines(&many).first(), Some(&"error 10"));
    }

    #[test]
    fn exit_codes_are_explained() {
        assert!(exit_meaning(137).contains("out of memory"));
        assert!(exit_meaning(127).contains("not found"));
        assert_eq!(exit_meaning(3), "application-specific failure");
    }

    #[test]
    fn labels_are_one_line() {
        assert_eq!(one_line("a\n\u{1b}b  c"), "a b c");
    }
}
