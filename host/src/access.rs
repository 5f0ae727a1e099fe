//! What one tool call may touch: the capabilities the running tool may use, its budget
//! of Docker requests and log messages, and the engine connection. Every host import is
//! implemented on this narrow context (reached from the store's data by projection, as
//! wasmtime's `WasiView` does), so a reader sees here all a primitive can reach.

use std::sync::{Arc, Mutex};

use crate::argument_policy::ArgumentPolicy;
use crate::bindings::DockerError;
use crate::capabilities::{Capability, CapabilitySet, Tier};
use crate::docker::DockerConnector;
use crate::identity::Identity;
use crate::policy::Scope;
use crate::progress::ProgressReporter;

/// Most objects one call's journal keeps; a call that touches more is summarised.
const MAX_JOURNAL_ENTRIES: usize = 64;

/// The capability side of a call: which primitives the running tool may use, and the
/// budget of Docker requests it has left.
pub struct CallAccess {
    pub plugin: Arc<str>,
    pub tool: Arc<str>,
    /// Declared by the tool ∩ effective grant of the plugin.
    pub allowed: CapabilitySet,
    pub docker: Arc<DockerConnector>,
    /// The operator's rules for what arguments this plugin may send to the engine.
    pub rules: Arc<ArgumentPolicy>,
    /// Who the server acts for; stamped on what is created, checked under `Owned`.
    pub identity: Arc<Identity>,
    /// Which engine objects this plugin may reach.
    pub scope: Scope,
    /// Its removals reach only its principal's containers and networks, and no volume
    /// (the compose plugin without `--allow-destructive`).
    pub removes_only_owned: bool,
    /// The objects this call named or created, for the audit trail.
    pub journal: Journal,
    /// When this server last used each container (idle times, the reaper).
    pub activity: Arc<crate::activity::Activity>,
    /// The capability of the primitive running now (set by [`CallAccess::authorize`]).
    pub current: Option<Capability>,
    pub docker_calls_left: u32,
    pub log_messages_left: u32,
    /// When the call's wall-clock deadline expires. Primitives that wait (exec, wait,
    /// run) end their wait early enough to clean up and answer before it.
    pub deadline: tokio::time::Instant,
    /// Where progress of a long primitive goes; `None` when the client did not ask.
    pub progress: Option<ProgressReporter>,
    /// Where the plugin's log lines go besides the host's log; `None` when nobody
    /// listens.
    pub client_log: Option<Arc<dyn crate::client_log::LogSink>>,
    /// The MCP client, when this call's session can carry requests to it.
    pub client: Option<Arc<dyn crate::client_requests::ClientRequests>>,
    pub client_requests_left: u32,
}

impl CallAccess {
    /// The check at the top of every Docker primitive: the capability must be allowed
    /// for this call and the call's budget not spent. Hands back an engine client.
    pub async fn authorize(&mut self, cap: Capability) -> Result<bollard::Docker, DockerError> {
        if !self.allowed.contains(cap) {
            return Err(DockerError::Denied(format!(
                "capability `{cap}` is not available to tool `{}` of plugin `{}`: \
                 the tool must declare it and the operator must grant it",
                self.tool, self.plugin
            )));
        }
        if self.docker_calls_left == 0 {
            return Err(DockerError::BudgetExceeded(format!(
                "tool `{}` used its budget of Docker requests for one call",
                self.tool
            )));
        }
        if self.removes_only_owned && cap.tier() == Tier::Destructive && !cap.removes_owned_only() {
            return Err(DockerError::Denied(format!(
                "capability `{cap}` of plugin `{}` deletes data and needs the operator's \
                 --allow-destructive",
                self.plugin
            )));
        }
        self.docker_calls_left -= 1;
        self.current = Some(cap);
        self.docker.client().await
    }

    /// The scope the running primitive works under: a removal by a plugin that
    /// [`removes_only_owned`](Self::removes_only_owned) is `owned` whatever its scope.
    pub fn effective_scope(&self) -> Scope {
        let removing = self
            .current
            .is_some_and(|cap| cap.tier() == Tier::Destructive);
        if self.removes_only_owned && removing {
            Scope::Owned
        } else {
            self.scope
        }
    }

    /// Reports progress to the client, if it asked for it (rate-limited, sanitised).
    pub fn report_progress(&mut self, progress: u64, total: Option<u64>, message: &str) {
        if let Some(reporter) = &mut self.progress {
            reporter.report(progress, total, message);
        }
    }
}

/// The engine objects one call named or created (`container:<id>`, …), shared with the
/// router so that it survives a call that times out or traps.
#[derive(Debug, Clone, Default)]
pub struct Journal(Arc<Mutex<Vec<String>>>);

impl Journal {
    pub fn record(&self, kind: impl std::fmt::Display, id: &str) {
        let mut entries = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let entry = format!("{kind}:{}", crate::sanitize::one_line(id, 128));
        if entries.len() < MAX_JOURNAL_ENTRIES && !entries.contains(&entry) {
            entries.push(entry);
        }
    }

    pub fn entries(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}
