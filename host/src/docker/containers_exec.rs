//! `containers-exec`: run a command in a running container, feed it stdin, collect its
//! output with a bounded buffer, and kill it when its timeout fires. Moderate tier.

use std::time::Duration;

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecOptions, StartExecResults};
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::time::Instant;

use super::exec_kill::{self, TOKEN_KEY};
use super::ownership::ObjectKind;
use super::refs::container_ref;
use super::{engine_call, map_error};
use crate::access::CallAccess;
use crate::bindings::DockerError;
use crate::bindings::bulkhead::plugin::containers_exec::{ExecRequest, ExecResult, Host};
use crate::capabilities::Capability;
use crate::sanitize::{keep_tail, strip_controls};

const DEFAULT_TIMEOUT_SECS: u32 = 20;
/// Longest timeout one exec may ask for; the call's deadline usually cuts it shorter.
const MAX_TIMEOUT_SECS: u32 = 3600;
/// Left of the call's deadline after the timeout, to kill the process and report.
const KILL_MARGIN: Duration = Duration::from_secs(3);
const DEFAULT_OUTPUT_BYTES: u32 = 64 << 10;
const MAX_OUTPUT_BYTES: u32 = 1 << 20;
const MAX_STDIN_BYTES: usize = 1 << 20;
const MAX_ARGS: usize = 256;
const MAX_ARGV_BYTES: usize = 64 << 10;
const MAX_ENV: usize = 256;
/// How long to wait for the engine to notice a process ended (after the output closed,
/// or after a kill), polling exec inspect.
const EXIT_WAIT: Duration = Duration::from_secs(2);
const EXIT_POLL: Duration = Duration::from_millis(50);

impl Host for CallAccess {
    async fn exec(
        &mut self,
        target: String,
        request: ExecRequest,
    ) -> Result<ExecResult, DockerError> {
        let docker = self.authorize(Capability::ContainersExec).await?;
        let target = self
            .resolve(&docker, ObjectKind::Container, &target)
            .await?;
        let target = target.as_str();
        let plan = Plan::new(request, self.deadline)?;
        let token = exec_kill::new_token();

        let mut env = plan.env.clone();
        env.push(format!("{TOKEN_KEY}={token}"));
        let options = CreateExecOptions {
            attach_stdin: Some(plan.stdin.is_some()),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            tty: Some(false),
            privileged: Some(false),
            env: Some(env),
            cmd: Some(plan.cmd.clone()),
            user: plan.user.clone(),
            working_dir: plan.working_dir.clone(),
            detach_keys: None,
        };
        let created = engine_call(&self.docker, docker.create_exec(target, options)).await?;
        let started = Instant::now();
        let attached = engine_call(
            &self.docker,
            docker.start_exec(
                &created.id,
                Some(StartExecOptions {
                    detach: false,
                    tty: false,
                    output_capacity: None,
                }),
            ),
        )
        .await?;
        let StartExecResults::Attached { mut output, input } = attached else {
            return Err(DockerError::Engine(
                "the engine started the exec detached".into(),
            ));
        };

        // Stdin is written beside the reading: a process may print before it reads, and
        // a full pipe either way must not stall the other.
        let writer = plan.stdin.clone().map(|text| {
            let mut input = input;
            tokio::spawn(async move {
                // A process that exits without reading closes the pipe; that is fine.
                let _ = input.write_all(text.as_bytes()).await;
                let _ = input.shutdown().await;
            })
        });

        let mut stdout = Tail::new(plan.max_output);
        let mut stderr = Tail::new(plan.max_output);
        let read = tokio::time::timeout_at(started + plan.timeout, async {
            while let Some(frame) = output.next().await {
                let (stream, message) = match frame? {
                    LogOutput::StdOut { message } | LogOutput::Console { message } => {
                        stdout.push(&message);
                        ("stdout", message)
                    }
                    LogOutput::StdErr { message } => {
                        stderr.push(&message);
                        ("stderr", message)
                    }
                    LogOutput::StdIn { .. } => continue,
                };
                // A long run shows its output as it comes (rate-limited and sanitised by
                // the reporter), when the client asked for progress.
                let chunk = crate::sanitize::one_line(&String::from_utf8_lossy(&message), 200);
                if !chunk.trim().is_empty() {
                    let elapsed = started.elapsed().as_millis() as u64;
                    self.report_progress(elapsed, None, &format!("{stream}: {chunk}"));
                }
            }
            Ok::<(), bollard::errors::Error>(())
        })
        .await;
        drop(output);
        if let Some(writer) = writer {
            writer.abort();
        }
        let timed_out = match read {
            Ok(Ok(())) => false,
            Ok(Err(err)) => {
                let mapped = map_error(err);
                if matches!(mapped, DockerError::Unavailable(_)) {
                    self.docker.reset().await;
                }
                return Err(mapped);
            }
            Err(_elapsed) => true,
        };
        if timed_out {
            kill(&docker, &created.id, &token, plan.user.as_deref()).await?;
        }
        let duration_ms = started.elapsed().as_millis() as u64;
        let exit_code = wait_for_exit(&docker, &created.id).await?;
        let (stdout, stdout_cut) = stdout.finish();
        let (stderr, stderr_cut) = stderr.finish();
        Ok(ExecResult {
            exit_code,
            stdout,
            stderr,
            timed_out,
            truncated: stdout_cut || stderr_cut,
            duration_ms,
        })
    }
}

