//! A plugin's prompts and resource templates (its optional `context` export), checked at
//! load like its tools: bounded counts and texts, valid names, no duplicates, and URI
//! templates in the plugin's own namespace, so no plugin can answer for another's URIs.

use crate::bindings::context;
use crate::capabilities::{Capability, CapabilitySet};
use crate::sanitize::{strip_controls, truncate_at_char};
use crate::uri_template::{TemplateError, UriTemplate};

use super::manifest::{MAX_DESCRIPTION_BYTES, MAX_SHORT_TEXT_BYTES, valid_identifier};

/// Most prompts, and most resource templates, one plugin may declare.
pub const MAX_PROMPTS: usize = 64;
pub const MAX_TEMPLATES: usize = 64;
/// Most arguments one prompt may take.
pub const MAX_PROMPT_ARGUMENTS: usize = 16;
/// The URI scheme reserved for the built-in diagnostics plugin.
pub const BUILTIN_SCHEME: &str = "docker";

#[derive(Debug, Default)]
pub struct ContextSpec {
    pub prompts: Vec<PromptSpec>,
    pub templates: Vec<TemplateSpec>,
}

impl ContextSpec {
    pub fn is_empty(&self) -> bool {
        self.prompts.is_empty() && self.templates.is_empty()
    }

    /// Every capability any template declares: what listing resources may use.
    pub fn template_capabilities(&self) -> CapabilitySet {
        self.templates
            .iter()
            .fold(CapabilitySet::EMPTY, |all, t| all.union(t.declared))
    }
}

#[derive(Debug)]
pub struct PromptSpec {
    pub name: String,
    pub title: String,
    pub description: String,
    pub arguments: Vec<PromptArgumentSpec>,
    pub declared: CapabilitySet,
}

#[derive(Debug)]
pub struct PromptArgumentSpec {
    pub name: String,
    pub description: String,
    pub required: bool,
}

#[derive(Debug)]
pub struct TemplateSpec {
    pub template: UriTemplate,
    pub name: String,
    pub title: String,
    pub description: String,
    pub mime_type: String,
    pub declared: CapabilitySet,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ContextManifestError {
    #[error("the plugin declares {count} {what}, over the limit of {limit}")]
    TooMany {
        what: &'static str,
        count: usize,
        limit: usize,
    },
    #[error(
        "{what} `{name}` is invalid: use 1-64 characters, a lowercase letter then lowercase letters, digits or `_`"
    )]
    Name { what: &'static str, name: String },
    #[error("{what} `{name}` is declared twice")]
    Duplicate { what: &'static str, name: String },
    #[error("resource template `{name}`: `{template}` {reason}")]
    Template {
        name: String,
        template: String,
        reason: TemplateError,
    },
    #[error(
        "resource template `{name}`: `{template}` must use the plugin's own scheme `{namespace}://`"
    )]
    ForeignScheme {
        name: String,
        template: String,
        namespace: String,
    },
    #[error(
        "prompt `{prompt}`: a plugin loaded from disk must prefix its prompts with `{prefix}` (its own name)"
    )]
    ForeignPrefix { prompt: String, prefix: String },
    #[error("resource template `{name}`: the MIME type `{mime}` is not `type/subtype`")]
    MimeType { name: String, mime: String },
}

