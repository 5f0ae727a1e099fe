//! Which server sessions are alive: each serving process holds an exclusive lock on
//! `<dir>/<session>.lock` for as long as it runs, so another process can tell a live
//! session from a dead one (the kernel drops the lock when a process dies, however it
//! dies). The reaper uses this to clean up after servers that are gone.

use std::fs::File;
use std::path::{Path, PathBuf};

use rustix::fs::{FlockOperation, Mode, OFlags, flock, open};

/// The lock a serving process holds on its own session.
#[derive(Debug)]
pub struct SessionLock {
    dir: PathBuf,
    path: PathBuf,
    _file: File,
}

impl SessionLock {
    /// Creates `dir` (mode 0700) and locks this session's file in it.
    pub fn acquire(dir: &Path, session: &str) -> std::io::Result<SessionLock> {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        let path = dir.join(format!("{session}.lock"));
        let fd = open(
            &path,
            OFlags::RDWR | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )?;
        flock(&fd, FlockOperation::NonBlockingLockExclusive)?;
        Ok(SessionLock {
            dir: dir.to_path_buf(),
            path,
            _file: File::from(fd),
        })
    }

    /// Whether `session` is held by a running process. A session without a lock file
    /// in this directory is not known here and counts as dead; a malformed id too.
    pub fn is_alive(&self, session: &str) -> bool {
        if session.is_empty() || !session.chars().all(|c| c.is_ascii_hexdigit()) {
            return false;
        }
        let path = self.dir.join(format!("{session}.lock"));
        let Ok(fd) = open(
            &path,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        ) else {
            return false;
        };
        match flock(&fd, FlockOperation::NonBlockingLockShared) {
            // Nobody holds it: the session's process is gone; tidy its file.
            Ok(()) => {
                let _ = std::fs::remove_file(&path);
                false
            }
            Err(_) => true,
        }
    }
}

impl Drop for SessionLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_session_is_alive_and_a_released_one_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let mine = SessionLock::acquire(dir.path(), "aaaa").unwrap();
        let other = SessionLock::acquire(dir.path(), "bbbb").unwrap();
        assert!(mine.is_alive("bbbb"));
        drop(other);
        assert!(!mine.is_alive("bbbb"));
        assert!(!mine.is_alive("cccc"));
        assert!(!mine.is_alive("../etc/passwd"));
        assert!(mine.is_alive("aaaa"));
    }
}
