//! Network and volume tools through MCP against the real engine: lifecycles, the
//! refusals that keep the host safe (non-bridge drivers, predefined networks, binds
//! disguised as volumes), pagination over real data, and prunes narrowed to objects this
//! test labelled.

use bulkhead_testkit::{Cleanup, ServerOptions, TEST_IMAGE, docker, unique_name};
use serde_json::{Value, json};

use crate::start;

fn destructive() -> ServerOptions {
    ServerOptions::default().arg("--allow-destructive")
}

fn endpoint_names(network: &Value) -> Vec<String> {
    network["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["container_name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn network_lifecycle_through_mcp() {
    let mut cleanup = Cleanup::default();
    let network = cleanup.network(&unique_name("net"));
    let container = cleanup.container(&unique_name("netc"));
    let server = start(destructive()).await;

    let created = server
        .call(
            "docker_create_network",
            json!({"name": network, "labels": {"purpose": "e2e"}}),
        )
        .await;
    assert_eq!(created.ok()["name"], json!(network));

    let inspected = server
        .call("docker_inspect_network", json!({"network": network}))
        .await;
    let details = inspected.ok()["network"].clone();
    assert_eq!(details["driver"], json!("bridge"), "{details}");
    assert!(
        details["labels"]
            .to_string()
            .contains("io.bulkhead.managed"),
        "{details}"
    );
    assert!(!details["ipam"].as_array().unwrap().is_empty(), "{details}");

    let listed = server
        .call("docker_list_networks", json!({"name": network}))
        .await;
    assert_eq!(listed.ok()["total"], json!(1), "{}", listed.text());

    docker(&[
        "run", "-d", "--name", &container, TEST_IMAGE, "sleep", "300",
    ])
    .unwrap();
    server
        .call(
            "docker_connect_network",
            json!({"network": network, "container": container, "aliases": ["db"]}),
        )
        .await
        .ok();
    let attached = server
        .call("docker_inspect_network", json!({"network": network}))
        .await;
    let attached = attached.ok()["network"].clone();
    assert_eq!(
        endpoint_names(&attached),
        std::slice::from_ref(&container),
        "{attached}"
    );
    assert!(
        attached["containers"][0]["ipv4_address"].is_string(),
        "{attached}"
    );

    server
        .call(
            "docker_disconnect_network",
            json!({"network": network, "container": container}),
        )
        .await
        .ok();
    let detached = server
        .call("docker_inspect_network", json!({"network": network}))
        .await;
    assert!(endpoint_names(&detached.ok()["network"]).is_empty());

    server
        .call("docker_remove_network", json!({"network": network}))
        .await
        .ok();
    server
        .call("docker_inspect_network", json!({"network": network}))
        .await
        .expect_error("DKR-002");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn network_refusals() {
    let mut cleanup = Cleanup::default();
    let host_net = cleanup.network(&unique_name("hostnet"));
    let missing = unique_name("missing");
    let server = start(destructive()).await;

    for driver in ["host", "macvlan", "overlay"] {
        server
            .call(
                "docker_create_network",
                json!({"name": host_net, "driver": driver}),
            )
            .await
            .expect_error("DKR-005");
    }
    assert!(docker(&["network", "inspect", &host_net]).is_err());

    server
        .call("docker_remove_network", json!({"network": "bridge"}))
        .await
        .expect_error("DKR-005");
    // By id too: the host resolves the name before deciding.
    let bridge_id = docker(&["network", "inspect", "-f", "{{.Id}}", "bridge"]).unwrap();
    server
        .call("docker_remove_network", json!({"network": bridge_id}))
        .await
        .expect_error("DKR-005");

    server
        .call("docker_inspect_network", json!({"network": missing}))
        .await
        .expect_error("DKR-002");
    server
        .call(
            "docker_connect_network",
            json!({"network": missing, "container": missing}),
        )
        .await
        .expect_error("DKR-002");
    server
        .call(
            "docker_disconnect_network",
            json!({"network": missing, "container": missing}),
        )
        .await
        .expect_error("DKR-002");
    server
        .call("docker_list_networks", json!({"cursor": "not-a-cursor"}))
        .await
        .expect_error("DKR-004");
    server
        .call("docker_prune_networks", json!({"until": "1h; rm -rf"}))
        .await
        .expect_error("DKR-004");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn volume_lifecycle_through_mcp() {
    let mut cleanup = Cleanup::default();
    let volume = cleanup.volume(&unique_name("vol"));
    let server = start(destructive()).await;

    let created = server
        .call(
            "docker_create_volume",
            json!({"name": volume, "labels": {"purpose": "e2e"}}),
        )
        .await;
    assert_eq!(created.ok()["volume"]["name"], json!(volume));

    let inspected = server
        .call("docker_inspect_volume", json!({"volume": volume}))
        .await;
    let details = inspected.ok()["volume"].clone();
    assert_eq!(details["driver"], json!("local"), "{details}");
    assert!(
        details["labels"].to_string().contains("io.bulkhead.plugin"),
        "{details}"
    );

    let listed = server
        .call("docker_list_volumes", json!({"name": volume}))
        .await;
    assert_eq!(listed.ok()["total"], json!(1), "{}", listed.text());
    assert_eq!(listed.ok()["items"][0]["name"], json!(volume));

    server
        .call("docker_remove_volume", json!({"volume": volume}))
        .await
        .ok();
    server
        .call("docker_inspect_volume", json!({"volume": volume}))
        .await
        .expect_error("DKR-002");
    server
        .call("docker_remove_volume", json!({"volume": volume}))
        .await
        .expect_error("DKR-002");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn volume_policy_refuses_disguised_binds_and_foreign_drivers() {
    let mut cleanup = Cleanup::default();
    let refused = cleanup.volume(&unique_name("refused"));
    let allowed = cleanup.volume(&unique_name("bindvol"));
    let dir = tempfile::tempdir().unwrap();
    let dir_path = dir.path().canonicalize().unwrap();
    let dir_text = dir_path.to_str().unwrap().to_string();
    let server = start(ServerOptions::default().arg("--allow-bind").arg(&dir_text)).await;

    for opts in [
        json!({"type": "none", "o": "bind", "device": "/etc"}),
        json!({"o": "bind", "device": "/etc"}),
        json!({"type": "nfs", "o": "addr=127.0.0.1", "device": ":/export"}),
    ] {
        server
            .call(
                "docker_create_volume",
                json!({"name": refused, "driver_opts": opts}),
            )
            .await
            .expect_error("DKR-005");
    }
    server
        .call(
            "docker_create_volume",
            json!({"name": refused, "driver": "rexray"}),
        )
        .await
        .expect_error("DKR-005");
    assert!(docker(&["volume", "inspect", &refused]).is_err());

    let created = server
        .call(
            "docker_create_volume",
            json!({"name": allowed, "driver_opts": {"type": "none", "o": "bind", "device": dir_text}}),
        )
        .await;
    let options = created.ok()["volume"]["options"].to_string();
    assert!(options.contains(&dir_text), "{options}");

    server
        .call("docker_inspect_volume", json!({"volume": "../etc"}))
        .await
        .expect_error("DKR-004");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn volume_listing_pages_over_real_data() {
    let mut cleanup = Cleanup::default();
    let label = unique_name("page");
    let server = start(ServerOptions::default()).await;
    for i in 0..3 {
        let name = cleanup.volume(&format!("{label}-{i}"));
        server
            .call(
                "docker_create_volume",
                json!({"name": name, "labels": {"bulkhead-test-page": label}}),
            )
            .await
            .ok();
    }
    let filter = format!("bulkhead-test-page={label}");
    let first = server
        .call(
            "docker_list_volumes",
            json!({"labels": [filter], "limit": 2}),
        )
        .await;
    let first = first.ok().clone();
    assert_eq!(first["total"], json!(3), "{first}");
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    assert_eq!(first["has_more"], json!(true));
    let second = server
        .call(
            "docker_list_volumes",
            json!({"labels": [filter], "limit": 2, "cursor": first["next_cursor"]}),
        )
        .await;
    let second = second.ok().clone();
    assert_eq!(second["items"].as_array().unwrap().len(), 1, "{second}");
    assert_eq!(second["has_more"], json!(false));
    assert_eq!(second["items"][0]["name"], json!(format!("{label}-2")));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn prunes_remove_only_what_the_label_selects() {
    let mut cleanup = Cleanup::default();
    let label = unique_name("prune");
    let filter = format!("bulkhead-test-prune={label}");
    let labels = json!({"bulkhead-test-prune": label});
    let server = start(destructive()).await;

    let nets: Vec<String> = (0..2)
        .map(|i| cleanup.network(&format!("{label}-net{i}")))
        .collect();
    let vols: Vec<String> = (0..2)
        .map(|i| cleanup.volume(&format!("{label}-vol{i}")))
        .collect();
    for net in &nets {
        server
            .call(
                "docker_create_network",
                json!({"name": net, "labels": labels}),
            )
            .await
            .ok();
    }
    for vol in &vols {
        server
            .call(
                "docker_create_volume",
                json!({"name": vol, "labels": labels}),
            )
            .await
            .ok();
    }
    // An unlabelled volume of the same test must survive every prune below.
    let bystander = cleanup.volume(&format!("{label}-bystander"));
    docker(&["volume", "create", &bystander]).unwrap();

    let pruned = server
        .call("docker_prune_networks", json!({"labels": [filter]}))
        .await;
    assert_eq!(pruned.ok()["removed"], json!(nets), "{}", pruned.text());
    let pruned = server
        .call("docker_prune_volumes", json!({"labels": [filter]}))
        .await;
    assert_eq!(pruned.ok()["removed"], json!(vols), "{}", pruned.text());
    assert!(docker(&["volume", "inspect", &bystander]).is_ok());

    // System prune: a stopped container, a network and a volume under a second label.
    let label2 = unique_name("sysprune");
    let filter2 = format!("bulkhead-test-prune={label2}");
    let container = cleanup.container(&format!("{label2}-c"));
    let id = docker(&[
        "create", "--name", &container, "--label", &filter2, TEST_IMAGE, "true",
    ])
    .unwrap();
    let net = cleanup.network(&format!("{label2}-net"));
    docker(&["network", "create", "--label", &filter2, &net]).unwrap();
    let vol = cleanup.volume(&format!("{label2}-vol"));
    docker(&["volume", "create", "--label", &filter2, &vol]).unwrap();

    let report = server
        .call(
            "docker_prune_system",
            json!({"labels": [filter2], "volumes": true}),
        )
        .await;
    let report = report.ok().clone();
    assert_eq!(report["containers"], json!([id]), "{report}");
    assert_eq!(report["networks"], json!([net]), "{report}");
    assert_eq!(report["volumes"], json!([vol]), "{report}");
    assert_eq!(report["build_cache_pruned"], json!(false), "{report}");
    assert!(docker(&["volume", "inspect", &bystander]).is_ok());

    server
        .call("docker_prune_system", json!({"until": "x/y"}))
        .await
        .expect_error("DKR-004");
    server
        .call("docker_prune_volumes", json!({"labels": ["=nokey"]}))
        .await
        .expect_error("DKR-004");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn deleting_tools_are_hidden_without_allow_destructive() {
    let server = start(ServerOptions::default()).await;
    let names = server.tool_names().await.unwrap();
    for hidden in [
        "docker_remove_network",
        "docker_prune_networks",
        "docker_remove_volume",
        "docker_prune_volumes",
        "docker_prune_system",
    ] {
        assert!(!names.iter().any(|n| n == hidden), "{hidden} is listed");
    }
    for listed in [
        "docker_create_network",
        "docker_create_volume",
        "docker_events",
    ] {
        assert!(names.iter().any(|n| n == listed), "{listed} is missing");
    }
    server
        .call(
            "docker_prune_volumes",
            json!({"labels": ["nothing-has-this"]}),
        )
        .await
        .expect_error("DKR-008");
    server.stop().await.unwrap();
}
