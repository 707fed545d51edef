//! The daemon (`routeros-agent run`): periodic reconcile, expiry on time, reboot detection, and a
//! loopback control API.
//!
//! One task owns the schedule; the control API's handlers share its state through three locks, each
//! with one job, so that a stalled router can only ever delay router work:
//!
//! - the grant store has a short-held lock (no `await` inside): a new grant is written to disk, and
//!   so acknowledged, before any router call;
//! - the status has its own short-held lock, so `GET /v1/status` and `GET /v1/grants` answer at once
//!   even while a reconcile waits out a request timeout;
//! - router I/O is serialised by an async lock held across the network calls, so a grant from the
//!   API and a periodic reconcile never interleave their writes (a real router runs one user's
//!   requests one at a time anyway). Each holder reads the grants afresh once it has the lock.
//!
//! The schedule wakes at the next reconcile time or the next grant expiry, whichever comes first.
//! After a failed reconcile, and after a failed incremental step (a grant, a revoke, an expiry), the
//! next full reconcile is due after a growing delay (2 s, 4 s, ... capped at the interval), so a
//! failed write is repaired soon after the router recovers, not an interval later. A router reboot
//! is noticed when `/system/resource` shows an uptime lower than last time, or when owned entries
//! the agent last saw alive are gone; either way the full reconcile restores them.
//!
//! Control API (JSON, loopback only, bearer token; see `api.rs`, `server.rs` and `token.rs`):
//! `GET /v1/status`, `GET /v1/grants`, `POST /v1/grants`, `POST /v1/revoke`, `POST /v1/sync`,
//! `GET /metrics` (Prometheus, `metrics.rs`), and the open probes `GET /healthz` and `GET /readyz`.

use std::future::Future;
use std::sync::{Arc, Mutex as StdMutex};

use tokio::sync::{Mutex, Notify};

use crate::clock::Clock;
use crate::config::Config;
use crate::duration;
use crate::net::RouterClient;
use crate::reconcile::Reconciler;
use crate::store::{GrantStore, StoreError};

mod api;
pub mod feed;
mod feed_tls;
pub mod metrics;
mod server;
mod state;
pub mod token;

pub use server::Limits;
pub use state::{Status, Timing, retry_delay};

use state::{Due, RouterSide, Shared, lock};

/// Why the daemon could not run.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// The grant store is unreadable.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The control API failed.
    #[error("control API: {0}")]
    Control(std::io::Error),
    /// The control API's token could not be made or read.
    #[error("control API token: {0}")]
    Token(String),
    /// Active mode without a router to write to.
    #[error("{0}")]
    NoRouter(&'static str),
    /// The passive feed could not start (its key, certificate or listener).
    #[error("feed: {0}")]
    Feed(String),
}

/// Runs the daemon until `shutdown` completes: loads the grants, serves the control API on
/// `listener` and keeps the router in step.
pub async fn serve(
    config: Config,
    client: Option<RouterClient>,
    clock: Arc<dyn Clock>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), DaemonError> {
    serve_with(config, client, clock, listener, shutdown, Timing::default()).await
}

/// [`serve`] with explicit timings; the feed (passive mode) listens on `feed_listen` when set.
pub async fn serve_with(
    config: Config,
    client: Option<RouterClient>,
    clock: Arc<dyn Clock>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    timing: Timing,
) -> Result<(), DaemonError> {
    let feed = match (config.mode, config.feed.listen) {
        (crate::config::Mode::Passive, Some(addr)) => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| DaemonError::Feed(format!("cannot listen on {addr}: {e}")))?,
        ),
        _ => None,
    };
    serve_with_feed(config, client, clock, listener, feed, shutdown, timing).await
}