/// A validated request.
#[derive(Debug)]
struct Plan {
    cmd: Vec<String>,
    env: Vec<String>,
    working_dir: Option<String>,
    user: Option<String>,
    stdin: Option<String>,
    timeout: Duration,
    max_output: usize,
}

impl Plan {
    fn new(request: ExecRequest, deadline: Instant) -> Result<Plan, DockerError> {
        let invalid = |text: String| Err(DockerError::Invalid(text));
        if request.cmd.is_empty() || request.cmd[0].is_empty() {
            return invalid("`cmd` needs a program to run".into());
        }
        if request.cmd.len() > MAX_ARGS {
            return invalid(format!("`cmd` has more than {MAX_ARGS} arguments"));
        }
        if request.cmd.iter().map(String::len).sum::<usize>() > MAX_ARGV_BYTES {
            return invalid(format!("`cmd` is longer than {MAX_ARGV_BYTES} bytes"));
        }
        if request.cmd.iter().any(|arg| arg.contains('\0')) {
            return invalid("`cmd` arguments cannot contain NUL".into());
        }
        if request.env.len() > MAX_ENV {
            return invalid(format!("`env` has more than {MAX_ENV} entries"));
        }
        for entry in &request.env {
            check_env_entry(entry)?;
        }
        if let Some(dir) = &request.working_dir
            && (!dir.starts_with('/') || dir.len() > 4096 || dir.contains('\0'))
        {
            return invalid("`working-dir` must be an absolute path".into());
        }
        if let Some(user) = &request.user
            && (user.is_empty()
                || user.len() > 256
                || user.chars().any(|c| c.is_whitespace() || c.is_control()))
        {
            return invalid("`user` must be `user`, `user:group` or `uid:gid`".into());
        }
        if request
            .stdin
            .as_ref()
            .is_some_and(|s| s.len() > MAX_STDIN_BYTES)
        {
            return invalid(format!("`stdin` is larger than {MAX_STDIN_BYTES} bytes"));
        }
        let requested = match request.timeout_secs {
            0 => DEFAULT_TIMEOUT_SECS,
            secs if secs > MAX_TIMEOUT_SECS => {
                return invalid(format!("`timeout-secs` is at most {MAX_TIMEOUT_SECS}"));
            }
            secs => secs,
        };
        let max_output = match request.max_output_bytes {
            0 => DEFAULT_OUTPUT_BYTES,
            bytes if bytes > MAX_OUTPUT_BYTES => {
                return invalid(format!("`max-output-bytes` is at most {MAX_OUTPUT_BYTES}"));
            }
            bytes => bytes,
        };
        // The process must be dead before the call's deadline cuts the host off: keep a
        // margin to kill it and report.
        let left = deadline
            .saturating_duration_since(Instant::now())
            .saturating_sub(KILL_MARGIN);
        let timeout = Duration::from_secs(u64::from(requested)).min(left);
        if timeout < Duration::from_secs(1) {
            return Err(DockerError::Timeout(
                "too little of the call's deadline is left to run a command".into(),
            ));
        }
        Ok(Plan {
            cmd: request.cmd,
            env: request.env,
            working_dir: request.working_dir,
            user: request.user,
            stdin: request.stdin,
            timeout,
            max_output: max_output as usize,
        })
    }
}

