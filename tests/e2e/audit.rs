//! The audit trail of a real session: one line per call, secrets redacted, and
//! `bulkhead audit verify` that holds on the written file and fails after an edit.

use bulkhead_testkit::ServerOptions;
use serde_json::json;

use crate::start;

fn verify(file: &std::path::Path) -> std::process::Output {
    std::process::Command::new(crate::binary())
        .args(["audit", "verify"])
        .arg(file)
        .output()
        .unwrap()
}

#[tokio::test]
async fn audit_log_records_calls_and_detects_edits() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("audit.jsonl");
    let server = start(
        ServerOptions::default()
            .arg("--audit-log")
            .arg(file.display().to_string()),
    )
    .await;
    server
        .call("docker_list_containers", json!({"limit": 1}))
        .await
        .ok();
    server
        .call(
            "docker_create_container",
            json!({"image": "no-such-image-for-audit:never", "env": {"API_TOKEN": "hunter2"}}),
        )
        .await
        .expect_error("DKR-003");
    server.stop().await.unwrap();

    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(lines[0]["tool"], json!("docker_list_containers"));
    assert_eq!(lines[0]["outcome"], json!("ok"));
    assert_eq!(lines[1]["outcome"], json!("DKR-003"));
    assert_eq!(
        lines[1]["arguments"]["env"]["API_TOKEN"],
        json!("<redacted>")
    );
    assert!(!text.contains("hunter2"), "{text}");
    assert!(
        lines[0]["principal"]
            .as_str()
            .unwrap()
            .starts_with("local:"),
        "{text}"
    );
    assert_eq!(lines[0]["session"], lines[1]["session"]);

    let verified = verify(&file);
    assert!(verified.status.success(), "{verified:?}");

    std::fs::write(
        &file,
        text.replace("\"outcome\":\"DKR-003\"", "\"outcome\":\"ok\""),
    )
    .unwrap();
    let tampered = verify(&file);
    assert!(!tampered.status.success(), "{tampered:?}");
    assert!(String::from_utf8_lossy(&tampered.stderr).contains("line 2"));
}
