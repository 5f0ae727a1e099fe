//! The compose plugin against the real engine and Debian's `docker-compose` (1.29), an
//! independent Compose implementation: stacks deployed here are real Compose stacks to
//! it, and its stacks are visible here.

use std::path::Path;

use bulkhead_testkit::{Cleanup, Server, ServerOptions, docker, unique_name};
use serde_json::{Value, json};

use crate::start;

/// A web service (busybox httpd with a healthcheck, serving a named volume) and a client
/// that waits for it to be healthy and fetches its page.
fn stack(client_greeting: &str) -> String {
    format!(
        r#"services:
  web:
    image: bulkhead-test/busybox
    command: ["sh", "-c", "echo hello-from-web > /www/index.html && exec busybox httpd -f -p 8080 -h /www"]
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"]
      interval: 1s
      timeout: 2s
      retries: 20
    volumes:
      - data:/www
  client:
    image: bulkhead-test/busybox
    command: ["sh", "-c", "echo {client_greeting}; wget -q -O - http://web:8080/; exec sleep 3600"]
    depends_on:
      web:
        condition: service_healthy
volumes:
  data: {{}}
"#
    )
}

/// A project name Docker accepts, unique to this test run.
fn project_name(prefix: &str) -> String {
    unique_name(prefix).replace("bulkhead-test-", "bht-")
}

/// Removes what a project left behind, whatever the test got to.
struct ProjectCleanup {
    project: String,
    _objects: Cleanup,
}

impl ProjectCleanup {
    fn new(project: &str) -> Self {
        ProjectCleanup {
            project: project.to_string(),
            _objects: Cleanup::default(),
        }
    }
}

impl Drop for ProjectCleanup {
    fn drop(&mut self) {
        let label = format!("label=com.docker.compose.project={}", self.project);
        if let Ok(ids) = docker(&["ps", "-aq", "--filter", &label]) {
            for id in ids.split_whitespace() {
                let _ = docker(&["rm", "-f", id]);
            }
        }
        for kind in ["network", "volume"] {
            if let Ok(names) = docker(&[kind, "ls", "-q", "--filter", &label]) {
                for name in names.split_whitespace() {
                    let _ = docker(&[kind, "rm", name]);
                }
            }
        }
    }
}

async fn compose_server(dir: &Path, extra: &[&str]) -> Server {
    let mut options = ServerOptions::default()
        .arg("--compose-dir")
        .arg(dir.display().to_string());
    for arg in extra {
        options = options.arg(*arg);
    }
    start(options).await
}

