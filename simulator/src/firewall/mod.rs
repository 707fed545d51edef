//! Firewall filter rules (`/ip/firewall/filter`, `/ipv6/firewall/filter`) and what they do to a
//! packet.
//!
//! A grant is only as good as the filter rule that uses its address list, so the simulator keeps
//! the filter tables a real router has and can say what they would do to a packet. This module is
//! plain data with no I/O and no HTTP: [`table::FilterTable`] holds one family's rules with the
//! router's commands (add with `place-before`, set, remove, enable, disable, `move`, `unset`,
//! comments, counters) and prints them as the router does; [`verdict::evaluate`] walks a chain
//! for a packet and says which rule decided and why, marking anything it cannot evaluate as
//! unknown instead of ignoring it. [`schema`] lists what each family and version accepts and
//! [`values`] checks and normalises values.
//!
//! The REST menus, the control API and the CLI call this module; refusals come back as
//! [`Refusal`], which the REST layer renders as the router's error envelope.

pub mod schema;
pub mod table;
pub mod values;
pub mod verdict;

pub use schema::Schema;
pub use table::{FilterTable, Rule};
pub use values::Known;
pub use verdict::{
    DecidedBy, Decision, ListAddition, ListEntry, MatcherResult, Outcome, Packet, RuleStep,
    Verdict, evaluate,
};

use std::fmt;

/// A command the router refuses, as the router words it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// `404 Not Found` without a detail: an id (or `numbers` item) that does not exist.
    NotFound,
    /// `400 Bad Request` with the router's text.
    BadRequest(String),
}

impl Refusal {
    /// A `400` with the router's text.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Refusal::BadRequest(detail.into())
    }

    /// The HTTP status the REST layer answers with.
    pub fn status(&self) -> u16 {
        match self {
            Refusal::NotFound => 404,
            Refusal::BadRequest(_) => 400,
        }
    }

    /// The router's text, when it sends one.
    pub fn detail(&self) -> Option<&str> {
        match self {
            Refusal::NotFound => None,
            Refusal::BadRequest(d) => Some(d),
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::NotFound => f.write_str("404 Not Found"),
            Refusal::BadRequest(d) => write!(f, "400 {d}"),
        }
    }
}

impl std::error::Error for Refusal {}

#[cfg(test)]
mod tests;
