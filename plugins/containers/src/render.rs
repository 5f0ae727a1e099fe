//! Shared pieces of every answer: one-line cleaning of engine-provided text, short ids,
//! published ports and label maps as the structured output carries them, and the JSON
//! Schema fragments that describe them.

use std::collections::BTreeMap;

use bulkhead_plugin_sdk::docker::{KeyValue, PortBinding};
use bulkhead_plugin_sdk::{Value, json};
use serde::Serialize;

use crate::redact;

/// Length of a short container id, as `docker ps` shows it.
pub(crate) const SHORT_ID_LEN: usize = 12;

/// The first 12 characters of a container id.
pub(crate) fn short_id(id: &str) -> String {
    id.chars().take(SHORT_ID_LEN).collect()
}

/// `text` on one line for a text rendering: control characters (newlines, escapes)
/// become spaces, so engine-provided strings cannot forge extra lines.
pub(crate) fn one_line(text: &str) -> String {
    text.chars()
        .map(|ch| if ch.is_control() { ' ' } else { ch })
        .collect()
}

/// A published port in structured output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct PortOut {
    pub container_port: u16,
    pub protocol: String,
    pub host_ip: Option<String>,
    pub host_port: Option<u16>,
}

impl From<PortBinding> for PortOut {
    fn from(port: PortBinding) -> Self {
        PortOut {
            container_port: port.container_port,
            protocol: port.protocol,
            host_ip: port.host_ip,
            host_port: port.host_port,
        }
    }
}

/// `127.0.0.1:8080->80/tcp`, or `80/tcp` when the port is not published.
pub(crate) fn port_text(port: &PortOut) -> String {
    let target = format!("{}/{}", port.container_port, one_line(&port.protocol));
    match (&port.host_ip, port.host_port) {
        (Some(ip), Some(host_port)) if ip.contains(':') => {
            format!("[{}]:{host_port}->{target}", one_line(ip))
        }
        (Some(ip), Some(host_port)) => format!("{}:{host_port}->{target}", one_line(ip)),
        (None, Some(host_port)) => format!("{host_port}->{target}"),
        (_, None) => target,
    }
}

/// Ports joined for a text line; `-` when there are none.
pub(crate) fn ports_text(ports: &[PortOut]) -> String {
    if ports.is_empty() {
        return "-".to_owned();
    }
    ports.iter().map(port_text).collect::<Vec<_>>().join(", ")
}

/// Labels as a JSON object, secret-looking values redacted.
pub(crate) fn label_map(labels: Vec<KeyValue>) -> BTreeMap<String, String> {
    labels
        .into_iter()
        .map(|KeyValue { key, value }| {
            let value = redact::value_for_key(&key, &value);
            (key, value)
        })
        .collect()
}

/// `"a", "b"` → `["a","b"]`: a command line on one line, quoted so its parts stay apart.
pub(crate) fn argv_text(argv: &[String]) -> String {
    serde_json::to_string(argv).unwrap_or_default()
}

/// `text` as a JSON string literal: quoted, escapes visible, on one line.
pub(crate) fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

/// JSON Schema of [`PortOut`].
pub(crate) fn port_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "container_port": {
                "type": "integer",
                "minimum": 0,
                "maximum": 65535,
                "description": "Port inside the container."
            },
            "protocol": {"type": "string", "description": "tcp, udp or sctp."},
            "host_ip": {
                "type": ["string", "null"],
                "description": "Host address the port is bound to, if published."
            },
            "host_port": {
                "type": ["integer", "null"],
                "minimum": 0,
                "maximum": 65535,
                "description": "Host port, if published."
            }
        },
        "required": ["container_port", "protocol", "host_ip", "host_port"],
        "additionalProperties": false
    })
}

/// JSON Schema of a label map.
pub(crate) fn labels_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": {"type": "string"},
        "description": "Labels; values of secret-looking keys are replaced by <redacted>."
    })
}

/// JSON Schema of `{container: <ref>, <flag>: true}`, the answer of a state change.
pub(crate) fn acknowledgement_schema(flag: &str, flag_description: &str) -> Value {
    json!({
        "type": "object",
        "properties": {
            "container": {"type": "string", "description": "The container as named in the call."},
            flag: {"type": "boolean", "const": true, "description": flag_description}
        },
        "required": ["container", flag],
        "additionalProperties": false
    })
}

/// JSON Schema of the `container` argument every single-container tool takes.
pub(crate) fn container_arg_schema() -> Value {
    json!({
        "type": "string",
        "minLength": 1,
        "description": "Container name, full id or unique id prefix, as docker_list_containers shows them."
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(host_ip: Option<&str>, host_port: Option<u16>) -> PortOut {
        PortOut {
            container_port: 80,
            protocol: "tcp".into(),
            host_ip: host_ip.map(Into::into),
            host_port,
        }
    }

    #[test]
    fn ports_read_like_docker_ps() {
        assert_eq!(
            port_text(&port(Some("127.0.0.1"), Some(8080))),
            "127.0.0.1:8080->80/tcp"
        );
        assert_eq!(
            port_text(&port(Some("::1"), Some(8080))),
            "[::1]:8080->80/tcp"
        );
        assert_eq!(port_text(&port(None, Some(8080))), "8080->80/tcp");
        assert_eq!(port_text(&port(None, None)), "80/tcp");
        assert_eq!(ports_text(&[]), "-");
        assert_eq!(
            ports_text(&[port(None, None), port(None, Some(1))]),
            "80/tcp, 1->80/tcp"
        );
    }

    #[test]
    fn ids_and_lines() {
        assert_eq!(short_id("0123456789abcdef0123"), "0123456789ab");
        assert_eq!(short_id("abc"), "abc");
        assert_eq!(one_line("a\nb\r\u{1b}[2Jc\td"), "a b  [2Jc d");
        assert_eq!(quoted("a\"b\nc"), r#""a\"b\nc""#);
        assert_eq!(
            argv_text(&["sh".into(), "-c".into(), "echo \"hi\"\nrm".into()]),
            r#"["sh","-c","echo \"hi\"\nrm"]"#
        );
    }

    #[test]
    fn labels_become_a_redacted_map() {
        let labels = vec![
            KeyValue {
                key: "app".into(),
                value: "web".into(),
            },
            KeyValue {
                key: "traefik.http.middlewares.a.basicauth.users".into(),
                value: "u:$apr1$x".into(),
            },
        ];
        let map = label_map(labels);
        assert_eq!(map["app"], "web");
        assert_eq!(
            map["traefik.http.middlewares.a.basicauth.users"],
            redact::REDACTED
        );
    }
}
