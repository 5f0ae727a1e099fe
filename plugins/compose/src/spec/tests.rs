//! The loader against whole files: what a realistic stack becomes, and each refusal by
//! its kind and path.

use std::collections::BTreeMap;
use std::path::Path;

use super::*;

fn load_text(yaml: &str) -> Result<Project, SpecError> {
    load_with(yaml, None, &BTreeMap::new(), &[])
}

fn load_with(
    yaml: &str,
    dir: Option<&Path>,
    env: &BTreeMap<String, String>,
    profiles: &[String],
) -> Result<Project, SpecError> {
    load(&LoadRequest {
        yaml,
        project_name: Some("demo"),
        project_dir: dir,
        env,
        profiles,
    })
}

fn refused(yaml: &str) -> (SpecErrorKind, String) {
    let err = load_text(yaml).unwrap_err();
    (err.kind, err.path)
}

const STACK: &str = r#"
x-common: &common
  restart: unless-stopped
services:
  web:
    <<: *common
    image: busybox
    command: httpd -f -p "8080"
    ports: ["127.0.0.1:8080:80", "9000-9001:9000-9001/udp", {target: 53, published: "5353", protocol: udp}]
    volumes: ["data:/www:ro", "/srv/cache:/cache", "/anon"]
    tmpfs: ["/run:size=64m"]
    healthcheck:
      test: wget -q localhost
      interval: 1m30s
      retries: 3
    deploy:
      resources: {limits: {cpus: "0.5", memory: 512m, pids: 100}}
  client:
    image: busybox
    depends_on:
      web: {condition: service_healthy}
    environment: {A: 1, B: "two", C: null, D: true}
    networks:
      back: {aliases: [api]}
    scale: 2
networks:
  back: {}
volumes:
  data: {}
"#;

#[test]
fn a_realistic_stack_normalises() {
    let project = load_text(STACK).unwrap();
    assert_eq!(project.name, "demo");
    let web = &project.services["web"];
    assert_eq!(
        web.restart.as_deref(),
        Some("unless-stopped"),
        "merge key applied"
    );
    assert_eq!(
        web.command.as_ref().unwrap(),
        &["httpd", "-f", "-p", "8080"]
    );
    assert_eq!(web.ports.len(), 4);
    assert_eq!(web.ports[0].host_ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(
        (
            web.ports[2].target,
            web.ports[2].published,
            web.ports[2].protocol.as_str()
        ),
        (9001, Some(9001), "udp")
    );
    assert_eq!(web.ports[3].published, Some(5353));
    assert_eq!(
        web.mounts[0],
        Mount {
            kind: MountKind::Volume,
            source: Some("data".into()),
            target: "/www".into(),
            read_only: true,
            tmpfs_size_bytes: None
        }
    );
    assert_eq!(web.mounts[1].kind, MountKind::Bind);
    assert_eq!(web.mounts[2].source, None);
    assert_eq!(web.mounts[3].tmpfs_size_bytes, Some(64 << 20));
    let check = web.healthcheck.as_ref().unwrap();
    assert_eq!(check.test, ["CMD-SHELL", "wget -q localhost"]);
    assert_eq!(check.interval_ns, Some(90_000_000_000));
    assert_eq!(
        (web.nano_cpus, web.memory_bytes, web.pids_limit),
        (Some(500_000_000), Some(512 << 20), Some(100))
    );
    assert!(web.networks.contains_key("default"));
    let client = &project.services["client"];
    assert_eq!(client.depends_on["web"], DependsCondition::ServiceHealthy);
    assert_eq!(client.environment.get("A").map(String::as_str), Some("1"));
    assert_eq!(
        client.environment.get("D").map(String::as_str),
        Some("true")
    );
    assert!(!client.environment.contains_key("C"));
    assert_eq!(client.networks["back"].aliases, ["api"]);
    assert_eq!(client.replicas, 2);
    assert_eq!(project.networks["back"].name, "demo_back");
    assert_eq!(project.networks["default"].name, "demo_default");
    assert_eq!(project.volumes["data"].name, "demo_data");
    assert_eq!(project.start_order(), ["web", "client"]);
}

#[test]
fn interpolation_uses_the_call_and_dotenv_only() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".env"), "TAG=1.0\nPORT=7000\n").unwrap();
    std::fs::write(
        dir.path().join("app.env"),
        "FROM_FILE=yes\nOVERRIDDEN=file\n",
    )
    .unwrap();
    let env = BTreeMap::from([("PORT".to_string(), "7001".to_string())]);
    let project = load_with(
        "services:\n  a:\n    image: busybox:${TAG}\n    ports: [\"${PORT:-1}:80\"]\n    env_file: app.env\n    environment: [OVERRIDDEN=env, \"PRICE=$$5\"]\n    labels: {u: \"${UNSET_HERE}\"}\n",
        Some(dir.path()),
        &env,
        &[],
    )
    .unwrap();
    let a = &project.services["a"];
    assert_eq!(a.image.as_deref(), Some("busybox:1.0"));
    assert_eq!(a.ports[0].published, Some(7001));
    assert_eq!(a.environment["FROM_FILE"], "yes");
    assert_eq!(a.environment["OVERRIDDEN"], "env");
    assert_eq!(a.environment["PRICE"], "$5");
    assert!(project.warnings.iter().any(|w| w.contains("UNSET_HERE")));
    let err = load_with(
        "services:\n  a:\n    image: x\n    env_file: missing.env\n",
        Some(dir.path()),
        &env,
        &[],
    )
    .unwrap_err();
    assert_eq!(
        (err.kind, err.path.as_str()),
        (SpecErrorKind::Io, "services.a.env_file[0]")
    );
    let err = load_text("services:\n  a:\n    image: \"${NEED:?set NEED}\"\n").unwrap_err();
    assert_eq!(err.kind, SpecErrorKind::Invalid);
    assert!(err.message.contains("set NEED"));
}

