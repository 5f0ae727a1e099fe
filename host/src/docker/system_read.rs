//! `system-read`: engine info, versions, disk use and a bounded window of events. Read
//! tier. Also the (empty) host side of `system-types`.

use std::collections::HashSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bollard::models::{ContainerSummaryStateEnum, EventMessage};
use bollard::query_parameters::{
    EventsOptionsBuilder, ListContainersOptionsBuilder, ListImagesOptionsBuilder,
    ListVolumesOptions,
};
use futures_util::StreamExt;

use super::filters::Filters;
use super::{engine_call, map_error};
use crate::access::CallAccess;
use crate::bindings::DockerError;
use crate::bindings::bulkhead::plugin::system_read::Host;
use crate::bindings::bulkhead::plugin::system_types::{
    self, DiskUsage, EngineEvent, EventBatch, EventsRequest, SystemInfo, UsageCategory, VersionInfo,
};
use crate::bindings::bulkhead::plugin::types::KeyValue;
use crate::capabilities::Capability;
use crate::redact::{redact_command_line, redact_label};
use crate::sanitize::{one_line, truncate_at_char};

/// Default look-back of an events read without `since`.
const DEFAULT_EVENTS_WINDOW_SECS: i64 = 60;
/// How far ahead `until` may lie: the call waits for the window to close.
const MAX_EVENTS_AHEAD_SECS: i64 = 10;
const DEFAULT_MAX_EVENTS: u32 = 100;
const MAX_EVENTS: u32 = 1000;
/// Stop reading once the events kept add up to about this many bytes.
const MAX_EVENT_BYTES: usize = 256 << 10;
/// Attributes kept per event, and the longest value kept.
const MAX_EVENT_ATTRIBUTES: usize = 32;
const MAX_ATTRIBUTE_BYTES: usize = 256;
/// Slack on top of the window before the host stops waiting for the engine.
const EVENTS_GRACE: Duration = Duration::from_secs(5);
/// Longest engine text kept in one field.
const MAX_FIELD_BYTES: usize = 512;

impl system_types::Host for CallAccess {}

impl Host for CallAccess {
    async fn info(&mut self) -> Result<SystemInfo, DockerError> {
        let docker = self.authorize(Capability::SystemRead).await?;
        let info = engine_call(&self.docker, docker.info()).await?;
        let count = |n: Option<i64>| n.unwrap_or(0).clamp(0, u32::MAX as i64) as u32;
        let text = |s: Option<String>| one_line(&s.unwrap_or_default(), MAX_FIELD_BYTES);
        Ok(SystemInfo {
            engine_version: text(info.server_version),
            hostname: text(info.name),
            operating_system: text(info.operating_system),
            os_type: text(info.os_type),
            kernel_version: text(info.kernel_version),
            architecture: text(info.architecture),
            cpus: count(info.ncpu),
            memory_bytes: info.mem_total.unwrap_or(0),
            containers: count(info.containers),
            containers_running: count(info.containers_running),
            containers_paused: count(info.containers_paused),
            containers_stopped: count(info.containers_stopped),
            images: count(info.images),
            storage_driver: text(info.driver),
            cgroup_version: info
                .cgroup_version
                .map(|v| v.to_string())
                .unwrap_or_default(),
            cgroup_driver: info
                .cgroup_driver
                .map(|v| v.to_string())
                .unwrap_or_default(),
            logging_driver: text(info.logging_driver),
            warnings: info
                .warnings
                .unwrap_or_default()
                .iter()
                .take(32)
                .map(|w| one_line(w, MAX_FIELD_BYTES))
                .collect(),
        })
    }

    async fn version(&mut self) -> Result<VersionInfo, DockerError> {
        let docker = self.authorize(Capability::SystemRead).await?;
        let negotiated = docker.client_version();
        let version = engine_call(&self.docker, docker.version()).await?;
        let text = |s: Option<String>| one_line(&s.unwrap_or_default(), MAX_FIELD_BYTES);
        Ok(VersionInfo {
            negotiated_api_version: format!(
                "{}.{}",
                negotiated.major_version, negotiated.minor_version
            ),
            engine_version: text(version.version),
            api_version: text(version.api_version),
            min_api_version: text(version.min_api_version),
            go_version: text(version.go_version),
            os: text(version.os),
            arch: text(version.arch),
            kernel_version: text(version.kernel_version),
            git_commit: text(version.git_commit),
            build_time: text(version.build_time),
        })
    }

