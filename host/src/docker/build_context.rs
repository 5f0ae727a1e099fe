//! Build contexts as the engine takes them: a tar made by the host, either from inline
//! Dockerfile text and files, or from a directory the operator allowed. Entries are
//! normalised (owner root, fixed mtime for inline files) and bounded (file count, path
//! length, total size); symlinks in a directory are archived as links, never followed.

use std::fs;
use std::path::{Component, Path};

use crate::argument_policy::ArgumentPolicy;
use crate::bindings::DockerError;
use crate::bindings::bulkhead::plugin::image_types::BuildFile;
use crate::sanitize::one_line;

/// Where the Dockerfile of an inline context goes.
pub const DOCKERFILE: &str = "Dockerfile";
/// At most this many inline files.
pub const MAX_INLINE_FILES: usize = 100;
/// At most this many entries taken from a directory.
pub const MAX_DIR_ENTRIES: usize = 10_000;
/// Longest path inside a context.
const MAX_PATH: usize = 255;

/// A tar of the Dockerfile text and `files`, checked against the policy's size limit.
pub fn inline_context(
    dockerfile: &str,
    files: &[BuildFile],
    rules: &ArgumentPolicy,
) -> Result<Vec<u8>, DockerError> {
    if dockerfile.trim().is_empty() {
        return Err(DockerError::Invalid("`dockerfile` is empty".into()));
    }
    if files.len() > MAX_INLINE_FILES {
        return Err(DockerError::Invalid(format!(
            "at most {MAX_INLINE_FILES} inline files"
        )));
    }
    let declared: u64 = std::iter::once(dockerfile.len())
        .chain(files.iter().map(|f| f.content.len()))
        .map(|n| n as u64)
        .sum();
    rules.check_build_context_size(declared)?;

    let mut builder = tar::Builder::new(Vec::new());
    let mut seen = std::collections::BTreeSet::new();
    seen.insert(DOCKERFILE.to_string());
    append_file(&mut builder, DOCKERFILE, dockerfile.as_bytes())?;
    for file in files {
        let path = context_path(&file.path)?;
        if !seen.insert(path.clone()) {
            return Err(DockerError::Invalid(format!(
                "`{}` appears twice in the context (the Dockerfile is `{DOCKERFILE}`)",
                one_line(&path, 100)
            )));
        }
        append_file(&mut builder, &path, file.content.as_bytes())?;
    }
    let tar = builder.into_inner().map_err(tar_error)?;
    rules.check_build_context_size(tar.len() as u64)?;
    Ok(tar)
}

/// A tar of `dir` (already checked and canonicalised by the policy), refused as soon as
/// its files add up to more than the policy's limit.
pub fn directory_context(dir: &Path, rules: &ArgumentPolicy) -> Result<Vec<u8>, DockerError> {
    if !dir.join(DOCKERFILE).is_file() {
        return Err(DockerError::Invalid(format!(
            "the context directory has no `{DOCKERFILE}`"
        )));
    }
    if rules.names.judges_builds() {
        rules.names.check_build_bases(&read_dockerfile(dir)?)?;
    }
    let mut builder = tar::Builder::new(Vec::new());
    builder.follow_symlinks(false);
    let mut walk = Walk {
        entries: 0,
        bytes: 0,
        rules,
    };
    walk.visit(dir, dir, &mut builder)?;
    let tar = builder.into_inner().map_err(tar_error)?;
    rules.check_build_context_size(tar.len() as u64)?;
    Ok(tar)
}

/// The context's Dockerfile, for judging its base images: a regular file of at most
/// 1 MiB (a link could point anywhere on the host).
fn read_dockerfile(dir: &Path) -> Result<String, DockerError> {
    const MAX_DOCKERFILE_BYTES: u64 = 1 << 20;
    let path = dir.join(DOCKERFILE);
    let meta = std::fs::symlink_metadata(&path).map_err(|err| io_error(&path, &err))?;
    if !meta.is_file() || meta.len() > MAX_DOCKERFILE_BYTES {
        return Err(DockerError::Invalid(format!(
            "`{DOCKERFILE}` must be a regular file of at most 1 MiB when the policy lists images or registries"
        )));
    }
    std::fs::read_to_string(&path).map_err(|err| io_error(&path, &err))
}

struct Walk<'a> {
    entries: usize,
    bytes: u64,
    rules: &'a ArgumentPolicy,
}

impl Walk<'_> {
    fn visit(
        &mut self,
        root: &Path,
        dir: &Path,
        builder: &mut tar::Builder<Vec<u8>>,
    ) -> Result<(), DockerError> {
        let mut children: Vec<_> = fs::read_dir(dir)
            .map_err(|err| io_error(dir, &err))?
            .collect::<Result<_, _>>()
            .map_err(|err| io_error(dir, &err))?;
        // Sorted, so the same directory gives the same tar (and the engine's cache hits).
        children.sort_by_key(|entry| entry.file_name());
        for child in children {
            self.entries += 1;
            if self.entries > MAX_DIR_ENTRIES {
                return Err(DockerError::Invalid(format!(
                    "the context directory has more than {MAX_DIR_ENTRIES} entries"
                )));
            }
            let path = child.path();
            let meta = fs::symlink_metadata(&path).map_err(|err| io_error(&path, &err))?;
            let relative = path
                .strip_prefix(root)
                .map_err(|_| DockerError::Invalid("a context entry left its directory".into()))?;
            let name = relative
                .to_str()
                .ok_or_else(|| DockerError::Invalid("context paths must be valid UTF-8".into()))?;
            if name.len() > MAX_PATH {
                return Err(DockerError::Invalid(format!(
                    "context path longer than {MAX_PATH} bytes: `{}…`",
                    one_line(name, 60)
                )));
            }
            let kind = meta.file_type();
            if kind.is_file() {
                self.bytes += meta.len();
                self.rules.check_build_context_size(self.bytes)?;
            } else if !kind.is_dir() && !kind.is_symlink() {
                // Sockets, fifos and devices have no place in a build context.
                continue;
            }
            builder
                .append_path_with_name(&path, relative)
                .map_err(|err| io_error(&path, &err))?;
            if kind.is_dir() {
                self.visit(root, &path, builder)?;
            }
        }
        Ok(())
    }
}

