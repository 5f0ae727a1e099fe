//! The tar archives the engine's `/containers/{id}/archive` endpoint speaks: building
//! one from a plugin's files (paths checked, sizes capped) and reading one back within a
//! byte and entry budget, reporting links and special files without following them.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use tar::{EntryType, Header};

use crate::bindings::DockerError;
use crate::bindings::bulkhead::plugin::containers_files::{
    ArchiveContents, ArchiveEntry, EntryKind, FileEntry,
};
use crate::sanitize::strip_controls;

/// Files one copy may write.
pub const MAX_FILES: usize = 1000;
/// Bytes of file contents one copy may write.
pub const MAX_TOTAL_BYTES: usize = 8 << 20;
/// Entries one copy may read.
pub const MAX_ENTRIES: usize = 1000;
const MAX_PATH_BYTES: usize = 1024;
const DEFAULT_FILE_MODE: u32 = 0o644;
const DIR_MODE: u32 = 0o755;

/// A container path: absolute, no `..` component, no NUL, at most 4096 bytes. The
/// engine resolves it inside the container's root, but a path that tries to climb is a
/// mistake or an attack either way.
pub fn container_path(path: &str) -> Result<&str, DockerError> {
    let valid = path.starts_with('/')
        && path.len() <= 4096
        && !path.contains('\0')
        && !path.split('/').any(|part| part == "..");
    if valid {
        Ok(path)
    } else {
        Err(DockerError::Invalid(format!(
            "`{}` must be an absolute container path without `..`",
            crate::sanitize::one_line(path, 80)
        )))
    }
}

/// A file's path inside the archive: relative, `/`-separated, every component a plain
/// name (no empty, `.` or `..` component), no NUL or control characters.
pub fn entry_path(path: &str) -> Result<Vec<&str>, DockerError> {
    let parts: Vec<&str> = path.split('/').collect();
    let valid = !path.is_empty()
        && path.len() <= MAX_PATH_BYTES
        && !path.chars().any(char::is_control)
        && parts
            .iter()
            .all(|part| !part.is_empty() && *part != "." && *part != "..");
    if valid {
        Ok(parts)
    } else {
        Err(DockerError::Invalid(format!(
            "file path `{}` must be relative, without `..`, `.` or empty parts",
            crate::sanitize::one_line(path, 80)
        )))
    }
}

/// What [`build`] put into the archive.
#[derive(Debug, PartialEq, Eq)]
pub struct Built {
    pub tar: Vec<u8>,
    pub files: u32,
    pub directories: u32,
    pub bytes: u64,
}

/// A tar of `files`, parent directories first. Refuses bad paths, duplicate paths, a
/// path used both as a file and as a directory, modes beyond permission bits, and more
/// than [`MAX_FILES`] files or [`MAX_TOTAL_BYTES`] of contents.
pub fn build(files: &[FileEntry]) -> Result<Built, DockerError> {
    if files.is_empty() {
        return Err(DockerError::Invalid("no files to copy".into()));
    }
    if files.len() > MAX_FILES {
        return Err(DockerError::Invalid(format!(
            "{} files is more than the {MAX_FILES} one copy may write",
            files.len()
        )));
    }
    let bytes: usize = files.iter().map(|file| file.contents.len()).sum();
    if bytes > MAX_TOTAL_BYTES {
        return Err(DockerError::Invalid(format!(
            "{bytes} bytes of contents is more than the {MAX_TOTAL_BYTES} one copy may write"
        )));
    }
    // Each parent directory, owned like the first file that needs it.
    let mut directories: BTreeMap<String, u32> = BTreeMap::new();
    let mut paths = BTreeSet::new();
    for file in files {
        let parts = entry_path(&file.path)?;
        if file.mode.is_some_and(|mode| mode > 0o777) {
            return Err(DockerError::Invalid(format!(
                "mode of `{}` may hold permission bits only (at most 0o777)",
                crate::sanitize::one_line(&file.path, 80)
            )));
        }
        for depth in 1..parts.len() {
            directories
                .entry(parts[..depth].join("/"))
                .or_insert(file.owner.unwrap_or(0));
        }
        if !paths.insert(file.path.as_str()) {
            return Err(DockerError::Invalid(format!(
                "`{}` is listed twice",
                crate::sanitize::one_line(&file.path, 80)
            )));
        }
    }
    if let Some(both) = directories.keys().find(|dir| paths.contains(dir.as_str())) {
        return Err(DockerError::Invalid(format!(
            "`{}` is both a file and a parent directory",
            crate::sanitize::one_line(both, 80)
        )));
    }

    let mtime = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let mut builder = tar::Builder::new(Vec::with_capacity(bytes + 1024 * (files.len() + 1)));
    let io = |err: std::io::Error| DockerError::Invalid(format!("cannot archive files: {err}"));
    // BTreeSet order puts `a` before `a/b`: parents are created first.
    for (dir, owner) in &directories {
        let mut header = header(EntryType::Directory, DIR_MODE, 0, mtime, *owner);
        builder
            .append_data(&mut header, format!("{dir}/"), std::io::empty())
            .map_err(io)?;
    }
    for file in files {
        let mode = file.mode.unwrap_or(DEFAULT_FILE_MODE);
        let owner = file.owner.unwrap_or(0);
        let mut header = header(
            EntryType::Regular,
            mode,
            file.contents.len() as u64,
            mtime,
            owner,
        );
        builder
            .append_data(&mut header, &file.path, file.contents.as_slice())
            .map_err(io)?;
    }
    let tar = builder.into_inner().map_err(io)?;
    Ok(Built {
        tar,
        files: files.len() as u32,
        directories: directories.len() as u32,
        bytes: bytes as u64,
    })
}