#[test]
fn unknown_and_unsupported_keys_are_named_by_path() {
    assert_eq!(
        refused("services:\n  web:\n    image: x\n    secrets: [s]\n"),
        (SpecErrorKind::Invalid, "services.web.secrets".into())
    );
    assert_eq!(
        refused("services:\n  web:\n    image: x\n    colour: red\n"),
        (SpecErrorKind::Invalid, "services.web.colour".into())
    );
    assert_eq!(
        refused("configs: {}\nservices:\n  web:\n    image: x\n"),
        (SpecErrorKind::Invalid, "configs".into())
    );
    assert_eq!(
        refused("services:\n  web:\n    image: x\n    deploy: {placement: {}}\n"),
        (
            SpecErrorKind::Invalid,
            "services.web.deploy.placement".into()
        )
    );
    assert!(load_text("x-top: 1\nservices:\n  web:\n    image: x\n    x-note: hi\n").is_ok());
}

#[test]
fn what_the_host_forbids_is_denied() {
    assert_eq!(
        refused("services:\n  web:\n    image: x\n    privileged: true\n"),
        (SpecErrorKind::Denied, "services.web.privileged".into())
    );
    assert_eq!(
        refused("services:\n  web:\n    image: x\n    network_mode: host\n"),
        (SpecErrorKind::Denied, "services.web.network_mode".into())
    );
    assert_eq!(
        refused("services:\n  web:\n    image: x\n    cap_add: [NET_ADMIN]\n"),
        (SpecErrorKind::Denied, "services.web.cap_add".into())
    );
    assert_eq!(
        refused("services:\n  web:\n    image: x\n    pid: host\n"),
        (SpecErrorKind::Denied, "services.web.pid".into())
    );
    assert!(
        load_text("services:\n  web:\n    image: x\n    privileged: false\n    cap_add: []\n")
            .is_ok()
    );
}