/// A relative `/`-separated path with only normal components.
fn context_path(path: &str) -> Result<String, DockerError> {
    let invalid = || {
        DockerError::Invalid(format!(
            "`{}` is not a relative path inside the context",
            one_line(path, 100)
        ))
    };
    let trimmed = path.trim_start_matches("./");
    if trimmed.is_empty()
        || trimmed.len() > MAX_PATH
        || trimmed.contains('\\')
        || trimmed.chars().any(char::is_control)
    {
        return Err(invalid());
    }
    let normal = Path::new(trimmed)
        .components()
        .all(|c| matches!(c, Component::Normal(_)));
    if !normal || trimmed.ends_with('/') {
        return Err(invalid());
    }
    Ok(trimmed.to_string())
}

fn append_file(
    builder: &mut tar::Builder<Vec<u8>>,
    path: &str,
    content: &[u8],
) -> Result<(), DockerError> {
    let mut header = tar::Header::new_gnu();
    header.set_size(content.len() as u64);
    header.set_mode(0o644);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    header.set_entry_type(tar::EntryType::Regular);
    builder
        .append_data(&mut header, path, content)
        .map_err(tar_error)
}

fn tar_error(err: std::io::Error) -> DockerError {
    DockerError::Invalid(format!("cannot archive the build context: {err}"))
}

fn io_error(path: &Path, err: &std::io::Error) -> DockerError {
    DockerError::Invalid(format!(
        "cannot read `{}` of the context: {err}",
        one_line(&path.display().to_string(), 200)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, content: &str) -> BuildFile {
        BuildFile {
            path: path.into(),
            content: content.into(),
        }
    }

    fn entries(tar: &[u8]) -> Vec<(String, String)> {
        let mut archive = tar::Archive::new(tar);
        archive
            .entries()
            .unwrap()
            .map(|entry| {
                let mut entry = entry.unwrap();
                let path = entry.path().unwrap().display().to_string();
                let mut content = String::new();
                std::io::Read::read_to_string(&mut entry, &mut content).unwrap();
                (path, content)
            })
            .collect()
    }

    #[test]
    fn inline_context_holds_the_dockerfile_and_files() {
        let tar = inline_context(
            "FROM scratch\nCOPY a/b.txt /\n",
            &[file("./a/b.txt", "hello")],
            &ArgumentPolicy::default(),
        )
        .unwrap();
        assert_eq!(
            entries(&tar),
            [
                (
                    "Dockerfile".to_string(),
                    "FROM scratch\nCOPY a/b.txt /\n".to_string()
                ),
                ("a/b.txt".to_string(), "hello".to_string()),
            ]
        );
    }

    #[test]
    fn inline_paths_must_stay_inside() {
        let policy = ArgumentPolicy::default();
        for bad in [
            "../x",
            "/etc/passwd",
            "a/../../x",
            "",
            "a\\b",
            "Dockerfile",
            "d/",
        ] {
            assert!(
                matches!(
                    inline_context("FROM scratch", &[file(bad, "x")], &policy),
                    Err(DockerError::Invalid(_))
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            inline_context(" \n", &[], &policy),
            Err(DockerError::Invalid(_))
        ));
    }

    #[test]
    fn size_limit_is_the_policys() {
        let policy = ArgumentPolicy {
            max_build_context_bytes: 1024,
            ..ArgumentPolicy::default()
        };
        let big = "x".repeat(2048);
        assert!(matches!(
            inline_context("FROM scratch", &[file("big", &big)], &policy),
            Err(DockerError::Denied(_))
        ));
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("Dockerfile"), "FROM scratch").unwrap();
        fs::write(dir.path().join("big"), &big).unwrap();
        assert!(matches!(
            directory_context(dir.path(), &policy),
            Err(DockerError::Denied(_))
        ));
    }

    #[test]
    fn directory_context_keeps_links_as_links() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("Dockerfile"), "FROM scratch").unwrap();
        fs::create_dir(dir.path().join("sub")).unwrap();
        fs::write(dir.path().join("sub/f"), "data").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("link")).unwrap();
        let tar = directory_context(dir.path(), &ArgumentPolicy::default()).unwrap();
        let mut archive = tar::Archive::new(tar.as_slice());
        let mut seen = Vec::new();
        for entry in archive.entries().unwrap() {
            let entry = entry.unwrap();
            let kind = entry.header().entry_type();
            seen.push((
                entry.path().unwrap().display().to_string(),
                kind.is_symlink(),
            ));
        }
        assert_eq!(
            seen,
            [
                ("Dockerfile".to_string(), false),
                ("link".to_string(), true),
                ("sub".to_string(), false),
                ("sub/f".to_string(), false),
            ]
        );
        let empty = tempfile::tempdir().unwrap();
        assert!(matches!(
            directory_context(empty.path(), &ArgumentPolicy::default()),
            Err(DockerError::Invalid(_))
        ));
    }
}
