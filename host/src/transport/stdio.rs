//! The two ends of MCP over stdio, read and written by the async workers themselves.
//!
//! tokio's `stdin()` and `stdout()` hand every read and every write to a thread of the
//! blocking pool, because a terminal or a regular file cannot be polled: two thread
//! handoffs per message, and a burst of calls wakes more threads. A client connects
//! through pipes (Python, tokio) or a socket pair (Node's libuv), and both can be
//! polled like any other descriptor: those are switched to non-blocking mode and driven
//! by the reactor. Anything else (a terminal, a file, `/dev/null`) keeps tokio's ends.
//!
//! Non-blocking is a property of the open file, which the client may share, so the
//! original flags are put back when the session ends ([`Restore`]).

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::fs::{FileType, OFlags};
use tokio::io::{AsyncRead, AsyncWrite};

pub type Reader = Box<dyn AsyncRead + Send + Unpin>;
pub type Writer = Box<dyn AsyncWrite + Send + Unpin>;

/// What a standard descriptor is connected to, as far as polling it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Pipe,
    Socket,
    /// Not pollable (a terminal, a file, a device): read and written on the blocking pool.
    Other,
}

fn kind(fd: BorrowedFd<'_>) -> io::Result<Kind> {
    let stat = rustix::fs::fstat(fd)?;
    Ok(match FileType::from_raw_mode(stat.st_mode) {
        FileType::Fifo => Kind::Pipe,
        FileType::Socket => Kind::Socket,
        _ => Kind::Other,
    })
}

/// Puts the file status flags of fd 0 and 1 back as they were, when dropped.
pub struct Restore(Vec<(OwnedFd, OFlags)>);

impl Drop for Restore {
    fn drop(&mut self) {
        for (fd, flags) in &self.0 {
            // Best effort: the other end may be gone already.
            let _ = rustix::fs::fcntl_setfl(fd, *flags);
        }
    }
}

/// The server's ends of stdin and stdout, and what restores them.
pub fn ends() -> io::Result<(Reader, Writer, Restore)> {
    let mut restore = Restore(Vec::new());
    let reader = reader(io::stdin().as_fd(), &mut restore)?;
    let writer = writer(io::stdout().as_fd(), &mut restore)?;
    Ok((reader, writer, restore))
}

fn reader(fd: BorrowedFd<'_>, restore: &mut Restore) -> io::Result<Reader> {
    Ok(match kind(fd)? {
        Kind::Pipe => Box::new(tokio::net::unix::pipe::Receiver::from_owned_fd(
            remembered(fd, restore)?,
        )?),
        Kind::Socket => Box::new(socket(remembered(fd, restore)?)?),
        Kind::Other => Box::new(tokio::io::stdin()),
    })
}

fn writer(fd: BorrowedFd<'_>, restore: &mut Restore) -> io::Result<Writer> {
    Ok(match kind(fd)? {
        Kind::Pipe => Box::new(tokio::net::unix::pipe::Sender::from_owned_fd(remembered(
            fd, restore,
        )?)?),
        Kind::Socket => Box::new(socket(remembered(fd, restore)?)?),
        Kind::Other => Box::new(tokio::io::stdout()),
    })
}

/// A duplicate of `fd` to drive, its flags noted for [`Restore`] first.
fn remembered(fd: BorrowedFd<'_>, restore: &mut Restore) -> io::Result<OwnedFd> {
    let flags = rustix::fs::fcntl_getfl(fd)?;
    restore.0.push((fd.try_clone_to_owned()?, flags));
    fd.try_clone_to_owned()
}

fn socket(fd: OwnedFd) -> io::Result<tokio::net::UnixStream> {
    let stream = std::os::unix::net::UnixStream::from(fd);
    stream.set_nonblocking(true)?;
    tokio::net::UnixStream::from_std(stream)
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// Writes a line through `writer` and reads it back through `reader`.
    async fn round_trip(mut writer: Writer, mut reader: Reader) {
        let line = b"{\"jsonrpc\":\"2.0\"}\n";
        writer.write_all(line).await.unwrap();
        writer.flush().await.unwrap();
        let mut got = vec![0; line.len()];
        reader.read_exact(&mut got).await.unwrap();
        assert_eq!(got, line);
    }

    fn blocking(fd: &OwnedFd) -> bool {
        !rustix::fs::fcntl_getfl(fd)
            .unwrap()
            .contains(OFlags::NONBLOCK)
    }

    #[tokio::test]
    async fn pipes_are_polled_and_their_flags_restored() {
        let (read_end, write_end) = std::io::pipe().unwrap();
        let (read_end, write_end) = (OwnedFd::from(read_end), OwnedFd::from(write_end));
        assert_eq!(kind(read_end.as_fd()).unwrap(), Kind::Pipe);
        let mut restore = Restore(Vec::new());
        let reader = reader(read_end.as_fd(), &mut restore).unwrap();
        let writer = writer(write_end.as_fd(), &mut restore).unwrap();
        assert!(!blocking(&read_end) && !blocking(&write_end));
        round_trip(writer, reader).await;
        drop(restore);
        assert!(blocking(&read_end) && blocking(&write_end));
    }

    #[tokio::test]
    async fn a_socket_pair_is_polled() {
        let (ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
        let (ours, theirs) = (OwnedFd::from(ours), OwnedFd::from(theirs));
        assert_eq!(kind(ours.as_fd()).unwrap(), Kind::Socket);
        let mut restore = Restore(Vec::new());
        let writer = writer(ours.as_fd(), &mut restore).unwrap();
        let reader = reader(theirs.as_fd(), &mut restore).unwrap();
        round_trip(writer, reader).await;
    }

    #[test]
    fn files_and_devices_are_not_polled() {
        let file = tempfile::tempfile().unwrap();
        assert_eq!(kind(file.as_fd()).unwrap(), Kind::Other);
        let null = std::fs::File::open("/dev/null").unwrap();
        assert_eq!(kind(null.as_fd()).unwrap(), Kind::Other);
    }
}
