//! Shell-style patterns for the policy's allow and deny lists (`traefik.*`,
//! `registry.local/team/*`): `*` matches any run of characters, `?` one character,
//! everything else itself. Matching is linear in pattern × text, with no backtracking
//! blow-up, since patterns come from a file and texts from an agent.

/// Whether `text` matches `pattern` as a whole.
pub fn matches(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    // The classic two-pointer match: on a mismatch, go back to just after the last `*`
    // and let it swallow one more character. Each `*` restarts at most once per text
    // position, so this is O(|pattern| × |text|) at worst.
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// Whether any of `patterns` matches `text`.
pub fn any_matches<S: AsRef<str>>(patterns: &[S], text: &str) -> bool {
    patterns.iter().any(|p| matches(p.as_ref(), text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_and_question_marks() {
        let cases = [
            ("traefik.*", "traefik.http.routers.x.rule", true),
            ("traefik.*", "traefik", false),
            ("traefik.*", "my.traefik.x", false),
            ("caddy*", "caddy", true),
            ("caddy*", "caddy_0.reverse_proxy", true),
            ("*", "", true),
            ("", "", true),
            ("", "a", false),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("bulkhead-test/*:*", "bulkhead-test/busybox:latest", true),
            ("*/busybox:latest", "docker.io/library/busybox:latest", true),
            ("a*b*c", "aXbYbZc", true),
            ("a*b*c", "aXbYbZ", false),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(matches(pattern, text), expected, "{pattern} vs {text}");
        }
    }

    #[test]
    fn hostile_patterns_stay_linear() {
        let pattern = "*a".repeat(50) + "b";
        let text = "a".repeat(5000);
        assert!(!matches(&pattern, &text));
    }
}
