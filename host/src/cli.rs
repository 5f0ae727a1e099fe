//! Command-line interface of the `bulkhead` binary.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::argument_policy::ArgumentPolicy;
use crate::capabilities::CapabilitySet;
use crate::policy::{PluginOverrides, Policy};
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
    /// Check, before serving, what `serve` with these arguments would meet: the policy,
    /// the engine and its socket, the cache, the plugins and the audit log.
    Doctor(ServeArgs),
    /// Create an ed25519 key pair for signing plugins: the secret key goes to FILE (mode
    /// 0600), the public key (for the policy's trust.keys) to stdout.
    Keygen {
        /// Where to write the secret key; refused if it exists.
        #[arg(long = "out", value_name = "FILE")]
        out: PathBuf,
    },
    /// Create a plugin project, or sign, verify or inspect a plugin file.
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// Work with a policy file (`serve --policy FILE`).
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Work with an audit log written by `serve --audit-log`.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Bearer tokens for `serve --http --tokens FILE`.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Make a token for PRINCIPAL: its hash is appended to FILE (created mode 0600), the
    /// token itself printed once on stdout. Scopes: read (read-only tools), write (also
    /// tools that change state), admin (also destructive ones, if the policy allows).
    New {
        /// The token file.
        #[arg(long = "file", value_name = "FILE")]
        file: PathBuf,
        /// Whom the token authenticates: the owner of what its calls create.
        #[arg(long, value_name = "NAME")]
        principal: String,
        #[arg(long, value_name = "SCOPE", default_value = "read", value_parser = ["read", "write", "admin"])]
        scope: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Write FILE.sig: the signature of FILE by the secret key in KEY.
    Sign {
        #[arg(long, value_name = "KEY")]
        key: PathBuf,
        file: PathBuf,
    },
    /// Check FILE.sig against FILE and a public key (`ed25519:…`).
    Verify {
        #[arg(long, value_name = "PUBLIC_KEY")]
        key: String,
        file: PathBuf,
    },
    /// What FILE asks for (its imports) and its sha256, read without running it.
    Inspect { file: PathBuf },
    /// Write a new plugin project NAME (a folder in DIR) with one tool, the WIT files it
    /// builds against, and a README with the build and run commands.
    New {
        /// The plugin's name: lowercase letters, digits and `-`; its tools are prefixed
        /// with it (dashes as underscores).
        name: String,
        /// The language of the project.
        #[arg(long, value_enum, default_value = "rust")]
        lang: crate::scaffold::Lang,
        /// Where to create the project's folder.
        #[arg(long, value_name = "DIR", default_value = ".")]
        dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Check FILE as `serve --policy FILE` would, without serving.
    Check {
        /// The policy file.
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check that no line of FILE was edited, removed, inserted or moved.
    Verify {
        /// The audit log.
        file: PathBuf,
    },
}

#[derive(Debug, Args, Clone, Default)]
pub struct ServeArgs {
    /// Read settings from a TOML policy file (see host/policy.example.toml); flags given
    /// here override it.
    #[arg(long, value_name = "FILE", env = "BULKHEAD_POLICY")]
    pub policy: Option<PathBuf>,

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
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(CALL_TIMEOUT_SECS), env = "BULKHEAD_CALL_TIMEOUT")]
    pub call_timeout: Option<u64>,

    /// Memory limit of one plugin instance, in MiB.
    #[arg(long, value_name = "MIB", value_parser = clap::value_parser!(u64).range(MEMORY_LIMIT_MIB), env = "BULKHEAD_MEMORY_LIMIT")]
    pub memory_limit: Option<u64>,

    /// Calls to one plugin that may run at once; more wait in its queue.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(CONCURRENT_CALLS))]
    pub max_concurrent_calls: Option<u64>,

    /// Calls to one plugin that may wait for a free slot (each until its deadline);
    /// more are refused with DKR-013. 0 refuses at once when every slot is taken.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(QUEUED_CALLS))]
    pub max_queued_calls: Option<u64>,

    /// Largest answer one tool call may return, in KiB.
    #[arg(long, value_name = "KIB", value_parser = clap::value_parser!(u64).range(OUTPUT_LIMIT_KIB))]
    pub output_limit: Option<u64>,

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

    /// Watch the --plugin-dir folders while serving: a plugin file added, replaced or
    /// removed is loaded (vetted as at start), swapped or dropped without a restart, and
    /// clients get notifications/tools/list_changed. Calls in flight finish on the old
    /// version; a new file that does not load leaves the old version serving.
    #[arg(long, env = "BULKHEAD_WATCH")]
    pub watch: bool,

    /// Append one hash-chained JSON line per tool call to FILE (check it with
    /// `bulkhead audit verify FILE`).
    #[arg(long, value_name = "FILE", env = "BULKHEAD_AUDIT_LOG")]
    pub audit_log: Option<PathBuf>,

    /// Let bind mounts and build contexts come from under DIR (repeatable). Default:
    /// none. Sensitive paths (the Docker socket, /etc, ~/.ssh, …) stay refused.
    #[arg(long = "allow-bind", value_name = "DIR")]
    pub allow_bind: Vec<PathBuf>,

    /// Let the compose plugin read compose files, `.env` files and build contexts under
    /// DIR (repeatable; read-only, never mounted). Default: none, so stacks come as YAML
    /// text only.
    #[arg(long = "compose-dir", value_name = "DIR")]
    pub compose_dir: Vec<PathBuf>,

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
    #[arg(long, value_name = "MIB", value_parser = clap::value_parser!(u64).range(BUILD_CONTEXT_MIB))]
    pub max_build_context: Option<u64>,

    /// Whom this server acts for: stamped as `io.bulkhead.owner` on everything it
    /// creates and checked under scope `owned`. Default: local:<uid>.
    #[arg(long, value_name = "NAME", env = "BULKHEAD_PRINCIPAL")]
    pub principal: Option<String>,

    #[command(flatten)]
    pub http: HttpArgs,

    /// What only a policy file can say (tool lists, per-plugin tiers, allowed plugins).
    #[arg(skip)]
    pub file_rules: FileRules,
}