fn header(kind: EntryType, mode: u32, size: u64, mtime: u64, owner: u32) -> Header {
    let mut header = Header::new_gnu();
    header.set_entry_type(kind);
    header.set_mode(mode);
    header.set_size(size);
    header.set_mtime(mtime);
    header.set_uid(u64::from(owner));
    header.set_gid(u64::from(owner));
    header
}

/// Reads the entries of `raw`, keeping at most `max_bytes` of file contents and
/// [`MAX_ENTRIES`] entries. `cut` says the stream was stopped before its end (the raw
/// budget ran out): a damaged last entry then ends the listing as `truncated` instead of
/// failing it.
pub fn read(raw: &[u8], max_bytes: usize, cut: bool) -> Result<ArchiveContents, DockerError> {
    let mut archive = tar::Archive::new(raw);
    let mut contents = ArchiveContents {
        entries: Vec::new(),
        truncated: false,
    };
    let damaged = |err: std::io::Error| {
        DockerError::Engine(format!("the engine sent an unreadable archive: {err}"))
    };
    let entries = archive.entries().map_err(damaged)?;
    let mut budget = max_bytes;
    for entry in entries {
        let mut entry = match entry {
            Ok(entry) => entry,
            Err(_) if cut => {
                contents.truncated = true;
                break;
            }
            Err(err) => return Err(damaged(err)),
        };
        if contents.entries.len() == MAX_ENTRIES {
            contents.truncated = true;
            break;
        }
        let header = entry.header();
        let kind = match header.entry_type() {
            EntryType::Regular | EntryType::Continuous => EntryKind::File,
            EntryType::Directory => EntryKind::Directory,
            EntryType::Symlink => EntryKind::Symlink,
            EntryType::Link => EntryKind::Hardlink,
            _ => EntryKind::Other,
        };
        let size = if kind == EntryKind::File {
            header.size().unwrap_or(0)
        } else {
            0
        };
        let mode = header.mode().unwrap_or(0) & 0o7777;
        let path = strip_controls(&String::from_utf8_lossy(&entry.path_bytes()));
        let link_target = match kind {
            EntryKind::Symlink | EntryKind::Hardlink => entry
                .link_name_bytes()
                .map(|name| strip_controls(&String::from_utf8_lossy(&name))),
            _ => None,
        };
        let mut data = Vec::new();
        if kind == EntryKind::File {
            let wanted = size.min(budget as u64);
            let read = entry.by_ref().take(wanted).read_to_end(&mut data);
            budget -= data.len();
            if read.is_err() || (data.len() as u64) < size {
                // Either the budget ran out or the stream was cut inside this file.
                contents.truncated = true;
            }
            if let Err(err) = read
                && !cut
            {
                return Err(damaged(err));
            }
        }
        contents.entries.push(ArchiveEntry {
            path,
            kind,
            size,
            mode,
            contents: data,
            link_target,
        });
    }
    Ok(contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, contents: &[u8], mode: Option<u32>) -> FileEntry {
        FileEntry {
            path: path.into(),
            contents: contents.to_vec(),
            mode,
            owner: None,
        }
    }

    #[test]
    fn container_paths_are_absolute_and_never_climb() {
        assert_eq!(container_path("/srv/app").unwrap(), "/srv/app");
        assert_eq!(container_path("/").unwrap(), "/");
        for bad in ["srv", "/srv/../etc", "/..", "", "/a\0b"] {
            assert!(
                matches!(container_path(bad), Err(DockerError::Invalid(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn entry_paths_are_plain_relative_names() {
        assert_eq!(entry_path("a/b.txt").unwrap(), ["a", "b.txt"]);
        assert_eq!(entry_path("..hidden").unwrap(), ["..hidden"]);
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a//b",
            "./a",
            "a/.",
            "a/",
            "a\nb",
        ] {
            assert!(
                matches!(entry_path(bad), Err(DockerError::Invalid(_))),
                "{bad:?}"
            );
        }
        assert!(entry_path(&"x".repeat(MAX_PATH_BYTES + 1)).is_err());
    }

    #[test]
    fn builds_parents_first_and_reads_back() {
        let built = build(&[
            file("conf/app/settings.toml", b"x = 1\n", None),
            file("run.sh", b"#!/bin/sh\necho hi\n", Some(0o755)),
            file(&format!("deep/{}", "n".repeat(150)), b"long name", None),
        ])
        .unwrap();
        assert_eq!((built.files, built.directories), (3, 3));
        assert_eq!(built.bytes, 6 + 18 + 9);

        let read = read(&built.tar, 1 << 20, false).unwrap();
        assert!(!read.truncated);
        let listed: Vec<(&str, EntryKind)> = read
            .entries
            .iter()
            .map(|e| (e.path.as_str(), e.kind))
            .collect();
        assert_eq!(listed[0], ("conf/", EntryKind::Directory));
        assert_eq!(listed[1], ("conf/app/", EntryKind::Directory));
        let script = read.entries.iter().find(|e| e.path == "run.sh").unwrap();
        assert_eq!((script.mode, script.size), (0o755, 18));
        assert_eq!(script.contents, b"#!/bin/sh\necho hi\n");
        let long = read.entries.last().unwrap();
        assert_eq!(long.path.len(), 5 + 150, "GNU long names survive");
        assert_eq!(long.contents, b"long name");
    }

    #[test]
    fn refuses_what_it_should() {
        let too_many: Vec<FileEntry> = (0..=MAX_FILES)
            .map(|i| file(&format!("f{i}"), b"", None))
            .collect();
        let too_big = [file("big", &vec![0; MAX_TOTAL_BYTES + 1], None)];
        let cases: Vec<Vec<FileEntry>> = vec![
            vec![],
            too_many,
            too_big.to_vec(),
            vec![file("../escape", b"", None)],
            vec![file("a", b"", None), file("a", b"", None)],
            vec![file("a", b"", None), file("a/b", b"", None)],
            vec![file("suid", b"", Some(0o4755))],
        ];
        for files in cases {
            assert!(
                matches!(build(&files), Err(DockerError::Invalid(_))),
                "{:?}",
                files.iter().map(|f| &f.path).take(3).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn links_and_devices_are_reported_not_followed() {
        let mut builder = tar::Builder::new(Vec::new());
        let mut link = header(EntryType::Symlink, 0o777, 0, 0, 0);
        builder
            .append_link(&mut link, "etc-link", "/etc/shadow")
            .unwrap();
        let mut fifo = header(EntryType::Fifo, 0o644, 0, 0, 0);
        builder
            .append_data(&mut fifo, "pipe", std::io::empty())
            .unwrap();
        let tar = builder.into_inner().unwrap();
        let read = read(&tar, 1024, false).unwrap();
        assert_eq!(read.entries[0].kind, EntryKind::Symlink);
        assert_eq!(read.entries[0].link_target.as_deref(), Some("/etc/shadow"));
        assert!(read.entries[0].contents.is_empty());
        assert_eq!(read.entries[1].kind, EntryKind::Other);
    }

    #[test]
    fn byte_budget_and_cut_streams_truncate() {
        let built = build(&[file("a", &[b'a'; 100], None), file("b", &[b'b'; 100], None)]).unwrap();
        let capped = read(&built.tar, 150, false).unwrap();
        assert!(capped.truncated);
        assert_eq!(capped.entries[0].contents.len(), 100);
        assert_eq!(capped.entries[1].contents.len(), 50);
        assert_eq!(capped.entries[1].size, 100);

        // Cut in the middle of the second file's data.
        let cut = &built.tar[..512 + 512 + 512 + 40];
        let partial = read(cut, 1 << 20, true).unwrap();
        assert!(partial.truncated);
        assert_eq!(partial.entries[0].contents.len(), 100);
        assert!(
            read(cut, 1 << 20, false).is_err(),
            "an uncut stream must be whole"
        );
    }
}
