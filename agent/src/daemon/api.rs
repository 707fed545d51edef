//! The daemon's control API (JSON over HTTP on a loopback address): `GET /v1/status`,
//! `GET /v1/grants`, `POST /v1/grants` `{"address","user","for"}`, `POST /v1/revoke`
//! `{"address","user"}`, `POST /v1/sync`, `GET /metrics`, and the probes `GET /healthz` and
//! `GET /readyz`.
//!
//! Every request first passes two checks, in this order, before its body is read:
//!
//! - its `Host` must name the listening address (`127.0.0.1:7878`, `localhost:7878`): a web page
//!   that a browser on this machine loads from `attacker.example`, whose name the attacker then
//!   points at 127.0.0.1 (DNS rebinding), sends `Host: attacker.example:7878` and is refused (403);
//! - except for the probes, it must carry `Authorization: Bearer <token>` (see `token.rs`), compared
//!   in constant time; otherwise 401. `/metrics` needs the token too: it tells any local user how many
//!   grants exist and which failures occur, and Prometheus sends a token from a file
//!   (`authorization: {credentials_file: ...}`). The probes tell only "up" and "ready", which is what
//!   a supervisor that has no token needs.
//!
//! A body is JSON whatever its `Content-Type` says (or without one), read with a size and a time
//! limit. Every error has one shape, `{"ok": false, "error": {"kind", "message", ...}}` (documented in
//! the agent's README), including the framework's own 404 and 405.
//!
//! A status or grant list answers from the short-held locks only, so it never waits for a stalled
//! router. A new grant is on disk, and so acknowledged, before any router call.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use subtle::ConstantTimeEq;

use crate::config::Secret;
use crate::error::Error;
use crate::reconcile::Report;
use crate::request::{self, Refusal, grant_json};
use crate::store::StoreError;

use super::state::{Shared, lock};

/// The largest request body read (a grant is under 200 bytes).
pub const MAX_BODY: usize = 64 * 1024;
/// How long a request body may take to arrive once its head has.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// What the checks in front of the routes need: the token and the names the listener answers to.
#[derive(Clone)]
pub(super) struct Gate {
    token: Arc<Secret>,
    hosts: Arc<Vec<String>>,
}

impl Gate {
    /// The gate of a control API listening on `addr` with `token`.
    pub(super) fn new(addr: SocketAddr, token: Secret) -> Gate {
        let port = addr.port();
        let mut hosts = vec![addr.to_string(), format!("localhost:{port}")];
        // A client may leave out the port when it is the scheme's default.
        if port == 80 {
            hosts.push(addr.ip().to_string());
            hosts.push("localhost".into());
        }
        Gate {
            token: Arc::new(token),
            hosts: Arc::new(hosts),
        }
    }

    fn host_allowed(&self, headers: &HeaderMap) -> bool {
        let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
            return false;
        };
        self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host))
    }

    fn token_ok(&self, headers: &HeaderMap) -> bool {
        let Some(given) = headers
            .get(header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.strip_prefix("Bearer "))
        else {
            return false;
        };
        // Constant time for tokens of the right length; the length itself is public (64 hex digits).
        bool::from(
            given
                .trim()
                .as_bytes()
                .ct_eq(self.token.expose().as_bytes()),
        )
    }
}

/// An error of the control API, in its one JSON shape.
#[derive(Debug)]
pub(super) struct ApiError {
    status: StatusCode,
    kind: &'static str,
    message: String,
    /// A coded agent error (208104, a router failure), whose fields join the error object.
    coded: Option<Error>,
}

impl ApiError {
    fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            kind,
            message: message.into(),
            coded: None,
        }
    }

    fn refused(r: Refusal) -> ApiError {
        let message = r.message("`for`", "`user`");
        let coded = match r {
            Refusal::Address(e) => Some(e),
            _ => None,
        };
        ApiError {
            status: StatusCode::BAD_REQUEST,
            kind: "request",
            message,
            coded,
        }
    }

    fn store(e: &StoreError) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "store", e.to_string())
    }
}

/// The error object: `kind` and `message` always; a coded error's `code`, `alias`, `name`,
/// `context` and `remediation` when there is one.
pub(super) fn error_object(kind: &str, message: &str, coded: Option<&Error>) -> Value {
    let mut v = coded.map(Error::to_json).unwrap_or_else(|| json!({}));
    v["kind"] = json!(kind);
    v["message"] = json!(message);
    v
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "ok": false,
            "error": error_object(self.kind, &self.message, self.coded.as_ref()),
        });
        let mut resp = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        resp
    }
}

/// A JSON body, whatever the `Content-Type` (a client that leaves it out still means JSON), read
/// within [`MAX_BODY`] bytes and [`BODY_TIMEOUT`].
pub(super) struct JsonBody<T>(T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &S) -> Result<Self, ApiError> {
        let body = req.into_body();
        let bytes =
            match tokio::time::timeout(BODY_TIMEOUT, axum::body::to_bytes(body, MAX_BODY)).await {
                Err(_) => {
                    return Err(ApiError::new(
                        StatusCode::REQUEST_TIMEOUT,
                        "request",
                        format!(
                            "the request body did not arrive within {} s",
                            BODY_TIMEOUT.as_secs()
                        ),
                    ));
                }
                Ok(Err(_)) => {
                    return Err(ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "request",
                        format!("the request body is larger than {MAX_BODY} bytes, or was cut off"),
                    ));
                }
                Ok(Ok(b)) => b,
            };
        // An empty body reads as an empty object, so that `POST /v1/sync` needs none.
        let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        serde_json::from_slice(bytes).map(JsonBody).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "request",
                format!("the body is not the JSON object expected: {e}"),
            )
        })
    }
}

