//! When this server last touched each container: the journal of every call feeds it, the
//! idle reaper and `idle-secs` in container details read it. In memory only; after a
//! restart the reaper falls back to creation times.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Entries kept at most; the oldest are dropped beyond it (a reaper that forgets only
/// falls back to creation time).
const MAX_TRACKED: usize = 4096;

#[derive(Debug, Default)]
pub struct Activity {
    last: Mutex<HashMap<String, Instant>>,
}

impl Activity {
    /// Notes that a call named or created `reference` (an id or a name) just now.
    pub fn touch(&self, reference: &str) {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if last.len() >= MAX_TRACKED
            && !last.contains_key(reference)
            && let Some(oldest) = last
                .iter()
                .min_by_key(|(_, at)| **at)
                .map(|(k, _)| k.clone())
        {
            last.remove(&oldest);
        }
        last.insert(reference.to_string(), Instant::now());
    }

    /// Time since any of `references` (a container's id, its name…) was last touched;
    /// an id prefix of at least 12 characters matches the full id.
    pub fn idle(&self, references: &[&str]) -> Option<Duration> {
        let last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        last.iter()
            .filter(|(key, _)| {
                references.iter().any(|r| {
                    !r.is_empty()
                        && (key.as_str() == *r || (key.len() >= 12 && r.starts_with(key.as_str())))
                })
            })
            .map(|(_, at)| at.elapsed())
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_by_id_name_or_prefix() {
        let activity = Activity::default();
        assert_eq!(activity.idle(&["abc"]), None);
        activity.touch("web");
        activity.touch("0123456789ab");
        assert!(activity.idle(&["0123456789abcdef", "other"]).is_some());
        assert!(activity.idle(&["x", "web"]).unwrap() < Duration::from_secs(5));
        assert_eq!(activity.idle(&["0123"]), None);
    }
}
