//! Argument policy: the operator's rules for what a container create, a volume create or
//! an image build may ask of the engine.
//!
//! The engine does whatever a request says, as root. Capabilities decide *which* primitives
//! a plugin may call; this module decides *what arguments* those calls may carry: which host
//! paths may be bind-mounted or sent as a build context, which volume drivers may run, where
//! ports may be published, and how much memory, CPU and processes a container may take.
//!
//! It is pure logic plus filesystem look-ups (canonicalisation, listing a directory to look
//! for credential directories), so every rule has a table test. The Docker primitives call
//! it and turn [`PolicyError::Invalid`] into an invalid-argument answer and
//! [`PolicyError::Refused`] into a denial that names the rule and the flag that loosens it.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs;
use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Component, Path, PathBuf};

use crate::name_rules::NameRules;

/// The port pool unless the operator says otherwise.
pub const DEFAULT_PORT_POOL: std::ops::RangeInclusive<u16> = 8192..=8199;
/// Process limit given to a container that asks for none: a fork bomb stops here.
pub const DEFAULT_PIDS_LIMIT: i64 = 1024;
/// Largest build context unless the operator says otherwise (`--max-build-context`).
pub const DEFAULT_MAX_BUILD_CONTEXT_BYTES: u64 = 64 << 20;
/// `security_opt` every container gets: setuid binaries cannot gain privileges.
pub const NO_NEW_PRIVILEGES: &str = "no-new-privileges:true";

/// Log driver and options every container gets, so a chatty container cannot fill the
/// host's disk: json-file, at most three files of 10 MB.
pub fn default_log_config() -> (&'static str, Vec<(&'static str, &'static str)>) {
    ("json-file", vec![("max-size", "10m"), ("max-file", "3")])
}

/// Rule names carried by [`Refusal::rule`]. Stable: callers and tests match on them.
pub mod rule {
    pub const SENSITIVE_PATH: &str = "sensitive-path";
    pub const BIND_OUTSIDE_ALLOWED_DIRS: &str = "bind-outside-allowed-dirs";
    pub const BIND_SOURCE_MISSING: &str = "bind-source-missing";
    pub const BIND_SOURCE_UNRESOLVABLE: &str = "bind-source-unresolvable";
    pub const VOLUME_DRIVER: &str = "volume-driver";
    pub const VOLUME_DRIVER_OPTS: &str = "volume-driver-opts";
    pub const PUBLIC_PORT: &str = "public-port";
    pub const PRIVILEGED_PORT: &str = "privileged-port";
    pub const MEMORY_CEILING: &str = "memory-ceiling";
    pub const CPU_CEILING: &str = "cpu-ceiling";
    pub const PIDS_CEILING: &str = "pids-ceiling";
    pub const BUILD_CONTEXT_SIZE: &str = "build-context-size";
    pub const BUILD_NETWORK: &str = "build-network";
}

const FLAG_ALLOW_BIND: &str = "--allow-bind DIR";
const FLAG_ALLOW_PUBLIC_PORTS: &str = "--allow-public-ports";
const FLAG_ALLOW_VOLUME_DRIVER: &str = "--allow-volume-driver NAME";
const FLAG_ALLOW_LOCAL_OPTS: &str = "--allow-volume-driver local";
const FLAG_MAX_MEMORY: &str = "--max-memory";
const FLAG_MAX_CPUS: &str = "--max-cpus";
const FLAG_MAX_PIDS: &str = "--max-pids";
const FLAG_MAX_BUILD_CONTEXT: &str = "--max-build-context";

/// Host trees no bind may equal, lie under, or contain. The sockets come first so that
/// binding one is reported as itself rather than as "inside /run".
const SENSITIVE_TREES: &[&str] = &[
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/etc",
    "/root",
    "/proc",
    "/sys",
    "/dev",
    "/boot",
    "/var/lib/docker",
    // The containerd image store (Docker's default since 29) holds every layer.
    "/var/lib/containerd",
    "/run",
    "/var/run",
];

/// Directories that hold credentials. A path through one is refused, and so is a directory
/// holding one as a child or grandchild (a home directory, or `/home`).
pub const CREDENTIAL_DIRS: &[&str] = &[".ssh", ".aws", ".kube", ".docker", ".gnupg"];

/// The engine's own minimum for a memory limit; a lower ceiling would refuse everything.
const MIN_MEMORY_BYTES: i64 = 6 << 20;
/// Linux `PATH_MAX`.
const MAX_PATH_BYTES: usize = 4096;
/// Linux `MAXSYMLINKS`.
const MAX_SYMLINK_HOPS: u32 = 40;
/// Longest piece of caller text quoted back in a message.
const MAX_SHOWN_CHARS: usize = 200;
/// How many allowed directories a refusal lists.
const MAX_ROOTS_SHOWN: usize = 5;

/// Operator settings (from CLI flags today; a policy file later).
#[derive(Debug, Clone)]
pub struct ArgumentPolicy {
    /// Directories under which bind-mount sources and build contexts may lie
    /// (`--allow-bind DIR`, repeatable). Canonical once built through
    /// [`ArgumentPolicy::with_bind_roots`] or [`ArgumentPolicy::validated`]; a root that is not
    /// canonical simply matches nothing. Empty = no binds at all.
    pub bind_roots: Vec<PathBuf>,
    /// Directories whose files may be read but never mounted (`--compose-dir DIR`,
    /// repeatable): compose files, their `.env` and build contexts. Canonical once
    /// validated, like `bind_roots`.
    pub read_roots: Vec<PathBuf>,
    /// `--allow-public-ports`: bindings to non-loopback addresses and host ports < 1024.
    pub allow_public_ports: bool,
    /// Volume drivers other than `local` that may be used (`--allow-volume-driver NAME`).
    /// `local` in this list lifts the restriction on `local` mount types (never the bind check).
    pub volume_drivers: Vec<String>,
    /// Ceilings (`--max-memory`, `--max-cpus`, `--max-pids`); None = no ceiling.
    pub max_memory_bytes: Option<i64>,
    pub max_nano_cpus: Option<i64>,
    pub max_pids: Option<i64>,
    /// Largest build context, in bytes (`--max-build-context`, default 64 MiB).
    pub max_build_context_bytes: u64,
    /// Extra sensitive paths (for example the socket named by DOCKER_HOST).
    pub extra_sensitive: Vec<PathBuf>,
    /// Allow and deny lists by name: images, registries, networks, label keys.
    pub names: NameRules,
    /// Host ports (on 127.0.0.1) handed out to containers that publish a port without
    /// choosing one.
    pub port_pool: std::ops::RangeInclusive<u16>,
}

impl Default for ArgumentPolicy {
    /// No binds, no public ports, no extra drivers, no ceilings, 64 MiB build context.
    fn default() -> Self {
        Self {
            bind_roots: Vec::new(),
            read_roots: Vec::new(),
            allow_public_ports: false,
            volume_drivers: Vec::new(),
            max_memory_bytes: None,
            max_nano_cpus: None,
            max_pids: None,
            max_build_context_bytes: DEFAULT_MAX_BUILD_CONTEXT_BYTES,
            extra_sensitive: Vec::new(),
            names: NameRules::default(),
            port_pool: DEFAULT_PORT_POOL,
        }
    }
}

/// A refusal: which rule, what was asked, and the flag that loosens it (None when nothing
/// may loosen it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub rule: &'static str,
    pub detail: String,
    pub loosen_with: Option<&'static str>,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (rule: {}", self.detail, self.rule)?;
        match self.loosen_with {
            Some(flag) => write!(f, "; the operator can allow it with {flag})"),
            None => write!(f, "); nothing loosens this"),
        }
    }
}

impl std::error::Error for Refusal {}

