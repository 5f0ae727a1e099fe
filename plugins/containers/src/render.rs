//! Shared pieces of every text rendering: one-line cleaning of engine-provided text,
//! short ids, quoted values, ports and sizes as `docker` prints them.

use bulkhead_plugin_sdk::docker::PortBinding;

/// Length of a short id, as `docker ps` shows it.
pub(crate) const SHORT_ID_LEN: usize = 12;

/// The first 12 characters of an id, without a `sha256:` prefix.
pub(crate) fn short_id(id: &str) -> String {
    let id = id.strip_prefix("sha256:").unwrap_or(id);
    id.chars().take(SHORT_ID_LEN).collect()
}

/// `text` on one line for a text rendering: control characters (newlines, escapes)
/// become spaces, so engine-provided strings cannot forge extra lines.
pub(crate) fn one_line(text: &str) -> String {
    text.chars()
        .map(|ch| if ch.is_control() { ' ' } else { ch })
        .collect()
}

/// `["a","b"]`: a command line on one line, quoted so its parts stay apart.
pub(crate) fn argv_text(argv: &[String]) -> String {
    serde_json::to_string(argv).unwrap_or_default()
}

/// `text` as a JSON string literal: quoted, escapes visible, on one line.
pub(crate) fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

/// `127.0.0.1:8080->80/tcp`, or `80/tcp` when the port is not published.
pub(crate) fn port_text(port: &PortBinding) -> String {
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
pub(crate) fn ports_text(ports: &[PortBinding]) -> String {
    if ports.is_empty() {
        return "-".to_owned();
    }
    ports.iter().map(port_text).collect::<Vec<_>>().join(", ")
}

/// `512 MiB`, `1.5 GiB`, `300 B`: sizes as a person reads them.
pub(crate) fn bytes_text(bytes: i64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value.abs() >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 || value.fract() == 0.0 {
        format!("{value:.0} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(host_ip: Option<&str>, host_port: Option<u16>) -> PortBinding {
        PortBinding {
            container_port: 80,
            protocol: "tcp".into(),
            host_ip: host_ip.map(str::to_owned),
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
        assert_eq!(port_text(&port(None, None)), "80/tcp");
        assert_eq!(ports_text(&[]), "-");
    }

    #[test]
    fn ids_lines_and_sizes() {
        assert_eq!(short_id("sha256:0123456789abcdef"), "0123456789ab");
        assert_eq!(short_id("abc"), "abc");
        assert_eq!(one_line("a\nb\u{1b}[31m"), "a b [31m");
        assert_eq!(quoted("a\"b"), "\"a\\\"b\"");
        assert_eq!(bytes_text(300), "300 B");
        assert_eq!(bytes_text(512 << 20), "512 MiB");
        assert_eq!(bytes_text(3 << 29), "1.5 GiB");
    }
}
