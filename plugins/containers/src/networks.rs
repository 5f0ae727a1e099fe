//! Network tools: list, inspect, create (bridge only), connect, disconnect, remove,
//! prune. Each answers structured content and a short text.

use std::collections::BTreeMap;

use bulkhead_plugin_sdk::docker::network_types::{
    ConnectOptions, CreatedNetwork, NetworkDetails, NetworkFilter, NetworkSpec, NetworkSummary,
};
use bulkhead_plugin_sdk::docker::{KeyValue, networks_manage, networks_read, networks_remove};
use bulkhead_plugin_sdk::{Capability, Page, Reply, ToolError, TypedTool, page_request};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::render;

/// `{key: value}` maps as the host's key-value lists.
pub(crate) fn key_values(map: BTreeMap<String, String>) -> Vec<KeyValue> {
    map.into_iter()
        .map(|(key, value)| KeyValue { key, value })
        .collect()
}

/// Which networks to list; filters combine.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListNetworksArgs {
    /// Keep networks whose name contains this text.
    #[schemars(length(min = 1, max = 255))]
    name: Option<String>,
    /// Keep networks of this driver (bridge, host, null, overlay, …).
    #[schemars(length(min = 1, max = 64))]
    driver: Option<String>,
    /// Label filters, each `key` or `key=value`; all must match.
    #[serde(default)]
    #[schemars(length(max = 16))]
    labels: Vec<String>,
    /// Networks per page, 1-200 (default 50).
    #[schemars(range(min = 1, max = 200))]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page. Omit for the first page.
    #[schemars(length(min = 1))]
    cursor: Option<String>,
}

pub struct ListNetworks;

impl TypedTool for ListNetworks {
    const NAME: &'static str = "docker_list_networks";
    const TITLE: &'static str = "List networks";
    const DESCRIPTION: &'static str = "List Docker networks sorted by name, one page at a \
        time (like `docker network ls`). Filters combine. Pass `next_cursor` back as \
        `cursor` for the next page.";
    const CAPABILITIES: &'static [Capability] = &[Capability::NetworksRead];
    const IDEMPOTENT: bool = true;
    type Args = ListNetworksArgs;
    type Output = Page<NetworkSummary>;

    fn run(args: ListNetworksArgs) -> Result<Reply<Self::Output>, ToolError> {
        let filter = NetworkFilter {
            name: args.name,
            driver: args.driver,
            labels: args.labels,
        };
        let page = networks_read::list_networks(&filter, &page_request(args.limit, args.cursor))
            .map_err(crate::docker_error)?;
        let page = Page::new(page.items, page.total, page.next_cursor);
        let mut text = page.header("network");
        for n in &page.items {
            text.push_str(&format!(
                "\n{}  {}  {}  {}{}",
                render::short_id(&n.id),
                render::one_line(&n.name),
                render::one_line(&n.driver),
                if n.subnets.is_empty() {
                    "-".to_owned()
                } else {
                    render::one_line(&n.subnets.join(","))
                },
                if n.internal { "  internal" } else { "" }
            ));
        }
        if let Some(more) = page.more_line() {
            text.push('\n');
            text.push_str(&more);
        }
        Ok(Reply::new(text, page))
    }
}

/// Names one network.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NetworkArgs {
    /// Network name or id (a unique id prefix works too).
    #[schemars(length(min = 1, max = 255))]
    network: String,
}

/// Structured output of the inspect tool.
#[derive(Debug, Serialize, JsonSchema)]
pub struct InspectNetworkOut {
    /// The network's details.
    network: NetworkDetails,
}

pub struct InspectNetwork;

impl TypedTool for InspectNetwork {
    const NAME: &'static str = "docker_inspect_network";
    const TITLE: &'static str = "Inspect a network";
    const DESCRIPTION: &'static str = "Show one network (like `docker network inspect`): \
        driver, scope, internal/attachable, IPAM subnets and gateways, labels, options and \
        the attached containers with their addresses.";
    const CAPABILITIES: &'static [Capability] = &[Capability::NetworksRead];
    const IDEMPOTENT: bool = true;
    type Args = NetworkArgs;
    type Output = InspectNetworkOut;

