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
//! Control API (JSON, loopback only): `GET /v1/status`, `GET /v1/grants`, `POST /v1/grants`
//! `{"address","user","for"}`, `POST /v1/revoke` `{"address","user"}`, `POST /v1/sync`.

use std::future::Future;
use std::sync::{Arc, Mutex as StdMutex, MutexGuard};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use tokio::sync::{Mutex, Notify};

use crate::address::Address;
use crate::clock::{Clock, Time};
use crate::commands::{grant_json, rfc3339};
use crate::config::Config;
use crate::duration;
use crate::error::Error;
use crate::net::RouterClient;
use crate::plan::Grant;
use crate::reconcile::{Reconciler, Report};
use crate::store::{GrantStore, StoreError};

/// Why the daemon could not run.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// The grant store is unreadable.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The control API failed.
    #[error("control API: {0}")]
    Control(std::io::Error),
}

/// What `GET /v1/status` shows.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Status {
    /// The last failure, if the last reconcile or write failed.
    pub last_error: Option<Value>,
    /// When the last full reconcile succeeded.
    pub last_success: Option<String>,
    /// Full reconciles that succeeded.
    pub reconciles: u64,
    /// Reboots noticed (uptime went back, or owned entries vanished).
    pub reboots_detected: u64,
    /// The router's version at the last look.
    pub router_version: Option<String>,
    /// The last reconcile's report.
    pub last_report: Option<Report>,
}

/// What only the holder of the router lock touches: the reconciler (and its memory of the router's
/// rows) and the last uptime seen.
struct RouterSide {
    rec: Reconciler,
    uptime: Option<Duration>,
}

/// When the next full reconcile is due, and how many attempts in a row have failed.
struct Due {
    next_full: tokio::time::Instant,
    failures: u32,
}

/// Daemon timings; tests shorten the retry delay so they do not wait seconds for it.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// The retry delay after `n` failures in a row is `retry_base * 2^n`, capped at the interval.
    pub retry_base: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            retry_base: Duration::from_secs(1),
        }
    }
}

/// The delay before the next full reconcile after `failures` failed attempts in a row: 2 s, 4 s,
/// 8 s, ... with the default base, never later than the normal interval.
pub fn retry_delay(failures: u32, base: Duration, interval: Duration) -> Duration {
    base.saturating_mul(1u32 << failures.clamp(1, 6))
        .min(interval)
}

/// State shared by the schedule and the control API (see the module documentation for the locks).
#[derive(Clone)]
struct Shared {
    store: Arc<StdMutex<GrantStore>>,
    status: Arc<StdMutex<Status>>,
    router: Arc<Mutex<RouterSide>>,
    due: Arc<StdMutex<Due>>,
    clock: Arc<dyn Clock>,
    wake: Arc<Notify>,
    interval: Duration,
    timing: Timing,
}

