//! Mounts of a container to create, under the operator's argument policy: binds only from
//! allowed directories (the canonical path is what reaches the engine), inline volumes
//! whose driver options could hide a bind checked as binds, tmpfs as asked. Pure apart
//! from the policy's filesystem look-ups, so every rule has a table test.

use std::collections::{BTreeMap, HashSet};

use bollard::models::{
    Mount, MountTmpfsOptions, MountType, MountVolumeOptions, MountVolumeOptionsDriverConfig,
};

use super::labels;
use super::labels::Stamp;
use super::refs::object_ref;
use crate::argument_policy::ArgumentPolicy;
use crate::bindings::DockerError;
use crate::bindings::bulkhead::plugin::types::{MountKind, MountSpec};
use crate::sanitize::one_line;

/// More mounts than this is a mistake, not a container.
pub const MAX_MOUNTS: usize = 32;
const MAX_TARGET_BYTES: usize = 4096;

/// The engine mounts for `mounts`, or the first refusal.
pub fn engine_mounts(
    mounts: Vec<MountSpec>,
    rules: &ArgumentPolicy,
    stamp: Stamp<'_>,
) -> Result<Vec<Mount>, DockerError> {
    if mounts.len() > MAX_MOUNTS {
        return Err(DockerError::Invalid(format!(
            "at most {MAX_MOUNTS} mounts per container"
        )));
    }
    let mut targets = HashSet::new();
    let mut engine = Vec::with_capacity(mounts.len());
    for mount in mounts {
        let target = check_target(&mount.target)?;
        if !targets.insert(target.clone()) {
            return Err(DockerError::Invalid(format!(
                "two mounts target `{}`",
                one_line(&target, 200)
            )));
        }
        engine.push(engine_mount(mount, target, rules, stamp)?);
    }
    Ok(engine)
}

fn engine_mount(
    mount: MountSpec,
    target: String,
    rules: &ArgumentPolicy,
    stamp: Stamp<'_>,
) -> Result<Mount, DockerError> {
    let kind = match mount.kind {
        MountKind::Bind => "bind",
        MountKind::Volume => "volume",
        MountKind::Tmpfs => "tmpfs",
    };
    let only_for = |field: &str, owner: &str| {
        DockerError::Invalid(format!(
            "`{field}` is for {owner} mounts, not {kind} mounts (target `{}`)",
            one_line(&target, 200)
        ))
    };
    if mount.kind != MountKind::Volume
        && (mount.volume_driver.is_some() || !mount.volume_options.is_empty())
    {
        return Err(only_for("volume_driver/volume_options", "volume"));
    }
    if mount.kind != MountKind::Tmpfs && mount.tmpfs_size_bytes.is_some() {
        return Err(only_for("tmpfs_size_bytes", "tmpfs"));
    }
    let base = Mount {
        target: Some(target.clone()),
        read_only: Some(mount.read_only),
        ..Default::default()
    };
    match mount.kind {
        MountKind::Bind => {
            let Some(source) = mount.source.as_deref() else {
                return Err(DockerError::Invalid(format!(
                    "a bind mount needs `source`, an absolute host path (target `{}`)",
                    one_line(&target, 200)
                )));
            };
            // The canonical path, not the caller's text: a symlink swapped in after this
            // check cannot redirect the mount. The policy only returns UTF-8 paths.
            let canonical = rules.check_bind_source(source)?;
            Ok(Mount {
                typ: Some(MountType::BIND),
                source: Some(canonical.to_string_lossy().into_owned()),
                ..base
            })
        }
        MountKind::Volume => {
            let source = mount
                .source
                .as_deref()
                .map(|name| object_ref("volume", name).map(str::to_string))
                .transpose()?;
            let driver = mount
                .volume_driver
                .as_deref()
                .map(str::trim)
                .filter(|d| !d.is_empty());
            let mut asked = BTreeMap::new();
            for option in &mount.volume_options {
                if asked
                    .insert(option.key.clone(), option.value.clone())
                    .is_some()
                {
                    return Err(DockerError::Invalid(format!(
                        "volume option `{}` given twice",
                        one_line(&option.key, 100)
                    )));
                }
            }
            // The `driver_opts` bind disguise (`type=none,o=bind,device=/etc`) is refused
            // here exactly as a bind of /etc would be.
            let options = rules.check_volume(driver, &asked)?;
            let driver_config =
                (driver.is_some() || !options.is_empty()).then(|| MountVolumeOptionsDriverConfig {
                    name: driver.map(str::to_string),
                    options: (!options.is_empty()).then(|| options.into_iter().collect()),
                });
            Ok(Mount {
                typ: Some(MountType::VOLUME),
                source,
                volume_options: Some(MountVolumeOptions {
                    // A volume this mount creates belongs to the plugin like the container.
                    labels: Some(labels::stamped(Vec::new(), stamp, rules)?),
                    driver_config,
                    ..Default::default()
                }),
                ..base
            })
        }
        MountKind::Tmpfs => {
            if mount.source.is_some() {
                return Err(DockerError::Invalid(format!(
                    "a tmpfs mount has no `source` (target `{}`)",
                    one_line(&target, 200)
                )));
            }
            let size_bytes = mount
                .tmpfs_size_bytes
                .map(|size| {
                    i64::try_from(size)
                        .ok()
                        .filter(|size| *size > 0)
                        .ok_or_else(|| {
                            DockerError::Invalid("`tmpfs_size_bytes` must be positive".into())
                        })
                })
                .transpose()?;
            Ok(Mount {
                typ: Some(MountType::TMPFS),
                tmpfs_options: size_bytes.map(|size_bytes| MountTmpfsOptions {
                    size_bytes: Some(size_bytes),
                    ..Default::default()
                }),
                ..base
            })
        }
    }
}

/// An absolute, normalised container path that is not `/` itself.
fn check_target(target: &str) -> Result<String, DockerError> {
    let invalid =
        |why: &str| DockerError::Invalid(format!("mount target `{}` {why}", one_line(target, 200)));
    if target.is_empty() || target.len() > MAX_TARGET_BYTES || target.contains(char::is_control) {
        return Err(invalid("must be an absolute path inside the container"));
    }
    if !target.starts_with('/') {
        return Err(invalid("must be an absolute path inside the container"));
    }
    // `/a//b/` and `/a/b` are one target: compare the normal form.
    let normal: Vec<&str> = target.split('/').filter(|part| !part.is_empty()).collect();
    if normal.iter().any(|part| matches!(*part, "." | "..")) {
        return Err(invalid("may not contain `.` or `..`"));
    }
    if normal.is_empty() {
        return Err(invalid("may not be `/`, the container's root"));
    }
    Ok(format!("/{}", normal.join("/")))
}