    fn run(args: NetworkArgs) -> Result<Reply<InspectNetworkOut>, ToolError> {
        let n = networks_read::inspect_network(&args.network).map_err(crate::docker_error)?;
        let pools: Vec<String> = n
            .ipam
            .iter()
            .map(|p| {
                format!(
                    "{} gw {}",
                    render::one_line(p.subnet.as_deref().unwrap_or("-")),
                    render::one_line(p.gateway.as_deref().unwrap_or("-"))
                )
            })
            .collect();
        let mut text = format!(
            "{} ({}), driver {}, scope {}{}{}\nipam: {}\ncontainers: {}",
            render::one_line(&n.name),
            render::short_id(&n.id),
            render::one_line(&n.driver),
            render::one_line(&n.scope),
            if n.internal { ", internal" } else { "" },
            if n.attachable { ", attachable" } else { "" },
            if pools.is_empty() {
                "-".to_owned()
            } else {
                pools.join(", ")
            },
            n.containers.len()
        );
        for c in &n.containers {
            text.push_str(&format!(
                "\n  {} {}",
                render::one_line(&c.container_name),
                render::one_line(c.ipv4_address.as_deref().unwrap_or("-"))
            ));
        }
        Ok(Reply::new(text, InspectNetworkOut { network: n }))
    }
}

/// The network to create.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateNetworkArgs {
    /// Network name: letters, digits, `_`, `.`, `-`.
    #[schemars(length(min = 1, max = 255))]
    name: String,
    /// Network driver. Only `bridge` (the default) is allowed; host, none, macvlan,
    /// ipvlan and overlay are refused.
    #[schemars(length(min = 1, max = 64))]
    driver: Option<String>,
    /// Cut the network off from the outside world. Default false.
    #[serde(default)]
    internal: bool,
    /// Let containers attach manually. Default false.
    #[serde(default)]
    attachable: bool,
    /// Enable IPv6. Default false.
    #[serde(default)]
    enable_ipv6: bool,
    /// Labels to set (`io.bulkhead.*` are the host's own and refused).
    #[serde(default)]
    labels: BTreeMap<String, String>,
    /// IPv4 subnet in CIDR form such as 10.10.0.0/24; the engine picks one when absent.
    #[schemars(length(min = 9, max = 18))]
    subnet: Option<String>,
    /// Gateway address inside `subnet`.
    #[schemars(length(min = 7, max = 15))]
    gateway: Option<String>,
}

pub struct CreateNetwork;

impl TypedTool for CreateNetwork {
    const NAME: &'static str = "docker_create_network";
    const TITLE: &'static str = "Create a network";
    const DESCRIPTION: &'static str = "Create a user-defined bridge network (like `docker \
        network create`). Containers on it reach each other by name. Only the bridge \
        driver is allowed.";
    const CAPABILITIES: &'static [Capability] = &[Capability::NetworksManage];
    type Args = CreateNetworkArgs;
    type Output = CreatedNetwork;

    fn run(args: CreateNetworkArgs) -> Result<Reply<CreatedNetwork>, ToolError> {
        let spec = NetworkSpec {
            name: args.name,
            driver: args.driver,
            internal: args.internal,
            attachable: args.attachable,
            enable_ipv6: args.enable_ipv6,
            labels: key_values(args.labels),
            subnet: args.subnet,
            gateway: args.gateway,
        };
        let created = networks_manage::create_network(&spec).map_err(crate::docker_error)?;
        let text = format!(
            "Created network {} ({}).",
            render::one_line(&created.name),
            render::short_id(&created.id)
        );
        Ok(Reply::new(text, created))
    }
}

/// What happened to which container and network.
#[derive(Debug, Serialize, JsonSchema)]
pub struct NetworkAction {
    /// The network, as named in the call.
    network: String,
    /// The container, as named in the call, if any.
    container: Option<String>,
    /// What was done: connected, disconnected, removed.
    action: String,
}

/// Which container to attach to which network.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectArgs {
    /// Network name or id.
    #[schemars(length(min = 1, max = 255))]
    network: String,
    /// Container name or id.
    #[schemars(length(min = 1, max = 255))]
    container: String,
    /// Extra DNS names for the container on this network.
    #[serde(default)]
    #[schemars(length(max = 16))]
    aliases: Vec<String>,
    /// A fixed IPv4 address; the network must have a configured subnet holding it.
    #[schemars(length(min = 7, max = 15))]
    ipv4_address: Option<String>,
}

pub struct ConnectNetwork;

impl TypedTool for ConnectNetwork {
    const NAME: &'static str = "docker_connect_network";
    const TITLE: &'static str = "Connect a container to a network";
    const DESCRIPTION: &'static str = "Attach a container to a network (like `docker network \
        connect`), optionally with aliases and a fixed IPv4 address.";
    const CAPABILITIES: &'static [Capability] = &[Capability::NetworksManage];
    type Args = ConnectArgs;
    type Output = NetworkAction;

