//! [`Failure`]: the router's own way of saying no, as data.
//!
//! A command fails for a handful of reasons a real router distinguishes: the request is wrong
//! (`no such command`, `unknown parameter <key>`, `failure: already have such entry`), the item does
//! not exist, the caller may not do it (`not enough permissions (9)`), or the router cannot. The
//! model only says which of these it is and the router's text; the REST layer renders a failure as
//! the RouterOS error envelope (`rest/error.rs`) and a script sees the same text.

use std::borrow::Cow;

/// Which kind of refusal a [`Failure`] is; the REST layer maps each to its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureKind {
    /// The command or its arguments are wrong (REST: `400`).
    BadRequest,
    /// Bad credentials, a disabled user, an address not allowed, no `rest-api` (REST: `401`).
    Unauthorized,
    /// No item with that id (REST: `404`).
    NotFound,
    /// The router refused for its own reasons, missing policies included (REST: `500`).
    Internal,
}

/// A refusal, as the router would word it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// What kind of refusal.
    pub kind: FailureKind,
    /// The router's text, when the router sends one.
    pub detail: Option<Cow<'static, str>>,
}

impl Failure {
    /// A refusal of the command or its arguments, with the router's text.
    pub fn bad_request(detail: impl Into<Cow<'static, str>>) -> Self {
        Self {
            kind: FailureKind::BadRequest,
            detail: Some(detail.into()),
        }
    }

    /// Not authenticated (no text): bad credentials, disabled user, address not allowed, no `rest-api`.
    pub fn unauthorized() -> Self {
        Self {
            kind: FailureKind::Unauthorized,
            detail: None,
        }
    }

    /// An id that does not exist (no text).
    pub fn not_found() -> Self {
        Self {
            kind: FailureKind::NotFound,
            detail: None,
        }
    }

    /// The router's own refusal with its text (missing policies land here).
    pub fn internal(detail: impl Into<Cow<'static, str>>) -> Self {
        Self {
            kind: FailureKind::Internal,
            detail: Some(detail.into()),
        }
    }

    /// `no such command or directory (<word>)`: an unknown path.
    pub fn no_such_directory(word: &str) -> Self {
        Self::bad_request(format!("no such command or directory ({word})"))
    }

    /// `no such command`: a known menu with an unknown or misused command.
    pub fn no_such_command() -> Self {
        Self::bad_request("no such command")
    }

    /// `unknown parameter <key>`.
    pub fn unknown_parameter(key: &str) -> Self {
        Self::bad_request(format!("unknown parameter {key}"))
    }

    /// `invalid value for argument <key>`.
    pub fn invalid_value(key: &str) -> Self {
        Self::bad_request(format!("invalid value for argument {key}"))
    }

    /// `missing =<key>=`.
    pub fn missing(key: &str) -> Self {
        Self::bad_request(format!("missing ={key}="))
    }

    /// `not enough permissions (9)`: the group lacks `read` or `write`.
    pub fn not_enough_permissions() -> Self {
        Self::internal("not enough permissions (9)")
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.detail {
            Some(d) => f.write_str(d),
            None => match self.kind {
                FailureKind::Unauthorized => f.write_str("unauthorized"),
                FailureKind::NotFound => f.write_str("no such item"),
                FailureKind::BadRequest | FailureKind::Internal => f.write_str("failure"),
            },
        }
    }
}

impl std::error::Error for Failure {}
