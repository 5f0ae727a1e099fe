//! The idle reaper: removes this principal's containers, and this session's (over HTTP,
//! those of every authenticated caller), that carry an idle TTL
//! (`io.bulkhead.idle-ttl`, set by a plugin such as the sandbox) once they have not been
//! used for that long. A container of this session is idle since this server last used
//! it (or since its creation); one of a session whose server is gone (no live session
//! lock) is judged by its creation time, so sandboxes outlive a crash by at most their
//! TTL. Containers of live sessions of other processes are theirs to reap. Named
//! volumes are kept: a workspace is only removed when asked.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bollard::query_parameters::{ListContainersOptionsBuilder, RemoveContainerOptionsBuilder};

use crate::activity::Activity;
use crate::docker::DockerConnector;
use crate::docker::labels::{IDLE_TTL_LABEL, OWNER_LABEL, SESSION_LABEL};
use crate::identity::Identity;
use crate::sessions::SessionLock;

/// How often the reaper looks, unless the policy says otherwise.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);

pub struct Reaper {
    pub docker: Arc<DockerConnector>,
    pub identity: Arc<Identity>,
    pub activity: Arc<Activity>,
    pub sessions: SessionLock,
    pub interval: Duration,
}

/// One container as the reaper judges it.
#[derive(Debug, Clone, PartialEq)]
struct Candidate {
    id: String,
    names: Vec<String>,
    ttl: Duration,
    session: String,
    created: i64,
}

impl Reaper {
    /// Sweeps every `interval` until the returned handle is dropped or aborted.
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(self.interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                if let Err(err) = self.sweep().await {
                    tracing::debug!("reaper: {err}");
                }
            }
        })
    }

    /// Removes what is due; the ids removed.
    pub async fn sweep(&self) -> anyhow::Result<Vec<String>> {
        let docker = self
            .docker
            .client()
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        // This principal's, from any session; and this session's, of any principal
        // (over HTTP each caller is a principal of its own).
        let mut listed = Vec::new();
        for owned_by in [
            format!("{OWNER_LABEL}={}", self.identity.principal),
            format!("{SESSION_LABEL}={}", self.identity.session),
        ] {
            let filters = HashMap::from([(
                "label".to_string(),
                vec![IDLE_TTL_LABEL.to_string(), owned_by],
            )]);
            let options = ListContainersOptionsBuilder::new()
                .all(true)
                .filters(&filters)
                .build();
            for summary in docker.list_containers(Some(options)).await? {
                if !listed
                    .iter()
                    .any(|seen: &bollard::models::ContainerSummary| seen.id == summary.id)
                {
                    listed.push(summary);
                }
            }
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let mut removed = Vec::new();
        for summary in listed {
            let labels = summary.labels.unwrap_or_default();
            let Some(ttl) = labels.get(IDLE_TTL_LABEL).and_then(|t| t.parse().ok()) else {
                continue;
            };
            let candidate = Candidate {
                id: summary.id.unwrap_or_default(),
                names: summary
                    .names
                    .unwrap_or_default()
                    .iter()
                    .map(|n| n.trim_start_matches('/').to_string())
                    .collect(),
                ttl: Duration::from_secs(ttl),
                session: labels.get(SESSION_LABEL).cloned().unwrap_or_default(),
                created: summary.created.unwrap_or(now),
            };
            if !self.is_due(&candidate, now) {
                continue;
            }
            let options = RemoveContainerOptionsBuilder::new()
                .force(true)
                .v(false)
                .build();
            match docker.remove_container(&candidate.id, Some(options)).await {
                Ok(()) => {
                    tracing::info!(container = %candidate.id, session = %candidate.session, "reaper removed an idle container");
                    removed.push(candidate.id);
                }
                Err(err) => {
                    tracing::warn!(container = %candidate.id, "reaper could not remove: {err}")
                }
            }
        }
        Ok(removed)
    }

    fn is_due(&self, candidate: &Candidate, now: i64) -> bool {
        let since_created =
            Duration::from_secs(now.saturating_sub(candidate.created).max(0) as u64);
        let idle = if candidate.session == self.identity.session {
            let mut references: Vec<&str> = vec![&candidate.id];
            references.extend(candidate.names.iter().map(String::as_str));
            self.activity.idle(&references).unwrap_or(since_created)
        } else if self.sessions.is_alive(&candidate.session) {
            return false;
        } else {
            since_created
        };
        idle >= candidate.ttl
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reaper(dir: &std::path::Path) -> Reaper {
        let identity = Identity {
            principal: "p".into(),
            session: "aaaa".into(),
        };
        Reaper {
            docker: Arc::new(DockerConnector::new()),
            sessions: SessionLock::acquire(dir, &identity.session).unwrap(),
            identity: Arc::new(identity),
            activity: Arc::new(Activity::default()),
            interval: DEFAULT_INTERVAL,
        }
    }

    fn candidate(session: &str, created: i64, ttl: u64) -> Candidate {
        Candidate {
            id: "0123456789abcdef".into(),
            names: vec!["box".into()],
            ttl: Duration::from_secs(ttl),
            session: session.into(),
            created,
        }
    }

    #[test]
    fn due_by_use_in_this_session_and_by_age_after_a_dead_one() {
        let dir = tempfile::tempdir().unwrap();
        let reaper = reaper(dir.path());
        let now = 10_000;
        // This session, never used: judged by age.
        assert!(reaper.is_due(&candidate("aaaa", now - 100, 60), now));
        assert!(!reaper.is_due(&candidate("aaaa", now - 10, 60), now));
        // Used just now: not idle, however old.
        reaper.activity.touch("box");
        assert!(!reaper.is_due(&candidate("aaaa", now - 100, 60), now));
        // Another live session's container is left alone; a dead one's goes by age.
        let live = SessionLock::acquire(dir.path(), "bbbb").unwrap();
        assert!(!reaper.is_due(&candidate("bbbb", now - 100, 60), now));
        drop(live);
        assert!(reaper.is_due(&candidate("bbbb", now - 100, 60), now));
        assert!(!reaper.is_due(&candidate("bbbb", now - 10, 60), now));
    }
}
