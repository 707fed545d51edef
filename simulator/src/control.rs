//! The control API: seed, inspect and reset the router, move its clock, reboot it, read the
//! journal, and inject faults, over JSON on its own loopback listener.
//!
//! The control listener is separate from the router's services and no fault ever applies to it, so
//! a test can always reach the simulator to remove the fault it added. Every operation here is a thin
//! call on [`Shared`]; the in-process handle and the `routeros-sim` subcommands reach the same calls.
//! An optional bearer token guards it when it must listen beyond loopback. `docs/control-api.md`
//! describes every endpoint.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::clock::ClockReading;
use crate::faults::FaultRule;
use crate::journal::JournalFilter;
use crate::model::duration;
use crate::seed::{Seed, Snapshot};
use crate::shared::{Limits, Shared};
use crate::tls::sha256_hex;

/// What the control API's handlers share.
#[derive(Debug, Clone)]
struct Ctx {
    shared: Arc<Shared>,
    token: Option<Arc<str>>,
    urls: Arc<Value>,
}

/// A refusal of the control API: a status and a sentence saying what to change.
#[derive(Debug)]
struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, msg.into())
}

type ApiResult<T> = Result<T, ApiError>;

/// Reads a JSON body, answering malformed ones with a sentence rather than axum's default text.
struct Body<T>(T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| bad(e.to_string()))?;
        let text = if bytes.iter().all(u8::is_ascii_whitespace) {
            &b"{}"[..]
        } else {
            &bytes[..]
        };
        serde_json::from_slice(text)
            .map(Body)
            .map_err(|e| bad(format!("the request body is not valid: {e}")))
    }
}

/// The control API's routes, for serving or for driving in tests with `oneshot`.
pub fn app(shared: Arc<Shared>, token: Option<String>, urls: Value) -> Router {
    let ctx = Ctx {
        shared,
        token: token.map(Arc::from),
        urls: Arc::new(urls),
    };
    Router::new()
        .route("/", get(health))
        .route("/health", get(health))
        .route("/state", get(get_state).put(put_state))
        .route("/state/reset", post(reset))
        .route("/seed", get(get_seed).put(put_seed))
        .route("/clock", get(clock))
        .route("/clock/freeze", post(freeze))
        .route("/clock/resume", post(resume))
        .route("/clock/advance", post(advance))
        .route("/reboot", post(reboot))
        .route("/journal", get(journal).delete(clear_journal))
        .route("/journal/mark", post(mark))
        .route("/faults", get(faults).post(add_fault).delete(clear_faults))
        .route("/faults/{id}", delete(remove_fault))
        .route("/tls", get(tls))
        .route("/tls/rotate", post(rotate))
        .route("/limits", get(get_limits).put(put_limits))
        .fallback(|| async { bad("no such control endpoint; see docs/control-api.md") })
        .layer(middleware::from_fn_with_state(ctx.clone(), authorize))
        .with_state(ctx)
}

async fn authorize(State(ctx): State<Ctx>, req: Request, next: Next) -> Response {
    if let Some(token) = &ctx.token {
        let ok = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|t| t.trim() == &**token);
        if !ok {
            return ApiError(
                StatusCode::UNAUTHORIZED,
                "send the control token as `Authorization: Bearer <token>`".into(),
            )
            .into_response();
        }
    }
    next.run(req).await
}

async fn health(State(ctx): State<Ctx>) -> Json<Value> {
    let mut v = (*ctx.urls).clone();
    v["ok"] = json!(true);
    v["version"] = json!(ctx.shared.router().version.resource_string());
    v["down"] = json!(ctx.shared.is_down());
    Json(v)
}

async fn get_state(State(ctx): State<Ctx>) -> Json<Snapshot> {
    Json(ctx.shared.snapshot())
}

async fn put_state(
    State(ctx): State<Ctx>,
    Body(snapshot): Body<Snapshot>,
) -> ApiResult<Json<Value>> {
    ctx.shared.restore(&snapshot).map_err(bad)?;
    Ok(Json(json!({ "restored": true })))
}

async fn reset(State(ctx): State<Ctx>) -> ApiResult<Json<Value>> {
    ctx.shared.reset().map_err(bad)?;
    Ok(Json(json!({ "reset": true })))
}

async fn get_seed(State(ctx): State<Ctx>) -> Json<Seed> {
    Json(ctx.shared.seed())
}

