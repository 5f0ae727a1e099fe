//! The host's single place for redacting secrets from text it hands a plugin: environment
//! entries, labels, argv vectors (`Cmd`, `Entrypoint`, exec commands, healthcheck tests) and
//! single-string command lines (shell-form `Cmd`, image history `created_by`, `CMD-SHELL`).
//! Every secret is replaced by [`REDACTED`]; redacting redacted text changes nothing, and no
//! input makes these functions panic.
//!
//! # Secret names
//!
//! A name (env key, label key, flag name, query parameter) is split into tokens on every
//! character that is not a letter or digit, on camelCase boundaries (`dbPassword` → db,
//! password; `APIKey` → api, key) and between letters and digits, then lowercased. It is
//! secret when
//!
//! - a token is one of `SECRET_TOKENS` (password, pass, pwd, secret, token, auth,
//!   requirepass, …), or ends in one of `SECRET_SUFFIXES` (`dbpassword`, `authtoken`:
//!   no ordinary word ends that way, unlike `bypass` or `monkey`);
//! - two consecutive tokens are a qualifier from `KEY_QUALIFIERS` and `key`/`keys`
//!   (`API_KEY_ID`, `ACCESS_KEY`);
//! - the last token is `key` and another token precedes it (`STRIPE_KEY`), unless that
//!   token is `public`/`pub` (public keys are not secrets).
//!
//! Exceptions, all on the side of showing values that are plainly not secrets:
//!
//! - `auth` does not count when the next token describes it (`POSTGRES_HOST_AUTH_METHOD`,
//!   `AUTH_TYPE`, `AUTH_URL`); see `AUTH_DESCRIPTORS`;
//! - names whose last token is an indirection (`PASSWORD_FILE`, `--password-stdin`,
//!   `TOKEN_PATH`) hold a location, not the secret; see `INDIRECTION_SUFFIXES`;
//! - `PWD` alone is the shell's working directory.
//!
//! So `KEY`, `KEY_ID`, `AUTHOR`, `AUTHORITY`, `KEYBOARD_LAYOUT`, `MONKEY`,
//! `PASSENGER_COUNT`, `BYPASS_CACHE` and `TOKENIZER_PATH` are not secret.
//!
//! # Secrets in text
//!
//! - URL credentials anywhere: `scheme://user:pw@host` → `scheme://user:<redacted>@host`,
//!   `scheme://token@host` → `scheme://<redacted>@host` (kept for ssh-family schemes, whose
//!   user part is a login name), and query parameters with secret names (`?access_token=`,
//!   `?key=`, `?sig=`).
//! - `NAME=value` words with a secret name, `--name=value` / `-name=value` flags with a
//!   secret name, and the word after a bare secret flag (`--password x`) unless that word
//!   is itself a flag.
//! - Program-aware flags, for the program that starts each command (after `env`, `exec`,
//!   `sudo`, … and Dockerfile words like `RUN`, `CMD`): mysql-family `-pVALUE` (never the
//!   next word: a bare `-p` prompts), redis-cli `-a`, sshpass `-p`, curl/wget `-u`/`--user`
//!   `user:pass` and secret headers, openssl `-pass*` `pass:…` and `-k`, htpasswd `-b`
//!   passwords, `docker login -p`, and the legacy `ENV NAME value` form.
//! - Shell scripts: the word after `-c` of a shell (and the script of `CMD-SHELL`, `env -S`)
//!   is redacted as a command line, recursively.
//!
//! Command lines are split into words the way a shell would (quotes, backslashes), with
//! `;`, `&`, `|`, `(`, `)`, backticks and newlines starting a new command; only redacted
//! words change, so the rest of the text keeps its exact spacing.

/// What a secret is replaced by.
pub const REDACTED: &str = "<redacted>";

/// Tokens that make a name secret on their own.
const SECRET_TOKENS: &[&str] = &[
    "password",
    "passwords",
    "passwd",
    "pwd",
    "pass",
    "passphrase",
    "secret",
    "secrets",
    "token",
    "tokens",
    "apikey",
    "apikeys",
    "credential",
    "credentials",
    "creds",
    "privatekey",
    "auth",
    "authorization",
    "bearer",
    "sessionkey",
    "accesskey",
    "secretkey",
    "masterkey",
    "signingkey",
    "encryptionkey",
    // Redis: `requirepass` is the server password, `masterauth` the replica's.
    "requirepass",
    "masterauth",
];

/// Endings that make a single run-together token secret (`dbpassword`, `clientsecret`).
const SECRET_SUFFIXES: &[&str] = &[
    "password",
    "passwords",
    "passwd",
    "passphrase",
    "secret",
    "secrets",
    "token",
    "tokens",
    "apikey",
    "privatekey",
    "accesskey",
    "secretkey",
    "credential",
    "credentials",
];

/// Tokens that, right before `key`/`keys`, name a secret key wherever the pair appears.
const KEY_QUALIFIERS: &[&str] = &[
    "api",
    "access",
    "private",
    "secret",
    "signing",
    "encryption",
    "master",
    "session",
    "client",
];

/// Tokens before a final `key` that mean the key is meant to be shared.
const PUBLIC_KEY_QUALIFIERS: &[&str] = &["public", "pub"];

/// Tokens after `auth` that make the name a setting about authentication, not a secret.
const AUTH_DESCRIPTORS: &[&str] = &[
    "method",
    "methods",
    "mode",
    "type",
    "enabled",
    "disabled",
    "enable",
    "disable",
    "required",
    "provider",
    "providers",
    "plugin",
    "backend",
    "url",
    "uri",
    "server",
    "host",
    "port",
    "domain",
    "realm",
    "scheme",
];

/// Last tokens that say the value is where a secret lives, not the secret itself.
const INDIRECTION_SUFFIXES: &[&str] = &["file", "path", "dir", "stdin"];

/// Nested `sh -c` scripts are redacted recursively up to this depth; deeper quoted scripts
/// only get URL redaction. Bounds the recursion on hostile input.
const MAX_SCRIPT_DEPTH: usize = 8;

/// Whether a name (env key, label key, flag name) looks like it holds a secret; the rule is
/// in the module documentation.
pub fn is_secret_name(name: &str) -> bool {
    let tokens = name_tokens(name);
    let Some(last) = tokens.last().map(String::as_str) else {
        return false;
    };
    if tokens.len() == 1 && last == "pwd" {
        return false;
    }
    if tokens.len() > 1 && INDIRECTION_SUFFIXES.contains(&last) {
        return false;
    }
    let has_secret_token = tokens.iter().enumerate().any(|(index, token)| {
        let describes_auth = token == "auth"
            && tokens
                .get(index + 1)
                .is_some_and(|next| AUTH_DESCRIPTORS.contains(&next.as_str()));
        !describes_auth
            && (SECRET_TOKENS.contains(&token.as_str())
                || SECRET_SUFFIXES.iter().any(|suffix| token.ends_with(suffix)))
    });
    let has_qualified_key = tokens.windows(2).any(|pair| {
        KEY_QUALIFIERS.contains(&pair[0].as_str()) && matches!(pair[1].as_str(), "key" | "keys")
    });
    let ends_in_named_key = last == "key"
        && tokens.len() >= 2
        && !PUBLIC_KEY_QUALIFIERS.contains(&tokens[tokens.len() - 2].as_str());
    has_secret_token || has_qualified_key || ends_in_named_key
}

/// Lowercased tokens of a name: split on non-alphanumerics, camelCase and letter/digit
/// boundaries (`myAPIKey2` → my, api, key, 2).
fn name_tokens(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut tokens = Vec::new();
    let mut current = String::new();
    for (index, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                tokens.push(std::mem::take(&mut current));
            }
            continue;
        }
        if !current.is_empty() {
            let previous = chars[index - 1];
            let next_is_lower = chars.get(index + 1).is_some_and(|next| next.is_lowercase());
            let boundary = (previous.is_lowercase() && c.is_uppercase())
                // The last capital of an acronym starts the next word: `APIKey` → API, Key.
                || (previous.is_uppercase() && c.is_uppercase() && next_is_lower)
                || (previous.is_alphabetic() && c.is_numeric())
                || (previous.is_numeric() && c.is_alphabetic());
            if boundary {
                tokens.push(std::mem::take(&mut current));
            }
        }
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
}