/// Why a check did not pass: the argument is malformed (the caller answers
/// invalid-argument) or well-formed but against the operator's policy (denied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyError {
    Invalid(String),
    Refused(Refusal),
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Invalid(message) => f.write_str(message),
            Self::Refused(refusal) => refusal.fmt(f),
        }
    }
}

impl std::error::Error for PolicyError {}

impl From<Refusal> for PolicyError {
    fn from(refusal: Refusal) -> Self {
        Self::Refused(refusal)
    }
}

/// The operator's settings cannot be used; the host should not start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyConfigError {
    pub message: String,
}

impl fmt::Display for PolicyConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PolicyConfigError {}

fn config_error(message: String) -> PolicyConfigError {
    PolicyConfigError { message }
}

/// Resource limits of a container, as asked and as granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Resources {
    pub memory_bytes: Option<i64>,
    pub nano_cpus: Option<i64>,
    pub pids_limit: Option<i64>,
}

/// What a host path is being checked for; only changes the wording and the directory test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PathUse {
    Bind,
    VolumeDevice,
    BuildContext,
}

impl PathUse {
    fn noun(self) -> &'static str {
        match self {
            Self::Bind => "bind mount",
            Self::VolumeDevice => "volume device",
            Self::BuildContext => "build context",
        }
    }
}

impl ArgumentPolicy {
    /// Sets the allowed bind roots and validates the whole policy (see [`Self::validated`]).
    /// Set `extra_sensitive` first: roots are checked against it here.
    pub fn with_bind_roots<I, P>(mut self, roots: I) -> Result<Self, PolicyConfigError>
    where
        I: IntoIterator<Item = P>,
        P: AsRef<Path>,
    {
        self.bind_roots = roots
            .into_iter()
            .map(|p| p.as_ref().to_path_buf())
            .collect();
        self.validated()
    }

    /// Canonicalises `bind_roots` and refuses settings that cannot be meant: a root that does
    /// not exist, is not a directory, or is itself sensitive (`/`, `/etc`, `/var`, a home
    /// directory holding `.ssh`…); a relative sensitive path; a ceiling that is not positive,
    /// or a memory ceiling below the engine's 6 MiB minimum.
    pub fn validated(mut self) -> Result<Self, PolicyConfigError> {
        for extra in &self.extra_sensitive {
            if !extra.is_absolute() {
                return Err(config_error(format!(
                    "sensitive path `{}` must be absolute",
                    show_path(extra)
                )));
            }
        }
        let trees = self.sensitive_trees();
        let mut roots: Vec<PathBuf> = Vec::new();
        for asked in &self.bind_roots {
            let root = canonical_root(asked, &trees)?;
            if !roots.contains(&root) {
                roots.push(root);
            }
        }
        self.bind_roots = roots;
        let mut read_roots: Vec<PathBuf> = Vec::new();
        for asked in &self.read_roots {
            let root = canonical_root(asked, &trees)?;
            if !read_roots.contains(&root) {
                read_roots.push(root);
            }
        }
        self.read_roots = read_roots;

        if let Some(max) = self.max_memory_bytes
            && max < MIN_MEMORY_BYTES
        {
            return Err(config_error(format!(
                "--max-memory must be at least {MIN_MEMORY_BYTES} bytes (6 MiB), the engine's minimum"
            )));
        }
        if self.max_nano_cpus.is_some_and(|max| max <= 0) {
            return Err(config_error("--max-cpus must be positive".into()));
        }
        if self.max_pids.is_some_and(|max| max <= 0) {
            return Err(config_error("--max-pids must be positive".into()));
        }
        if self.max_build_context_bytes == 0 {
            return Err(config_error("--max-build-context must be positive".into()));
        }
        Ok(self)
    }

    /// Checks a bind-mount source and returns its canonical path, which the caller must pass
    /// to the engine instead of the string it was given (so a symlink swapped in after the
    /// check cannot redirect the mount). The returned path is valid UTF-8 and has no `:`.
    ///
    /// The engine resolves the path again when the container starts, so whoever can write
    /// under a root (another container binding it, say) could still swap a component for a
    /// symlink in between; checking again just before start narrows that window.
    pub fn check_bind_source(&self, source: &str) -> Result<PathBuf, PolicyError> {
        self.check_host_path(source, PathUse::Bind)
    }

    /// Checks a build-context directory by the bind rules (same rule names) and returns its
    /// canonical path; a path that is not a directory is invalid.
    pub fn check_build_context_dir(&self, dir: &str) -> Result<PathBuf, PolicyError> {
        self.check_host_path(dir, PathUse::BuildContext)
    }

    /// Refuses a build context larger than `--max-build-context`.
    pub fn check_build_context_size(&self, bytes: u64) -> Result<(), PolicyError> {
        if bytes > self.max_build_context_bytes {
            return Err(refused(
                rule::BUILD_CONTEXT_SIZE,
                format!(
                    "build context of {bytes} bytes refused: the limit is {} bytes",
                    self.max_build_context_bytes
                ),
                Some(FLAG_MAX_BUILD_CONTEXT),
            ));
        }
        Ok(())
    }

