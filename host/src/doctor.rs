//! `bulkhead doctor`: a pre-flight check an operator runs before `bulkhead serve`, with
//! the same arguments. It reports on the policy, the engine, its socket, the compiled
//! plugin cache, the plugins (read, vetted and inspected, never run) and the audit log,
//! one line per finding, and fails when `serve` would fail or refuse something.
//!
//! Each check is a function returning [`Check`] values; the verdicts that need no engine
//! or file are pure functions with table tests below.

use std::fmt;
use std::io::Write;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::bindings::DockerError;
use crate::cli::ServeArgs;
use crate::docker::DockerConnector;
use crate::runtime::PluginSource;
use crate::trust::TrustPolicy;

/// How long the engine may take to connect and answer `version` and `ping`.
const ENGINE_TIMEOUT: Duration = Duration::from_secs(5);

/// The engine bollard (and so the host) uses when `DOCKER_HOST` is unset.
const DEFAULT_DOCKER_HOST: &str = "unix:///var/run/docker.sock";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Ok,
    Warn,
    Fail,
}

/// One finding: printed as `ok   engine: Docker 20.10.24 …`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub level: Level,
    pub name: &'static str,
    pub detail: String,
}

impl Check {
    fn new(level: Level, name: &'static str, detail: impl Into<String>) -> Self {
        Check {
            level,
            name,
            detail: one_line(&detail.into()),
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = match self.level {
            Level::Ok => "ok",
            Level::Warn => "warn",
            Level::Fail => "fail",
        };
        write!(f, "{word:<4} {}: {}", self.name, self.detail)
    }
}

/// Multi-line error texts (the TOML parser's, for one) on one line.
fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs every check in order, printing each as it completes; an error when any failed.
pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let mut failed = 0;
    let mut report = |checks: Vec<Check>| -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        for check in checks {
            failed += usize::from(check.level == Level::Fail);
            writeln!(out, "{check}")?;
        }
        out.flush()
    };
    let (checked, args) = policy(args);
    report(vec![checked])?;
    report(vec![engine().await])?;
    let host = std::env::var("DOCKER_HOST").unwrap_or_else(|_| DEFAULT_DOCKER_HOST.into());
    report(vec![socket(&endpoint(&host))])?;
    report(vec![cache(args.cache_root().as_deref())])?;
    report(plugins(&args))?;
    report(vec![audit(args.audit_log.as_deref())])?;
    report(vec![http(&args.http)])?;
    if failed > 0 {
        anyhow::bail!("{failed} check(s) failed");
    }
    Ok(())
}

/// The policy file (if any) parsed and checked as `serve` would; answers the arguments
/// the other checks use (without the file's settings when it does not load).
pub fn policy(args: ServeArgs) -> (Check, ServeArgs) {
    let Some(file) = args.policy.clone() else {
        let check = match args.policy().and_then(|_| args.identity()) {
            Ok(_) => Check::new(Level::Ok, "policy", "no policy file; defaults apply"),
            Err(err) => Check::new(Level::Fail, "policy", format!("{err:#}")),
        };
        return (check, args);
    };
    let loaded = args.clone().with_policy_file().and_then(|loaded| {
        loaded.identity()?;
        let policy = loaded.policy()?;
        Ok((loaded, policy))
    });
    match loaded {
        Ok((loaded, policy)) => {
            let denied = if policy.tools_deny.is_empty() {
                "none".to_string()
            } else {
                policy
                    .tools_deny
                    .iter()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let detail = format!(
                "{}: ceiling {}, {} plugin grant(s), denied tools: {denied}",
                file.display(),
                crate::policy_file::tier_name(policy.ceiling()),
                policy.grants.len(),
            );
            (Check::new(Level::Ok, "policy", detail), loaded)
        }
        Err(err) => (Check::new(Level::Fail, "policy", format!("{err:#}")), args),
    }
}

/// Connects as the host does (honouring `DOCKER_HOST`, negotiating the API version) and
/// asks for the engine's version and a ping.
pub async fn engine() -> Check {
    let probe = async {
        let docker = DockerConnector::new()
            .client()
            .await
            .map_err(docker_error_text)?;
        let version = docker.version().await.map_err(|err| err.to_string())?;
        docker.ping().await.map_err(|err| err.to_string())?;
        Ok(version)
    };
    let answer = tokio::time::timeout(ENGINE_TIMEOUT, probe)
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {} s", ENGINE_TIMEOUT.as_secs())));
    engine_verdict(answer)
}

fn engine_verdict(answer: Result<bollard::models::SystemVersion, String>) -> Check {
    match answer {
        Ok(version) => {
            let field = |value: Option<String>| value.unwrap_or_else(|| "?".into());
            Check::new(
                Level::Ok,
                "engine",
                format!(
                    "Docker {} (API {}), {}/{}",
                    field(version.version),
                    field(version.api_version),
                    field(version.os),
                    field(version.arch)
                ),
            )
        }
        Err(reason) => Check::new(Level::Fail, "engine", reason),
    }
}

fn docker_error_text(err: DockerError) -> String {
    match err {
        DockerError::Denied(text)
        | DockerError::NotFound(text)
        | DockerError::ImageNotFound(text)
        | DockerError::Invalid(text)
        | DockerError::Conflict(text)
        | DockerError::PortInUse(text)
        | DockerError::Unavailable(text)
        | DockerError::Timeout(text)
        | DockerError::BudgetExceeded(text)
        | DockerError::Engine(text) => text,
    }
}

/// Where `DOCKER_HOST` points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Unix(PathBuf),
    /// `tcp://`, `http://` or `https://`; the address without any user part.
    Tcp {
        address: String,
        tls: bool,
    },
    /// A scheme this host does not speak (`ssh://`, `npipe://`, …).
    Other(String),
}