/// `serve --http` and what goes with it.
#[derive(Debug, Args, Clone, Default)]
pub struct HttpArgs {
    /// Serve MCP Streamable HTTP on ADDR (for example 127.0.0.1:8080) at path /mcp,
    /// instead of stdio. A non-loopback ADDR needs --tokens and --allowed-host.
    #[arg(long = "http", value_name = "ADDR", env = "BULKHEAD_HTTP")]
    pub addr: Option<std::net::SocketAddr>,

    /// Require `Authorization: Bearer` with a token from FILE (made by `bulkhead token
    /// new`). Without it, every HTTP request acts as the local operator.
    #[arg(
        long = "tokens",
        value_name = "FILE",
        env = "BULKHEAD_TOKENS",
        requires = "addr",
        conflicts_with = "oauth_issuer"
    )]
    pub tokens: Option<PathBuf>,

    /// Accept OAuth 2.1 access tokens (JWTs) issued by URL, the authorization server's
    /// issuer identifier. Needs --oauth-jwks and --oauth-resource.
    #[arg(long = "oauth-issuer", value_name = "URL", requires_all = ["addr", "oauth_jwks", "oauth_resource"])]
    pub oauth_issuer: Option<String>,

    /// The authorization server's signing keys: a JWKS file (re-read on SIGHUP), or its
    /// https:// URL (fetched at start, every 10 minutes, and when a token names a key
    /// the set lacks; plain http:// only from a loopback address).
    #[arg(
        long = "oauth-jwks",
        value_name = "FILE|URL",
        requires = "oauth_issuer"
    )]
    pub oauth_jwks: Option<PathBuf>,

    /// Also trust the CA certificates in FILE (PEM) when fetching --oauth-jwks from a
    /// URL, besides the Mozilla roots.
    #[arg(long = "oauth-ca", value_name = "FILE", requires = "oauth_jwks")]
    pub oauth_ca: Option<PathBuf>,

    /// This server's public MCP URL (for example https://mcp.example.com/mcp): its
    /// resource identifier in the protected-resource metadata.
    #[arg(long = "oauth-resource", value_name = "URL", requires = "oauth_issuer")]
    pub oauth_resource: Option<String>,

    /// The audience tokens must name. Default: --oauth-resource.
    #[arg(long = "oauth-audience", value_name = "AUD", requires = "oauth_issuer")]
    pub oauth_audience: Option<String>,

    /// Also answer requests whose Host is HOST or HOST:PORT (repeatable); loopback
    /// names are always allowed.
    #[arg(long = "allowed-host", value_name = "HOST", requires = "addr")]
    pub allowed_hosts: Vec<String>,

    /// Let browser pages from ORIGIN (scheme://host[:port|:*]) call (repeatable).
    /// Default: only pages served from this machine (localhost, 127.0.0.1, [::1]).
    #[arg(long = "allowed-origin", value_name = "ORIGIN", requires = "addr")]
    pub allowed_origins: Vec<String>,

    /// Serve HTTPS with the PEM certificate chain in FILE (needs --tls-key).
    #[arg(long = "tls-cert", value_name = "FILE", requires_all = ["addr", "tls_key"])]
    pub tls_cert: Option<PathBuf>,

    /// The PEM private key of --tls-cert (not readable by everybody).
    #[arg(long = "tls-key", value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Sustained requests per second for each principal over HTTP (default 50).
    #[arg(long = "rate-limit", value_name = "PER_SEC", value_parser = clap::value_parser!(u64).range(RATE_PER_SECOND), requires = "addr")]
    pub rate_per_second: Option<u64>,

    /// Requests a principal may send at once above its sustained rate (default 200).
    #[arg(long = "rate-burst", value_name = "N", value_parser = clap::value_parser!(u64).range(RATE_BURST), requires = "addr")]
    pub rate_burst: Option<u64>,

    /// Tool calls the whole server runs at once, over all clients and plugins; more
    /// are refused with DKR-013 (default 256).
    #[arg(long = "max-calls-in-flight", value_name = "N", value_parser = clap::value_parser!(u64).range(CALLS_IN_FLIGHT))]
    pub max_calls_in_flight: Option<u64>,
}

