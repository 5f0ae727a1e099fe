//! Durations, byte sizes, CPU counts and shell words as Compose writes them.

/// `1m30s`, `10s`, `500ms`, `1.5s`, `2us`, `1h` → nanoseconds.
pub fn duration_ns(text: &str) -> Option<i64> {
    let mut total = 0f64;
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..number_len].parse().ok()?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += number * scale;
    }
    (total <= i64::MAX as f64).then_some(total as i64)
}

/// `512m`, `1g`, `1.5g`, `64k`, `512mb`, `1024` → bytes (binary units).
pub fn bytes(text: &str) -> Option<u64> {
    let lower = text.trim().to_ascii_lowercase();
    let digits = lower
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(lower.len());
    let number: f64 = lower[..digits].parse().ok()?;
    let scale: f64 = match lower[digits..].trim() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" | "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    let value = number * scale;
    (value >= 0.0 && value <= u64::MAX as f64).then_some(value as u64)
}

/// Splits a command line like a POSIX shell: quotes and backslashes, no expansion.
pub fn shell_words(text: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '\'' => break,
                        other => word.push(other),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => match chars.next()? {
                            c @ ('"' | '\\' | '$' | '`') => word.push(c),
                            other => {
                                word.push('\\');
                                word.push(other);
                            }
                        },
                        other => word.push(other),
                    }
                }
            }
            '\\' => {
                in_word = true;
                word.push(chars.next()?);
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            other => {
                in_word = true;
                word.push(other);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Some(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration_ns("1m30s"), Some(90_000_000_000));
        assert_eq!(duration_ns("500ms"), Some(500_000_000));
        assert_eq!(duration_ns("1.5s"), Some(1_500_000_000));
        assert_eq!(duration_ns("2us"), Some(2_000));
        assert_eq!(duration_ns("10"), None);
        assert_eq!(duration_ns("5 minutes"), None);
    }

    #[test]
    fn sizes() {
        assert_eq!(bytes("512m"), Some(512 << 20));
        assert_eq!(bytes("1g"), Some(1 << 30));
        assert_eq!(bytes("1.5g"), Some(3 << 29));
        assert_eq!(bytes("64k"), Some(64 << 10));
        assert_eq!(bytes("512mb"), Some(512 << 20));
        assert_eq!(bytes("1024"), Some(1024));
        assert_eq!(bytes("lots"), None);
    }

    #[test]
    fn words() {
        assert_eq!(
            shell_words(r#"sh -c 'echo "a b"' "x\"y" a\ b"#).unwrap(),
            ["sh", "-c", "echo \"a b\"", "x\"y", "a b"]
        );
        assert_eq!(shell_words("").unwrap(), Vec::<String>::new());
        assert_eq!(shell_words("'open"), None);
    }
}
