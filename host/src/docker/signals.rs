//! Signal names for `kill-container`: a plugin's text is checked against the Linux
//! signal table before it reaches the engine, so only real signals are ever sent and an
//! unknown one is `invalid`, not an engine error.

use crate::bindings::DockerError;
use crate::sanitize::one_line;

/// The signal sent when none is named, as `docker kill` does.
pub const DEFAULT_SIGNAL: &str = "SIGKILL";

/// Linux signal names (without `SIG`), as the engine's signal table knows them.
const NAMES: &[&str] = &[
    "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "IOT", "BUS", "FPE", "KILL", "USR1", "SEGV",
    "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU",
    "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "POLL", "PWR", "SYS",
];
/// Real-time signals: `RTMIN+n` and `RTMAX-n` span 34..=64.
const RT_SPAN: u32 = 30;
const MAX_SIGNAL_NUMBER: u32 = 64;

/// The signal to send for `asked`, in the form the engine takes: `SIGNAME` or a number.
/// Case and a `SIG` prefix do not matter; surrounding spaces are ignored.
pub fn parse_signal(asked: Option<&str>) -> Result<String, DockerError> {
    let Some(text) = asked.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(DEFAULT_SIGNAL.to_string());
    };
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return match text.parse::<u32>() {
            Ok(n) if (1..=MAX_SIGNAL_NUMBER).contains(&n) => Ok(n.to_string()),
            _ => Err(invalid(text)),
        };
    }
    let upper = text.to_ascii_uppercase();
    let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
    if NAMES.contains(&bare) || is_realtime(bare) {
        Ok(format!("SIG{bare}"))
    } else {
        Err(invalid(text))
    }
}

fn is_realtime(name: &str) -> bool {
    let offset_ok = |digits: &str| {
        !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && digits.parse::<u32>().is_ok_and(|n| n <= RT_SPAN)
    };
    match name {
        "RTMIN" | "RTMAX" => true,
        _ => name
            .strip_prefix("RTMIN+")
            .or_else(|| name.strip_prefix("RTMAX-"))
            .is_some_and(offset_ok),
    }
}

fn invalid(text: &str) -> DockerError {
    DockerError::Invalid(format!(
        "`{}` is not a signal: use a name such as SIGTERM, KILL or HUP, or a number 1-64",
        one_line(text, 40)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_by_the_table() {
        let cases: &[(Option<&str>, Option<&str>)] = &[
            (None, Some("SIGKILL")),
            (Some(""), Some("SIGKILL")),
            (Some("SIGKILL"), Some("SIGKILL")),
            (Some("KILL"), Some("SIGKILL")),
            (Some("term"), Some("SIGTERM")),
            (Some(" SigHup "), Some("SIGHUP")),
            (Some("USR1"), Some("SIGUSR1")),
            (Some("RTMIN+3"), Some("SIGRTMIN+3")),
            (Some("rtmax-30"), Some("SIGRTMAX-30")),
            (Some("9"), Some("9")),
            (Some("64"), Some("64")),
            (Some("0"), None),
            (Some("65"), None),
            (Some("99999999999999999999"), None),
            (Some("-9"), None),
            (Some("SIGFOO"), None),
            (Some("SIG"), None),
            (Some("RTMIN+31"), None),
            (Some("RTMIN+"), None),
            (Some("RTMAX+1"), None),
            (Some("KILL&t=1"), None),
            (Some("KILL\n"), Some("SIGKILL")),
        ];
        for (asked, want) in cases {
            let got = parse_signal(*asked);
            match want {
                Some(expected) => assert_eq!(got.as_deref().ok(), Some(*expected), "{asked:?}"),
                None => assert!(matches!(got, Err(DockerError::Invalid(_))), "{asked:?}"),
            }
        }
    }
}