/// The endpoint a `DOCKER_HOST` value names, as bollard reads it. This host is built
/// without bollard's TLS support, so only `https://` counts as TLS (and the engine check
/// then fails); `DOCKER_TLS_VERIFY` over `tcp://` is not honoured.
pub fn endpoint(docker_host: &str) -> Endpoint {
    let (scheme, rest) = docker_host.split_once("://").unwrap_or(("", docker_host));
    let address = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    match scheme {
        "unix" => Endpoint::Unix(PathBuf::from(rest)),
        "tcp" | "http" => Endpoint::Tcp {
            address: address.into(),
            tls: false,
        },
        "https" => Endpoint::Tcp {
            address: address.into(),
            tls: true,
        },
        other => Endpoint::Other(other.into()),
    }
}

/// Who owns the engine's socket and who may write to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketFacts {
    pub is_socket: bool,
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
}

pub fn socket(endpoint: &Endpoint) -> Check {
    match endpoint {
        Endpoint::Unix(path) => {
            let facts = std::fs::metadata(path).map(|metadata| SocketFacts {
                is_socket: metadata.file_type().is_socket(),
                uid: metadata.uid(),
                gid: metadata.gid(),
                mode: metadata.mode() & 0o7777,
            });
            socket_verdict(path, facts)
        }
        Endpoint::Tcp { address, tls: true } => Check::new(
            Level::Ok,
            "socket",
            format!("tcp endpoint {address} with TLS, not a socket"),
        ),
        Endpoint::Tcp {
            address,
            tls: false,
        } => Check::new(
            Level::Warn,
            "socket",
            format!(
                "tcp endpoint {address}, not a socket, without TLS: anyone who can reach it controls the engine"
            ),
        ),
        Endpoint::Other(scheme) => Check::new(
            Level::Warn,
            "socket",
            format!("DOCKER_HOST scheme `{scheme}` is neither unix nor tcp; not checked"),
        ),
    }
}

fn socket_verdict(path: &Path, facts: std::io::Result<SocketFacts>) -> Check {
    let facts = match facts {
        Ok(facts) => facts,
        Err(err) => {
            return Check::new(Level::Fail, "socket", format!("{}: {err}", path.display()));
        }
    };
    let detail = format!(
        "{}: owner uid {} gid {}, mode {:o}",
        path.display(),
        facts.uid,
        facts.gid,
        facts.mode
    );
    if !facts.is_socket {
        Check::new(Level::Fail, "socket", format!("{detail}; not a socket"))
    } else if facts.mode & 0o002 != 0 {
        Check::new(
            Level::Warn,
            "socket",
            format!("{detail}; world-writable: anyone on this host controls the engine"),
        )
    } else {
        Check::new(Level::Ok, "socket", detail)
    }
}

/// The compiled-plugin cache, by the rule the runtime applies before loading from it.
pub fn cache(root: Option<&Path>) -> Check {
    let Some(root) = root else {
        return Check::new(
            Level::Ok,
            "cache",
            "disabled; plugins compile on every start",
        );
    };
    match std::fs::symlink_metadata(root) {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Check::new(
                Level::Ok,
                "cache",
                format!("{}: will be created on first start", root.display()),
            );
        }
        Err(err) => {
            return Check::new(
                Level::Warn,
                "cache",
                format!(
                    "{}: {err}; serve compiles every plugin on every start",
                    root.display()
                ),
            );
        }
        Ok(_) => {}
    }
    match crate::runtime::cache_trusted(root) {
        Ok(()) => Check::new(
            Level::Ok,
            "cache",
            format!("{}: exists, trusted for compiled plugins", root.display()),
        ),
        Err(reason) => Check::new(
            Level::Warn,
            "cache",
            format!(
                "{}: not trusted for compiled code ({reason}); serve compiles every plugin on every start",
                root.display()
            ),
        ),
    }
}

