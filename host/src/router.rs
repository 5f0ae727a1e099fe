//! Tool name → plugin, the safety gate, argument validation and answer checks. Knows
//! nothing of MCP: the transport adapter turns its answers into protocol messages.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use serde_json::{Map, Value};

use crate::access::Journal;
use crate::attachments::{self, Attachment};
use crate::audit::{AuditLog, CallRecord, argument_shape};
use crate::caller::Caller;
use crate::capabilities::{CapabilitySet, DerivedHints, derive_hints, effective_grant};
use crate::client_log::LogSink;
use crate::context_routes::ContextRoutes;
use crate::errors::{ErrorCode, ToolFailure};
use crate::policy::Policy;
use crate::progress::ProgressSink;
use crate::runtime::{CallContext, LoadedPlugin, Runtime, ToolSpec};
use crate::sanitize::{strip_controls, truncate_at_char};

/// At most this many schema violations are reported for one call.
const MAX_REPORTED_VIOLATIONS: usize = 5;
/// Arguments larger than this (as JSON text) are refused before validation: they would
/// only cost schema checking and plugin memory.
const MAX_ARGUMENT_BYTES: usize = 256 << 10;
/// A plugin's error message or hint is cut to this many bytes.
const MAX_ERROR_TEXT: usize = 2048;
/// A built-in tool's input or output up to this size (as JSON text) is checked on the
/// async worker itself once its schema is compiled: that takes microseconds, less than
/// handing it to the blocking pool, and a burst of calls would otherwise start a thread
/// (a stack and a malloc arena that stay resident) for each call in flight. A plugin
/// from disk writes its own schemas, and one made slow to check must not stall a worker.
const INLINE_CHECK_BYTES: usize = 16 << 10;

/// One tool as the router serves it.
pub struct RoutedTool {
    pub plugin: Arc<LoadedPlugin>,
    index: usize,
    pub hints: DerivedHints,
    /// What a call of this tool may use: declared ∩ the plugin's effective grant.
    allowed: CapabilitySet,
    /// Why the tool is hidden from `tools/list` and refused, if it is.
    refusal: Option<ToolFailure>,
}

impl RoutedTool {
    pub fn spec(&self) -> &ToolSpec {
        &self.plugin.manifest.tools[self.index]
    }

    pub fn is_listed(&self) -> bool {
        self.refusal.is_none()
    }

    /// Whether a small input or output can be checked on the async worker: the schemas
    /// are the host's own (built in) and already compiled.
    fn checks_quickly(&self) -> bool {
        self.plugin.builtin_grant.is_some() && self.spec().compiled()
    }

    /// What a call of this tool may use.
    pub fn allowed(&self) -> CapabilitySet {
        self.allowed
    }
}

/// A plugin that could not be served, and why.
#[derive(Debug, Clone)]
pub struct Refused {
    pub origin: String,
    pub reason: String,
}

/// Where a call's progress and its plugin's log lines go, when the client listens.
#[derive(Default, Clone)]
pub struct Listeners {
    pub progress: Option<Arc<dyn ProgressSink>>,
    pub log: Option<Arc<dyn LogSink>>,
    /// The client, when its session can carry requests (elicitation, sampling).
    pub client: Option<Arc<dyn crate::client_requests::ClientRequests>>,
}

/// The answer to a call of a known tool.
#[derive(Debug, Clone)]
pub enum Answer {
    Success {
        text: String,
        structured: Option<Value>,
        /// Images, audio and embedded resources after the text, checked.
        attachments: Vec<Attachment>,
    },
    Failure(ToolFailure),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RouteError {
    #[error("unknown tool `{0}`")]
    UnknownTool(String),
}

pub struct Router {
    runtime: Arc<Runtime>,
    audit: Option<Arc<AuditLog>>,
    tools: Vec<RoutedTool>,
    by_name: HashMap<String, usize>,
    /// Prompts, resource templates and their plugins.
    pub(crate) context: ContextRoutes,
    refused: Vec<Refused>,
}

impl Router {
    /// Applies the operator's settings for `plugin` (its scope, argument rules and
    /// limits) and makes it shareable: routers built on a reload keep serving the same
    /// plugin, its call slots included, when its file did not change.
    pub fn settle(plugin: LoadedPlugin, policy: &Policy) -> Arc<LoadedPlugin> {
        let settings = policy.settings_for(&plugin.manifest.name, plugin.profile.as_ref());
        Arc::new(plugin.with_settings(settings))
    }