fn check_env_entry(entry: &str) -> Result<(), DockerError> {
    let key = entry.split_once('=').map(|(key, _)| key);
    let valid_key = key.is_some_and(|key| {
        !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    });
    if !valid_key || entry.contains('\0') {
        return Err(DockerError::Invalid(
            "`env` entries are `KEY=value` with a key of letters, digits, `_`, `.`, `-`".into(),
        ));
    }
    if key == Some(TOKEN_KEY) {
        return Err(DockerError::Invalid(format!(
            "`{TOKEN_KEY}` is reserved for the host"
        )));
    }
    Ok(())
}

/// The newest bytes of one output stream: the buffer never grows past twice the cap.
struct Tail {
    raw: Vec<u8>,
    max: usize,
    dropped: bool,
}

impl Tail {
    fn new(max: usize) -> Self {
        Tail {
            raw: Vec::new(),
            max,
            dropped: false,
        }
    }

    fn push(&mut self, bytes: &[u8]) {
        // A single huge frame: only its end can survive.
        let bytes = if bytes.len() > self.max {
            self.dropped = true;
            &bytes[bytes.len() - self.max..]
        } else {
            bytes
        };
        self.raw.extend_from_slice(bytes);
        if self.raw.len() > self.max * 2 {
            self.raw.drain(..self.raw.len() - self.max);
            self.dropped = true;
        }
    }

    /// The sanitised text, and whether anything was cut.
    fn finish(self) -> (String, bool) {
        let text = strip_controls(&String::from_utf8_lossy(&self.raw));
        let kept = keep_tail(&text, self.max);
        (kept.to_string(), self.dropped || kept.len() < text.len())
    }
}

/// Kills the timed-out exec: from the host when it can see the process, else from
/// inside the container (see `exec_kill`).
async fn kill(
    docker: &Docker,
    exec_id: &str,
    token: &str,
    user: Option<&str>,
) -> Result<(), DockerError> {
    let inspected = docker.inspect_exec(exec_id).await.map_err(map_error)?;
    if inspected.running != Some(true) {
        return Ok(());
    }
    let container_id = inspected.container_id.unwrap_or_default();
    let on_host = match inspected.pid.filter(|pid| *pid > 0) {
        Some(pid) => exec_kill::kill_on_host(pid, &container_id),
        None => Err(exec_kill::HostKillError::NoPid),
    };
    match on_host {
        Ok(count) => {
            tracing::debug!(exec = %exec_id, processes = count, "killed timed-out exec on the host");
            Ok(())
        }
        Err(why) => {
            tracing::debug!(exec = %exec_id, reason = %why, "killing timed-out exec from inside the container");
            sweep_in_container(docker, &container_id, token, user).await
        }
    }
}

/// Runs the token sweep as a second exec and waits (briefly) for it.
async fn sweep_in_container(
    docker: &Docker,
    container_id: &str,
    token: &str,
    user: Option<&str>,
) -> Result<(), DockerError> {
    let options = CreateExecOptions {
        attach_stdout: Some(false),
        attach_stderr: Some(false),
        env: Some(vec![format!("BULKHEAD_SWEEP={token}")]),
        cmd: Some(exec_kill::sweep_command()),
        user: user.map(str::to_owned),
        ..Default::default()
    };
    let container = container_ref(container_id)?;
    let sweep = docker
        .create_exec(container, options)
        .await
        .map_err(map_error)?;
    docker
        .start_exec(
            &sweep.id,
            Some(StartExecOptions {
                detach: true,
                ..Default::default()
            }),
        )
        .await
        .map_err(map_error)?;
    wait_for_exit(docker, &sweep.id).await.map(|_| ())
}

