//! A plugin's stderr, kept only as its last [`TAIL_BYTES`]: when the plugin traps, the
//! host's log shows what it wrote last (a Rust panic message, a Python or JavaScript
//! exception), which would otherwise be lost with the instance. Writes always succeed
//! and never block; the text goes to the host's log only, never to the client.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use wasmtime_wasi::cli::{IsTerminal, StdoutStream};

/// How much of the end of a plugin's stderr is kept.
pub const TAIL_BYTES: usize = 4096;

/// One instance's stderr; clones share it.
#[derive(Clone, Default)]
pub struct StderrTail {
    buffer: Arc<Mutex<VecDeque<u8>>>,
}

impl StderrTail {
    /// What was written last, at most [`TAIL_BYTES`] (invalid UTF-8 replaced); empty
    /// when nothing was.
    pub fn text(&self) -> String {
        let buffer = self.buffer.lock().unwrap_or_else(PoisonError::into_inner);
        let (front, back) = buffer.as_slices();
        let mut bytes = Vec::with_capacity(buffer.len());
        bytes.extend_from_slice(front);
        bytes.extend_from_slice(back);
        String::from_utf8_lossy(&bytes).trim().to_string()
    }

    fn write(&self, bytes: &[u8]) {
        let mut buffer = self.buffer.lock().unwrap_or_else(PoisonError::into_inner);
        let keep = &bytes[bytes.len().saturating_sub(TAIL_BYTES)..];
        buffer.extend(keep);
        let over = buffer.len().saturating_sub(TAIL_BYTES);
        buffer.drain(..over);
    }
}

impl IsTerminal for StderrTail {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for StderrTail {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl tokio::io::AsyncWrite for StderrTail {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.write(bytes);
        Poll::Ready(Ok(bytes.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_end_is_kept() {
        let tail = StderrTail::default();
        tail.write(b"first line\n");
        assert_eq!(tail.text(), "first line");
        tail.write(&vec![b'x'; TAIL_BYTES]);
        tail.write(b"\nTraceback: boom\n");
        let text = tail.text();
        assert!(text.ends_with("Traceback: boom"), "{text}");
        assert!(!text.contains("first line"));
        assert!(text.len() <= TAIL_BYTES);
    }
}