    /// Registers plugins, settled by [`Router::settle`], in order (built-ins first). A
    /// plugin whose name or any tool name is already taken is refused whole: nothing may
    /// shadow a loaded tool.
    pub fn new(runtime: Arc<Runtime>, plugins: Vec<Arc<LoadedPlugin>>, policy: &Policy) -> Self {
        let mut router = Router {
            runtime,
            audit: None,
            tools: Vec::new(),
            by_name: HashMap::new(),
            context: ContextRoutes::default(),
            refused: Vec::new(),
        };
        let mut plugin_names: Vec<String> = Vec::new();
        for plugin in plugins {
            let name = plugin.manifest.name.clone();
            if !policy.plugin_allowed(&name) {
                router.refuse(
                    &plugin,
                    format!("the policy does not allow a plugin named `{name}` to load"),
                );
                continue;
            }
            if plugin_names.contains(&name) {
                router.refuse(
                    &plugin,
                    format!("a plugin named `{name}` is already loaded"),
                );
                continue;
            }
            if let Some(taken) = plugin
                .manifest
                .tools
                .iter()
                .find(|t| router.by_name.contains_key(&t.name))
            {
                router.refuse(
                    &plugin,
                    format!(
                        "tool `{}` is already provided by another plugin",
                        taken.name
                    ),
                );
                continue;
            }
            if let Some(reason) = router.context.conflict(&plugin) {
                router.refuse(&plugin, reason);
                continue;
            }
            let granted = policy.granted(&name, plugin.builtin_grant);
            let effective = effective_grant(
                plugin.requested,
                granted,
                policy.ceiling_for(&name, plugin.profile.as_ref()),
            );
            tracing::info!(plugin = %name, requested = %plugin.requested, granted = %granted, effective = %effective, scope = %plugin.settings.scope, "capabilities");
            router.context.register(&plugin, effective, policy);
            for (index, spec) in plugin.manifest.tools.iter().enumerate() {
                let refusal = tool_refusal(&plugin, spec, effective, policy);
                if let Some(reason) = &refusal {
                    tracing::info!(tool = %spec.name, "hidden: {}", reason.message);
                }
                router.by_name.insert(spec.name.clone(), router.tools.len());
                router.tools.push(RoutedTool {
                    plugin: Arc::clone(&plugin),
                    index,
                    hints: derive_hints(spec.declared),
                    allowed: spec.declared.intersect(effective),
                    refusal,
                });
            }
            plugin_names.push(name);
        }
        router
    }

    fn refuse(&mut self, plugin: &LoadedPlugin, reason: String) {
        tracing::error!(origin = %plugin.origin, "plugin refused: {reason}");
        self.refused.push(Refused {
            origin: plugin.origin.clone(),
            reason,
        });
    }

    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.runtime
    }

    /// Tools a client may see, in load order.
    pub fn listed(&self) -> impl Iterator<Item = &RoutedTool> {
        self.tools.iter().filter(|t| t.is_listed())
    }

    pub fn all_tools(&self) -> &[RoutedTool] {
        &self.tools
    }

    /// Writes one audit line per call to `log`.
    pub fn with_audit(mut self, log: Arc<AuditLog>) -> Self {
        self.audit = Some(log);
        self
    }

    /// Records plugins that failed before they reached the router.
    pub fn add_refused(&mut self, refused: Vec<Refused>) {
        self.refused.extend(refused);
    }

    pub fn refused(&self) -> &[Refused] {
        &self.refused
    }

    /// Gate, validate, run, check, for `caller`. Only an unknown tool is a
    /// protocol-level error; everything else is an answer the model can read and act
    /// on. Progress and the plugin's log lines go to `listeners` when the client listens.
    pub async fn call(
        &self,
        caller: &Caller,
        name: &str,
        arguments: Option<Map<String, Value>>,
        listeners: Listeners,
    ) -> Result<Answer, RouteError> {
        let tool = self
            .by_name
            .get(name)
            .map(|&i| &self.tools[i])
            .ok_or_else(|| RouteError::UnknownTool(name.to_string()))?;
        let started = Instant::now();
        let shape = self
            .audit
            .as_ref()
            .map(|_| argument_shape(arguments.as_ref().unwrap_or(&Map::new())));
        let journal = Journal::default();
        let answer = self
            .run(caller, tool, arguments, listeners, journal.clone())
            .await;
        let outcome = match &answer {
            Answer::Success { .. } => "ok",
            Answer::Failure(failure) => failure.code.as_str(),
        };
        self.record(
            caller,
            &tool.plugin,
            name,
            tool.allowed,
            outcome,
            started,
            shape,
            &journal,
        );
        Ok(answer)
    }

