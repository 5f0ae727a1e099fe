//! The operator's lists by name: which images a plugin may run, which registries it may
//! pull from and push to, which networks its containers may join, and which label keys
//! it may not set (`traefik.*` on a container would let it take over a route of a
//! reverse proxy watching the engine).
//!
//! Lists are shell-style patterns ([`crate::glob`]). An absent list allows everything,
//! except networks under `scope = owned` (see [`NameRules::network_listed`]). A plugin's
//! own lists can only narrow the server's ([`NameRules::narrowed_by`]).

use crate::argument_policy::{PolicyError, Refusal};
use crate::glob::{any_matches, matches};
use crate::policy::Scope;
use crate::sanitize::one_line;

/// Label keys no plugin may set unless the operator's `label_deny` says otherwise:
/// the routing labels of Traefik and caddy-docker-proxy, which act on any container
/// that carries them.
pub const DEFAULT_LABEL_DENY: &[&str] = &["traefik.*", "caddy", "caddy.*", "caddy_*"];

/// Networks a container may join under `scope = owned` when the policy lists none:
/// the engine's default bridge (besides `none` and the plugin's own networks).
const OWNED_DEFAULT_NETWORKS: &[&str] = &["bridge", "default"];

/// The registry of an image reference without one.
const DEFAULT_REGISTRY: &str = "docker.io";

/// Rule names carried by [`Refusal::rule`].
pub mod rule {
    pub const IMAGE_NOT_ALLOWED: &str = "image-not-allowed";
    pub const REGISTRY_NOT_ALLOWED: &str = "registry-not-allowed";
    pub const NETWORK_NOT_ALLOWED: &str = "network-not-allowed";
    pub const LABEL_DENIED: &str = "label-denied";
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameRules {
    /// Image references containers may be created from and pulls may fetch (`None`: any).
    pub images: Option<Vec<String>>,
    /// Registries pulls and pushes may reach (`None`: any).
    pub registries: Option<Vec<String>>,
    /// Networks containers may join besides `none` and their plugin's own (`None`: any
    /// under `scope = all`, the default bridge under `scope = owned`).
    pub networks: Option<Vec<String>>,
    /// Label keys plugins may not set.
    pub label_deny: Vec<String>,
}

impl Default for NameRules {
    fn default() -> Self {
        NameRules {
            images: None,
            registries: None,
            networks: None,
            label_deny: DEFAULT_LABEL_DENY.iter().map(|s| s.to_string()).collect(),
        }
    }
}

impl NameRules {
    /// Refuses a label key on the deny list.
    pub fn check_label_key(&self, key: &str) -> Result<(), PolicyError> {
        match self.label_deny.iter().find(|p| matches(p, key)) {
            Some(pattern) => Err(refused(
                rule::LABEL_DENIED,
                format!(
                    "label `{}` is denied by the pattern `{pattern}`",
                    one_line(key, 80)
                ),
                "the policy key arguments.label_deny",
            )),
            None => Ok(()),
        }
    }

    /// Refuses an image no pattern of `images` matches. `reference` is what the caller
    /// named; `aliases` are the names the engine knows the image by (its tags and
    /// digests), so an id or a short name is judged by what it stands for.
    pub fn check_image(&self, reference: &str, aliases: &[String]) -> Result<(), PolicyError> {
        let Some(allowed) = &self.images else {
            return Ok(());
        };
        let names = std::iter::once(reference).chain(aliases.iter().map(String::as_str));
        let mut candidates = Vec::new();
        for name in names {
            candidates.extend(image_names(name));
        }
        if candidates.iter().any(|name| any_matches(allowed, name)) {
            return Ok(());
        }
        Err(refused(
            rule::IMAGE_NOT_ALLOWED,
            format!(
                "image `{}` is not on the allow-list ({})",
                one_line(reference, 120),
                shown(allowed)
            ),
            "the policy key arguments.images",
        ))
    }

    /// Refuses a pull or push from a registry not on `registries`.
    pub fn check_registry(&self, reference: &str) -> Result<(), PolicyError> {
        let Some(allowed) = &self.registries else {
            return Ok(());
        };
        let registry = registry_of(reference);
        if any_matches(allowed, registry) {
            return Ok(());
        }
        Err(refused(
            rule::REGISTRY_NOT_ALLOWED,
            format!(
                "registry `{registry}` of `{}` is not on the allow-list ({})",
                one_line(reference, 120),
                shown(allowed)
            ),
            "the policy key arguments.registries",
        ))
    }

