//! The listeners: TCP accept loops for `www` and `www-ssl`, TLS handshakes, and HTTP/1.1 serving.
//!
//! The simulator owns its accept loop (rather than `axum::serve`) because a router's behaviour at
//! this level is part of what clients must survive: a disabled service closes its listener so that
//! connections are refused; a client outside the service's allowed addresses is accepted and then
//! reset without a response; connections beyond `max-sessions` are reset; `certificate=none` fails
//! the handshake. Each listener follows the `/ip/service` row behind it and rebinds when its port
//! changes, and closes while the router reboots or a `refuse` fault is in place.
//!
//! Faults are applied here at both of their moments: when a connection is accepted (reset, stall,
//! the TLS faults) and when a request has been read (HTTP answers, delays, resets, early closes,
//! stalls, dribbling). Every request, and every connection a fault ended, goes to the journal.
//!
//! Accepted sockets get `TCP_NODELAY`: without it a new TLS connection from common clients stalls
//! for about 40 ms on loopback (Nagle's algorithm meeting delayed ACKs).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::faults::{Action, Hit, RequestInfo};
use crate::io::{ConnCtl, FaultyIo};
use crate::journal::JournalEntry;
use crate::model::failure::Failure;
use crate::model::services::Listener;
use crate::rest::body::Body;
use crate::rest::{self, error::ErrorReply};
use crate::shared::Shared;
use crate::tls::TlsFault;

/// Largest request body the simulator reads (a real router's limit is lower still).
const MAX_BODY: usize = 32 * 1024 * 1024;

/// How long a stall holds a connection before giving up on it (a reboot or shutdown ends it sooner).
const STALL_LIMIT: Duration = Duration::from_secs(3600);