async fn put_seed(State(ctx): State<Ctx>, Body(seed): Body<Seed>) -> ApiResult<Json<Value>> {
    ctx.shared.load_seed(seed).map_err(bad)?;
    Ok(Json(json!({ "loaded": true })))
}

async fn clock(State(ctx): State<Ctx>) -> Json<ClockReading> {
    Json(ctx.shared.clock.reading())
}

async fn freeze(State(ctx): State<Ctx>) -> Json<ClockReading> {
    Json(ctx.shared.clock.freeze())
}

async fn resume(State(ctx): State<Ctx>) -> Json<ClockReading> {
    Json(ctx.shared.clock.resume())
}

/// A duration as a RouterOS string (`1h30m`) or a number of milliseconds.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Span {
    Millis(u64),
    Text(String),
}

impl Span {
    fn to_duration(&self, field: &str) -> ApiResult<Duration> {
        match self {
            Span::Millis(ms) => Ok(Duration::from_millis(*ms)),
            Span::Text(t) => duration::parse_ms(t)
                .map(Duration::from_millis)
                .ok_or_else(|| bad(format!("`{field}` must be milliseconds or a RouterOS duration like 1h30m, not {t:?}"))),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceBody {
    by: Span,
}

async fn advance(
    State(ctx): State<Ctx>,
    Body(body): Body<AdvanceBody>,
) -> ApiResult<Json<ClockReading>> {
    Ok(Json(ctx.shared.clock.advance(body.by.to_duration("by")?)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RebootBody {
    #[serde(default)]
    downtime: Option<Span>,
}

async fn reboot(State(ctx): State<Ctx>, Body(body): Body<RebootBody>) -> ApiResult<Json<Value>> {
    let downtime = body
        .downtime
        .map(|d| d.to_duration("downtime"))
        .transpose()?
        .unwrap_or_default();
    ctx.shared.reboot(downtime);
    Ok(Json(
        json!({ "rebooting": true, "downtime_ms": downtime.as_millis() as u64 }),
    ))
}

async fn journal(State(ctx): State<Ctx>, Query(filter): Query<JournalFilter>) -> Json<Value> {
    Json(json!(ctx.shared.journal.query(&filter)))
}

async fn clear_journal(State(ctx): State<Ctx>) -> Json<Value> {
    ctx.shared.journal.clear();
    Json(json!({ "cleared": true, "next_mark": ctx.shared.journal.mark() }))
}

async fn mark(State(ctx): State<Ctx>) -> Json<Value> {
    Json(json!({ "mark": ctx.shared.journal.mark() }))
}

async fn faults(State(ctx): State<Ctx>) -> Json<Value> {
    Json(json!(ctx.shared.faults.list()))
}

async fn add_fault(
    State(ctx): State<Ctx>,
    Body(rule): Body<FaultRule>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let id = ctx.shared.add_fault(rule).map_err(bad)?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
}

async fn remove_fault(State(ctx): State<Ctx>, Path(id): Path<u64>) -> ApiResult<Json<Value>> {
    if ctx.shared.remove_fault(id) {
        Ok(Json(json!({ "removed": id })))
    } else {
        Err(ApiError(
            StatusCode::NOT_FOUND,
            format!("no fault rule {id}; GET /faults lists them"),
        ))
    }
}

async fn clear_faults(State(ctx): State<Ctx>) -> Json<Value> {
    ctx.shared.clear_faults();
    Json(json!({ "cleared": true }))
}

async fn tls(State(ctx): State<Ctx>) -> Json<Value> {
    Json(json!({
        "ca_pem": ctx.shared.authority.ca_pem,
        "leaf_sha256": sha256_hex(&ctx.shared.tls.leaf_der()),
    }))
}

async fn rotate(State(ctx): State<Ctx>) -> ApiResult<Json<Value>> {
    let sha = ctx
        .shared
        .rotate_certificate()
        .map_err(|e| bad(e.to_string()))?;
    Ok(Json(json!({ "leaf_sha256": sha })))
}

async fn get_limits(State(ctx): State<Ctx>) -> Json<Limits> {
    Json(ctx.shared.limits())
}

async fn put_limits(State(ctx): State<Ctx>, Body(limits): Body<Limits>) -> Json<Limits> {
    ctx.shared.set_limits(limits);
    Json(limits)
}