/// `KEY=value` with the value replaced when the key looks secret; other values keep their
/// text but lose URL credentials and secret flags (`JAVA_OPTS=-Ddb.password=…`,
/// `REDIS_ARGS=--requirepass …`). Entries without `=` are returned as they are.
pub fn redact_env_entry(entry: &str) -> String {
    match entry.split_once('=') {
        Some((key, _)) if is_secret_name(key) => format!("{key}={REDACTED}"),
        Some((key, value)) => format!("{key}={}", redact_command_line(value)),
        None => entry.to_string(),
    }
}

/// The value to show for a label: [`REDACTED`] when the key looks secret, otherwise the value
/// with URL credentials and secret flags redacted.
pub fn redact_label(key: &str, value: &str) -> String {
    if is_secret_name(key) {
        REDACTED.to_string()
    } else {
        redact_command_line(value)
    }
}

/// Replaces the credentials of every `scheme://userinfo@host` in `text`: the password of
/// `user:password`, or the whole userinfo when it has no colon (a token, as in
/// `https://ghp_x@github.com`), except for ssh-family schemes where it is a login name.
/// Query parameters with secret names lose their values. Text without `://` (emails,
/// `user@host`) is never touched.
pub fn redact_url_credentials(text: &str) -> String {
    // Each scan below stops at the next `://`, at the end of the URL's text, or at a point
    // an earlier scan already passed, so text made of nothing but URLs stays linear.
    let separators: Vec<usize> = text.match_indices("://").map(|(index, _)| index).collect();
    let mut url_ends = UrlEnds::default();
    let mut questions = NextQuestionMark::default();
    let mut query_scanned_until = 0;
    let mut secrets = Vec::new();
    for (index, &separator) in separators.iter().enumerate() {
        let Some(scheme) = scheme_before(text, separator) else {
            continue;
        };
        let authority_start = separator + 3;
        let url_end = url_ends.after(text, authority_start);
        let next_separator = separators.get(index + 1).copied().unwrap_or(text.len());
        let mut query_search_from = authority_start;
        if let Some(at) = userinfo_end(&text[authority_start..url_end.min(next_separator)]) {
            if let Some(secret) =
                userinfo_secret(scheme, &text[authority_start..authority_start + at])
            {
                secrets.push(authority_start + secret.start..authority_start + secret.end);
            }
            query_search_from = authority_start + at + 1;
        }
        // A nested URL (`?next=https://…`) lies inside the query scanned for the outer one.
        if url_end > query_scanned_until {
            let from = query_search_from.max(query_scanned_until);
            if let Some(question) = questions.at_or_after(text, from)
                && question < url_end
            {
                secrets.extend(secret_query_values(text, question + 1, url_end));
                query_scanned_until = url_end;
            }
        }
    }
    replace_ranges(text, secrets)
}

/// The scheme ending right before `separator` (RFC 3986 characters, at least one letter).
fn scheme_before(text: &str, separator: usize) -> Option<&str> {
    let bytes = text.as_bytes();
    let mut start = separator;
    while start > 0
        && (bytes[start - 1].is_ascii_alphanumeric()
            || matches!(bytes[start - 1], b'+' | b'-' | b'.'))
    {
        start -= 1;
    }
    let scheme = &text[start..separator];
    scheme
        .bytes()
        .any(|b| b.is_ascii_alphabetic())
        .then_some(scheme)
}

/// Where URLs end: whitespace, a quote or a backslash, as in shell words and JSON (none of
/// them may appear unencoded in a URL). Remembers the last answer, which stays right for
/// every later start before it.
#[derive(Default)]
struct UrlEnds {
    searched_from: usize,
    end: Option<usize>,
}

impl UrlEnds {
    fn after(&mut self, text: &str, from: usize) -> usize {
        if let Some(end) = self.end
            && from >= self.searched_from
            && from <= end
        {
            return end;
        }
        let end = text[from..]
            .char_indices()
            .find(|&(_, c)| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '\\'))
            .map_or(text.len(), |(offset, _)| from + offset);
        self.searched_from = from;
        self.end = Some(end);
        end
    }
}

/// The next `?` at or after a position that only moves forward, found without rescanning.
#[derive(Default)]
struct NextQuestionMark {
    searched_from: Option<usize>,
    found: Option<usize>,
}

impl NextQuestionMark {
    fn at_or_after(&mut self, text: &str, from: usize) -> Option<usize> {
        if let Some(searched_from) = self.searched_from
            && from >= searched_from
        {
            match self.found {
                None => return None,
                Some(found) if found >= from => return Some(found),
                Some(_) => {}
            }
        }
        self.found = text.as_bytes()[from..]
            .iter()
            .position(|&b| b == b'?')
            .map(|offset| from + offset);
        self.searched_from = Some(from);
        self.found
    }
}

/// The index of the `@` that ends the userinfo of `url` (the text after `://`, up to the
/// next `://`), if any.
fn userinfo_end(url: &str) -> Option<usize> {
    let authority_len = url.find(['/', '?', '#']).unwrap_or(url.len());
    // The last `@` of the authority, as URL parsers do: a password may contain `@`.
    if let Some(at) = url[..authority_len].rfind('@') {
        return Some(at);
    }
    // Hand-written URLs often carry an unencoded `/` in a password (`redis://:ab/cd@h`).
    // Accept that only for `user:password@` where the user part is not a host with a
    // path (`https://medium.com/@user`) and the "password" is not a port and a path
    // (`http://host:8080/@me`).
    let at = url.find('@')?;
    let candidate = &url[..at];
    if candidate.contains("://") {
        return None;
    }
    let (user, password) = candidate.split_once(':')?;
    if user.contains(['/', '?', '#']) {
        return None;
    }
    let port_digits = password.bytes().take_while(u8::is_ascii_digit).count();
    if port_digits > 0 && password[port_digits..].starts_with(['/', '?', '#']) {
        return None;
    }
    Some(at)
}

/// The byte range of the secret part of a userinfo, if it has one.
fn userinfo_secret(scheme: &str, userinfo: &str) -> Option<std::ops::Range<usize>> {
    match userinfo.find(':') {
        Some(colon) if colon + 1 < userinfo.len() => Some(colon + 1..userinfo.len()),
        Some(_) => None,
        None if userinfo.is_empty() || is_ssh_scheme(scheme) => None,
        None => Some(0..userinfo.len()),
    }
}

/// Schemes whose colon-less userinfo is a login name (`ssh://git@github.com`), not a token.
fn is_ssh_scheme(scheme: &str) -> bool {
    let scheme = scheme.to_ascii_lowercase();
    matches!(scheme.as_str(), "ssh" | "sftp" | "scp")
        || scheme.ends_with("+ssh")
        || scheme.starts_with("ssh+")
}

/// Byte ranges of query values with secret names in `text[start..end]` (a query and
/// whatever nested URLs it holds): parameters split on `&` and `?`, up to a `#`.
fn secret_query_values(text: &str, start: usize, end: usize) -> Vec<std::ops::Range<usize>> {
    let query = &text[start..end];
    let query = &query[..query.find('#').unwrap_or(query.len())];
    let mut ranges = Vec::new();
    let mut param_start = start;
    for param in query.split(['&', '?']) {
        // A value that starts with the marker was redacted as a word before (`--x=<redacted>`)
        // and what follows it was never part of the value.
        if let Some((name, value)) = param.split_once('=')
            && !value.starts_with(REDACTED)
            && is_secret_query_name(name)
        {
            // `<` and `>` never appear unencoded in a URL; in a command line they redirect.
            let value_len = value.find(['<', '>']).unwrap_or(value.len());
            let value_start = param_start + name.len() + 1;
            if value_len > 0 {
                ranges.push(value_start..value_start + value_len);
            }
        }
        param_start += param.len() + 1;
    }
    ranges
}

/// Secret names, plus the short names APIs use for keys and signatures in URLs
/// (`?key=` for Google APIs, `?sig=` for Azure SAS, `X-Amz-Signature`).
fn is_secret_query_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    is_secret_name(name) || lower == "key" || lower == "sig" || lower.ends_with("signature")
}

/// `text` with every range replaced by [`REDACTED`]; overlapping ranges merge into one.
fn replace_ranges(text: &str, mut ranges: Vec<std::ops::Range<usize>>) -> String {
    if ranges.is_empty() {
        return text.to_string();
    }
    ranges.sort_by_key(|range| range.start);
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for range in ranges {
        if range.start < copied {
            // Inside (or overlapping) a secret already replaced.
            copied = copied.max(range.end);
            continue;
        }
        out.push_str(&text[copied..range.start]);
        out.push_str(REDACTED);
        copied = range.end;
    }
    out.push_str(&text[copied..]);
    out
}