    /// One log line, and one audit record when auditing, for a finished call.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn record(
        &self,
        caller: &Caller,
        plugin: &LoadedPlugin,
        what: &str,
        allowed: CapabilitySet,
        outcome: &str,
        started: Instant,
        shape: Option<Value>,
        journal: &Journal,
    ) {
        let duration_ms = started.elapsed().as_millis() as u64;
        tracing::info!(
            target: "bulkhead::audit",
            principal = %caller.identity.principal,
            plugin = %plugin.manifest.name,
            tool = what,
            capabilities = %allowed,
            outcome,
            duration_ms,
            "tool call"
        );
        if let (Some(audit), Some(arguments)) = (&self.audit, shape) {
            audit.record(CallRecord {
                identity: &caller.identity,
                plugin: &plugin.manifest.name,
                plugin_version: &plugin.manifest.version,
                plugin_digest: &plugin.digest,
                tool: what,
                capabilities: allowed.to_string(),
                outcome,
                duration_ms,
                arguments,
                objects: journal.entries(),
            });
        }
    }

    /// Whether argument shapes are recorded (then callers compute them).
    pub(crate) fn audits(&self) -> bool {
        self.audit.is_some()
    }

    /// Runs `work` inside `plugin`'s call slot and before its deadline, which starts now:
    /// time spent waiting for a slot is part of the call. `what` names the call in the
    /// timeout message.
    pub(crate) async fn within_slot<T, Work>(
        &self,
        plugin: &LoadedPlugin,
        what: &str,
        work: impl FnOnce(tokio::time::Instant) -> Work,
    ) -> Result<T, ToolFailure>
    where
        Work: std::future::Future<Output = Result<T, ToolFailure>>,
    {
        let timeout = plugin.settings.limits.call_timeout;
        let deadline = tokio::time::Instant::now() + timeout;
        let _slot = plugin.slot(deadline).await?;
        match tokio::time::timeout_at(deadline, work(deadline)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(failure)) => Err(sanitize_failure(failure)),
            Err(_) => Err(ToolFailure::new(
                ErrorCode::Timeout,
                format!(
                    "{what} did not finish within {} s and was stopped",
                    timeout.as_secs_f32()
                ),
            )
            .with_hint(
                "A Docker request it started may still complete; check the state before retrying.",
            )),
        }
    }

    /// Gate, then — inside the plugin's call slot and deadline — validate the arguments,
    /// run the tool and check its answer. Checking runs on the blocking pool when it may
    /// be slow (a large input or output, or a schema still to compile): it must not stall
    /// the async workers.
    async fn run(
        &self,
        caller: &Caller,
        tool: &RoutedTool,
        arguments: Option<Map<String, Value>>,
        listeners: Listeners,
        journal: Journal,
    ) -> Answer {
        if let Some(refusal) = &tool.refusal {
            return Answer::Failure(refusal.clone());
        }
        if let Some(refusal) = tier_refusal(
            caller,
            &format!("tool `{}`", tool.spec().name),
            tool.allowed,
        ) {
            return Answer::Failure(refusal);
        }
        let arguments = Value::Object(arguments.unwrap_or_default());
        let serialized = arguments.to_string();
        if serialized.len() > MAX_ARGUMENT_BYTES {
            return Answer::Failure(
                ToolFailure::new(
                    ErrorCode::InvalidArgument,
                    format!(
                        "arguments are {} bytes, over the {MAX_ARGUMENT_BYTES}-byte limit",
                        serialized.len()
                    ),
                )
                .with_hint("No Docker tool needs that much input; send less."),
            );
        }
        let plugin = &tool.plugin;
        let what = format!("tool `{}`", tool.spec().name);
        let answer = self
            .within_slot(plugin, &what, |deadline| async move {
                let (checked, index) = (Arc::clone(plugin), tool.index);
                let quick = serialized.len() <= INLINE_CHECK_BYTES && tool.checks_quickly();
                checking(quick, move || {
                    validate_arguments(&checked.manifest.tools[index], &arguments)
                })
                .await??;
                let call = CallContext {
                    tool: tool.spec().name.clone(),
                    allowed: tool.allowed,
                    deadline,
                    journal,
                    progress: listeners.progress,
                    log: listeners.log,
                    client: listeners.client,
                    identity: Arc::clone(&caller.identity),
                };
                let output = self.runtime.call(plugin, call, serialized).await?;
                let (checked, index) = (Arc::clone(plugin), tool.index);
                let limit = plugin.settings.limits.output_bytes;
                let quick = output.attachments.is_empty()
                    && output.text_bytes() <= INLINE_CHECK_BYTES
                    && tool.checks_quickly();
                checking(quick, move || {
                    let spec = &checked.manifest.tools[index];
                    check_output(&checked.manifest.name, spec, output, limit)
                })
                .await
            })
            .await;
        answer.unwrap_or_else(Answer::Failure)
    }
}

