//! The operator's policy file (`--policy FILE`, TOML): every `serve` flag has a key, and
//! per-plugin settings can only tighten the server's. Parsing is strict: an unknown key,
//! an unknown capability, a malformed value or a per-plugin setting looser than the
//! server's ceiling stops the server at start with the line that is wrong.
//!
//! Flags given on the command line override the file (`bulkhead serve --policy p.toml
//! --read-only` is read-only whatever the file says). `host/policy.example.toml` is a
//! commented example that a test keeps valid.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::capabilities::{Capability, CapabilitySet, Tier};
use crate::policy::Scope;
use crate::trust::{TrustPolicy, parse_public_key};

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    #[serde(default)]
    pub server: ServerSection,
    #[serde(default)]
    pub limits: LimitsSection,
    #[serde(default)]
    pub arguments: ArgumentsSection,
    /// Per plugin, by the name the plugin declares.
    #[serde(default)]
    pub plugins: BTreeMap<String, PluginSection>,
    #[serde(default)]
    pub trust: TrustSection,
    #[serde(default)]
    pub http: HttpSection,
}

/// `serve --http` and its flags (`bulkhead serve --help`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSection {
    /// `--http`: serve Streamable HTTP on this address instead of stdio.
    pub addr: Option<String>,
    /// `--tokens`.
    pub tokens: Option<PathBuf>,
    /// `--oauth-issuer`, `--oauth-jwks`, `--oauth-resource`, `--oauth-audience`,
    /// `--oauth-ca`.
    pub oauth_issuer: Option<String>,
    pub oauth_jwks: Option<PathBuf>,
    pub oauth_ca: Option<PathBuf>,
    pub oauth_resource: Option<String>,
    pub oauth_audience: Option<String>,
    /// `--tls-cert`, `--tls-key`.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// `--allowed-host`, `--allowed-origin`.
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// `--rate-limit`, `--rate-burst`, `--max-calls-in-flight`.
    pub rate_limit: Option<u64>,
    pub rate_burst: Option<u64>,
    pub max_calls_in_flight: Option<u64>,
}

/// Which plugin files may load at all.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustSection {
    /// Public keys (`ed25519:<hex>`) whose signatures are accepted.
    #[serde(default)]
    pub keys: Vec<Spanned<String>>,
    /// Every plugin from disk needs a `.sig` by one of `keys`.
    pub require_signatures: Option<bool>,
    /// Every plugin from disk must match a `sha256` pin (implied by any pin).
    pub require_pins: Option<bool>,
}

/// What the whole server may do.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    /// `--principal`: whom this server acts for (default `local:<uid>`).
    pub principal: Option<String>,
    /// `--read-only`: serve read tools only.
    pub read_only: Option<bool>,
    /// `--allow-destructive`: let remove and prune through.
    pub allow_destructive: Option<bool>,
    /// Only these tools are served (empty: all). Deny wins over allow.
    #[serde(default)]
    pub tools_allow: Vec<String>,
    /// These tools are never served.
    #[serde(default)]
    pub tools_deny: Vec<String>,
    /// Only plugins with these names may load (absent: all that load).
    pub plugins_allowed: Option<Vec<String>>,
    /// `--plugin-dir`.
    #[serde(default)]
    pub plugin_dirs: Vec<PathBuf>,
    /// `--no-default-plugins`.
    pub no_default_plugins: Option<bool>,
    /// `--watch`: reload plugin files that change while serving.
    pub watch: Option<bool>,
    /// `--audit-log`.
    pub audit_log: Option<PathBuf>,
    /// `--cache-dir`.
    pub cache_dir: Option<PathBuf>,
    /// `--no-cache`.
    pub no_cache: Option<bool>,
    /// How often the idle reaper looks for containers past their idle TTL (seconds).
    pub reap_interval_secs: Option<u64>,
}

/// Limits of every call.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSection {
    /// `--call-timeout`, seconds.
    pub call_timeout_secs: Option<u64>,
    /// `--memory-limit`, MiB per plugin instance.
    pub memory_mib: Option<u64>,
    /// `--output-limit`, KiB per answer.
    pub output_kib: Option<u64>,
    /// `--max-concurrent-calls`, per plugin.
    pub concurrent_calls: Option<u64>,
    /// `--max-queued-calls`: calls to one plugin that may wait for a slot.
    pub queued_calls: Option<u64>,
    /// Docker primitives one call may invoke.
    pub docker_requests: Option<u64>,
    /// Log messages one call may send to the host's log.
    pub log_lines: Option<u64>,
}

