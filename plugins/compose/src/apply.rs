//! Carrying out a plan against the engine through the host's primitives, step by step,
//! reporting progress, waiting for dependencies by bounded polling, and stopping at the
//! first failure with an exact account of what was done.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bulkhead_plugin_sdk::bindings::bulkhead::plugin::progress;
use bulkhead_plugin_sdk::docker::image_types::BuildSpec;
use bulkhead_plugin_sdk::docker::network_types::{ConnectOptions, NetworkSpec};
use bulkhead_plugin_sdk::docker::volume_types::VolumeSpec;
use bulkhead_plugin_sdk::docker::{
    DockerError, KeyValue, containers_manage, containers_read, containers_remove, images_build,
    images_pull, images_read, networks_manage, networks_read, volumes_manage, volumes_read,
};
use bulkhead_plugin_sdk::{ErrorCode, ToolError};
use schemars::JsonSchema;
use serde::Serialize;

use crate::convert::{self, Origin};
use crate::labels;
use crate::observed::{self, Member};
use crate::plan::{self, Action, Step, World};
use crate::source::Stack;
use crate::spec::{DependsCondition, Project};

/// How often a dependency's state is polled while waiting for it.
const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// Reads what the engine holds of everything `project` names.
pub fn gather(project: &Project) -> Result<World, ToolError> {
    let mut world = World {
        members: observed::members(&project.name)?,
        ..World::default()
    };
    for network in project.networks.values() {
        match networks_read::inspect_network(&network.name) {
            Ok(details) => {
                let owner = labels::get(&details.labels, labels::PROJECT).unwrap_or_default();
                world
                    .networks
                    .insert(network.name.clone(), owner.to_string());
            }
            Err(DockerError::NotFound(_)) => {}
            Err(other) => return Err(other.into()),
        }
    }
    for volume in project.volumes.values() {
        match volumes_read::inspect_volume(&volume.name) {
            Ok(details) => {
                let owner = labels::get(&details.labels, labels::PROJECT).unwrap_or_default();
                world.volumes.insert(volume.name.clone(), owner.to_string());
            }
            Err(DockerError::NotFound(_)) => {}
            Err(other) => return Err(other.into()),
        }
    }
    for service in project.services.values() {
        let image = convert::image_of(project, service);
        if world.images.contains_key(&image) {
            continue;
        }
        match images_read::inspect_image(&image) {
            Ok(details) => {
                world.images.insert(image, details.id);
            }
            Err(DockerError::ImageNotFound(_) | DockerError::NotFound(_)) => {}
            Err(other) => return Err(other.into()),
        }
    }
    Ok(world)
}

/// One container of the project as the deploy left it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DeployedContainer {
    pub service: String,
    pub name: String,
    pub id: String,
}

/// What a deploy did.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct Outcome {
    /// Every step taken, in order, including containers kept as they were.
    pub actions: Vec<Action>,
    /// The project's containers after the deploy.
    pub containers: Vec<DeployedContainer>,
}

/// How a deploy runs.
#[derive(Debug, Clone)]
pub struct Options {
    pub rebuild: bool,
    /// Longest total time spent waiting for dependencies to become healthy or complete.
    pub wait: Duration,
}

/// Deploys `stack`: plans, then takes each step in order.
pub fn deploy(stack: &Stack, options: &Options) -> Result<Outcome, ToolError> {
    let project = &stack.project;
    let origin = Origin {
        working_dir: stack.dir.as_ref().map(|d| d.display().to_string()),
        config_file: stack.file.as_ref().map(|f| f.display().to_string()),
    };
    let mut run = Run {
        project,
        origin,
        outcome: Outcome::default(),
        ids: BTreeMap::new(),
        waited_until: Instant::now() + options.wait,
        total: 0,
    };
    let world = gather(project)?;
    let actions = plan::plan(project, &world, options.rebuild)?;
    run.total = actions.len() as u64;
    let (setup, containers): (Vec<Action>, Vec<Action>) =
        actions.into_iter().partition(|a| !is_container_step(a));
    let imaged = setup
        .iter()
        .any(|a| matches!(a.step, Step::BuildImage | Step::PullImage));
    for action in setup {
        run.take(action, &world)?;
    }
    // A build or pull may have changed an image: judge containers by the images now.
    let (world, containers) = if imaged {
        let world = gather(project)?;
        let fresh = plan::plan(project, &world, false)?
            .into_iter()
            .filter(is_container_step)
            .collect();
        (world, fresh)
    } else {
        (world, containers)
    };
    for member in &world.members {
        run.ids
            .insert((member.service.clone(), member.number), member.id.clone());
    }
    let mut waited_for = std::collections::BTreeSet::new();
    for action in containers {
        if let Some(service) = action.service.clone()
            && action.step != Step::RemoveContainer
            && waited_for.insert(service.clone())
        {
            run.wait_for_dependencies(&service)
                .map_err(|err| run.failed(&action, err))?;
        }
        run.take(action, &world)?;
    }
    let mut containers: Vec<DeployedContainer> = observed::members(&project.name)?
        .into_iter()
        .map(|m| DeployedContainer {
            service: m.service,
            name: m.name,
            id: m.id,
        })
        .collect();
    containers.sort_by(|a, b| a.name.cmp(&b.name));
    run.outcome.containers = containers;
    Ok(run.outcome)
}