/// The (step, target) pairs of an answer's `actions`.
fn steps(answer: &Value) -> Vec<(String, String)> {
    answer["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .map(|a| {
            (
                a["step"].as_str().unwrap().to_string(),
                a["target"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn container_id(name: &str) -> String {
    docker(&["inspect", "--format", "{{.Id}}", name]).unwrap()
}

/// A label of an object; `object` is the inspect command (`inspect NAME` for a
/// container, `network inspect NAME`, `volume inspect NAME`).
fn label(object: &[&str], key: &str) -> String {
    let labels = if object[0] == "inspect" {
        ".Config.Labels"
    } else {
        ".Labels"
    };
    let format = format!("{{{{index {labels} \"{key}\"}}}}");
    let mut args = object.to_vec();
    args.extend(["--format", &format]);
    docker(&args).unwrap_or_default()
}

#[tokio::test]
async fn a_stack_deploys_redeploys_changes_and_comes_down_like_compose() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("compose.yaml");
    std::fs::write(&file, stack("first")).unwrap();
    let project = project_name("stack");
    let _cleanup = ProjectCleanup::new(&project);
    let server = compose_server(dir.path(), &[]).await;
    let from_file = json!({"project": project, "file": file.display().to_string()});

    // The plan names each step; the deploy then takes exactly those steps.
    let plan = server.call("compose_plan", from_file.clone()).await;
    let planned = steps(plan.ok());
    let web = format!("{project}-web-1");
    let client = format!("{project}-client-1");
    assert_eq!(
        planned,
        vec![
            ("create_network".into(), format!("{project}_default")),
            ("create_volume".into(), format!("{project}_data")),
            ("create_container".into(), web.clone()),
            ("create_container".into(), client.clone()),
        ]
    );
    let deployed = server.call("compose_deploy", from_file.clone()).await;
    assert_eq!(steps(deployed.ok()), planned, "{}", deployed.text());

    // Names and labels as `docker compose` writes them.
    assert_eq!(
        label(&["inspect", &web], "com.docker.compose.project"),
        project
    );
    assert_eq!(
        label(&["inspect", &web], "com.docker.compose.service"),
        "web"
    );
    assert_eq!(
        label(&["inspect", &web], "com.docker.compose.container-number"),
        "1"
    );
    assert_eq!(
        label(&["inspect", &web], "com.docker.compose.oneoff"),
        "False"
    );
    assert_eq!(
        label(
            &["network", "inspect", &format!("{project}_default")],
            "com.docker.compose.network"
        ),
        "default"
    );
    assert_eq!(
        label(
            &["volume", "inspect", &format!("{project}_data")],
            "com.docker.compose.volume"
        ),
        "data"
    );
    // The client reached the web service by its service name, after it became healthy.
    let logs = server
        .call(
            "compose_logs",
            json!({"project": project, "service": "client"}),
        )
        .await;
    let text = logs.ok()["containers"][0]["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(text.contains("hello-from-web"), "{text}");

    // An independent implementation sees the same stack.
    let listed = compose_cli(dir.path(), &project, &["ps", "-q"]);
    let mut seen: Vec<&str> = listed.split_whitespace().collect();
    seen.sort();
    let mut ours = vec![container_id(&web), container_id(&client)];
    ours.sort();
    assert_eq!(seen, ours);

    // Unchanged: nothing recreated.
    let web_id = container_id(&web);
    let client_id = container_id(&client);
    let again = server.call("compose_deploy", from_file.clone()).await;
    assert!(
        steps(again.ok())
            .iter()
            .all(|(step, _)| step == "keep_container"),
        "{}",
        again.text()
    );
    assert_eq!(
        (container_id(&web), container_id(&client)),
        (web_id.clone(), client_id.clone())
    );

    // One service changed: only it is recreated.
    std::fs::write(&file, stack("second")).unwrap();
    let plan = server.call("compose_plan", from_file.clone()).await;
    let changed = server.call("compose_deploy", from_file.clone()).await;
    assert_eq!(steps(changed.ok()), steps(plan.ok()));
    assert_eq!(
        steps(changed.ok()),
        vec![
            ("keep_container".into(), web.clone()),
            ("recreate_container".into(), client.clone()),
        ]
    );
    assert_eq!(container_id(&web), web_id);
    assert_ne!(container_id(&client), client_id);

    let ps = server.call("compose_ps", json!({"project": project})).await;
    assert_eq!(ps.ok()["containers"].as_array().unwrap().len(), 2);
    let list = server.call("compose_list", json!({})).await;
    assert!(
        list.ok()["projects"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == json!(project) && p["running"] == json!(2)),
        "{}",
        list.text()
    );

    // Down keeps the named volume unless asked, and asking needs --allow-destructive:
    // refused before anything is removed.
    server
        .call("compose_down", json!({"project": project, "volumes": true}))
        .await
        .expect_error("DKR-005");
    assert_eq!(container_id(&web), web_id);
    let down = server
        .call("compose_down", json!({"project": project}))
        .await;
    assert_eq!(down.ok()["containers"].as_array().unwrap().len(), 2);
    assert_eq!(
        down.ok()["kept_volumes"],
        json!([format!("{project}_data")])
    );
    assert!(docker(&["inspect", &web]).is_err());
    assert!(docker(&["network", "inspect", &format!("{project}_default")]).is_err());
    docker(&["volume", "inspect", &format!("{project}_data")]).unwrap();
}

/// Runs Debian's docker-compose on the same file and project.
fn compose_cli(dir: &Path, project: &str, args: &[&str]) -> String {
    let output = std::process::Command::new("docker-compose")
        .current_dir(dir)
        .args(["-f", "compose.yaml", "-p", project])
        .args(args)
        .output()
        .expect("docker-compose runs (scripts/ensure-docker-compose.sh installs it)");
    assert!(
        output.status.success(),
        "docker-compose {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).to_string()
}

#[tokio::test]
async fn stacks_of_docker_compose_are_listed_but_not_removed_without_allow_destructive() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("compose.yaml"),
        "services:\n  idle:\n    image: bulkhead-test/busybox\n    command: [\"sleep\", \"3600\"]\n",
    )
    .unwrap();
    let project = project_name("foreign");
    let _cleanup = ProjectCleanup::new(&project);
    compose_cli(dir.path(), &project, &["up", "-d"]);
    let server = compose_server(dir.path(), &[]).await;

    let list = server.call("compose_list", json!({})).await;
    assert!(
        list.ok()["projects"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == json!(project) && p["services"] == json!(["idle"])),
        "{}",
        list.text()
    );
    let ps = server.call("compose_ps", json!({"project": project})).await;
    assert_eq!(ps.ok()["containers"][0]["service"], json!("idle"));
    // Not this principal's: removal needs the operator's --allow-destructive.
    server
        .call("compose_down", json!({"project": project}))
        .await
        .expect_error("DKR-002");
    // Refused before anything happened to it: still running.
    let running = docker(&[
        "ps",
        "-q",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
    ])
    .unwrap();
    assert_ne!(running, "");
    compose_cli(dir.path(), &project, &["down"]);
}

#[tokio::test]
async fn hostile_and_unsupported_stacks_are_refused_with_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("compose.yaml"), stack("x")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("compose.yaml"),
        dir.path().join("link.yaml"),
    )
    .unwrap();
    let server = compose_server(dir.path(), &[]).await;
    let project = project_name("hostile");
    let _cleanup = ProjectCleanup::new(&project);

    let deploy = |yaml: String| {
        let server = &server;
        let project = project.clone();
        async move {
            server
                .call("compose_deploy", json!({"project": project, "yaml": yaml}))
                .await
        }
    };
    // Policy refusals: the same as for any container create.
    let privileged =
        deploy("services:\n  a:\n    image: bulkhead-test/busybox\n    privileged: true\n".into())
            .await;
    privileged.expect_error("DKR-005");
    assert!(
        privileged.text().contains("services.a.privileged"),
        "{}",
        privileged.text()
    );
    let root_bind = deploy(
        "services:\n  a:\n    image: bulkhead-test/busybox\n    volumes: [\"/:/host\"]\n".into(),
    )
    .await;
    root_bind.expect_error("DKR-005");
    // Unknown keys are named by their path; nothing is dropped silently.
    let unknown =
        deploy("services:\n  a:\n    image: bulkhead-test/busybox\n    secrets: [x]\n".into())
            .await;
    unknown.expect_error("DKR-004");
    assert!(
        unknown.text().contains("services.a.secrets"),
        "{}",
        unknown.text()
    );
    // A billion-laughs file is refused quickly.
    let mut bomb = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for (name, prev) in ["b", "c", "d", "e", "f", "g", "h", "i"]
        .iter()
        .zip(["a", "b", "c", "d", "e", "f", "g", "h"])
    {
        bomb.push_str(&format!(
            "{name}: &{name} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
        ));
    }
    bomb.push_str("services:\n  a:\n    image: bulkhead-test/busybox\n    labels: {x: *i}\n");
    deploy(bomb).await.expect_error("DKR-004");

    // Files: only under the compose directory, by their real path.
    let file = |path: String| {
        let server = &server;
        let project = project.clone();
        async move {
            server
                .call("compose_plan", json!({"project": project, "file": path}))
                .await
        }
    };
    let traversal = format!("{}/../../etc/passwd", dir.path().display());
    file(traversal).await.expect_error("DKR-005");
    let symlink = file(dir.path().join("link.yaml").display().to_string()).await;
    assert!(symlink.is_error(), "{}", symlink.text());
    let outside_file = file(outside.path().join("compose.yaml").display().to_string()).await;
    outside_file.expect_error("DKR-002");

    // The server still serves, and nothing of the project was left running.
    let plan = server
        .call(
            "compose_plan",
            json!({"project": project, "yaml": stack("x")}),
        )
        .await;
    assert!(!plan.is_error(), "{}", plan.text());
    let leftover = docker(&[
        "ps",
        "-q",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
    ])
    .unwrap();
    assert_eq!(leftover, "");
}