/// Runs checking here when it is `quick`, else on the blocking pool.
async fn checking<T: Send + 'static>(
    quick: bool,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ToolFailure> {
    if quick {
        return Ok(work());
    }
    tokio::task::spawn_blocking(work).await.map_err(|err| {
        ToolFailure::new(
            ErrorCode::PluginFault,
            format!("checking the call failed: {err}"),
        )
    })
}

/// Why `caller` may not use something that uses `allowed` (named by `what`), if it may
/// not: it is above the tier the caller's credentials allow.
pub(crate) fn tier_refusal(
    caller: &Caller,
    what: &str,
    allowed: CapabilitySet,
) -> Option<ToolFailure> {
    if caller.may_use(allowed) {
        return None;
    }
    let needed = allowed
        .max_tier()
        .map_or("read", crate::policy_file::tier_name);
    Some(
        ToolFailure::new(
            ErrorCode::PolicyDenied,
            format!(
                "{what} is a {needed} operation; `{}` may use {} operations only",
                caller.identity.principal,
                crate::policy_file::tier_name(caller.tier)
            ),
        )
        .with_hint("Ask the operator for a token with a wider scope."),
    )
}

/// Why a tool must be hidden, if it must.
fn tool_refusal(
    loaded: &LoadedPlugin,
    spec: &ToolSpec,
    effective: CapabilitySet,
    policy: &Policy,
) -> Option<ToolFailure> {
    if let Some(reason) = policy.tool_refusal(&spec.name) {
        return Some(
            ToolFailure::new(
                ErrorCode::PolicyDenied,
                format!("tool `{}` is unavailable: {reason}", spec.name),
            )
            .with_hint("Only the operator's policy file can change this."),
        );
    }
    capability_refusal(
        loaded,
        &format!("tool `{}`", spec.name),
        spec.declared,
        effective,
        policy,
    )
}

/// Why something that declares `declared` (a tool, prompt or resource template, named
/// by `what`) must be hidden, if it must: not all of it is in the effective grant.
pub(crate) fn capability_refusal(
    loaded: &LoadedPlugin,
    what: &str,
    declared: CapabilitySet,
    effective: CapabilitySet,
    policy: &Policy,
) -> Option<ToolFailure> {
    let plugin = loaded.manifest.name.as_str();
    let requested = loaded.requested;
    let missing = declared.difference(effective);
    if missing.is_empty() {
        return None;
    }
    if let Some(reason) = policy.ceiling_refusal(plugin, loaded.profile.as_ref(), missing) {
        let hint = if policy.read_only {
            "Restart the server without --read-only to use it."
        } else {
            "Restart the server with --allow-destructive to use it."
        };
        return Some(
            ToolFailure::new(
                ErrorCode::PolicyDenied,
                format!("{what} is unavailable: {reason}"),
            )
            .with_hint(hint),
        );
    }
    let unrequested = missing.difference(requested);
    if !unrequested.is_empty() {
        return Some(ToolFailure::new(
            ErrorCode::PermissionDenied,
            format!("{what} declares {unrequested}, which plugin `{plugin}` does not import"),
        ));
    }
    Some(
        ToolFailure::new(
            ErrorCode::PermissionDenied,
            format!("{what} needs {missing}, which plugin `{plugin}` is not granted"),
        )
        .with_hint(format!(
            "The operator can grant it: --grant {plugin}={}",
            declared
                .iter()
                .map(|c| c.name())
                .collect::<Vec<_>>()
                .join(",")
        )),
    )
}

