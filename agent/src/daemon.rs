//! The daemon (`routeros-agent run`): periodic reconcile, expiry on time, reboot detection, and a
//! loopback control API.
//!
//! One task owns the schedule; the control API's handlers share the same state behind one async
//! mutex, so a grant from the API and a periodic reconcile never interleave their writes (a real
//! router runs one user's requests one at a time anyway). The schedule wakes at the next reconcile
//! time or the next grant expiry, whichever comes first; after a failed reconcile it retries with a
//! growing delay (capped at the interval) and reconciles at once when the router is back. A router
//! reboot is noticed when `/system/resource` shows an uptime lower than last time, or when owned
//! entries the agent last saw alive are gone; either way the full reconcile restores them.
//!
//! Control API (JSON, loopback only): `GET /v1/status`, `GET /v1/grants`, `POST /v1/grants`
//! `{"address","user","for"}`, `POST /v1/revoke` `{"address","user"}`, `POST /v1/sync`.

use std::future::Future;
use std::sync::Arc;
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

struct Inner {
    store: GrantStore,
    rec: Reconciler,
    status: Status,
    uptime: Option<Duration>,
}

/// State shared by the schedule and the control API.
#[derive(Clone)]
struct Shared {
    inner: Arc<Mutex<Inner>>,
    clock: Arc<dyn Clock>,
    wake: Arc<Notify>,
}

impl Inner {
    /// Prunes expired grants and runs a full reconcile with reboot detection.
    async fn full(&mut self, now: Time) -> Result<(), Error> {
        if let Err(e) = self.store.prune(now) {
            tracing::error!("{e}");
        }
        let resource = self.rec.resource().await;
        let resource = match resource {
            Ok(r) => r,
            Err(e) => return Err(self.failed(e)),
        };
        let mut rebooted = false;
        if let (Some(before), Some(now_up)) = (self.uptime, resource.uptime)
            && now_up < before
        {
            tracing::warn!(before = %duration::format(before), now = %duration::format(now_up), "router uptime went back: it rebooted; restoring the list");
            rebooted = true;
        }
        self.uptime = resource.uptime;
        self.status.router_version = Some(resource.version.clone());
        let report = match self.rec.sync(self.store.grants(), now).await {
            Ok(r) => r,
            Err(e) => return Err(self.failed(e)),
        };
        if !report.vanished.is_empty() {
            tracing::warn!(entries = ?report.vanished, "owned entries vanished from the router (reboot or manual deletion); restored");
            rebooted = true;
        }
        if rebooted {
            self.status.reboots_detected += 1;
        }
        self.record(report);
        match self.status.last_error.is_none() {
            true => {
                self.status.reconciles += 1;
                self.status.last_success = Some(rfc3339(now));
                Ok(())
            }
            false => Err(self.rec_error()),
        }
    }

    /// An incremental step after a grant, revoke or expiry.
    /// An incremental step after a grant or revoke for `address`, or after an expiry (`None`).
    async fn step(&mut self, now: Time, address: Option<&Address>) -> Report {
        if let Err(e) = self.store.prune(now) {
            tracing::error!("{e}");
        }
        let result = match address {
            Some(a) => self.rec.step_address(a, self.store.grants(), now).await,
            None => self.rec.step(self.store.grants(), now).await,
        };
        match result {
            Ok(report) => {
                self.record(report.clone());
                report
            }
            Err(e) => {
                self.failed(e.clone());
                Report {
                    errors: vec![e],
                    ..Report::default()
                }
            }
        }
    }

    fn record(&mut self, report: Report) {
        for e in report
            .errors
            .iter()
            .chain(report.conflict_errors(self.rec.plan_config()).iter())
        {
            tracing::warn!("{e}");
        }
        self.status.last_error = report.errors.last().map(Error::to_json);
        if !report.errors.is_empty() {
            // The memory may be wrong after a failed write; read the router next time.
            self.rec.forget();
        }
        self.status.last_report = Some(report);
    }