/// What create, volume and build arguments may ask for.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArgumentsSection {
    /// `--allow-bind`.
    pub allow_bind: Option<Vec<PathBuf>>,
    /// `--compose-dir`.
    pub compose_dirs: Option<Vec<PathBuf>>,
    /// `--allow-public-ports`.
    pub allow_public_ports: Option<bool>,
    /// `--allow-volume-driver`.
    pub allow_volume_drivers: Option<Vec<String>>,
    /// Image reference patterns containers may run and pulls fetch (absent: any).
    pub images: Option<Vec<String>>,
    /// Registries pulls and pushes may reach (absent: any).
    pub registries: Option<Vec<String>>,
    /// Networks containers may join besides `none` and their plugin's own (absent: any
    /// under scope `all`, `bridge` under scope `owned`).
    pub networks: Option<Vec<String>>,
    /// Host ports handed out to containers publishing a port without choosing one,
    /// `"8192-8199"`.
    pub port_pool: Option<String>,
    /// Label key patterns plugins may not set (default: Traefik's and caddy's routing
    /// labels). At the server it replaces the default; in a plugin's section it adds.
    pub label_deny: Option<Vec<String>>,
    /// `--max-memory`, MiB.
    pub max_memory_mib: Option<u64>,
    /// `--max-cpus`.
    pub max_cpus: Option<f64>,
    /// `--max-pids`.
    pub max_pids: Option<u64>,
    /// `--max-build-context`, MiB.
    pub max_build_context_mib: Option<u64>,
}

/// One plugin's settings.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginSection {
    /// Capabilities granted (replaces a built-in plugin's default grant).
    pub grants: Option<Vec<Spanned<String>>>,
    /// This plugin's own tier ceiling: `read`, `moderate` or `destructive`; at most the
    /// server's.
    pub tier: Option<Spanned<String>>,
    /// The sha256 of the only file that may load under this name.
    pub sha256: Option<Spanned<String>>,
    /// `owned` or `all` (default: `all` for built-in plugins, `owned` for others).
    pub scope: Option<Spanned<String>>,
    /// This plugin's own argument rules; each can only tighten the server's.
    pub arguments: Option<Spanned<ArgumentsSection>>,
    /// This plugin's own call limits; each at most the server's.
    pub limits: Option<Spanned<LimitsSection>>,
}

/// A plugin's own settings from the file, with the line each came from.
#[derive(Debug, Clone, Default)]
pub struct PluginFileSettings {
    pub scope: Option<Scope>,
    pub arguments: Option<(usize, ArgumentsSection)>,
    pub limits: Option<(usize, LimitsSection)>,
}

/// A policy file that cannot be used, with the place that is wrong.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct PolicyFileError {
    pub path: String,
    pub message: String,
}

/// What the file decides, checked, in the host's types.
#[derive(Debug, Default)]
pub struct Loaded {
    pub file: PolicyFile,
    pub grants: BTreeMap<String, CapabilitySet>,
    pub plugin_ceilings: BTreeMap<String, Tier>,
    pub plugin_settings: BTreeMap<String, PluginFileSettings>,
    pub trust: TrustPolicy,
}

/// Reads and checks `path`. `server_ceiling` is the ceiling after command-line flags,
/// so a per-plugin tier can be checked against it.
pub fn load(
    path: &Path,
    server_ceiling: impl Fn(&PolicyFile) -> Tier,
) -> Result<Loaded, PolicyFileError> {
    let text = std::fs::read_to_string(path).map_err(|err| PolicyFileError {
        path: path.display().to_string(),
        message: format!("cannot read: {err}"),
    })?;
    parse(&text, server_ceiling).map_err(|message| PolicyFileError {
        path: path.display().to_string(),
        message,
    })
}

