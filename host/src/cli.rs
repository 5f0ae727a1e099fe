//! Command-line interface of the `bulkhead` binary.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::argument_policy::ArgumentPolicy;
use crate::capabilities::CapabilitySet;
use crate::policy::Policy;
use crate::runtime::Limits;

#[derive(Debug, Parser)]
#[command(
    name = "bulkhead",
    version,
    propagate_version = true,
    about = "MCP server that lets AI agents manage Docker through sandboxed WebAssembly plugins"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve MCP over stdio (stdout carries only protocol; logs go to stderr).
    Serve(ServeArgs),
    /// Load the plugins as `serve` would and print what each provides and is granted.
    Plugins(ServeArgs),
    /// Work with an audit log written by `serve --audit-log`.
    #[command(subcommand)]
    Audit(AuditCommand),
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check that no line of FILE was edited, removed, inserted or moved.
    Verify {
        /// The audit log.
        file: PathBuf,
    },
}

#[derive(Debug, Args, Clone)]
pub struct ServeArgs {
    /// Also load every `.wasm` component in DIR (repeatable). Such plugins get no
    /// capability until granted with --grant.
    #[arg(long = "plugin-dir", value_name = "DIR")]
    pub plugin_dirs: Vec<PathBuf>,

    /// Grant capabilities to a plugin: NAME=CAP[,CAP…] (repeatable). Replaces a built-in
    /// plugin's default grant. Example: --grant probe=containers-read
    #[arg(long = "grant", value_name = "PLUGIN=CAPS", value_parser = parse_grant)]
    pub grants: Vec<(String, CapabilitySet)>,

    /// Allow destructive operations (container removal, …). Off by default: such
    /// tools are hidden and refused.
    #[arg(long, env = "BULKHEAD_ALLOW_DESTRUCTIVE")]
    pub allow_destructive: bool,

    /// Serve read-only tools only.
    #[arg(long, env = "BULKHEAD_READ_ONLY", conflicts_with = "allow_destructive")]
    pub read_only: bool,

    /// Wall-clock limit of one tool call, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600), env = "BULKHEAD_CALL_TIMEOUT")]
    pub call_timeout: u64,

    /// Memory limit of one plugin instance, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 64, value_parser = clap::value_parser!(u64).range(4..=4096), env = "BULKHEAD_MEMORY_LIMIT")]
    pub memory_limit: u64,

    /// Calls to one plugin that may run at once; more are refused with DKR-013.
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub max_concurrent_calls: u64,

    /// Largest answer one tool call may return, in KiB.
    #[arg(long, value_name = "KIB", default_value_t = 512, value_parser = clap::value_parser!(u64).range(16..=65536))]
    pub output_limit: u64,

    /// Where compiled plugins are cached. Default: $XDG_CACHE_HOME/bulkhead or
    /// ~/.cache/bulkhead.
    #[arg(long, value_name = "DIR", env = "BULKHEAD_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Compile plugins on every start instead of caching them.
    #[arg(long)]
    pub no_cache: bool,

    /// Do not load the built-in plugins (only --plugin-dir ones).
    #[arg(long)]
    pub no_default_plugins: bool,

    /// Append one hash-chained JSON line per tool call to FILE (check it with
    /// `bulkhead audit verify FILE`).
    #[arg(long, value_name = "FILE", env = "BULKHEAD_AUDIT_LOG")]
    pub audit_log: Option<PathBuf>,

    /// Let bind mounts and build contexts come from under DIR (repeatable). Default:
    /// none. Sensitive paths (the Docker socket, /etc, ~/.ssh, …) stay refused.
    #[arg(long = "allow-bind", value_name = "DIR")]
    pub allow_bind: Vec<PathBuf>,

    /// Let ports be published on non-loopback addresses and on host ports below 1024.
    #[arg(long, env = "BULKHEAD_ALLOW_PUBLIC_PORTS")]
    pub allow_public_ports: bool,

    /// Let volumes use this driver (repeatable); `local` also allows local mount types
    /// other than tmpfs (nfs, cifs, …). Bind-like volumes are always checked as binds.
    #[arg(long = "allow-volume-driver", value_name = "NAME")]
    pub allow_volume_driver: Vec<String>,

    /// Most memory a container may ask for, in MiB; also its default. Asking for more
    /// is refused, never clamped.
    #[arg(long, value_name = "MIB", value_parser = clap::value_parser!(u64).range(6..=1 << 30))]
    pub max_memory: Option<u64>,

