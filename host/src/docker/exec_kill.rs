//! Killing an exec'd process whose timeout fired. The Engine API has no call to stop an
//! exec, so the host does it itself, in two ways; the first that works wins:
//!
//! 1. **From the host**, when the engine runs on this machine in our PID namespace (the
//!    usual stdio deployment). `ExecInspect.Pid` is the process's pid as the engine sees
//!    it. The host signals it only after checking, through a pidfd (so the pid cannot be
//!    recycled between the check and the signal), that the process sits in the
//!    container's cgroup; then it kills the process group the exec leads and every
//!    descendant in the same cgroup. This works for any image, even one without a shell.
//! 2. **Inside the container**, for remote engines or another PID namespace: every exec
//!    carries `BULKHEAD_EXEC_TOKEN=<random>` in its environment, which its children
//!    inherit; a second, short exec (as the same user) kills every process whose
//!    environment holds the token. It needs `sh`, `grep` and `kill` in the image.
//!
//! A wrapper that records the pid in a file was rejected: it breaks on read-only root
//! filesystems and changes the argv the agent asked for.

use std::collections::HashMap;

/// Environment key carrying the per-exec token the in-container sweep looks for.
pub const TOKEN_KEY: &str = "BULKHEAD_EXEC_TOKEN";

/// A token unique enough to tell this exec's processes from any other's: the time in
/// nanoseconds, the host's pid and a counter. Uniqueness matters here, not secrecy.
pub fn new_token() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default();
    format!(
        "{nanos:x}{:x}{:x}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// The argv of the in-container sweep. The token reaches the script through the
/// environment of the sweep under a different key, so the sweep never matches itself.
pub fn sweep_command() -> Vec<String> {
    let script = format!(
        "for d in /proc/[0-9]*; do \
           grep -q \"{TOKEN_KEY}=$BULKHEAD_SWEEP\" \"$d/environ\" 2>/dev/null && \
           kill -9 \"${{d#/proc/}}\" 2>/dev/null; \
         done; exit 0"
    );
    vec!["sh".into(), "-c".into(), script]
}

/// `pid`, `ppid` and process group from the text of `/proc/<pid>/stat`. The command
/// name sits in parentheses and may itself contain spaces and parentheses, so fields are
/// counted from the last `)`.
pub fn parse_stat(stat: &str) -> Option<(i32, i32, i32)> {
    let (head, tail) = stat.rsplit_once(')')?;
    let pid = head.split_whitespace().next()?.parse().ok()?;
    let mut fields = tail.split_whitespace();
    let _state = fields.next()?;
    let ppid = fields.next()?.parse().ok()?;
    let pgrp = fields.next()?.parse().ok()?;
    Some((pid, ppid, pgrp))
}

/// Whether `/proc/<pid>/cgroup` text places the process in the container `container_id`
/// (a full 64-hex id, as cgroup paths carry it under both cgroup v1 and v2 drivers).
pub fn in_container_cgroup(cgroup: &str, container_id: &str) -> bool {
    container_id.len() == 64
        && container_id.bytes().all(|b| b.is_ascii_hexdigit())
        && cgroup.lines().any(|line| line.contains(container_id))
}

/// Every descendant of `root` in a `pid -> ppid` table, breadth first.
pub fn descendants(root: i32, parents: &HashMap<i32, i32>) -> Vec<i32> {
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    for (&pid, &ppid) in parents {
        children.entry(ppid).or_default().push(pid);
    }
    let mut found = Vec::new();
    let mut queue = vec![root];
    while let Some(pid) = queue.pop() {
        for &child in children.get(&pid).into_iter().flatten() {
            // A cycle cannot happen in /proc, but a table read while processes change
            // could be inconsistent; never loop.
            if child != root && !found.contains(&child) && found.len() < 4096 {
                found.push(child);
                queue.push(child);
            }
        }
    }
    found
}

/// Why the host could not kill from its side (the in-container sweep is tried next).
#[derive(Debug, thiserror::Error)]
pub enum HostKillError {
    #[error("the engine reported no pid for the exec")]
    NoPid,
    #[error("pid {0} is not visible here (remote engine or another PID namespace)")]
    NotVisible(i64),
    #[error("pid {0} is not in the container's cgroup; it was left alone")]
    NotInContainer(i64),
    #[error("signalling pid {pid} failed: {source}")]
    Signal { pid: i64, source: std::io::Error },
}

/// Kills the exec's process `pid`, its process group and its descendants in the
/// container's cgroup. Returns how many processes were signalled.
#[cfg(target_os = "linux")]
pub fn kill_on_host(pid: i64, container_id: &str) -> Result<usize, HostKillError> {
    use rustix::process::{
        Pid, PidfdFlags, Signal, kill_process_group, pidfd_open, pidfd_send_signal,
    };

    let raw = i32::try_from(pid).ok().filter(|p| *p > 0);
    let leader = raw.and_then(Pid::from_raw).ok_or(HostKillError::NoPid)?;
    let raw = leader.as_raw_pid();
    // Pin the process first, then check it: the check then holds for what we signal.
    let pidfd =
        pidfd_open(leader, PidfdFlags::empty()).map_err(|_| HostKillError::NotVisible(pid))?;
    if !process_in_container(raw, container_id) {
        return Err(HostKillError::NotInContainer(pid));
    }
    let pinned_children: Vec<_> = descendants(raw, &process_table())
        .into_iter()
        .filter_map(|child| {
            let fd = pidfd_open(Pid::from_raw(child)?, PidfdFlags::empty()).ok()?;
            process_in_container(child, container_id).then_some(fd)
        })
        .collect();
    let leads_group = std::fs::read_to_string(format!("/proc/{raw}/stat"))
        .ok()
        .and_then(|stat| parse_stat(&stat))
        .is_some_and(|(_, _, pgrp)| pgrp == raw);
    if leads_group {
        // Best effort: the group may already be gone; the pidfds below are the check.
        let _ = kill_process_group(leader, Signal::KILL);
    }
    pidfd_send_signal(&pidfd, Signal::KILL).map_err(|err| HostKillError::Signal {
        pid,
        source: err.into(),
    })?;
    for child in &pinned_children {
        // A child may have died with its group already.
        let _ = pidfd_send_signal(child, Signal::KILL);
    }
    Ok(1 + pinned_children.len())
}

#[cfg(not(target_os = "linux"))]
pub fn kill_on_host(pid: i64, _container_id: &str) -> Result<usize, HostKillError> {
    Err(HostKillError::NotVisible(pid))
}

#[cfg(target_os = "linux")]
fn process_in_container(pid: i32, container_id: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/cgroup"))
        .is_ok_and(|cgroup| in_container_cgroup(&cgroup, container_id))
}

/// `pid -> ppid` for every process visible in /proc.
#[cfg(target_os = "linux")]
fn process_table() -> HashMap<i32, i32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return HashMap::new();
    };
    dir.filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().parse::<i32>().is_ok())
        .filter_map(|entry| std::fs::read_to_string(entry.path().join("stat")).ok())
        .filter_map(|stat| parse_stat(&stat))
        .map(|(pid, ppid, _)| (pid, ppid))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_from_the_last_paren() {
        assert_eq!(
            parse_stat("5601 (sleep) S 5411 5601 5601 0 -1 4194560"),
            Some((5601, 5411, 5601))
        );
        assert_eq!(
            parse_stat("77 (a) b) (c) R 1 70 70 0"),
            Some((77, 1, 70)),
            "a command name with parentheses and spaces"
        );
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn cgroup_must_name_the_full_container_id() {
        let id = "edb8bb25591c37b578f28050240cc2052577e0d5d370917e5bcd03441c4218a8";
        let v1 = format!("9:name=systemd:/docker/{id}\n8:pids:/docker/{id}\n");
        let v2 = format!("0::/system.slice/docker-{id}.scope\n");
        assert!(in_container_cgroup(&v1, id));
        assert!(in_container_cgroup(&v2, id));
        assert!(!in_container_cgroup("0::/user.slice/session-1.scope\n", id));
        assert!(
            !in_container_cgroup(&v1, "edb8bb"),
            "a prefix is not enough"
        );
        assert!(!in_container_cgroup("0::/\n", ""), "nor is an empty id");
    }

    #[test]
    fn descendants_follow_parent_links() {
        let table = HashMap::from([(10, 1), (11, 10), (12, 11), (13, 10), (20, 1)]);
        let mut found = descendants(10, &table);
        found.sort();
        assert_eq!(found, [11, 12, 13]);
        assert!(descendants(20, &table).is_empty());
    }

    #[test]
    fn tokens_differ_and_the_sweep_never_names_its_own_key() {
        assert_ne!(new_token(), new_token());
        let script = sweep_command().join(" ");
        assert!(
            script.contains("BULKHEAD_EXEC_TOKEN=$BULKHEAD_SWEEP"),
            "{script}"
        );
    }
}
