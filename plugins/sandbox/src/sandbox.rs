//! What every sandbox tool shares: the labels that make a container a sandbox, finding
//! one by name or id, running a command in it, and the workspace path rules.

use bulkhead_plugin_sdk::docker::containers_exec::{self, ExecRequest, ExecResult};
use bulkhead_plugin_sdk::docker::{
    ContainerSummary, DockerError, KeyValue, ListFilter, MountInfo, PageRequest, containers_read,
};
use bulkhead_plugin_sdk::{ErrorCode, ToolError, fence_untrusted};

/// Every sandbox carries this label.
pub const SANDBOX_LABEL: &str = "bulkhead.sandbox";
/// The sandbox's name, unique per principal.
pub const NAME_LABEL: &str = "bulkhead.sandbox.name";
/// The user its commands run as (`uid:gid` or a name from the image).
pub const USER_LABEL: &str = "bulkhead.sandbox.user";
/// Where the workspace is mounted.
pub const WORKSPACE: &str = "/workspace";
/// Where installed Python packages go (on `PYTHONPATH`).
pub const PYTHON_SITE: &str = "/workspace/.bulkhead/site";
/// Where scripts are written, one file per run.
pub const SCRIPTS_DIR: &str = ".bulkhead/scripts";
/// Default cap on each of stdout and stderr.
pub const DEFAULT_OUTPUT_BYTES: u32 = 64 * 1024;

/// A sandbox as found: its container id, name and the labels that matter.
#[derive(Debug, Clone)]
pub struct Found {
    pub id: String,
    pub name: String,
    pub user: Option<String>,
    pub running: bool,
}

impl Found {
    /// The numeric uid files should belong to, when the user is numeric.
    pub fn uid(&self) -> Option<u32> {
        let user = self.user.as_deref()?;
        user.split(':').next()?.parse().ok()
    }

    fn from_summary(summary: &ContainerSummary) -> Option<Found> {
        let label = |key: &str| {
            summary
                .labels
                .iter()
                .find(|kv| kv.key == key)
                .map(|kv| kv.value.clone())
        };
        label(SANDBOX_LABEL)?;
        Some(Found {
            id: summary.id.clone(),
            name: label(NAME_LABEL).unwrap_or_else(|| summary.id.chars().take(12).collect()),
            user: label(USER_LABEL),
            running: summary.state == "running",
        })
    }
}

/// The label list for a sandbox named `name`.
pub fn labels(name: &str, user: &str) -> Vec<KeyValue> {
    [(SANDBOX_LABEL, "1"), (NAME_LABEL, name), (USER_LABEL, user)]
        .into_iter()
        .map(|(key, value)| KeyValue {
            key: key.into(),
            value: value.into(),
        })
        .collect()
}

