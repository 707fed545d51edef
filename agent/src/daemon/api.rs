//! The daemon's control API (JSON over HTTP, loopback only): `GET /v1/status`, `GET /v1/grants`,
//! `POST /v1/grants` `{"address","user","for"}`, `POST /v1/revoke` `{"address","user"}` and
//! `POST /v1/sync`.
//!
//! A status or grant list answers from the short-held locks only, so it never waits for a stalled
//! router. A new grant is on disk, and so acknowledged, before any router call.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::error::Error;
use crate::reconcile::Report;
use crate::request::{self, Refusal, grant_json};
use crate::store::StoreError;

use super::state::{Shared, lock};

/// The control API's routes over the daemon's state.
pub(super) fn control_app(shared: Shared) -> Router {
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

/// A refused grant or revoke, as the API says it: the JSON fields by their names.
fn refused(r: Refusal) -> Reply {
    match r {
        Refusal::Address(e) => bad_request(&e),
        Refusal::Duration(text) => (
            StatusCode::BAD_REQUEST,
            Json(
                json!({ "ok": false, "request_error": format!("`for` is not a positive duration: {text:?}") }),
            ),
        ),
        Refusal::EmptyUser => (
            StatusCode::BAD_REQUEST,
            Json(json!({ "ok": false, "request_error": "`user` is empty" })),
        ),
    }
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
    let now = s.clock.now();
    let grant = match request::grant(&req.address, &req.user, &req.for_, now) {
        Ok((grant, _)) => grant,
        Err(r) => return refused(r),
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
    let address = match request::address(&req.address) {
        Ok(a) => a,
        Err(r) => return refused(r),
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
