//! The protocol surface, spoken raw over stdio: version negotiation for older clients,
//! stdout carrying nothing but JSON-RPC, a clean exit when stdin closes, and the
//! compiled-plugin cache across starts.

use std::process::Stdio;
use std::time::Duration;

use bulkhead_testkit::ServerOptions;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use crate::{binary, shared_cache, start};

struct RawSession {
    child: Child,
    stdin: ChildStdin,
    stdout: tokio::io::Lines<BufReader<ChildStdout>>,
}

impl RawSession {
    fn spawn() -> RawSession {
        RawSession::spawn_with(&[])
    }

    /// `serve` with `args` besides the shared cache.
    fn spawn_with(args: &[&str]) -> RawSession {
        let mut child = Command::new(binary())
            .args(["serve", "--cache-dir"])
            .arg(shared_cache())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        RawSession {
            child,
            stdin,
            stdout,
        }
    }

    async fn send(&mut self, message: Value) {
        let mut line = message.to_string();
        line.push('\n');
        self.stdin.write_all(line.as_bytes()).await.unwrap();
    }

    /// The next stdout line, which must be a JSON-RPC message.
    async fn receive(&mut self) -> Value {
        let line = tokio::time::timeout(Duration::from_secs(60), self.stdout.next_line())
            .await
            .expect("server answers")
            .unwrap()
            .expect("stdout open");
        let message: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("stdout carried non-JSON {line:?}: {e}"));
        assert_eq!(message["jsonrpc"], json!("2.0"), "{message}");
        message
    }
}

async fn handshake(version: &str) -> RawSession {
    handshake_with(version, json!({}), RawSession::spawn()).await
}

/// The initialize handshake at `version`, declaring `capabilities`, on `session`.
async fn handshake_with(version: &str, capabilities: Value, mut session: RawSession) -> RawSession {
    session
        .send(
            json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "protocolVersion": version,
                "capabilities": capabilities,
                "clientInfo": {"name": "raw-test", "version": "0"}
            }}),
        )
        .await;
    let answer = session.receive().await;
    assert_eq!(answer["id"], json!(1));
    assert_eq!(
        answer["result"]["protocolVersion"],
        json!(version),
        "{answer}"
    );
    assert_eq!(answer["result"]["serverInfo"]["name"], json!("bulkhead"));
    assert!(
        answer["result"]["capabilities"]["tools"].is_object(),
        "{answer}"
    );
    session
        .send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        .await;
    session
}

#[tokio::test]
async fn older_clients_negotiate_their_version_and_stdin_close_exits_cleanly() {
    for version in ["2025-06-18", "2025-11-25"] {
        let mut session = handshake(version).await;
        session
            .send(json!({"jsonrpc": "2.0", "id": 2, "method": "ping"}))
            .await;
        let pong = session.receive().await;
        assert_eq!(pong["id"], json!(2));
        assert!(pong["result"].is_object(), "{pong}");

        session
            .send(json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list"}))
            .await;
        let tools = session.receive().await;
        let names: Vec<&str> = tools["result"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert!(names.contains(&"docker_list_containers"), "{names:?}");

        session.send(json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "nope", "arguments": {}}})).await;
        let unknown = session.receive().await;
        assert_eq!(unknown["error"]["code"], json!(-32602), "{unknown}");

        drop(session.stdin);
        let status = tokio::time::timeout(Duration::from_secs(30), session.child.wait())
            .await
            .expect("exits")
            .unwrap();
        assert!(status.success(), "{version}: exit status {status}");
        assert!(
            session.stdout.next_line().await.unwrap().is_none(),
            "nothing after the last answer"
        );
    }
}

#[tokio::test]
async fn second_start_loads_compiled_plugins_from_the_cache() {
    let cache = tempfile::tempdir().unwrap();
    let first = start(ServerOptions::default().cache_dir(cache.path())).await;
    first.tools().await.unwrap();
    assert!(
        first.stderr().contains("cache=Stored"),
        "{}",
        first.stderr()
    );
    first.stop().await.unwrap();

    let second = start(ServerOptions::default().cache_dir(cache.path())).await;
    second.tools().await.unwrap();
    assert!(second.stderr().contains("cache=Hit"), "{}", second.stderr());
    // Warm, no plugin's code is mapped until it is called.
    assert!(
        second.stderr().contains("linked=false") && !second.stderr().contains("linked=true"),
        "{}",
        second.stderr()
    );
    let answer = second.call("docker_list_containers", json!({})).await;
    assert!(!answer.is_error(), "{}", answer.text());
    assert!(
        second.stderr().contains("compiled=false elapsed_ms"),
        "{}",
        second.stderr()
    );
    second.stop().await.unwrap();
}