/// Checks `raw` for a plugin whose URIs must use the scheme `namespace` and, when
/// `prompt_prefix` is given (a plugin from disk), whose prompt names must start with it,
/// so they cannot pass for a built-in's.
pub fn validate(
    raw: context::ContextManifest,
    namespace: &str,
    prompt_prefix: Option<&str>,
) -> Result<ContextSpec, ContextManifestError> {
    check_count("prompts", raw.prompts.len(), MAX_PROMPTS)?;
    check_count("resource templates", raw.templates.len(), MAX_TEMPLATES)?;
    let mut prompts: Vec<PromptSpec> = Vec::with_capacity(raw.prompts.len());
    for prompt in raw.prompts {
        check_name("prompt", &prompt.name)?;
        if let Some(prefix) = prompt_prefix
            && !prompt.name.starts_with(prefix)
        {
            return Err(ContextManifestError::ForeignPrefix {
                prompt: prompt.name,
                prefix: prefix.to_string(),
            });
        }
        if prompts.iter().any(|p| p.name == prompt.name) {
            return Err(ContextManifestError::Duplicate {
                what: "prompt",
                name: prompt.name,
            });
        }
        check_count(
            "arguments for one prompt",
            prompt.arguments.len(),
            MAX_PROMPT_ARGUMENTS,
        )?;
        let mut arguments: Vec<PromptArgumentSpec> = Vec::with_capacity(prompt.arguments.len());
        for argument in prompt.arguments {
            check_argument_name(&argument.name)?;
            if arguments.iter().any(|a| a.name == argument.name) {
                return Err(ContextManifestError::Duplicate {
                    what: "prompt argument",
                    name: format!("{}.{}", prompt.name, argument.name),
                });
            }
            arguments.push(PromptArgumentSpec {
                name: argument.name,
                description: clean(&argument.description, MAX_DESCRIPTION_BYTES),
                required: argument.required,
            });
        }
        prompts.push(PromptSpec {
            title: clean(&prompt.title, MAX_SHORT_TEXT_BYTES),
            description: clean(&prompt.description, MAX_DESCRIPTION_BYTES),
            declared: declared(&prompt.capabilities),
            name: prompt.name,
            arguments,
        });
    }
    let mut templates: Vec<TemplateSpec> = Vec::with_capacity(raw.templates.len());
    for template in raw.templates {
        check_name("resource template", &template.name)?;
        if templates.iter().any(|t| t.name == template.name) {
            return Err(ContextManifestError::Duplicate {
                what: "resource template",
                name: template.name,
            });
        }
        let parsed = UriTemplate::parse(&template.uri_template).map_err(|reason| {
            ContextManifestError::Template {
                name: template.name.clone(),
                template: template.uri_template.clone(),
                reason,
            }
        })?;
        if parsed.scheme() != namespace {
            return Err(ContextManifestError::ForeignScheme {
                name: template.name,
                template: template.uri_template,
                namespace: namespace.to_string(),
            });
        }
        if templates.iter().any(|t| t.template == parsed) {
            return Err(ContextManifestError::Duplicate {
                what: "resource template",
                name: template.uri_template,
            });
        }
        if !valid_mime(&template.mime_type) {
            return Err(ContextManifestError::MimeType {
                name: template.name,
                mime: template.mime_type,
            });
        }
        templates.push(TemplateSpec {
            template: parsed,
            title: clean(&template.title, MAX_SHORT_TEXT_BYTES),
            description: clean(&template.description, MAX_DESCRIPTION_BYTES),
            mime_type: template.mime_type,
            declared: declared(&template.capabilities),
            name: template.name,
        });
    }
    Ok(ContextSpec { prompts, templates })
}

fn check_count(what: &'static str, count: usize, limit: usize) -> Result<(), ContextManifestError> {
    if count > limit {
        return Err(ContextManifestError::TooMany { what, count, limit });
    }
    Ok(())
}

fn check_name(what: &'static str, name: &str) -> Result<(), ContextManifestError> {
    if valid_identifier(name, 64, '_') {
        Ok(())
    } else {
        Err(ContextManifestError::Name {
            what,
            name: truncate_at_char(&strip_controls(name), 80).to_string(),
        })
    }
}

/// Prompt arguments may be camelCase too (`resourceUri`): clients fill them by name,
/// and JavaScript ones name them that way.
fn check_argument_name(name: &str) -> Result<(), ContextManifestError> {
    let mut chars = name.chars();
    let valid = name.len() <= 64
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        Ok(())
    } else {
        Err(ContextManifestError::Name {
            what: "prompt argument",
            name: truncate_at_char(&strip_controls(name), 80).to_string(),
        })
    }
}

fn declared(capabilities: &[crate::bindings::tools::Capability]) -> CapabilitySet {
    capabilities
        .iter()
        .map(|c| Capability::from_wit(*c))
        .collect()
}

