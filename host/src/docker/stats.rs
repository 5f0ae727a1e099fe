//! The figures of `docker stats`, computed from one raw engine sample: the engine hands
//! out cumulative counters and cgroup details; plugins get percentages and totals.
//! Pure, so the arithmetic has table tests; it follows the docker CLI's formulas.

use bollard::models::{ContainerBlkioStatEntry, ContainerStatsResponse};

use crate::bindings::bulkhead::plugin::containers_read::ResourceUsage;

/// The figures for one engine sample. Counters that went backwards (a restarted
/// container) or are missing count as zero rather than as garbage.
pub fn stats_from_engine(sample: &ContainerStatsResponse) -> ResourceUsage {
    // A stopped container's sample carries the zero time and no counters.
    let running = sample
        .read
        .as_ref()
        .map(|read| read.to_string())
        .is_some_and(|read| !read.is_empty() && !read.starts_with("0001-"));
    let cpu = sample.cpu_stats.clone().unwrap_or_default();
    let precpu = sample.precpu_stats.clone().unwrap_or_default();
    let total = |stats: &bollard::models::ContainerCpuStats| {
        stats
            .cpu_usage
            .as_ref()
            .and_then(|usage| usage.total_usage)
            .unwrap_or(0)
    };
    let online_cpus = cpu.online_cpus.filter(|n| *n > 0).unwrap_or_else(|| {
        cpu.cpu_usage
            .as_ref()
            .and_then(|usage| usage.percpu_usage.as_ref())
            .map_or(0, |per| u32::try_from(per.len()).unwrap_or(u32::MAX))
    });
    let cpu_delta = total(&cpu).saturating_sub(total(&precpu));
    let system_delta = cpu
        .system_cpu_usage
        .unwrap_or(0)
        .saturating_sub(precpu.system_cpu_usage.unwrap_or(0));
    let cpu_percent = if cpu_delta > 0 && system_delta > 0 {
        cpu_delta as f64 / system_delta as f64 * f64::from(online_cpus) * 100.0
    } else {
        0.0
    };

    let memory = sample.memory_stats.clone().unwrap_or_default();
    let usage = memory.usage.unwrap_or(0);
    let details = memory.stats.unwrap_or_default();
    // cgroup v1 reports `total_inactive_file`, v2 `inactive_file`: page cache the kernel
    // can reclaim, which `docker stats` leaves out of "usage".
    let inactive = details
        .get("total_inactive_file")
        .or_else(|| details.get("inactive_file"))
        .copied()
        .filter(|inactive| *inactive < usage)
        .unwrap_or(0);
    let memory_usage_bytes = usage - inactive;
    let memory_limit_bytes = memory.limit.unwrap_or(0);
    let memory_percent = if memory_limit_bytes > 0 {
        memory_usage_bytes as f64 / memory_limit_bytes as f64 * 100.0
    } else {
        0.0
    };

    let (mut network_rx_bytes, mut network_tx_bytes) = (0u64, 0u64);
    for network in sample.networks.iter().flat_map(|n| n.values()) {
        network_rx_bytes = network_rx_bytes.saturating_add(network.rx_bytes.unwrap_or(0));
        network_tx_bytes = network_tx_bytes.saturating_add(network.tx_bytes.unwrap_or(0));
    }
    let io = sample
        .blkio_stats
        .as_ref()
        .and_then(|blkio| blkio.io_service_bytes_recursive.as_deref())
        .unwrap_or_default();

    ResourceUsage {
        running,
        cpu_percent: round2(cpu_percent),
        online_cpus,
        memory_usage_bytes,
        memory_limit_bytes,
        memory_percent: round2(memory_percent),
        network_rx_bytes,
        network_tx_bytes,
        block_read_bytes: sum_op(io, "read"),
        block_write_bytes: sum_op(io, "write"),
        pids: sample
            .pids_stats
            .as_ref()
            .and_then(|pids| pids.current)
            .unwrap_or(0),
    }
}

/// Bytes of one operation over all devices (cgroup v1 says `Read`, v2 `read`).
fn sum_op(entries: &[ContainerBlkioStatEntry], op: &str) -> u64 {
    entries
        .iter()
        .filter(|entry| {
            entry
                .op
                .as_deref()
                .is_some_and(|name| name.eq_ignore_ascii_case(op))
        })
        .fold(0u64, |sum, entry| {
            sum.saturating_add(entry.value.unwrap_or(0))
        })
}

