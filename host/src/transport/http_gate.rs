//! What every HTTP request passes before it reaches MCP: the endpoint path, the
//! caller's credentials, the caller's rate, and (for clients that use sessions) that a
//! session is used only by the principal that opened it. The request then carries its
//! [`Caller`] in its extensions, where the MCP adapter finds it. `Host` and `Origin`
//! are checked by rmcp's service behind this, against the allow-lists given to it.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use rmcp::transport::streamable_http_server::StreamableHttpService;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;

use crate::caller::Caller;
use crate::identity::Identity;
use crate::oauth::{self, OAuth};
use crate::rate_limit::RateLimiter;
use crate::tokens::TokenStore;
use crate::transport::mcp::McpServer;

/// The one path MCP is served on.
pub const MCP_PATH: &str = "/mcp";
/// Where OAuth protected-resource metadata is served (with or without `/mcp` after it).
const METADATA_PATH: &str = "/.well-known/oauth-protected-resource";
const SESSION_HEADER: &str = "mcp-session-id";
/// Sessions remembered at most; the oldest binding goes first beyond this. A forgotten
/// binding makes its session answer 404, and the client opens a new one.
const MAX_BOUND_SESSIONS: usize = 10_000;

pub type Body = BoxBody<Bytes, Infallible>;

/// How callers prove who they are.
pub enum Authentication {
    /// Nobody needs to: every request is the operator's (a loopback bind without
    /// credentials, as trusted as stdio).
    None(Caller),
    /// `Authorization: Bearer <token>` from the token file.
    Tokens(TokenStore),
    /// `Authorization: Bearer <JWT>` from an OAuth 2.1 authorization server.
    OAuth(OAuth),
    /// The credentials could not be reloaded: nobody gets in until they can (fail
    /// closed). Holds why.
    Unavailable(String),
}

/// Loads the credentials again (SIGHUP): what the files say now.
pub type Reload = Box<dyn Fn() -> anyhow::Result<Authentication> + Send + Sync>;

pub struct HttpGate {
    /// Swapped whole on reload; each request works with the one it started with.
    authentication: RwLock<Arc<Authentication>>,
    reload: Option<Reload>,
    limiter: RateLimiter,
    /// This server's session id, stamped with every caller's principal.
    server_session: String,
    mcp: StreamableHttpService<McpServer, LocalSessionManager>,
    /// MCP session id → the principal that opened it, in opening order.
    sessions: Mutex<SessionBindings>,
}

#[derive(Default)]
struct SessionBindings {
    owner: HashMap<String, String>,
    order: std::collections::VecDeque<String>,
}

impl HttpGate {
    pub fn new(
        authentication: Authentication,
        reload: Option<Reload>,
        limiter: RateLimiter,
        server_session: String,
        mcp: StreamableHttpService<McpServer, LocalSessionManager>,
    ) -> Self {
        HttpGate {
            authentication: RwLock::new(Arc::new(authentication)),
            reload,
            limiter,
            server_session,
            mcp,
            sessions: Mutex::new(SessionBindings::default()),
        }
    }

