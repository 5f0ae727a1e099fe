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
        let mut child = Command::new(binary())
            .args(["serve", "--cache-dir"])
            .arg(shared_cache())
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
    let mut session = RawSession::spawn();
    session
        .send(
            json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "protocolVersion": version,
                "capabilities": {},
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
    second.stop().await.unwrap();
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