fn is_container_step(action: &Action) -> bool {
    matches!(
        action.step,
        Step::RemoveContainer
            | Step::CreateContainer
            | Step::RecreateContainer
            | Step::StartContainer
            | Step::KeepContainer
    )
}

/// A deploy in progress.
struct Run<'a> {
    project: &'a Project,
    origin: Origin,
    outcome: Outcome,
    /// Container ids by service and replica number, as they are now.
    ids: BTreeMap<(String, u32), String>,
    /// When waiting for dependencies must end.
    waited_until: Instant,
    total: u64,
}

impl Run<'_> {
    /// Takes one step; on failure, the error says what was done before it.
    fn take(&mut self, action: Action, world: &World) -> Result<(), ToolError> {
        let done = self.outcome.actions.len() as u64;
        if action.changes() {
            progress::report(
                done,
                Some(self.total),
                &format!("{:?} {}", action.step, action.target),
            );
        }
        self.step(&action, world)
            .map_err(|err| self.failed(&action, err))?;
        self.outcome.actions.push(action);
        Ok(())
    }

    fn step(&mut self, action: &Action, world: &World) -> Result<(), ToolError> {
        let project = self.project;
        match action.step {
            Step::CreateNetwork => {
                let (key, def) = project
                    .networks
                    .iter()
                    .find(|(_, n)| n.name == action.target)
                    .ok_or_else(|| fault("network", &action.target))?;
                let mut labels = pairs(&def.labels);
                labels.extend(labels::list([
                    (labels::NETWORK, key.clone()),
                    (labels::PROJECT, project.name.clone()),
                    (labels::VERSION, labels::TOOL_VERSION.to_string()),
                ]));
                networks_manage::create_network(&NetworkSpec {
                    name: def.name.clone(),
                    driver: def.driver.clone(),
                    internal: def.internal,
                    attachable: def.attachable,
                    enable_ipv6: def.enable_ipv6,
                    labels,
                    subnet: def.subnet.clone(),
                    gateway: def.gateway.clone(),
                })?;
            }
            Step::CreateVolume => {
                let (key, def) = project
                    .volumes
                    .iter()
                    .find(|(_, v)| v.name == action.target)
                    .ok_or_else(|| fault("volume", &action.target))?;
                let mut labels = pairs(&def.labels);
                labels.extend(labels::list([
                    (labels::VOLUME, key.clone()),
                    (labels::PROJECT, project.name.clone()),
                    (labels::VERSION, labels::TOOL_VERSION.to_string()),
                ]));
                volumes_manage::create_volume(&VolumeSpec {
                    name: Some(def.name.clone()),
                    driver: def.driver.clone(),
                    driver_opts: pairs(&def.driver_opts),
                    labels,
                })?;
            }
            Step::BuildImage => {
                let service = self.service(action)?;
                let build = service
                    .build
                    .as_ref()
                    .ok_or_else(|| fault("build", &action.target))?;
                if build
                    .dockerfile
                    .as_deref()
                    .is_some_and(|name| name != "Dockerfile")
                {
                    return Err(ToolError::invalid_argument(format!(
                        "`services.{}.build.dockerfile`: only a context's own `Dockerfile` can be built",
                        service.name
                    ))
                    .with_hint("rename the file to Dockerfile, or give each variant its own context directory"));
                }
                images_build::build_image(&BuildSpec {
                    dockerfile: None,
                    files: Vec::new(),
                    context_dir: Some(build.context.display().to_string()),
                    tags: vec![action.target.clone()],
                    build_args: pairs(&build.args),
                    labels: labels::list([
                        (labels::PROJECT, project.name.clone()),
                        (labels::SERVICE, service.name.clone()),
                    ]),
                    network: None,
                    no_cache: false,
                    pull: false,
                    target: build.target.clone(),
                })?;
            }
            Step::PullImage => {
                images_pull::pull_image(&action.target)?;
            }
            Step::RemoveContainer => {
                let member = member_named(world, &action.target)?;
                remove(member.id.as_str(), self.stop_timeout(&member.service))?;
            }
            Step::CreateContainer => {
                let (service, number) = self.replica(action)?;
                self.create(&service, number)?;
            }
            Step::RecreateContainer => {
                let member = member_named(world, &action.target)?;
                remove(member.id.as_str(), self.stop_timeout(&member.service))?;
                let (service, number) = self.replica(action)?;
                self.create(&service, number)?;
            }
            Step::StartContainer => {
                let member = member_named(world, &action.target)?;
                containers_manage::start_container(&member.id)?;
            }
            Step::KeepContainer => {}
        }
        Ok(())
    }

    /// Creates replica `number` of `service`, joins its other networks, starts it.
    fn create(&mut self, service: &str, number: u32) -> Result<(), ToolError> {
        let project = self.project;
        let definition = project
            .services
            .get(service)
            .ok_or_else(|| fault("service", service))?;
        let hash = convert::config_hash(project, definition);
        let spec = convert::container_spec(project, definition, number, &hash, &self.origin);
        let created = containers_manage::create_container(&spec)?;
        self.ids
            .insert((service.to_string(), number), created.id.clone());
        for (network, aliases) in convert::service_networks(project, definition)
            .into_iter()
            .skip(1)
        {
            networks_manage::connect_network(
                &network,
                &created.id,
                &ConnectOptions {
                    aliases,
                    ipv4_address: None,
                },
            )?;
        }
        containers_manage::start_container(&created.id)?;
        Ok(())
    }

    /// Waits, within the deploy's budget, until each dependency of `service` meets its
    /// condition.
    fn wait_for_dependencies(&mut self, service: &str) -> Result<(), ToolError> {
        let Some(definition) = self.project.services.get(service) else {
            return Ok(());
        };
        for (dependency, condition) in &definition.depends_on {
            let ids: Vec<String> = self
                .ids
                .iter()
                .filter(|((name, _), _)| name == dependency)
                .map(|(_, id)| id.clone())
                .collect();
            for id in ids {
                match condition {
                    DependsCondition::ServiceStarted => {}
                    DependsCondition::ServiceHealthy => self.wait_healthy(dependency, &id)?,
                    DependsCondition::ServiceCompletedSuccessfully => {
                        self.wait_completed(dependency, &id)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn wait_healthy(&self, dependency: &str, id: &str) -> Result<(), ToolError> {
        loop {
            let details = containers_read::inspect_container(id)?;
            let Some(health) = details.state.health else {
                return Err(ToolError::invalid_argument(format!(
                    "service `{dependency}` is waited for with `service_healthy` but has no healthcheck"
                ))
                .with_hint("give it a `healthcheck`, or depend on it with `service_started`"));
            };
            match health.status.as_str() {
                "healthy" => return Ok(()),
                "unhealthy" => {
                    let output = health.last_output.unwrap_or_default();
                    return Err(ToolError::new(
                        ErrorCode::Conflict,
                        format!(
                            "service `{dependency}` is unhealthy (last probe exit {}: {output})",
                            health.last_exit_code.unwrap_or(-1)
                        ),
                    )
                    .with_hint("read its logs with compose_logs; fix it and deploy again"));
                }
                _ if !details.state.running => {
                    return Err(ToolError::new(
                        ErrorCode::Conflict,
                        format!(
                            "service `{dependency}` stopped (exit code {}) before it became healthy",
                            details.state.exit_code
                        ),
                    )
                    .with_hint("read its logs with compose_logs"));
                }
                _ => self.pause(dependency, "healthy")?,
            }
        }
    }

    fn wait_completed(&self, dependency: &str, id: &str) -> Result<(), ToolError> {
        loop {
            let details = containers_read::inspect_container(id)?;
            if !details.state.running && !details.state.restarting {
                if details.state.exit_code == 0 {
                    return Ok(());
                }
                return Err(ToolError::new(
                    ErrorCode::Conflict,
                    format!(
                        "service `{dependency}` exited with code {}; its dependents were not started",
                        details.state.exit_code
                    ),
                )
                .with_hint("read its logs with compose_logs"));
            }
            self.pause(dependency, "completed")?;
        }
    }

    /// Sleeps one poll interval, or fails once the wait budget is spent.
    fn pause(&self, dependency: &str, condition: &str) -> Result<(), ToolError> {
        let now = Instant::now();
        if now + POLL_INTERVAL > self.waited_until {
            return Err(ToolError::new(
                ErrorCode::Timeout,
                format!("service `{dependency}` is not {condition} yet"),
            )
            .with_hint(
                "deploy again to keep waiting (what is done stays done), or raise wait_timeout_secs",
            ));
        }
        std::thread::sleep(POLL_INTERVAL);
        Ok(())
    }

    fn service(&self, action: &Action) -> Result<&crate::spec::Service, ToolError> {
        let name = action.service.as_deref().unwrap_or_default();
        self.project
            .services
            .get(name)
            .ok_or_else(|| fault("service", name))
    }

    fn replica(&self, action: &Action) -> Result<(String, u32), ToolError> {
        let service = self.service(action)?;
        Ok((service.name.clone(), action.number.unwrap_or(1)))
    }

    fn stop_timeout(&self, service: &str) -> Option<u32> {
        self.project
            .services
            .get(service)
            .and_then(|s| s.stop_grace_period_secs)
            .map(|secs| secs.min(120))
    }

    /// The error of a failed step, with what the deploy did before it.
    fn failed(&self, action: &Action, err: ToolError) -> ToolError {
        let done: Vec<String> = self
            .outcome
            .actions
            .iter()
            .filter(|a| a.changes())
            .map(|a| format!("{} {}", step_words(&a.step), a.target))
            .collect();
        let done = if done.is_empty() {
            "nothing".to_string()
        } else {
            done.join("; ")
        };
        let message = format!(
            "deploy of `{}` stopped at `{} {}`: {} Done before it: {done}.",
            self.project.name,
            step_words(&action.step),
            action.target,
            err.message
        );
        let hint = match &err.hint {
            Some(hint) => format!(
                "{hint}. What was created is labelled with the project: compose_deploy again to continue, or compose_down to remove it"
            ),
            None => "what was created is labelled with the project: compose_deploy again to continue, or compose_down to remove it".to_string(),
        };
        ToolError::new(err.code, message).with_hint(hint)
    }
}

/// Removes a container, stopping it first (bounded) when it runs; its named volumes
/// stay. The first request is a plain removal, so a container this plugin may not
/// remove is refused before anything happens to it.
pub fn remove(id: &str, timeout_secs: Option<u32>) -> Result<(), ToolError> {
    match containers_remove::remove_container(id, false, false) {
        Ok(()) => return Ok(()),
        // Running: stop it gracefully, then remove it.
        Err(DockerError::Conflict(_)) => {}
        Err(other) => return Err(other.into()),
    }
    containers_manage::stop_container(id, timeout_secs)?;
    containers_remove::remove_container(id, true, false)?;
    Ok(())
}

/// A step named in words for messages.
pub fn step_words(step: &Step) -> &'static str {
    match step {
        Step::CreateNetwork => "create network",
        Step::CreateVolume => "create volume",
        Step::BuildImage => "build image",
        Step::PullImage => "pull image",
        Step::RemoveContainer => "remove container",
        Step::CreateContainer => "create container",
        Step::RecreateContainer => "recreate container",
        Step::StartContainer => "start container",
        Step::KeepContainer => "keep container",
    }
}

fn pairs(map: &BTreeMap<String, String>) -> Vec<KeyValue> {
    map.iter()
        .map(|(key, value)| KeyValue {
            key: key.clone(),
            value: value.clone(),
        })
        .collect()
}

fn member_named<'w>(world: &'w World, name: &str) -> Result<&'w Member, ToolError> {
    world
        .members
        .iter()
        .find(|m| m.name == name)
        .ok_or_else(|| fault("container", name))
}

/// The plan and the model disagree: a bug in this plugin, not in the caller's stack.
fn fault(kind: &str, name: &str) -> ToolError {
    ToolError::new(
        ErrorCode::PluginFault,
        format!("the deploy plan names {kind} `{name}` that the stack does not define"),
    )
}
