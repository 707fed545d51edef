//! The RouterOS error envelope, the one way the simulator says no.
//!
//! A real router answers every failed REST request with
//! `{"detail":"<router text>","error":<status>,"message":"<reason phrase>"}`, keys sorted, `error` the
//! only non-string value anywhere, and no `detail` on 401 and 404 (ROUTEROS-REST.md section 5).
//! Every refusal in the simulator is a [`RosError`] and is rendered here, so no path can answer in
//! another shape by accident.

use std::borrow::Cow;

use http::StatusCode;

/// A refusal, as the router would word it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosError {
    /// HTTP status.
    pub status: StatusCode,
    /// The router's text, when the router sends one.
    pub detail: Option<Cow<'static, str>>,
}

impl RosError {
    /// `400 Bad Request` with the router's text.
    pub fn bad_request(detail: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            detail: Some(detail.into()),
        }
    }

    /// `401 Unauthorized`, no detail: bad credentials, disabled user, address not allowed, no `rest-api`.
    pub fn unauthorized() -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            detail: None,
        }
    }

    /// `404 Not Found`, no detail: an id that does not exist.
    pub fn not_found() -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            detail: None,
        }
    }

    /// `500 Internal Server Error` with the router's text (missing policies land here).
    pub fn internal(detail: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            detail: Some(detail.into()),
        }
    }

    /// Any status with an optional text, for fault injection and the odd statuses of section 5.
    pub fn with_status(status: StatusCode, detail: Option<String>) -> Self {
        Self {
            status,
            detail: detail.map(Cow::Owned),
        }
    }

    /// `400 no such command or directory (<word>)`: an unknown path.
    pub fn no_such_directory(word: &str) -> Self {
        Self::bad_request(format!("no such command or directory ({word})"))
    }

    /// `400 no such command`: a known menu with an unknown or misused command.
    pub fn no_such_command() -> Self {
        Self::bad_request("no such command")
    }

    /// `400 unknown parameter <key>`.
    pub fn unknown_parameter(key: &str) -> Self {
        Self::bad_request(format!("unknown parameter {key}"))
    }

    /// `400 invalid value for argument <key>`.
    pub fn invalid_value(key: &str) -> Self {
        Self::bad_request(format!("invalid value for argument {key}"))
    }

    /// `400 missing =<key>=`.
    pub fn missing(key: &str) -> Self {
        Self::bad_request(format!("missing ={key}="))
    }

    /// `500 not enough permissions (9)`: the group lacks `read` or `write`.
    pub fn not_enough_permissions() -> Self {
        Self::internal("not enough permissions (9)")
    }

    /// The JSON body: keys sorted, `error` a number, `detail` only when the router sends one.
    pub fn body(&self) -> Vec<u8> {
        let reason = self.status.canonical_reason().unwrap_or("Error");
        let mut out = Vec::with_capacity(96);
        out.push(b'{');
        if let Some(detail) = &self.detail {
            out.extend_from_slice(b"\"detail\":");
            crate::rest::json::write_str(&mut out, detail);
            out.push(b',');
        }
        out.extend_from_slice(
            format!("\"error\":{},\"message\":", self.status.as_u16()).as_bytes(),
        );
        crate::rest::json::write_str(&mut out, reason);
        out.push(b'}');
        out
    }
}

impl std::fmt::Display for RosError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.detail {
            Some(d) => write!(f, "{} {d}", self.status.as_u16()),
            None => write!(f, "{}", self.status.as_u16()),
        }
    }
}

impl std::error::Error for RosError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(e: RosError, expected: &str) {
        assert_eq!(String::from_utf8(e.body()).unwrap(), expected);
    }

    #[test]
    fn envelopes() {
        check(
            RosError::unauthorized(),
            r#"{"error":401,"message":"Unauthorized"}"#,
        );
        check(
            RosError::not_found(),
            r#"{"error":404,"message":"Not Found"}"#,
        );
        check(
            RosError::bad_request("failure: already have such entry"),
            r#"{"detail":"failure: already have such entry","error":400,"message":"Bad Request"}"#,
        );
        check(
            RosError::not_enough_permissions(),
            r#"{"detail":"not enough permissions (9)","error":500,"message":"Internal Server Error"}"#,
        );
        check(
            RosError::no_such_directory("foo"),
            r#"{"detail":"no such command or directory (foo)","error":400,"message":"Bad Request"}"#,
        );
        check(
            RosError::bad_request("a \"q\""),
            r#"{"detail":"a \"q\"","error":400,"message":"Bad Request"}"#,
        );
    }
}