    /// Most CPUs a container may ask for (for example 2 or 0.5); also its default.
    #[arg(long, value_name = "CPUS", value_parser = parse_cpus)]
    pub max_cpus: Option<f64>,

    /// Most processes a container may ask for; the default limit is 1024 or this.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1 << 22))]
    pub max_pids: Option<u64>,

    /// Largest image build context, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=16384))]
    pub max_build_context: u64,
}

fn parse_cpus(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(cpus) if cpus.is_finite() && cpus > 0.0 && cpus <= 1024.0 => Ok(cpus),
        _ => Err(format!("`{text}`: a number of CPUs between 0 and 1024")),
    }
}

fn parse_grant(text: &str) -> Result<(String, CapabilitySet), String> {
    let (plugin, caps) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}`: expected PLUGIN=CAP[,CAP…]"))?;
    if plugin.is_empty() {
        return Err(format!("`{text}`: the plugin name is empty"));
    }
    let caps = CapabilitySet::parse_list(caps).map_err(|err| err.to_string())?;
    Ok((plugin.to_string(), caps))
}

impl ServeArgs {
    pub fn policy(&self) -> Policy {
        let mut policy = Policy {
            allow_destructive: self.allow_destructive,
            read_only: self.read_only,
            ..Policy::default()
        };
        for (plugin, caps) in &self.grants {
            let entry = policy.grants.entry(plugin.clone()).or_default();
            *entry = entry.union(*caps);
        }
        policy
    }

    /// The operator's rules for arguments; fails on an allowed directory that is missing
    /// or sensitive.
    pub fn argument_policy(&self) -> anyhow::Result<ArgumentPolicy> {
        let mut extra_sensitive = Vec::new();
        // The socket DOCKER_HOST names is as sensitive as the default one.
        if let Some(socket) = std::env::var("DOCKER_HOST")
            .ok()
            .and_then(|host| host.strip_prefix("unix://").map(PathBuf::from))
            .filter(|path| path.is_absolute())
        {
            extra_sensitive.push(socket);
        }
        let policy = ArgumentPolicy {
            allow_public_ports: self.allow_public_ports,
            volume_drivers: self.allow_volume_driver.clone(),
            max_memory_bytes: self.max_memory.map(|mib| (mib as i64) << 20),
            max_nano_cpus: self.max_cpus.map(|cpus| (cpus * 1e9).round() as i64),
            max_pids: self.max_pids.map(|n| n as i64),
            max_build_context_bytes: self.max_build_context << 20,
            extra_sensitive,
            ..ArgumentPolicy::default()
        };
        Ok(policy.with_bind_roots(&self.allow_bind)?)
    }

    pub fn limits(&self) -> Limits {
        Limits {
            call_timeout: Duration::from_secs(self.call_timeout),
            memory_bytes: (self.memory_limit as usize) << 20,
            output_bytes: (self.output_limit as usize) << 10,
            concurrent_calls_per_plugin: self.max_concurrent_calls as usize,
            ..Limits::default()
        }
    }

    pub fn cache_root(&self) -> Option<PathBuf> {
        if self.no_cache {
            return None;
        }
        if let Some(dir) = &self.cache_dir {
            return Some(dir.clone());
        }
        let base = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
        Some(base.join("bulkhead"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capabilities::Capability;

    #[test]
    fn grants_parse_and_merge() {
        let cli = Cli::try_parse_from([
            "bulkhead",
            "serve",
            "--grant",
            "probe=containers-read",
            "--grant",
            "probe=containers-manage",
        ])
        .unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("serve expected")
        };
        let granted = args.policy().grants["probe"];
        assert!(
            granted.contains(Capability::ContainersRead)
                && granted.contains(Capability::ContainersManage)
        );
    }

    #[test]
    fn rejects_unknown_capabilities_and_bad_limits() {
        assert!(Cli::try_parse_from(["bulkhead", "serve", "--grant", "probe=root"]).is_err());
        assert!(Cli::try_parse_from(["bulkhead", "serve", "--grant", "probe"]).is_err());
        assert!(Cli::try_parse_from(["bulkhead", "serve", "--call-timeout", "0"]).is_err());
        assert!(
            Cli::try_parse_from(["bulkhead", "serve", "--read-only", "--allow-destructive"])
                .is_err()
        );
    }
}