fn clean(text: &str, limit: usize) -> String {
    truncate_at_char(strip_controls(text).trim(), limit).to_string()
}

/// `type/subtype`, each a token: what a client can put in a Content-Type.
fn valid_mime(mime: &str) -> bool {
    let token = |part: &str| {
        !part.is_empty()
            && part.len() <= 64
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$&-^_.+".contains(c))
    };
    mime.split_once('/')
        .is_some_and(|(kind, sub)| token(kind) && token(sub))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::tools::Capability as Wit;

    fn template(uri: &str, name: &str) -> context::ResourceTemplate {
        context::ResourceTemplate {
            uri_template: uri.into(),
            name: name.into(),
            title: "T".into(),
            description: "D".into(),
            mime_type: "text/plain".into(),
            capabilities: vec![Wit::ContainersRead],
        }
    }

    fn prompt(name: &str, arguments: &[&str]) -> context::Prompt {
        context::Prompt {
            name: name.into(),
            title: "T\u{1b}[31m".into(),
            description: "D".into(),
            arguments: arguments
                .iter()
                .map(|a| context::PromptArgument {
                    name: (*a).into(),
                    description: "d".into(),
                    required: true,
                })
                .collect(),
            capabilities: vec![Wit::ContainersRead, Wit::ImagesRead],
        }
    }

    fn manifest(
        prompts: Vec<context::Prompt>,
        templates: Vec<context::ResourceTemplate>,
    ) -> context::ContextManifest {
        context::ContextManifest { prompts, templates }
    }

    #[test]
    fn a_good_context_is_kept_and_cleaned() {
        let spec = validate(
            manifest(
                vec![prompt("probe_troubleshoot", &["container"])],
                vec![template("probe://things/{id}", "thing")],
            ),
            "probe",
            Some("probe_"),
        )
        .unwrap();
        assert_eq!(spec.prompts[0].title, "T");
        assert_eq!(spec.prompts[0].declared.iter().count(), 2);
        assert_eq!(spec.template_capabilities().iter().count(), 1);
        assert!(!spec.is_empty());
    }

    #[test]
    fn names_duplicates_and_namespaces_are_checked() {
        let bad = |m| validate(m, "probe", None).unwrap_err();
        assert!(matches!(
            validate(
                manifest(vec![prompt("troubleshoot", &[])], vec![]),
                "probe",
                Some("probe_")
            ),
            Err(ContextManifestError::ForeignPrefix { .. })
        ));
        assert!(matches!(
            bad(manifest(vec![prompt("Bad", &[])], vec![])),
            ContextManifestError::Name { .. }
        ));
        assert!(matches!(
            bad(manifest(vec![prompt("p", &[]), prompt("p", &[])], vec![])),
            ContextManifestError::Duplicate { .. }
        ));
        assert!(matches!(
            bad(manifest(vec![prompt("p", &["a", "a"])], vec![])),
            ContextManifestError::Duplicate { .. }
        ));
        assert!(matches!(
            bad(manifest(
                vec![],
                vec![template("docker://system/info", "info")]
            )),
            ContextManifestError::ForeignScheme { .. }
        ));
        assert!(matches!(
            bad(manifest(vec![], vec![template("probe://x/{a}-{b}", "x")])),
            ContextManifestError::Template { .. }
        ));
        assert!(matches!(
            bad(manifest(
                vec![],
                vec![
                    template("probe://x/{a}", "x"),
                    template("probe://x/{a}", "y")
                ]
            )),
            ContextManifestError::Duplicate { .. }
        ));
        let mut no_mime = template("probe://x", "x");
        no_mime.mime_type = "json".into();
        assert!(matches!(
            bad(manifest(vec![], vec![no_mime])),
            ContextManifestError::MimeType { .. }
        ));
        let many = (0..=MAX_PROMPTS)
            .map(|i| prompt(&format!("p{i}"), &[]))
            .collect();
        assert!(matches!(
            bad(manifest(many, vec![])),
            ContextManifestError::TooMany { .. }
        ));
    }
}