    fn failed(&mut self, e: Error) -> Error {
        tracing::warn!("{e}");
        self.status.last_error = Some(e.to_json());
        self.rec.forget();
        e
    }

    fn rec_error(&self) -> Error {
        self.status
            .last_report
            .as_ref()
            .and_then(|r| r.errors.last().cloned())
            .unwrap_or_else(|| {
                Error::new(crate::error::Code::RouterInternalError, "reconcile failed")
            })
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
    let store = GrantStore::open(&config.state)?;
    let rec = Reconciler::new(client, config.plan_config(), config.concurrency);
    let shared = Shared {
        inner: Arc::new(Mutex::new(Inner {
            store,
            rec,
            status: Status::default(),
            uptime: None,
        })),
        clock,
        wake: Arc::new(Notify::new()),
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
    let schedule = schedule(shared, config.interval, stop_rx);
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
async fn schedule(
    shared: Shared,
    interval: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut next_full = tokio::time::Instant::now();
    let mut failures: u32 = 0;
    loop {
        let now_wall = shared.clock.now();
        let next_expiry = {
            let inner = shared.inner.lock().await;
            inner
                .store
                .grants()
                .iter()
                .map(|g| g.expires)
                .filter(|e| *e > now_wall)
                .min()
        };
        let mut deadline = next_full;
        if let Some(e) = next_expiry {
            deadline = deadline.min(tokio::time::Instant::now() + e.since(now_wall));
        }
        tokio::select! {
            () = tokio::time::sleep_until(deadline) => {}
            () = shared.wake.notified() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        let now = shared.clock.now();
        let mut inner = shared.inner.lock().await;
        if tokio::time::Instant::now() >= next_full {
            match inner.full(now).await {
                Ok(()) => {
                    failures = 0;
                    next_full = tokio::time::Instant::now() + interval;
                }
                Err(e) => {
                    failures += 1;
                    // Retry soon, then less often, never later than the normal interval.
                    let backoff = Duration::from_secs(1u64 << failures.min(6)).min(interval);
                    tracing::info!(code = e.code.number(), retry_in = %duration::format(backoff), "reconcile failed");
                    next_full = tokio::time::Instant::now() + backoff;
                }
            }
        } else {
            inner.step(now, None).await;
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
    let inner = s.inner.lock().await;
    let mut v = serde_json::to_value(&inner.status).expect("status serialises");
    v["grants"] = json!(inner.store.grants().len());
    (StatusCode::OK, Json(v))
}

async fn grants(State(s): State<Shared>) -> Reply {
    let now = s.clock.now();
    let inner = s.inner.lock().await;
    let list: Vec<Value> = inner
        .store
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
    let mut inner = s.inner.lock().await;
    // The grant is acknowledged once it is on disk, whatever the router says next.
    if let Err(e) = inner.store.grant(grant.clone()) {
        return store_failure(&e);
    }
    let report = inner.step(now, Some(&grant.address)).await;
    s.wake.notify_one();
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
    let now = s.clock.now();
    let mut inner = s.inner.lock().await;
    let existed = match inner.store.revoke(&address, &req.user) {
        Ok(x) => x,
        Err(e) => return store_failure(&e),
    };
    let report = inner.step(now, Some(&address)).await;
    s.wake.notify_one();
    report_reply(&report, json!({ "revoked": existed }))
}

async fn sync_now(State(s): State<Shared>) -> Reply {
    let now = s.clock.now();
    let mut inner = s.inner.lock().await;
    match inner.full(now).await {
        Ok(()) => {
            let report = inner.status.last_report.clone().unwrap_or_default();
            let reboots = inner.status.reboots_detected;
            report_reply(&report, json!({ "reboots_detected": reboots }))
        }
        Err(e) => (
            StatusCode::OK,
            Json(json!({ "ok": false, "error": e.to_json() })),
        ),
    }
}