/// Two decimals are all a person reads, and they keep answers short.
fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use bollard::models::{
        ContainerBlkioStats, ContainerCpuStats, ContainerCpuUsage, ContainerMemoryStats,
        ContainerNetworkStats, ContainerPidsStats,
    };

    use super::*;

    fn cpu(total: u64, system: u64, online: Option<u32>) -> ContainerCpuStats {
        ContainerCpuStats {
            cpu_usage: Some(ContainerCpuUsage {
                total_usage: Some(total),
                percpu_usage: Some(vec![0; 4]),
                ..Default::default()
            }),
            system_cpu_usage: Some(system),
            online_cpus: online,
            ..Default::default()
        }
    }

    fn blkio(op: &str, value: u64) -> ContainerBlkioStatEntry {
        ContainerBlkioStatEntry {
            op: Some(op.into()),
            value: Some(value),
            ..Default::default()
        }
    }

    fn sample() -> ContainerStatsResponse {
        ContainerStatsResponse {
            read: serde_json::from_str("\"2026-11-22T07:00:01Z\"").ok(),
            cpu_stats: Some(cpu(3_000, 20_000, Some(2))),
            precpu_stats: Some(cpu(1_000, 10_000, Some(2))),
            memory_stats: Some(ContainerMemoryStats {
                usage: Some(300 << 20),
                limit: Some(1 << 30),
                stats: Some(HashMap::from([("inactive_file".to_string(), 44 << 20)])),
                ..Default::default()
            }),
            networks: Some(HashMap::from([
                (
                    "eth0".to_string(),
                    ContainerNetworkStats {
                        rx_bytes: Some(100),
                        tx_bytes: Some(10),
                        ..Default::default()
                    },
                ),
                (
                    "eth1".to_string(),
                    ContainerNetworkStats {
                        rx_bytes: Some(5),
                        tx_bytes: None,
                        ..Default::default()
                    },
                ),
            ])),
            blkio_stats: Some(ContainerBlkioStats {
                io_service_bytes_recursive: Some(vec![
                    blkio("Read", 4096),
                    blkio("Write", 8192),
                    blkio("read", 1),
                    blkio("Total", 99_999),
                ]),
                ..Default::default()
            }),
            pids_stats: Some(ContainerPidsStats {
                current: Some(7),
                limit: Some(1024),
            }),
            ..Default::default()
        }
    }

    #[test]
    fn figures_follow_the_docker_cli() {
        let stats = stats_from_engine(&sample());
        assert!(stats.running);
        // 2000 of 10000 system ticks on 2 CPUs: 40 %.
        assert_eq!(stats.cpu_percent, 40.0);
        assert_eq!(stats.online_cpus, 2);
        assert_eq!(stats.memory_usage_bytes, 256 << 20);
        assert_eq!(stats.memory_limit_bytes, 1 << 30);
        assert_eq!(stats.memory_percent, 25.0);
        assert_eq!((stats.network_rx_bytes, stats.network_tx_bytes), (105, 10));
        assert_eq!(
            (stats.block_read_bytes, stats.block_write_bytes),
            (4097, 8192)
        );
        assert_eq!(stats.pids, 7);
    }

    #[test]
    fn cgroup_v1_cache_and_cpu_count_fallbacks() {
        let mut raw = sample();
        raw.memory_stats.as_mut().unwrap().stats = Some(HashMap::from([
            ("total_inactive_file".to_string(), 100 << 20),
            ("inactive_file".to_string(), 1),
        ]));
        raw.cpu_stats = Some(cpu(3_000, 20_000, None));
        let stats = stats_from_engine(&raw);
        assert_eq!(stats.memory_usage_bytes, 200 << 20);
        // No online_cpus: the per-CPU list (4 entries) counts instead.
        assert_eq!(stats.online_cpus, 4);
        assert_eq!(stats.cpu_percent, 80.0);
    }

    #[test]
    fn stopped_or_odd_samples_give_zeros_not_garbage() {
        let stopped = ContainerStatsResponse {
            read: serde_json::from_str("\"0001-01-01T00:00:00Z\"").ok(),
            ..Default::default()
        };
        let stats = stats_from_engine(&stopped);
        assert!(!stats.running);
        assert_eq!(stats.cpu_percent, 0.0);
        assert_eq!(stats.memory_percent, 0.0);
        assert_eq!(stats.pids, 0);

        let mut backwards = sample();
        backwards.precpu_stats = Some(cpu(9_000, 30_000, Some(2)));
        let mut cache_too_big = backwards.memory_stats.clone().unwrap();
        cache_too_big.stats = Some(HashMap::from([("inactive_file".to_string(), 1 << 40)]));
        backwards.memory_stats = Some(cache_too_big);
        let stats = stats_from_engine(&backwards);
        assert_eq!(stats.cpu_percent, 0.0);
        assert_eq!(stats.memory_usage_bytes, 300 << 20);
    }
}
