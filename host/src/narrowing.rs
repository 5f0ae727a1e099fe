//! A plugin's own `[plugins.NAME.arguments]` and `[plugins.NAME.limits]` applied to the
//! server's settings. They can only tighten: a value looser than the server's (a higher
//! ceiling, a directory outside the server's bind roots, public ports the server does not
//! allow, a longer deadline…) is an error naming the key, and the server does not start.

use std::time::Duration;

use crate::argument_policy::ArgumentPolicy;
use crate::name_rules::NameRules;
use crate::policy_file::{ArgumentsSection, LimitsSection};
use crate::runtime::Limits;

/// The server's argument rules narrowed by a plugin's.
pub fn narrow_rules(
    server: &ArgumentPolicy,
    own: &ArgumentsSection,
) -> Result<ArgumentPolicy, String> {
    let mut rules = server.clone();
    if let Some(dirs) = &own.allow_bind {
        let canonical = ArgumentPolicy {
            extra_sensitive: server.extra_sensitive.clone(),
            ..ArgumentPolicy::default()
        }
        .with_bind_roots(dirs)
        .map_err(|err| format!("allow_bind: {err}"))?
        .bind_roots;
        if let Some(outside) = canonical
            .iter()
            .find(|dir| !server.bind_roots.iter().any(|root| dir.starts_with(root)))
        {
            return Err(format!(
                "allow_bind: `{}` is not under a directory the server allows",
                outside.display()
            ));
        }
        rules.bind_roots = canonical;
    }
    if let Some(public) = own.allow_public_ports {
        if public && !server.allow_public_ports {
            return looser("allow_public_ports", "true", "false");
        }
        rules.allow_public_ports = public;
    }
    if let Some(drivers) = &own.allow_volume_drivers {
        if let Some(extra) = drivers.iter().find(|d| !server.volume_drivers.contains(d)) {
            return Err(format!(
                "allow_volume_drivers: `{extra}` is not allowed by the server; a plugin's setting can only tighten"
            ));
        }
        rules.volume_drivers = drivers.clone();
    }
    rules.max_memory_bytes = ceiling(
        "max_memory_mib",
        server.max_memory_bytes,
        own.max_memory_mib.map(|mib| (mib as i64) << 20),
    )?;
    rules.max_nano_cpus = ceiling(
        "max_cpus",
        server.max_nano_cpus,
        own.max_cpus.map(|cpus| (cpus * 1e9).round() as i64),
    )?;
    rules.max_pids = ceiling("max_pids", server.max_pids, own.max_pids.map(|n| n as i64))?;
    if let Some(mib) = own.max_build_context_mib {
        let bytes = mib << 20;
        if bytes > server.max_build_context_bytes {
            return looser(
                "max_build_context_mib",
                &mib.to_string(),
                &(server.max_build_context_bytes >> 20).to_string(),
            );
        }
        rules.max_build_context_bytes = bytes;
    }
    if let Some(text) = &own.port_pool {
        let pool = crate::policy_file::parse_port_range(text)?;
        if pool.start() < server.port_pool.start() || pool.end() > server.port_pool.end() {
            return Err(format!(
                "port_pool {text} is not within the server's {}-{}; a plugin's setting can only tighten",
                server.port_pool.start(),
                server.port_pool.end()
            ));
        }
        rules.port_pool = pool;
    }
    let own_names = NameRules {
        images: own.images.clone(),
        registries: own.registries.clone(),
        networks: own.networks.clone(),
        label_deny: own.label_deny.clone().unwrap_or_default(),
    };
    rules.names = server.names.narrowed_by(&own_names)?;
    rules.validated().map_err(|err| format!("arguments: {err}"))
}

/// The server's call limits narrowed by a plugin's.
pub fn narrow_limits(server: &Limits, own: &LimitsSection) -> Result<Limits, String> {
    let mut limits = server.clone();
    if let Some(secs) = own.call_timeout_secs {
        if secs == 0 || Duration::from_secs(secs) > server.call_timeout {
            return looser(
                "call_timeout_secs",
                &secs.to_string(),
                &server.call_timeout.as_secs().to_string(),
            );
        }
        limits.call_timeout = Duration::from_secs(secs);
    }
    limits.memory_bytes = at_most("memory_mib", own.memory_mib, server.memory_bytes >> 20, 4)?
        .map_or(server.memory_bytes, |mib| mib << 20);
    limits.output_bytes = at_most("output_kib", own.output_kib, server.output_bytes >> 10, 16)?
        .map_or(server.output_bytes, |kib| kib << 10);
    limits.concurrent_calls_per_plugin = at_most(
        "concurrent_calls",
        own.concurrent_calls,
        server.concurrent_calls_per_plugin,
        1,
    )?
    .unwrap_or(server.concurrent_calls_per_plugin);
    limits.queued_calls_per_plugin = at_most(
        "queued_calls",
        own.queued_calls,
        server.queued_calls_per_plugin,
        0,
    )?
    .unwrap_or(server.queued_calls_per_plugin);
    limits.docker_calls_per_call = at_most(
        "docker_requests",
        own.docker_requests,
        server.docker_calls_per_call as usize,
        1,
    )?
    .map_or(server.docker_calls_per_call, |n| n as u32);
    limits.log_messages_per_call = at_most(
        "log_lines",
        own.log_lines,
        server.log_messages_per_call as usize,
        0,
    )?
    .map_or(server.log_messages_per_call, |n| n as u32);
    Ok(limits)
}

