//! `.env` and `env_file` files: `KEY=VALUE` lines as Compose reads them.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use super::{SpecError, SpecErrorKind};

/// Largest env file read.
const MAX_ENV_FILE_BYTES: u64 = 256 << 10;

/// Reads `path`; `Ok(None)` when it does not exist and `required` is false.
pub fn read(
    path: &Path,
    required: bool,
    at: &str,
) -> Result<Option<BTreeMap<String, String>>, SpecError> {
    let shown = path.display().to_string();
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound && !required => return Ok(None),
        Err(err) => {
            return Err(SpecError::new(
                SpecErrorKind::Io,
                at,
                format!(
                    "cannot read `{shown}` ({}); env files must lie under an allowed compose directory",
                    err.kind()
                ),
            ));
        }
    };
    let mut text = String::new();
    file.take(MAX_ENV_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|err| {
            SpecError::new(
                SpecErrorKind::Io,
                at,
                format!("cannot read `{shown}` ({})", err.kind()),
            )
        })?;
    if text.len() as u64 > MAX_ENV_FILE_BYTES {
        return Err(SpecError::new(
            SpecErrorKind::TooLarge,
            at,
            format!("`{shown}` is larger than {MAX_ENV_FILE_BYTES} bytes"),
        ));
    }
    parse(&text).map(Some).map_err(|(line, why)| {
        SpecError::new(
            SpecErrorKind::Invalid,
            at,
            format!("`{shown}` line {line}: {why}"),
        )
    })
}

/// Parses env-file text; an error names the line (values are never echoed).
pub fn parse(text: &str) -> Result<BTreeMap<String, String>, (usize, &'static str)> {
    let mut vars = BTreeMap::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").map_or(line, str::trim_start);
        let Some((key, value)) = line.split_once('=') else {
            return Err((index + 1, "expected KEY=VALUE"));
        };
        let key = key.trim();
        let valid_key = key
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if !valid_key {
            return Err((index + 1, "not a variable name"));
        }
        vars.insert(
            key.to_string(),
            value_of(value.trim_start()).ok_or((index + 1, "unterminated quote"))?,
        );
    }
    Ok(vars)
}

fn value_of(value: &str) -> Option<String> {
    if let Some(rest) = value.strip_prefix('\'') {
        return rest.find('\'').map(|end| rest[..end].to_string());
    }
    if let Some(rest) = value.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = rest.chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => return Some(out),
                '\\' => match chars.next()? {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    other => out.push(other),
                },
                other => out.push(other),
            }
        }
        return None;
    }
    let value = match value.find(" #") {
        Some(at) => &value[..at],
        None => value,
    };
    Some(value.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_forms_compose_reads() {
        let vars = parse(
            "# comment\n\nA=1\nexport B = two \nC='lit $X # not a comment'\nD=\"line\\nnext \\\"q\\\"\"\nE=val # comment\nF=\n",
        )
        .unwrap();
        assert_eq!(vars["A"], "1");
        assert_eq!(vars["B"], "two");
        assert_eq!(vars["C"], "lit $X # not a comment");
        assert_eq!(vars["D"], "line\nnext \"q\"");
        assert_eq!(vars["E"], "val");
        assert_eq!(vars["F"], "");
    }

    #[test]
    fn names_the_bad_line() {
        assert_eq!(parse("A=1\nnonsense\n").unwrap_err().0, 2);
        assert_eq!(parse("1A=x\n").unwrap_err().0, 1);
        assert_eq!(parse("A=\"open\n").unwrap_err().0, 1);
    }
}
