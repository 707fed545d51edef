//! Connection-level faults that act on the bytes of one response.
//!
//! [`FaultyIo`] wraps the stream hyper writes to (the TLS stream on `www-ssl`, so counts are of
//! plaintext HTTP bytes). The request handler arms it through the connection's [`ConnCtl`] before the
//! response is written, and the fault lasts for that response only: the wrapper reads the response's
//! own head as it goes by (up to the blank line, then `Content-Length`) to know where it ends.
//! - *close after N body bytes* lets the head and at most N body bytes through, flushes them, then
//!   fails the next write so hyper drops the connection; a response shorter than that is sent whole
//!   and the connection is closed after it, so no later request on the connection is touched;
//! - *dribble* writes the response at most a few bytes at a time with a pause between writes, and the
//!   next response on the connection is written normally.
//!
//! A *reset* cannot be done by the handler itself (hyper owns the socket), so the handler asks the
//! connection task through [`ConnCtl::reset`], which sets `SO_LINGER` to zero on a duplicate of the
//! socket and drops the connection: the kernel then sends RST instead of FIN.
//!
//! The wrapper also notes when the connection last moved a byte, for the idle timeout, and gives
//! hyper's own refusals of a request it could not parse (`400` for a malformed request line or
//! head, `414` for an over-long URI, `431` for over-large headers: empty bodies that hyper writes
//! itself, before any handler runs) the RouterOS error envelope every other refusal has
//! ([`router_shaped`]). What a real router sends in these cases is not published; the shape is
//! [likely] (fixtures/README.md).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;
use tokio::time::Instant;

/// Longest response head the tracker reads before giving up on finding its end.
const MAX_HEAD: usize = 64 * 1024;

/// Where the bytes written so far stand within the current response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Tracker {
    /// The head so far (until the blank line is seen).
    head: Vec<u8>,
    /// The body's length, once the head is complete (0 without `Content-Length`).
    body_len: Option<usize>,
    /// Body bytes written.
    body_written: usize,
}

impl Tracker {
    /// Consumes the leading bytes of `buf` that belong to this response, up to `body_cap` body
    /// bytes, and returns how many.
    fn take(&mut self, buf: &[u8], body_cap: usize) -> usize {
        let mut n = 0;
        if self.body_len.is_none() {
            for &b in buf {
                n += 1;
                self.head.push(b);
                if self.head.ends_with(b"\r\n\r\n") || self.head.len() >= MAX_HEAD {
                    self.body_len = Some(content_length(&self.head));
                    break;
                }
            }
        }
        if let Some(len) = self.body_len {
            let room = len.min(body_cap).saturating_sub(self.body_written);
            let more = room.min(buf.len() - n);
            self.body_written += more;
            n += more;
        }
        n
    }

    /// Whether the head and `min(body_cap, body)` body bytes have been written.
    fn done(&self, body_cap: usize) -> bool {
        self.body_len
            .is_some_and(|len| self.body_written >= len.min(body_cap))
    }
}

/// `Content-Length` of a response head; 0 when absent (hyper sends it for every body it writes here).
fn content_length(head: &[u8]) -> usize {
    let text = String::from_utf8_lossy(head);
    text.split("\r\n")
        .filter_map(|line| line.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0)
}

/// How the next writes behave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
enum Mode {
    #[default]
    Normal,
    /// Let the head and at most `body` body bytes of this response through, then close.
    Limit { tracker: Tracker, body: usize },
    /// The limit was reached: flush, then fail every write.
    Closing,
    /// This response at most `bytes` per write, `interval` apart.
    Dribble {
        tracker: Tracker,
        bytes: usize,
        interval: Duration,
    },
}

/// The per-connection switchboard between the request handler and the connection task.
#[derive(Debug)]
pub struct ConnCtl {
    mode: Mutex<Mode>,
    abort: Notify,
    socket: Mutex<Option<std::net::TcpStream>>,
    /// When a byte last moved, in milliseconds since `started`.
    last_activity_ms: AtomicU64,
    started: Instant,
    /// Requests being handled (a connection with one in flight is not idle, even if silent).
    in_flight: AtomicUsize,
}

impl ConnCtl {
    /// A switchboard holding a duplicate of the TCP socket (for resets), if one could be made.
    pub fn new(socket: Option<std::net::TcpStream>) -> Self {
        Self {
            mode: Mutex::new(Mode::Normal),
            abort: Notify::new(),
            socket: Mutex::new(socket),
            last_activity_ms: AtomicU64::new(0),
            started: Instant::now(),
            in_flight: AtomicUsize::new(0),
        }
    }