/// An argv (`Cmd`, `Entrypoint`, exec command, healthcheck test) with secrets redacted,
/// element for element: the output has as many elements as the input.
///
/// Program-aware rules need the program in `args[0]`; a `Cmd` that only holds arguments
/// for its `Entrypoint` gets just the generic rules unless both are redacted together.
pub fn redact_args(args: &[String]) -> Vec<String> {
    redact_argv_at_depth(args, 0)
}

fn redact_argv_at_depth(args: &[String], depth: usize) -> Vec<String> {
    let mut command = Command::default();
    args.iter()
        .map(|arg| {
            if matches!(arg.as_str(), ";" | "&&" | "||" | "|" | "&") {
                command = Command::default();
                return arg.clone();
            }
            // URLs first, so the word rules see what a second redaction would see.
            let arg = redact_url_credentials(arg);
            let redacted = match command.step(&arg) {
                Step::Keep => arg,
                Step::Replace(value) => value,
                Step::Script => redact_command_line_at_depth(&arg, depth + 1),
            };
            redact_url_credentials(&redacted)
        })
        .collect()
}

/// A single-string command line (shell-form `Cmd`, image history `created_by`,
/// `CMD-SHELL` text) with secrets redacted and all other text, spacing included, unchanged.
pub fn redact_command_line(line: &str) -> String {
    redact_command_line_at_depth(line, 0)
}

fn redact_command_line_at_depth(line: &str, depth: usize) -> String {
    let mut out = String::with_capacity(line.len());
    let mut command = Command::default();
    for piece in split_command_line(line) {
        match piece {
            Piece::Blank(text) => out.push_str(text),
            Piece::Break(text) => {
                command = Command::default();
                out.push_str(text);
            }
            // URLs are redacted word by word, so a redaction never swallows a `;` or a
            // space and changes how the line splits; and before the word rules, so those
            // see what a second redaction would see.
            Piece::Word(raw) => {
                let raw = redact_url_credentials(raw);
                out.push_str(&redact_url_credentials(&redact_line_word(
                    &mut command,
                    &raw,
                    depth,
                )));
            }
        }
    }
    out
}

/// One word of a command line, redacted in the context of the command it belongs to.
fn redact_line_word(command: &mut Command, raw: &str, depth: usize) -> String {
    let word = ShellWord::parse(raw);
    match command.step(&word.value) {
        Step::Keep => raw.to_string(),
        Step::Replace(value) if value == word.value => raw.to_string(),
        Step::Replace(value) => word.with_value(&value),
        Step::Script => {
            let has_quoting = raw.bytes().any(|b| matches!(b, b'\'' | b'"' | b'\\'));
            if !has_quoting {
                // `sh -c mysql -p…` flattened into one line (history): the rest of the line
                // is the script, so this word starts a new command.
                *command = Command::default();
                return redact_line_word(command, raw, depth);
            }
            if depth >= MAX_SCRIPT_DEPTH {
                return raw.to_string();
            }
            if word.quote.is_some() {
                return word
                    .with_quoted_text(&redact_command_line_at_depth(word.quoted, depth + 1));
            }
            // A partly quoted script: redact what the shell would run.
            let script = redact_command_line_at_depth(&word.value, depth + 1);
            if script == word.value {
                raw.to_string()
            } else {
                word.with_value(&script)
            }
        }
    }
}

/// A run of a command line, as the shell splits it.
#[derive(Debug, PartialEq, Eq)]
enum Piece<'a> {
    /// Spaces and tabs between words.
    Blank(&'a str),
    /// `;`, `&&`, `|`, `(`, a newline, …: what follows is a new command.
    Break(&'a str),
    Word(&'a str),
}

fn split_command_line(line: &str) -> Vec<Piece<'_>> {
    // Every boundary sits on an ASCII byte (or the end), so slicing stays on char boundaries.
    let bytes = line.as_bytes();
    let mut pieces = Vec::new();
    let mut start = 0;
    while start < bytes.len() {
        let mut end = start + 1;
        if is_blank(bytes[start]) {
            while end < bytes.len() && is_blank(bytes[end]) {
                end += 1;
            }
            pieces.push(Piece::Blank(&line[start..end]));
        } else if breaks_command(bytes, start) {
            while end < bytes.len() && breaks_command(bytes, end) {
                end += 1;
            }
            pieces.push(Piece::Break(&line[start..end]));
        } else {
            end = word_end(bytes, start);
            pieces.push(Piece::Word(&line[start..end]));
        }
        start = end;
    }
    pieces
}

fn is_blank(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\r' | 0x0b | 0x0c)
}

fn breaks_command(bytes: &[u8], index: usize) -> bool {
    match bytes[index] {
        b';' | b'|' | b'(' | b')' | b'`' | b'\n' => true,
        // `2>&1` and `&>file` are redirections, not "run in background"; the `>` of a
        // redaction marker is not (keeps redaction idempotent).
        b'&' => {
            let after_redirect = index > 0
                && matches!(bytes[index - 1], b'>' | b'<')
                && !bytes[..index].ends_with(REDACTED.as_bytes());
            !after_redirect && bytes.get(index + 1) != Some(&b'>')
        }
        _ => false,
    }
}

fn word_end(bytes: &[u8], start: usize) -> usize {
    let mut index = start;
    while index < bytes.len() {
        match bytes[index] {
            b'\\' => index += 2,
            b'\'' => {
                index = bytes[index + 1..]
                    .iter()
                    .position(|&b| b == b'\'')
                    .map_or(bytes.len(), |offset| index + offset + 2);
            }
            b'"' => {
                index = closing_double_quote(bytes, index).map_or(bytes.len(), |close| close + 1)
            }
            byte if is_blank(byte) || breaks_command(bytes, index) => break,
            _ => index += 1,
        }
    }
    index.min(bytes.len())
}

/// The index of the `"` closing the one at `open`, skipping backslash escapes.
fn closing_double_quote(bytes: &[u8], open: usize) -> Option<usize> {
    let mut index = open + 1;
    while index < bytes.len() {
        match bytes[index] {
            b'\\' => index += 2,
            b'"' => return Some(index),
            _ => index += 1,
        }
    }
    None
}

/// One word of a command line: the argument value the shell would pass, and enough of its
/// quoting to write a redacted value back in the same style.
struct ShellWord<'a> {
    /// `[`/`{` before a wholly quoted word, as in history's `CMD ["redis-server" "--x"]`.
    prefix: &'a str,
    /// The quote when the word (between prefix and suffix) is one quoted string.
    quote: Option<char>,
    /// The raw text between those quotes.
    quoted: &'a str,
    /// `]`, `}` or `,` after a wholly quoted word.
    suffix: &'a str,
    value: String,
}

impl<'a> ShellWord<'a> {
    fn parse(raw: &'a str) -> Self {
        let core_start = raw.len() - raw.trim_start_matches(['[', '{']).len();
        let core_end = raw.trim_end_matches([']', '}', ',']).len();
        let core = &raw[core_start..core_end.max(core_start)];
        if let Some(quote) = whole_quote(core) {
            let quoted = &core[1..core.len() - 1];
            let value = if quote == '"' {
                unescape_double_quoted(quoted)
            } else {
                quoted.to_string()
            };
            return Self {
                prefix: &raw[..core_start],
                quote: Some(quote),
                quoted,
                suffix: &raw[core_start + core.len()..],
                value,
            };
        }
        Self {
            prefix: "",
            quote: None,
            quoted: "",
            suffix: "",
            value: shell_unquote(raw),
        }
    }

    /// The word carrying `value` instead: quoted the same way when it was wholly quoted,
    /// bare otherwise (a partly quoted secret is replaced as a whole) unless the value
    /// needs quotes to stay one word, which keeps a second redaction from changing it.
    fn with_value(&self, value: &str) -> String {
        match self.quote {
            Some('"') => self.with_quoted_text(&escape_double_quoted(value)),
            Some(_) => self.with_quoted_text(&escape_single_quoted(value)),
            None if value.bytes().any(|b| is_blank(b) || is_shell_special(b)) => {
                format!("'{}'", escape_single_quoted(value))
            }
            None => value.to_string(),
        }
    }

    fn with_quoted_text(&self, quoted: &str) -> String {
        let quote = self.quote.map(String::from).unwrap_or_default();
        format!("{}{quote}{quoted}{quote}{}", self.prefix, self.suffix)
    }
}