    async fn df(&mut self) -> Result<DiskUsage, DockerError> {
        // Engines before API 1.52 answer /system/df in a format bollard 0.21 does not
        // read, so the figures come from three listings instead.
        let docker = self.authorize(Capability::SystemRead).await?;
        let containers = engine_call(
            &self.docker,
            docker.list_containers(Some(
                ListContainersOptionsBuilder::new()
                    .all(true)
                    .size(true)
                    .build(),
            )),
        )
        .await?;
        let docker = self.authorize(Capability::SystemRead).await?;
        let images = engine_call(
            &self.docker,
            docker.list_images(Some(ListImagesOptionsBuilder::new().all(false).build())),
        )
        .await?;
        let docker = self.authorize(Capability::SystemRead).await?;
        let volumes = engine_call(
            &self.docker,
            docker.list_volumes(None::<ListVolumesOptions>),
        )
        .await?
        .volumes
        .unwrap_or_default();

        let used_images: HashSet<&str> = containers
            .iter()
            .filter_map(|c| c.image_id.as_deref())
            .collect();
        let used_volumes: HashSet<&str> = containers
            .iter()
            .flat_map(|c| c.mounts.iter().flatten())
            .filter_map(|m| m.name.as_deref())
            .collect();

        let mut image_usage = category(images.len(), 0, Some(0), Some(0));
        for image in &images {
            let size = image.size.max(0);
            *image_usage.size_bytes.get_or_insert(0) += size;
            if used_images.contains(image.id.as_str()) {
                image_usage.active += 1;
            } else {
                *image_usage.reclaimable_bytes.get_or_insert(0) += size;
            }
        }
        let mut container_usage = category(containers.len(), 0, Some(0), Some(0));
        for container in &containers {
            let size = container.size_rw.unwrap_or(0).max(0);
            *container_usage.size_bytes.get_or_insert(0) += size;
            if container.state == Some(ContainerSummaryStateEnum::RUNNING) {
                container_usage.active += 1;
            } else {
                *container_usage.reclaimable_bytes.get_or_insert(0) += size;
            }
        }
        let active_volumes = volumes
            .iter()
            .filter(|v| used_volumes.contains(v.name.as_str()))
            .count();
        Ok(DiskUsage {
            images: image_usage,
            containers: container_usage,
            volumes: category(volumes.len(), active_volumes, None, None),
            build_cache: None,
            note: Some(
                "computed from listings: image sizes count shared layers once per image; \
                 volume sizes and build cache are not reported by this host"
                    .into(),
            ),
        })
    }

    async fn events(&mut self, request: EventsRequest) -> Result<EventBatch, DockerError> {
        let docker = self.authorize(Capability::SystemRead).await?;
        let now = unix_now();
        let (since, until) = events_window(request.since, request.until, now)?;
        let max_events =
            super::paging::clamp_or_default(request.max_events, DEFAULT_MAX_EVENTS, MAX_EVENTS)
                as usize;
        let filters = Filters::new()
            .list("type", &request.types)?
            .list("event", &request.events)?
            .list("container", &request.containers)?
            .labels(&request.labels)?
            .into_map();
        let filters = self.scope_filters(filters);
        let options = EventsOptionsBuilder::new()
            .since(&since.to_string())
            .until(&until.to_string())
            .filters(&filters)
            .build();

        let mut events = Vec::new();
        let mut bytes = 0;
        let mut truncated = false;
        let mut stream = docker.events(Some(options));
        // The engine closes the stream at `until`; the deadline only guards against an
        // engine that does not.
        let wait = Duration::from_secs((until - now).max(0) as u64) + EVENTS_GRACE;
        let read = tokio::time::timeout(wait, async {
            while let Some(message) = stream.next().await {
                let event = event_from_engine(message.map_err(map_error)?);
                bytes += event_size(&event);
                if events.len() == max_events || bytes > MAX_EVENT_BYTES {
                    truncated = true;
                    break;
                }
                events.push(event);
            }
            Ok::<(), DockerError>(())
        })
        .await;
        match read {
            Ok(Ok(())) | Err(_) => {}
            Ok(Err(err)) => {
                if matches!(err, DockerError::Unavailable(_)) {
                    self.docker.reset().await;
                }
                return Err(err);
            }
        }
        Ok(EventBatch {
            events,
            since,
            until,
            truncated,
        })
    }
}