    fn mode(&self) -> std::sync::MutexGuard<'_, Mode> {
        self.mode.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The next response stops after its head and `body_bytes` bytes of body, and the connection
    /// closes after it.
    pub fn close_after(&self, body_bytes: usize) {
        *self.mode() = Mode::Limit {
            tracker: Tracker::default(),
            body: body_bytes,
        };
    }

    /// The next response is written `bytes` at a time, `interval` apart.
    pub fn dribble(&self, bytes: usize, interval: Duration) {
        *self.mode() = Mode::Dribble {
            tracker: Tracker::default(),
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

    fn touch(&self) {
        self.last_activity_ms
            .store(self.started.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    /// Marks a request as being handled until the guard drops.
    pub fn request(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self)
    }

    /// Resolves once the connection has moved no byte and handled no request for `idle`.
    pub async fn idle_for(&self, idle: Duration) {
        loop {
            let last = Duration::from_millis(self.last_activity_ms.load(Ordering::Relaxed));
            let deadline = self.started + last + idle;
            if Instant::now() >= deadline && self.in_flight.load(Ordering::Relaxed) == 0 {
                return;
            }
            tokio::time::sleep_until(deadline.max(Instant::now() + Duration::from_millis(10)))
                .await;
        }
    }
}

/// A request being handled; see [`ConnCtl::request`].
#[derive(Debug)]
pub struct InFlight<'a>(&'a ConnCtl);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.0.touch();
    }
}

/// The statuses hyper answers by itself when it cannot parse a request.
const HYPER_REFUSALS: [&[u8]; 3] = [
    b"HTTP/1.1 400 Bad Request\r\n",
    b"HTTP/1.1 414 URI Too Long\r\n",
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n",
];

/// How hyper's own refusal continues after its status line: these headers, in this order, are
/// what hyper writes for a response it makes without a handler. A handler's response always
/// carries `content-type` first (the envelope, or a fault's own type), so no reply of the
/// simulator's is mistaken for one of hyper's.
const HYPER_REFUSAL_HEADERS: &[u8] = b"connection: close\r\ncontent-length: 0\r\n";

/// `buf` rewritten with the RouterOS error envelope when it is the whole head of one of hyper's
/// own refusals, keeping its status and its other headers.
fn router_shaped(buf: &[u8]) -> Option<Vec<u8>> {
    let status_line = HYPER_REFUSALS.iter().find(|l| buf.starts_with(l))?;
    let rest = buf[status_line.len()..].strip_prefix(HYPER_REFUSAL_HEADERS)?;
    let status = std::str::from_utf8(&status_line[9..12])
        .ok()?
        .parse()
        .ok()?;
    let status = http::StatusCode::from_u16(status).ok()?;
    // The head must end in this write, and nothing may follow it (the body is empty).
    if !rest.ends_with(b"\r\n\r\n") {
        return None;
    }
    let body = crate::rest::error::ErrorReply::with_status(status, None).body();
    let mut out = Vec::with_capacity(buf.len() + body.len() + 48);
    out.extend_from_slice(status_line);
    out.extend_from_slice(b"connection: close\r\ncontent-type: application/json\r\n");
    out.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
    out.extend_from_slice(rest);
    out.extend_from_slice(&body);
    Some(out)
}

/// A rewritten write in progress: the bytes to send, how many have gone, and how many of the
/// caller's bytes they stand for.
#[derive(Debug)]
struct Substitute {
    bytes: Vec<u8>,
    sent: usize,
    stands_for: usize,
}

/// A stream whose writes obey its connection's [`ConnCtl`].
#[derive(Debug)]
pub struct FaultyIo<S> {
    inner: S,
    ctl: std::sync::Arc<ConnCtl>,
    pause: Option<Pin<Box<tokio::time::Sleep>>>,
    substitute: Option<Substitute>,
}

impl<S> FaultyIo<S> {
    /// Wraps `inner`.
    pub fn new(inner: S, ctl: std::sync::Arc<ConnCtl>) -> Self {
        Self {
            inner,
            ctl,
            pause: None,
            substitute: None,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for FaultyIo<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.ctl.touch();
        }
        result
    }
}

fn aborted() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "fault: connection closed after the response",
    )
}