/// The control API's routes over the daemon's state, behind the host and token checks.
pub(super) fn control_app(shared: Shared, gate: Gate) -> Router {
    let open = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz));
    let guarded = Router::new()
        .route("/v1/status", get(status))
        .route("/v1/grants", get(grants).post(add_grant))
        .route("/v1/revoke", post(revoke))
        .route("/v1/sync", post(sync_now))
        .route("/metrics", get(metrics))
        .route_layer(middleware::from_fn_with_state(gate.clone(), require_token));
    open.merge(guarded)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(gate, require_host))
        .layer(middleware::from_fn_with_state(shared.clone(), count))
        .with_state(shared)
}

async fn require_host(State(gate): State<Gate>, req: Request, next: Next) -> Response {
    if !gate.host_allowed(req.headers()) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "host",
            "the Host header does not name this control API's address; use the address it listens on",
        )
        .into_response();
    }
    next.run(req).await
}

async fn require_token(State(gate): State<Gate>, req: Request, next: Next) -> Response {
    if !gate.token_ok(req.headers()) {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing or wrong token: send `Authorization: Bearer <token>` with the token from the \
             daemon's token file (<state>.token by default) or ROUTEROS_AGENT_TOKEN",
        )
        .into_response();
    }
    next.run(req).await
}

/// Counts every answered request by method and status for `/metrics`.
async fn count(State(s): State<Shared>, req: Request<Body>, next: Next) -> Response {
    let method = req.method().clone();
    let resp = next.run(req).await;
    // Only the methods the API knows, so that a client cannot grow the label set at will.
    let method = match method {
        Method::GET | Method::POST | Method::HEAD => method.as_str().to_owned(),
        _ => "other".to_owned(),
    };
    s.metrics.request(&method, resp.status().as_u16());
    resp
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such endpoint; see /v1/status, /v1/grants, /v1/revoke, /v1/sync, /metrics, /healthz, /readyz",
    )
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method",
        "this endpoint does not take that method",
    )
}

type Reply = (StatusCode, Json<Value>);

fn report_reply(report: &Report, extra: Value) -> Reply {
    let mut v = extra;
    v["ok"] = json!(report.errors.is_empty());
    v["report"] = serde_json::to_value(report).expect("report serialises");
    (StatusCode::OK, Json(v))
}

async fn healthz() -> Reply {
    (StatusCode::OK, Json(json!({ "ok": true })))
}

/// Ready once a full reconcile has succeeded and the last one did.
async fn readyz(State(s): State<Shared>) -> Response {
    let ready = lock(&s.status).ready;
    if ready {
        (StatusCode::OK, Json(json!({ "ok": true }))).into_response()
    } else {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            "the last full reconcile has not succeeded (see /v1/status)",
        )
        .into_response()
    }
}

async fn metrics(State(s): State<Shared>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        s.metrics.encode(),
    )
        .into_response()
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

async fn add_grant(
    State(s): State<Shared>,
    JsonBody(req): JsonBody<GrantRequest>,
) -> Result<Reply, ApiError> {
    let now = s.clock.now();
    let (grant, _) = request::grant(&req.address, &req.user, &req.for_, now, s.prefix_limits)
        .map_err(ApiError::refused)?;
    // The grant is acknowledged once it is on disk, before any router call and whatever the router
    // says next; the store lock is not held while waiting for the router.
    {
        let mut store = lock(&s.store);
        store
            .grant(grant.clone())
            .map_err(|e| ApiError::store(&e))?;
        s.metrics.set_grants(store.grants().len());
    }
    s.wake.notify_one();
    let mut router = s.router.lock().await;
    let report = s
        .step(&mut router, s.clock.now(), Some(&grant.address))
        .await;
    drop(router);
    Ok(report_reply(
        &report,
        json!({ "grant": grant_json(&grant, now) }),
    ))
}

#[derive(serde::Deserialize)]
struct RevokeRequest {
    address: String,
    user: String,
}

async fn revoke(
    State(s): State<Shared>,
    JsonBody(req): JsonBody<RevokeRequest>,
) -> Result<Reply, ApiError> {
    let address = request::address(&req.address).map_err(ApiError::refused)?;
    request::user(&req.user).map_err(ApiError::refused)?;
    let existed = {
        let mut store = lock(&s.store);
        let existed = store
            .revoke(&address, &req.user)
            .map_err(|e| ApiError::store(&e))?;
        s.metrics.set_grants(store.grants().len());
        existed
    };
    s.wake.notify_one();
    let mut router = s.router.lock().await;
    let report = s.step(&mut router, s.clock.now(), Some(&address)).await;
    drop(router);
    Ok(report_reply(&report, json!({ "revoked": existed })))
}

#[derive(serde::Deserialize)]
struct SyncRequest {}

async fn sync_now(
    State(s): State<Shared>,
    JsonBody(SyncRequest {}): JsonBody<SyncRequest>,
) -> Result<Reply, ApiError> {
    let mut router = s.router.lock().await;
    match s.full(&mut router, s.clock.now()).await {
        Ok(()) => {
            s.succeeded();
            s.wake.notify_one();
            // Read while still holding the router lock, so the report is this reconcile's.
            let status = lock(&s.status);
            let report = status.last_report.clone().unwrap_or_default();
            Ok(report_reply(
                &report,
                json!({ "reboots_detected": status.reboots_detected }),
            ))
        }
        Err(e) => {
            s.failed_attempt();
            Err(ApiError {
                status: StatusCode::BAD_GATEWAY,
                kind: "router",
                message: e.to_string(),
                coded: Some(e),
            })
        }
    }
}