impl HttpArgs {
    pub fn rate_per_second(&self) -> u32 {
        self.rate_per_second.unwrap_or(50) as u32
    }

    pub fn rate_burst(&self) -> u32 {
        self.rate_burst.unwrap_or(200) as u32
    }

    pub fn max_calls_in_flight(&self) -> usize {
        self.max_calls_in_flight.unwrap_or(256) as usize
    }

    /// Folds the policy file's `[http]` section in: flags win, lists add up.
    fn fold(
        &mut self,
        file: crate::policy_file::HttpSection,
        path: &std::path::Path,
    ) -> anyhow::Result<()> {
        let where_ = |key: &str| format!("{}: http.{key}", path.display());
        if self.addr.is_none()
            && let Some(addr) = &file.addr
        {
            self.addr = Some(addr.parse().map_err(|_| {
                anyhow::anyhow!(
                    "{}: `{addr}` is not an address such as 127.0.0.1:8080",
                    where_("addr")
                )
            })?);
        }
        self.tokens = self.tokens.take().or(file.tokens);
        self.oauth_issuer = self.oauth_issuer.take().or(file.oauth_issuer);
        self.oauth_jwks = self.oauth_jwks.take().or(file.oauth_jwks);
        self.oauth_ca = self.oauth_ca.take().or(file.oauth_ca);
        self.oauth_resource = self.oauth_resource.take().or(file.oauth_resource);
        self.oauth_audience = self.oauth_audience.take().or(file.oauth_audience);
        self.tls_cert = self.tls_cert.take().or(file.tls_cert);
        self.tls_key = self.tls_key.take().or(file.tls_key);
        self.allowed_hosts.extend(file.allowed_hosts);
        self.allowed_origins.extend(file.allowed_origins);
        self.rate_per_second = self.rate_per_second.or(in_range(
            &where_("rate_limit"),
            file.rate_limit,
            RATE_PER_SECOND,
        )?);
        self.rate_burst = self.rate_burst.or(in_range(
            &where_("rate_burst"),
            file.rate_burst,
            RATE_BURST,
        )?);
        self.max_calls_in_flight = self.max_calls_in_flight.or(in_range(
            &where_("max_calls_in_flight"),
            file.max_calls_in_flight,
            CALLS_IN_FLIGHT,
        )?);
        Ok(())
    }
}

const RATE_PER_SECOND: std::ops::RangeInclusive<u64> = 1..=100_000;
const RATE_BURST: std::ops::RangeInclusive<u64> = 1..=1_000_000;
const CALLS_IN_FLIGHT: std::ops::RangeInclusive<u64> = 1..=65_536;

/// Allowed ranges, shared by the flags and the policy file's keys.
const CALL_TIMEOUT_SECS: std::ops::RangeInclusive<u64> = 1..=3600;
const MEMORY_LIMIT_MIB: std::ops::RangeInclusive<u64> = 4..=4096;
const CONCURRENT_CALLS: std::ops::RangeInclusive<u64> = 1..=1024;
const QUEUED_CALLS: std::ops::RangeInclusive<u64> = 0..=65536;
const OUTPUT_LIMIT_KIB: std::ops::RangeInclusive<u64> = 16..=65536;
const BUILD_CONTEXT_MIB: std::ops::RangeInclusive<u64> = 1..=16384;
const MAX_MEMORY_MIB: std::ops::RangeInclusive<u64> = 6..=1 << 30;
const MAX_PIDS: std::ops::RangeInclusive<u64> = 1..=1 << 22;
const DOCKER_REQUESTS: std::ops::RangeInclusive<u64> = 1..=100_000;
const REAP_INTERVAL_SECS: std::ops::RangeInclusive<u64> = 1..=3600;
const LOG_LINES: std::ops::RangeInclusive<u64> = 0..=100_000;

