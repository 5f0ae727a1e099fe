//! MCP's context features for a plugin: prompts, resources and completions. Declare them
//! in [`Plugin::context`](crate::Plugin::context) with [`Prompt::builder`] and
//! [`ResourceTemplate::builder`]; the host routes `prompts/get`, `resources/read` and
//! `completion/complete` to the matching [`Plugin`](crate::Plugin) methods.

use crate::Capability;
use crate::bindings::exports::bulkhead::plugin::context as wit;

pub use wit::{
    Completion, CompletionTarget, ContextManifest, Prompt, PromptAnswer, PromptArgument,
    PromptMessage, Resource, ResourceContents, ResourcePage, ResourceTemplate, Role,
};

/// The most values one completion may carry (MCP's limit).
pub const MAX_COMPLETION_VALUES: usize = 100;

/// Builds one [`Prompt`]. Start with [`Prompt::builder`].
///
/// ```
/// use bulkhead_plugin_sdk::Capability;
/// use bulkhead_plugin_sdk::context::Prompt;
///
/// let prompt = Prompt::builder("troubleshoot_container", "Troubleshoot a container", "Finds why it fails.")
///     .argument("container", "Name or id of the container.", true)
///     .capabilities([Capability::ContainersRead])
///     .build();
/// assert_eq!(prompt.arguments.len(), 1);
/// ```
#[derive(Debug, Clone)]
pub struct PromptBuilder(Prompt);

impl Prompt {
    /// Starts a prompt definition; `name` matches `^[a-z][a-z0-9_]{0,63}$`.
    pub fn builder(
        name: impl Into<String>,
        title: impl Into<String>,
        description: impl Into<String>,
    ) -> PromptBuilder {
        PromptBuilder(Prompt {
            name: name.into(),
            title: title.into(),
            description: description.into(),
            arguments: Vec::new(),
            capabilities: Vec::new(),
        })
    }
}

impl PromptBuilder {
    /// Adds an argument. The host refuses a `prompts/get` that lacks a required one or
    /// names an undeclared one, before the plugin runs.
    #[must_use]
    pub fn argument(
        mut self,
        name: impl Into<String>,
        description: impl Into<String>,
        required: bool,
    ) -> Self {
        self.0.arguments.push(PromptArgument {
            name: name.into(),
            description: description.into(),
            required,
        });
        self
    }

    /// Adds capabilities that filling in the prompt (and completing its arguments) uses.
    #[must_use]
    pub fn capabilities(mut self, capabilities: impl IntoIterator<Item = Capability>) -> Self {
        add_unique(&mut self.0.capabilities, capabilities);
        self
    }

    pub fn build(self) -> Prompt {
        self.0
    }
}

/// Builds one [`ResourceTemplate`]. Start with [`ResourceTemplate::builder`].
#[derive(Debug, Clone)]
pub struct ResourceTemplateBuilder(ResourceTemplate);

impl ResourceTemplate {
    /// Starts a template: `uri_template` is `scheme://path/{var}/…` with the plugin's own
    /// scheme; `name` matches `^[a-z][a-z0-9_]{0,63}$`. The MIME type defaults to
    /// `text/plain`.
    pub fn builder(
        uri_template: impl Into<String>,
        name: impl Into<String>,
        title: impl Into<String>,
        description: impl Into<String>,
    ) -> ResourceTemplateBuilder {
        ResourceTemplateBuilder(ResourceTemplate {
            uri_template: uri_template.into(),
            name: name.into(),
            title: title.into(),
            description: description.into(),
            mime_type: "text/plain".into(),
            capabilities: Vec::new(),
        })
    }
}

impl ResourceTemplateBuilder {
    #[must_use]
    pub fn mime_type(mut self, mime_type: impl Into<String>) -> Self {
        self.0.mime_type = mime_type.into();
        self
    }