/// The exit code once the engine reports the exec ended; `None` if it still runs after
/// a short wait.
async fn wait_for_exit(docker: &Docker, exec_id: &str) -> Result<Option<i64>, DockerError> {
    let until = Instant::now() + EXIT_WAIT;
    loop {
        let inspected = docker.inspect_exec(exec_id).await.map_err(map_error)?;
        if inspected.running != Some(true) {
            return Ok(inspected.exit_code);
        }
        if Instant::now() >= until {
            return Ok(None);
        }
        tokio::time::sleep(EXIT_POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(cmd: &[&str]) -> ExecRequest {
        ExecRequest {
            cmd: cmd.iter().map(|s| s.to_string()).collect(),
            env: vec![],
            working_dir: None,
            user: None,
            stdin: None,
            timeout_secs: 0,
            max_output_bytes: 0,
        }
    }

    fn far() -> Instant {
        Instant::now() + Duration::from_secs(30)
    }

    #[test]
    fn defaults_and_bounds() {
        let plan = Plan::new(request(&["ls"]), far()).unwrap();
        assert_eq!(plan.timeout, Duration::from_secs(20));
        assert_eq!(plan.max_output, 64 << 10);
        let too_long = ExecRequest {
            timeout_secs: 3601,
            ..request(&["ls"])
        };
        assert!(matches!(
            Plan::new(too_long, far()),
            Err(DockerError::Invalid(_))
        ));
        let too_much = ExecRequest {
            max_output_bytes: (1 << 20) + 1,
            ..request(&["ls"])
        };
        assert!(matches!(
            Plan::new(too_much, far()),
            Err(DockerError::Invalid(_))
        ));
    }

    #[test]
    fn the_timeout_leaves_room_before_the_call_deadline() {
        let soon = Instant::now() + Duration::from_secs(8);
        let plan = Plan::new(request(&["sleep", "9"]), soon).unwrap();
        assert!(plan.timeout <= Duration::from_secs(5), "{:?}", plan.timeout);
        let now = Instant::now() + Duration::from_secs(2);
        assert!(matches!(
            Plan::new(request(&["ls"]), now),
            Err(DockerError::Timeout(_))
        ));
    }

    #[test]
    fn malformed_requests_are_refused() {
        let cases = [
            request(&[]),
            request(&[""]),
            request(&["a\0b"]),
            ExecRequest {
                env: vec!["NOEQUALS".into()],
                ..request(&["ls"])
            },
            ExecRequest {
                env: vec![format!("{TOKEN_KEY}=mine")],
                ..request(&["ls"])
            },
            ExecRequest {
                working_dir: Some("relative".into()),
                ..request(&["ls"])
            },
            ExecRequest {
                user: Some("root --privileged".into()),
                ..request(&["ls"])
            },
            ExecRequest {
                stdin: Some("x".repeat(MAX_STDIN_BYTES + 1)),
                ..request(&["cat"])
            },
        ];
        for case in cases {
            let shown = format!("{case:?}");
            assert!(
                matches!(Plan::new(case, far()), Err(DockerError::Invalid(_))),
                "{}",
                &shown[..shown.len().min(200)]
            );
        }
    }

    #[test]
    fn tail_keeps_the_newest_bytes_within_twice_the_cap() {
        let mut tail = Tail::new(10);
        for _ in 0..100 {
            tail.push(b"0123456789\n");
            assert!(tail.raw.len() <= 20);
        }
        tail.push(b"last\n");
        let (text, cut) = tail.finish();
        assert!(cut);
        assert!(text.ends_with("last\n") && text.len() <= 10, "{text:?}");

        let mut small = Tail::new(100);
        small.push(b"\x1b[31mred\x1b[0m ok\n");
        assert_eq!(small.finish(), ("red ok\n".to_string(), false));
    }
}