#[tokio::test]
async fn an_artifact_damaged_after_a_warm_start_is_compiled_again_on_the_first_call() {
    let cache = tempfile::tempdir().unwrap();
    let first = start(ServerOptions::default().cache_dir(cache.path())).await;
    first.tools().await.unwrap();
    first.stop().await.unwrap();

    let second = start(ServerOptions::default().cache_dir(cache.path())).await;
    // Damaged in place, so the very file the start checked is the one that went bad.
    for entry in walk(cache.path()) {
        if entry.extension().is_some_and(|ext| ext == "cwasm") {
            std::fs::write(&entry, b"damaged").unwrap();
        }
    }
    let answer = second.call("docker_list_containers", json!({})).await;
    assert!(!answer.is_error(), "{}", answer.text());
    assert!(
        second.stderr().contains("compiled=true"),
        "{}",
        second.stderr()
    );
    // The same session keeps serving from the code it compiled.
    let again = second.call("docker_list_containers", json!({})).await;
    assert!(!again.is_error(), "{}", again.text());
    second.stop().await.unwrap();
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[tokio::test]
async fn every_list_answers_one_page_and_refuses_a_cursor_it_did_not_hand_out() {
    use rmcp::model::PaginatedRequestParams;
    let server = start(ServerOptions::default()).await;
    let client = server.client();
    let tools = client.list_tools(None).await.unwrap();
    assert!(tools.next_cursor.is_none() && !tools.tools.is_empty());
    let prompts = client.list_prompts(None).await.unwrap();
    assert!(prompts.next_cursor.is_none() && !prompts.prompts.is_empty());
    let bogus = || Some(PaginatedRequestParams::default().with_cursor(Some("p999".into())));
    let refused = client.list_tools(bogus()).await.unwrap_err().to_string();
    assert!(
        refused.contains("-32602") || refused.contains("cursor"),
        "{refused}"
    );
    assert!(client.list_prompts(bogus()).await.is_err());
    assert!(client.list_resource_templates(bogus()).await.is_err());
    // The server still serves.
    assert!(!client.list_tools(None).await.unwrap().tools.is_empty());
}

/// The next message that is not a notification.
async fn next_request_or_response(session: &mut RawSession) -> Value {
    loop {
        let message = session.receive().await;
        if message.get("id").is_some() {
            return message;
        }
    }
}

#[tokio::test]
async fn a_plugin_asks_the_person_and_the_model_through_the_client() {
    let plugins =
        bulkhead_testkit::plugin_dir(bulkhead_testkit::CONFORMANCE_WASM, "test.wasm").unwrap();
    let dir = plugins.path().display().to_string();
    let spawn = || {
        RawSession::spawn_with(&[
            "--no-default-plugins",
            "--plugin-dir",
            &dir,
            "--call-timeout",
            "3",
        ])
    };
    let call = |id: u64, tool: &str, arguments: Value| json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": tool, "arguments": arguments}});
    let mut session = handshake_with(
        "2025-11-25",
        json!({"elicitation": {}, "sampling": {}}),
        spawn(),
    )
    .await;

    // Elicitation: the person sees which plugin asks, and the answer reaches the tool.
    session
        .send(call(
            2,
            "test_elicitation",
            json!({"message": "Who are you?"}),
        ))
        .await;
    let ask = next_request_or_response(&mut session).await;
    assert_eq!(ask["method"], "elicitation/create", "{ask}");
    assert_eq!(ask["params"]["message"], "[test] Who are you?", "{ask}");
    assert_eq!(
        ask["params"]["requestedSchema"]["required"],
        json!(["username", "email"])
    );
    session
        .send(json!({"jsonrpc": "2.0", "id": ask["id"], "result": {
            "action": "accept", "content": {"username": "ada", "email": "ada@example.com"}}}))
        .await;
    let answer = next_request_or_response(&mut session).await;
    let text = answer["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(
        text.contains("action=accept") && text.contains("ada@example.com"),
        "{answer}"
    );

    // Sampling: the model's text comes back.
    session
        .send(call(3, "test_sampling", json!({"prompt": "Say hi"})))
        .await;
    let ask = next_request_or_response(&mut session).await;
    assert_eq!(ask["method"], "sampling/createMessage", "{ask}");
    assert_eq!(ask["params"]["maxTokens"], 100);
    session
        .send(json!({"jsonrpc": "2.0", "id": ask["id"], "result": {
            "role": "assistant", "content": {"type": "text", "text": "hi there"},
            "model": "test-model", "stopReason": "endTurn"}}))
        .await;
    let answer = next_request_or_response(&mut session).await;
    assert_eq!(
        answer["result"]["content"][0]["text"], "LLM response: hi there",
        "{answer}"
    );

    // A client that never answers: the call ends at its deadline, and says so.
    session
        .send(call(
            4,
            "test_elicitation",
            json!({"message": "Still there?"}),
        ))
        .await;
    let ask = next_request_or_response(&mut session).await;
    assert_eq!(ask["method"], "elicitation/create", "{ask}");
    let answer = next_request_or_response(&mut session).await;
    assert_eq!(answer["id"], 4, "{answer}");
    assert_eq!(answer["result"]["isError"], true, "{answer}");
    assert_eq!(
        answer["result"]["_meta"]["bulkhead/error"]["code"], "DKR-009",
        "{answer}"
    );

    // A client that declared neither capability is never asked.
    let mut session = handshake_with("2025-11-25", json!({}), spawn()).await;
    session
        .send(call(2, "test_sampling", json!({"prompt": "Say hi"})))
        .await;
    let answer = next_request_or_response(&mut session).await;
    assert_eq!(
        answer["id"], 2,
        "the server sent a request instead: {answer}"
    );
    assert_eq!(answer["result"]["isError"], true, "{answer}");
    assert_eq!(
        answer["result"]["_meta"]["bulkhead/error"]["code"], "DKR-004",
        "{answer}"
    );
}
