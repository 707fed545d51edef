//! Connection-level faults that act on the bytes of a response.
//!
//! [`FaultyIo`] wraps the stream hyper writes to (the TLS stream on `www-ssl`, so counts are of
//! plaintext HTTP bytes). The request handler arms it through the connection's [`ConnCtl`] before the
//! response is written:
//! - *close after N body bytes* lets the headers (up to the blank line) and N more bytes through,
//!   flushes them, then fails the write so hyper drops the connection mid-response;
//! - *dribble* writes at most a few bytes at a time with a pause between writes.
//!
//! A *reset* cannot be done by the handler itself (hyper owns the socket), so the handler asks the
//! connection task through [`ConnCtl::reset`], which sets `SO_LINGER` to zero on a duplicate of the
//! socket and drops the connection: the kernel then sends RST instead of FIN.

use std::io;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;

/// How the next writes behave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Mode {
    #[default]
    Normal,
    /// Let the headers through, then `body` more bytes, then fail.
    Limit {
        /// How many bytes of `\r\n\r\n` have been seen in a row.
        matched: u8,
        headers_done: bool,
        body: usize,
    },
    /// The limit was reached: flush, then fail every write.
    Closing,
    /// At most `bytes` per write, `interval` apart.
    Dribble { bytes: usize, interval: Duration },
}

/// The per-connection switchboard between the request handler and the connection task.
#[derive(Debug, Default)]
pub struct ConnCtl {
    mode: Mutex<Mode>,
    abort: Notify,
    socket: Mutex<Option<std::net::TcpStream>>,
}

impl ConnCtl {
    /// A switchboard holding a duplicate of the TCP socket (for resets), if one could be made.
    pub fn new(socket: Option<std::net::TcpStream>) -> Self {
        Self {
            mode: Mutex::new(Mode::Normal),
            abort: Notify::new(),
            socket: Mutex::new(socket),
        }
    }

    fn mode(&self) -> std::sync::MutexGuard<'_, Mode> {
        self.mode.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The next response stops after its headers and `body_bytes` bytes of body.
    pub fn close_after(&self, body_bytes: usize) {
        *self.mode() = Mode::Limit {
            matched: 0,
            headers_done: false,
            body: body_bytes,
        };
    }

    /// Responses are written `bytes` at a time, `interval` apart.
    pub fn dribble(&self, bytes: usize, interval: Duration) {
        *self.mode() = Mode::Dribble {
            bytes: bytes.max(1),
            interval,
        };
    }

    /// Ends the connection with a TCP reset.
    pub fn reset(&self) {
        if let Some(s) = self
            .socket
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            let _ = socket2::SockRef::from(s).set_linger(Some(Duration::ZERO));
        }
        self.abort.notify_one();
    }

    /// Resolves when the handler asked for the connection to end.
    pub async fn aborted(&self) {
        self.abort.notified().await;
    }
}

/// A stream whose writes obey its connection's [`ConnCtl`].
#[derive(Debug)]
pub struct FaultyIo<S> {
    inner: S,
    ctl: std::sync::Arc<ConnCtl>,
    pause: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<S> FaultyIo<S> {
    /// Wraps `inner`.
    pub fn new(inner: S, ctl: std::sync::Arc<ConnCtl>) -> Self {
        Self {
            inner,
            ctl,
            pause: None,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for FaultyIo<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

/// How many bytes of `buf` a limit lets through, and the limit's state after them.
fn allowed(mode: Mode, buf: &[u8]) -> (usize, Mode) {
    let Mode::Limit {
        mut matched,
        mut headers_done,
        mut body,
    } = mode
    else {
        return (buf.len(), mode);
    };
    let mut n = 0;
    for &b in buf {
        if headers_done {
            if body == 0 {
                break;
            }
            body -= 1;
        } else {
            matched = match (matched, b) {
                (0 | 2, b'\r') => matched + 1,
                (1 | 3, b'\n') => matched + 1,
                (_, b'\r') => 1,
                _ => 0,
            };
            headers_done = matched == 4;
        }
        n += 1;
    }
    (
        n,
        Mode::Limit {
            matched,
            headers_done,
            body,
        },
    )
}

impl<S: AsyncWrite + Unpin> AsyncWrite for FaultyIo<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let mode = *this.ctl.mode();
        match mode {
            Mode::Normal => Pin::new(&mut this.inner).poll_write(cx, buf),
            Mode::Closing => {
                ready!(Pin::new(&mut this.inner).poll_flush(cx))?;
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    "fault: connection closed mid-response",
                )))
            }
            Mode::Limit { .. } => {
                let (n, _) = allowed(mode, buf);
                if n == 0 && !buf.is_empty() {
                    *this.ctl.mode() = Mode::Closing;
                    ready!(Pin::new(&mut this.inner).poll_flush(cx))?;
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::ConnectionAborted,
                        "fault: connection closed mid-response",
                    )));
                }
                let written = ready!(Pin::new(&mut this.inner).poll_write(cx, &buf[..n]))?;
                let (_, next) = allowed(mode, &buf[..written]);
                *this.ctl.mode() = next;
                Poll::Ready(Ok(written))
            }
            Mode::Dribble { bytes, interval } => {
                if let Some(p) = this.pause.as_mut() {
                    ready!(p.as_mut().poll(cx));
                    this.pause = None;
                }
                let n = buf.len().min(bytes);
                let written = ready!(Pin::new(&mut this.inner).poll_write(cx, &buf[..n]))?;
                // The bytes must leave now, not when hyper flushes at the end of the response.
                let _ = Pin::new(&mut this.inner).poll_flush(cx)?;
                this.pause = Some(Box::pin(tokio::time::sleep(interval)));
                Poll::Ready(Ok(written))
            }
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

use std::future::Future;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_counts_headers_then_body() {
        let mode = Mode::Limit {
            matched: 0,
            headers_done: false,
            body: 3,
        };
        let resp = b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n0123456789";
        let (n, next) = allowed(mode, resp);
        assert_eq!(
            &resp[..n],
            b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n012"
        );
        assert_eq!(allowed(next, b"more").0, 0);
        // Split across writes, including inside the blank line.
        let (n1, m1) = allowed(mode, b"HTTP/1.1 200 OK\r\n\r");
        assert_eq!(n1, 18);
        let (n2, _) = allowed(m1, b"\nabcdef");
        assert_eq!(n2, 4);
        // Zero body bytes: headers only.
        let (n, _) = allowed(
            Mode::Limit {
                matched: 0,
                headers_done: false,
                body: 0,
            },
            resp,
        );
        assert_eq!(&resp[..n], b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n");
    }
}