/// The built-in plugins and every `.wasm` in each plugin directory: size, digest, what
/// it imports and whether the trust policy lets it load. Nothing is instantiated.
pub fn plugins(args: &ServeArgs) -> Vec<Check> {
    let trust = &args.file_rules.trust;
    let mut checks = Vec::new();
    if !args.no_default_plugins {
        for source in crate::embedded::builtin_plugins() {
            checks.push(plugin(&source, None, trust));
        }
    }
    for dir in &args.plugin_dirs {
        let files = match crate::loader::plugin_files(dir) {
            Ok(files) => files,
            Err(err) => {
                checks.push(Check::new(Level::Fail, "plugins", format!("{err:#}")));
                continue;
            }
        };
        if files.is_empty() {
            checks.push(Check::new(
                Level::Warn,
                "plugins",
                format!("{}: no .wasm files", dir.display()),
            ));
        }
        for path in files {
            checks.push(match crate::loader::read_source(&path) {
                Ok(source) => plugin(&source, Some(&path), trust),
                Err(err) => Check::new(
                    Level::Fail,
                    "plugins",
                    format!("{}: cannot read: {err:#}", path.display()),
                ),
            });
        }
    }
    if checks.is_empty() {
        checks.push(Check::new(
            Level::Warn,
            "plugins",
            "none to load (--no-default-plugins and no --plugin-dir): serve would offer no tools",
        ));
    }
    checks
}

/// One plugin; `file` is where a plugin from disk lives (built-ins are not vetted).
fn plugin(source: &PluginSource, file: Option<&Path>, trust: &TrustPolicy) -> Check {
    let digest = &source.digest;
    let facts = format!(
        "{}: {} bytes, sha256 {}",
        source.origin,
        source.wasm.len(),
        &digest[..16]
    );
    let vetted = match file {
        None => Ok(None),
        Some(path) => trust.vet(path, &source.wasm, digest).map(Some),
    };
    let imports = crate::runtime::inspect_imports(&source.wasm).map_err(|err| format!("{err:#}"));
    plugin_verdict(facts, vetted, imports, trust.require_signatures)
}

/// `vetted`: `None` for a built-in, else what [`TrustPolicy::vet`] answered.
fn plugin_verdict(
    facts: String,
    vetted: Result<Option<Option<String>>, String>,
    imports: Result<crate::runtime::Imports, String>,
    signatures_required: bool,
) -> Check {
    let trust = match vetted {
        Err(reason) => {
            return Check::new(
                Level::Fail,
                "plugins",
                format!("{facts}; refused at load, not vetted: {reason}"),
            );
        }
        Ok(None) => "built-in".to_string(),
        Ok(Some(pinned)) => {
            let pin = pinned.map_or("not pinned".to_string(), |name| {
                format!("pinned as `{name}`")
            });
            if signatures_required {
                format!("{pin}, signature valid")
            } else {
                pin
            }
        }
    };
    match imports {
        Err(reason) => Check::new(
            Level::Fail,
            "plugins",
            format!("{facts}; refused at load: {reason}"),
        ),
        Ok(imports) if !imports.foreign.is_empty() => Check::new(
            Level::Fail,
            "plugins",
            format!(
                "{facts}; refused at load: imports interfaces this host does not provide: {}",
                imports.foreign.join(", ")
            ),
        ),
        Ok(imports) => Check::new(
            Level::Ok,
            "plugins",
            format!("{facts}; requests {}; {trust}", imports.requested),
        ),
    }
}

/// What the audit check needs to know about the log and its directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFacts {
    /// `None` when the file does not exist; else the verification's outcome.
    pub verified: Option<Result<u64, String>>,
    pub file_writable: bool,
    pub dir_exists: bool,
    pub dir_writable: bool,
}

