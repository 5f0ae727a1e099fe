//! Ownership enforced by the host: two server processes with different principals under
//! `scope = owned` cannot see or touch each other's objects, nor anything created outside
//! Bulkhead; and the name lists (networks, images, registries, label keys) that keep a
//! container from joining what it should not.

use bulkhead_testkit::{
    Cleanup, HELLO_WASM, Server, ServerOptions, TEST_IMAGE, docker, unique_name,
};
use serde_json::{Value, json};

use crate::start;

/// A server acting for `principal` whose containers plugin reaches only what that
/// principal created, with removal allowed (so a refusal is ownership, not the tier).
async fn owned_server(principal: &str, extra_policy: &str) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        format!(
            "[server]\nprincipal = \"{principal}\"\nallow_destructive = true\n\n\
             [plugins.containers]\nscope = \"owned\"\n{extra_policy}"
        ),
    )
    .unwrap();
    let server = start(
        ServerOptions::default()
            .arg("--policy")
            .arg(policy.display().to_string()),
    )
    .await;
    (server, dir)
}

async fn create_sleeper(server: &Server, name: &str) -> String {
    let created = server
        .call(
            "docker_create_container",
            json!({"image": TEST_IMAGE, "name": name, "command": ["sleep", "300"]}),
        )
        .await;
    let id = created.ok()["id"].as_str().expect("id").to_string();
    server
        .call("docker_start_container", json!({"container": name}))
        .await
        .ok();
    id
}

