//! Prompts, resources and completions through a real MCP client, against real
//! containers: the diagnostics plugin's evidence, its `docker://` resources, and a
//! third-party plugin (the probe) served next to it in its own namespace.

use bulkhead_testkit::{
    Cleanup, Server, ServerOptions, TEST_IMAGE, docker, probe_plugin_dir, unique_name,
};
use rmcp::ServiceError;
use rmcp::model::{
    CompletionInfo, GetPromptRequestParams, GetPromptResult, ReadResourceRequestParams,
    ResourceContents,
};
use serde_json::{Value, json};

use crate::start;

const PROMPTS: [&str; 5] = [
    "troubleshoot_container",
    "optimize_container",
    "generate_compose",
    "debug_networking",
    "security_audit",
];

const TEMPLATES: [&str; 4] = [
    "docker://containers/{id}/logs",
    "docker://containers/{id}/stats",
    "docker://containers/{id}/inspect",
    "docker://images/{id}/inspect",
];

async fn get_prompt(
    server: &Server,
    name: &str,
    arguments: Value,
) -> Result<GetPromptResult, ServiceError> {
    let mut request = GetPromptRequestParams::new(name);
    request.arguments = arguments.as_object().cloned();
    server.client().get_prompt(request).await
}

/// The text of every message of a prompt answer, joined.
fn prompt_text(result: &GetPromptResult) -> String {
    result
        .messages
        .iter()
        .map(|message| {
            serde_json::to_value(&message.content).unwrap()["text"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

async fn read(server: &Server, uri: &str) -> Result<(String, String), ServiceError> {
    let result = server
        .client()
        .read_resource(ReadResourceRequestParams::new(uri))
        .await?;
    match result.contents.into_iter().next() {
        Some(ResourceContents::TextResourceContents {
            text, mime_type, ..
        }) => Ok((text, mime_type.unwrap_or_default())),
        other => panic!("{uri}: expected one text content, got {other:?}"),
    }
}

/// The JSON-RPC code and the `DKR-nnn` code in `data`, of a failed request.
fn codes(error: &ServiceError) -> (i32, String) {
    let ServiceError::McpError(data) = error else {
        panic!("expected an MCP error, got {error}");
    };
    let dkr = data
        .data
        .as_ref()
        .and_then(|d| d["code"].as_str())
        .unwrap_or_default()
        .to_string();
    (data.code.0, dkr)
}

async fn complete_container(server: &Server, prefix: &str) -> CompletionInfo {
    server
        .client()
        .complete_prompt_argument("troubleshoot_container", "container", prefix, None)
        .await
        .expect("completion answers")
}

#[tokio::test]
async fn five_prompts_templates_and_capabilities_are_listed() {
    let server = start(ServerOptions::default()).await;
    let info = server.client().peer_info().expect("initialized").clone();
    let capabilities = serde_json::to_value(&info.capabilities).unwrap();
    for feature in ["prompts", "resources", "completions"] {
        assert!(
            capabilities.get(feature).is_some(),
            "{feature} in {capabilities}"
        );
    }
    let prompts = server.client().list_all_prompts().await.unwrap();
    let mut names: Vec<&str> = prompts.iter().map(|p| p.name.as_str()).collect();
    names.sort();
    let mut expected = PROMPTS.to_vec();
    expected.sort();
    assert_eq!(names, expected);
    let templates = server.client().list_all_resource_templates().await.unwrap();
    let uris: Vec<&str> = templates.iter().map(|t| t.uri_template.as_str()).collect();
    for template in TEMPLATES {
        assert!(uris.contains(&template), "{template} in {uris:?}");
    }
    let resources = server.client().list_all_resources().await.unwrap();
    assert!(
        resources.iter().any(|r| r.uri == "docker://system/info"),
        "{resources:?}"
    );
}

#[tokio::test]
async fn troubleshooting_a_failed_container_shows_its_exit_code_and_failing_line() {
    let mut cleanup = Cleanup::default();
    let name = cleanup.container(&unique_name("diag-fail"));
    docker(&[
        "run",
        "--name",
        &name,
        TEST_IMAGE,
        "sh",
        "-c",
        "echo booting; echo 'FATAL: cannot open /etc/app.conf' >&2; exit 3",
    ])
    .ok();
    let server = start(ServerOptions::default()).await;
    let answer = get_prompt(
        &server,
        "troubleshoot_container",
        json!({"container": name}),
    )
    .await
    .expect("the prompt answers");
    let text = prompt_text(&answer);
    assert!(text.contains("exit code 3"), "{text}");
    assert!(text.contains("FATAL: cannot open /etc/app.conf"), "{text}");
    assert!(!text.contains('\u{1b}'), "escapes are stripped");

    // Bad input: an unknown container, a missing argument, an unknown prompt.
    let missing = get_prompt(
        &server,
        "troubleshoot_container",
        json!({"container": unique_name("nope")}),
    )
    .await
    .unwrap_err();
    assert_eq!(codes(&missing).1, "DKR-002");
    let no_argument = get_prompt(&server, "troubleshoot_container", json!({}))
        .await
        .unwrap_err();
    assert_eq!(codes(&no_argument), (-32602, "DKR-004".to_string()));
    let unknown = get_prompt(&server, "no_such_prompt", json!({}))
        .await
        .unwrap_err();
    assert_eq!(codes(&unknown).0, -32602);
}

#[tokio::test]
async fn security_audit_maps_findings_to_cis_items() {
    let mut cleanup = Cleanup::default();
    let exposed = cleanup.container(&unique_name("diag-root"));
    let port = privileged_free_port();
    docker(&[
        "run",
        "-d",
        "--name",
        &exposed,
        "-p",
        &format!("0.0.0.0:{port}:80"),
        TEST_IMAGE,
        "sleep",
        "300",
    ])
    .unwrap();
    let hardened = cleanup.container(&unique_name("diag-hard"));
    docker(&[
        "run",
        "-d",
        "--name",
        &hardened,
        "--user",
        "1000:1000",
        "--memory",
        "64m",
        "--cpus",
        "0.5",
        "--pids-limit",
        "64",
        "--read-only",
        "--cap-drop",
        "ALL",
        "--security-opt",
        "no-new-privileges",
        TEST_IMAGE,
        "sleep",
        "300",
    ])
    .unwrap();
    let server = start(ServerOptions::default()).await;
    let audit = prompt_text(
        &get_prompt(&server, "security_audit", json!({"container": exposed}))
            .await
            .unwrap(),
    );
    for item in ["CIS 4.1", "CIS 5.7", "CIS 5.10", "CIS 5.13", "CIS 5.28"] {
        assert!(audit.contains(item), "{item} missing from:\n{audit}");
    }
    let clean = prompt_text(
        &get_prompt(&server, "security_audit", json!({"container": hardened}))
            .await
            .unwrap(),
    );
    for item in [
        "CIS 4.1", "CIS 5.7", "CIS 5.10", "CIS 5.12", "CIS 5.13", "CIS 5.25", "CIS 5.28",
    ] {
        assert!(!clean.contains(item), "{item} should not be in:\n{clean}");
    }
}

/// A host port below 1024 that nothing listens on now (the tests run as root).
fn privileged_free_port() -> u16 {
    (900..1024)
        .find(|port| std::net::TcpListener::bind(("0.0.0.0", *port)).is_ok())
        .expect("a free port below 1024")
}

#[tokio::test]
async fn generated_compose_is_accepted_by_compose_plan() {
    let mut cleanup = Cleanup::default();
    let name = cleanup.container(&unique_name("diag-gen"));
    docker(&[
        "run",
        "-d",
        "--name",
        &name,
        "-e",
        "MODE=demo",
        "-e",
        "API_TOKEN=hunter2",
        "--memory",
        "64m",
        "--label",
        "team=diag",
        TEST_IMAGE,
        "sleep",
        "300",
    ])
    .unwrap();
    let server = start(ServerOptions::default()).await;
    let answer = get_prompt(&server, "generate_compose", json!({"containers": name}))
        .await
        .unwrap();
    let text = prompt_text(&answer);
    assert!(!text.contains("hunter2"), "a secret leaked:\n{text}");
    let yaml = text
        .split("```yaml\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .unwrap_or_else(|| panic!("no yaml block in:\n{text}"));
    let plan = server
        .call(
            "compose_plan",
            json!({"project": unique_name("diag-plan"), "yaml": yaml, "env": {"API_TOKEN": "x"}}),
        )
        .await;
    assert!(!plan.is_error(), "{}\n{yaml}", plan.text());
    let none = get_prompt(&server, "generate_compose", json!({}))
        .await
        .unwrap_err();
    assert_eq!(codes(&none).1, "DKR-004");
}

#[tokio::test]
async fn resources_read_back_real_logs_stats_and_inspections_and_names_complete() {
    let mut cleanup = Cleanup::default();
    let (name, id) = cleanup.detached_shell(
        "diag-res",
        "echo resource-line-one; echo resource-line-two; sleep 300",
    );
    let server = start(ServerOptions::default()).await;

    let (logs, mime) = read(&server, &format!("docker://containers/{name}/logs"))
        .await
        .unwrap();
    assert_eq!(mime, "text/plain");
    assert!(logs.contains("resource-line-two"), "{logs}");
    let (stats, mime) = read(&server, &format!("docker://containers/{name}/stats"))
        .await
        .unwrap();
    assert_eq!(mime, "application/json");
    assert!(
        serde_json::from_str::<Value>(&stats).unwrap().is_object(),
        "{stats}"
    );
    let (inspect, _) = read(
        &server,
        &format!("docker://containers/{}/inspect", &id[..12]),
    )
    .await
    .unwrap();
    let inspect: Value = serde_json::from_str(&inspect).unwrap();
    assert_eq!(inspect["id"], json!(id));
    // A reference with `/` travels percent-encoded in its one segment.
    let encoded = TEST_IMAGE.replace('/', "%2F");
    let (image, _) = read(&server, &format!("docker://images/{encoded}/inspect"))
        .await
        .unwrap();
    assert!(
        serde_json::from_str::<Value>(&image).unwrap().is_object(),
        "{image}"
    );
    let (info, _) = read(&server, "docker://system/info").await.unwrap();
    assert!(serde_json::from_str::<Value>(&info).unwrap().is_object());

    let listed = server.client().list_all_resources().await.unwrap();
    let ours = format!("docker://containers/{}/logs", &id[..12]);
    let by_name = format!("docker://containers/{name}/logs");
    assert!(
        listed.iter().any(|r| r.uri == ours || r.uri == by_name),
        "{ours} or {by_name} in the list"
    );

    let unknown = read(
        &server,
        &format!("docker://containers/{}/logs", unique_name("nope")),
    )
    .await
    .unwrap_err();
    assert_eq!(codes(&unknown).1, "DKR-002");
    let nowhere = read(&server, "nowhere://x").await.unwrap_err();
    assert_eq!(codes(&nowhere).0, -32002);

    let completion = complete_container(&server, &name[..name.len() - 2]).await;
    assert!(completion.values.contains(&name), "{completion:?}");
    let by_id = server
        .client()
        .complete_resource_argument("docker://containers/{id}/logs", "id", &id[..6], None)
        .await
        .unwrap();
    assert!(
        by_id.values.iter().any(|v| id.starts_with(v.as_str())),
        "{by_id:?}"
    );
}

#[tokio::test]
async fn a_third_party_plugin_serves_its_own_prompt_and_resource_beside_the_builtins() {
    let mut cleanup = Cleanup::default();
    let name = cleanup.container(&unique_name("diag-probe"));
    let dir = probe_plugin_dir().unwrap();
    let server = start(
        ServerOptions::default()
            .arg("--plugin-dir")
            .arg(dir.path().display().to_string())
            .arg("--grant")
            .arg("probe=containers-read"),
    )
    .await;
    // A plugin from disk reaches only what its principal created (scope owned).
    let created = server
        .call(
            "docker_create_container",
            json!({"image": TEST_IMAGE, "name": name}),
        )
        .await;
    assert!(!created.is_error(), "{}", created.text());
    let prompts = server.client().list_all_prompts().await.unwrap();
    let names: Vec<&str> = prompts.iter().map(|p| p.name.as_str()).collect();
    assert!(
        names.contains(&"probe_state") && names.contains(&"troubleshoot_container"),
        "{names:?}"
    );
    assert!(
        !names.contains(&"probe_ungranted"),
        "an ungranted prompt is hidden: {names:?}"
    );

    let state = prompt_text(
        &get_prompt(&server, "probe_state", json!({"container": name}))
            .await
            .unwrap(),
    );
    assert!(state.contains("is created"), "{state}");
    assert!(
        !state.contains('\u{1b}'),
        "the host strips escapes: {state:?}"
    );
    // containers-remove is above the server's tier ceiling (no --allow-destructive).
    let hidden = get_prompt(&server, "probe_ungranted", json!({}))
        .await
        .unwrap_err();
    assert_eq!(codes(&hidden).1, "DKR-008");

    let listed = server.client().list_all_resources().await.unwrap();
    assert!(
        listed.iter().any(|r| r.uri == "probe://echo/hello"),
        "{listed:?}"
    );
    let infos = listed
        .iter()
        .filter(|r| r.uri == "docker://system/info")
        .count();
    assert_eq!(infos, 1, "the probe cannot list a docker:// resource");
    let (echo, _) = read(&server, "probe://echo/abc").await.unwrap();
    assert_eq!(echo, "echo: abc");
    let (info, _) = read(&server, "docker://system/info").await.unwrap();
    assert!(
        serde_json::from_str::<Value>(&info).is_ok(),
        "diagnostics answers docker://"
    );
    let completion = server
        .client()
        .complete_resource_argument("probe://echo/{text}", "text", "al", None)
        .await
        .unwrap();
    assert_eq!(completion.values, vec!["alpha", "alps"]);
}

#[tokio::test]
// `resources/subscribe` is how clients before the 2026-07-28 revision watch a resource;
// rmcp marks it legacy.
#[allow(deprecated)]
async fn a_subscribed_resource_that_changes_is_notified_until_unsubscribed() {
    use rmcp::model::{SubscribeRequestParams, UnsubscribeRequestParams};
    let mut cleanup = Cleanup::default();
    let name = cleanup.chatty_container("watched");
    let server = start(ServerOptions::default()).await;
    let uri = format!("docker://containers/{name}/logs");
    server
        .client()
        .subscribe(SubscribeRequestParams::new(uri.clone()))
        .await
        .expect("subscribing to a readable resource succeeds");
    // The logs grow every second; the host reads them again every 5 s.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    while !server.updated_resources().contains(&uri) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no update for {uri}; stderr:\n{}",
            server.stderr()
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    server
        .client()
        .unsubscribe(UnsubscribeRequestParams::new(uri.clone()))
        .await
        .unwrap();

    // What cannot be read cannot be subscribed to, and says why as a read would.
    let refused = server
        .client()
        .subscribe(SubscribeRequestParams::new(
            "docker://containers/no-such-container-x/logs",
        ))
        .await
        .unwrap_err();
    assert_eq!(codes(&refused).1, "DKR-002");
}