/// The quote character when `core` is exactly one quoted string.
fn whole_quote(core: &str) -> Option<char> {
    let bytes = core.as_bytes();
    let close = match bytes.first()? {
        b'\'' => core[1..].find('\'').map(|offset| offset + 1),
        b'"' => closing_double_quote(bytes, 0),
        _ => None,
    }?;
    (core.len() >= 2 && close == core.len() - 1).then_some(bytes[0] as char)
}

fn unescape_double_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('\\', Some(&next)) if matches!(next, '"' | '\\' | '$' | '`') => {
                out.push(next);
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out
}

fn escape_single_quoted(text: &str) -> String {
    text.replace('\'', r"'\''")
}

/// Bytes that end or quote a word.
fn is_shell_special(byte: u8) -> bool {
    matches!(
        byte,
        b';' | b'&' | b'|' | b'(' | b')' | b'`' | b'\n' | b'\'' | b'"' | b'\\'
    )
}

fn escape_double_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '"' | '\\' | '$' | '`') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The argument the shell makes of a word: quotes removed, backslash escapes resolved.
fn shell_unquote(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            '\'' => out.extend(chars.by_ref().take_while(|&c| c != '\'')),
            '"' => {
                let mut quoted = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => quoted.push(chars.next().unwrap_or('\\')),
                        c => quoted.push(c),
                    }
                }
                out.push_str(&quoted);
            }
            c => out.push(c),
        }
    }
    out
}

/// Programs whose own flags carry secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Program {
    Shell,
    MysqlClient,
    RedisCli,
    Sshpass,
    HttpClient,
    Openssl,
    Htpasswd,
    Docker,
    /// `ENV` in image history, whose legacy form is `ENV NAME value…`.
    DockerfileEnv,
    Other,
}

/// Words that run the command after them; their own options are skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wrapper {
    Env,
    Sudo,
    Nice,
    Time,
    Plain,
}

/// How far a command has got: still before its program, or running a known one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Stage {
    /// Before the program: assignments, wrappers.
    #[default]
    Start,
    Wrapped(Wrapper),
    Running(Program),
}

/// What the previous word says about the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Pending {
    #[default]
    Nothing,
    /// A shell script (`sh -c`, `CMD-SHELL`, `env -S`).
    Script,
    /// A secret, whatever it looks like (`redis-cli -a`).
    Secret,
    /// A secret unless it is another flag (`--password --verbose`).
    SecretUnlessFlag,
    /// `user:password` (`curl -u`).
    UserPassword,
    /// An HTTP header (`curl -H`).
    Header,
    /// An openssl pass phrase argument (`pass:…`, `env:…`, `file:…`).
    OpensslPassphrase,
    /// A harmless option value (`sudo -u root`, `htpasswd -C 10`).
    OptionValue,
}

/// Redacts the value of a flag, or says it holds nothing secret.
type ValueRedactor = fn(&str) -> Option<String>;

/// What to do with one word.
enum Step {
    Keep,
    Replace(String),
    /// The word is a shell script: redact it as a command line.
    Script,
}

impl Step {
    fn replace_if(value: Option<String>) -> Self {
        value.map_or(Self::Keep, Self::Replace)
    }
}

/// The state of one command (up to the next `;`, `|`, …) as its words go by.
#[derive(Debug, Default)]
struct Command {
    stage: Stage,
    pending: Pending,
    positionals: usize,
    htpasswd_batch: bool,
    htpasswd_no_file: bool,
    docker_login: bool,
    /// Legacy `ENV SECRET_NAME value…`: every later word is the value.
    redact_rest: bool,
}

impl Command {
    fn step(&mut self, word: &str) -> Step {
        match std::mem::take(&mut self.pending) {
            Pending::Nothing => {}
            Pending::Script => return Step::Script,
            Pending::Secret => return Step::Replace(REDACTED.to_string()),
            Pending::SecretUnlessFlag if !looks_like_flag(word) => {
                return Step::Replace(REDACTED.to_string());
            }
            Pending::SecretUnlessFlag => {}
            Pending::UserPassword => return Step::replace_if(redact_user_password(word)),
            Pending::Header => return Step::replace_if(redact_header(word)),
            Pending::OpensslPassphrase => {
                return Step::replace_if(
                    word.starts_with("pass:")
                        .then(|| format!("pass:{REDACTED}")),
                );
            }
            Pending::OptionValue => return Step::Keep,
        }
        match self.stage {
            Stage::Start | Stage::Wrapped(_) => self.step_before_program(word),
            Stage::Running(program) => self.step_in_program(program, word),
        }
    }

    fn step_before_program(&mut self, word: &str) -> Step {
        // `FOO_TOKEN=x cmd`: assignments set the command's environment.
        if let Some((name, _)) = split_assignment(word) {
            return Step::replace_if(is_secret_name(name).then(|| format!("{name}={REDACTED}")));
        }
        if let Stage::Wrapped(wrapper) = self.stage
            && looks_like_flag(word)
        {
            self.pending = wrapper.option_value(word);
            return Step::Keep;
        }
        let name = program_name(word);
        if let Some(wrapper) = wrapper_named(name) {
            self.stage = Stage::Wrapped(wrapper);
            return Step::Keep;
        }
        if name == "CMD-SHELL" {
            self.stage = Stage::Running(Program::Shell);
            self.pending = Pending::Script;
            return Step::Keep;
        }
        if looks_like_flag(word) {
            // An argv that starts with a flag (a `Cmd` for an entrypoint) has no program.
            self.stage = Stage::Running(Program::Other);
            return self.step_in_program(Program::Other, word);
        }
        self.stage = Stage::Running(program_named(name));
        Step::Keep
    }

    fn step_in_program(&mut self, program: Program, word: &str) -> Step {
        if let Some(step) = self.program_rule(program, word) {
            return step;
        }
        if let Some(step) = self.secret_flag_rule(word) {
            return step;
        }
        match split_assignment(word) {
            Some((name, _)) if is_secret_name(name) => Step::Replace(format!("{name}={REDACTED}")),
            _ => Step::Keep,
        }
    }

    fn program_rule(&mut self, program: Program, word: &str) -> Option<Step> {
        match program {
            Program::Shell => is_shell_command_flag(word).then(|| {
                self.pending = Pending::Script;
                Step::Keep
            }),
            // mysql reads a bare `-p` as "prompt", so only the attached form is a password.
            Program::MysqlClient => {
                attached_value(word, "-p").map(|_| Step::Replace(format!("-p{REDACTED}")))
            }
            Program::RedisCli => self.short_secret_flag(word, "-a"),
            Program::Sshpass => self.short_secret_flag(word, "-p"),
            Program::HttpClient => self.http_client_rule(word),
            Program::Openssl => match word {
                "-pass" | "-passin" | "-passout" => {
                    self.pending = Pending::OpensslPassphrase;
                    Some(Step::Keep)
                }
                "-k" => {
                    self.pending = Pending::Secret;
                    Some(Step::Keep)
                }
                _ => None,
            },
            Program::Htpasswd => self.htpasswd_rule(word),
            Program::Docker => self.docker_rule(word),
            Program::DockerfileEnv => self.dockerfile_env_rule(word),
            Program::Other => None,
        }
    }

    /// `-a VALUE` and `-aVALUE` style flags whose value is always a secret.
    fn short_secret_flag(&mut self, word: &str, flag: &str) -> Option<Step> {
        if word == flag {
            self.pending = Pending::Secret;
            return Some(Step::Keep);
        }
        attached_value(word, flag).map(|_| Step::Replace(format!("{flag}{REDACTED}")))
    }

    fn http_client_rule(&mut self, word: &str) -> Option<Step> {
        match word {
            "-u" | "--user" | "-U" | "--proxy-user" => {
                self.pending = Pending::UserPassword;
                return Some(Step::Keep);
            }
            "-H" | "--header" => {
                self.pending = Pending::Header;
                return Some(Step::Keep);
            }
            _ => {}
        }
        let attached: [(&str, ValueRedactor); 6] = [
            ("--user=", redact_user_password),
            ("--proxy-user=", redact_user_password),
            ("--header=", redact_header),
            ("-u", redact_user_password),
            ("-U", redact_user_password),
            ("-H", redact_header),
        ];
        attached.iter().find_map(|(flag, redact)| {
            attached_value(word, flag)
                .map(|value| Step::replace_if(redact(value).map(|value| format!("{flag}{value}"))))
        })
    }