#[test]
fn hostile_yaml_is_refused_quickly() {
    let mut bomb = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for pair in names.windows(2) {
        let (prev, name) = (pair[0], pair[1]);
        bomb.push_str(&format!("{name}: &{name} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"));
    }
    bomb.push_str("services: {}\n");
    assert_eq!(load_text(&bomb).unwrap_err().kind, SpecErrorKind::TooLarge);
    let big = format!("services: {{}}\n# {}\n", "x".repeat(1 << 20));
    assert_eq!(load_text(&big).unwrap_err().kind, SpecErrorKind::TooLarge);
    let deep = format!("services: {}{}\n", "[".repeat(200), "]".repeat(200));
    assert_ne!(load_text(&deep).unwrap_err().kind, SpecErrorKind::Io);
    assert_eq!(
        load_text("services: {}\nservices: {}\n").unwrap_err().kind,
        SpecErrorKind::Invalid
    );
    assert_eq!(
        load_text("services: {}\n---\nservices: {}\n")
            .unwrap_err()
            .kind,
        SpecErrorKind::TooLarge
    );
}

#[test]
fn references_cycles_profiles_and_replicas() {
    let (kind, path) = refused("services:\n  a:\n    image: x\n    depends_on: [b]\n");
    assert_eq!(
        (kind, path.as_str()),
        (SpecErrorKind::Invalid, "services.a.depends_on.b")
    );
    let err = load_text("services:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: x\n    depends_on: [a]\n").unwrap_err();
    assert!(err.message.contains("cycle"), "{err}");
    let stack = "services:\n  a:\n    image: x\n  debug:\n    image: x\n    profiles: [dev]\n";
    assert_eq!(load_text(stack).unwrap().services.len(), 1);
    let with_dev = load_with(stack, None, &BTreeMap::new(), &["dev".to_string()]).unwrap();
    assert_eq!(with_dev.services.len(), 2);
    assert_eq!(
        refused("services:\n  a:\n    image: x\n    scale: 33\n").0,
        SpecErrorKind::Invalid
    );
    assert_eq!(
        refused("services:\n  a:\n    image: x\n    scale: 2\n    container_name: one\n").1,
        "services.a.container_name"
    );
    assert_eq!(
        refused("services:\n  a:\n    image: x\n    volumes: [\"./rel:/x\"]\n").1,
        "services.a.volumes[0]"
    );
    assert_eq!(
        refused("services:\n  a:\n    image: x\n    volumes: [\"undeclared:/x\"]\n").1,
        "services.a.volumes[0]"
    );
    assert_eq!(
        refused("services:\n  a:\n    image: x\n    labels: {com.docker.compose.project: y}\n").0,
        SpecErrorKind::Invalid
    );
    assert_eq!(
        refused("services:\n  a:\n    build: https://example.com/repo.git\n").1,
        "services.a.build"
    );
}

#[test]
fn relative_paths_resolve_against_the_project_directory() {
    let dir = Path::new("/srv/stacks/app");
    let project = load_with(
        "services:\n  a:\n    build: ./src/../api\n    volumes: [\"./data:/data\", \"../shared:/shared:ro\"]\n",
        Some(dir),
        &BTreeMap::new(),
        &[],
    )
    .unwrap();
    let a = &project.services["a"];
    assert_eq!(
        a.build.as_ref().unwrap().context,
        Path::new("/srv/stacks/app/api")
    );
    assert_eq!(a.mounts[0].source.as_deref(), Some("/srv/stacks/app/data"));
    assert_eq!(a.mounts[1].source.as_deref(), Some("/srv/stacks/shared"));
}

#[test]
fn project_names_follow_dockers_rule() {
    assert!(valid_project_name("my-app_1"));
    assert!(!valid_project_name("My App"));
    assert!(!valid_project_name("-x"));
    assert_eq!(normalize_project_name("My App.v2"), "myappv2");
    assert_eq!(normalize_project_name("__x"), "x");
}