    pub async fn handle<B>(&self, mut request: Request<B>) -> Response<Body>
    where
        B: http_body::Body + Send + 'static,
        B::Data: Send + 'static,
        B::Error: std::fmt::Display,
    {
        let authentication = self.current();
        let path = request.uri().path();
        if let Authentication::OAuth(oauth) = authentication.as_ref()
            && path.starts_with(METADATA_PATH)
            && request.method() == Method::GET
        {
            return json(StatusCode::OK, &oauth.metadata());
        }
        if path != MCP_PATH {
            return plain(StatusCode::NOT_FOUND, "not found: MCP is served on /mcp");
        }
        let caller = match self.authenticate(&authentication, request.headers()) {
            Ok(caller) => caller,
            Err(refusal) => return refuse(&authentication, refusal),
        };
        if let Err(wait) = self
            .limiter
            .check(&caller.identity.principal, Instant::now())
        {
            let mut response = plain(
                StatusCode::TOO_MANY_REQUESTS,
                "too many requests for this principal; retry later",
            );
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
            return response;
        }
        let session = request
            .headers()
            .get(SESSION_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        if let Some(session) = &session
            && !self.bound_to(session, &caller.identity.principal)
        {
            // As if it did not exist: another principal's session is not to be probed.
            return plain(StatusCode::NOT_FOUND, "session not found");
        }
        let closing = request.method() == Method::DELETE;
        let principal = caller.identity.principal.clone();
        request.extensions_mut().insert(caller);
        let response = self.mcp.handle(request).await;
        match (&session, response.headers().get(SESSION_HEADER)) {
            (None, Some(opened)) => {
                if let Ok(opened) = opened.to_str() {
                    self.bind(opened, &principal);
                }
            }
            (Some(session), _) if closing || response.status() == StatusCode::NOT_FOUND => {
                self.unbind(session);
            }
            _ => {}
        }
        response
    }

    fn current(&self) -> Arc<Authentication> {
        match self.authentication.read() {
            Ok(current) => Arc::clone(&current),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Whether the credentials can be reloaded (the server was given files).
    pub fn reloads(&self) -> bool {
        self.reload.is_some()
    }

    /// Reads the credential files again. On failure nobody is let in until a reload
    /// succeeds: a token removed from a file that then fails to parse must not stay
    /// valid.
    pub fn reload(&self) {
        let Some(reload) = &self.reload else {
            return;
        };
        let next = match reload() {
            Ok(next) => {
                tracing::info!("credentials reloaded");
                next
            }
            Err(err) => {
                tracing::error!(
                    "credentials could not be reloaded; refusing every request until they can: {err:#}"
                );
                Authentication::Unavailable(format!("{err:#}"))
            }
        };
        match self.authentication.write() {
            Ok(mut current) => *current = Arc::new(next),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(next),
        }
    }

    /// The caller the request's credentials establish.
    fn authenticate(
        &self,
        authentication: &Authentication,
        headers: &http::HeaderMap,
    ) -> Result<Caller, Unauthenticated> {
        if let Authentication::None(operator) = authentication {
            return Ok(operator.clone());
        }
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| {
                let (scheme, token) = value.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .ok_or(NoCredentials)?;
        let (principal, tier) = match authentication {
            Authentication::None(_) => unreachable!("answered above"),
            Authentication::Unavailable(_) => return Err(BadCredentials),
            Authentication::Tokens(tokens) => {
                let entry = tokens.authenticate(presented).ok_or(BadCredentials)?;
                (entry.principal.clone(), entry.tier)
            }
            Authentication::OAuth(oauth) => match oauth.authenticate(presented) {
                Ok(subject) => (subject.principal, subject.tier),
                Err(oauth::Refusal::InvalidToken) => return Err(BadCredentials),
                Err(oauth::Refusal::InsufficientScope) => return Err(NoScope),
            },
        };
        Ok(Caller {
            identity: Arc::new(Identity {
                principal,
                session: self.server_session.clone(),
            }),
            tier,
        })
    }

    /// Whether `session` may be used by `principal`: opened by it, or not known here
    /// (then rmcp answers for it, normally 404).
    fn bound_to(&self, session: &str, principal: &str) -> bool {
        let bindings = lock(&self.sessions);
        bindings
            .owner
            .get(session)
            .is_none_or(|owner| owner == principal)
    }

    fn bind(&self, session: &str, principal: &str) {
        let mut bindings = lock(&self.sessions);
        if bindings.owner.len() >= MAX_BOUND_SESSIONS
            && let Some(oldest) = bindings.order.pop_front()
        {
            bindings.owner.remove(&oldest);
        }
        bindings
            .owner
            .insert(session.to_string(), principal.to_string());
        bindings.order.push_back(session.to_string());
    }

    fn unbind(&self, session: &str) {
        let mut bindings = lock(&self.sessions);
        if bindings.owner.remove(session).is_some() {
            bindings.order.retain(|s| s != session);
        }
    }
}

/// 401 (or 403 for a token without scope) with the challenge RFC 6750 asks for, naming
/// the protected-resource metadata under OAuth.
fn refuse(authentication: &Authentication, refusal: Unauthenticated) -> Response<Body> {
    let (status, error) = match refusal {
        NoCredentials => (StatusCode::UNAUTHORIZED, None),
        BadCredentials => (StatusCode::UNAUTHORIZED, Some("invalid_token")),
        NoScope => (StatusCode::FORBIDDEN, Some("insufficient_scope")),
    };
    let mut challenge = String::from("Bearer realm=\"bulkhead\"");
    if let Some(error) = error {
        challenge.push_str(&format!(", error=\"{error}\""));
    }
    if let Authentication::OAuth(oauth) = authentication {
        if refusal == NoScope {
            challenge.push_str(&format!(", scope=\"{}\"", oauth::SCOPES[0].0));
        }
        challenge.push_str(&format!(", resource_metadata=\"{}\"", oauth.metadata_url()));
    }
    let text = if status == StatusCode::FORBIDDEN {
        "forbidden: the token carries no bulkhead scope"
    } else {
        "unauthorized: send Authorization: Bearer <token>"
    };
    let mut response = plain(status, text);
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// Why a request has no caller.
#[derive(Debug, PartialEq, Eq)]
enum Unauthenticated {
    NoCredentials,
    BadCredentials,
    NoScope,
}
use Unauthenticated::{BadCredentials, NoCredentials, NoScope};

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

pub fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())).boxed());
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

fn json(status: StatusCode, value: &serde_json::Value) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(value.to_string())).boxed());
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