    /// Whether builds must have their base images checked.
    pub fn judges_builds(&self) -> bool {
        self.images.is_some() || self.registries.is_some()
    }

    /// Refuses a Dockerfile whose base images (`FROM`, `COPY --from=`) the image or
    /// registry lists do not allow: a build would otherwise fetch or run any image. A
    /// base named by a variable cannot be judged, so it is refused while a list is set.
    pub fn check_build_bases(&self, dockerfile: &str) -> Result<(), PolicyError> {
        if !self.judges_builds() {
            return Ok(());
        }
        let mut stages: Vec<String> = Vec::new();
        for line in instructions(dockerfile) {
            let words: Vec<&str> = line.split_whitespace().collect();
            let Some(keyword) = words.first() else {
                continue;
            };
            let bases: Vec<&str> = if keyword.eq_ignore_ascii_case("FROM") {
                let mut rest = words[1..].iter().filter(|w| !w.starts_with("--"));
                let base = rest.next().copied();
                if let (Some(as_word), Some(stage)) = (rest.next(), rest.next())
                    && as_word.eq_ignore_ascii_case("as")
                {
                    stages.push(stage.to_ascii_lowercase());
                }
                base.into_iter().collect()
            } else if keyword.eq_ignore_ascii_case("COPY") || keyword.eq_ignore_ascii_case("ADD") {
                words[1..]
                    .iter()
                    .filter_map(|w| w.strip_prefix("--from="))
                    .collect()
            } else {
                Vec::new()
            };
            for base in bases {
                let is_stage = stages.contains(&base.to_ascii_lowercase())
                    || base.chars().all(|c| c.is_ascii_digit());
                if is_stage || base.eq_ignore_ascii_case("scratch") {
                    continue;
                }
                if base.contains('$') {
                    return Err(refused(
                        rule::IMAGE_NOT_ALLOWED,
                        format!(
                            "base image `{}` is named by a variable, which cannot be checked against the allow-list",
                            one_line(base, 120)
                        ),
                        "the policy keys arguments.images and arguments.registries",
                    ));
                }
                self.check_registry(base)?;
                self.check_image(base, &[])?;
            }
        }
        Ok(())
    }

    /// Whether a container may join `network` by the lists alone. When it is not, the
    /// caller may still allow a network this principal owns.
    pub fn network_listed(&self, network: &str, scope: Scope) -> bool {
        if network == "none" {
            return true;
        }
        match (&self.networks, scope) {
            (Some(listed), _) => any_matches(listed, network),
            (None, Scope::All) => true,
            (None, Scope::Owned) => any_matches(OWNED_DEFAULT_NETWORKS, network),
        }
    }

    /// The refusal for a network that is neither listed nor owned.
    pub fn network_refusal(&self, network: &str, scope: Scope) -> PolicyError {
        let listed = match (&self.networks, scope) {
            (Some(listed), _) => shown(listed),
            (None, _) => shown(OWNED_DEFAULT_NETWORKS),
        };
        refused(
            rule::NETWORK_NOT_ALLOWED,
            format!(
                "network `{}` is neither this principal's nor on the list of networks to join ({listed})",
                one_line(network, 80)
            ),
            "the policy key arguments.networks",
        )
    }

