//! Content beside an answer's text (WIT `attachment`): images, audio and embedded
//! resources from a plugin, checked before they reach a client. A MIME type must be a
//! plain `type/subtype` of the right kind; an embedded resource's URI must be one line;
//! its text is stripped of terminal escapes like every other text; and the bytes count
//! against the call's output limit. Anything else is the plugin's fault (`DKR-010`).

use crate::bindings::tools::{Attachment as WitAttachment, EmbeddedResource, Media};
use crate::sanitize::strip_controls;

/// Most attachments one answer may carry.
pub const MAX_ATTACHMENTS: usize = 16;
/// Longest URI of an embedded resource.
const MAX_URI_BYTES: usize = 2048;

/// A checked attachment.
#[derive(Debug, Clone, PartialEq)]
pub enum Attachment {
    Image {
        mime_type: String,
        data: Vec<u8>,
    },
    Audio {
        mime_type: String,
        data: Vec<u8>,
    },
    Embedded {
        uri: String,
        mime_type: String,
        body: Body,
    },
}

/// An embedded resource's contents.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Text(String),
    Blob(Vec<u8>),
}

impl Attachment {
    /// Checks what a plugin sent.
    pub fn from_wit(attachment: WitAttachment) -> Result<Attachment, String> {
        match attachment {
            WitAttachment::Image(Media { mime_type, data }) => Ok(Attachment::Image {
                mime_type: mime_of_kind(&mime_type, "image")?,
                data,
            }),
            WitAttachment::Audio(Media { mime_type, data }) => Ok(Attachment::Audio {
                mime_type: mime_of_kind(&mime_type, "audio")?,
                data,
            }),
            WitAttachment::Embedded(EmbeddedResource {
                uri,
                mime_type,
                text,
                blob,
            }) => Ok(Attachment::Embedded {
                uri: checked_uri(&uri)?,
                mime_type: mime(&mime_type)?,
                body: body(text, blob)?,
            }),
        }
    }

    /// Bytes it adds to an answer.
    pub fn size(&self) -> usize {
        match self {
            Attachment::Image { data, .. } | Attachment::Audio { data, .. } => data.len(),
            Attachment::Embedded { uri, body, .. } => {
                uri.len()
                    + match body {
                        Body::Text(text) => text.len(),
                        Body::Blob(blob) => blob.len(),
                    }
            }
        }
    }
}

/// Checks a list of attachments: how many, and each.
pub fn checked(attachments: Vec<WitAttachment>) -> Result<Vec<Attachment>, String> {
    if attachments.len() > MAX_ATTACHMENTS {
        return Err(format!(
            "{} attachments, over the limit of {MAX_ATTACHMENTS}",
            attachments.len()
        ));
    }
    attachments.into_iter().map(Attachment::from_wit).collect()
}

/// A resource's body: text, or bytes when `blob` is set (then the text must be empty).
pub fn body(text: String, blob: Option<Vec<u8>>) -> Result<Body, String> {
    match blob {
        None => Ok(Body::Text(strip_controls(&text))),
        Some(_) if !text.is_empty() => {
            Err("a resource carries both text and a blob; send one".into())
        }
        Some(blob) => Ok(Body::Blob(blob)),
    }
}

fn mime_of_kind(mime_type: &str, kind: &str) -> Result<String, String> {
    let checked = mime(mime_type)?;
    if checked.split('/').next() == Some(kind) {
        Ok(checked)
    } else {
        Err(format!("`{checked}` is not an {kind} type"))
    }
}

/// `type/subtype`, each an RFC 6838 restricted name, lowercased; no parameters.
fn mime(mime_type: &str) -> Result<String, String> {
    let token = |part: &str| {
        !part.is_empty()
            && part.len() <= 127
            && part.starts_with(|c: char| c.is_ascii_alphanumeric())
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$&-^_.+".contains(c))
    };
    match mime_type.split_once('/') {
        Some((kind, sub)) if token(kind) && token(sub) => Ok(mime_type.to_ascii_lowercase()),
        _ => Err(format!(
            "`{}` is not a MIME type",
            crate::sanitize::one_line(mime_type, 80)
        )),
    }
}

fn checked_uri(uri: &str) -> Result<String, String> {
    let valid = !uri.is_empty()
        && uri.len() <= MAX_URI_BYTES
        && uri.contains(':')
        && !uri.chars().any(|c| c.is_control() || c.is_whitespace());
    if valid {
        Ok(uri.to_string())
    } else {
        Err(format!(
            "`{}` is not a resource URI",
            crate::sanitize::one_line(uri, 80)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn media(mime_type: &str) -> Media {
        Media {
            mime_type: mime_type.into(),
            data: vec![1, 2, 3],
        }
    }

    #[test]
    fn media_of_the_right_kind_passes_and_counts_its_bytes() {
        let image = Attachment::from_wit(WitAttachment::Image(media("image/PNG"))).unwrap();
        assert_eq!(
            image,
            Attachment::Image {
                mime_type: "image/png".into(),
                data: vec![1, 2, 3]
            }
        );
        assert_eq!(image.size(), 3);
        assert!(Attachment::from_wit(WitAttachment::Audio(media("audio/wav"))).is_ok());
    }

    #[test]
    fn wrong_kinds_bad_types_uris_and_mixed_bodies_are_refused() {
        for bad in [
            WitAttachment::Image(media("audio/wav")),
            WitAttachment::Audio(media("image/png")),
            WitAttachment::Image(media("image/png; charset=x")),
            WitAttachment::Image(media("text/html\r\nX-Evil: 1")),
            WitAttachment::Image(media("png")),
            WitAttachment::Embedded(EmbeddedResource {
                uri: "no scheme here".into(),
                mime_type: "text/plain".into(),
                text: "x".into(),
                blob: None,
            }),
            WitAttachment::Embedded(EmbeddedResource {
                uri: "test://both".into(),
                mime_type: "text/plain".into(),
                text: "x".into(),
                blob: Some(vec![1]),
            }),
        ] {
            assert!(Attachment::from_wit(bad.clone()).is_err(), "{bad:?}");
        }
        let many = vec![WitAttachment::Image(media("image/png")); MAX_ATTACHMENTS + 1];
        assert!(checked(many).is_err());
    }

    #[test]
    fn embedded_text_loses_its_escapes() {
        let embedded = Attachment::from_wit(WitAttachment::Embedded(EmbeddedResource {
            uri: "test://r".into(),
            mime_type: "text/plain".into(),
            text: "\u{1b}[31mred".into(),
            blob: None,
        }))
        .unwrap();
        let Attachment::Embedded { body, .. } = embedded else {
            unreachable!()
        };
        assert_eq!(body, Body::Text("red".into()));
    }
}