    /// Adds capabilities that listing, reading or completing these resources uses.
    #[must_use]
    pub fn capabilities(mut self, capabilities: impl IntoIterator<Item = Capability>) -> Self {
        add_unique(&mut self.0.capabilities, capabilities);
        self
    }

    pub fn build(self) -> ResourceTemplate {
        self.0
    }
}

fn add_unique(into: &mut Vec<Capability>, capabilities: impl IntoIterator<Item = Capability>) {
    for capability in capabilities {
        if !into.contains(&capability) {
            into.push(capability);
        }
    }
}

impl PromptAnswer {
    /// An answer of one user message.
    pub fn user(description: impl Into<String>, text: impl Into<String>) -> Self {
        PromptAnswer {
            description: description.into(),
            messages: vec![PromptMessage {
                role: Role::User,
                text: text.into(),
                attachment: None,
            }],
        }
    }

    /// The same answer with one more user message: `attachment` (an image, audio or an
    /// embedded resource) instead of text.
    pub fn then_attachment(mut self, attachment: crate::Attachment) -> Self {
        self.messages.push(PromptMessage {
            role: Role::User,
            text: String::new(),
            attachment: Some(attachment),
        });
        self
    }

    /// The same answer with one more user message of text.
    pub fn then_text(mut self, text: impl Into<String>) -> Self {
        self.messages.push(PromptMessage {
            role: Role::User,
            text: text.into(),
            attachment: None,
        });
        self
    }
}

impl ResourceContents {
    /// Text contents of the resource at `uri`.
    pub fn text(
        uri: impl Into<String>,
        mime_type: impl Into<String>,
        text: impl Into<String>,
    ) -> Self {
        ResourceContents {
            uri: uri.into(),
            mime_type: mime_type.into(),
            text: text.into(),
            blob: None,
        }
    }

    /// Binary contents of the resource at `uri` (sent to the client base64-encoded).
    pub fn blob(uri: impl Into<String>, mime_type: impl Into<String>, data: Vec<u8>) -> Self {
        ResourceContents {
            uri: uri.into(),
            mime_type: mime_type.into(),
            text: String::new(),
            blob: Some(data),
        }
    }
}

impl Completion {
    /// The values of `candidates` that start with `prefix` (case-insensitively), in
    /// order, at most [`MAX_COMPLETION_VALUES`], with the total and whether more matched.
    pub fn matching(candidates: impl IntoIterator<Item = String>, prefix: &str) -> Self {
        let prefix = prefix.to_lowercase();
        let matched: Vec<String> = candidates
            .into_iter()
            .filter(|value| value.to_lowercase().starts_with(&prefix))
            .collect();
        let total = matched.len();
        let values: Vec<String> = matched.into_iter().take(MAX_COMPLETION_VALUES).collect();
        Completion {
            has_more: total > values.len(),
            total: u32::try_from(total).ok(),
            values,
        }
    }

    /// No suggestions.
    pub fn none() -> Self {
        Completion {
            values: Vec::new(),
            total: Some(0),
            has_more: false,
        }
    }
}

/// The value of argument (or template variable) `name` among `pairs`.
pub fn argument<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completion_filters_by_prefix_and_caps_the_list() {
        let names = (0..150).map(|i| format!("web-{i}"));
        let completion = Completion::matching(names.chain(["db".to_string()]), "WEB");
        assert_eq!(completion.values.len(), MAX_COMPLETION_VALUES);
        assert_eq!(completion.total, Some(150));
        assert!(completion.has_more);
        let exact = Completion::matching(["db".to_string(), "web".to_string()], "d");
        assert_eq!(exact.values, vec!["db"]);
        assert!(!exact.has_more);
    }

    #[test]
    fn arguments_are_found_by_name() {
        let pairs = vec![("container".to_string(), "web".to_string())];
        assert_eq!(argument(&pairs, "container"), Some("web"));
        assert_eq!(argument(&pairs, "tail"), None);
    }
}