/// [`serve_with`] with the feed's listener given (tests bind port 0). In passive mode
/// (`config.mode`) the daemon never writes the router's list: reconciles and grant steps only
/// prune the store, and the feed serves the live grants on `feed`, if given.
pub async fn serve_with_feed(
    config: Config,
    client: Option<RouterClient>,
    clock: Arc<dyn Clock>,
    listener: tokio::net::TcpListener,
    feed: Option<tokio::net::TcpListener>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    timing: Timing,
) -> Result<(), DaemonError> {
    // Held for the daemon's whole life and marked with its control address, so that a CLI `grant`
    // fails at once pointing here instead of writing a store this daemon would overwrite.
    let control = listener.local_addr().unwrap_or(config.control);
    let store = GrantStore::open_async(
        config.state.clone(),
        crate::store::Holder::Daemon { control },
    )
    .await?;
    let token = token::for_daemon(&config).map_err(DaemonError::Token)?;
    let metrics = Arc::new(metrics::Metrics::new());
    metrics.set_grants(store.grants().len());
    // Passive mode never talks to the router (it pulls the feed), so it needs no client; active
    // mode always has one.
    let rec = match (config.mode, client) {
        (crate::config::Mode::Passive, _) => None,
        (crate::config::Mode::Active, Some(client)) => {
            Some(Reconciler::for_config(&config, client, clock.clone()))
        }
        (crate::config::Mode::Active, None) => {
            return Err(DaemonError::NoRouter(crate::config::NO_ROUTER_URL));
        }
    };
    let shared = Shared {
        store: Arc::new(StdMutex::new(store)),
        status: Arc::new(StdMutex::new(Status::default())),
        router: Arc::new(Mutex::new(RouterSide { rec, uptime: None })),
        due: Arc::new(StdMutex::new(Due {
            next_full: tokio::time::Instant::now(),
            failures: 0,
        })),
        clock,
        wake: Arc::new(Notify::new()),
        interval: config.interval,
        timing,
        metrics,
        prefix_limits: config.prefix_limits,
    };
    let app = api::control_app(shared.clone(), api::Gate::new(control, token));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let api = tokio::spawn(server::serve(
        listener,
        app,
        timing.control,
        stop_rx.clone(),
    ));
    let feed_task = match feed {
        None => None,
        Some(feed_listener) => {
            let addr = feed_listener
                .local_addr()
                .map_err(|e| DaemonError::Feed(e.to_string()))?;
            let key = feed::key(&config).map_err(DaemonError::Feed)?;
            let tls = feed_tls::load_or_make(&config, addr).map_err(DaemonError::Feed)?;
            announce_feed(&config, addr, &tls);
            let app = feed::app(
                shared.clone(),
                &key,
                (config.list_v4.clone(), config.list_v6.clone()),
            );
            Some(tokio::spawn(server::serve_with_tls(
                feed_listener,
                Some(tls.acceptor),
                app,
                timing.control,
                stop_rx.clone(),
            )))
        }
    };
    let token_from = match (&config.control_token, &config.control_token_file) {
        (Some(_), _) => crate::config::TOKEN_ENV.to_owned(),
        (None, _) => config.token_path().display().to_string(),
    };
    let url = config
        .router
        .as_ref()
        .map_or_else(|| "none".to_owned(), |r| r.url.to_string());
    tracing::info!(url = %url, list = %config.list_v4, list6 = %config.list_v6, control = %format!("http://{control}"), token = %token_from, "agent started");
    let schedule = schedule(shared, stop_rx);
    tokio::pin!(shutdown);
    tokio::select! {
        () = schedule => {}
        () = &mut shutdown => {}
    }
    let _ = stop_tx.send(true);
    if let Some(task) = feed_task {
        let _ = task.await;
    }
    match api.await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(DaemonError::Control(e)),
        Err(e) => Err(DaemonError::Control(std::io::Error::other(e.to_string()))),
    }
}

/// Prints the feed's URLs, its CA and the CA's fingerprint: what `passive install` and the
/// operator need. On stderr whatever the log level, as the configuration warnings are.
fn announce_feed(config: &Config, addr: std::net::SocketAddr, tls: &feed_tls::FeedTls) {
    use std::io::Write as _;
    let host = match addr.ip() {
        ip if ip.is_unspecified() => "<this host>".to_owned(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    let mut lists = vec![config.list_v4.clone()];
    if config.list_v6 != config.list_v4 {
        lists.push(config.list_v6.clone());
    }
    let mut err = std::io::stderr().lock();
    for list in lists {
        let url = format!(
            "https://{host}:{}{}",
            addr.port(),
            crate::passive::feed_path(&list)
        );
        tracing::info!(%url, list = %list, "feed serving");
        let _ = writeln!(err, "feed: {url}");
    }
    match &tls.ca_path {
        Some(ca) => {
            let _ = writeln!(
                err,
                "feed CA: {} (SHA-256 {})",
                ca.display(),
                tls.fingerprint
            );
        }
        None => {
            let _ = writeln!(err, "feed certificate: given (SHA-256 {})", tls.fingerprint);
        }
    }
    let _ = writeln!(
        err,
        "feed key: {} (user apikey)",
        config.feed_key_path().display()
    );
}

/// The reconcile schedule; returns when `stop` turns true.
async fn schedule(shared: Shared, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        let now_wall = shared.clock.now();
        let next_expiry = lock(&shared.store)
            .grants()
            .iter()
            .map(|g| g.expires)
            .filter(|e| *e > now_wall)
            .min();
        let next_full = lock(&shared.due).next_full;
        let mut deadline = next_full;
        if let Some(e) = next_expiry {
            deadline = deadline.min(tokio::time::Instant::now() + e.since(now_wall));
        }
        tokio::select! {
            () = tokio::time::sleep_until(deadline) => {}
            // A grant, a revoke or a failure changed the times: look at them again.
            () = shared.wake.notified() => continue,
            _ = stop.wait_for(|s| *s) => return,
        }
        let mut router = shared.router.lock().await;
        let now = shared.clock.now();
        if tokio::time::Instant::now() >= lock(&shared.due).next_full {
            match shared.full(&mut router, now).await {
                Ok(()) => shared.succeeded(),
                // The error itself was logged where it happened: once, not again here.
                Err(_) => {
                    let delay = shared.failed_attempt();
                    tracing::info!(retry_in = %duration::format(delay), "reconcile failed; next attempt scheduled");
                }
            }
        } else {
            // A grant expired: remove its entry now rather than at the next full reconcile.
            shared.step(&mut router, now, None).await;
        }
    }
}
