//! Authentication and policies: who is asking, and may they use REST at all.
//!
//! Every request carries HTTP Basic credentials (RouterOS has no session token); they are checked
//! against the current users and groups on each request. A group without `rest-api` is refused like
//! bad credentials (`401`), and a group without `api` with `500 std failure: not allowed (9)`
//! (ROUTEROS-REST.md section 5). The policies a command needs beyond that (`read`, `write`,
//! `policy`) are the model's business (`Call::authorize`); only PATCH words that refusal
//! differently, in `request.rs`.

use base64::Engine;
use http::{HeaderMap, HeaderValue, header};

use super::error::ErrorReply;
use crate::model::failure::Failure;
use crate::model::users::{LoginFailure, Policies};
use crate::shared::Shared;

/// User and password from `Authorization: Basic ...`.
pub fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// The user name a request presents, whether or not its password is right (for faults and journal).
pub fn presented_user(headers: &HeaderMap) -> Option<String> {
    basic_credentials(headers).map(|(user, _)| user)
}

/// Why a request may not use REST: the refusal, and the user name to journal.
#[derive(Debug)]
pub struct Refused {
    /// The envelope.
    pub error: ErrorReply,
    /// The name presented, when there was one.
    pub user: Option<String>,
    /// Whether to ask for credentials (`WWW-Authenticate`): none were sent.
    pub challenge: bool,
}

/// The `WWW-Authenticate` value of a 401 without credentials.
pub fn challenge() -> HeaderValue {
    HeaderValue::from_static("Basic realm=\"RouterOS\"")
}

/// Decides whether the presented user may use REST, and with which policies.
///
/// `login` is the result of checking the credentials against the router (taken with the other
/// facts read under one lock); the policies may come from the login cache (see `Shared`).
pub fn admit(
    shared: &Shared,
    name: Option<String>,
    login: Option<Result<Policies, LoginFailure>>,
) -> Result<(String, Policies), Refused> {
    let (Some(name), Some(login)) = (name, login) else {
        return Err(Refused {
            error: Failure::unauthorized().into(),
            user: None,
            challenge: true,
        });
    };
    let refuse = |error: Failure, name: String| Refused {
        error: error.into(),
        user: Some(name),
        challenge: false,
    };
    let policies = match login {
        Ok(p) => shared.session_policies(&name, p),
        Err(why) => {
            tracing::debug!(user = %name, ?why, "login refused");
            return Err(refuse(Failure::unauthorized(), name));
        }
    };
    // A group without `rest-api` is refused like bad credentials (ROUTEROS-REST.md section 5).
    if !policies.has("rest-api") {
        tracing::debug!(user = %name, "group lacks rest-api: 401");
        return Err(refuse(Failure::unauthorized(), name));
    }
    if !policies.has("api") {
        return Err(refuse(
            Failure::internal("std failure: not allowed (9)"),
            name,
        ));
    }
    Ok((name, policies))
}
