//! Health checks both ways: a plugin's `healthcheck-spec` checked and turned into the
//! engine's `HealthConfig`, and the engine's health record turned into the sanitised
//! `health-status` a plugin sees. Pure functions, so each rule has a table test.

use bollard::models::{Health, HealthConfig, HealthStatusEnum};

use crate::bindings::DockerError;
use crate::bindings::bulkhead::plugin::types::{HealthStatus, HealthcheckSpec};
use crate::sanitize::one_line;

/// Longest probe output a plugin sees: enough for the line that explains a failure.
const MAX_OUTPUT_BYTES: usize = 1024;
/// Most words in a `CMD` test and bytes in all of them.
const MAX_TEST_WORDS: usize = 64;
const MAX_TEST_BYTES: usize = 4096;
/// Most failures in a row an operator could mean.
const MAX_RETRIES: u32 = 100;

/// The engine's form of `spec`, or `invalid` naming what is wrong with it.
pub fn engine_healthcheck(spec: HealthcheckSpec) -> Result<HealthConfig, DockerError> {
    let invalid = |what: &str| DockerError::Invalid(format!("healthcheck: {what}"));
    let words: usize = spec.test.iter().map(String::len).sum();
    if spec.test.len() > MAX_TEST_WORDS || words > MAX_TEST_BYTES {
        return Err(invalid(&format!(
            "`test` is at most {MAX_TEST_WORDS} words and {MAX_TEST_BYTES} bytes"
        )));
    }
    if spec.test.iter().any(|word| word.contains('\0')) {
        return Err(invalid("`test` may not contain NUL characters"));
    }
    match spec.test.first().map(String::as_str) {
        Some("NONE") if spec.test.len() == 1 => {}
        Some("CMD") if spec.test.len() >= 2 => {}
        Some("CMD-SHELL") if spec.test.len() == 2 => {}
        _ => {
            return Err(invalid(
                "`test` is [\"CMD\", program, args…], [\"CMD-SHELL\", command] or [\"NONE\"]",
            ));
        }
    }
    if spec.interval_ms == Some(0) || spec.timeout_ms == Some(0) {
        return Err(invalid("`interval_ms` and `timeout_ms` are at least 1"));
    }
    if spec.retries.is_some_and(|r| r > MAX_RETRIES) {
        return Err(invalid(&format!("`retries` is at most {MAX_RETRIES}")));
    }
    let nanos = |ms: Option<u32>| ms.map(|ms| i64::from(ms) * 1_000_000);
    Ok(HealthConfig {
        test: Some(spec.test),
        interval: nanos(spec.interval_ms),
        timeout: nanos(spec.timeout_ms),
        retries: spec.retries.map(i64::from),
        start_period: nanos(spec.start_period_ms),
        start_interval: None,
    })
}

/// What a plugin sees of a container's health: none when it has no check.
pub fn health_status(health: Option<Health>) -> Option<HealthStatus> {
    let health = health?;
    let status = match health.status? {
        HealthStatusEnum::EMPTY | HealthStatusEnum::NONE => return None,
        other => other.to_string(),
    };
    // The engine keeps the newest probe last.
    let last = health.log.and_then(|mut log| log.pop());
    Some(HealthStatus {
        status,
        failing_streak: health
            .failing_streak
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0),
        last_exit_code: last.as_ref().and_then(|probe| probe.exit_code),
        last_output: last
            .and_then(|probe| probe.output)
            .map(|output| one_line(output.trim(), MAX_OUTPUT_BYTES))
            .filter(|output| !output.is_empty()),
    })
}

#[cfg(test)]
mod tests {
    use bollard::models::HealthcheckResult;

    use super::*;

    fn spec(test: &[&str]) -> HealthcheckSpec {
        HealthcheckSpec {
            test: test.iter().map(|s| s.to_string()).collect(),
            interval_ms: Some(1500),
            timeout_ms: None,
            retries: Some(3),
            start_period_ms: None,
        }
    }

    #[test]
    fn accepts_the_engine_forms_and_converts_to_nanoseconds() {
        let config = engine_healthcheck(spec(&["CMD", "wget", "-q", "localhost"])).unwrap();
        assert_eq!(config.interval, Some(1_500_000_000));
        assert_eq!(config.retries, Some(3));
        assert_eq!(config.timeout, None);
        engine_healthcheck(spec(&["CMD-SHELL", "test -f /ok"])).unwrap();
        engine_healthcheck(spec(&["NONE"])).unwrap();
    }

    #[test]
    fn refuses_malformed_tests_and_times() {
        for test in [
            &[][..],
            &["CMD"][..],
            &["CMD-SHELL", "a", "b"][..],
            &["NONE", "x"][..],
            &["wget"][..],
            &["CMD", "a\0b"][..],
        ] {
            assert!(
                matches!(engine_healthcheck(spec(test)), Err(DockerError::Invalid(_))),
                "{test:?}"
            );
        }
        let mut zero = spec(&["NONE"]);
        zero.interval_ms = Some(0);
        assert!(matches!(
            engine_healthcheck(zero),
            Err(DockerError::Invalid(_))
        ));
    }

    #[test]
    fn reports_the_newest_probe_sanitised() {
        let probe = |code, output: &str| HealthcheckResult {
            exit_code: Some(code),
            output: Some(output.to_string()),
            ..Default::default()
        };
        let status = health_status(Some(Health {
            status: Some(HealthStatusEnum::UNHEALTHY),
            failing_streak: Some(4),
            log: Some(vec![probe(0, "fine"), probe(1, "refused\x1b[31m\n")]),
        }))
        .unwrap();
        assert_eq!(status.status, "unhealthy");
        assert_eq!(status.failing_streak, 4);
        assert_eq!(status.last_exit_code, Some(1));
        let output = status.last_output.unwrap();
        assert!(output.starts_with("refused"), "{output}");
        assert!(!output.contains('\x1b'));
        assert!(
            health_status(Some(Health {
                status: Some(HealthStatusEnum::NONE),
                ..Default::default()
            }))
            .is_none()
        );
        assert!(health_status(None).is_none());
    }
}