    /// Checks a volume create and returns the driver options to send. For a bind-form
    /// `local` volume, `device` is replaced by its canonical path; otherwise the options are
    /// returned unchanged.
    ///
    /// * `None`, `""` or `local` with no options, or with `type=tmpfs`: allowed.
    /// * `local` in bind form (`type=none`, or `bind`/`rbind` among the comma-separated `o`):
    ///   `device` is checked exactly as a bind source; nothing skips this.
    /// * `local` with any other mount type (nfs, cifs, a block device…): refused
    ///   (`volume-driver-opts`) unless `local` is in `volume_drivers`.
    /// * Any other driver: refused (`volume-driver`) unless listed in `volume_drivers`; its
    ///   options are the driver's business and pass unchanged.
    pub fn check_volume(
        &self,
        driver: Option<&str>,
        driver_opts: &BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, String>, PolicyError> {
        let driver = driver.unwrap_or("");
        if !driver.is_empty() && driver != "local" {
            if self.volume_drivers.iter().any(|allowed| allowed == driver) {
                return Ok(driver_opts.clone());
            }
            return Err(refused(
                rule::VOLUME_DRIVER,
                format!(
                    "volume driver `{}` refused: only `local` is allowed{}",
                    shown(driver),
                    self.extra_drivers_note()
                ),
                Some(FLAG_ALLOW_VOLUME_DRIVER),
            ));
        }
        if driver_opts.is_empty() {
            return Ok(BTreeMap::new());
        }
        for key in driver_opts.keys() {
            if !matches!(key.as_str(), "type" | "o" | "device" | "size") {
                return Err(PolicyError::Invalid(format!(
                    "unknown option `{}` for the local volume driver (type, o, device, size)",
                    shown(key)
                )));
            }
        }
        let kind = driver_opts.get("type").map_or("", |t| t.trim());
        let bind_form = kind == "none"
            || driver_opts.get("o").is_some_and(|o| {
                o.split(',')
                    .any(|opt| matches!(opt.trim(), "bind" | "rbind"))
            });
        if bind_form {
            let Some(device) = driver_opts.get("device") else {
                return Err(PolicyError::Invalid(
                    "a bind-form local volume needs `device`, the host directory".into(),
                ));
            };
            let canonical = self.check_host_path(device, PathUse::VolumeDevice)?;
            let mut opts = driver_opts.clone();
            // check_host_path only returns UTF-8 paths.
            opts.insert("device".into(), canonical.to_string_lossy().into_owned());
            return Ok(opts);
        }
        let harmless = kind == "tmpfs" || (kind.is_empty() && !driver_opts.contains_key("device"));
        if harmless || self.volume_drivers.iter().any(|allowed| allowed == "local") {
            return Ok(driver_opts.clone());
        }
        let what = if kind.is_empty() {
            "a `device` without a `type`".to_string()
        } else {
            format!("type `{}`", shown(kind))
        };
        Err(refused(
            rule::VOLUME_DRIVER_OPTS,
            format!(
                "local volume with {what} refused: only tmpfs and bind-form local volumes are allowed"
            ),
            Some(FLAG_ALLOW_LOCAL_OPTS),
        ))
    }

    /// Checks a port publication and returns the host IP to bind, in canonical form.
    /// Omitted or empty = `127.0.0.1`. Loopback (127.0.0.0/8, `::1`, IPv4-mapped loopback)
    /// is always fine; anything else, and host ports 1-1023, need `--allow-public-ports`.
    pub fn check_port(
        &self,
        host_ip: Option<&str>,
        host_port: Option<u16>,
    ) -> Result<String, PolicyError> {
        let text = host_ip.map_or("", str::trim);
        let ip = if text.is_empty() {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        } else {
            let bare = text
                .strip_prefix('[')
                .and_then(|t| t.strip_suffix(']'))
                .unwrap_or(text);
            bare.parse::<IpAddr>()
                .map_err(|_| {
                    PolicyError::Invalid(format!("`{}` is not an IP address", shown(text)))
                })?
                // `::ffff:127.0.0.1` is loopback too; the engine gets the plain IPv4 form.
                .to_canonical()
        };
        if !ip.is_loopback() && !self.allow_public_ports {
            let what = if ip.is_unspecified() {
                "every interface"
            } else {
                "a non-loopback address"
            };
            return Err(refused(
                rule::PUBLIC_PORT,
                format!(
                    "publishing on {ip} refused: that is {what}, and ports bind to loopback only"
                ),
                Some(FLAG_ALLOW_PUBLIC_PORTS),
            ));
        }
        if let Some(port) = host_port
            && (1..1024).contains(&port)
            && !self.allow_public_ports
        {
            return Err(refused(
                rule::PRIVILEGED_PORT,
                format!("host port {port} refused: ports below 1024 are privileged"),
                Some(FLAG_ALLOW_PUBLIC_PORTS),
            ));
        }
        Ok(ip.to_string())
    }

    /// Grants resource limits. Asking above a ceiling is refused, never clamped. An omitted
    /// limit becomes the ceiling, if one is set, so no container escapes it; omitted pids
    /// become [`DEFAULT_PIDS_LIMIT`], or the ceiling if that is lower. Values must be positive.
    pub fn resources(&self, asked: Resources) -> Result<Resources, PolicyError> {
        Ok(Resources {
            memory_bytes: grant(
                asked.memory_bytes,
                self.max_memory_bytes,
                None,
                Limit {
                    what: "memory",
                    rule: rule::MEMORY_CEILING,
                    flag: FLAG_MAX_MEMORY,
                    show: |n| format!("{n} bytes"),
                },
            )?,
            nano_cpus: grant(
                asked.nano_cpus,
                self.max_nano_cpus,
                None,
                Limit {
                    what: "cpus",
                    rule: rule::CPU_CEILING,
                    flag: FLAG_MAX_CPUS,
                    show: show_cpus,
                },
            )?,
            pids_limit: grant(
                asked.pids_limit,
                self.max_pids,
                Some(DEFAULT_PIDS_LIMIT),
                Limit {
                    what: "pids_limit",
                    rule: rule::PIDS_CEILING,
                    flag: FLAG_MAX_PIDS,
                    show: |n| format!("{n} processes"),
                },
            )?,
        })
    }

    /// Builds may use the default, `none`, or a named network, never the host's or another
    /// container's namespace: a build runs arbitrary `RUN` steps.
    pub fn check_build_network(mode: Option<&str>) -> Result<(), PolicyError> {
        let mode = mode.map_or("", str::trim);
        if mode.is_empty() {
            return Ok(());
        }
        // The engine compares case-sensitively; refusing any case costs nothing.
        let lower = mode.to_ascii_lowercase();
        if lower == "host" || lower.starts_with("container:") {
            return Err(refused(
                rule::BUILD_NETWORK,
                format!(
                    "build network `{}` refused: a build may not share the host's or another container's network namespace",
                    shown(mode)
                ),
                None,
            ));
        }
        let valid = mode.len() <= 128
            && mode
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if !valid {
            return Err(PolicyError::Invalid(format!(
                "`{}` is not a network name",
                shown(mode)
            )));
        }
        Ok(())
    }

    /// The bind rules, shared by bind sources, volume devices and build contexts. Order
    /// matters: sensitive, then outside the roots, then existence, so that a refusal never
    /// tells a plugin whether a path outside its allowed directories exists.
    fn check_host_path(&self, asked: &str, used: PathUse) -> Result<PathBuf, PolicyError> {
        let noun = used.noun();
        let quoted = shown(asked);
        if asked.is_empty()
            || asked.contains('\0')
            || asked.len() > MAX_PATH_BYTES
            || !Path::new(asked).is_absolute()
        {
            return Err(PolicyError::Invalid(format!(
                "{noun} source `{quoted}` must be an absolute host path"
            )));
        }
        let refuse = |rule: &'static str, reason: String, flag: Option<&'static str>| {
            refused(
                rule,
                format!("{noun} of `{quoted}` refused: {reason}"),
                flag,
            )
        };
        let trees = self.sensitive_trees();
        let resolved = match fs::canonicalize(asked) {
            Ok(path) => path,
            Err(err) => {
                // Classify by where the path would lead, so "missing" is only ever said
                // of paths the plugin could have bound had they existed.
                let leads_to = resolve_leniently(Path::new(asked));
                if let Some(reason) = sensitivity(&leads_to, &trees) {
                    return Err(refuse(rule::SENSITIVE_PATH, reason, None));
                }
                if !self.under_root(&leads_to, used) {
                    return Err(refuse(
                        rule::BIND_OUTSIDE_ALLOWED_DIRS,
                        self.outside_reason(&leads_to),
                        Some(FLAG_ALLOW_BIND),
                    ));
                }
                return Err(match err.kind() {
                    io::ErrorKind::NotFound | io::ErrorKind::NotADirectory => refuse(
                        rule::BIND_SOURCE_MISSING,
                        "it does not exist, and the engine would create it owned by root".into(),
                        None,
                    ),
                    kind => refuse(
                        rule::BIND_SOURCE_UNRESOLVABLE,
                        format!("it cannot be resolved ({kind})"),
                        None,
                    ),
                });
            }
        };
        if let Some(reason) = sensitivity(&resolved, &trees) {
            return Err(refuse(rule::SENSITIVE_PATH, reason, None));
        }
        if !self.under_root(&resolved, used) {
            return Err(refuse(
                rule::BIND_OUTSIDE_ALLOWED_DIRS,
                self.outside_reason(&resolved),
                Some(FLAG_ALLOW_BIND),
            ));
        }
        let Some(text) = resolved.to_str() else {
            return Err(PolicyError::Invalid(format!(
                "{noun} source `{quoted}` resolves to a path that is not UTF-8"
            )));
        };
        // The engine's `src:dst[:mode]` bind syntax would read a colon as a separator.
        if text.contains(':') {
            return Err(PolicyError::Invalid(format!(
                "{noun} source `{quoted}` resolves to a path containing `:`, which the engine cannot bind"
            )));
        }
        if resolved.is_dir() {
            match credential_dir_within(&resolved) {
                Ok(None) => {}
                Ok(Some(found)) => {
                    return Err(refuse(
                        rule::SENSITIVE_PATH,
                        format!(
                            "{} holds a credential directory ({})",
                            show_path(&resolved),
                            show_path(&found)
                        ),
                        None,
                    ));
                }
                Err(err) => {
                    return Err(refuse(
                        rule::BIND_SOURCE_UNRESOLVABLE,
                        format!(
                            "it cannot be listed to look for credential directories ({})",
                            err.kind()
                        ),
                        None,
                    ));
                }
            }
        } else if used == PathUse::BuildContext {
            return Err(PolicyError::Invalid(format!(
                "build context `{quoted}` is not a directory"
            )));
        }
        Ok(resolved)
    }

    fn under_root(&self, path: &Path, used: PathUse) -> bool {
        // Path::starts_with compares whole components: /srv/data2 is not under /srv/data.
        // A build only reads its context, so the read-only directories serve too.
        let readable = if used == PathUse::BuildContext {
            &self.read_roots[..]
        } else {
            &[]
        };
        self.bind_roots
            .iter()
            .chain(readable)
            .any(|root| path.starts_with(root))
    }

    fn outside_reason(&self, path: &Path) -> String {
        if self.bind_roots.is_empty() {
            return "no host directories are allowed for binds".into();
        }
        let mut listed: Vec<String> = self
            .bind_roots
            .iter()
            .take(MAX_ROOTS_SHOWN)
            .map(|root| show_path(root))
            .collect();
        if self.bind_roots.len() > MAX_ROOTS_SHOWN {
            listed.push("…".into());
        }
        format!(
            "{} is not under an allowed directory ({})",
            show_path(path),
            listed.join(", ")
        )
    }

    fn extra_drivers_note(&self) -> String {
        let extra: Vec<String> = self
            .volume_drivers
            .iter()
            .filter(|d| d.as_str() != "local")
            .map(|d| format!("`{}`", shown(d)))
            .collect();
        if extra.is_empty() {
            String::new()
        } else {
            format!(" (and {})", extra.join(", "))
        }
    }

    /// Every sensitive tree, both as written and canonical: `/var/run` is usually a symlink
    /// to `/run`, and a canonical bind source is compared against both.
    fn sensitive_trees(&self) -> Vec<PathBuf> {
        let written = self
            .extra_sensitive
            .iter()
            .cloned()
            .chain(SENSITIVE_TREES.iter().map(PathBuf::from));
        let mut trees: Vec<PathBuf> = Vec::new();
        for path in written {
            let canonical = fs::canonicalize(&path).ok();
            for form in std::iter::once(normalize_lexically(&path)).chain(canonical) {
                if !trees.contains(&form) {
                    trees.push(form);
                }
            }
        }
        trees
    }
}

/// One `--allow-bind` root: canonical, a directory, not sensitive.
fn canonical_root(asked: &Path, trees: &[PathBuf]) -> Result<PathBuf, PolicyConfigError> {
    let shown_asked = show_path(asked);
    if !asked.is_absolute() {
        return Err(config_error(format!(
            "--allow-bind {shown_asked}: the directory must be an absolute path"
        )));
    }
    let root = fs::canonicalize(asked)
        .map_err(|err| config_error(format!("--allow-bind {shown_asked}: {err}")))?;
    if !root.is_dir() {
        return Err(config_error(format!(
            "--allow-bind {shown_asked}: not a directory"
        )));
    }
    if let Some(reason) = sensitivity(&root, trees) {
        return Err(config_error(format!(
            "--allow-bind {shown_asked}: {reason}, and cannot be allowed"
        )));
    }
    match credential_dir_within(&root) {
        Ok(None) => Ok(root),
        Ok(Some(found)) => Err(config_error(format!(
            "--allow-bind {shown_asked}: it holds a credential directory ({}), and cannot be allowed",
            show_path(&found)
        ))),
        Err(err) => Err(config_error(format!(
            "--allow-bind {shown_asked}: cannot list it to look for credential directories: {err}"
        ))),
    }
}

/// Why `path` (absolute, resolved) is sensitive, if it is: it is `/`, equals, lies under or
/// contains one of `trees`, or passes through a credential directory.
fn sensitivity(path: &Path, trees: &[PathBuf]) -> Option<String> {
    let shown = show_path(path);
    if path.parent().is_none() {
        return Some(format!("{shown} is a sensitive host path"));
    }
    if trees.iter().any(|tree| path == tree) {
        return Some(format!("{shown} is a sensitive host path"));
    }
    if let Some(tree) = trees.iter().find(|tree| path.starts_with(tree)) {
        return Some(format!(
            "{shown} is inside the sensitive host path {}",
            show_path(tree)
        ));
    }
    // Binding /var would expose /var/lib/docker.
    if let Some(tree) = trees.iter().find(|tree| tree.starts_with(path)) {
        return Some(format!(
            "{shown} contains the sensitive host path {}",
            show_path(tree)
        ));
    }
    if let Some(name) = path.components().find_map(|c| match c {
        Component::Normal(name) if is_credential_name(name) => Some(name),
        _ => None,
    }) {
        return Some(format!(
            "{shown} is or lies inside a credential directory ({})",
            name.to_string_lossy()
        ));
    }
    None
}

fn is_credential_name(name: &OsStr) -> bool {
    CREDENTIAL_DIRS.iter().any(|cred| name == OsStr::new(cred))
}

/// A credential directory that is a child or grandchild of `dir`, if any. Two levels catch a
/// home directory and `/home`; deeper ones are not searched (a bounded look, not a scan).
/// Symlinked children are not followed: inside a bind mount they resolve in the container's
/// filesystem, not the host's. A grandchild that cannot be looked at counts as absent, so a
/// root-only `lost+found` does not block a mount point.
fn credential_dir_within(dir: &Path) -> io::Result<Option<PathBuf>> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if is_credential_name(&entry.file_name()) {
            return Ok(Some(entry.path()));
        }
        if entry.file_type()?.is_dir() {
            for cred in CREDENTIAL_DIRS {
                let candidate = entry.path().join(cred);
                if fs::symlink_metadata(&candidate).is_ok() {
                    return Ok(Some(candidate));
                }
            }
        }
    }
    Ok(None)
}

