//! What a deploy would do, as an ordered list of steps: the difference between the
//! project's model and what the engine holds. Pure: the engine's side comes in as a
//! [`World`], so every rule has a table test, and `compose_plan` shows exactly the steps
//! `compose_deploy` then takes.

use std::collections::{BTreeMap, BTreeSet};

use bulkhead_plugin_sdk::{ErrorCode, ToolError};
use schemars::JsonSchema;
use serde::Serialize;

use crate::convert;
use crate::observed::Member;
use crate::spec::Project;

/// What the engine holds of the objects a project names.
#[derive(Debug, Clone, Default)]
pub struct World {
    /// The project's containers.
    pub members: Vec<Member>,
    /// Each network the project names, by engine name: the project label it carries
    /// (`Some("")` when it has none), or absent when there is no such network.
    pub networks: BTreeMap<String, String>,
    /// Each volume the project names, likewise.
    pub volumes: BTreeMap<String, String>,
    /// Each image a service runs: its id, or absent when it is not on the engine.
    pub images: BTreeMap<String, String>,
}

/// One step of a deploy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    CreateNetwork,
    CreateVolume,
    BuildImage,
    PullImage,
    /// A container of a service no longer in the file, or beyond its replicas.
    RemoveContainer,
    CreateContainer,
    /// The service's definition or image changed: the container is replaced.
    RecreateContainer,
    /// Unchanged but not running.
    StartContainer,
    /// Unchanged and running: nothing to do.
    KeepContainer,
}

/// A step and what it acts on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Action {
    pub step: Step,
    /// The network, volume, image or container name.
    pub target: String,
    /// The service it belongs to, for images and containers.
    pub service: Option<String>,
    /// Why, in a few words.
    pub reason: String,
    /// For containers: the replica number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<u32>,
}

impl Action {
    fn new(step: Step, target: impl Into<String>, reason: impl Into<String>) -> Self {
        Action {
            step,
            target: target.into(),
            service: None,
            reason: reason.into(),
            number: None,
        }
    }

    fn of(mut self, service: &str, number: Option<u32>) -> Self {
        self.service = Some(service.to_string());
        self.number = number;
        self
    }

    /// True for steps that change something.
    pub fn changes(&self) -> bool {
        self.step != Step::KeepContainer
    }
}

/// The steps that bring the engine to `project`, in order: networks, volumes, images,
/// removals, then each service's containers in dependency order. `rebuild` builds
/// every service that has a `build` section even when its image exists.
pub fn plan(project: &Project, world: &World, rebuild: bool) -> Result<Vec<Action>, ToolError> {
    let mut actions = Vec::new();
    for (key, network) in &project.networks {
        if !project
            .services
            .values()
            .any(|s| s.networks.contains_key(key))
        {
            continue;
        }
        match (world.networks.get(&network.name), network.external) {
            (None, true) => return Err(missing_external("network", &network.name)),
            (None, false) => actions.push(Action::new(Step::CreateNetwork, &network.name, "new")),
            (Some(_), true) => {}
            (Some(owner), false) if owner == &project.name => {}
            (Some(_), false) => return Err(foreign("network", &network.name, &project.name)),
        }
    }
    for (key, volume) in &project.volumes {
        let used = project.services.values().any(|s| {
            s.mounts
                .iter()
                .any(|m| m.source.as_deref() == Some(key.as_str()))
        });
        if !used {
            continue;
        }
        match (world.volumes.get(&volume.name), volume.external) {
            (None, true) => return Err(missing_external("volume", &volume.name)),
            (None, false) => actions.push(Action::new(Step::CreateVolume, &volume.name, "new")),
            (Some(_), true) => {}
            (Some(owner), false) if owner == &project.name => {}
            (Some(_), false) => return Err(foreign("volume", &volume.name, &project.name)),
        }
    }
    let mut images_done = BTreeSet::new();
    for service in project.services.values().filter(|s| s.replicas > 0) {
        let image = convert::image_of(project, service);
        if !images_done.insert(image.clone()) {
            continue;
        }
        let present = world.images.contains_key(&image);
        if service.build.is_some() && (rebuild || !present) {
            let why = if present {
                "rebuild asked"
            } else {
                "not built yet"
            };
            actions.push(Action::new(Step::BuildImage, &image, why).of(&service.name, None));
        } else if !present && service.build.is_none() {
            actions.push(
                Action::new(Step::PullImage, &image, "not on the engine").of(&service.name, None),
            );
        }
    }
    for member in &world.members {
        let wanted = project
            .services
            .get(&member.service)
            .map(|s| (1..=s.replicas).contains(&member.number));
        let reason = match wanted {
            None => "service not in the file",
            Some(false) => "beyond the service's replicas",
            Some(true) => continue,
        };
        actions.push(
            Action::new(Step::RemoveContainer, &member.name, reason)
                .of(&member.service, Some(member.number)),
        );
    }
    for name in project.start_order() {
        let Some(service) = project.services.get(&name) else {
            continue;
        };
        let hash = convert::config_hash(project, service);
        let image = convert::image_of(project, service);
        let image_id = world.images.get(&image);
        for number in 1..=service.replicas {
            let container = convert::container_name(project, service, number);
            let existing: Vec<&Member> = world
                .members
                .iter()
                .filter(|m| m.service == name && m.number == number)
                .collect();
            let action = match existing.first() {
                None => Action::new(Step::CreateContainer, &container, "new"),
                Some(member) if member.config_hash.as_deref() != Some(hash.as_str()) => {
                    Action::new(Step::RecreateContainer, &member.name, "definition changed")
                }
                Some(member) if image_id.is_some_and(|id| *id != member.image_id) => {
                    Action::new(Step::RecreateContainer, &member.name, "image changed")
                }
                Some(member) if !member.running() => {
                    Action::new(Step::StartContainer, &member.name, "not running")
                }
                Some(member) => Action::new(Step::KeepContainer, &member.name, "unchanged"),
            };
            actions.push(action.of(&name, Some(number)));
            // Two containers claiming one number: the newer definition wins, the rest go.
            for extra in existing.iter().skip(1) {
                actions.push(
                    Action::new(
                        Step::RemoveContainer,
                        &extra.name,
                        "duplicate replica number",
                    )
                    .of(&name, Some(number)),
                );
            }
        }
    }
    Ok(actions)
}

fn missing_external(kind: &str, name: &str) -> ToolError {
    ToolError::new(
        ErrorCode::NotFound,
        format!("external {kind} `{name}` does not exist"),
    )
    .with_hint(format!(
        "create the {kind} first, or drop `external: true` so the deploy creates it"
    ))
}

fn foreign(kind: &str, name: &str, project: &str) -> ToolError {
    ToolError::new(
        ErrorCode::Conflict,
        format!("{kind} `{name}` exists but does not belong to project `{project}`"),
    )
    .with_hint(format!(
        "declare it `external: true` to use it as is, or give this project's {kind} another `name`"
    ))
}