/// Settings only the policy file has.
#[derive(Debug, Clone, Default)]
pub struct FileRules {
    pub tools_allow: Vec<String>,
    pub tools_deny: Vec<String>,
    pub plugins_allowed: Option<Vec<String>>,
    pub plugin_ceilings: std::collections::BTreeMap<String, crate::capabilities::Tier>,
    /// Plugins the file grants to; each must load.
    pub granted_plugins: Vec<String>,
    /// Pins and signatures plugins from disk must satisfy.
    pub trust: crate::trust::TrustPolicy,
    /// The server's lists of images, registries, networks and denied label keys.
    pub names: crate::name_rules::NameRules,
    /// `server.reap_interval_secs`.
    pub reap_interval_secs: Option<u64>,
    /// `arguments.port_pool`.
    pub port_pool: Option<std::ops::RangeInclusive<u16>>,
    /// `limits.docker_requests` and `limits.log_lines`.
    pub docker_requests: Option<u64>,
    pub log_lines: Option<u64>,
    /// Per-plugin scope, arguments and limits, as written.
    pub plugin_settings: std::collections::BTreeMap<String, crate::policy_file::PluginFileSettings>,
}

/// `value` when it lies in `range`, else an error naming the key.
fn in_range(
    key: &str,
    value: Option<u64>,
    range: std::ops::RangeInclusive<u64>,
) -> anyhow::Result<Option<u64>> {
    match value {
        Some(v) if !range.contains(&v) => anyhow::bail!(
            "{key} = {v} is out of range ({}..={})",
            range.start(),
            range.end()
        ),
        other => Ok(other),
    }
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
    /// Folds the policy file (if any) into these arguments: a flag given on the command
    /// line wins, a key in the file fills what the flags left open, lists add up, and a
    /// `--grant` replaces the file's grant for that plugin.
    pub fn with_policy_file(mut self) -> anyhow::Result<ServeArgs> {
        let Some(path) = self.policy.clone() else {
            return Ok(self);
        };
        let flags_read_only = self.read_only;
        let flags_destructive = self.allow_destructive;
        let loaded = crate::policy_file::load(&path, |file| {
            Policy {
                read_only: flags_read_only || file.server.read_only.unwrap_or(false),
                allow_destructive: flags_destructive
                    || file.server.allow_destructive.unwrap_or(false),
                ..Policy::default()
            }
            .ceiling()
        })?;
        let file = loaded.file;
        let where_ = |key: &str| format!("{}: {key}", path.display());
        self.read_only |= file.server.read_only.unwrap_or(false);
        self.allow_destructive |= file.server.allow_destructive.unwrap_or(false);
        self.no_default_plugins |= file.server.no_default_plugins.unwrap_or(false);
        self.no_cache |= file.server.no_cache.unwrap_or(false);
        self.watch |= file.server.watch.unwrap_or(false);
        self.plugin_dirs.extend(file.server.plugin_dirs);
        self.audit_log = self.audit_log.or(file.server.audit_log);
        self.cache_dir = self.cache_dir.or(file.server.cache_dir);
        self.call_timeout = self.call_timeout.or(in_range(
            &where_("limits.call_timeout_secs"),
            file.limits.call_timeout_secs,
            CALL_TIMEOUT_SECS,
        )?);
        self.memory_limit = self.memory_limit.or(in_range(
            &where_("limits.memory_mib"),
            file.limits.memory_mib,
            MEMORY_LIMIT_MIB,
        )?);
        self.output_limit = self.output_limit.or(in_range(
            &where_("limits.output_kib"),
            file.limits.output_kib,
            OUTPUT_LIMIT_KIB,
        )?);
        self.max_concurrent_calls = self.max_concurrent_calls.or(in_range(
            &where_("limits.concurrent_calls"),
            file.limits.concurrent_calls,
            CONCURRENT_CALLS,
        )?);
        self.max_queued_calls = self.max_queued_calls.or(in_range(
            &where_("limits.queued_calls"),
            file.limits.queued_calls,
            QUEUED_CALLS,
        )?);
        self.principal = self.principal.or(file.server.principal.clone());
        self.http.fold(file.http, &path)?;
        let reap_interval_secs = in_range(
            &where_("server.reap_interval_secs"),
            file.server.reap_interval_secs,
            REAP_INTERVAL_SECS,
        )?;
        let docker_requests = in_range(
            &where_("limits.docker_requests"),
            file.limits.docker_requests,
            DOCKER_REQUESTS,
        )?;
        let log_lines = in_range(
            &where_("limits.log_lines"),
            file.limits.log_lines,
            LOG_LINES,
        )?;
        let arguments = file.arguments;
        let mut names = crate::name_rules::NameRules {
            images: arguments.images,
            registries: arguments.registries,
            networks: arguments.networks,
            ..crate::name_rules::NameRules::default()
        };
        if let Some(deny) = arguments.label_deny {
            names.label_deny = deny;
        }
        let port_pool = arguments
            .port_pool
            .as_deref()
            .map(crate::policy_file::parse_port_range)
            .transpose()
            .map_err(|err| anyhow::anyhow!("{}: {err}", where_("arguments.port_pool")))?;
        self.allow_bind
            .extend(arguments.allow_bind.unwrap_or_default());
        self.compose_dir
            .extend(arguments.compose_dirs.unwrap_or_default());
        self.allow_public_ports |= arguments.allow_public_ports.unwrap_or(false);
        self.allow_volume_driver
            .extend(arguments.allow_volume_drivers.unwrap_or_default());
        self.max_memory = self.max_memory.or(in_range(
            &where_("arguments.max_memory_mib"),
            arguments.max_memory_mib,
            MAX_MEMORY_MIB,
        )?);
        if let Some(cpus) = arguments.max_cpus {
            parse_cpus(&cpus.to_string())
                .map_err(|err| anyhow::anyhow!("{}: {err}", where_("arguments.max_cpus")))?;
        }
        self.max_cpus = self.max_cpus.or(arguments.max_cpus);
        self.max_pids = self.max_pids.or(in_range(
            &where_("arguments.max_pids"),
            arguments.max_pids,
            MAX_PIDS,
        )?);
        self.max_build_context = self.max_build_context.or(in_range(
            &where_("arguments.max_build_context_mib"),
            arguments.max_build_context_mib,
            BUILD_CONTEXT_MIB,
        )?);
        if self.read_only && self.allow_destructive {
            tracing::warn!("read-only mode wins over allow-destructive");
        }
        let flag_grants: Vec<String> = self.grants.iter().map(|(p, _)| p.clone()).collect();
        let file_grants: Vec<(String, CapabilitySet)> = loaded
            .grants
            .into_iter()
            .filter(|(plugin, _)| !flag_grants.contains(plugin))
            .collect();
        self.file_rules = FileRules {
            tools_allow: file.server.tools_allow,
            tools_deny: file.server.tools_deny,
            plugins_allowed: file.server.plugins_allowed,
            plugin_ceilings: loaded.plugin_ceilings,
            trust: loaded.trust,
            names,
            port_pool,
            reap_interval_secs,
            docker_requests,
            log_lines,
            plugin_settings: loaded.plugin_settings,
            granted_plugins: file_grants
                .iter()
                .map(|(plugin, _)| plugin.clone())
                .collect(),
        };
        self.grants.splice(0..0, file_grants);
        Ok(self)
    }

    /// The whole policy: tiers, grants, tool lists, the server's argument rules and
    /// limits, and each plugin's own settings (checked to be no looser than the
    /// server's).
    pub fn policy(&self) -> anyhow::Result<Policy> {
        let rules = Arc::new(self.argument_policy()?);
        let limits = self.limits();
        let mut policy = Policy {
            allow_destructive: self.allow_destructive,
            read_only: self.read_only,
            tools_allow: self.file_rules.tools_allow.iter().cloned().collect(),
            tools_deny: self.file_rules.tools_deny.iter().cloned().collect(),
            plugins_allowed: self
                .file_rules
                .plugins_allowed
                .as_ref()
                .map(|names| names.iter().cloned().collect()),
            plugin_ceilings: self.file_rules.plugin_ceilings.clone(),
            plugin_overrides: self.plugin_overrides(&rules, &limits)?,
            rules,
            limits,
            ..Policy::default()
        };
        // File grants for plugins that also have a `--grant` were dropped when the file
        // was read, so the flag replaces them; several `--grant`s for one plugin add up.
        for (plugin, caps) in &self.grants {
            let entry = policy.grants.entry(plugin.clone()).or_default();
            *entry = entry.union(*caps);
        }
        Ok(policy)
    }

    fn plugin_overrides(
        &self,
        rules: &ArgumentPolicy,
        limits: &Limits,
    ) -> anyhow::Result<std::collections::BTreeMap<String, PluginOverrides>> {
        let file = self
            .policy
            .as_deref()
            .map_or_else(|| "policy".to_string(), |path| path.display().to_string());
        let mut overrides = std::collections::BTreeMap::new();
        for (plugin, own) in &self.file_rules.plugin_settings {
            let rules = own
                .arguments
                .as_ref()
                .map(|(line, section)| {
                    crate::narrowing::narrow_rules(rules, section).map_err(|err| {
                        anyhow::anyhow!("{file}: line {line}: plugins.{plugin}.arguments: {err}")
                    })
                })
                .transpose()?;
            let limits = own
                .limits
                .as_ref()
                .map(|(line, section)| {
                    crate::narrowing::narrow_limits(limits, section).map_err(|err| {
                        anyhow::anyhow!("{file}: line {line}: plugins.{plugin}.limits: {err}")
                    })
                })
                .transpose()?;
            if let (Some(asked), Some(forced)) = (own.scope, crate::embedded::forced_scope(plugin))
                && asked != forced
            {
                anyhow::bail!(
                    "{file}: plugins.{plugin}.scope: the {plugin} plugin always runs with scope `{forced}`"
                );
            }
            overrides.insert(
                plugin.clone(),
                PluginOverrides {
                    scope: own.scope,
                    rules: rules.map(Arc::new),
                    limits,
                    sets_networks: own
                        .arguments
                        .as_ref()
                        .is_some_and(|(_, section)| section.networks.is_some()),
                },
            );
        }
        Ok(overrides)
    }

    /// Whom the server acts for, with a new session id.
    pub fn identity(&self) -> anyhow::Result<crate::identity::Identity> {
        crate::identity::Identity::new(self.principal.as_deref()).map_err(anyhow::Error::msg)
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
            max_build_context_bytes: self.max_build_context.map_or(
                crate::argument_policy::DEFAULT_MAX_BUILD_CONTEXT_BYTES,
                |mib| mib << 20,
            ),
            extra_sensitive,
            names: self.file_rules.names.clone(),
            port_pool: self
                .file_rules
                .port_pool
                .clone()
                .unwrap_or(crate::argument_policy::DEFAULT_PORT_POOL),
            read_roots: self.compose_dir.clone(),
            ..ArgumentPolicy::default()
        };
        Ok(policy.with_bind_roots(&self.allow_bind)?)
    }

    pub fn limits(&self) -> Limits {
        let defaults = Limits::default();
        Limits {
            call_timeout: self
                .call_timeout
                .map_or(defaults.call_timeout, Duration::from_secs),
            memory_bytes: self
                .memory_limit
                .map_or(defaults.memory_bytes, |mib| (mib as usize) << 20),
            output_bytes: self
                .output_limit
                .map_or(defaults.output_bytes, |kib| (kib as usize) << 10),
            concurrent_calls_per_plugin: self
                .max_concurrent_calls
                .map_or(defaults.concurrent_calls_per_plugin, |n| n as usize),
            queued_calls_per_plugin: self
                .max_queued_calls
                .map_or(defaults.queued_calls_per_plugin, |n| n as usize),
            docker_calls_per_call: self
                .file_rules
                .docker_requests
                .map_or(defaults.docker_calls_per_call, |n| n as u32),
            log_messages_per_call: self
                .file_rules
                .log_lines
                .map_or(defaults.log_messages_per_call, |n| n as u32),
        }
    }

    /// How often the idle reaper sweeps.
    pub fn reap_interval(&self) -> Duration {
        self.file_rules
            .reap_interval_secs
            .map_or(crate::reaper::DEFAULT_INTERVAL, Duration::from_secs)
    }

    /// Where live sessions keep their lock files: beside the cache, or in the temporary
    /// directory (per user) without one.
    pub fn sessions_dir(&self) -> PathBuf {
        match self.cache_root() {
            Some(root) => root.join("sessions"),
            None => std::env::temp_dir()
                .join(format!("bulkhead-{}", rustix::process::geteuid().as_raw()))
                .join("sessions"),
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
        let granted = args.policy().unwrap().grants["probe"];
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
