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
    /// What the router-speed profile charged for the request (waited for, or with modelled time
    /// moved on the simulator's clock); zero for a request refused before it ran.
    pub cost: std::time::Duration,
}

/// A request admitted to the REST API: its path below `/rest`, the user, their policies and the
/// version facts read with the login.
struct Admitted {
    rest_path: String,
    name: String,
    policies: crate::model::users::Policies,
    facts: Facts,
}

/// Everything [`handle`] decides before it needs the body: whether this is a REST request at all,
/// whether its method is served, and who is asking. Answered `Err` with the reply to send.
fn admit(
    shared: &Shared,
    method: &Method,
    path: &str,
    headers: &header::HeaderMap,
    peer: SocketAddr,
    listener: Listener,
) -> Result<Admitted, Box<Outcome>> {
    let rest_path = match path.strip_prefix("/rest") {
        Some(p) if p.is_empty() || p.starts_with('/') => Some(p.to_owned()),
        _ => None,
    };
    // The login, whether this service serves REST, and the version are read under one short hold
    // of the lock (a path naming an item, `/rest/user/admin`, takes it once more to find the id).
    let credentials = auth::basic_credentials(headers);
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
        return Err(Box::new(Outcome {
            response: reply::webfig(path),
            user: None,
            cost: Default::default(),
        }));
    };
    let refuse = |e: ErrorReply, user: Option<String>| Outcome {
        response: e.response(),
        user,
        cost: Default::default(),
    };
    match *method {
        Method::GET | Method::PUT | Method::PATCH | Method::DELETE | Method::POST => {}
        // OPTIONS is 503 on a real router; HEAD and anything else 501 (ROUTEROS-REST.md section 5).
        Method::OPTIONS => {
            return Err(Box::new(refuse(
                ErrorReply::with_status(StatusCode::SERVICE_UNAVAILABLE, None),
                None,
            )));
        }
        _ => {
            return Err(Box::new(refuse(
                ErrorReply::with_status(StatusCode::NOT_IMPLEMENTED, None),
                None,
            )));
        }
    }
    match auth::admit(shared, credentials.map(|(n, _)| n), login) {
        Ok((name, policies)) => Ok(Admitted {
            rest_path,
            name,
            policies,
            facts,
        }),
        Err(refused) => {
            let mut out = refuse(refused.error, refused.user);
            if refused.challenge {
                out.response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, auth::challenge());
            }
            Err(Box::new(out))
        }
    }
}

/// The answer to a request that [`handle`] refuses whatever its body says (not REST, a method
/// REST does not serve, no valid credentials), or `None` when the body is needed.
///
/// The server asks this before it reads a body, so that a client without credentials cannot make
/// it wait for (or hold memory for) a body it would refuse anyway.
pub fn refusal_before_body(
    shared: &Shared,
    head: &http::request::Parts,
    peer: SocketAddr,
    listener: Listener,
) -> Option<Outcome> {
    admit(
        shared,
        &head.method,
        head.uri.path(),
        &head.headers,
        peer,
        listener,
    )
    .err()
    .map(|out| *out)
}

/// Answers one request that arrived on `listener` from `peer`.
pub async fn handle(
    shared: &Arc<Shared>,
    req: Request<Bytes>,
    peer: SocketAddr,
    listener: Listener,
) -> Outcome {
    let Admitted {
        rest_path,
        name,
        policies,
        facts,
    } = match admit(
        shared,
        req.method(),
        req.uri().path(),
        req.headers(),
        peer,
        listener,
    ) {
        Ok(a) => a,
        Err(out) => return *out,
    };
    let refuse = |e: ErrorReply, user: Option<String>| Outcome {
        response: e.response(),
        user,
        cost: Default::default(),
    };
    let op = match request::understand(&req, &rest_path, shared, listener, &facts) {
        Ok(op) => op,
        Err(e) => return refuse(e, Some(name)),
    };
    if let Err(e) = op.authorize(policies) {
        return refuse(e, Some(name));
    }
    let (result, cost) = execute::run_queued(shared, &name, op, policies).await;
    Outcome {
        response: result.unwrap_or_else(|e| e.response()),
        user: Some(name),
        cost,
    }
}
