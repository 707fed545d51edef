//! The RouterOS error envelope: how every refusal looks on the wire.
//!
//! A real router answers every failed REST request with
//! `{"detail":"<router text>","error":<status>,"message":"<reason phrase>"}`, keys sorted, `error` the
//! only non-string value anywhere, and no `detail` on 401 and 404 (ROUTEROS-REST.md section 5).
//! The model's [`Failure`] becomes an [`ErrorReply`] here (its kind decides the status), and so do
//! the refusals only HTTP has (`415`, `501` for HEAD, `503` for OPTIONS, injected faults), so no
//! path can answer in another shape by accident.

use std::borrow::Cow;

use http::{HeaderValue, Response, StatusCode, header};

use super::body::Body;
use crate::model::failure::{Failure, FailureKind};

/// A refusal as the REST API sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorReply {
    /// HTTP status.
    pub status: StatusCode,
    /// The router's text, when the router sends one.
    pub detail: Option<Cow<'static, str>>,
}

impl From<Failure> for ErrorReply {
    fn from(f: Failure) -> Self {
        let status = match f.kind {
            FailureKind::BadRequest => StatusCode::BAD_REQUEST,
            FailureKind::Unauthorized => StatusCode::UNAUTHORIZED,
            FailureKind::NotFound => StatusCode::NOT_FOUND,
            FailureKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Self {
            status,
            detail: f.detail,
        }
    }
}

impl ErrorReply {
    /// Any status with an optional text, for fault injection and the odd statuses of section 5.
    pub fn with_status(status: StatusCode, detail: Option<String>) -> Self {
        Self {
            status,
            detail: detail.map(Cow::Owned),
        }
    }

    /// The JSON body: keys sorted, `error` a number, `detail` only when the router sends one.
    pub fn body(&self) -> Vec<u8> {
        let reason = self.status.canonical_reason().unwrap_or("Error");
        let mut out = Vec::with_capacity(96);
        out.push(b'{');
        if let Some(detail) = &self.detail {
            out.extend_from_slice(b"\"detail\":");
            super::json::write_str(&mut out, detail);
            out.push(b',');
        }
        out.extend_from_slice(
            format!("\"error\":{},\"message\":", self.status.as_u16()).as_bytes(),
        );
        super::json::write_str(&mut out, reason);
        out.push(b'}');
        out
    }

    /// The envelope as a response.
    pub fn response(&self) -> Response<Body> {
        let mut r = Response::new(Body::from(self.body()));
        *r.status_mut() = self.status;
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        r
    }
}

/// The envelope of a model failure as a response.
pub fn error_response(e: impl Into<ErrorReply>) -> Response<Body> {
    e.into().response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(e: impl Into<ErrorReply>, expected: &str) {
        assert_eq!(String::from_utf8(e.into().body()).unwrap(), expected);
    }

    #[test]
    fn envelopes() {
        check(
            Failure::unauthorized(),
            r#"{"error":401,"message":"Unauthorized"}"#,
        );
        check(
            Failure::not_found(),
            r#"{"error":404,"message":"Not Found"}"#,
        );
        check(
            Failure::bad_request("failure: already have such entry"),
            r#"{"detail":"failure: already have such entry","error":400,"message":"Bad Request"}"#,
        );
        check(
            Failure::not_enough_permissions(),
            r#"{"detail":"not enough permissions (9)","error":500,"message":"Internal Server Error"}"#,
        );
        check(
            Failure::no_such_directory("foo"),
            r#"{"detail":"no such command or directory (foo)","error":400,"message":"Bad Request"}"#,
        );
        check(
            Failure::bad_request("a \"q\""),
            r#"{"detail":"a \"q\"","error":400,"message":"Bad Request"}"#,
        );
        check(
            ErrorReply::with_status(StatusCode::NOT_IMPLEMENTED, None),
            r#"{"error":501,"message":"Not Implemented"}"#,
        );
    }
}