/// The names in a list answer: `name` (volumes, networks) or the first of `names`
/// (containers).
fn listed_names(answer: &Value) -> Vec<String> {
    answer["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            item["name"]
                .as_str()
                .or_else(|| item["names"][0].as_str())
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

#[tokio::test]
async fn another_principal_cannot_see_or_touch_an_owned_container() {
    let mut cleanup = Cleanup::default();
    let alices = cleanup.container(&unique_name("own-alice"));
    let bobs = cleanup.container(&unique_name("own-bob"));
    let outsider = cleanup.container(&unique_name("own-cli"));
    docker(&["run", "-d", "--name", &outsider, TEST_IMAGE, "sleep", "300"]).unwrap();

    let (alice, _a) = owned_server("team:alice", "").await;
    let (bob, _b) = owned_server("team:bob", "").await;
    let id = create_sleeper(&alice, &alices).await;
    create_sleeper(&bob, &bobs).await;

    // The host stamped who, in which session, through which plugin.
    let labels = docker(&[
        "inspect",
        "-f",
        "{{index .Config.Labels \"io.bulkhead.owner\"}} {{index .Config.Labels \"io.bulkhead.plugin\"}} {{len (index .Config.Labels \"io.bulkhead.session\")}}",
        &alices,
    ])
    .unwrap();
    assert_eq!(labels, "team:alice containers 16");

    // Bob reaches neither Alice's container (by name, id or id prefix) nor one made
    // outside Bulkhead, and the answer is the same as for a container that does not exist.
    let short = &id[..12];
    for target in [alices.as_str(), id.as_str(), short, outsider.as_str()] {
        for (tool, mut args) in [
            ("docker_inspect_container", json!({})),
            ("docker_container_logs", json!({})),
            ("docker_container_top", json!({})),
            ("docker_stop_container", json!({"timeout": 1})),
            ("docker_kill_container", json!({})),
            (
                "docker_rename_container",
                json!({"new_name": unique_name("stolen")}),
            ),
            ("docker_exec", json!({"command": ["true"]})),
            (
                "docker_copy_from_container",
                json!({"path": "/etc/hostname"}),
            ),
            ("docker_remove_container", json!({"force": true})),
        ] {
            args["container"] = json!(target);
            bob.call(tool, args).await.expect_error("DKR-002");
        }
    }
    let absent = bob
        .call(
            "docker_inspect_container",
            json!({"container": "no-such-container-x"}),
        )
        .await;
    absent.expect_error("DKR-002");

    // Lists show each principal only their own.
    let bob_list = bob
        .call("docker_list_containers", json!({"all": true, "limit": 100}))
        .await;
    let names = listed_names(bob_list.ok());
    assert_eq!(names, std::slice::from_ref(&bobs), "{names:?}");
    let alice_list = alice
        .call("docker_list_containers", json!({"all": true, "limit": 100}))
        .await;
    assert_eq!(listed_names(alice_list.ok()), std::slice::from_ref(&alices));

    // Nothing happened to Alice's container; she still reaches it (by the id prefix too).
    let state = docker(&["inspect", "-f", "{{.State.Running}} {{.Name}}", &alices]).unwrap();
    assert_eq!(state, format!("true /{alices}"));
    alice
        .call("docker_inspect_container", json!({"container": short}))
        .await
        .ok();
    // Nor can Alice reach what was created outside Bulkhead.
    alice
        .call("docker_inspect_container", json!({"container": outsider}))
        .await
        .expect_error("DKR-002");
    // Her own removal works.
    alice
        .call(
            "docker_remove_container",
            json!({"container": alices, "force": true}),
        )
        .await
        .ok();
}

#[tokio::test]
async fn owned_networks_and_volumes_stay_with_their_principal() {
    let mut cleanup = Cleanup::default();
    let network = cleanup.network(&unique_name("own-net"));
    let volume = cleanup.volume(&unique_name("own-vol"));
    let bobs = cleanup.container(&unique_name("own-bob-c"));
    let (alice, _a) = owned_server("team:alice", "").await;
    let (bob, _b) = owned_server("team:bob", "").await;

    alice
        .call("docker_create_network", json!({"name": network}))
        .await
        .ok();
    alice
        .call("docker_create_volume", json!({"name": volume}))
        .await
        .ok();
    create_sleeper(&bob, &bobs).await;

    bob.call("docker_inspect_network", json!({"network": network}))
        .await
        .expect_error("DKR-002");
    bob.call("docker_remove_network", json!({"network": network}))
        .await
        .expect_error("DKR-002");
    // Bob's own container may not join Alice's network...
    let joined = bob
        .call(
            "docker_connect_network",
            json!({"network": network, "container": bobs}),
        )
        .await;
    joined.expect_error("DKR-005");
    assert!(
        joined.text().contains("network-not-allowed"),
        "{}",
        joined.text()
    );
    // ...nor be created on it, nor mount Alice's volume.
    bob.call(
        "docker_create_container",
        json!({"image": TEST_IMAGE, "network": network}),
    )
    .await
    .expect_error("DKR-005");
    bob.call(
        "docker_create_container",
        json!({"image": TEST_IMAGE, "mounts": [{"type": "volume", "source": volume, "target": "/data"}]}),
    )
    .await
    .expect_error("DKR-002");
    bob.call("docker_inspect_volume", json!({"volume": volume}))
        .await
        .expect_error("DKR-002");
    bob.call("docker_remove_volume", json!({"volume": volume}))
        .await
        .expect_error("DKR-002");
    let volumes = bob.call("docker_list_volumes", json!({"limit": 100})).await;
    assert!(!listed_names(volumes.ok()).contains(&volume));
    // A prune by Bob leaves Alice's unused network and volume alone.
    bob.call("docker_prune_networks", json!({})).await.ok();
    bob.call("docker_prune_volumes", json!({})).await.ok();
    docker(&["network", "inspect", &network]).expect("Alice's network survives");
    docker(&["volume", "inspect", &volume]).expect("Alice's volume survives");

    // Alice's own network and volume work for her.
    let alices = cleanup.container(&unique_name("own-alice-c"));
    alice
        .call(
            "docker_create_container",
            json!({
                "image": TEST_IMAGE, "name": alices, "network": network,
                "mounts": [{"type": "volume", "source": volume, "target": "/data"}]
            }),
        )
        .await
        .ok();
    alice
        .call("docker_inspect_volume", json!({"volume": volume}))
        .await
        .ok();
}

#[tokio::test]
async fn routing_labels_and_unlisted_networks_are_refused() {
    let mut cleanup = Cleanup::default();
    let listed = cleanup.network(&unique_name("front-ok"));
    let other = cleanup.network(&unique_name("back-no"));
    docker(&["network", "create", &listed]).unwrap();
    docker(&["network", "create", &other]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        "[plugins.containers.arguments]\nnetworks = [\"bulkhead-test-front-ok-*\"]\n",
    )
    .unwrap();
    let server = start(
        ServerOptions::default()
            .arg("--policy")
            .arg(policy.display().to_string()),
    )
    .await;

    let hijack = server
        .call(
            "docker_create_container",
            json!({"image": TEST_IMAGE, "labels": {"traefik.http.routers.x.rule": "Host(`bank.example`)"}}),
        )
        .await;
    hijack.expect_error("DKR-005");
    assert!(hijack.text().contains("label-denied"), "{}", hijack.text());

    let refused = server
        .call(
            "docker_create_container",
            json!({"image": TEST_IMAGE, "network": other}),
        )
        .await;
    refused.expect_error("DKR-005");
    assert!(
        refused.text().contains("network-not-allowed"),
        "{}",
        refused.text()
    );

    let name = cleanup.container(&unique_name("front-member"));
    server
        .call(
            "docker_create_container",
            json!({"image": TEST_IMAGE, "name": name, "network": listed}),
        )
        .await
        .ok();
    server
        .call(
            "docker_connect_network",
            json!({"network": other, "container": name}),
        )
        .await
        .expect_error("DKR-005");
}

#[tokio::test]
async fn image_and_registry_lists_hold_and_a_tag_cannot_launder() {
    let mut cleanup = Cleanup::default();
    // Another image (not a second name for the test image, which the list would judge
    // by its allowed tag): a commit with one more label.
    let outside = cleanup.image(&format!("{}:latest", unique_name("unlisted")));
    let source = cleanup.container(&unique_name("unlisted-src"));
    docker(&["create", "--name", &source, TEST_IMAGE, "true"]).unwrap();
    docker(&["commit", "--change", "LABEL unlisted=1", &source, &outside]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        "[arguments]\nimages = [\"bulkhead-test/*\"]\nregistries = [\"127.0.0.1:*\"]\n",
    )
    .unwrap();
    let server = start(
        ServerOptions::default()
            .arg("--policy")
            .arg(policy.display().to_string()),
    )
    .await;

    let name = cleanup.container(&unique_name("listed-image"));
    server
        .call(
            "docker_create_container",
            json!({"image": TEST_IMAGE, "name": name}),
        )
        .await
        .ok();
    for image in [outside.as_str(), "busybox"] {
        let refused = server
            .call("docker_create_container", json!({"image": image}))
            .await;
        let code = refused.error_code();
        // `busybox` may be absent locally: then it is not found before it is judged.
        assert!(
            code == "DKR-005" || (image == "busybox" && code == "DKR-003"),
            "{image}: {}",
            refused.text()
        );
    }
    let pulled = server
        .call("docker_pull_image", json!({"reference": "busybox:latest"}))
        .await;
    pulled.expect_error("DKR-005");
    assert!(
        pulled.text().contains("registry-not-allowed"),
        "{}",
        pulled.text()
    );
    let laundered = cleanup.image(&format!(
        "bulkhead-test/{}:latest",
        unique_name("laundered")
    ));
    let tagged = server
        .call(
            "docker_tag_image",
            json!({"source": outside, "target": laundered}),
        )
        .await;
    tagged.expect_error("DKR-005");
    assert!(
        tagged.text().contains("image-not-allowed"),
        "{}",
        tagged.text()
    );
}

/// Runs the binary and hands back what it printed; it must succeed.
fn bulkhead(args: &[&str]) -> String {
    let (ok, text) = crate::run_bulkhead(args);
    assert!(ok, "bulkhead {args:?}: {text}");
    text
}

/// The README's operator flow: only signed and pinned plugins, owned scope, an audit
/// log; afterwards the log verifies and shows who did what to which object.
#[tokio::test]
async fn operator_flow_signed_plugins_owned_scope_and_an_audit_trail() {
    let mut cleanup = Cleanup::default();
    let name = cleanup.container(&unique_name("operator"));
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("signing.key").display().to_string();
    let public = bulkhead(&["keygen", "--out", &secret]).trim().to_string();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    let hello = plugins.join("hello.wasm");
    std::fs::copy(HELLO_WASM, &hello).unwrap();
    bulkhead(&[
        "plugin",
        "sign",
        "--key",
        &secret,
        &hello.display().to_string(),
    ]);
    let digest = bulkhead::runtime::digest(&std::fs::read(&hello).unwrap());
    let audit = dir.path().join("audit.jsonl");
    let principal = unique_name("ops");
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        format!(
            "[server]\nprincipal = \"{principal}\"\nplugin_dirs = [\"{}\"]\naudit_log = \"{}\"\n\n\
             [trust]\nrequire_signatures = true\nkeys = [\"{public}\"]\n\n\
             [plugins.containers]\nscope = \"owned\"\n\n\
             [plugins.hello]\nsha256 = \"{digest}\"\ngrants = [\"containers-read\"]\n",
            plugins.display(),
            audit.display()
        ),
    )
    .unwrap();
    bulkhead(&["policy", "check", &policy.display().to_string()]);

    let server = start(
        ServerOptions::default()
            .arg("--policy")
            .arg(policy.display().to_string()),
    )
    .await;
    // A plugin from disk reaches only what this principal created: none yet, however
    // many containers run on the engine.
    let count = server.call("hello_count", json!({})).await;
    assert_eq!(count.ok()["running"], json!(0), "{}", count.text());
    let id = create_sleeper(&server, &name).await;
    let count = server.call("hello_count", json!({})).await;
    assert_eq!(count.ok()["running"], json!(1), "{}", count.text());
    server.stop().await.unwrap();

    let verified = bulkhead(&["audit", "verify", &audit.display().to_string()]);
    assert!(verified.contains("4 line(s)"), "{verified}");
    let lines: Vec<Value> = std::fs::read_to_string(&audit)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let tools: Vec<&str> = lines.iter().map(|l| l["tool"].as_str().unwrap()).collect();
    assert_eq!(
        tools,
        [
            "hello_count",
            "docker_create_container",
            "docker_start_container",
            "hello_count"
        ]
    );
    for line in &lines {
        assert_eq!(line["principal"], json!(principal));
        assert_eq!(line["outcome"], json!("ok"));
    }
    assert_eq!(lines[0]["plugin_digest"], json!(digest));
    let touched = format!("container:{id}");
    assert_eq!(lines[1]["objects"], json!([touched]), "{}", lines[1]);
    assert_eq!(lines[2]["objects"], json!([touched]), "{}", lines[2]);
}