/// A keep-alive connection that moves no byte and has no request in flight for this long is
/// closed. [likely], as above.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs one listener until `shutdown` turns true, following its service's settings.
pub async fn supervise(
    shared: Arc<Shared>,
    kind: Listener,
    ip: IpAddr,
    initial: Option<TcpListener>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut services = shared.watch_services();
    let mut availability = shared.watch_availability();
    // Whatever changed between binding and this task's first poll (a fault added right after start)
    // must be acted on, so the first pass through the loop re-checks.
    availability.mark_changed();
    let mut socket = initial;
    let mut bound_port = socket
        .as_ref()
        .and_then(|s| s.local_addr().ok())
        .map(|a| a.port());
    loop {
        let accept = async {
            match &socket {
                Some(s) => s.accept().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            accepted = accept => match accepted {
                Ok((stream, peer)) => {
                    tokio::spawn(connection(shared.clone(), kind, stream, peer));
                }
                Err(e) => {
                    // Out of file descriptors and similar: back off briefly rather than spin.
                    tracing::warn!(listener = kind.name(), error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            changed = async {
                tokio::select! {
                    c = services.changed() => c,
                    c = availability.changed() => c,
                }
            } => {
                if changed.is_err() {
                    return;
                }
                let want = shared.may_listen(kind);
                if want != bound_port {
                    socket = None;
                    bound_port = None;
                    if let Some(port) = want {
                        match TcpListener::bind(SocketAddr::new(ip, port)).await {
                            Ok(s) => {
                                socket = Some(s);
                                bound_port = Some(port);
                            }
                            Err(e) => tracing::error!(listener = kind.name(), port, error = %e, "could not listen"),
                        }
                    }
                    tracing::info!(listener = kind.name(), port = ?bound_port, "listener follows /ip/service");
                }
            }
            _ = shutdown.changed() => return,
        }
    }
}

/// Drops a connection with a TCP reset instead of an orderly close.
pub fn reset(stream: TcpStream) {
    let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
    drop(stream);
}

/// Decrements a listener's session count when the connection ends.
struct SessionGuard<'a>(&'a std::sync::atomic::AtomicUsize);

impl Drop for SessionGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A journal record for a connection that a fault ended before any request.
fn connection_event(shared: &Shared, kind: Listener, peer: SocketAddr, hit: &Hit) {
    let now = shared.clock.now();
    shared.journal.record(JournalEntry {
        seq: 0,
        time_ms: shared.clock.wall_ms(now),
        sim_ms: now,
        client: peer,
        listener: kind,
        user: None,
        method: None,
        path: None,
        status: None,
        fault: Some(fault_label(hit)),
        duration_ms: 0,
        cost_us: 0,
    });
}

fn fault_label(hit: &Hit) -> String {
    format!("{} (rule {})", hit.action.name(), hit.rule)
}

async fn connection(shared: Arc<Shared>, kind: Listener, stream: TcpStream, peer: SocketAddr) {
    let _ = stream.set_nodelay(true);
    let config = shared.listener_config(kind);
    if !config.admits(peer.ip()) {
        tracing::debug!(%peer, listener = kind.name(), "address not allowed by the service: reset");
        return reset(stream);
    }
    let counter = shared.sessions(kind);
    if counter.fetch_add(1, Ordering::Relaxed) >= config.max_sessions as usize {
        counter.fetch_sub(1, Ordering::Relaxed);
        tracing::debug!(%peer, listener = kind.name(), "max-sessions reached: reset");
        return reset(stream);
    }
    let _guard = SessionGuard(counter);
    let mut epoch = shared.watch_epoch();
    epoch.mark_unchanged();

    let hit = shared.faults.on_connection(kind);
    if let Some(hit) = &hit {
        connection_event(&shared, kind, peer, hit);
    }
    let tls_fault = match hit.as_ref().map(|h| &h.action) {
        Some(Action::Reset) => return reset(stream),
        Some(Action::Stall) => {
            tokio::select! {
                _ = tokio::time::sleep(STALL_LIMIT) => {}
                _ = epoch.changed() => {}
            }
            return reset(stream);
        }
        Some(Action::TlsExpired) => Some(TlsFault::Expired),
        Some(Action::TlsWrongName) => Some(TlsFault::WrongName),
        Some(Action::TlsUntrusted) => Some(TlsFault::Untrusted),
        _ => None,
    };
    let plaintext = matches!(hit.as_ref().map(|h| &h.action), Some(Action::TlsPlaintext));
    let no_certificate = matches!(
        hit.as_ref().map(|h| &h.action),
        Some(Action::TlsNoCertificate)
    );

    // A duplicate of the socket lets a request handler reset the connection later.
    let (stream, dup) = match stream.into_std() {
        Ok(std_stream) => {
            let dup = std_stream.try_clone().ok();
            match TcpStream::from_std(std_stream) {
                Ok(s) => (s, dup),
                Err(e) => return tracing::warn!(%peer, error = %e, "could not keep the connection"),
            }
        }
        Err(e) => return tracing::warn!(%peer, error = %e, "could not keep the connection"),
    };
    let ctl = Arc::new(ConnCtl::new(dup));
    let work = async {
        match kind {
            Listener::WwwSsl if !plaintext && (no_certificate || !config.has_certificate) => {
                refuse_handshake(stream).await;
            }
            Listener::WwwSsl if !plaintext => {
                let config = match tls_fault {
                    Some(f) => match shared.tls.fault_config(f, &shared.authority, &shared.names) {
                        Ok(c) => c,
                        Err(e) => {
                            return tracing::error!(error = %e, "could not make the fault certificate");
                        }
                    },
                    None => shared.tls.config(),
                };
                let handshake = tokio_rustls::TlsAcceptor::from(config).accept(stream);
                // Without this bound, silent clients would hold `max-sessions` slots forever.
                // [likely]: a router's exact values are not published; the default is a common
                // web-server value (see `Limits::read_timeout` and fixtures/README.md).
                match tokio::time::timeout(shared.limits().read_timeout, handshake)
                    .await
                    .unwrap_or_else(|_| {
                        Err(std::io::Error::new(
                            std::io::ErrorKind::TimedOut,
                            "no handshake in time",
                        ))
                    }) {
                    Ok(tls) => {
                        serve_http(
                            shared.clone(),
                            kind,
                            FaultyIo::new(tls, ctl.clone()),
                            peer,
                            ctl.clone(),
                        )
                        .await
                    }
                    Err(e) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                }
            }
            _ => {
                serve_http(
                    shared.clone(),
                    kind,
                    FaultyIo::new(stream, ctl.clone()),
                    peer,
                    ctl.clone(),
                )
                .await
            }
        }
    };
    tokio::select! {
        _ = work => {}
        _ = epoch.changed() => tracing::debug!(%peer, "connection dropped"),
        _ = ctl.aborted() => tracing::debug!(%peer, "connection reset by a fault"),
        _ = ctl.idle_for(IDLE_TIMEOUT) => tracing::debug!(%peer, "idle connection closed"),
    }
}

/// What a router with `certificate=none` does: it reads the ClientHello, finds no usable cipher
/// suite without a certificate, and answers with a fatal `handshake_failure` alert (40).
async fn refuse_handshake(mut stream: TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    const HANDSHAKE_FAILURE: [u8; 7] = [21, 3, 3, 0, 2, 2, 40];
    let read_hello = async {
        let mut header = [0u8; 5];
        stream.read_exact(&mut header).await?;
        let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
        let mut hello = vec![0u8; len.min(1 << 14)];
        stream.read_exact(&mut hello).await?;
        Ok::<_, std::io::Error>(())
    };
    if let Ok(Ok(())) = tokio::time::timeout(Duration::from_secs(10), read_hello).await {
        let _ = stream.write_all(&HANDSHAKE_FAILURE).await;
        let _ = stream.shutdown().await;
    }
}

/// Serves HTTP/1.1 with keep-alive on an established stream.
async fn serve_http<S>(
    shared: Arc<Shared>,
    kind: Listener,
    io: S,
    peer: SocketAddr,
    ctl: Arc<ConnCtl>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let read_timeout = shared.limits().read_timeout;
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let shared = shared.clone();
        let ctl = ctl.clone();
        async move { Ok::<_, std::convert::Infallible>(respond(&shared, kind, req, peer, &ctl).await) }
    });
    let result = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(read_timeout)
        .keep_alive(true)
        .serve_connection(TokioIo::new(io), service)
        .await;
    if let Err(e) = result {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}

async fn respond(
    shared: &Arc<Shared>,
    kind: Listener,
    req: Request<Incoming>,
    peer: SocketAddr,
    ctl: &ConnCtl,
) -> http::Response<Body> {
    let started = tokio::time::Instant::now();
    let _in_flight = ctl.request();
    let arrived = shared.clock.now();
    let (parts, body) = req.into_parts();
    let method = parts.method.as_str().to_owned();
    let path = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), |p| p.as_str().to_owned());
    let presented = rest::presented_user(&parts.headers);
    let hit = shared.faults.on_request(&RequestInfo {
        listener: kind,
        method: &method,
        path: parts.uri.path(),
        user: presented.as_deref(),
    });
    let record = |status: Option<u16>, user: Option<String>, cost: Duration| {
        shared.journal.record(JournalEntry {
            seq: 0,
            time_ms: shared.clock.wall_ms(arrived),
            sim_ms: arrived,
            client: peer,
            listener: kind,
            user,
            method: Some(method.clone()),
            path: Some(path.clone()),
            status,
            fault: hit.as_ref().map(fault_label),
            duration_ms: started.elapsed().as_millis() as u64,
            cost_us: u64::try_from(cost.as_micros()).unwrap_or(u64::MAX),
        })
    };

    // A request that would be refused whatever its body says is answered before the body is read:
    // a client without credentials can neither make the server wait for a body nor make it hold
    // one. hyper then closes the connection (the body was not read), which frees its session slot.
    // With a fault in place the operator's rule decides, as before.
    if hit.is_none()
        && let Some(refused) = rest::refusal_before_body(shared, &parts, peer, kind)
    {
        record(
            Some(refused.response.status().as_u16()),
            refused.user.clone(),
            Duration::ZERO,
        );
        return refused.response;
    }
    let read_timeout = shared.limits().read_timeout;
    let body =
        match tokio::time::timeout(read_timeout, Limited::new(body, MAX_BODY).collect()).await {
            Ok(Ok(collected)) => collected.to_bytes(),
            Ok(Err(_)) => {
                let e = ErrorReply::from(Failure::bad_request("Failed to parse json"));
                record(Some(e.status.as_u16()), presented.clone(), Duration::ZERO);
                return e.response();
            }
            // A body that does not arrive in time ends the connection without an answer, as a web
            // server that gives up on a client does: it must not keep a `max-sessions` slot.
            Err(_) => {
                tracing::debug!(%peer, "request body not received in time: connection closed");
                record(None, presented.clone(), Duration::ZERO);
                ctl.reset();
                return std::future::pending().await;
            }
        };

    match hit.as_ref().map(|h| (&h.action, h.delay)) {
        Some((Action::Status { status, detail }, _)) => {
            let status = http::StatusCode::from_u16(*status)
                .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
            let e = ErrorReply::with_status(status, detail.clone());
            record(Some(status.as_u16()), presented.clone(), Duration::ZERO);
            return e.response();
        }
        Some((
            Action::Body {
                status,
                content_type,
                body,
            },
            _,
        )) => {
            let status = http::StatusCode::from_u16(*status).unwrap_or(http::StatusCode::OK);
            record(Some(status.as_u16()), presented.clone(), Duration::ZERO);
            let mut r = http::Response::new(Body::from(Bytes::from(body.clone())));
            *r.status_mut() = status;
            if let Ok(v) = http::HeaderValue::from_str(content_type) {
                r.headers_mut().insert(http::header::CONTENT_TYPE, v);
            }
            return r;
        }
        Some((Action::Delay { .. }, delay)) => tokio::time::sleep(delay.unwrap_or_default()).await,
        Some((Action::Reset, _)) => {
            record(None, presented.clone(), Duration::ZERO);
            ctl.reset();
            return std::future::pending().await;
        }
        Some((Action::Stall, _)) => {
            record(None, presented.clone(), Duration::ZERO);
            tokio::time::sleep(STALL_LIMIT).await;
            ctl.reset();
            return std::future::pending().await;
        }
        Some((Action::CloseAfterHeaders, _)) => ctl.close_after(0),
        Some((Action::CloseAfterBytes { bytes }, _)) => ctl.close_after(*bytes),
        Some((Action::Dribble { bytes, interval_ms }, _)) => {
            ctl.dribble(*bytes, Duration::from_millis(*interval_ms))
        }
        _ => {}
    }

    let outcome = rest::handle(shared, Request::from_parts(parts, body), peer, kind).await;
    record(
        Some(outcome.response.status().as_u16()),
        outcome.user,
        outcome.cost,
    );
    outcome.response
}