    fn htpasswd_rule(&mut self, word: &str) -> Option<Step> {
        if let Some(letters) = word.strip_prefix('-')
            && !letters.is_empty()
            && !letters.starts_with('-')
        {
            self.htpasswd_batch |= letters.contains('b');
            self.htpasswd_no_file |= letters.contains('n');
            // `-C cost` and `-r rounds` take a value, also at the end of a group (`-bC 10`).
            if letters.ends_with(['C', 'r']) {
                self.pending = Pending::OptionValue;
            }
            return Some(Step::Keep);
        }
        let index = self.positionals;
        self.positionals += 1;
        // Batch mode: `htpasswd -b file user password` or `htpasswd -nb user password`.
        let password_index = if self.htpasswd_no_file { 1 } else { 2 };
        (self.htpasswd_batch && index == password_index)
            .then(|| Step::Replace(REDACTED.to_string()))
    }

    fn docker_rule(&mut self, word: &str) -> Option<Step> {
        if !looks_like_flag(word) {
            self.docker_login |= word == "login";
            return None;
        }
        // Elsewhere `-p` publishes ports.
        if self.docker_login {
            return self.short_secret_flag(word, "-p");
        }
        None
    }

    fn dockerfile_env_rule(&mut self, word: &str) -> Option<Step> {
        if self.redact_rest {
            return Some(Step::Replace(REDACTED.to_string()));
        }
        if self.positionals == 0 {
            self.positionals = 1;
            self.redact_rest = !word.contains('=') && is_secret_name(word);
        }
        None
    }

    /// `--name=value`, `-name=value` and bare `--name` (whose value is the next word) for
    /// secret names, in every program.
    fn secret_flag_rule(&mut self, word: &str) -> Option<Step> {
        let (dashes, body) = match word.strip_prefix("--") {
            Some(body) => ("--", body),
            None => ("-", word.strip_prefix('-')?),
        };
        // A single dash and one letter is a short flag whose meaning depends on the program.
        let is_named =
            |name: &str| (dashes == "--" || name.chars().count() >= 2) && is_secret_name(name);
        match body.split_once('=') {
            Some((name, _)) => {
                is_named(name).then(|| Step::Replace(format!("{dashes}{name}={REDACTED}")))
            }
            None => is_named(body).then(|| {
                self.pending = Pending::SecretUnlessFlag;
                Step::Keep
            }),
        }
    }
}

impl Wrapper {
    /// What the word after a wrapper's own option is.
    fn option_value(self, option: &str) -> Pending {
        let takes_value = match self {
            Self::Env if matches!(option, "-S" | "--split-string") => return Pending::Script,
            Self::Env => matches!(option, "-u" | "--unset" | "-C" | "--chdir"),
            Self::Sudo => matches!(
                option,
                "-u" | "-g"
                    | "-U"
                    | "-C"
                    | "-D"
                    | "-h"
                    | "-p"
                    | "-r"
                    | "-t"
                    | "-T"
                    | "--user"
                    | "--group"
                    | "--other-user"
                    | "--prompt"
                    | "--chdir"
            ),
            Self::Nice => matches!(option, "-n" | "--adjustment"),
            Self::Time => matches!(option, "-f" | "--format" | "-o" | "--output"),
            Self::Plain => false,
        };
        if takes_value {
            Pending::OptionValue
        } else {
            Pending::Nothing
        }
    }
}

fn wrapper_named(name: &str) -> Option<Wrapper> {
    let wrapper = match name {
        "env" => Wrapper::Env,
        "sudo" | "doas" => Wrapper::Sudo,
        "nice" => Wrapper::Nice,
        "time" => Wrapper::Time,
        "exec" | "nohup" | "command" | "busybox" => Wrapper::Plain,
        // Dockerfile instructions in history lines and healthcheck tests.
        "RUN" | "CMD" | "ENTRYPOINT" | "HEALTHCHECK" => Wrapper::Plain,
        // The ARG count in history lines: `|2 A=1 B=2 /bin/sh -c …`.
        _ if !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit()) => Wrapper::Plain,
        _ => return None,
    };
    Some(wrapper)
}

fn program_named(name: &str) -> Program {
    match name {
        "sh" | "bash" | "ash" | "dash" | "zsh" | "ksh" | "mksh" => Program::Shell,
        "mysql" | "mysqldump" | "mysqladmin" | "mysqlimport" | "mysqlshow" | "mysqlcheck"
        | "mysqlpump" | "mysqlslap" | "mariadb" | "mariadb-dump" | "mariadb-admin"
        | "mariadb-import" | "mariadb-show" | "mariadb-check" | "mariadb-slap" => {
            Program::MysqlClient
        }
        "redis-cli" | "valkey-cli" | "keydb-cli" => Program::RedisCli,
        "sshpass" => Program::Sshpass,
        "curl" | "wget" => Program::HttpClient,
        "openssl" => Program::Openssl,
        "htpasswd" => Program::Htpasswd,
        "docker" | "podman" | "nerdctl" => Program::Docker,
        "ENV" => Program::DockerfileEnv,
        _ => Program::Other,
    }
}

/// The basename of a program path (`/usr/bin/mysql` → `mysql`).
fn program_name(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

fn looks_like_flag(word: &str) -> bool {
    word.len() > 1 && word.starts_with('-')
}

/// `-c`, `-ec`, `-lc`, …: a shell's "the next argument is the script".
fn is_shell_command_flag(word: &str) -> bool {
    word.strip_prefix('-').is_some_and(|letters| {
        letters.bytes().all(|b| b.is_ascii_alphabetic()) && letters.contains('c')
    })
}

/// The value glued to a short flag (`-pVALUE` → `VALUE`), or after `--flag=`.
fn attached_value<'w>(word: &'w str, flag: &str) -> Option<&'w str> {
    word.strip_prefix(flag).filter(|value| !value.is_empty())
}

/// `NAME=value` where NAME could be a variable, property or label key.
fn split_assignment(word: &str) -> Option<(&str, &str)> {
    let (name, value) = word.split_once('=')?;
    let valid = !name.is_empty()
        && !name.starts_with('-')
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-'));
    valid.then_some((name, value))
}

/// `user:password` → `user:<redacted>`; a bare user (curl then prompts) is left alone.
fn redact_user_password(value: &str) -> Option<String> {
    let (user, password) = value.split_once(':')?;
    (!password.is_empty()).then(|| format!("{user}:{REDACTED}"))
}

