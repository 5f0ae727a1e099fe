//! URI templates as plugins declare them for resources: RFC 6570 level 1, restricted to
//! `scheme://` then `/`-separated segments, each literal or one whole `{variable}`. That
//! is enough for `docker://containers/{id}/logs`, and it makes matching exact: a variable
//! is one non-empty path segment, so no URI matches two ways.

use std::fmt;

/// A parsed template; `Display` gives it back as declared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriTemplate {
    text: String,
    scheme: String,
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Variable(String),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TemplateError {
    #[error("has no `scheme://`")]
    NoScheme,
    #[error("has scheme `{0}`, which is not ^[a-z][a-z0-9-]{{0,31}}$")]
    BadScheme(String),
    #[error("has segment `{0}`, which is neither literal nor one whole `{{variable}}`")]
    BadSegment(String),
    #[error("names variable `{0}` twice")]
    DuplicateVariable(String),
    #[error("has a character URIs cannot carry unescaped")]
    BadCharacter,
}

impl UriTemplate {
    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        let (scheme, path) = text.split_once("://").ok_or(TemplateError::NoScheme)?;
        if !valid_scheme(scheme) {
            return Err(TemplateError::BadScheme(scheme.to_string()));
        }
        if !path.chars().all(|c| c.is_ascii_graphic()) {
            return Err(TemplateError::BadCharacter);
        }
        let mut segments = Vec::new();
        for part in path.split('/') {
            let segment = match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(name) if valid_variable(name) => Segment::Variable(name.to_string()),
                Some(_) => return Err(TemplateError::BadSegment(part.to_string())),
                None if part.contains(['{', '}']) => {
                    return Err(TemplateError::BadSegment(part.to_string()));
                }
                None => Segment::Literal(part.to_string()),
            };
            if let Segment::Variable(name) = &segment
                && segments.contains(&segment)
            {
                return Err(TemplateError::DuplicateVariable(name.clone()));
            }
            segments.push(segment);
        }
        Ok(UriTemplate {
            text: text.to_string(),
            scheme: scheme.to_string(),
            segments,
        })
    }

    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the template names exactly one resource (it has no variables).
    pub fn is_fixed(&self) -> bool {
        self.variables().next().is_none()
    }

    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|segment| match segment {
            Segment::Variable(name) => Some(name.as_str()),
            Segment::Literal(_) => None,
        })
    }

    /// The variables' values if `uri` matches, percent-decoded; `None` otherwise
    /// (including an empty value, or one that does not decode to UTF-8). A value may
    /// carry `/` as `%2F` (an image reference does): segments split before decoding.
    pub fn matches(&self, uri: &str) -> Option<Vec<(String, String)>> {
        let path = uri.strip_prefix(&self.scheme)?.strip_prefix("://")?;
        let parts: Vec<&str> = path.split('/').collect();
        if parts.len() != self.segments.len() {
            return None;
        }
        let mut values = Vec::new();
        for (segment, part) in self.segments.iter().zip(parts) {
            match segment {
                Segment::Literal(literal) if literal == part => {}
                Segment::Literal(_) => return None,
                Segment::Variable(name) => {
                    let value = percent_decode(part).filter(|v| !v.is_empty())?;
                    values.push((name.clone(), value));
                }
            }
        }
        Some(values)
    }
}

impl fmt::Display for UriTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The scheme of `uri`, if it has one of the shape templates allow.
pub fn scheme_of(uri: &str) -> Option<&str> {
    uri.split_once("://")
        .map(|(scheme, _)| scheme)
        .filter(|scheme| valid_scheme(scheme))
}

fn valid_scheme(scheme: &str) -> bool {
    let mut chars = scheme.chars();
    scheme.len() <= 32
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn valid_variable(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= 64
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_match_one_segment_each() {
        let template = UriTemplate::parse("docker://containers/{id}/logs").unwrap();
        assert_eq!(template.scheme(), "docker");
        assert_eq!(template.variables().collect::<Vec<_>>(), ["id"]);
        assert_eq!(
            template.matches("docker://containers/web-1/logs"),
            Some(vec![("id".into(), "web-1".into())])
        );
        assert_eq!(
            template.matches("docker://containers/a%20b/logs"),
            Some(vec![("id".into(), "a b".into())])
        );
        assert_eq!(
            template.matches("docker://containers/library%2Fnginx/logs"),
            Some(vec![("id".into(), "library/nginx".into())])
        );
        for miss in [
            "docker://containers//logs",
            "docker://containers/a/b/logs",
            "docker://containers/a/stats",
            "other://containers/a/logs",
            "docker://containers/%ZZ/logs",
            "docker:/containers/a/logs",
        ] {
            assert_eq!(template.matches(miss), None, "{miss}");
        }
    }

    #[test]
    fn fixed_templates_match_themselves() {
        let template = UriTemplate::parse("docker://system/info").unwrap();
        assert!(template.is_fixed());
        assert_eq!(template.matches("docker://system/info"), Some(vec![]));
        assert_eq!(template.matches("docker://system/infos"), None);
    }

    #[test]
    fn malformed_templates_are_refused() {
        assert_eq!(
            UriTemplate::parse("containers/{id}"),
            Err(TemplateError::NoScheme)
        );
        assert!(matches!(
            UriTemplate::parse("Docker://x"),
            Err(TemplateError::BadScheme(_))
        ));
        for bad in [
            "docker://c/{id}-{n}",
            "docker://c/x{id}",
            "docker://c/{Id}",
            "docker://c/{}",
        ] {
            assert!(
                matches!(UriTemplate::parse(bad), Err(TemplateError::BadSegment(_))),
                "{bad}"
            );
        }
        assert_eq!(
            UriTemplate::parse("docker://{id}/{id}"),
            Err(TemplateError::DuplicateVariable("id".into()))
        );
        assert_eq!(
            UriTemplate::parse("docker://a b"),
            Err(TemplateError::BadCharacter)
        );
        assert_eq!(scheme_of("docker://x"), Some("docker"));
        assert_eq!(scheme_of("no scheme"), None);
    }
}
