//! Fake host primitives for a plugin's native unit tests: run a tool with `cargo test`,
//! no host and no Docker engine, against answers the test gives.
//!
//! Inside the host the functions of [`crate::docker`], [`crate::log`] and
//! [`crate::progress`] are component imports. Built natively they route here instead:
//! a Docker primitive answers with the fake the running test installed for it (and
//! panics, naming it, when there is none), and log lines and progress reports are
//! recorded for the test to read.
//!
//! ```
//! use bulkhead_plugin_sdk::docker::{ContainerPage, ListFilter, PageRequest, containers_read};
//! use bulkhead_plugin_sdk::fake::Fakes;
//!
//! let fakes = Fakes::new()
//!     .on("containers_read::list_containers", |(_filter, _page): (ListFilter, PageRequest)| {
//!         Ok(ContainerPage { items: vec![], total: 3, next_cursor: None })
//!     })
//!     .install();
//! // What a tool would do:
//! let page = containers_read::list_containers(&ListFilter::default(), &PageRequest::default());
//! assert_eq!(page.unwrap().total, 3);
//! assert_eq!(fakes.calls(), ["containers_read::list_containers"]);
//! ```
//!
//! The client's side of [`crate::client`] is faked the same way, with
//! [`Fakes::on_client`] (`"client::elicit"`, `"client::sample"`).
//!
//! A fake is named by the function's Rust path below [`crate::docker`]
//! (`module::function`); it receives the call's arguments as a tuple in WIT order, owned
//! (`String` for a `&str`, `Vec<T>` for a `&[T]`), and answers the function's own result.
//! Fakes are per thread, as Rust runs each test on its own thread; [`Installed`] removes
//! them when dropped.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::bindings::bulkhead::plugin::log::Level;
use crate::bindings::bulkhead::plugin::types::DockerError;
use crate::client::ClientError;

/// A fake as stored: JSON arguments in, JSON answer (or the interface's error) out.
type Handler<E> = Box<dyn Fn(Value) -> Result<Value, E>>;
type Handlers<E> = HashMap<String, Handler<E>>;

/// What a test records: the primitives called, log lines, progress reports.
#[derive(Default)]
struct Record {
    calls: Vec<String>,
    logs: Vec<(Level, String)>,
    progress: Vec<(u64, Option<u64>, String)>,
}

struct State {
    handlers: Handlers<DockerError>,
    client_handlers: Handlers<ClientError>,
    record: RefCell<Record>,
}

thread_local! {
    static INSTALLED: RefCell<Option<Rc<State>>> = const { RefCell::new(None) };
}

/// Fakes being gathered; [`Fakes::install`] puts them in place for this thread.
#[derive(Default)]
pub struct Fakes {
    handlers: Handlers<DockerError>,
    client_handlers: Handlers<ClientError>,
}

impl Fakes {
    pub fn new() -> Self {
        Fakes::default()
    }

    /// Answers calls of `function` (`"containers_read::list_containers"`) with `fake`,
    /// which takes the arguments as a tuple and returns the primitive's result.
    pub fn on<A, R>(
        mut self,
        function: &str,
        fake: impl Fn(A) -> Result<R, DockerError> + 'static,
    ) -> Self
    where
        A: DeserializeOwned,
        R: Serialize,
    {
        self.handlers
            .insert(function.to_owned(), stored(function, fake));
        self
    }

    /// Answers the client's side of `function` (`"client::elicit"`, `"client::sample"`)
    /// with `fake`: what the person or the client's model would answer.
    pub fn on_client<A, R>(
        mut self,
        function: &str,
        fake: impl Fn(A) -> Result<R, ClientError> + 'static,
    ) -> Self
    where
        A: DeserializeOwned,
        R: Serialize,
    {
        self.client_handlers
            .insert(function.to_owned(), stored(function, fake));
        self
    }

    /// Puts the fakes in place for this thread until the returned value is dropped.
    pub fn install(self) -> Installed {
        let state = Rc::new(State {
            handlers: self.handlers,
            client_handlers: self.client_handlers,
            record: RefCell::default(),
        });
        INSTALLED.with(|installed| *installed.borrow_mut() = Some(Rc::clone(&state)));
        Installed { state }
    }
}