/// A schema that passed at load but does not compile now (see `ToolSpec::input_validator`):
/// the plugin's fault, and its calls fail rather than go unchecked.
fn uncompilable(spec: &ToolSpec, which: &str, reason: &str) -> ToolFailure {
    ToolFailure::new(
        ErrorCode::PluginFault,
        format!(
            "tool `{}` has an {which} schema the host cannot compile: {reason}",
            spec.name
        ),
    )
}

fn validate_arguments(spec: &ToolSpec, arguments: &Value) -> Result<(), ToolFailure> {
    let validator = spec
        .input_validator()
        .map_err(|reason| uncompilable(spec, "input", &reason))?;
    let violations: Vec<String> = validator
        .iter_errors(arguments)
        .take(MAX_REPORTED_VIOLATIONS)
        .map(|error| {
            let path = error.instance_path().to_string();
            let place = if path.is_empty() {
                "arguments".to_string()
            } else {
                format!("`{path}`")
            };
            truncate_at_char(&format!("{place}: {error}"), 300).to_string()
        })
        .collect();
    if violations.is_empty() {
        return Ok(());
    }
    Err(ToolFailure::new(
        ErrorCode::InvalidArgument,
        format!(
            "arguments do not match the schema of `{}`: {}",
            spec.name,
            violations.join("; ")
        ),
    )
    .with_hint("Check the tool's input schema in tools/list."))
}

fn check_output(
    plugin: &str,
    spec: &ToolSpec,
    output: crate::runtime::PluginOutput,
    limit: usize,
) -> Answer {
    let text_bytes = output.text_bytes();
    let attachments = match attachments::checked(output.attachments) {
        Ok(attachments) => attachments,
        Err(reason) => {
            return Answer::Failure(ToolFailure::new(
                ErrorCode::PluginFault,
                format!("plugin `{plugin}` answered an attachment the host refuses: {reason}"),
            ));
        }
    };
    let size = text_bytes + attachments.iter().map(Attachment::size).sum::<usize>();
    if size > limit {
        return Answer::Failure(ToolFailure::new(
            ErrorCode::PluginFault,
            format!("plugin `{plugin}` answered {size} bytes, over the {limit}-byte output limit; nothing was returned"),
        ).with_hint("Ask for less: a smaller page, a shorter log tail or a tighter filter."));
    }
    let structured = match output
        .structured
        .as_deref()
        .map(serde_json::from_str::<Value>)
    {
        None => None,
        Some(Ok(value)) => Some(value),
        Some(Err(err)) => {
            return Answer::Failure(ToolFailure::new(
                ErrorCode::PluginFault,
                format!("plugin `{plugin}` answered malformed JSON: {err}"),
            ));
        }
    };
    if let Some(validator) = spec.output_validator() {
        let validator = match validator {
            Ok(validator) => validator,
            Err(reason) => return Answer::Failure(uncompilable(spec, "output", &reason)),
        };
        let Some(value) = &structured else {
            return Answer::Failure(ToolFailure::new(
                ErrorCode::PluginFault,
                format!(
                    "tool `{}` declares an output schema but returned no structured content",
                    spec.name
                ),
            ));
        };
        if let Some(error) = validator.iter_errors(value).next() {
            return Answer::Failure(ToolFailure::new(
                ErrorCode::PluginFault,
                format!(
                    "tool `{}` returned output that breaks its own schema at `{}`: {error}",
                    spec.name,
                    error.instance_path()
                ),
            ));
        }
    }
    Answer::Success {
        text: strip_controls(&output.text),
        structured,
        attachments,
    }
}

pub(crate) fn sanitize_failure(mut failure: ToolFailure) -> ToolFailure {
    failure.message =
        truncate_at_char(&strip_controls(&failure.message), MAX_ERROR_TEXT).to_string();
    failure.hint = failure
        .hint
        .map(|hint| truncate_at_char(&strip_controls(&hint), MAX_ERROR_TEXT).to_string());
    failure
}