enum Part {
    Root,
    Parent,
    Name(OsString),
}

/// Pushes `path`'s components so that popping yields them in order.
fn queue_parts(pending: &mut Vec<Part>, path: &Path) {
    for component in path.components().rev() {
        match component {
            Component::RootDir => pending.push(Part::Root),
            Component::ParentDir => pending.push(Part::Parent),
            Component::Normal(name) => pending.push(Part::Name(name.to_os_string())),
            Component::CurDir | Component::Prefix(_) => {}
        }
    }
}

/// Where an absolute path leads when it cannot be canonicalised: symlinks are followed as
/// far as the path exists, the missing rest is appended lexically. Used only to choose the
/// right refusal for a path that does not resolve (a dangling link into `/etc` is
/// sensitive, not missing); never handed to the engine.
fn resolve_leniently(path: &Path) -> PathBuf {
    let mut resolved = PathBuf::from("/");
    let mut pending = Vec::new();
    queue_parts(&mut pending, path);
    let mut hops = 0;
    let mut exists = true;
    while let Some(part) = pending.pop() {
        match part {
            Part::Root => resolved = PathBuf::from("/"),
            Part::Parent => {
                resolved.pop();
            }
            Part::Name(name) => {
                let next = resolved.join(&name);
                if exists {
                    match fs::symlink_metadata(&next) {
                        Ok(meta) if meta.file_type().is_symlink() && hops < MAX_SYMLINK_HOPS => {
                            if let Ok(target) = fs::read_link(&next) {
                                hops += 1;
                                // A relative target continues from the link's directory,
                                // which is still `resolved`.
                                queue_parts(&mut pending, &target);
                                continue;
                            }
                        }
                        Ok(_) => {}
                        Err(_) => exists = false,
                    }
                }
                resolved = next;
            }
        }
    }
    resolved
}