/// A ceiling that may only come down: `None` on the server means no ceiling.
fn ceiling(key: &str, server: Option<i64>, own: Option<i64>) -> Result<Option<i64>, String> {
    match (server, own) {
        (Some(server), Some(own)) if own > server => {
            looser(key, &own.to_string(), &server.to_string())
        }
        (server, None) => Ok(server),
        (_, own) => Ok(own),
    }
}

fn at_most(
    key: &str,
    own: Option<u64>,
    server: usize,
    minimum: u64,
) -> Result<Option<usize>, String> {
    match own {
        None => Ok(None),
        Some(value) if value < minimum => Err(format!("{key} must be at least {minimum}")),
        Some(value) if value as usize > server => {
            looser(key, &value.to_string(), &server.to_string())
        }
        Some(value) => Ok(Some(value as usize)),
    }
}

fn looser<T>(key: &str, own: &str, server: &str) -> Result<T, String> {
    Err(format!(
        "{key} = {own} is looser than the server's {server}; a plugin's setting can only tighten"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_only_come_down() {
        let server = Limits::default();
        let own = LimitsSection {
            call_timeout_secs: Some(5),
            memory_mib: Some(16),
            docker_requests: Some(8),
            ..LimitsSection::default()
        };
        let narrowed = narrow_limits(&server, &own).unwrap();
        assert_eq!(narrowed.call_timeout, Duration::from_secs(5));
        assert_eq!(narrowed.memory_bytes, 16 << 20);
        assert_eq!(narrowed.docker_calls_per_call, 8);
        assert_eq!(narrowed.output_bytes, server.output_bytes);
        for wider in [
            LimitsSection {
                call_timeout_secs: Some(3600),
                ..LimitsSection::default()
            },
            LimitsSection {
                concurrent_calls: Some(1000),
                ..LimitsSection::default()
            },
            LimitsSection {
                memory_mib: Some(4096),
                ..LimitsSection::default()
            },
        ] {
            assert!(
                narrow_limits(&server, &wider)
                    .unwrap_err()
                    .contains("looser")
            );
        }
    }

    #[test]
    fn argument_rules_only_tighten() {
        let dir = tempfile::tempdir().unwrap();
        let inner = dir.path().join("inner");
        std::fs::create_dir(&inner).unwrap();
        let server = ArgumentPolicy {
            max_memory_bytes: Some(1 << 30),
            ..ArgumentPolicy::default()
        }
        .with_bind_roots([dir.path()])
        .unwrap();
        let own = ArgumentsSection {
            allow_bind: Some(vec![inner.clone()]),
            max_memory_mib: Some(256),
            max_pids: Some(64),
            images: Some(vec!["bulkhead-test/*".into()]),
            ..ArgumentsSection::default()
        };
        let narrowed = narrow_rules(&server, &own).unwrap();
        assert_eq!(narrowed.bind_roots, [inner.canonicalize().unwrap()]);
        assert_eq!(narrowed.max_memory_bytes, Some(256 << 20));
        assert_eq!(narrowed.max_pids, Some(64));
        assert_eq!(narrowed.names.images, own.images);

        let outside = tempfile::tempdir().unwrap();
        let wider = [
            ArgumentsSection {
                allow_bind: Some(vec![outside.path().to_path_buf()]),
                ..ArgumentsSection::default()
            },
            ArgumentsSection {
                allow_public_ports: Some(true),
                ..ArgumentsSection::default()
            },
            ArgumentsSection {
                max_memory_mib: Some(4096),
                ..ArgumentsSection::default()
            },
            ArgumentsSection {
                allow_volume_drivers: Some(vec!["rexray".into()]),
                ..ArgumentsSection::default()
            },
        ];
        for section in wider {
            assert!(narrow_rules(&server, &section).is_err(), "{section:?}");
        }
    }
}
