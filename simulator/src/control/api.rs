//! The control API's HTTP server: the operations of [`super::local`] as JSON over axum, on the
//! control listener.
//!
//! The control listener is separate from the router's services and no fault ever applies to it, so
//! a test can always reach the simulator to remove the fault it added. Every route is a thin call on
//! the same operations the in-process handle offers, answering with the bodies of [`super::types`]
//! that [`super::ControlClient`] reads. An optional bearer token guards it when it must listen
//! beyond loopback. `docs/control-api.md` describes every endpoint.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};

use super::local::{Local, Refusal};
use super::types::{
    Advance, ClockReading, ErrorBody, FaultAdded, FaultRemoved, FaultsCleared, Health,
    JournalCleared, Loaded, Mark, Reboot, Rebooted, Reset, Restored, Rotated, RuleStatus, TlsInfo,
    VerdictReply, VerdictRequest,
};
use crate::faults::FaultRule;
use crate::journal::{JournalFilter, JournalPage};
use crate::seed::{Seed, Snapshot};
use crate::shared::Limits;

/// What the control API's handlers share.
#[derive(Debug, Clone)]
struct Ctx {
    local: Local,
    token: Option<Arc<str>>,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        (
            status,
            Json(ErrorBody {
                error: self.message,
            }),
        )
            .into_response()
    }
}

type ApiResult<T> = Result<Json<T>, Refusal>;

/// Reads a JSON body, answering malformed ones with a sentence rather than axum's default text.
struct Body<T>(T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequest<S> for Body<T> {
    type Rejection = Refusal;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| Refusal::bad(e.to_string()))?;
        let text = if bytes.iter().all(u8::is_ascii_whitespace) {
            &b"{}"[..]
        } else {
            &bytes[..]
        };
        serde_json::from_slice(text)
            .map(Body)
            .map_err(|e| Refusal::bad(format!("the request body is not valid: {e}")))
    }
}

/// A path parameter whose rejection is the control API's error body, not axum's plain text.
struct Path<T>(T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned + Send> axum::extract::FromRequestParts<S>
    for Path<T>
{
    type Rejection = Refusal;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Path(p.0))
            .map_err(|e| Refusal::bad(format!("the path is not valid: {}", e.body_text())))
    }
}

/// A query string whose rejection is the control API's error body, not axum's plain text.
struct Query<T>(T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequestParts<S>
    for Query<T>
{
    type Rejection = Refusal;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|e| Refusal::bad(format!("the query is not valid: {}", e.body_text())))
    }
}

/// The control API's routes over one simulator's operations.
pub(crate) fn app(local: Local, token: Option<String>) -> Router {
    let ctx = Ctx {
        local,
        token: token.map(Arc::from),
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
        .route("/verdict", post(verdict))
        .fallback(|| async { Refusal::bad("no such control endpoint; see docs/control-api.md") })
        .method_not_allowed_fallback(|| async {
            Refusal {
                status: 405,
                message: "this control endpoint does not take that method; see docs/control-api.md"
                    .into(),
            }
        })
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
            .is_some_and(|t| token_matches(t.trim(), token));
        if !ok {
            return Refusal {
                status: 401,
                message: "send the control token as `Authorization: Bearer <token>`".into(),
            }
            .into_response();
        }
    }
    next.run(req).await
}

/// Whether `presented` is the token, in time that does not depend on where they differ: a client
/// timing the answers cannot learn the token a byte at a time. (Only the length can be learned.)
fn token_matches(presented: &str, token: &str) -> bool {
    use subtle::ConstantTimeEq;
    presented.as_bytes().ct_eq(token.as_bytes()).into()
}

async fn health(State(ctx): State<Ctx>) -> Json<Health> {
    Json(ctx.local.health())
}

async fn get_state(State(ctx): State<Ctx>) -> Json<Snapshot> {
    Json(ctx.local.snapshot())
}

async fn put_state(State(ctx): State<Ctx>, Body(snapshot): Body<Snapshot>) -> ApiResult<Restored> {
    ctx.local.restore(&snapshot).map(Json)
}

async fn reset(State(ctx): State<Ctx>) -> ApiResult<Reset> {
    ctx.local.reset().map(Json)
}

async fn get_seed(State(ctx): State<Ctx>) -> Json<Seed> {
    Json(ctx.local.seed())
}

async fn put_seed(State(ctx): State<Ctx>, Body(seed): Body<Seed>) -> ApiResult<Loaded> {
    ctx.local.load_seed(seed).map(Json)
}

async fn clock(State(ctx): State<Ctx>) -> Json<ClockReading> {
    Json(ctx.local.clock())
}

async fn freeze(State(ctx): State<Ctx>) -> Json<ClockReading> {
    Json(ctx.local.freeze_clock())
}

async fn resume(State(ctx): State<Ctx>) -> ApiResult<ClockReading> {
    ctx.local.resume_clock().map(Json)
}

async fn advance(State(ctx): State<Ctx>, Body(body): Body<Advance>) -> ApiResult<ClockReading> {
    let by = body.by.to_duration("by").map_err(Refusal::bad)?;
    ctx.local.advance_clock(by).map(Json)
}

async fn reboot(State(ctx): State<Ctx>, Body(body): Body<Reboot>) -> ApiResult<Rebooted> {
    let downtime = body
        .downtime
        .map(|d| d.to_duration("downtime"))
        .transpose()
        .map_err(Refusal::bad)?
        .unwrap_or_default();
    ctx.local.reboot(downtime).map(Json)
}

async fn journal(State(ctx): State<Ctx>, Query(filter): Query<JournalFilter>) -> Json<JournalPage> {
    Json(ctx.local.journal(&filter))
}

async fn clear_journal(State(ctx): State<Ctx>) -> Json<JournalCleared> {
    Json(ctx.local.clear_journal())
}

async fn mark(State(ctx): State<Ctx>) -> Json<Mark> {
    Json(ctx.local.journal_mark())
}

async fn faults(State(ctx): State<Ctx>) -> Json<Vec<RuleStatus>> {
    Json(ctx.local.faults())
}

async fn add_fault(
    State(ctx): State<Ctx>,
    Body(rule): Body<FaultRule>,
) -> Result<(StatusCode, Json<FaultAdded>), Refusal> {
    let added = ctx.local.add_fault(rule)?;
    Ok((StatusCode::CREATED, Json(added)))
}

async fn remove_fault(State(ctx): State<Ctx>, Path(id): Path<u64>) -> ApiResult<FaultRemoved> {
    ctx.local.remove_fault(id).map(Json)
}

async fn clear_faults(State(ctx): State<Ctx>) -> Json<FaultsCleared> {
    Json(ctx.local.clear_faults())
}

async fn tls(State(ctx): State<Ctx>) -> Json<TlsInfo> {
    Json(ctx.local.tls())
}

async fn rotate(State(ctx): State<Ctx>) -> ApiResult<Rotated> {
    ctx.local.rotate_certificate().map(Json)
}

async fn get_limits(State(ctx): State<Ctx>) -> Json<Limits> {
    Json(ctx.local.limits())
}

async fn put_limits(State(ctx): State<Ctx>, Body(limits): Body<Limits>) -> Json<Limits> {
    Json(ctx.local.set_limits(limits))
}

async fn verdict(
    State(ctx): State<Ctx>,
    Body(request): Body<VerdictRequest>,
) -> ApiResult<VerdictReply> {
    ctx.local.verdict(&request).map(Json)
}