/// `.` and `..` removed without touching the filesystem; for the configured sensitive
/// paths, which are compared as written as well as canonical.
fn normalize_lexically(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

struct Limit {
    what: &'static str,
    rule: &'static str,
    flag: &'static str,
    show: fn(i64) -> String,
}

fn grant(
    asked: Option<i64>,
    ceiling: Option<i64>,
    default: Option<i64>,
    limit: Limit,
) -> Result<Option<i64>, PolicyError> {
    match asked {
        Some(value) if value <= 0 => Err(PolicyError::Invalid(format!(
            "`{}` must be positive",
            limit.what
        ))),
        Some(value) => match ceiling {
            Some(max) if value > max => Err(refused(
                limit.rule,
                format!(
                    "{} of {} refused: the ceiling is {}",
                    limit.what,
                    (limit.show)(value),
                    (limit.show)(max)
                ),
                Some(limit.flag),
            )),
            _ => Ok(Some(value)),
        },
        None => Ok(match (default, ceiling) {
            (Some(default), Some(max)) => Some(default.min(max)),
            (Some(default), None) => Some(default),
            (None, ceiling) => ceiling,
        }),
    }
}

/// Nano-CPUs as CPUs: 1_500_000_000 → "1.5 CPUs".
fn show_cpus(nano: i64) -> String {
    let whole = nano / 1_000_000_000;
    let fraction = nano % 1_000_000_000;
    if fraction == 0 {
        format!("{whole} CPUs")
    } else {
        let digits = format!("{fraction:09}");
        format!("{whole}.{} CPUs", digits.trim_end_matches('0'))
    }
}

fn refused(rule: &'static str, detail: String, loosen_with: Option<&'static str>) -> PolicyError {
    PolicyError::Refused(Refusal {
        rule,
        detail,
        loosen_with,
    })
}

/// Caller text quoted back in a message: control and bidi characters escaped, length capped,
/// so a plugin cannot shape what an operator or agent reads.
fn shown(text: &str) -> String {
    let mut out = String::new();
    for (count, c) in text.chars().enumerate() {
        if count == MAX_SHOWN_CHARS {
            out.push('…');
            break;
        }
        if c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

fn show_path(path: &Path) -> String {
    shown(&path.to_string_lossy())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// What a check came to, without the prose.
    #[derive(Debug, Clone, PartialEq, Eq)]
    enum Outcome {
        Passed,
        Invalid,
        Refused(&'static str, Option<&'static str>),
    }

    fn outcome<T>(result: &Result<T, PolicyError>) -> Outcome {
        match result {
            Ok(_) => Outcome::Passed,
            Err(PolicyError::Invalid(_)) => Outcome::Invalid,
            Err(PolicyError::Refused(r)) => Outcome::Refused(r.rule, r.loosen_with),
        }
    }

    const SENSITIVE: Outcome = Outcome::Refused(rule::SENSITIVE_PATH, None);
    const OUTSIDE: Outcome =
        Outcome::Refused(rule::BIND_OUTSIDE_ALLOWED_DIRS, Some("--allow-bind DIR"));
    const MISSING: Outcome = Outcome::Refused(rule::BIND_SOURCE_MISSING, None);

    /// A temp tree: `allowed/` (the root) holding a file, a sub-directory, a credential
    /// directory, a home-like directory and assorted symlinks; `outside/` beside it.
    struct Fixture {
        _dir: tempfile::TempDir,
        base: PathBuf,
        allowed: PathBuf,
        policy: ArgumentPolicy,
    }

    impl Fixture {
        fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            let base = fs::canonicalize(dir.path()).unwrap();
            let allowed = base.join("allowed");
            let outside = base.join("outside");
            fs::create_dir_all(allowed.join("sub")).unwrap();
            fs::create_dir_all(&outside).unwrap();
            fs::write(allowed.join("file.txt"), "x").unwrap();
            fs::write(allowed.join("sub/inner.txt"), "x").unwrap();
            fs::write(outside.join("secret.txt"), "x").unwrap();
            fs::create_dir_all(alice(&allowed).join(".ssh")).unwrap();
            fs::write(alice(&allowed).join(".ssh/id_ed25519"), "x").unwrap();
            fs::create_dir_all(allowed.join("homes/bob/.aws")).unwrap();
            fs::create_dir_all(base.join("engine")).unwrap();
            fs::write(base.join("engine/docker.sock"), "").unwrap();
            symlink("/etc", allowed.join("to-etc")).unwrap();
            symlink(&outside, allowed.join("to-outside")).unwrap();
            symlink("sub", allowed.join("to-sub")).unwrap();
            symlink("/etc/bulkhead-no-such-file", allowed.join("dangling-etc")).unwrap();
            symlink(outside.join("missing"), allowed.join("dangling-outside")).unwrap();
            symlink(alice(&allowed), allowed.join("link-to-alice")).unwrap();
            symlink(base.join("engine/docker.sock"), allowed.join("to-socket")).unwrap();
            // Credentials three levels down do not stop the root itself.
            let policy = ArgumentPolicy {
                extra_sensitive: vec![base.join("engine/docker.sock")],
                ..ArgumentPolicy::default()
            }
            .with_bind_roots([&allowed])
            .unwrap();
            Fixture {
                _dir: dir,
                base,
                allowed,
                policy,
            }
        }

        fn path(&self, rel: &str) -> String {
            format!("{}/{rel}", self.base.display())
        }
    }

    fn alice(allowed: &Path) -> PathBuf {
        allowed.join("homes/alice")
    }

    #[test]
    fn defaults_are_the_closed_policy() {
        let policy = ArgumentPolicy::default();
        assert!(policy.bind_roots.is_empty());
        assert!(!policy.allow_public_ports);
        assert!(policy.volume_drivers.is_empty());
        assert_eq!(policy.max_memory_bytes, None);
        assert_eq!(policy.max_nano_cpus, None);
        assert_eq!(policy.max_pids, None);
        assert_eq!(policy.max_build_context_bytes, 64 * 1024 * 1024);
        assert!(policy.extra_sensitive.is_empty());
        assert_eq!(DEFAULT_PIDS_LIMIT, 1024);
        assert_eq!(NO_NEW_PRIVILEGES, "no-new-privileges:true");
        assert_eq!(
            default_log_config(),
            ("json-file", vec![("max-size", "10m"), ("max-file", "3")])
        );
    }

    #[test]
    fn refusals_name_the_rule_and_the_flag() {
        let policy = ArgumentPolicy::default();
        let err = policy.check_bind_source("/etc").unwrap_err();
        assert_eq!(
            err.to_string(),
            "bind mount of `/etc` refused: /etc is a sensitive host path (rule: sensitive-path); nothing loosens this"
        );
        let err = policy.check_port(Some("0.0.0.0"), Some(8080)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "publishing on 0.0.0.0 refused: that is every interface, and ports bind to loopback only (rule: public-port; the operator can allow it with --allow-public-ports)"
        );
        let err = policy.check_bind_source("/srv/data").unwrap_err();
        assert_eq!(
            err.to_string(),
            "bind mount of `/srv/data` refused: no host directories are allowed for binds (rule: bind-outside-allowed-dirs; the operator can allow it with --allow-bind DIR)"
        );
    }

    #[test]
    fn bind_sources_by_the_table() {
        let fx = Fixture::new();
        let outside = fx.base.join("outside");
        let cases: Vec<(String, Outcome)> = vec![
            (fx.path("allowed"), Outcome::Passed),
            (fx.path("allowed/file.txt"), Outcome::Passed),
            (fx.path("allowed/sub"), Outcome::Passed),
            (fx.path("allowed/./sub/../file.txt"), Outcome::Passed),
            (fx.path("allowed/to-sub/inner.txt"), Outcome::Passed),
            // A symlink under the root that leaves it is judged by where it leads.
            (fx.path("allowed/to-etc"), SENSITIVE),
            (fx.path("allowed/to-etc/passwd"), SENSITIVE),
            (fx.path("allowed/to-outside"), OUTSIDE),
            (fx.path("allowed/to-outside/secret.txt"), OUTSIDE),
            (fx.path("allowed/../outside/secret.txt"), OUTSIDE),
            (fx.path("allowed/sub/../../outside"), OUTSIDE),
            (fx.path("outside"), OUTSIDE),
            // A sibling whose name merely starts with the root's is outside.
            (fx.path("allowed-not"), OUTSIDE),
            (fx.path("allowed/no-such-dir"), MISSING),
            (fx.path("allowed/file.txt/under-a-file"), MISSING),
            // Missing paths outside the roots say "outside", not "missing": no probing.
            (fx.path("outside/no-such-dir"), OUTSIDE),
            (fx.path("allowed/dangling-outside"), OUTSIDE),
            (fx.path("allowed/dangling-etc"), SENSITIVE),
            (fx.path("allowed/homes/alice/.ssh"), SENSITIVE),
            (fx.path("allowed/homes/alice/.ssh/id_ed25519"), SENSITIVE),
            (fx.path("allowed/homes/alice/.ssh/missing"), SENSITIVE),
            // A directory holding a credential directory (a home) or one level deeper.
            (fx.path("allowed/homes/alice"), SENSITIVE),
            (fx.path("allowed/homes"), SENSITIVE),
            (fx.path("allowed/homes/bob"), SENSITIVE),
            (fx.path("allowed/link-to-alice"), SENSITIVE),
            // The socket from extra_sensitive, a link to it, and the directory holding it.
            (fx.path("engine/docker.sock"), SENSITIVE),
            (fx.path("allowed/to-socket"), SENSITIVE),
            (fx.path("engine"), SENSITIVE),
            ("/".into(), SENSITIVE),
            ("/etc".into(), SENSITIVE),
            ("/etc/passwd".into(), SENSITIVE),
            ("/etc/../etc/shadow".into(), SENSITIVE),
            ("/var/run/docker.sock".into(), SENSITIVE),
            ("/run/docker.sock".into(), SENSITIVE),
            ("/var".into(), SENSITIVE),
            ("/var/lib".into(), SENSITIVE),
            ("/var/lib/docker/volumes".into(), SENSITIVE),
            ("/proc/self/root".into(), SENSITIVE),
            ("/root/.bashrc".into(), SENSITIVE),
            ("/bulkhead-no-such-dir".into(), OUTSIDE),
            (outside.join("secret.txt").display().to_string(), OUTSIDE),
            (String::new(), Outcome::Invalid),
            ("relative/path".into(), Outcome::Invalid),
            ("./allowed".into(), Outcome::Invalid),
            ("/tmp/with\0nul".into(), Outcome::Invalid),
            (format!("/{}", "a".repeat(5000)), Outcome::Invalid),
        ];
        for (source, expected) in &cases {
            let got = fx.policy.check_bind_source(source);
            assert_eq!(&outcome(&got), expected, "source {source:?}: {got:?}");
        }
    }

    #[test]
    fn bind_sources_come_back_canonical() {
        let fx = Fixture::new();
        let allowed = &fx.allowed;
        assert_eq!(
            fx.policy
                .check_bind_source(&fx.path("allowed/to-sub/inner.txt"))
                .unwrap(),
            allowed.join("sub/inner.txt")
        );
        assert_eq!(
            fx.policy
                .check_bind_source(&fx.path("allowed/sub/../file.txt"))
                .unwrap(),
            allowed.join("file.txt")
        );
        assert_eq!(
            fx.policy.check_bind_source(&fx.path("allowed")).unwrap(),
            *allowed
        );
    }

    #[test]
    fn bind_refusal_details_show_where_a_path_leads() {
        let fx = Fixture::new();
        let source = fx.path("allowed/to-etc");
        let err = fx.policy.check_bind_source(&source).unwrap_err();
        assert_eq!(
            err,
            PolicyError::Refused(Refusal {
                rule: rule::SENSITIVE_PATH,
                detail: format!("bind mount of `{source}` refused: /etc is a sensitive host path"),
                loosen_with: None,
            })
        );
        let source = fx.path("allowed/no-such-dir");
        let err = fx.policy.check_bind_source(&source).unwrap_err();
        assert_eq!(
            err,
            PolicyError::Refused(Refusal {
                rule: rule::BIND_SOURCE_MISSING,
                detail: format!(
                    "bind mount of `{source}` refused: it does not exist, and the engine would create it owned by root"
                ),
                loosen_with: None,
            })
        );
        let source = fx.path("outside");
        let err = fx.policy.check_bind_source(&source).unwrap_err();
        assert_eq!(
            err,
            PolicyError::Refused(Refusal {
                rule: rule::BIND_OUTSIDE_ALLOWED_DIRS,
                detail: format!(
                    "bind mount of `{source}` refused: {source} is not under an allowed directory ({})",
                    fx.allowed.display()
                ),
                loosen_with: Some("--allow-bind DIR"),
            })
        );
    }

    #[test]
    fn symlinked_children_are_not_followed_when_looking_for_credentials() {
        let dir = tempfile::tempdir().unwrap();
        let base = fs::canonicalize(dir.path()).unwrap();
        fs::create_dir_all(base.join("elsewhere/.ssh")).unwrap();
        fs::create_dir_all(base.join("project")).unwrap();
        symlink(base.join("elsewhere"), base.join("project/link")).unwrap();
        let policy = ArgumentPolicy::default()
            .with_bind_roots([base.join("project")])
            .unwrap();
        let source = base.join("project").display().to_string();
        assert_eq!(
            policy.check_bind_source(&source).unwrap(),
            base.join("project")
        );
    }

    #[test]
    fn colons_and_non_roots_are_not_bindable() {
        let dir = tempfile::tempdir().unwrap();
        let base = fs::canonicalize(dir.path()).unwrap();
        fs::create_dir_all(base.join("a:b")).unwrap();
        let policy = ArgumentPolicy::default().with_bind_roots([&base]).unwrap();
        let got = policy.check_bind_source(&base.join("a:b").display().to_string());
        assert_eq!(outcome(&got), Outcome::Invalid);
    }

    #[test]
    fn bind_roots_are_canonicalised_and_vetted() {
        let dir = tempfile::tempdir().unwrap();
        let base = fs::canonicalize(dir.path()).unwrap();
        fs::create_dir_all(base.join("data")).unwrap();
        fs::create_dir_all(base.join("home/.gnupg")).unwrap();
        fs::create_dir_all(base.join("users/bob/.kube")).unwrap();
        fs::write(base.join("file"), "x").unwrap();
        symlink(base.join("data"), base.join("data-link")).unwrap();
        fs::write(base.join("data/docker.sock"), "").unwrap();

        let policy = ArgumentPolicy::default()
            .with_bind_roots([base.join("data-link"), base.join("data/.")])
            .unwrap();
        assert_eq!(policy.bind_roots, vec![base.join("data")]);

        let refused_roots = [
            PathBuf::from("/"),
            PathBuf::from("/etc"),
            PathBuf::from("/var"),
            PathBuf::from("/run"),
            PathBuf::from("/var/run"),
            PathBuf::from("/var/lib/docker"),
            PathBuf::from("/proc"),
            base.join("no-such-dir"),
            base.join("file"),
            base.join("home"),
            base.join("home/.gnupg"),
            base.join("users"),
            PathBuf::from("relative"),
        ];
        for root in refused_roots {
            let got = ArgumentPolicy::default().with_bind_roots([&root]);
            assert!(got.is_err(), "root {} was accepted", root.display());
        }
        // A root holding the engine socket named by DOCKER_HOST.
        let got = ArgumentPolicy {
            extra_sensitive: vec![base.join("data/docker.sock")],
            ..ArgumentPolicy::default()
        }
        .with_bind_roots([base.join("data")]);
        assert!(got.is_err());
        let err = ArgumentPolicy::default()
            .with_bind_roots(["/etc"])
            .unwrap_err();
        assert_eq!(
            err.message,
            "--allow-bind /etc: /etc is a sensitive host path, and cannot be allowed"
        );
    }

    #[test]
    fn ceilings_are_vetted() {
        let bad = [
            ArgumentPolicy {
                max_memory_bytes: Some(1 << 20),
                ..ArgumentPolicy::default()
            },
            ArgumentPolicy {
                max_nano_cpus: Some(0),
                ..ArgumentPolicy::default()
            },
            ArgumentPolicy {
                max_pids: Some(-1),
                ..ArgumentPolicy::default()
            },
            ArgumentPolicy {
                max_build_context_bytes: 0,
                ..ArgumentPolicy::default()
            },
            ArgumentPolicy {
                extra_sensitive: vec![PathBuf::from("docker.sock")],
                ..ArgumentPolicy::default()
            },
        ];
        for policy in bad {
            assert!(policy.clone().validated().is_err(), "{policy:?}");
        }
        let good = ArgumentPolicy {
            max_memory_bytes: Some(6 << 20),
            max_nano_cpus: Some(1),
            max_pids: Some(1),
            ..ArgumentPolicy::default()
        };
        assert!(good.validated().is_ok());
    }

    fn opts(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn volumes_by_the_table() {
        let fx = Fixture::new();
        let inside = fx.path("allowed/sub");
        let to_etc = fx.path("allowed/to-etc");
        let outside = fx.path("outside");
        let opts_refused = Outcome::Refused(
            rule::VOLUME_DRIVER_OPTS,
            Some("--allow-volume-driver local"),
        );
        let driver_refused =
            Outcome::Refused(rule::VOLUME_DRIVER, Some("--allow-volume-driver NAME"));
        let cases: Vec<(Option<&str>, BTreeMap<String, String>, Outcome)> = vec![
            (None, opts(&[]), Outcome::Passed),
            (Some(""), opts(&[]), Outcome::Passed),
            (Some("local"), opts(&[]), Outcome::Passed),
            (
                None,
                opts(&[("type", "tmpfs"), ("device", "tmpfs"), ("o", "size=64m")]),
                Outcome::Passed,
            ),
            (None, opts(&[("size", "10G")]), Outcome::Passed),
            (
                None,
                opts(&[("type", "none"), ("o", "bind"), ("device", &inside)]),
                Outcome::Passed,
            ),
            (
                None,
                opts(&[("type", "none"), ("o", "bind"), ("device", &to_etc)]),
                SENSITIVE,
            ),
            (
                None,
                opts(&[
                    ("type", "none"),
                    ("o", "bind"),
                    ("device", "/var/lib/docker"),
                ]),
                SENSITIVE,
            ),
            // Either half of the bind form is enough to be checked as a bind.
            (
                None,
                opts(&[("type", "none"), ("device", &outside)]),
                OUTSIDE,
            ),
            (
                Some("local"),
                opts(&[("type", "ext4"), ("o", "ro, rbind"), ("device", &outside)]),
                OUTSIDE,
            ),
            (
                None,
                opts(&[("type", "tmpfs"), ("o", "bind"), ("device", "tmpfs")]),
                Outcome::Invalid,
            ),
            (
                None,
                opts(&[("type", "none"), ("o", "bind")]),
                Outcome::Invalid,
            ),
            (
                None,
                opts(&[
                    ("type", "nfs"),
                    ("o", "addr=10.0.0.1"),
                    ("device", ":/export"),
                ]),
                opts_refused.clone(),
            ),
            (
                None,
                opts(&[("type", "cifs"), ("device", "//host/share")]),
                opts_refused.clone(),
            ),
            (
                None,
                opts(&[("type", "ext4"), ("device", "/dev/sda1")]),
                opts_refused.clone(),
            ),
            (None, opts(&[("device", "/dev/sda1")]), opts_refused),
            (None, opts(&[("mountpoint", "/x")]), Outcome::Invalid),
            (Some("rexray"), opts(&[]), driver_refused.clone()),
            (Some("Local"), opts(&[]), driver_refused),
        ];
        for (driver, driver_opts, expected) in &cases {
            let got = fx.policy.check_volume(*driver, driver_opts);
            assert_eq!(
                &outcome(&got),
                expected,
                "{driver:?} {driver_opts:?}: {got:?}"
            );
        }
    }

    #[test]
    fn volume_loosening_and_device_rewriting() {
        let fx = Fixture::new();
        let policy = ArgumentPolicy {
            volume_drivers: vec!["local".into(), "rexray".into()],
            ..fx.policy.clone()
        };
        let nfs = opts(&[
            ("type", "nfs"),
            ("o", "addr=10.0.0.1"),
            ("device", ":/export"),
        ]);
        assert_eq!(policy.check_volume(None, &nfs).unwrap(), nfs);
        let plugin_opts = opts(&[("anything", "goes")]);
        assert_eq!(
            policy.check_volume(Some("rexray"), &plugin_opts).unwrap(),
            plugin_opts
        );
        // `local` in the list never lifts the bind check.
        let bind_etc = opts(&[("type", "none"), ("o", "bind"), ("device", "/etc")]);
        assert_eq!(outcome(&policy.check_volume(None, &bind_etc)), SENSITIVE);

        let via_link = opts(&[
            ("type", "none"),
            ("o", "bind"),
            ("device", &fx.path("allowed/to-sub")),
        ]);
        let sent = fx.policy.check_volume(Some("local"), &via_link).unwrap();
        assert_eq!(
            sent,
            opts(&[
                ("type", "none"),
                ("o", "bind"),
                ("device", &fx.allowed.join("sub").display().to_string()),
            ])
        );
        let err = fx
            .policy
            .check_volume(Some("rexray"), &opts(&[]))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "volume driver `rexray` refused: only `local` is allowed (rule: volume-driver; the operator can allow it with --allow-volume-driver NAME)"
        );
    }

    #[test]
    fn ports_by_the_table() {
        let closed = ArgumentPolicy::default();
        let open = ArgumentPolicy {
            allow_public_ports: true,
            ..ArgumentPolicy::default()
        };
        let public = Outcome::Refused(rule::PUBLIC_PORT, Some("--allow-public-ports"));
        let privileged = Outcome::Refused(rule::PRIVILEGED_PORT, Some("--allow-public-ports"));
        // (host_ip, host_port, answer when closed, answer with --allow-public-ports)
        type Want = Result<&'static str, Outcome>;
        let cases: Vec<(Option<&str>, Option<u16>, Want, Want)> = vec![
            (None, Some(8080), Ok("127.0.0.1"), Ok("127.0.0.1")),
            (Some(""), None, Ok("127.0.0.1"), Ok("127.0.0.1")),
            (Some("  "), Some(0), Ok("127.0.0.1"), Ok("127.0.0.1")),
            (
                Some("127.0.0.1"),
                Some(1024),
                Ok("127.0.0.1"),
                Ok("127.0.0.1"),
            ),
            (
                Some("127.1.2.3"),
                Some(65535),
                Ok("127.1.2.3"),
                Ok("127.1.2.3"),
            ),
            (Some("::1"), Some(8080), Ok("::1"), Ok("::1")),
            (Some("[::1]"), Some(8080), Ok("::1"), Ok("::1")),
            (
                Some("::ffff:127.0.0.1"),
                None,
                Ok("127.0.0.1"),
                Ok("127.0.0.1"),
            ),
            (
                Some("0.0.0.0"),
                Some(8080),
                Err(public.clone()),
                Ok("0.0.0.0"),
            ),
            (Some("::"), Some(8080), Err(public.clone()), Ok("::")),
            (
                Some("192.168.1.10"),
                None,
                Err(public.clone()),
                Ok("192.168.1.10"),
            ),
            (
                Some("::ffff:10.0.0.1"),
                None,
                Err(public.clone()),
                Ok("10.0.0.1"),
            ),
            (
                Some("2001:db8::1"),
                None,
                Err(public.clone()),
                Ok("2001:db8::1"),
            ),
            (None, Some(80), Err(privileged.clone()), Ok("127.0.0.1")),
            (
                Some("127.0.0.1"),
                Some(1023),
                Err(privileged.clone()),
                Ok("127.0.0.1"),
            ),
            (None, Some(1), Err(privileged), Ok("127.0.0.1")),
            // The address is judged before the port.
            (Some("0.0.0.0"), Some(80), Err(public), Ok("0.0.0.0")),
            (
                Some("localhost"),
                None,
                Err(Outcome::Invalid),
                Err(Outcome::Invalid),
            ),
            (
                Some("256.0.0.1"),
                None,
                Err(Outcome::Invalid),
                Err(Outcome::Invalid),
            ),
            (
                Some("fe80::1%eth0"),
                None,
                Err(Outcome::Invalid),
                Err(Outcome::Invalid),
            ),
        ];
        for (ip, port, want_closed, want_open) in cases {
            for (policy, want) in [(&closed, want_closed), (&open, want_open)] {
                let got = policy.check_port(ip, port);
                match (&got, want) {
                    (Ok(bound), Ok(expected)) => assert_eq!(bound, expected, "{ip:?}:{port:?}"),
                    (_, Err(expected)) => assert_eq!(outcome(&got), expected, "{ip:?}:{port:?}"),
                    (Err(_), Ok(_)) => panic!("{ip:?}:{port:?} refused: {got:?}"),
                }
            }
        }
    }

    #[test]
    fn resources_by_the_table() {
        const GIB: i64 = 1 << 30;
        const CPU: i64 = 1_000_000_000;
        let none = ArgumentPolicy::default();
        let capped = ArgumentPolicy {
            max_memory_bytes: Some(GIB),
            max_nano_cpus: Some(2 * CPU),
            max_pids: Some(512),
            ..ArgumentPolicy::default()
        };
        let loose_pids = ArgumentPolicy {
            max_pids: Some(4096),
            ..ArgumentPolicy::default()
        };
        let ask = |memory_bytes, nano_cpus, pids_limit| Resources {
            memory_bytes,
            nano_cpus,
            pids_limit,
        };
        let cases: Vec<(&ArgumentPolicy, Resources, Result<Resources, Outcome>)> = vec![
            (
                &none,
                ask(None, None, None),
                Ok(ask(None, None, Some(1024))),
            ),
            (
                &none,
                ask(Some(8 * GIB), Some(16 * CPU), Some(100_000)),
                Ok(ask(Some(8 * GIB), Some(16 * CPU), Some(100_000))),
            ),
            (
                &capped,
                ask(None, None, None),
                Ok(ask(Some(GIB), Some(2 * CPU), Some(512))),
            ),
            (
                &capped,
                ask(Some(GIB), Some(CPU / 2), Some(100)),
                Ok(ask(Some(GIB), Some(CPU / 2), Some(100))),
            ),
            (
                &loose_pids,
                ask(None, None, None),
                Ok(ask(None, None, Some(1024))),
            ),
            (
                &loose_pids,
                ask(None, None, Some(4096)),
                Ok(ask(None, None, Some(4096))),
            ),
            (
                &capped,
                ask(Some(GIB + 1), None, None),
                Err(Outcome::Refused(rule::MEMORY_CEILING, Some("--max-memory"))),
            ),
            (
                &capped,
                ask(None, Some(2 * CPU + 1), None),
                Err(Outcome::Refused(rule::CPU_CEILING, Some("--max-cpus"))),
            ),
            (
                &capped,
                ask(None, None, Some(513)),
                Err(Outcome::Refused(rule::PIDS_CEILING, Some("--max-pids"))),
            ),
            (&none, ask(Some(0), None, None), Err(Outcome::Invalid)),
            (&none, ask(None, Some(-1), None), Err(Outcome::Invalid)),
            (&capped, ask(None, None, Some(-1)), Err(Outcome::Invalid)),
        ];
        for (policy, asked, want) in cases {
            let got = policy.resources(asked);
            match want {
                Ok(expected) => assert_eq!(got, Ok(expected), "{asked:?}"),
                Err(expected) => assert_eq!(outcome(&got), expected, "{asked:?}"),
            }
        }
        let err = capped
            .resources(ask(None, Some(2_500_000_000), None))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "cpus of 2.5 CPUs refused: the ceiling is 2 CPUs (rule: cpu-ceiling; the operator can allow it with --max-cpus)"
        );
    }

    #[test]
    fn build_contexts_by_the_table() {
        let fx = Fixture::new();
        let cases: Vec<(String, Outcome)> = vec![
            (fx.path("allowed/sub"), Outcome::Passed),
            (fx.path("allowed/to-sub"), Outcome::Passed),
            (fx.path("allowed/file.txt"), Outcome::Invalid),
            (fx.path("allowed/homes/alice"), SENSITIVE),
            (fx.path("allowed/to-etc"), SENSITIVE),
            (fx.path("outside"), OUTSIDE),
            (fx.path("allowed/no-such-dir"), MISSING),
            ("ctx".into(), Outcome::Invalid),
        ];
        for (dir, expected) in &cases {
            let got = fx.policy.check_build_context_dir(dir);
            assert_eq!(&outcome(&got), expected, "dir {dir:?}: {got:?}");
        }
        assert_eq!(
            fx.policy
                .check_build_context_dir(&fx.path("allowed/to-sub"))
                .unwrap(),
            fx.allowed.join("sub")
        );

        let policy = ArgumentPolicy {
            max_build_context_bytes: 100,
            ..ArgumentPolicy::default()
        };
        assert_eq!(policy.check_build_context_size(0), Ok(()));
        assert_eq!(policy.check_build_context_size(100), Ok(()));
        assert_eq!(
            outcome(&policy.check_build_context_size(101)),
            Outcome::Refused(rule::BUILD_CONTEXT_SIZE, Some("--max-build-context"))
        );
        let default = ArgumentPolicy::default();
        assert_eq!(default.check_build_context_size(64 << 20), Ok(()));
        assert_eq!(
            outcome(&default.check_build_context_size((64 << 20) + 1)),
            Outcome::Refused(rule::BUILD_CONTEXT_SIZE, Some("--max-build-context"))
        );
    }

    #[test]
    fn build_networks_by_the_table() {
        let never = Outcome::Refused(rule::BUILD_NETWORK, None);
        let cases = [
            (None, Outcome::Passed),
            (Some(""), Outcome::Passed),
            (Some("default"), Outcome::Passed),
            (Some("none"), Outcome::Passed),
            (Some("bridge"), Outcome::Passed),
            (Some("my-net_1.x"), Outcome::Passed),
            (Some("host"), never.clone()),
            (Some(" HOST "), never.clone()),
            (Some("container:abc"), never.clone()),
            (Some("Container:abc"), never),
            (Some("net work"), Outcome::Invalid),
            (Some("ns:/proc/1/ns/net"), Outcome::Invalid),
        ];
        for (mode, expected) in cases {
            let got = ArgumentPolicy::check_build_network(mode);
            assert_eq!(outcome(&got), expected, "{mode:?}");
        }
    }

    #[test]
    fn caller_text_is_quoted_safely() {
        let policy = ArgumentPolicy::default();
        let err = policy
            .check_port(Some("1.2.3.4\n\u{1b}[31m"), None)
            .unwrap_err();
        assert_eq!(
            err,
            PolicyError::Invalid("`1.2.3.4\\n\\u{1b}[31m` is not an IP address".into())
        );
        assert_eq!(shown(&"x".repeat(300)).chars().count(), MAX_SHOWN_CHARS + 1);
        assert_eq!(show_cpus(1), "0.000000001 CPUs");
        assert_eq!(show_cpus(3_000_000_000), "3 CPUs");
    }
}