/// A poisoned lock only means another task panicked while holding it; the data is still the best
/// there is (the store writes atomically), so keep serving.
fn lock<T>(m: &StdMutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    /// Prunes expired grants and returns a copy of the live ones, holding the store lock briefly.
    fn live_grants(&self, now: Time) -> Vec<Grant> {
        let mut store = lock(&self.store);
        if let Err(e) = store.prune(now) {
            tracing::error!("{e}");
        }
        store.grants().to_vec()
    }

    /// A full reconcile succeeded: the next one is an interval away.
    fn succeeded(&self) {
        let mut due = lock(&self.due);
        due.failures = 0;
        due.next_full = tokio::time::Instant::now() + self.interval;
    }

    /// A reconcile or an incremental step failed: the next full reconcile is due after the backoff,
    /// or sooner if it already was. The schedule is woken to see the new time.
    fn failed_attempt(&self) -> Duration {
        let now = tokio::time::Instant::now();
        let delay = {
            let mut due = lock(&self.due);
            due.failures = due.failures.saturating_add(1);
            let delay = retry_delay(due.failures, self.timing.retry_base, self.interval);
            due.next_full = if due.next_full <= now {
                now + delay
            } else {
                due.next_full.min(now + delay)
            };
            delay
        };
        self.wake.notify_one();
        delay
    }

    /// Prunes expired grants and runs a full reconcile with reboot detection.
    async fn full(&self, router: &mut RouterSide, now: Time) -> Result<(), Error> {
        let grants = self.live_grants(now);
        let resource = match router.rec.resource().await {
            Ok(r) => r,
            Err(e) => return Err(self.failed(router, e)),
        };
        let mut rebooted = false;
        if let (Some(before), Some(now_up)) = (router.uptime, resource.uptime)
            && now_up < before
        {
            tracing::warn!(before = %duration::format(before), now = %duration::format(now_up), "router uptime went back: it rebooted; restoring the list");
            rebooted = true;
        }
        router.uptime = resource.uptime;
        lock(&self.status).router_version = Some(resource.version.clone());
        let report = match router.rec.sync(&grants, now).await {
            Ok(r) => r,
            Err(e) => return Err(self.failed(router, e)),
        };
        if !report.vanished.is_empty() {
            tracing::warn!(entries = ?report.vanished, "owned entries vanished from the router (reboot or manual deletion); restored");
            rebooted = true;
        }
        let error = report.errors.last().cloned();
        self.record(router, report);
        let mut status = lock(&self.status);
        if rebooted {
            status.reboots_detected += 1;
        }
        match error {
            None => {
                status.reconciles += 1;
                status.last_success = Some(rfc3339(now));
                Ok(())
            }
            Some(e) => Err(e),
        }
    }

    /// An incremental step after a grant or revoke for `address`, or after an expiry (`None`). A
    /// failure brings the next full reconcile forward to the retry delay.
    async fn step(&self, router: &mut RouterSide, now: Time, address: Option<&Address>) -> Report {
        let grants = self.live_grants(now);
        let result = match address {
            Some(a) => router.rec.step_address(a, &grants, now).await,
            None => router.rec.step(&grants, now).await,
        };
        let report = match result {
            Ok(report) => {
                self.record(router, report.clone());
                report
            }
            Err(e) => {
                self.failed(router, e.clone());
                Report {
                    errors: vec![e],
                    ..Report::default()
                }
            }
        };
        if let Some(e) = report.errors.last() {
            let delay = self.failed_attempt();
            tracing::info!(code = e.code.number(), retry_in = %duration::format(delay), "write failed; full reconcile scheduled");
        }
        report
    }

    fn record(&self, router: &mut RouterSide, report: Report) {
        for e in report
            .errors
            .iter()
            .chain(report.conflict_errors(router.rec.plan_config()).iter())
        {
            tracing::warn!("{e}");
        }
        if !report.errors.is_empty() {
            // The memory may be wrong after a failed write; read the router next time.
            router.rec.forget();
        }
        let mut status = lock(&self.status);
        status.last_error = report.errors.last().map(Error::to_json);
        status.last_report = Some(report);
    }

    fn failed(&self, router: &mut RouterSide, e: Error) -> Error {
        tracing::warn!("{e}");
        lock(&self.status).last_error = Some(e.to_json());
        router.rec.forget();
        e
    }
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
    let rec = Reconciler::new(client, config.plan_config(), config.concurrency);
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
    };
    let app = control_app(shared.clone());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut stop_api = stop_rx.clone();
    let api = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop_api.wait_for(|s| *s).await;
            })
            .await
    });
    tracing::info!(url = %config.url, list = %config.list_v4, list6 = %config.list_v6, "agent started");
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
                Err(e) => {
                    let delay = shared.failed_attempt();
                    tracing::info!(code = e.code.number(), retry_in = %duration::format(delay), "reconcile failed");
                }
            }
        } else {
            // A grant expired: remove its entry now rather than at the next full reconcile.
            shared.step(&mut router, now, None).await;
        }
    }
}

fn control_app(shared: Shared) -> Router {
    Router::new()
        .route("/v1/status", get(status))
        .route("/v1/grants", get(grants).post(add_grant))
        .route("/v1/revoke", post(revoke))
        .route("/v1/sync", post(sync_now))
        .with_state(shared)
}

type Reply = (StatusCode, Json<Value>);

fn bad_request(e: &Error) -> Reply {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "ok": false, "error": e.to_json() })),
    )
}

