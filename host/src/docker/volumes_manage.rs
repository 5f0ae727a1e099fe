//! `volumes-manage`: create volumes. Moderate tier: deletes nothing. The driver and its
//! options go through the operator's volume policy, which catches a bind mount of a host
//! directory disguised as a `local` volume (`type=none`, `o=bind`, `device=/etc`).

use std::collections::BTreeMap;

use bollard::models::VolumeCreateRequest;

use super::engine_call;
use super::labels;
use super::labels::Stamp;
use super::ownership::ObjectKind;
use super::refs::object_ref;
use super::volumes_read::details_from_engine;
use crate::access::CallAccess;
use crate::argument_policy::ArgumentPolicy;
use crate::bindings::DockerError;
use crate::bindings::bulkhead::plugin::volume_types::{VolumeDetails, VolumeSpec};
use crate::bindings::bulkhead::plugin::volumes_manage::Host;
use crate::capabilities::Capability;
use crate::sanitize::one_line;

/// Most driver options one volume may carry.
const MAX_DRIVER_OPTS: usize = 32;

impl Host for CallAccess {
    async fn create_volume(&mut self, spec: VolumeSpec) -> Result<VolumeDetails, DockerError> {
        let docker = self.authorize(Capability::VolumesManage).await?;
        let request = create_request(spec, self.stamp(), &self.rules)?;
        let volume = engine_call(&self.docker, docker.create_volume(request)).await?;
        self.touched(ObjectKind::Volume, &volume.name);
        Ok(details_from_engine(volume))
    }
}

/// Turns a plugin's spec into an engine request, applying the volume policy.
fn create_request(
    spec: VolumeSpec,
    stamp: Stamp<'_>,
    rules: &ArgumentPolicy,
) -> Result<VolumeCreateRequest, DockerError> {
    let name = spec
        .name
        .as_deref()
        .filter(|n| !n.is_empty())
        .map(|n| object_ref("volume", n).map(str::to_string))
        .transpose()?;
    let driver = spec
        .driver
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty());
    if let Some(driver) = driver {
        let valid = driver.len() <= 128
            && driver
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/' | ':'));
        if !valid {
            return Err(DockerError::Invalid(format!(
                "`{}` is not a volume driver name",
                one_line(driver, 64)
            )));
        }
    }
    if spec.driver_opts.len() > MAX_DRIVER_OPTS {
        return Err(DockerError::Invalid(format!(
            "at most {MAX_DRIVER_OPTS} driver options"
        )));
    }
    let mut asked = BTreeMap::new();
    for option in spec.driver_opts {
        if option.key.is_empty() || option.key.chars().any(char::is_control) {
            return Err(DockerError::Invalid(
                "driver option keys must be non-empty, without control characters".into(),
            ));
        }
        if asked.insert(option.key.clone(), option.value).is_some() {
            return Err(DockerError::Invalid(format!(
                "driver option `{}` is given twice",
                one_line(&option.key, 64)
            )));
        }
    }
    // The policy hands back what to send: a bind-form device canonicalised.
    let opts = rules.check_volume(driver, &asked)?;
    Ok(VolumeCreateRequest {
        name,
        driver: Some(driver.unwrap_or("local").to_string()),
        driver_opts: (!opts.is_empty()).then(|| opts.into_iter().collect()),
        labels: Some(labels::stamped(spec.labels, stamp, rules)?),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::bulkhead::plugin::types::KeyValue;

    fn spec(opts: &[(&str, &str)], driver: Option<&str>) -> VolumeSpec {
        VolumeSpec {
            name: Some("data".into()),
            driver: driver.map(str::to_string),
            driver_opts: opts
                .iter()
                .map(|(k, v)| KeyValue {
                    key: k.to_string(),
                    value: v.to_string(),
                })
                .collect(),
            labels: vec![],
        }
    }

    #[test]
    fn volume_policy_applies() {
        let rules = ArgumentPolicy::default();
        let plain =
            create_request(spec(&[], None), labels::test_stamp("containers"), &rules).unwrap();
        assert_eq!(plain.driver.as_deref(), Some("local"));
        assert_eq!(plain.labels.unwrap()[labels::PLUGIN_LABEL], "containers");
        let tmpfs = create_request(
            spec(&[("type", "tmpfs"), ("device", "tmpfs")], None),
            labels::test_stamp("p"),
            &rules,
        );
        assert!(tmpfs.is_ok(), "{tmpfs:?}");
        for opts in [
            &[("type", "none"), ("o", "bind"), ("device", "/etc")][..],
            &[("o", "bind"), ("device", "/etc")][..],
            &[("type", "nfs"), ("o", "addr=10.0.0.1"), ("device", ":/x")][..],
        ] {
            assert!(
                matches!(
                    create_request(spec(opts, None), labels::test_stamp("p"), &rules),
                    Err(DockerError::Denied(_))
                ),
                "{opts:?}"
            );
        }
        assert!(matches!(
            create_request(spec(&[], Some("rexray")), labels::test_stamp("p"), &rules),
            Err(DockerError::Denied(_))
        ));
        assert!(matches!(
            create_request(
                spec(&[("type", "tmpfs"), ("type", "none")], None),
                labels::test_stamp("p"),
                &rules
            ),
            Err(DockerError::Invalid(_))
        ));
        assert!(matches!(
            create_request(spec(&[], Some("a b")), labels::test_stamp("p"), &rules),
            Err(DockerError::Invalid(_))
        ));
    }
}
