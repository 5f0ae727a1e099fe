//! The five prompts. Each gathers live evidence through read primitives, then states it
//! (container output fenced as untrusted) and asks the model for the analysis.

use bulkhead_plugin_sdk::context::{self, PromptAnswer};
use bulkhead_plugin_sdk::docker::{
    ContainerDetails, ListFilter, LogOptions, PageRequest, containers_read, images_read,
    networks_read,
};
use bulkhead_plugin_sdk::{ToolError, fence_untrusted};

use crate::evidence::{self, Evidence};
use crate::{cis, compose_yaml};

/// The most containers `security_audit` and `generate_compose` take at once.
const MAX_CONTAINERS: usize = 20;
/// A prompt's text is cut here (the host's answer limit is larger).
const MAX_PROMPT_BYTES: usize = 48 << 10;

pub fn troubleshoot(args: &[(String, String)]) -> Result<PromptAnswer, ToolError> {
    let container = required(args, "container")?;
    let tail = match context::argument(args, "tail") {
        None => 50,
        Some(text) => text
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=500).contains(n))
            .ok_or_else(|| {
                ToolError::invalid_argument("`tail` must be a number of lines from 1 to 500")
            })?,
    };
    let found = Evidence::gather(container, tail)?;
    let mut text = format!(
        "Troubleshoot container `{}`. Evidence gathered just now:\n\n",
        found.label()
    );
    text.push_str(&found.state_section());
    text.push_str(&found.usage_section());
    text.push_str(&found.config_section());
    text.push_str(&found.logs_section());
    text.push_str(
        "\nExplain the most likely cause of the failure from this evidence, quoting the lines that show it, \
         and give the concrete next steps (commands or configuration changes) to fix it.",
    );
    Ok(answer("live evidence for troubleshooting", text))
}

pub fn optimize(args: &[(String, String)]) -> Result<PromptAnswer, ToolError> {
    let container = required(args, "container")?;
    let found = Evidence::gather(container, 0)?;
    let mut text = format!(
        "Suggest optimisations for container `{}`. Evidence gathered just now:\n\n",
        found.label()
    );
    text.push_str(&found.usage_section());
    text.push_str(&found.config_section());
    text.push_str(&found.image_section());
    let d = &found.details;
    let mut gaps = Vec::new();
    if d.memory_bytes.is_none() {
        gaps.push("no memory limit");
    }
    if d.nano_cpus.is_none() {
        gaps.push("no CPU limit");
    }
    if d.pids_limit.is_none() {
        gaps.push("no pids limit");
    }
    if d.state.health.is_none() {
        gaps.push("no health check");
    }
    if matches!(d.restart_policy.as_deref(), None | Some("no") | Some("")) {
        gaps.push("no restart policy");
    }
    if !d.read_only_rootfs {
        gaps.push("writable root filesystem");
    }
    if !gaps.is_empty() {
        text.push_str(&format!("\nGaps: {}.\n", gaps.join(", ")));
    }
    text.push_str(
        "\nRecommend limits sized from the measured use (with headroom), a health check, a restart policy \
         and image changes that would make this container cheaper and more robust; give the exact flags or \
         Compose keys.",
    );
    Ok(answer("live evidence for optimisation", text))
}

