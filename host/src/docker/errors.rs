//! Engine errors as typed `docker-error` values the guest can act on.

use bollard::errors::Error;

use crate::argument_policy::PolicyError;
use crate::bindings::DockerError;

impl From<PolicyError> for DockerError {
    /// A malformed argument is `invalid`; a refusal by the operator's rules is `denied`,
    /// and its text names the rule and the flag that loosens it.
    fn from(err: PolicyError) -> Self {
        match err {
            PolicyError::Invalid(text) => DockerError::Invalid(text),
            PolicyError::Refused(refusal) => DockerError::Denied(refusal.to_string()),
        }
    }
}

/// Engine messages are short, but a hostile or broken engine could send anything.
const MAX_MESSAGE: usize = 512;

pub fn map_error(err: Error) -> DockerError {
    match err {
        Error::DockerResponseServerError {
            status_code,
            message,
        } => {
            let message = crate::sanitize::one_line(&message, MAX_MESSAGE);
            classify_status(status_code, message)
        }
        Error::RequestTimeoutError => {
            DockerError::Timeout("the engine did not answer in time".into())
        }
        Error::IOError { .. }
        | Error::HyperResponseError { .. }
        | Error::HttpClientError { .. }
        | Error::SocketNotFoundError(_)
        | Error::HyperLegacyError { .. } => DockerError::Unavailable(format!(
            "cannot reach the Docker engine: {}",
            crate::sanitize::one_line(&err.to_string(), MAX_MESSAGE)
        )),
        other => DockerError::Engine(crate::sanitize::one_line(&other.to_string(), MAX_MESSAGE)),
    }
}

fn classify_status(status: u16, message: String) -> DockerError {
    let lower = message.to_ascii_lowercase();
    match status {
        404 if lower.contains("no such image")
            || lower.contains("image") && lower.contains("not found") =>
        {
            DockerError::ImageNotFound(message)
        }
        404 => DockerError::NotFound(message),
        400 => DockerError::Invalid(message),
        409 => DockerError::Conflict(message),
        403 => DockerError::Denied(format!("the engine refused: {message}")),
        _ if lower.contains("port is already allocated")
            || lower.contains("address already in use") =>
        {
            DockerError::PortInUse(message)
        }
        _ => DockerError::Engine(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(status_code: u16, message: &str) -> Error {
        Error::DockerResponseServerError {
            status_code,
            message: message.into(),
        }
    }

    #[test]
    fn classifies_engine_answers() {
        let cases = [
            (404, "No such container: web", "not-found"),
            (404, "No such image: nope:latest", "image-not-found"),
            (
                409,
                "Conflict. The container name \"/web\" is already in use",
                "conflict",
            ),
            (400, "invalid reference format", "invalid"),
            (
                500,
                "driver failed programming external connectivity: Bind for 127.0.0.1:8080 failed: port is already allocated",
                "port-in-use",
            ),
            (500, "something else broke", "engine"),
            (403, "operation not permitted", "denied"),
        ];
        for (status, message, expected) in cases {
            let kind = match map_error(server(status, message)) {
                DockerError::NotFound(_) => "not-found",
                DockerError::ImageNotFound(_) => "image-not-found",
                DockerError::Conflict(_) => "conflict",
                DockerError::Invalid(_) => "invalid",
                DockerError::PortInUse(_) => "port-in-use",
                DockerError::Engine(_) => "engine",
                DockerError::Denied(_) => "denied",
                other => panic!("unexpected {other:?}"),
            };
            assert_eq!(kind, expected, "{status} {message}");
        }
    }

    #[test]
    fn strips_control_characters_from_engine_messages() {
        match map_error(server(404, "No such container: \u{1b}[31mweb\nINJECTED")) {
            DockerError::NotFound(text) => assert_eq!(text, "No such container: web INJECTED"),
            other => panic!("unexpected {other:?}"),
        }
    }
}
