//! The REST API: from an HTTP request to the router's answer.
//!
//! [`handle`] is the whole of the router's `/rest` behaviour (ROUTEROS-REST.md sections 2 and 5),
//! in four steps, one file each:
//!
//! 1. `auth.rs`: who is asking, checked against the current users and groups (`401`, `500 not
//!    allowed` for a group without `api`);
//! 2. `request.rs`: the method, path and body as a model [`Call`](crate::model::run::Call) and the
//!    form of the reply, and the caller's policies checked for it;
//! 3. `execute.rs`: the user's queue, the session limit, and [`Router::execute`] under the router's
//!    lock;
//! 4. `reply.rs` and `json.rs`: the outcome rendered after the lock is released; `error.rs` renders
//!    every refusal as the RouterOS envelope.
//!
//! The model decides every answer; this layer only maps HTTP onto the model's one entry point
//! ([`Router::run`] and its steps) and renders what comes back. Nothing in here does socket I/O;
//! the server hands in a request with its body already read.
//!
//! [`Router::execute`]: crate::model::Router::execute
//! [`Router::run`]: crate::model::Router::run

pub mod auth;
pub mod body;
pub mod error;
pub mod execute;
pub mod json;
pub mod reply;
pub mod request;

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};

pub use auth::presented_user;
use body::Body;
use error::ErrorReply;
pub use error::error_response;
use request::Facts;

use crate::model::services::Listener;
use crate::shared::Shared;

/// A reply, and who made the request (for the journal).
#[derive(Debug)]
pub struct Outcome {
    /// The HTTP response.
    pub response: Response<Body>,
    /// The authenticated user, or the name presented when authentication failed.
    pub user: Option<String>,
}

/// Answers one request that arrived on `listener` from `peer`.
pub async fn handle(
    shared: &Arc<Shared>,
    req: Request<Bytes>,
    peer: SocketAddr,
    listener: Listener,
) -> Outcome {
    let path = req.uri().path().to_owned();
    let rest_path = match path.strip_prefix("/rest") {
        Some(p) if p.is_empty() || p.starts_with('/') => Some(p.to_owned()),
        _ => None,
    };
    // The login, whether this service serves REST, and the version are read under one short hold
    // of the lock (a path naming an item, `/rest/user/admin`, takes it once more to find the id).
    let credentials = auth::basic_credentials(req.headers());
    let (rest_served, login, facts) = {
        let router = shared.router();
        let login = credentials
            .as_ref()
            .map(|(name, password)| router.users.credentials(name, password, peer.ip()));
        let facts = Facts {
            version: router.version.clone(),
        };
        (
            listener == Listener::WwwSsl || router.version.rest_on_www(),
            login,
            facts,
        )
    };
    let Some(rest_path) = rest_path.filter(|_| rest_served) else {
        return Outcome {
            response: reply::webfig(&path),
            user: None,
        };
    };
    let refuse = |e: ErrorReply, user: Option<String>| Outcome {
        response: e.response(),
        user,
    };
    match req.method() {
        &Method::GET | &Method::PUT | &Method::PATCH | &Method::DELETE | &Method::POST => {}
        // OPTIONS is 503 on a real router; HEAD and anything else 501 (ROUTEROS-REST.md section 5).
        &Method::OPTIONS => {
            return refuse(
                ErrorReply::with_status(StatusCode::SERVICE_UNAVAILABLE, None),
                None,
            );
        }
        _ => {
            return refuse(
                ErrorReply::with_status(StatusCode::NOT_IMPLEMENTED, None),
                None,
            );
        }
    }

    let (name, policies) = match auth::admit(shared, credentials.map(|(n, _)| n), login) {
        Ok(admitted) => admitted,
        Err(refused) => {
            let mut out = refuse(refused.error, refused.user);
            if refused.challenge {
                out.response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, auth::challenge());
            }
            return out;
        }
    };
    let op = match request::understand(&req, &rest_path, shared, listener, &facts) {
        Ok(op) => op,
        Err(e) => return refuse(e, Some(name)),
    };
    if let Err(e) = op.authorize(policies) {
        return refuse(e, Some(name));
    }
    let response = execute::run_queued(shared, &name, op, policies)
        .await
        .unwrap_or_else(|e| e.response());
    Outcome {
        response,
        user: Some(name),
    }
}