    fn run(args: ConnectArgs) -> Result<Reply<NetworkAction>, ToolError> {
        let options = ConnectOptions {
            aliases: args.aliases,
            ipv4_address: args.ipv4_address,
        };
        networks_manage::connect_network(&args.network, &args.container, &options)
            .map_err(crate::docker_error)?;
        let text = format!(
            "Connected container {} to network {}.",
            render::one_line(&args.container),
            render::one_line(&args.network)
        );
        Ok(Reply::new(
            text,
            NetworkAction {
                network: args.network,
                container: Some(args.container),
                action: "connected".into(),
            },
        ))
    }
}

/// Which container to detach from which network.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DisconnectArgs {
    /// Network name or id.
    #[schemars(length(min = 1, max = 255))]
    network: String,
    /// Container name or id.
    #[schemars(length(min = 1, max = 255))]
    container: String,
    /// Force the disconnect even if the engine holds a stale endpoint. Default false.
    #[serde(default)]
    force: bool,
}

pub struct DisconnectNetwork;

impl TypedTool for DisconnectNetwork {
    const NAME: &'static str = "docker_disconnect_network";
    const TITLE: &'static str = "Disconnect a container from a network";
    const DESCRIPTION: &'static str = "Detach a container from a network (like `docker \
        network disconnect`). The container and the network are kept.";
    const CAPABILITIES: &'static [Capability] = &[Capability::NetworksManage];
    type Args = DisconnectArgs;
    type Output = NetworkAction;

    fn run(args: DisconnectArgs) -> Result<Reply<NetworkAction>, ToolError> {
        networks_manage::disconnect_network(&args.network, &args.container, args.force)
            .map_err(crate::docker_error)?;
        let text = format!(
            "Disconnected container {} from network {}.",
            render::one_line(&args.container),
            render::one_line(&args.network)
        );
        Ok(Reply::new(
            text,
            NetworkAction {
                network: args.network,
                container: Some(args.container),
                action: "disconnected".into(),
            },
        ))
    }
}

pub struct RemoveNetwork;

impl TypedTool for RemoveNetwork {
    const NAME: &'static str = "docker_remove_network";
    const TITLE: &'static str = "Remove a network";
    const DESCRIPTION: &'static str = "Delete a network (like `docker network rm`). \
        Destructive. A network with attached containers is refused (disconnect them \
        first); the predefined bridge, host and none networks are always refused.";
    const CAPABILITIES: &'static [Capability] = &[Capability::NetworksRemove];
    type Args = NetworkArgs;
    type Output = NetworkAction;

    fn run(args: NetworkArgs) -> Result<Reply<NetworkAction>, ToolError> {
        networks_remove::remove_network(&args.network).map_err(crate::docker_error)?;
        let text = format!("Removed network {}.", render::one_line(&args.network));
        Ok(Reply::new(
            text,
            NetworkAction {
                network: args.network,
                container: None,
                action: "removed".into(),
            },
        ))
    }
}

/// Which unused networks to delete.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PruneNetworksArgs {
    /// Label filters, each `key` or `key=value`; all must match. Without any, every
    /// unused network is removed.
    #[serde(default)]
    #[schemars(length(max = 16))]
    labels: Vec<String>,
    /// Only networks created before this: Unix time, RFC 3339 time, or a duration such
    /// as `24h`.
    #[schemars(length(min = 1, max = 40))]
    until: Option<String>,
}

/// What a prune removed.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PrunedNetworks {
    /// Names of the removed networks.
    removed: Vec<String>,
}

pub struct PruneNetworks;

impl TypedTool for PruneNetworks {
    const NAME: &'static str = "docker_prune_networks";
    const TITLE: &'static str = "Prune unused networks";
    const DESCRIPTION: &'static str = "Delete every network no container uses (like \
        `docker network prune`), narrowed by label and age filters. Destructive. \
        Predefined networks are never removed.";
    const CAPABILITIES: &'static [Capability] = &[Capability::NetworksRemove];
    type Args = PruneNetworksArgs;
    type Output = PrunedNetworks;

    fn run(args: PruneNetworksArgs) -> Result<Reply<PrunedNetworks>, ToolError> {
        let removed = networks_remove::prune_networks(&args.labels, args.until.as_deref())
            .map_err(crate::docker_error)?;
        let text = if removed.is_empty() {
            "No networks removed.".to_owned()
        } else {
            format!(
                "Removed {} network(s): {}",
                removed.len(),
                render::one_line(&removed.join(", "))
            )
        };
        Ok(Reply::new(text, PrunedNetworks { removed }))
    }
}