    /// These rules narrowed by a plugin's own lists: each plugin pattern must lie within
    /// the server's (a server pattern matches it), deny lists add up. `None` in `own`
    /// keeps the server's list.
    pub fn narrowed_by(&self, own: &NameRules) -> Result<NameRules, String> {
        Ok(NameRules {
            images: narrowed("images", &self.images, &own.images)?,
            registries: narrowed("registries", &self.registries, &own.registries)?,
            networks: narrowed("networks", &self.networks, &own.networks)?,
            label_deny: {
                let mut deny = self.label_deny.clone();
                for pattern in &own.label_deny {
                    if !deny.contains(pattern) {
                        deny.push(pattern.clone());
                    }
                }
                deny
            },
        })
    }
}

fn narrowed(
    key: &str,
    server: &Option<Vec<String>>,
    own: &Option<Vec<String>>,
) -> Result<Option<Vec<String>>, String> {
    match (server, own) {
        (_, None) => Ok(server.clone()),
        (None, Some(own)) => Ok(Some(own.clone())),
        (Some(server), Some(own)) => {
            if let Some(wider) = own.iter().find(|p| !any_matches(server, p)) {
                return Err(format!(
                    "{key}: `{wider}` is not within the server's list ({}); a plugin's setting can only tighten",
                    shown(server)
                ));
            }
            Ok(Some(own.clone()))
        }
    }
}

/// A Dockerfile's instructions: continuation lines joined, comments and blank lines
/// dropped.
fn instructions(dockerfile: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in dockerfile.lines() {
        let trimmed = line.trim();
        if current.is_empty() && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(head) => {
                current.push_str(head);
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                out.push(std::mem::take(&mut current));
            }
        }
    }
    if !current.trim().is_empty() {
        out.push(current);
    }
    out
}

/// The registry part of an image reference: its first component when that looks like a
/// host (has a `.` or `:`, or is `localhost`) and more follows, else Docker Hub.
pub fn registry_of(reference: &str) -> &str {
    match reference.split_once('/') {
        Some((first, _)) if first.contains(['.', ':']) || first == "localhost" => first,
        _ => DEFAULT_REGISTRY,
    }
}

/// The spellings a pattern may be written against: as given, with the implied
/// `:latest`, and fully qualified (`docker.io/library/busybox:latest`).
fn image_names(reference: &str) -> Vec<String> {
    let mut names = vec![reference.to_string()];
    let last = reference.rsplit('/').next().unwrap_or(reference);
    let tagged = if last.contains(':') || reference.contains('@') {
        reference.to_string()
    } else {
        let tagged = format!("{reference}:latest");
        names.push(tagged.clone());
        tagged
    };
    if reference.starts_with("sha256:") {
        return names;
    }
    let qualified = match reference.split_once('/') {
        Some((first, _)) if registry_of(reference) == first => tagged,
        Some(_) => format!("{DEFAULT_REGISTRY}/{tagged}"),
        None => format!("{DEFAULT_REGISTRY}/library/{tagged}"),
    };
    if !names.contains(&qualified) {
        names.push(qualified);
    }
    names
}

fn shown<S: AsRef<str>>(patterns: &[S]) -> String {
    if patterns.is_empty() {
        return "empty".into();
    }
    let mut text: Vec<&str> = patterns.iter().take(5).map(AsRef::as_ref).collect();
    if patterns.len() > 5 {
        text.push("…");
    }
    text.join(", ")
}

