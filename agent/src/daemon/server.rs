//! The accept loop of the control API (plain HTTP on loopback) and of the passive feed (HTTPS):
//! every connection bounded in number, in the time its TLS handshake and request head may take and
//! in the size of that head.
//!
//! `axum::serve` has no connection cap and no head timeout, so a local user could hold the API with
//! idle or half-open connections. Here each connection is served by hyper with a head timeout
//! ([`Limits::head_timeout`]) and a head size limit ([`Limits::max_head`]); bodies are bounded by the
//! routes (`api.rs`). At most [`Limits::max_connections`] connections are served at once; when a new
//! one arrives at the cap, the oldest is asked to close (hyper's graceful shutdown: an idle or
//! half-open connection closes at once, a request in progress finishes first, within
//! [`Limits::grace`]). A flood of idle connections therefore never locks out a client that has
//! something to say: the newest connection is always served.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::sync::{oneshot, watch};

/// The bounds of the control API's connections.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Connections served at once; the oldest is closed to make room for a new one.
    pub max_connections: usize,
    /// How long a request head may take to arrive.
    pub head_timeout: Duration,
    /// The largest request head, in bytes (hyper's read buffer; at least 8 KiB).
    pub max_head: usize,
    /// How long a connection asked to close may take to finish its request.
    pub grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 256,
            head_timeout: Duration::from_secs(10),
            max_head: 16 * 1024,
            grace: Duration::from_secs(30),
        }
    }
}

/// Serves `app` on `listener` until `stop` turns true, then closes every connection (in-progress
/// requests get [`Limits::grace`] to finish).
pub(super) async fn serve(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    limits: Limits,
    stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    serve_with_tls(listener, None, app, limits, stop).await
}

/// [`serve`], with a TLS handshake first when `tls` is given; the handshake must finish within
/// [`Limits::head_timeout`] and counts against the same connection cap.
pub(super) async fn serve_with_tls(
    listener: tokio::net::TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    app: axum::Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.head_timeout)
        .max_buf_size(limits.max_head.max(8192));
    // Open connections by age (the key grows), each with the sender that asks it to close.
    let open: Arc<StdMutex<BTreeMap<u64, oneshot::Sender<()>>>> = Arc::default();
    let mut tasks = tokio::task::JoinSet::new();
    let mut next_id = 0u64;
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                // Out of descriptors or a connection reset before it was accepted: keep serving.
                Err(e) => {
                    tracing::warn!("control API: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = stopped(&mut stop) => break,
        };
        while tasks.try_join_next().is_some() {}
        let id = next_id;
        next_id += 1;
        let (close_tx, close_rx) = oneshot::channel();
        {
            let mut open = open.lock().unwrap_or_else(|e| e.into_inner());
            while open.len() >= limits.max_connections.max(1) {
                let Some((_, oldest)) = open.pop_first() else {
                    break;
                };
                let _ = oldest.send(());
            }
            open.insert(id, close_tx);
        }
        let (open, stop, grace) = (open.clone(), stop.clone(), limits.grace);
        // The peer goes into every request of the connection, for the feed's access log.
        let app = app.clone().layer(axum::Extension(super::feed::Peer(peer)));
        let (http, tls, head_timeout) = (http.clone(), tls.clone(), limits.head_timeout);
        tasks.spawn(async move {
            match tls {
                None => connection(&http, stream, app, close_rx, stop, grace).await,
                Some(acceptor) => {
                    match tokio::time::timeout(head_timeout, acceptor.accept(stream)).await {
                        Ok(Ok(stream)) => {
                            connection(&http, stream, app, close_rx, stop, grace).await;
                        }
                        // A failed or slow handshake is the client's problem; it is not served.
                        Ok(Err(e)) => tracing::debug!("feed: TLS handshake failed: {e}"),
                        Err(_) => tracing::debug!("feed: TLS handshake timed out"),
                    }
                }
            }
            open.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
        });
    }
    drop(listener);
    while tasks.join_next().await.is_some() {}
    Ok(())
}

/// Serves one connection until it ends, is asked to close (the cap), or the server stops.
async fn connection<I>(
    http: &hyper::server::conn::http1::Builder,
    io: I,
    app: axum::Router,
    close_rx: oneshot::Receiver<()>,
    mut stop: watch::Receiver<bool>,
    grace: Duration,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let conn = http.serve_connection(TokioIo::new(io), TowerToHyperService::new(app));
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = close_rx => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(grace, conn.as_mut()).await;
        }
        () = stopped(&mut stop) => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(grace, conn.as_mut()).await;
        }
    }
}

/// Completes when `stop` turns true (or its sender is gone), holding no borrow of the value.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await.map(|_| ());
}
