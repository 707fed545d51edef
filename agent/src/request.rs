//! Grants as people give them and see them, shared by the command line and the daemon's control API.
//!
//! A grant arrives as three texts (an address, a user and a RouterOS duration), from flags or from the
//! control API's JSON. Both front ends check them here, in the same order, so that a request one
//! refuses the other refuses too; each names the offending input its own way (`--for` on the command
//! line, `for` in the API). A grant is shown back the same way by both: [`grant_json`].

use std::time::Duration;

use serde_json::{Value, json};

use crate::address::Address;
use crate::clock::Time;
use crate::duration;
use crate::error::Error;
use crate::plan::Grant;

/// Why a grant or revoke request was refused before anything was stored.
#[derive(Debug, Clone)]
pub enum Refusal {
    /// The address is not an IPv4 or IPv6 host or prefix (208104).
    Address(Error),
    /// The duration is not a positive RouterOS duration; the text as it was given.
    Duration(String),
    /// The user is empty or blank.
    EmptyUser,
}

/// Parses the address of a grant or a revoke.
pub fn address(text: &str) -> Result<Address, Refusal> {
    Address::parse(text).map_err(Refusal::Address)
}

/// Checks a grant request and returns the grant it asks for, expiring `for_` after `now`, with that
/// duration. The address is checked first, then the duration, then the user.
pub fn grant(
    address_text: &str,
    user: &str,
    for_: &str,
    now: Time,
) -> Result<(Grant, Duration), Refusal> {
    let address = address(address_text)?;
    let Some(d) = duration::parse(for_).filter(|d| !d.is_zero()) else {
        return Err(Refusal::Duration(for_.to_owned()));
    };
    if user.trim().is_empty() {
        return Err(Refusal::EmptyUser);
    }
    let grant = Grant {
        address,
        user: user.to_owned(),
        expires: now.plus(d),
    };
    Ok((grant, d))
}

/// A grant as JSON, with its expiry in RFC 3339 and in Unix milliseconds, and its remaining time.
pub fn grant_json(g: &Grant, now: Time) -> Value {
    json!({
        "address": g.address,
        "user": g.user,
        "expires": g.expires.rfc3339(),
        "expires_unix_ms": g.expires.0,
        "remaining": duration::format(Duration::from_secs(g.expires.since(now).as_secs())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(address: &str, user: &str, for_: &str, expected: Result<u64, &str>) {
        let got = grant(address, user, for_, Time(1_000)).map(|(g, d)| {
            assert_eq!(g.expires, Time(1_000).plus(d));
            d.as_secs()
        });
        match (got, expected) {
            (Ok(secs), Ok(want)) => assert_eq!(secs, want, "{address} {user} {for_}"),
            (Err(Refusal::Address(e)), Err("address")) => assert_eq!(e.code.number(), 208104),
            (Err(Refusal::Duration(text)), Err("duration")) => assert_eq!(text, for_),
            (Err(Refusal::EmptyUser), Err("user")) => {}
            (got, want) => panic!("{address} {user} {for_}: {got:?}, expected {want:?}"),
        }
    }

    #[test]
    fn requests_are_checked_address_first_then_duration_then_user() {
        check("192.0.2.1", "ann", "1h", Ok(3600));
        check("2001:db8::1", "ann", "1d2h", Ok(26 * 3600));
        check("not-an-ip", "", "soon", Err("address"));
        check("192.0.2.1", "", "soon", Err("duration"));
        check("192.0.2.1", "ann", "0s", Err("duration"));
        check("192.0.2.1", "  ", "1h", Err("user"));
    }
}