/// Sandboxes of this principal (the host filters by owner), optionally only this
/// server session's, optionally only the one named `name`.
pub fn list(this_session: bool, name: Option<&str>) -> Result<Vec<Found>, ToolError> {
    let mut labels = vec![SANDBOX_LABEL.to_string()];
    if let Some(name) = name {
        labels.push(format!("{NAME_LABEL}={name}"));
    }
    let filter = ListFilter {
        all: true,
        labels,
        this_session,
        ..ListFilter::default()
    };
    let mut found = Vec::new();
    let mut cursor = None;
    // Pages of 100 until the end; a principal with thousands of sandboxes is a mistake
    // the reaper will correct, not a case to optimise.
    for _ in 0..50 {
        let page = containers_read::list_containers(
            &filter,
            &PageRequest {
                limit: 100,
                cursor: cursor.take(),
            },
        )
        .map_err(docker_error)?;
        found.extend(page.items.iter().filter_map(Found::from_summary));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    Ok(found)
}

/// The sandbox called `reference` (its name, else its container id or id prefix).
pub fn find(reference: &str) -> Result<Found, ToolError> {
    if let Some(found) = list(false, Some(reference))?.into_iter().next() {
        return Ok(found);
    }
    if reference.len() >= 12 && reference.chars().all(|c| c.is_ascii_hexdigit()) {
        let by_id = list(false, None)?
            .into_iter()
            .find(|sandbox| sandbox.id.starts_with(reference));
        if let Some(found) = by_id {
            return Ok(found);
        }
    }
    Err(ToolError::new(
        ErrorCode::NotFound,
        format!("no sandbox `{}` of yours", one_line(reference)),
    )
    .with_hint("List your sandboxes with sandbox_list, or create one with sandbox_create."))
}

/// The name of the volume mounted at /workspace in container `id`.
pub fn workspace_of(id: &str) -> Result<Option<String>, ToolError> {
    let details = containers_read::inspect_container(id).map_err(docker_error)?;
    Ok(workspace_in(&details.mounts))
}

/// The name of the volume among `mounts` that is mounted at /workspace.
pub fn workspace_in(mounts: &[MountInfo]) -> Option<String> {
    mounts
        .iter()
        .find(|m| m.destination == WORKSPACE)
        .and_then(|m| m.name.clone())
}

/// Runs `cmd` in the sandbox as its user, in `workdir`.
pub fn exec(
    sandbox: &Found,
    cmd: Vec<String>,
    workdir: Option<String>,
    stdin: Option<String>,
    timeout_secs: u32,
    max_output_bytes: u32,
) -> Result<ExecResult, ToolError> {
    if !sandbox.running {
        return Err(ToolError::new(
            ErrorCode::Conflict,
            format!("sandbox `{}` is not running", sandbox.name),
        )
        .with_hint("Destroy it with sandbox_destroy and create a new one."));
    }
    let request = ExecRequest {
        cmd,
        env: Vec::new(),
        working_dir: Some(workdir.unwrap_or_else(|| WORKSPACE.to_string())),
        user: sandbox.user.clone(),
        stdin,
        timeout_secs,
        max_output_bytes,
    };
    containers_exec::exec(&sandbox.id, &request).map_err(docker_error)
}

/// A summary line and the fenced output of a command.
pub fn exec_text(sandbox: &str, what: &str, result: &ExecResult) -> String {
    let outcome = match (result.timed_out, result.exit_code) {
        (true, _) => "was killed at its timeout (with everything it started)".to_owned(),
        (false, Some(137)) => {
            "was killed (SIGKILL, exit code 137: most likely it ran out of the sandbox's memory)"
                .to_owned()
        }
        (false, Some(code)) => format!("exited with code {code}"),
        (false, None) => "ended without an exit code".to_owned(),
    };
    let cut = if result.truncated {
        "; output cut to the newest bytes"
    } else {
        ""
    };
    let mut text = format!(
        "{what} in sandbox {sandbox} {outcome} after {} ms{cut}.",
        result.duration_ms
    );
    for (stream, body) in [("stdout", &result.stdout), ("stderr", &result.stderr)] {
        if !body.is_empty() {
            text.push('\n');
            text.push_str(&fence_untrusted(&format!("{sandbox} {stream}"), body));
        }
    }
    text
}

/// An absolute path inside the workspace (or `/tmp`, when `tmp_too`) for `path`, which
/// may be relative to the workspace. No `..`, no control characters.
pub fn workspace_path(path: &str, tmp_too: bool) -> Result<String, ToolError> {
    let invalid = || {
        ToolError::invalid_argument(format!(
            "`{}` must be a path inside /workspace{} without `..`",
            one_line(path),
            if tmp_too { " or /tmp" } else { "" }
        ))
    };
    if path.is_empty() || path.len() > 1024 || path.chars().any(char::is_control) {
        return Err(invalid());
    }
    let absolute = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("{WORKSPACE}/{path}")
    };
    if absolute.split('/').any(|part| part == "..") {
        return Err(invalid());
    }
    let inside = |root: &str| absolute == root || absolute.starts_with(&format!("{root}/"));
    if inside(WORKSPACE) || (tmp_too && inside("/tmp")) {
        Ok(absolute.trim_end_matches('/').to_string())
    } else {
        Err(invalid())
    }
}

/// A fresh random suffix (8 hex digits) from the host's WASI randomness.
pub fn random_suffix() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u8(0);
    format!("{:08x}", hasher.finish() as u32)
}

/// The SDK's mapping, with this plugin's tools named in the hints.
pub fn docker_error(err: DockerError) -> ToolError {
    let mut mapped = ToolError::from(err);
    if mapped.code == ErrorCode::NotFound {
        mapped.hint = Some("List your sandboxes with sandbox_list.".into());
    }
    mapped
}

/// Caller text quoted back on one line, at most 80 characters.
pub fn one_line(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_paths_stay_inside() {
        assert_eq!(
            workspace_path("a/b.txt", false).unwrap(),
            "/workspace/a/b.txt"
        );
        assert_eq!(
            workspace_path("/workspace/x", false).unwrap(),
            "/workspace/x"
        );
        assert_eq!(workspace_path("/tmp/out", true).unwrap(), "/tmp/out");
        for bad in [
            "/etc/passwd",
            "../x",
            "/workspace/../etc",
            "/tmp/x",
            "",
            "/workspacex",
        ] {
            assert!(workspace_path(bad, false).is_err(), "{bad}");
        }
    }

    #[test]
    fn uids_come_from_numeric_users() {
        let mut found = Found {
            id: "x".into(),
            name: "n".into(),
            user: Some("1000:1000".into()),
            running: true,
        };
        assert_eq!(found.uid(), Some(1000));
        found.user = Some("sandbox".into());
        assert_eq!(found.uid(), None);
    }
}