/// Parses and checks a policy's text.
pub fn parse(text: &str, server_ceiling: impl Fn(&PolicyFile) -> Tier) -> Result<Loaded, String> {
    let file: PolicyFile =
        toml::from_str(text).map_err(|err| err.to_string().trim().to_string())?;
    let ceiling = server_ceiling(&file);
    let at = |span: std::ops::Range<usize>| line_of(text, span.start);
    let mut grants = BTreeMap::new();
    let mut plugin_ceilings = BTreeMap::new();
    let mut plugin_settings = BTreeMap::new();
    let mut trust = TrustPolicy::default();
    for (plugin, section) in &file.plugins {
        let mut settings = PluginFileSettings::default();
        if let Some(scope) = &section.scope {
            settings.scope = Some(Scope::parse(scope.get_ref()).ok_or_else(|| {
                format!(
                    "line {}: plugins.{plugin}.scope: `{}` is not owned or all",
                    at(scope.span()),
                    scope.get_ref()
                )
            })?);
        }
        settings.arguments = section
            .arguments
            .as_ref()
            .map(|a| (at(a.span()), a.get_ref().clone()));
        settings.limits = section
            .limits
            .as_ref()
            .map(|l| (at(l.span()), l.get_ref().clone()));
        plugin_settings.insert(plugin.clone(), settings);
        if let Some(list) = &section.grants {
            let mut set = CapabilitySet::EMPTY;
            for name in list {
                let cap: Capability = name.get_ref().parse().map_err(|err| {
                    format!("line {}: plugins.{plugin}.grants: {err}", at(name.span()))
                })?;
                set.insert(cap);
            }
            grants.insert(plugin.clone(), set);
        }
        if let Some(tier) = &section.tier {
            let parsed = parse_tier(tier.get_ref()).ok_or_else(|| {
                format!(
                    "line {}: plugins.{plugin}.tier: `{}` is not read, moderate or destructive",
                    at(tier.span()),
                    tier.get_ref()
                )
            })?;
            if parsed > ceiling {
                return Err(format!(
                    "line {}: plugins.{plugin}.tier `{}` is looser than the server's ceiling ({}); a plugin's setting can only tighten",
                    at(tier.span()),
                    tier.get_ref(),
                    tier_name(ceiling)
                ));
            }
            plugin_ceilings.insert(plugin.clone(), parsed);
        }
        if let Some(pin) = &section.sha256 {
            let digest = pin.get_ref();
            if digest.len() != 64
                || !digest
                    .chars()
                    .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
            {
                return Err(format!(
                    "line {}: plugins.{plugin}.sha256 is not 64 lowercase hex digits",
                    at(pin.span())
                ));
            }
            if let Some(other) = trust.pins.insert(digest.clone(), plugin.clone()) {
                return Err(format!(
                    "line {}: plugins.{plugin}.sha256 is also the pin of plugin `{other}`",
                    at(pin.span())
                ));
            }
        }
    }
    for key in &file.trust.keys {
        trust.keys.push(
            parse_public_key(key.get_ref())
                .map_err(|err| format!("line {}: trust.keys: {err}", at(key.span())))?,
        );
    }
    trust.require_signatures = file.trust.require_signatures.unwrap_or(false);
    trust.require_pins = file.trust.require_pins.unwrap_or(false);
    if trust.require_signatures && trust.keys.is_empty() {
        return Err("trust.require_signatures is true but trust.keys lists no key".into());
    }
    Ok(Loaded {
        file,
        grants,
        plugin_ceilings,
        plugin_settings,
        trust,
    })
}

fn parse_tier(name: &str) -> Option<Tier> {
    match name {
        "read" => Some(Tier::Read),
        "moderate" => Some(Tier::Moderate),
        "destructive" => Some(Tier::Destructive),
        _ => None,
    }
}

pub fn tier_name(tier: Tier) -> &'static str {
    match tier {
        Tier::Read => "read",
        Tier::Moderate => "moderate",
        Tier::Destructive => "destructive",
    }
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// A port range written `"8192-8199"`: both ends at least 1024, first ≤ last.
pub fn parse_port_range(text: &str) -> Result<std::ops::RangeInclusive<u16>, String> {
    let invalid =
        || format!("port_pool `{text}` is not a range such as \"8192-8199\" (ports 1024-65535)");
    let (first, last) = text.split_once('-').ok_or_else(invalid)?;
    let first: u16 = first.trim().parse().map_err(|_| invalid())?;
    let last: u16 = last.trim().parse().map_err(|_| invalid())?;
    if first < 1024 || first > last {
        return Err(invalid());
    }
    Ok(first..=last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moderate(_: &PolicyFile) -> Tier {
        Tier::Moderate
    }

    #[test]
    fn the_example_in_the_repository_is_valid() {
        let example = include_str!("../policy.example.toml");
        let loaded = parse(example, moderate).unwrap();
        assert_eq!(loaded.plugin_ceilings["containers"], Tier::Moderate);
        assert_eq!(loaded.file.server.tools_deny, ["docker_prune_system"]);
    }

    #[test]
    fn grants_and_plugin_tiers_are_read() {
        let loaded = parse(
            "[plugins.probe]\ngrants = [\"containers-read\"]\ntier = \"read\"\n",
            moderate,
        )
        .unwrap();
        assert_eq!(
            loaded.grants["probe"],
            [Capability::ContainersRead].into_iter().collect()
        );
        assert_eq!(loaded.plugin_ceilings["probe"], Tier::Read);
    }

    #[test]
    fn mistakes_fail_with_their_line() {
        let cases = [
            ("[server]\nread_only = true\nbogus = 1\n", "line 3"),
            ("[server]\nread_only = \"yes\"\n", "line 2"),
            (
                "[plugins.p]\n\ngrants = [\"containers-read\", \"docker-root\"]\n",
                "line 3",
            ),
            ("[plugins.p]\ntier = \"destructive\"\n", "line 2"),
            ("[plugins.p]\ntier = \"root\"\n", "line 2"),
            ("[limitz]\n", "line 1"),
        ];
        for (text, line) in cases {
            let err = parse(text, moderate).unwrap_err();
            assert!(err.contains(line), "{text:?}: {err}");
        }
    }
}