pub fn debug_networking(args: &[(String, String)]) -> Result<PromptAnswer, ToolError> {
    let container = required(args, "container")?;
    let details = containers_read::inspect_container(container)?;
    let mut text = format!(
        "Debug the networking of container `{}`. Evidence gathered just now:\n\n",
        evidence::label(&details)
    );
    text.push_str(&evidence::network_section(&details));
    for attachment in &details.networks {
        if let Ok(network) = networks_read::inspect_network(&attachment.network) {
            let members: Vec<String> = network
                .containers
                .iter()
                .map(|m| {
                    format!(
                        "{} ({})",
                        evidence::one_line(&m.container_name),
                        m.ipv4_address.as_deref().unwrap_or("no IPv4")
                    )
                })
                .collect();
            text.push_str(&format!(
                "- network `{}`: driver {}, {}internal, subnet {}, members: {}\n",
                network.name,
                network.driver,
                if network.internal { "" } else { "not " },
                network
                    .ipam
                    .iter()
                    .map(|pool| pool.subnet.clone().unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join(", "),
                members.join(", ")
            ));
        }
    }
    if let Some(target) = context::argument(args, "target").filter(|t| !t.trim().is_empty()) {
        let other = containers_read::inspect_container(target)?;
        let shared: Vec<&str> = details
            .networks
            .iter()
            .filter(|a| other.networks.iter().any(|b| b.network == a.network))
            .map(|a| a.network.as_str())
            .collect();
        text.push_str(&format!("\nTarget `{}`:\n", evidence::label(&other)));
        text.push_str(&evidence::network_section(&other));
        if shared.is_empty() {
            text.push_str("They share no network: they cannot reach each other directly.\n");
        } else {
            text.push_str(&format!("Shared networks: {}.\n", shared.join(", ")));
            if shared.iter().all(|n| *n == "bridge") {
                text.push_str(
                    "Only the default bridge is shared: names do not resolve there, only IP addresses do; \
                     a user-defined network gives DNS by container name.\n",
                );
            }
        }
    }
    text.push_str(
        "\nFind why traffic does not flow as expected (wrong network, port not published or bound to \
         127.0.0.1, DNS only on user-defined networks, internal network) and say how to fix it.",
    );
    Ok(answer("live network evidence", text))
}

pub fn security_audit(args: &[(String, String)]) -> Result<PromptAnswer, ToolError> {
    let targets: Vec<ContainerDetails> =
        match context::argument(args, "container").filter(|c| !c.trim().is_empty()) {
            Some(container) => vec![containers_read::inspect_container(container)?],
            None => running_containers(MAX_CONTAINERS)?
                .iter()
                .filter_map(|id| containers_read::inspect_container(id).ok())
                .collect(),
        };
    let mut text = String::from(
        "Security audit against the CIS Docker Benchmark (v1.6), from live inspections:\n\n",
    );
    let mut total = 0;
    for details in &targets {
        let findings = cis::findings(details);
        total += findings.len();
        text.push_str(&format!(
            "### `{}`\n\n{}\n",
            evidence::label(details),
            cis::table(&findings)
        ));
    }
    if targets.is_empty() {
        text.push_str("No running containers to audit.\n");
    }
    text.push_str(&format!(
        "{total} findings in {} containers. Rank them by risk, explain each briefly and give the exact fix.",
        targets.len()
    ));
    Ok(answer("CIS findings from live inspections", text))
}

pub fn generate_compose(args: &[(String, String)]) -> Result<PromptAnswer, ToolError> {
    let named = context::argument(args, "containers").filter(|c| !c.trim().is_empty());
    let label = context::argument(args, "label").filter(|l| !l.trim().is_empty());
    let ids: Vec<String> = match (named, label) {
        (Some(list), None) => list
            .split(',')
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .take(MAX_CONTAINERS)
            .collect(),
        (None, Some(label)) => {
            let filter = ListFilter {
                all: true,
                labels: vec![label.trim().to_string()],
                ..ListFilter::default()
            };
            let page = containers_read::list_containers(
                &filter,
                &PageRequest {
                    limit: MAX_CONTAINERS as u32,
                    cursor: None,
                },
            )?;
            page.items.into_iter().map(|c| c.id).collect()
        }
        _ => {
            return Err(ToolError::invalid_argument(
                "give exactly one of `containers` (names or ids, comma-separated) and `label` (key=value)",
            )
            .with_hint("for example {\"containers\": \"web,db\"} or {\"label\": \"app=shop\"}"));
        }
    };
    if ids.is_empty() {
        return Err(ToolError::new(
            bulkhead_plugin_sdk::ErrorCode::NotFound,
            "no container matches the selection",
        ));
    }
    let details: Vec<ContainerDetails> = ids
        .iter()
        .map(|id| containers_read::inspect_container(id))
        .collect::<Result<_, _>>()?;
    let images: Vec<_> = details
        .iter()
        .map(|d| images_read::inspect_image(&d.image_id).ok())
        .collect();
    let sources: Vec<compose_yaml::Source<'_>> = details
        .iter()
        .zip(&images)
        .map(|(details, image)| compose_yaml::Source {
            details,
            image: image.as_ref(),
        })
        .collect();
    let project = context::argument(args, "project").filter(|p| !p.trim().is_empty());
    let generated = compose_yaml::generate(project, &sources);
    let names: Vec<String> = details.iter().map(evidence::label).collect();
    let mut text = format!(
        "A Compose file for {} generated from their live configuration; deploy it with `compose_plan` then `compose_deploy`:\n\n```yaml\n{}```\n",
        names.join(", "),
        generated.yaml
    );
    if !generated.notes.is_empty() {
        text.push_str("\nLeft out or changed:\n");
        for note in &generated.notes {
            text.push_str(&format!("- {note}\n"));
        }
    }
    text.push_str("\nReview it: point out anything that should be a named volume, a healthcheck or a dependency.");
    Ok(answer("a Compose file from running containers", text))
}

/// Ids of running containers, newest first, at most `limit`.
pub fn running_containers(limit: usize) -> Result<Vec<String>, ToolError> {
    let filter = ListFilter {
        status: vec!["running".into()],
        ..ListFilter::default()
    };
    let page = containers_read::list_containers(
        &filter,
        &PageRequest {
            limit: limit as u32,
            cursor: None,
        },
    )?;
    Ok(page.items.into_iter().map(|c| c.id).collect())
}

fn required<'a>(args: &'a [(String, String)], name: &str) -> Result<&'a str, ToolError> {
    context::argument(args, name)
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .ok_or_else(|| ToolError::invalid_argument(format!("`{name}` is required")))
}

fn answer(description: &str, mut text: String) -> PromptAnswer {
    if text.len() > MAX_PROMPT_BYTES {
        let mut cut = MAX_PROMPT_BYTES;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str("\n[evidence cut to fit]\n");
    }
    PromptAnswer::user(description, text)
}

/// Fetches the tail of the logs: the options `troubleshoot_container` and the logs
/// resource share.
pub fn log_options(tail: u32, max_bytes: u32) -> LogOptions {
    LogOptions {
        tail,
        stdout: true,
        stderr: true,
        max_bytes,
        ..LogOptions::default()
    }
}

/// Container output as a fenced block that ends its line, so the next section starts
/// on a line of its own.
pub fn fence(label: &str, text: &str) -> String {
    let mut block = fence_untrusted(label, text);
    if !block.ends_with('\n') {
        block.push('\n');
    }
    block
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_fence_ends_its_line() {
        assert!(super::fence("logs", "a\nb").ends_with("```\n"));
    }
}