fn refused(rule: &'static str, detail: String, loosen_with: &'static str) -> PolicyError {
    PolicyError::Refused(Refusal {
        rule,
        detail,
        loosen_with: Some(loosen_with),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(images: &[&str]) -> NameRules {
        NameRules {
            images: Some(images.iter().map(|s| s.to_string()).collect()),
            ..NameRules::default()
        }
    }

    fn rule_of(result: Result<(), PolicyError>) -> Option<&'static str> {
        match result {
            Ok(()) => None,
            Err(PolicyError::Refused(refusal)) => Some(refusal.rule),
            Err(PolicyError::Invalid(text)) => panic!("invalid: {text}"),
        }
    }

    #[test]
    fn images_match_in_any_spelling() {
        let allow = rules(&["bulkhead-test/*", "docker.io/library/alpine:3.*"]);
        for ok in [
            "bulkhead-test/busybox",
            "bulkhead-test/busybox:latest",
            "alpine:3.20",
            "docker.io/library/alpine:3.20",
        ] {
            assert_eq!(rule_of(allow.check_image(ok, &[])), None, "{ok}");
        }
        for bad in ["busybox", "alpine", "evil/bulkhead-test", "sha256:abcd"] {
            assert_eq!(
                rule_of(allow.check_image(bad, &[])),
                Some(rule::IMAGE_NOT_ALLOWED),
                "{bad}"
            );
        }
        // An id is judged by the tags the engine knows it by.
        assert_eq!(
            rule_of(allow.check_image("sha256:abcd", &["bulkhead-test/busybox:latest".into()])),
            None
        );
        assert_eq!(rule_of(NameRules::default().check_image("x", &[])), None);
    }

    #[test]
    fn registries_are_the_first_component_when_it_is_a_host() {
        assert_eq!(registry_of("busybox"), "docker.io");
        assert_eq!(registry_of("team/app:1"), "docker.io");
        assert_eq!(registry_of("127.0.0.1:5000/app"), "127.0.0.1:5000");
        assert_eq!(registry_of("localhost/app"), "localhost");
        assert_eq!(registry_of("ghcr.io/o/app@sha256:00"), "ghcr.io");
        let local = NameRules {
            registries: Some(vec!["127.0.0.1:*".into()]),
            ..NameRules::default()
        };
        assert_eq!(rule_of(local.check_registry("127.0.0.1:5000/app")), None);
        assert_eq!(
            rule_of(local.check_registry("busybox")),
            Some(rule::REGISTRY_NOT_ALLOWED)
        );
    }

    #[test]
    fn routing_labels_are_denied_by_default() {
        let rules = NameRules::default();
        assert_eq!(
            rule_of(rules.check_label_key("traefik.http.routers.x.rule")),
            Some(rule::LABEL_DENIED)
        );
        assert_eq!(
            rule_of(rules.check_label_key("caddy.reverse_proxy")),
            Some(rule::LABEL_DENIED)
        );
        assert_eq!(rule_of(rules.check_label_key("app")), None);
        assert_eq!(rule_of(rules.check_label_key("traefikish")), None);
    }

    #[test]
    fn networks_by_scope_and_list() {
        let open = NameRules::default();
        assert!(open.network_listed("anything", Scope::All));
        assert!(open.network_listed("bridge", Scope::Owned));
        assert!(open.network_listed("none", Scope::Owned));
        assert!(!open.network_listed("shared-db", Scope::Owned));
        let listed = NameRules {
            networks: Some(vec!["front-*".into()]),
            ..NameRules::default()
        };
        assert!(listed.network_listed("front-1", Scope::All));
        assert!(!listed.network_listed("bridge", Scope::All));
        assert!(listed.network_listed("none", Scope::All));
    }

    #[test]
    fn build_bases_are_judged_by_the_lists() {
        let allow = rules(&["bulkhead-test/*"]);
        let ok = "# comment\nFROM --platform=linux/amd64 bulkhead-test/busybox AS base\n\
                  FROM base\nCOPY --from=base /bin/sh /sh\nCOPY --from=0 /x /y\nFROM scratch\n";
        assert_eq!(rule_of(allow.check_build_bases(ok)), None);
        for bad in [
            "FROM busybox\n",
            "FROM bulkhead-test/busybox\nCOPY --from=alpine /x /y\n",
            "ARG BASE=bulkhead-test/busybox\nFROM $BASE\n",
            "FROM \\\n  evil/image\n",
        ] {
            assert_eq!(
                rule_of(allow.check_build_bases(bad)),
                Some(rule::IMAGE_NOT_ALLOWED),
                "{bad}"
            );
        }
        assert_eq!(
            rule_of(NameRules::default().check_build_bases("FROM $X")),
            None
        );
    }

    #[test]
    fn a_plugin_can_only_narrow() {
        let server = NameRules {
            images: Some(vec!["team/*".into()]),
            ..NameRules::default()
        };
        let own = NameRules {
            images: Some(vec!["team/app*".into()]),
            registries: Some(vec!["127.0.0.1:5000".into()]),
            label_deny: vec!["com.example.*".into()],
            networks: None,
        };
        let narrowed = server.narrowed_by(&own).unwrap();
        assert_eq!(narrowed.images, own.images);
        assert_eq!(narrowed.registries, own.registries);
        assert!(narrowed.label_deny.contains(&"traefik.*".to_string()));
        assert!(narrowed.label_deny.contains(&"com.example.*".to_string()));
        let wider = NameRules {
            images: Some(vec!["*".into()]),
            ..NameRules::default()
        };
        assert!(server.narrowed_by(&wider).unwrap_err().contains("images"));
    }
}