/// `Authorization: Bearer x` → `Authorization: <redacted>`, for secret header names.
fn redact_header(header: &str) -> Option<String> {
    let (name, value) = header.split_once(':')?;
    let trimmed_name = name.trim();
    // `Authorization`, `Proxy-Authorization`, `X-Api-Key`, … by name; cookies carry sessions.
    let secret = trimmed_name.eq_ignore_ascii_case("cookie") || is_secret_name(trimmed_name);
    if !secret || value.trim().is_empty() {
        return None;
    }
    let spacing = &value[..value.len() - value.trim_start().len()];
    Some(format!("{name}:{spacing}{REDACTED}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|item| item.to_string()).collect()
    }

    #[test]
    fn secret_names_by_token() {
        let secret = [
            "POSTGRES_PASSWORD",
            "MYSQL_ROOT_PASSWORD",
            "password",
            "dbPassword",
            "db-password",
            "db.password",
            "db password",
            "PASSWD",
            "MYSQL_PWD",
            "DB_PASS",
            "pass",
            "SSH_PASSPHRASE",
            "JWT_SECRET",
            "CLIENT_SECRET",
            "clientSecret",
            "K8S_SECRETS",
            "GITHUB_TOKEN",
            "AUTH_TOKEN",
            "authToken",
            "HF_TOKENS",
            "APIKEY",
            "APIKey",
            "myAPIKey",
            "API_KEY",
            "api-key",
            "apiKey",
            "API_KEYS",
            "API_KEY_ID",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "SSH_PRIVATE_KEY",
            "privateKey",
            "PRIVATEKEY",
            "SECRET_KEY",
            "SIGNING_KEY_ID",
            "ENCRYPTION_KEY_V2",
            "MASTER_KEY",
            "SESSION_KEY",
            "sessionkey",
            "STRIPE_KEY",
            "AWS_KEY",
            "S3_KEY",
            "BASIC_AUTH",
            "REDIS_AUTH",
            "auth",
            "OAuth2Token",
            "AUTHORIZATION",
            "GCP_CREDENTIALS",
            "credential",
            "DOCKER_CREDS",
            "requirepass",
            "masterauth",
            "MYSQLROOTPASSWORD",
            "DB_PASSWORD2",
            "com.example.password",
            "traefik.http.middlewares.auth.basicauth.users",
        ];
        for name in secret {
            assert!(is_secret_name(name), "{name} should be secret");
        }
    }

    #[test]
    fn non_secret_names() {
        let plain = [
            "",
            "KEY",
            "key",
            "KEY_ID",
            "AUTHOR",
            "AUTHORITY",
            "author_name",
            "KEYBOARD_LAYOUT",
            "MONKEY",
            "PASSENGER_COUNT",
            "BYPASS_CACHE",
            "COMPASS_HEADING",
            "TOKENIZER_PATH",
            "tokenizer",
            "PATH",
            "HOME",
            "LANG",
            "PWD",
            "OLDPWD",
            "HOSTNAME",
            "POSTGRES_HOST_AUTH_METHOD",
            "AUTH_TYPE",
            "OAUTH_ENABLED",
            "OAUTH_CLIENT_ID",
            "POSTGRES_PASSWORD_FILE",
            "password-stdin",
            "SSL_KEY_PATH",
            "SSH_PUBLIC_KEY",
            "PUB_KEY",
            "SSH_AUTHORIZED_KEYS",
            "GIT_ASKPASS",
            "KEYRING",
            "_",
            "=",
            "--",
            "ünïcödé_名前",
        ];
        for name in plain {
            assert!(!is_secret_name(name), "{name} should not be secret");
        }
    }

    #[test]
    fn name_tokens_split_on_separators_case_and_digits() {
        let cases: [(&str, &[&str]); 7] = [
            ("dbPassword", &["db", "password"]),
            ("APIKey", &["api", "key"]),
            ("myAPIKey2", &["my", "api", "key", "2"]),
            ("AWS_SECRET-ACCESS.key", &["aws", "secret", "access", "key"]),
            ("OAuth2Token", &["o", "auth", "2", "token"]),
            ("__", &[]),
            ("S3", &["s", "3"]),
        ];
        for (name, expected) in cases {
            assert_eq!(name_tokens(name), expected, "{name}");
        }
    }

    #[test]
    fn env_entries() {
        let cases = [
            ("POSTGRES_PASSWORD=hunter2", "POSTGRES_PASSWORD=<redacted>"),
            ("GITHUB_TOKEN=ghp_x", "GITHUB_TOKEN=<redacted>"),
            (
                "AWS_SECRET_ACCESS_KEY=abc",
                "AWS_SECRET_ACCESS_KEY=<redacted>",
            ),
            ("SSH_PRIVATE_KEY=---", "SSH_PRIVATE_KEY=<redacted>"),
            ("STRIPE_KEY=sk_live_1", "STRIPE_KEY=<redacted>"),
            ("PASSWORD=", "PASSWORD=<redacted>"),
            ("PASSWORD=a=b", "PASSWORD=<redacted>"),
            ("PATH=/usr/bin", "PATH=/usr/bin"),
            ("LANG=C.UTF-8", "LANG=C.UTF-8"),
            ("KEY=value", "KEY=value"),
            ("AUTHOR=jane", "AUTHOR=jane"),
            (
                "POSTGRES_HOST_AUTH_METHOD=trust",
                "POSTGRES_HOST_AUTH_METHOD=trust",
            ),
            (
                "POSTGRES_PASSWORD_FILE=/run/secrets/db",
                "POSTGRES_PASSWORD_FILE=/run/secrets/db",
            ),
            ("NOVALUE", "NOVALUE"),
            ("", ""),
            ("=", "="),
            ("=value", "=value"),
            (
                "DATABASE_URL=postgres://u:pw@h/db",
                "DATABASE_URL=postgres://u:<redacted>@h/db",
            ),
            (
                "JAVA_OPTS=-Xmx1g -Dspring.datasource.password=s3cr3t",
                "JAVA_OPTS=-Xmx1g -Dspring.datasource.password=<redacted>",
            ),
            (
                "REDIS_ARGS=--requirepass hunter2  --appendonly yes",
                "REDIS_ARGS=--requirepass <redacted>  --appendonly yes",
            ),
            ("PS1=\\u@\\h:\\w\\$ ", "PS1=\\u@\\h:\\w\\$ "),
        ];
        for (input, expected) in cases {
            assert_eq!(redact_env_entry(input), expected, "{input:?}");
        }
    }

    #[test]
    fn labels() {
        let cases = [
            ("com.example.db-password", "hunter2", "<redacted>"),
            (
                "traefik.http.middlewares.auth.basicauth.users",
                "admin:$$apr1$$xyz",
                "<redacted>",
            ),
            ("com.docker.compose.project", "shop", "shop"),
            (
                "org.opencontainers.image.authors",
                "Jane <j@x.org>",
                "Jane <j@x.org>",
            ),
            (
                "org.opencontainers.image.source",
                "https://ghp_abc@github.com/o/r",
                "https://<redacted>@github.com/o/r",
            ),
            ("", "", ""),
        ];
        for (key, value, expected) in cases {
            assert_eq!(redact_label(key, value), expected, "{key:?}={value:?}");
        }
    }

    #[test]
    fn url_credentials() {
        let cases = [
            ("postgres://u:pw@h/db", "postgres://u:<redacted>@h/db"),
            (
                "https://ghp_xxx@github.com/o/r.git",
                "https://<redacted>@github.com/o/r.git",
            ),
            (
                "redis://:hunter2@cache:6379/0",
                "redis://:<redacted>@cache:6379/0",
            ),
            (
                "mongodb+srv://app:p@ss@cluster/x",
                "mongodb+srv://app:<redacted>@cluster/x",
            ),
            ("http://u:@host/", "http://u:@host/"),
            ("http://@host/", "http://@host/"),
            ("ssh://git@github.com/o/r", "ssh://git@github.com/o/r"),
            (
                "git+ssh://git@github.com/o/r",
                "git+ssh://git@github.com/o/r",
            ),
            (
                "ssh://git:pw@github.com/o/r",
                "ssh://git:<redacted>@github.com/o/r",
            ),
            ("mail me at jane@example.com", "mail me at jane@example.com"),
            ("user:pass@host", "user:pass@host"),
            ("mailto:a:b@c", "mailto:a:b@c"),
            ("://@", "://@"),
            ("://u:p@h", "://u:p@h"),
            ("a://", "a://"),
            ("https://medium.com/@user", "https://medium.com/@user"),
            ("http://host:8080/@me", "http://host:8080/@me"),
            ("http://h/a:b@c", "http://h/a:b@c"),
            ("http://[::1]:8080/x", "http://[::1]:8080/x"),
            ("redis://:ab/cd+ef@h:6379", "redis://:<redacted>@h:6379"),
            (
                "a http://u:p@h1 and \"https://v:q@h2/x\" then ftp://w:r@h3",
                "a http://u:<redacted>@h1 and \"https://v:<redacted>@h2/x\" then ftp://w:<redacted>@h3",
            ),
            (
                "http://a:9200,http://u:p@b:9200",
                "http://a:9200,http://u:<redacted>@b:9200",
            ),
            (
                "https://h/cb?access_token=abc&page=2#top",
                "https://h/cb?access_token=<redacted>&page=2#top",
            ),
            (
                "https://maps.googleapis.com/x?key=AIza&sig=zz&q=1",
                "https://maps.googleapis.com/x?key=<redacted>&sig=<redacted>&q=1",
            ),
            (
                "https://h/login?next=https://u:p@i/&token=t",
                "https://h/login?next=https://u:<redacted>@i/&token=<redacted>",
            ),
            (
                "https://h/?token=https://u:p@i/",
                "https://h/?token=<redacted>",
            ),
            ("https://h/?token=", "https://h/?token="),
            ("https://h/?token=>x", "https://h/?token=>x"),
            ("https://h/?token=t>x", "https://h/?token=<redacted>>x"),
            ("https://ü:ß@例え.jp/", "https://ü:<redacted>@例え.jp/"),
            ("", ""),
        ];
        for (input, expected) in cases {
            assert_eq!(redact_url_credentials(input), expected, "{input:?}");
        }
    }

    #[test]
    fn argv() {
        let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
            (vec![], vec![]),
            (vec![""], vec![""]),
            (
                vec!["redis-server", "--requirepass", "hunter2", "--port", "6379"],
                vec![
                    "redis-server",
                    "--requirepass",
                    "<redacted>",
                    "--port",
                    "6379",
                ],
            ),
            (
                vec![
                    "app",
                    "--password=x",
                    "--db-password=y",
                    "--api-key=z",
                    "--name=web",
                ],
                vec![
                    "app",
                    "--password=<redacted>",
                    "--db-password=<redacted>",
                    "--api-key=<redacted>",
                    "--name=web",
                ],
            ),
            (
                vec!["redis-server", "--requirepass=x", "--masterauth", "y"],
                vec![
                    "redis-server",
                    "--requirepass=<redacted>",
                    "--masterauth",
                    "<redacted>",
                ],
            ),
            (
                vec!["app", "--password", "--verbose"],
                vec!["app", "--password", "--verbose"],
            ),
            (vec!["app", "--token"], vec!["app", "--token"]),
            (
                vec!["app", "--password-file", "/run/secrets/pw"],
                vec!["app", "--password-file", "/run/secrets/pw"],
            ),
            (
                vec!["env", "FOO_TOKEN=x", "PATH=/bin", "app"],
                vec!["env", "FOO_TOKEN=<redacted>", "PATH=/bin", "app"],
            ),
            (
                vec![
                    "docker-entrypoint.sh",
                    "-e",
                    "DB_PASSWORD=x",
                    "-e",
                    "MODE=prod",
                ],
                vec![
                    "docker-entrypoint.sh",
                    "-e",
                    "DB_PASSWORD=<redacted>",
                    "-e",
                    "MODE=prod",
                ],
            ),
            (
                vec!["mysql", "-uroot", "-psecret", "-h", "db"],
                vec!["mysql", "-uroot", "-p<redacted>", "-h", "db"],
            ),
            (vec!["mysql", "-p", "shop"], vec!["mysql", "-p", "shop"]),
            (
                vec!["/usr/bin/mysqladmin", "ping", "-pX"],
                vec!["/usr/bin/mysqladmin", "ping", "-p<redacted>"],
            ),
            (
                vec!["mariadb-dump", "--password=x", "shop"],
                vec!["mariadb-dump", "--password=<redacted>", "shop"],
            ),
            (
                vec!["sudo", "-u", "mysql", "mysqldump", "-psecret"],
                vec!["sudo", "-u", "mysql", "mysqldump", "-p<redacted>"],
            ),
            (
                vec!["exec", "mariadb", "-psecret"],
                vec!["exec", "mariadb", "-p<redacted>"],
            ),
            (vec!["app", "-psecret"], vec!["app", "-psecret"]),
            (
                vec!["docker", "run", "-p", "8080:80", "nginx"],
                vec!["docker", "run", "-p", "8080:80", "nginx"],
            ),
            (
                vec!["docker", "login", "-u", "me", "-p", "pw", "registry"],
                vec![
                    "docker",
                    "login",
                    "-u",
                    "me",
                    "-p",
                    "<redacted>",
                    "registry",
                ],
            ),
            (
                vec!["redis-cli", "-a", "hunter2", "ping"],
                vec!["redis-cli", "-a", "<redacted>", "ping"],
            ),
            (
                vec!["redis-cli", "-ahunter2", "ping"],
                vec!["redis-cli", "-a<redacted>", "ping"],
            ),
            (
                vec!["redis-cli", "-u", "redis://:pw@cache:6379"],
                vec!["redis-cli", "-u", "redis://:<redacted>@cache:6379"],
            ),
            (
                vec!["sshpass", "-p", "pw", "ssh", "host"],
                vec!["sshpass", "-p", "<redacted>", "ssh", "host"],
            ),
            (
                vec!["sshpass", "-ppw", "ssh"],
                vec!["sshpass", "-p<redacted>", "ssh"],
            ),
            (
                vec![
                    "curl",
                    "-u",
                    "admin:pw",
                    "--user",
                    "a:b",
                    "--user=c:d",
                    "-ue:f",
                    "http://x",
                ],
                vec![
                    "curl",
                    "-u",
                    "admin:<redacted>",
                    "--user",
                    "a:<redacted>",
                    "--user=c:<redacted>",
                    "-ue:<redacted>",
                    "http://x",
                ],
            ),
            (
                vec!["curl", "-u", "admin", "http://x"],
                vec!["curl", "-u", "admin", "http://x"],
            ),
            (
                vec![
                    "curl",
                    "--oauth2-bearer",
                    "tok",
                    "-H",
                    "Cookie: sid=1",
                    "-H",
                    "Proxy-Authorization: Basic x",
                ],
                vec![
                    "curl",
                    "--oauth2-bearer",
                    "<redacted>",
                    "-H",
                    "Cookie: <redacted>",
                    "-H",
                    "Proxy-Authorization: <redacted>",
                ],
            ),
            (
                vec![
                    "curl",
                    "-H",
                    "Authorization: Bearer abc",
                    "-H",
                    "Accept: */*",
                ],
                vec![
                    "curl",
                    "-H",
                    "Authorization: <redacted>",
                    "-H",
                    "Accept: */*",
                ],
            ),
            (
                vec!["wget", "--header=X-Api-Key: k", "--password=p", "--user=u"],
                vec![
                    "wget",
                    "--header=X-Api-Key: <redacted>",
                    "--password=<redacted>",
                    "--user=u",
                ],
            ),
            (
                vec!["curl", "-fsS", "https://u:p@h/health"],
                vec!["curl", "-fsS", "https://u:<redacted>@h/health"],
            ),
            (
                vec![
                    "openssl", "enc", "-pass", "pass:pw", "-passin", "env:PW", "-k", "kk",
                ],
                vec![
                    "openssl",
                    "enc",
                    "-pass",
                    "pass:<redacted>",
                    "-passin",
                    "env:PW",
                    "-k",
                    "<redacted>",
                ],
            ),
            (
                vec!["htpasswd", "-bc", "/etc/nginx/.htpasswd", "admin", "pw"],
                vec![
                    "htpasswd",
                    "-bc",
                    "/etc/nginx/.htpasswd",
                    "admin",
                    "<redacted>",
                ],
            ),
            (
                vec!["htpasswd", "-nbB", "-C", "10", "admin", "pw"],
                vec!["htpasswd", "-nbB", "-C", "10", "admin", "<redacted>"],
            ),
            (
                vec!["htpasswd", "-c", "file", "admin"],
                vec!["htpasswd", "-c", "file", "admin"],
            ),
            (
                vec!["java", "-Ddb.password=x", "-token", "t", "-jar", "app.jar"],
                vec![
                    "java",
                    "-Ddb.password=<redacted>",
                    "-token",
                    "<redacted>",
                    "-jar",
                    "app.jar",
                ],
            ),
            (
                vec!["sh", "-c", "mysql -psecret && curl -u a:b http://x"],
                vec![
                    "sh",
                    "-c",
                    "mysql -p<redacted> && curl -u a:<redacted> http://x",
                ],
            ),
            (
                vec![
                    "/bin/bash",
                    "-ec",
                    "redis-cli -a pw ping",
                    "script-name",
                    "--token=t",
                ],
                vec![
                    "/bin/bash",
                    "-ec",
                    "redis-cli -a <redacted> ping",
                    "script-name",
                    "--token=<redacted>",
                ],
            ),
            (
                vec!["busybox", "sh", "-c", "wget --password=p http://x"],
                vec!["busybox", "sh", "-c", "wget --password=<redacted> http://x"],
            ),
            (
                vec!["env", "-S", "mysql -pX", "ignored"],
                vec!["env", "-S", "mysql -p<redacted>", "ignored"],
            ),
            (
                vec!["CMD-SHELL", "mysqladmin ping -psecret || exit 1"],
                vec!["CMD-SHELL", "mysqladmin ping -p<redacted> || exit 1"],
            ),
            (
                vec!["CMD", "redis-cli", "-a", "pw", "ping"],
                vec!["CMD", "redis-cli", "-a", "<redacted>", "ping"],
            ),
            (
                vec!["app", "&&", "mysql", "-pX"],
                vec!["app", "&&", "mysql", "-p<redacted>"],
            ),
            (
                vec!["--requirepass", "pw"],
                vec!["--requirepass", "<redacted>"],
            ),
            (vec!["-p"], vec!["-p"]),
            (vec!["mysql", "-p"], vec!["mysql", "-p"]),
            (vec!["sshpass", "-p"], vec!["sshpass", "-p"]),
            (vec!["sh", "-c"], vec!["sh", "-c"]),
            (vec!["=", "--=", "-", "--"], vec!["=", "--=", "-", "--"]),
        ];
        for (input, expected) in cases {
            let output = redact_args(&strings(&input));
            assert_eq!(output, strings(&expected), "{input:?}");
        }
    }

    #[test]
    fn command_lines() {
        let cases = [
            ("", ""),
            ("   ", "   "),
            (
                "mysql -psecret && curl -u a:b http://x",
                "mysql -p<redacted> && curl -u a:<redacted> http://x",
            ),
            (
                "  redis-server  --requirepass\thunter2   --port 6379 ",
                "  redis-server  --requirepass\t<redacted>   --port 6379 ",
            ),
            (
                "/bin/sh -c #(nop)  ENV DB_PASSWORD=secret MODE=prod",
                "/bin/sh -c #(nop)  ENV DB_PASSWORD=<redacted> MODE=prod",
            ),
            (
                "/bin/sh -c #(nop)  ENV API_TOKEN abc def",
                "/bin/sh -c #(nop)  ENV API_TOKEN <redacted> <redacted>",
            ),
            (
                "/bin/sh -c #(nop)  ENV HOME /root",
                "/bin/sh -c #(nop)  ENV HOME /root",
            ),
            (
                "/bin/sh -c mysql -uroot -psecret shop < dump.sql",
                "/bin/sh -c mysql -uroot -p<redacted> shop < dump.sql",
            ),
            (
                "|1 TOKEN=abc /bin/sh -c curl -H \"Authorization: Bearer $TOKEN\" https://x # buildkit",
                "|1 TOKEN=<redacted> /bin/sh -c curl -H \"Authorization: <redacted>\" https://x # buildkit",
            ),
            (
                "RUN /bin/sh -c htpasswd -bc /etc/.htpasswd admin pw # buildkit",
                "RUN /bin/sh -c htpasswd -bc /etc/.htpasswd admin <redacted> # buildkit",
            ),
            (
                "CMD [\"redis-server\" \"--requirepass\" \"hunter2\"]",
                "CMD [\"redis-server\" \"--requirepass\" \"<redacted>\"]",
            ),
            (
                "HEALTHCHECK &{[\"CMD-SHELL\" \"mysqladmin ping -psecret\"] \"30s\"}",
                "HEALTHCHECK &{[\"CMD-SHELL\" \"mysqladmin ping -p<redacted>\"] \"30s\"}",
            ),
            (
                "bash -c 'mysql -psecret; redis-cli -a pw'",
                "bash -c 'mysql -p<redacted>; redis-cli -a <redacted>'",
            ),
            (
                "sh -c \"sh -c 'mysql -pX'\"",
                "sh -c \"sh -c 'mysql -p<redacted>'\"",
            ),
            (
                "app --password=\"a b\" --x",
                "app --password=<redacted> --x",
            ),
            (
                "app --password \"a b\" --x",
                "app --password \"<redacted>\" --x",
            ),
            ("mysql -p'se cret' db", "mysql -p<redacted> db"),
            ("mysql -p db", "mysql -p db"),
            ("echo mysql -psecret", "echo mysql -psecret"),
            (
                "echo x;mysql -pX|grep y",
                "echo x;mysql -p<redacted>|grep y",
            ),
            ("echo $(mysql -pX)", "echo $(mysql -p<redacted>)"),
            ("mysql -h db 2>&1 -pX", "mysql -h db 2>&1 -p<redacted>"),
            (
                "git clone https://oauth2:glpat-x@gitlab.com/o/r.git && ssh://git@h",
                "git clone https://oauth2:<redacted>@gitlab.com/o/r.git && ssh://git@h",
            ),
            (
                "export AWS_SECRET_ACCESS_KEY=abc AWS_REGION=eu",
                "export AWS_SECRET_ACCESS_KEY=<redacted> AWS_REGION=eu",
            ),
            (
                "PGPASSWORD=pw psql -h db",
                "PGPASSWORD=<redacted> psql -h db",
            ),
            (
                "curl -fsS -H 'X-Auth-Token: t' http://localhost/health || exit 1",
                "curl -fsS -H 'X-Auth-Token: <redacted>' http://localhost/health || exit 1",
            ),
            ("app --token=\"it's\" done", "app --token=<redacted> done"),
            ("a\nmysql -pX\n", "a\nmysql -p<redacted>\n"),
            ("trailing -p", "trailing -p"),
            ("mysql -p", "mysql -p"),
            (
                "unterminated 'quote -psecret",
                "unterminated 'quote -psecret",
            ),
            ("mysql \"-psecret", "mysql -p<redacted>"),
            ("back\\", "back\\"),
            (
                "ünï --password=ß --pässword=ß",
                "ünï --password=<redacted> --pässword=ß",
            ),
            ("PASSWORD=x&key=v", "PASSWORD=<redacted>&key=v"),
        ];
        for (input, expected) in cases {
            assert_eq!(redact_command_line(input), expected, "{input:?}");
        }
    }

    #[test]
    fn splits_words_and_keeps_every_byte() {
        let line = "a  'b c'\t\"d\\\"e\";f&&g 2>&1 |h";
        let pieces = split_command_line(line);
        assert_eq!(
            pieces,
            [
                Piece::Word("a"),
                Piece::Blank("  "),
                Piece::Word("'b c'"),
                Piece::Blank("\t"),
                Piece::Word("\"d\\\"e\""),
                Piece::Break(";"),
                Piece::Word("f"),
                Piece::Break("&&"),
                Piece::Word("g"),
                Piece::Blank(" "),
                Piece::Word("2>&1"),
                Piece::Blank(" "),
                Piece::Break("|"),
                Piece::Word("h"),
            ]
        );
    }

    /// Odd and hostile inputs: nothing panics, and redacting twice equals redacting once.
    #[test]
    fn odd_inputs_never_panic_and_are_idempotent() {
        let fragments = [
            "",
            "=",
            "--=",
            "-",
            "--",
            "-p",
            "-a",
            "-u",
            "-H",
            "-c",
            "://",
            "@",
            ":",
            "://@",
            "http://",
            "u:p@h",
            "https://t@h",
            "?token=",
            "&key=v",
            "#",
            "'",
            "\"",
            "\\",
            "`",
            ";",
            "&&",
            "|",
            "(",
            ")",
            "\n",
            " ",
            "\t",
            "ü",
            "名前",
            "😀",
            "<redacted>",
            "--password",
            "--password=",
            "PASSWORD=",
            "x",
            "mysql",
            "sh",
            "redis-cli",
            "curl",
            "sshpass",
            "htpasswd",
            "-bc",
            "env",
            "-S",
            "CMD-SHELL",
            "ENV",
            "API_TOKEN",
            "[",
            "]",
            "{",
            ",",
            "2>&1",
            "a:b",
            "Authorization:",
            "pass:",
            "openssl",
            "-pass",
            "docker",
            "login",
        ];
        let mut inputs: Vec<String> = fragments.iter().map(|f| f.to_string()).collect();
        // A small deterministic generator: no dependencies, same cases every run.
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..4000 {
            let mut input = String::new();
            for _ in 0..(state % 8) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                input.push_str(fragments[(state % fragments.len() as u64) as usize]);
                if state.is_multiple_of(3) {
                    input.push(' ');
                }
            }
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            inputs.push(input);
        }
        for input in &inputs {
            let line = redact_command_line(input);
            assert_eq!(redact_command_line(&line), line, "command line {input:?}");
            let url = redact_url_credentials(input);
            assert_eq!(redact_url_credentials(&url), url, "url {input:?}");
            let env = redact_env_entry(input);
            assert_eq!(redact_env_entry(&env), env, "env {input:?}");
            let label = redact_label(input, input);
            assert_eq!(redact_label(input, &label), label, "label {input:?}");
            is_secret_name(input);
            let argv: Vec<String> = input.split(' ').map(str::to_string).collect();
            let args = redact_args(&argv);
            assert_eq!(args.len(), argv.len());
            assert_eq!(redact_args(&args), args, "argv {argv:?}");
        }
    }

    /// Text made of nothing but URLs, quotes or flags (an image's labels and history are
    /// untrusted): a quadratic scan takes seconds on these 50 KB inputs, the linear one
    /// milliseconds.
    #[test]
    fn large_repetitive_inputs_finish() {
        let units = [
            "a://",
            "a://@",
            "a://u:p@",
            "h://x:1/@",
            "a://h?b=",
            "a://u:p@h?token=x&",
            "sh -c '",
            "bash -c \"sh -c 'mysql -px '\" ",
            "--password ",
            "'a b' ",
        ];
        for unit in units {
            let text = unit.repeat(50_000 / unit.len());
            let line = redact_command_line(&text);
            assert_eq!(redact_command_line(&line), line, "{unit:?}");
            let url = redact_url_credentials(&text);
            assert_eq!(redact_url_credentials(&url), url, "{unit:?}");
        }
    }
}
