//! Secret-free output. The host redacts secret-looking environment values (the WIT
//! promises no more than that); labels, commands and URL credentials are this plugin's
//! job, so answers never echo a password that happens to sit in container metadata.

/// What a redacted value is replaced by (the host uses the same marker).
pub(crate) const REDACTED: &str = "<redacted>";

/// Substrings of a lowercased key token that mark it as secret.
const SECRET_PARTS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "credential",
    "apikey",
    "accesskey",
    "privatekey",
];

/// Whole key tokens that mark a key as secret.
const SECRET_TOKENS: &[&str] = &["key", "keys", "pass", "pw", "dsn", "cookie"];

/// Whether a variable, label or flag named `key` looks like it holds a secret:
/// `DB_PASSWORD`, `apiKey`, `GITHUB_TOKEN`, `aws.secret`, `…basicauth.users`, `SSH_KEY`.
/// Plain words that only contain such letters (`authors`, `monkey`, `PWD`) do not count.
pub(crate) fn is_secret_key(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|token| !token.is_empty())
        .any(|token| {
            SECRET_PARTS.iter().any(|part| token.contains(part))
                || SECRET_TOKENS.contains(&token)
                || token.ends_with("auth")
        })
}

/// The value to show for `key`: redacted when the key looks secret, otherwise with any
/// URL password removed.
pub(crate) fn value_for_key(key: &str, value: &str) -> String {
    if is_secret_key(key) {
        REDACTED.to_owned()
    } else {
        url_passwords(value)
    }
}

/// `KEY=value` environment entries with secret-looking values redacted. Idempotent, so
/// entries the host redacted already pass through unchanged.
pub(crate) fn env(entries: Vec<String>) -> Vec<String> {
    entries
        .into_iter()
        .map(|entry| assignment(&entry).unwrap_or_else(|| url_passwords(&entry)))
        .collect()
}

/// Command-line arguments with secrets removed: the value of `--password=x` or
/// `TOKEN=x`, the argument after a secret-looking flag (`--token x`), and URL passwords.
pub(crate) fn argv(args: Vec<String>) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len());
    let mut redact_next = false;
    for arg in args {
        if redact_next {
            redact_next = false;
            out.push(REDACTED.to_owned());
            continue;
        }
        if let Some(redacted) = assignment(&arg) {
            out.push(redacted);
            continue;
        }
        if let Some(flag) = arg.strip_prefix("--")
            && is_secret_key(flag)
        {
            redact_next = true;
        }
        out.push(url_passwords(&arg));
    }
    out
}

/// `key=value` with the value redacted or cleaned; `None` if `entry` has no `=` or an
/// empty key.
fn assignment(entry: &str) -> Option<String> {
    let (key, value) = entry.split_once('=')?;
    if key.trim_start_matches('-').is_empty() {
        return None;
    }
    Some(format!(
        "{key}={}",
        value_for_key(key.trim_start_matches('-'), value)
    ))
}

/// `scheme://user:password@host/…` with every such password replaced by [`REDACTED`].
pub(crate) fn url_passwords(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(scheme_end) = rest.find("://") {
        let authority_start = scheme_end + 3;
        out.push_str(&rest[..authority_start]);
        rest = &rest[authority_start..];
        let authority_end = rest
            .find(['/', '?', '#', ' ', '"', '\''])
            .unwrap_or(rest.len());
        let authority = &rest[..authority_end];
        match authority
            .rfind('@')
            .map(|at| (&authority[..at], &authority[at..]))
        {
            Some((userinfo, host)) if userinfo.contains(':') => {
                let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
                out.push_str(user);
                out.push(':');
                out.push_str(REDACTED);
                out.push_str(host);
            }
            _ => out.push_str(authority),
        }
        rest = &rest[authority_end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_keys_are_recognised() {
        for key in [
            "DB_PASSWORD",
            "MYSQL_ROOT_PASSWD",
            "apiKey",
            "API_KEY",
            "GITHUB_TOKEN",
            "aws.secret.access",
            "AWS_SECRET_ACCESS_KEY",
            "SSH_KEY",
            "REDIS_PASS",
            "SENTRY_DSN",
            "traefik.http.middlewares.a.basicauth.users",
            "OAUTH",
            "registry.credentials",
            "session-cookie",
        ] {
            assert!(is_secret_key(key), "{key} should be secret");
        }
    }

    #[test]
    fn ordinary_keys_are_kept() {
        for key in [
            "PATH",
            "HOME",
            "PWD",
            "org.opencontainers.image.authors",
            "MONKEY",
            "KEYBOARD_LAYOUT",
            "com.docker.compose.config-hash",
            "app",
        ] {
            assert!(!is_secret_key(key), "{key} should not be secret");
        }
    }

    #[test]
    fn env_entries() {
        let out = env(vec![
            "PATH=/usr/bin".into(),
            "DB_PASSWORD=hunter2".into(),
            "TOKEN=<redacted>".into(),
            "DATABASE_URL=postgres://app:hunter2@db:5432/app".into(),
            "EMPTY=".into(),
            "NOEQUALS".into(),
        ]);
        assert_eq!(
            out,
            vec![
                "PATH=/usr/bin",
                "DB_PASSWORD=<redacted>",
                "TOKEN=<redacted>",
                "DATABASE_URL=postgres://app:<redacted>@db:5432/app",
                "EMPTY=",
                "NOEQUALS",
            ]
        );
    }

    #[test]
    fn argv_flags_and_assignments() {
        let args = [
            "server",
            "--password=hunter2",
            "--token",
            "abc",
            "--port",
            "8080",
            "API_KEY=xyz",
            "--verbose",
        ];
        let out = argv(args.iter().map(|a| (*a).to_owned()).collect());
        assert_eq!(
            out,
            vec![
                "server",
                "--password=<redacted>",
                "--token",
                "<redacted>",
                "--port",
                "8080",
                "API_KEY=<redacted>",
                "--verbose"
            ]
        );
        let out = argv(vec![
            "sh".into(),
            "-c".into(),
            "curl https://u:p@example.com/x && echo ok".into(),
        ]);
        assert_eq!(out[2], "curl https://u:<redacted>@example.com/x && echo ok");
        assert_eq!(argv(vec!["a=b".into(), "=x".into()]), vec!["a=b", "=x"]);
    }

    #[test]
    fn url_passwords_only() {
        assert_eq!(
            url_passwords("https://example.com/a@b"),
            "https://example.com/a@b"
        );
        assert_eq!(
            url_passwords("https://user@example.com"),
            "https://user@example.com"
        );
        assert_eq!(
            url_passwords("redis://:s3cret@cache:6379"),
            "redis://:<redacted>@cache:6379"
        );
        assert_eq!(
            url_passwords("a://x:1@h b://y:2@i/p"),
            "a://x:<redacted>@h b://y:<redacted>@i/p",
        );
        assert_eq!(url_passwords("no url here"), "no url here");
        assert_eq!(url_passwords("tail://"), "tail://");
    }

    #[test]
    fn value_for_key_prefers_the_key() {
        assert_eq!(value_for_key("my.password", "x"), REDACTED);
        assert_eq!(
            value_for_key("upstream", "http://a:b@c"),
            "http://a:<redacted>@c"
        );
        assert_eq!(value_for_key("app", "web"), "web");
    }
}
