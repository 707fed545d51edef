//! The listeners: TCP accept loops for `www` and `www-ssl`, TLS handshakes, and HTTP/1.1 serving.
//!
//! The simulator owns its accept loop (rather than `axum::serve`) because a router's behaviour at
//! this level is part of what clients must survive: a disabled service closes its listener so that
//! connections are refused; a client outside the service's allowed addresses is accepted and then
//! reset without a response; connections beyond `max-sessions` are reset; `certificate=none` fails
//! the handshake. Each listener follows the `/ip/service` row behind it and rebinds when its port
//! changes.
//!
//! Accepted sockets get `TCP_NODELAY`: without it a new TLS connection from common clients stalls
//! for about 40 ms on loopback (Nagle's algorithm meeting delayed ACKs).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::model::services::Listener;
use crate::rest::{self, error::RosError};
use crate::shared::Shared;

/// Largest request body the simulator reads (a real router's limit is lower still).
const MAX_BODY: usize = 32 * 1024 * 1024;

/// Runs one listener until `shutdown` turns true, following its service's settings.
pub async fn supervise(
    shared: Arc<Shared>,
    kind: Listener,
    ip: IpAddr,
    initial: Option<TcpListener>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut services = shared.watch_services();
    let mut socket = initial;
    let mut bound_port = socket.as_ref().and_then(|s| s.local_addr().ok()).map(|a| a.port());
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
            changed = services.changed() => {
                if changed.is_err() {
                    return;
                }
                let config = shared.listener_config(kind);
                let want = config.enabled.then_some(config.port);
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
    let work = async {
        match kind {
            Listener::Www => serve_http(shared.clone(), kind, stream, peer).await,
            Listener::WwwSsl => {
                let acceptor = tokio_rustls::TlsAcceptor::from(shared.tls.config(config.has_certificate));
                match acceptor.accept(stream).await {
                    Ok(tls) => serve_http(shared.clone(), kind, tls, peer).await,
                    Err(e) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                }
            }
        }
    };
    tokio::select! {
        _ = work => {}
        _ = epoch.changed() => tracing::debug!(%peer, "connection dropped"),
    }
}

/// Serves HTTP/1.1 with keep-alive on an established stream.
async fn serve_http<S>(shared: Arc<Shared>, kind: Listener, io: S, peer: SocketAddr)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let shared = shared.clone();
        async move { Ok::<_, std::convert::Infallible>(respond(&shared, kind, req, peer).await) }
    });
    let result = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(io), service)
        .await;
    if let Err(e) = result {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}

async fn respond(shared: &Arc<Shared>, kind: Listener, req: Request<Incoming>, peer: SocketAddr) -> http::Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            let e = RosError::bad_request("Failed to parse json");
            return rest::error_response(&e).map(Full::new);
        }
    };
    let outcome = rest::handle(shared, Request::from_parts(parts, body), peer, kind).await;
    outcome.response.map(Full::new)
}