fn store_failure(e: &StoreError) -> Reply {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(json!({ "ok": false, "store_error": e.to_string() })),
    )
}

fn report_reply(report: &Report, extra: Value) -> Reply {
    let mut v = extra;
    v["ok"] = json!(report.errors.is_empty());
    v["report"] = serde_json::to_value(report).expect("report serialises");
    (StatusCode::OK, Json(v))
}

async fn status(State(s): State<Shared>) -> Reply {
    // Only the short-held locks: a status request never waits for the router.
    let mut v = serde_json::to_value(&*lock(&s.status)).expect("status serialises");
    v["grants"] = json!(lock(&s.store).grants().len());
    (StatusCode::OK, Json(v))
}

async fn grants(State(s): State<Shared>) -> Reply {
    let now = s.clock.now();
    let list: Vec<Value> = lock(&s.store)
        .grants()
        .iter()
        .filter(|g| g.expires > now)
        .map(|g| grant_json(g, now))
        .collect();
    (StatusCode::OK, Json(json!({ "grants": list })))
}

#[derive(serde::Deserialize)]
struct GrantRequest {
    address: String,
    user: String,
    #[serde(rename = "for")]
    for_: String,
}

async fn add_grant(State(s): State<Shared>, Json(req): Json<GrantRequest>) -> Reply {
    let address = match Address::parse(&req.address) {
        Ok(a) => a,
        Err(e) => return bad_request(&e),
    };
    let Some(d) = duration::parse(&req.for_).filter(|d| !d.is_zero()) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(
                json!({ "ok": false, "request_error": format!("`for` is not a positive duration: {:?}", req.for_) }),
            ),
        );
    };
    if req.user.trim().is_empty() {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "ok": false, "request_error": "`user` is empty" })),
        );
    }
    let now = s.clock.now();
    let grant = Grant {
        address,
        user: req.user,
        expires: now.plus(d),
    };
    // The grant is acknowledged once it is on disk, before any router call and whatever the router
    // says next; the store lock is not held while waiting for the router.
    if let Err(e) = lock(&s.store).grant(grant.clone()) {
        return store_failure(&e);
    }
    s.wake.notify_one();
    let mut router = s.router.lock().await;
    let report = s
        .step(&mut router, s.clock.now(), Some(&grant.address))
        .await;
    drop(router);
    report_reply(&report, json!({ "grant": grant_json(&grant, now) }))
}

#[derive(serde::Deserialize)]
struct RevokeRequest {
    address: String,
    user: String,
}

async fn revoke(State(s): State<Shared>, Json(req): Json<RevokeRequest>) -> Reply {
    let address = match Address::parse(&req.address) {
        Ok(a) => a,
        Err(e) => return bad_request(&e),
    };
    let revoked = lock(&s.store).revoke(&address, &req.user);
    let existed = match revoked {
        Ok(x) => x,
        Err(e) => return store_failure(&e),
    };
    s.wake.notify_one();
    let mut router = s.router.lock().await;
    let report = s.step(&mut router, s.clock.now(), Some(&address)).await;
    drop(router);
    report_reply(&report, json!({ "revoked": existed }))
}

async fn sync_now(State(s): State<Shared>) -> Reply {
    let mut router = s.router.lock().await;
    match s.full(&mut router, s.clock.now()).await {
        Ok(()) => {
            s.succeeded();
            s.wake.notify_one();
            // Read while still holding the router lock, so the report is this reconcile's.
            let status = lock(&s.status);
            let report = status.last_report.clone().unwrap_or_default();
            report_reply(
                &report,
                json!({ "reboots_detected": status.reboots_detected }),
            )
        }
        Err(e) => {
            s.failed_attempt();
            (
                StatusCode::OK,
                Json(json!({ "ok": false, "error": e.to_json() })),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_double_from_two_seconds_up_to_the_interval() {
        let base = Duration::from_secs(1);
        let interval = Duration::from_secs(60);
        let delays: Vec<u64> = (1..=8)
            .map(|n| retry_delay(n, base, interval).as_secs())
            .collect();
        assert_eq!(delays, vec![2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(
            retry_delay(1, base, Duration::from_secs(1)),
            Duration::from_secs(1)
        );
    }
}
