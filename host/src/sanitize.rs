//! Making engine and container text safe to hand on: strip terminal escapes and control
//! characters, cap sizes on character boundaries. Secrets are `redact`'s job.

/// Removes ANSI escape sequences (CSI, OSC and two-byte ESC forms) and every control
/// character except newline and tab. Carriage returns become newlines, so progress
/// bars cannot overwrite earlier lines in a terminal that renders the text.
pub fn strip_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => skip_escape(&mut chars),
            '\u{9b}' => skip_csi_body(&mut chars),
            '\n' | '\t' => out.push(c),
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push('\n');
                }
            }
            c if c.is_control() => {}
            // Bidi overrides can make text read differently from what it is.
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {}
            c => out.push(c),
        }
    }
    out
}

fn skip_escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match chars.next() {
        Some('[') => skip_csi_body(chars),
        Some(']') | Some('P') | Some('^') | Some('_') => {
            // OSC/DCS/PM/APC: until BEL or ESC \ (string terminator).
            while let Some(c) = chars.next() {
                if c == '\u{7}' {
                    break;
                }
                if c == '\u{1b}' && chars.peek() == Some(&'\\') {
                    chars.next();
                    break;
                }
            }
        }
        // Two-byte escapes (ESC c, ESC 7, …): the one character is consumed above.
        _ => {}
    }
}

fn skip_csi_body(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    // Parameter and intermediate bytes, then one final byte in @..=~.
    for c in chars.by_ref() {
        if ('@'..='~').contains(&c) {
            break;
        }
    }
}

/// One line of at most `max` bytes: controls stripped, newlines folded into spaces.
pub fn one_line(text: &str, max: usize) -> String {
    let cleaned: String = strip_controls(text)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    truncate_at_char(&cleaned, max).to_string()
}

/// The longest prefix of `text` of at most `max` bytes that ends on a char boundary.
pub fn truncate_at_char(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The longest suffix of `text` of at most `max` bytes that starts on a line start if
/// one exists in range (so the newest complete lines survive), else on a char boundary.
pub fn keep_tail(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    let tail = &text[start..];
    match tail.find('\n') {
        Some(newline) if newline + 1 < tail.len() => &tail[newline + 1..],
        _ => tail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_ansi_and_controls_but_keeps_text() {
        let cases = [
            ("plain text", "plain text"),
            ("\u{1b}[1;31mred\u{1b}[0m done", "red done"),
            ("title\u{1b}]0;pwned\u{7}after", "titleafter"),
            ("osc\u{1b}]8;;http://x\u{1b}\\link", "osclink"),
            ("bell\u{7} nul\u{0} del\u{7f}", "bell nul del"),
            (
                "progress 10%\rprogress 20%\r\n",
                "progress 10%\nprogress 20%\n",
            ),
            ("tab\tnewline\n", "tab\tnewline\n"),
            ("csi8\u{9b}2Jcleared", "csi8cleared"),
            ("rtl\u{202e}txt", "rtltxt"),
            ("unicode ✓ ok", "unicode ✓ ok"),
        ];
        for (input, expected) in cases {
            assert_eq!(strip_controls(input), expected, "{input:?}");
        }
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        assert_eq!(truncate_at_char("héllo", 2), "h");
        assert_eq!(truncate_at_char("héllo", 3), "hé");
        assert_eq!(truncate_at_char("abc", 10), "abc");
    }

    #[test]
    fn keep_tail_keeps_whole_newest_lines() {
        assert_eq!(keep_tail("one\ntwo\nthree\n", 9), "three\n");
        assert_eq!(keep_tail("short", 10), "short");
        assert_eq!(keep_tail("averylongline", 4), "line");
    }
}