impl<S: AsyncWrite + Unpin> AsyncWrite for FaultyIo<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        this.ctl.touch();
        if this.substitute.is_none()
            && let Some(bytes) = router_shaped(buf)
        {
            this.substitute = Some(Substitute {
                bytes,
                sent: 0,
                stands_for: buf.len(),
            });
        }
        if let Some(sub) = this.substitute.as_mut() {
            while sub.sent < sub.bytes.len() {
                let n = ready!(Pin::new(&mut this.inner).poll_write(cx, &sub.bytes[sub.sent..]))?;
                if n == 0 {
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                sub.sent += n;
            }
            let stands_for = sub.stands_for;
            this.substitute = None;
            return Poll::Ready(Ok(stands_for));
        }
        let mode = this.ctl.mode().clone();
        match mode {
            Mode::Normal => Pin::new(&mut this.inner).poll_write(cx, buf),
            Mode::Closing => {
                ready!(Pin::new(&mut this.inner).poll_flush(cx))?;
                Poll::Ready(Err(aborted()))
            }
            Mode::Limit { mut tracker, body } => {
                let mut probe = tracker.clone();
                let n = probe.take(buf, body);
                if n == 0 && !buf.is_empty() {
                    *this.ctl.mode() = Mode::Closing;
                    ready!(Pin::new(&mut this.inner).poll_flush(cx))?;
                    return Poll::Ready(Err(aborted()));
                }
                let written = ready!(Pin::new(&mut this.inner).poll_write(cx, &buf[..n]))?;
                tracker.take(&buf[..written], body);
                // Once this response's allowance is out, the connection ends: later requests on it
                // must not meet a fault that was meant for this one.
                *this.ctl.mode() = if tracker.done(body) {
                    Mode::Closing
                } else {
                    Mode::Limit { tracker, body }
                };
                Poll::Ready(Ok(written))
            }
            Mode::Dribble {
                mut tracker,
                bytes,
                interval,
            } => {
                if let Some(p) = this.pause.as_mut() {
                    ready!(p.as_mut().poll(cx));
                    this.pause = None;
                }
                let n = buf.len().min(bytes);
                let written = ready!(Pin::new(&mut this.inner).poll_write(cx, &buf[..n]))?;
                // The bytes must leave now, not when hyper flushes at the end of the response.
                let _ = Pin::new(&mut this.inner).poll_flush(cx)?;
                tracker.take(&buf[..written], usize::MAX);
                *this.ctl.mode() = if tracker.done(usize::MAX) {
                    Mode::Normal
                } else {
                    this.pause = Some(Box::pin(tokio::time::sleep(interval)));
                    Mode::Dribble {
                        tracker,
                        bytes,
                        interval,
                    }
                };
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

#[cfg(test)]
mod tests {
    use super::*;

    const RESP: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n0123456789";

    #[test]
    fn hypers_own_refusals_get_the_router_envelope_and_nothing_else_does() {
        let date = "date: Tue, 01 Dec 2026 20:13:01 GMT\r\n\r\n";
        let check = |status: &str, body: &str| {
            let head =
                format!("HTTP/1.1 {status}\r\nconnection: close\r\ncontent-length: 0\r\n{date}");
            let out =
                String::from_utf8(router_shaped(head.as_bytes()).expect("rewritten")).unwrap();
            assert_eq!(
                out,
                format!(
                    "HTTP/1.1 {status}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{date}{body}",
                    body.len()
                )
            );
        };
        check(
            "400 Bad Request",
            r#"{"error":400,"message":"Bad Request"}"#,
        );
        check(
            "414 URI Too Long",
            r#"{"error":414,"message":"URI Too Long"}"#,
        );
        check(
            "431 Request Header Fields Too Large",
            r#"{"error":431,"message":"Request Header Fields Too Large"}"#,
        );
        // A handler's replies (with a content type), other statuses and partial heads pass as
        // they are.
        for other in [
            "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}",
            "HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\ndate: x",
            "HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n",
            "HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\nmore",
        ] {
            assert_eq!(router_shaped(other.as_bytes()), None, "{other:?}");
        }
    }

    #[test]
    fn tracker_counts_head_then_body() {
        let mut t = Tracker::default();
        assert_eq!(t.take(RESP, 3), RESP.len() - 7, "head and 3 body bytes");
        assert!(t.done(3));
        assert!(!t.done(10));
        // Split across writes, including inside the blank line.
        let mut t = Tracker::default();
        assert_eq!(
            t.take(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r", 99),
            37
        );
        assert!(!t.done(99));
        assert_eq!(
            t.take(b"\nabcdef", 99),
            3,
            "the rest of the head and the 2-byte body only"
        );
        assert!(t.done(99));
        // No body at all (204): done at the end of the head.
        let mut t = Tracker::default();
        assert_eq!(
            t.take(b"HTTP/1.1 204 No Content\r\n\r\nNEXT", usize::MAX),
            27
        );
        assert!(t.done(usize::MAX));
    }

    #[test]
    fn content_length_is_read_case_insensitively() {
        assert_eq!(
            content_length(b"HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n"),
            42
        );
        assert_eq!(content_length(b"HTTP/1.1 204 No Content\r\n\r\n"), 0);
    }
}
