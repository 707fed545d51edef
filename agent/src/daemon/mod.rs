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
}

/// Runs the daemon until `shutdown` completes: loads the grants, serves the control API on
/// `listener` and keeps the router in step.
pub async fn serve(
    config: Config,
    client: RouterClient,
    clock: Arc<dyn Clock>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), DaemonError> {
    serve_with(config, client, clock, listener, shutdown, Timing::default()).await
}

/// [`serve`] with explicit timings.
pub async fn serve_with(
    config: Config,
    client: RouterClient,
    clock: Arc<dyn Clock>,
    listener: tokio::net::TcpListener,
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
    let rec = Reconciler::for_config(&config, client, clock.clone());
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
    let token_from = match (&config.control_token, &config.control_token_file) {
        (Some(_), _) => crate::config::TOKEN_ENV.to_owned(),
        (None, _) => config.token_path().display().to_string(),
    };
    tracing::info!(url = %config.url, list = %config.list_v4, list6 = %config.list_v6, control = %format!("http://{control}"), token = %token_from, "agent started");
    let schedule = schedule(shared, stop_rx);
    tokio::pin!(shutdown);
    tokio::select! {
        () = schedule => {}
        () = &mut shutdown => {}
    }
    let _ = stop_tx.send(true);
    match api.await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(DaemonError::Control(e)),
        Err(e) => Err(DaemonError::Control(std::io::Error::other(e.to_string()))),
    }
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
