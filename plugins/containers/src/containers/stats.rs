//! `docker_container_stats`: one sample of a container's CPU, memory, network, block I/O
//! and process count, computed by the host as `docker stats --no-stream` does.

use bulkhead_plugin_sdk::docker::containers_read::{self, ResourceUsage};
use bulkhead_plugin_sdk::{Capability, Reply, ToolError, TypedTool};
use schemars::JsonSchema;
use serde::Serialize;

use super::inspect::ContainerArgs;
use crate::render;

/// Structured output of the tool.
#[derive(Debug, Serialize, JsonSchema)]
pub struct StatsOut {
    /// The container asked for.
    pub container: String,
    /// The sample.
    pub stats: ResourceUsage,
}

pub struct ContainerStatsTool;

impl TypedTool for ContainerStatsTool {
    const NAME: &'static str = "docker_container_stats";
    const TITLE: &'static str = "Container resource usage";
    const DESCRIPTION: &'static str = "One sample of a container's resource use (like \
        `docker stats --no-stream`): CPU percent (100 = one full core), memory used, limit \
        and percent, network received/sent, block read/written, and process count. Takes \
        about a second. A stopped container reports running: false and zeros.";
    const CAPABILITIES: &'static [Capability] = &[Capability::ContainersRead];
    const IDEMPOTENT: bool = true;
    type Args = ContainerArgs;
    type Output = StatsOut;

    fn run(args: ContainerArgs) -> Result<Reply<StatsOut>, ToolError> {
        let stats =
            containers_read::container_stats(&args.container).map_err(crate::docker_error)?;
        let out = StatsOut {
            container: args.container,
            stats,
        };
        Ok(Reply::new(text(&out), out))
    }
}

pub(crate) fn text(out: &StatsOut) -> String {
    let name = render::one_line(&out.container);
    let s = &out.stats;
    if !s.running {
        return format!("{name} is not running: no resource use to report.");
    }
    format!(
        "{name}: CPU {:.2}% ({} CPUs), memory {} / {} ({:.2}%), net rx {} / tx {}, block read {} / write {}, {} pids",
        s.cpu_percent,
        s.online_cpus,
        bytes(s.memory_usage_bytes),
        bytes(s.memory_limit_bytes),
        s.memory_percent,
        bytes(s.network_rx_bytes),
        bytes(s.network_tx_bytes),
        bytes(s.block_read_bytes),
        bytes(s.block_write_bytes),
        s.pids
    )
}

fn bytes(value: u64) -> String {
    render::bytes_text(i64::try_from(value).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_reads_like_docker_stats() {
        let out = StatsOut {
            container: "web".into(),
            stats: ResourceUsage {
                running: true,
                cpu_percent: 12.5,
                online_cpus: 2,
                memory_usage_bytes: 256 << 20,
                memory_limit_bytes: 1 << 30,
                memory_percent: 25.0,
                network_rx_bytes: 2048,
                network_tx_bytes: 0,
                block_read_bytes: 0,
                block_write_bytes: 4096,
                pids: 3,
            },
        };
        assert_eq!(
            text(&out),
            "web: CPU 12.50% (2 CPUs), memory 256 MiB / 1 GiB (25.00%), net rx 2 KiB / tx 0 B, block read 0 B / write 4 KiB, 3 pids"
        );
    }
}