fn category(
    count: usize,
    active: usize,
    size_bytes: Option<i64>,
    reclaimable_bytes: Option<i64>,
) -> UsageCategory {
    UsageCategory {
        count: u32::try_from(count).unwrap_or(u32::MAX),
        active: u32::try_from(active).unwrap_or(u32::MAX),
        size_bytes,
        reclaimable_bytes,
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The window to read: `since` defaults to a minute ago, `until` to now and may lie at
/// most a few seconds ahead, so the call always returns.
fn events_window(
    since: Option<i64>,
    until: Option<i64>,
    now: i64,
) -> Result<(i64, i64), DockerError> {
    let until = until.unwrap_or(now);
    let since = since.unwrap_or(until - DEFAULT_EVENTS_WINDOW_SECS);
    if since < 0 || until < 0 {
        return Err(DockerError::Invalid(
            "`since` and `until` are Unix times in seconds".into(),
        ));
    }
    if until > now + MAX_EVENTS_AHEAD_SECS {
        return Err(DockerError::Invalid(format!(
            "`until` may be at most {MAX_EVENTS_AHEAD_SECS} s in the future: the call waits \
             for the window to close"
        )));
    }
    if since > until {
        return Err(DockerError::Invalid(
            "`since` must not be after `until`".into(),
        ));
    }
    Ok((since, until))
}

fn event_from_engine(message: EventMessage) -> EngineEvent {
    let actor = message.actor.unwrap_or_default();
    let mut attributes: Vec<KeyValue> = actor
        .attributes
        .unwrap_or_default()
        .into_iter()
        .map(|(key, value)| KeyValue {
            value: truncate_at_char(
                &one_line(&redact_label(&key, &value), MAX_FIELD_BYTES),
                MAX_ATTRIBUTE_BYTES,
            )
            .to_string(),
            key: one_line(&key, MAX_ATTRIBUTE_BYTES),
        })
        .collect();
    attributes.sort_by(|a, b| a.key.cmp(&b.key));
    attributes.truncate(MAX_EVENT_ATTRIBUTES);
    EngineEvent {
        kind: message.typ.map(|t| t.to_string()).unwrap_or_default(),
        // `exec_start: sh -c …` carries a command line.
        action: one_line(
            &redact_command_line(&message.action.unwrap_or_default()),
            MAX_FIELD_BYTES,
        ),
        actor_id: one_line(&actor.id.unwrap_or_default(), MAX_FIELD_BYTES),
        attributes,
        scope: message.scope.map(|s| s.to_string()).unwrap_or_default(),
        time: message.time.unwrap_or(0),
        time_nano: message.time_nano.unwrap_or(0),
    }
}

/// About how many bytes an event adds to the answer.
fn event_size(event: &EngineEvent) -> usize {
    64 + event.kind.len()
        + event.action.len()
        + event.actor_id.len()
        + event
            .attributes
            .iter()
            .map(|a| a.key.len() + a.value.len() + 16)
            .sum::<usize>()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use bollard::models::EventActor;

    use super::*;

    #[test]
    fn windows_are_bounded() {
        let now = 1_000_000;
        assert_eq!(events_window(None, None, now).unwrap(), (now - 60, now));
        assert_eq!(
            events_window(Some(now - 5), Some(now + 10), now).unwrap(),
            (now - 5, now + 10)
        );
        assert!(events_window(None, Some(now + 11), now).is_err());
        assert!(events_window(Some(now), Some(now - 1), now).is_err());
        assert!(events_window(Some(-1), None, now).is_err());
    }

    #[test]
    fn events_are_sanitised_and_redacted() {
        let attributes: HashMap<String, String> = (0..40)
            .map(|i| (format!("k{i:02}"), "v".repeat(600)))
            .chain([("DB_PASSWORD".to_string(), "hunter2".to_string())])
            .collect();
        let event = event_from_engine(EventMessage {
            action: Some("exec_start: sh -c mysql --password hunter2\n\u{1b}[31m".into()),
            actor: Some(EventActor {
                id: Some("abc".into()),
                attributes: Some(attributes),
            }),
            ..Default::default()
        });
        let text = format!("{event:?}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(!text.contains('\u{1b}'), "{text}");
        assert_eq!(event.attributes.len(), MAX_EVENT_ATTRIBUTES);
        assert!(
            event
                .attributes
                .iter()
                .all(|a| a.value.len() <= MAX_ATTRIBUTE_BYTES)
        );
    }
}