/// `serve --http`: the credentials and TLS files load, and the bind is not exposed.
pub fn http(http: &crate::cli::HttpArgs) -> Check {
    let Some(addr) = http.addr else {
        return Check::new(Level::Ok, "http", "not configured; serving over stdio");
    };
    match crate::app::http_settings(http) {
        Err(err) => Check::new(Level::Fail, "http", format!("{err:#}")),
        Ok(settings) => {
            let who = match &settings.authentication {
                None => "no authentication (every request acts as the local operator)",
                Some(crate::transport::http_gate::Authentication::Tokens(_)) => "bearer tokens",
                Some(crate::transport::http_gate::Authentication::OAuth(_)) => {
                    "OAuth access tokens"
                }
                Some(
                    crate::transport::http_gate::Authentication::None(_)
                    | crate::transport::http_gate::Authentication::Unavailable(_),
                ) => "none",
            };
            let level = if !addr.ip().is_loopback() && settings.tls.is_none() {
                Level::Warn
            } else {
                Level::Ok
            };
            let tls = if settings.tls.is_some() {
                "TLS"
            } else {
                "no TLS"
            };
            Check::new(level, "http", format!("{addr}, {tls}, {who}"))
        }
    }
}

pub fn audit(path: Option<&Path>) -> Check {
    let Some(path) = path else {
        return Check::new(Level::Ok, "audit", "no audit log configured");
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let writable = |path: &Path| rustix::fs::access(path, rustix::fs::Access::WRITE_OK).is_ok();
    let verified = path.exists().then(|| {
        crate::audit::verify(path)
            .map(|verified| verified.lines)
            .map_err(|err| err.to_string())
    });
    let facts = AuditFacts {
        verified,
        file_writable: writable(path),
        dir_exists: dir.is_dir(),
        dir_writable: writable(dir),
    };
    audit_verdict(path, &facts)
}

fn audit_verdict(path: &Path, facts: &AuditFacts) -> Check {
    let shown = path.display();
    match &facts.verified {
        Some(Err(reason)) => Check::new(
            Level::Fail,
            "audit",
            format!("{shown} does not verify ({reason}); serve refuses to extend it"),
        ),
        Some(Ok(_)) if !facts.file_writable => Check::new(
            Level::Fail,
            "audit",
            format!("{shown} is not writable; serve cannot append to it"),
        ),
        Some(Ok(lines)) if !facts.dir_writable => Check::new(
            Level::Warn,
            "audit",
            format!(
                "{shown}: {lines} line(s), chain intact; its directory is not writable, so the log cannot be recreated there"
            ),
        ),
        Some(Ok(lines)) => Check::new(
            Level::Ok,
            "audit",
            format!("{shown}: {lines} line(s), chain intact"),
        ),
        None if !facts.dir_exists => Check::new(
            Level::Fail,
            "audit",
            format!("{shown}: its directory does not exist; serve cannot create the log"),
        ),
        None if !facts.dir_writable => Check::new(
            Level::Fail,
            "audit",
            format!("{shown}: its directory is not writable; serve cannot create the log"),
        ),
        None => Check::new(Level::Ok, "audit", format!("{shown}: will be created")),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn checks_print_as_one_aligned_line() {
        let check = Check::new(Level::Ok, "engine", "Docker 20.10\n  (API 1.41)");
        assert_eq!(check.to_string(), "ok   engine: Docker 20.10 (API 1.41)");
        let check = Check::new(Level::Warn, "cache", "x");
        assert_eq!(check.to_string(), "warn cache: x");
        assert_eq!(
            Check::new(Level::Fail, "audit", "x").to_string(),
            "fail audit: x"
        );
    }

    #[test]
    fn docker_host_names_the_endpoint() {
        let cases = [
            (
                "unix:///var/run/docker.sock",
                Endpoint::Unix("/var/run/docker.sock".into()),
            ),
            (
                "tcp://10.0.0.1:2375",
                Endpoint::Tcp {
                    address: "10.0.0.1:2375".into(),
                    tls: false,
                },
            ),
            (
                "https://user:secret@engine:2376",
                Endpoint::Tcp {
                    address: "engine:2376".into(),
                    tls: true,
                },
            ),
            ("ssh://me@engine", Endpoint::Other("ssh".into())),
            ("", Endpoint::Other("".into())),
        ];
        for (host, expected) in cases {
            assert_eq!(endpoint(host), expected, "{host}");
        }
    }

    #[test]
    fn socket_mode_decides_the_level() {
        let path = Path::new("/run/docker.sock");
        let facts = |is_socket, mode| {
            Ok(SocketFacts {
                is_socket,
                uid: 0,
                gid: 999,
                mode,
            })
        };
        let cases = [
            (facts(true, 0o660), Level::Ok),
            (facts(true, 0o600), Level::Ok),
            (facts(true, 0o666), Level::Warn),
            (facts(true, 0o662), Level::Warn),
            (facts(false, 0o660), Level::Fail),
            (Err(std::io::ErrorKind::NotFound.into()), Level::Fail),
        ];
        for (facts, level) in cases {
            let shown = format!("{facts:?}");
            assert_eq!(socket_verdict(path, facts).level, level, "{shown}");
        }
        assert_eq!(
            socket(&Endpoint::Unix("/nonexistent/docker.sock".into())).level,
            Level::Fail
        );
        let tcp = |tls| Endpoint::Tcp {
            address: "engine:2375".into(),
            tls,
        };
        assert_eq!(socket(&tcp(false)).level, Level::Warn);
        assert_eq!(socket(&tcp(true)).level, Level::Ok);
    }

    #[test]
    fn cache_levels() {
        assert_eq!(cache(None).level, Level::Ok);
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(cache(Some(&dir.path().join("missing"))).level, Level::Ok);
        let root = dir.path().join("cache");
        std::fs::create_dir(&root).unwrap();
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o700)).unwrap();
        assert_eq!(cache(Some(&root)).level, Level::Ok);
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert_eq!(cache(Some(&root)).level, Level::Warn);
    }

    #[test]
    fn plugin_verdicts() {
        let imports = |foreign: &[&str]| {
            Ok(crate::runtime::Imports {
                foreign: foreign.iter().map(|name| name.to_string()).collect(),
                ..Default::default()
            })
        };
        let cases = [
            (Ok(None), imports(&[]), false, Level::Ok),
            (Ok(Some(None)), imports(&[]), false, Level::Ok),
            (
                Ok(Some(Some("probe".into()))),
                imports(&[]),
                true,
                Level::Ok,
            ),
            (Err("unpinned".into()), imports(&[]), false, Level::Fail),
            (
                Ok(Some(None)),
                Err("not a component".into()),
                false,
                Level::Fail,
            ),
            (Ok(Some(None)), imports(&["acme:x/y"]), false, Level::Fail),
        ];
        for (vetted, imports, signed, level) in cases {
            let shown = format!("{vetted:?} {imports:?}");
            let check = plugin_verdict("p.wasm".into(), vetted, imports, signed);
            assert_eq!(check.level, level, "{shown}: {check}");
        }
    }

    #[test]
    fn garbage_in_a_plugin_dir_fails_and_a_missing_dir_fails() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("x.wasm"), b"not a component").unwrap();
        let args = ServeArgs {
            no_default_plugins: true,
            plugin_dirs: vec![dir.path().to_path_buf(), dir.path().join("missing")],
            ..ServeArgs::default()
        };
        let checks = plugins(&args);
        assert_eq!(checks.len(), 2, "{checks:?}");
        assert!(checks.iter().all(|check| check.level == Level::Fail));
        assert!(checks[0].detail.contains("x.wasm"), "{}", checks[0]);
    }

    #[test]
    fn audit_verdicts() {
        let path = Path::new("/var/log/bulkhead/audit.jsonl");
        let facts = |verified, file_writable, dir_exists, dir_writable| AuditFacts {
            verified,
            file_writable,
            dir_exists,
            dir_writable,
        };
        let cases = [
            (facts(Some(Ok(3)), true, true, true), Level::Ok),
            (facts(Some(Ok(3)), true, true, false), Level::Warn),
            (facts(Some(Ok(3)), false, true, true), Level::Fail),
            (
                facts(Some(Err("line 2".into())), true, true, true),
                Level::Fail,
            ),
            (facts(None, false, true, true), Level::Ok),
            (facts(None, false, true, false), Level::Fail),
            (facts(None, false, false, false), Level::Fail),
        ];
        for (facts, level) in cases {
            assert_eq!(audit_verdict(path, &facts).level, level, "{facts:?}");
        }
        assert_eq!(audit(None).level, Level::Ok);
    }

    #[test]
    fn an_edited_audit_log_fails() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        assert_eq!(audit(Some(&path)).level, Level::Ok);
        std::fs::write(&path, "{\"seq\":1}\n").unwrap();
        assert_eq!(audit(Some(&path)).level, Level::Fail);
    }

    #[test]
    fn policy_without_a_file_is_ok_and_a_bad_file_fails_with_its_line() {
        let (check, _) = policy(ServeArgs::default());
        assert_eq!(check.level, Level::Ok);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("policy.toml");
        std::fs::write(&file, "[server]\nread_only = false\nreadonly = true\n").unwrap();
        let (check, args) = policy(ServeArgs {
            policy: Some(file),
            ..ServeArgs::default()
        });
        assert_eq!(check.level, Level::Fail);
        assert!(check.detail.contains("line 3"), "{check}");
        assert!(!args.read_only);
    }
}