/// Fakes in place for this thread; read what the code under test did through it.
pub struct Installed {
    state: Rc<State>,
}

impl Installed {
    /// The primitives called so far, in order (`"containers_read::list_containers"`).
    pub fn calls(&self) -> Vec<String> {
        self.state.record.borrow().calls.clone()
    }

    /// The log lines written so far.
    pub fn logs(&self) -> Vec<(Level, String)> {
        self.state.record.borrow().logs.clone()
    }

    /// The progress reports so far: progress, total, message.
    pub fn progress(&self) -> Vec<(u64, Option<u64>, String)> {
        self.state.record.borrow().progress.clone()
    }
}

impl Drop for Installed {
    fn drop(&mut self) {
        INSTALLED.with(|installed| {
            let mut installed = installed.borrow_mut();
            if installed
                .as_ref()
                .is_some_and(|current| Rc::ptr_eq(current, &self.state))
            {
                *installed = None;
            }
        });
    }
}

fn installed() -> Option<Rc<State>> {
    INSTALLED.with(|installed| installed.borrow().clone())
}

/// `fake` as stored: it reads its arguments from JSON and writes its answer to JSON.
fn stored<A, R, E>(function: &str, fake: impl Fn(A) -> Result<R, E> + 'static) -> Handler<E>
where
    A: DeserializeOwned,
    R: Serialize,
{
    let name = function.to_owned();
    Box::new(move |arguments: Value| {
        let arguments = serde_json::from_value(arguments).unwrap_or_else(|err| {
            panic!("the fake for `{name}` takes other arguments than the call passes: {err}")
        });
        fake(arguments)
            .map(|answer| serde_json::to_value(answer).expect("a fake's answer serialises"))
    })
}

/// Runs the fake for `function` among `handlers` of the installed state.
#[cfg_attr(target_arch = "wasm32", allow(dead_code))]
fn dispatch<A: Serialize, T: DeserializeOwned, E>(
    function: &str,
    arguments: &A,
    handlers: impl Fn(&State) -> &Handlers<E>,
    how: &str,
) -> Result<T, E> {
    let state = installed().unwrap_or_else(|| {
        panic!(
            "`{function}` reaches the host, which a native test does not have: install a fake with bulkhead_plugin_sdk::fake::Fakes"
        )
    });
    state.record.borrow_mut().calls.push(function.to_owned());
    let handler = handlers(&state).get(function).unwrap_or_else(|| {
        panic!("no fake for `{function}`: add one with Fakes::{how}(\"{function}\", …)")
    });
    let arguments = serde_json::to_value(arguments).expect("the arguments serialise");
    handler(arguments).map(|answer| {
        serde_json::from_value(answer).unwrap_or_else(|err| {
            panic!(
                "the fake for `{function}` answers another type than the function returns: {err}"
            )
        })
    })
}

/// A Docker primitive called natively: the installed fake's answer.
#[cfg_attr(target_arch = "wasm32", allow(dead_code))]
pub(crate) fn call<A: Serialize, T: DeserializeOwned>(
    function: &str,
    arguments: &A,
) -> Result<T, DockerError> {
    dispatch(function, arguments, |state| &state.handlers, "on")
}

/// A request to the MCP client made natively: the installed fake's answer (its error
/// is the client's).
#[cfg_attr(target_arch = "wasm32", allow(dead_code))]
pub(crate) fn call_client<A: Serialize, T: DeserializeOwned>(
    function: &str,
    arguments: &A,
) -> Result<T, ClientError> {
    dispatch(
        function,
        arguments,
        |state| &state.client_handlers,
        "on_client",
    )
}

/// A log line written natively: recorded when fakes are installed, else dropped.
#[cfg_attr(target_arch = "wasm32", allow(dead_code))]
pub(crate) fn log(level: Level, message: &str) {
    if let Some(state) = installed() {
        state
            .record
            .borrow_mut()
            .logs
            .push((level, message.to_owned()));
    }
}

/// A progress report made natively: recorded when fakes are installed, else dropped.
#[cfg_attr(target_arch = "wasm32", allow(dead_code))]
pub(crate) fn progress(progress: u64, total: Option<u64>, message: &str) {
    if let Some(state) = installed() {
        state
            .record
            .borrow_mut()
            .progress
            .push((progress, total, message.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::{
        ContainerPage, ListFilter, PageRequest, containers_manage, containers_read,
    };
    use crate::{ErrorCode, ToolError};

    fn page(total: u32) -> ContainerPage {
        ContainerPage {
            items: vec![],
            total,
            next_cursor: None,
        }
    }

    #[test]
    fn a_fake_answers_with_the_arguments_it_was_called_with() {
        let fakes = Fakes::new()
            .on(
                "containers_read::list_containers",
                |(filter, page_request): (ListFilter, PageRequest)| {
                    Ok(page(if filter.all { page_request.limit } else { 0 }))
                },
            )
            .on(
                "containers_manage::stop_container",
                |(target, timeout): (String, Option<u32>)| match (target.as_str(), timeout) {
                    ("web", Some(5)) => Ok(()),
                    _ => Err(DockerError::NotFound(format!("no container {target}"))),
                },
            )
            .install();
        let filter = ListFilter {
            all: true,
            ..ListFilter::default()
        };
        let request = PageRequest {
            limit: 7,
            cursor: None,
        };
        assert_eq!(
            containers_read::list_containers(&filter, &request)
                .unwrap()
                .total,
            7
        );
        assert!(containers_manage::stop_container("web", Some(5)).is_ok());
        // The error maps to a tool error as it would in the host.
        let err: ToolError = containers_manage::stop_container("db", None)
            .unwrap_err()
            .into();
        assert_eq!(err.code, ErrorCode::NotFound);
        assert_eq!(
            fakes.calls(),
            [
                "containers_read::list_containers",
                "containers_manage::stop_container",
                "containers_manage::stop_container"
            ]
        );
    }

    #[test]
    fn log_lines_and_progress_are_recorded() {
        let fakes = Fakes::new().install();
        crate::log::info("hello");
        crate::progress::report(1, Some(2), "half");
        assert_eq!(fakes.logs(), [(Level::Info, "hello".to_owned())]);
        assert_eq!(fakes.progress(), [(1, Some(2), "half".to_owned())]);
        drop(fakes);
        // Without fakes, lines go nowhere rather than abort the test.
        crate::log::info("dropped");
    }

    #[test]
    #[should_panic(expected = "no fake for `containers_read::inspect_container`")]
    fn a_call_without_its_fake_names_it() {
        let _fakes = Fakes::new().install();
        let _ = containers_read::inspect_container("web");
    }
}

#[cfg(test)]
mod client_tests {
    use super::*;
    use crate::client::{self, ClientError, ElicitAction, ElicitAnswer, SamplingAnswer};

    #[test]
    fn the_clients_side_is_faked_too() {
        let fakes = Fakes::new()
            .on_client("client::elicit", |(message, schema): (String, String)| {
                assert!(schema.contains("\"username\""));
                Ok(ElicitAnswer {
                    action: ElicitAction::Accept,
                    content: Some(format!("{{\"echo\":\"{message}\"}}")),
                })
            })
            .on_client("client::sample", |_: (client::SamplingRequest,)| {
                Err::<SamplingAnswer, _>(ClientError::Unsupported("no sampling".into()))
            })
            .install();
        let answer = client::elicit(
            "hi",
            &serde_json::json!({"type": "object", "properties": {"username": {"type": "string"}}}),
        )
        .unwrap();
        assert_eq!(answer.content.as_deref(), Some(r#"{"echo":"hi"}"#));
        assert!(matches!(
            client::sample(&client::ask("hello", 10)),
            Err(ClientError::Unsupported(_))
        ));
        assert_eq!(fakes.calls(), ["client::elicit", "client::sample"]);
    }
}
