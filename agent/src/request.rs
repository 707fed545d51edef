//! Grants as people give them and see them, shared by the command line and the daemon's control API.
//!
//! A grant arrives as three texts (an address, a user and a RouterOS duration), from flags or from the
//! control API's JSON. Both front ends check them here, in the same order, so that a request one
//! refuses the other refuses too; each names the offending input its own way (`--for` on the command
//! line, `for` in the API). A grant is shown back the same way by both: [`grant_json`].
//!
//! What is refused here, before anything is stored: an address that is not a host or prefix
//! (208104); `0.0.0.0/0` and `::/0` always, and prefixes wider than the configured limit
//! ([`PrefixLimits`], by default IPv4 /17 to /32 and IPv6 /49 to /128); a duration that is not
//! positive or is longer than the longest timeout RouterOS accepts ([`duration::MAX_TIMEOUT`],
//! `35w3d13h13m56s`: the router would refuse every write of it); and a user name that is empty or
//! holds control characters (a newline in a name would let it forge lines in `list`'s output).

use std::time::Duration;

use serde_json::{Value, json};

use crate::address::Address;
use crate::clock::Time;
use crate::duration;
use crate::error::Error;
use crate::plan::Grant;

/// The widest prefixes a grant may name, per family: a grant for a wider prefix opens the firewall
/// to more addresses than one person uses, so it is refused unless the configuration widens the
/// limit. `/0` is refused whatever the limit says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrefixLimits {
    /// The shortest IPv4 prefix length allowed (1..=32; default 17).
    pub v4: u8,
    /// The shortest IPv6 prefix length allowed (1..=128; default 49).
    pub v6: u8,
}

impl Default for PrefixLimits {
    fn default() -> Self {
        PrefixLimits { v4: 17, v6: 49 }
    }
}

/// Why a grant or revoke request was refused before anything was stored.
#[derive(Debug, Clone)]
pub enum Refusal {
    /// The address is not an IPv4 or IPv6 host or prefix (208104).
    Address(Error),
    /// The duration is not a positive RouterOS duration; the text as it was given.
    Duration(String),
    /// The duration is longer than RouterOS's longest timeout; the text as it was given.
    TooLong(String),
    /// The prefix is wider than allowed: `/0` (`limit` is `None`: never allowed) or wider than the
    /// configured limit.
    TooWide {
        /// The address as normalised.
        address: Address,
        /// The configured limit, `None` for `/0`.
        limit: Option<u8>,
    },
    /// The user is empty or blank.
    EmptyUser,
    /// The user name holds a control character (a newline, NUL, an escape).
    UserControl,
}

impl Refusal {
    /// The refusal in words, naming the input as `field` (`--for` or `for`) and saying how to
    /// allow what may be allowed.
    pub fn message(&self, for_field: &str, user_field: &str) -> String {
        match self {
            Refusal::Address(e) => e.to_string(),
            Refusal::Duration(text) => format!(
                "{for_field} `{}` is not a positive duration such as 30m, 8h or 1d",
                text.escape_debug()
            ),
            Refusal::TooLong(text) => format!(
                "{for_field} `{}` is longer than the longest timeout RouterOS accepts ({}); \
                 grant at most that and renew the grant before it ends",
                text.escape_debug(),
                duration::format(duration::MAX_TIMEOUT)
            ),
            Refusal::TooWide {
                address,
                limit: None,
            } => format!("{address} is every address of its family; it is never granted"),
            Refusal::TooWide {
                address,
                limit: Some(limit),
            } => {
                let (key, flag) = match address.family() {
                    crate::address::Family::V4 => ("widest_prefix_v4", "--widest-prefix-v4"),
                    crate::address::Family::V6 => ("widest_prefix_v6", "--widest-prefix-v6"),
                };
                format!(
                    "{address} is wider than /{limit}, the widest prefix allowed; to allow it, \
                     set `{key} = {}` in the configuration file (or {flag} {})",
                    address.prefix_len(),
                    address.prefix_len()
                )
            }
            Refusal::EmptyUser => format!("{user_field} must not be empty"),
            Refusal::UserControl => {
                format!("{user_field} must not contain control characters (newline, tab, NUL...)")
            }
        }
    }
}

/// Parses the address of a grant or a revoke.
pub fn address(text: &str) -> Result<Address, Refusal> {
    Address::parse(text).map_err(Refusal::Address)
}

/// Checks a user name: not blank, no control characters.
pub fn user(name: &str) -> Result<(), Refusal> {
    if name.trim().is_empty() {
        return Err(Refusal::EmptyUser);
    }
    if name.chars().any(char::is_control) {
        return Err(Refusal::UserControl);
    }
    Ok(())
}

/// Checks a grant request and returns the grant it asks for, expiring `for_` after `now`, with that
/// duration. The address is checked first (form, then width), then the duration, then the user.
pub fn grant(
    address_text: &str,
    user_name: &str,
    for_: &str,
    now: Time,
    limits: PrefixLimits,
) -> Result<(Grant, Duration), Refusal> {
    let address = address(address_text)?;
    let len = address.prefix_len();
    let limit = match address.family() {
        crate::address::Family::V4 => limits.v4,
        crate::address::Family::V6 => limits.v6,
    };
    if len == 0 {
        return Err(Refusal::TooWide {
            address,
            limit: None,
        });
    }
    if len < limit {
        return Err(Refusal::TooWide {
            address,
            limit: Some(limit),
        });
    }
    let Some(d) = duration::parse(for_).filter(|d| !d.is_zero()) else {
        return Err(Refusal::Duration(for_.to_owned()));
    };
    if d > duration::MAX_TIMEOUT {
        return Err(Refusal::TooLong(for_.to_owned()));
    }
    user(user_name)?;
    let user = user_name;
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
        let got = grant(address, user, for_, Time(1_000), PrefixLimits::default()).map(|(g, d)| {
            assert_eq!(g.expires, Time(1_000).plus(d));
            d.as_secs()
        });
        match (got, expected) {
            (Ok(secs), Ok(want)) => assert_eq!(secs, want, "{address} {user} {for_}"),
            (Err(Refusal::Address(e)), Err("address")) => assert_eq!(e.code.number(), 208104),
            (Err(Refusal::Duration(text)), Err("duration")) => assert_eq!(text, for_),
            (Err(Refusal::EmptyUser), Err("user")) => {}
            (Err(Refusal::UserControl), Err("control")) => {}
            (Err(Refusal::TooLong(_)), Err("long")) => {}
            (Err(Refusal::TooWide { limit: None, .. }), Err("all")) => {}
            (Err(Refusal::TooWide { limit: Some(_), .. }), Err("wide")) => {}
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

    #[test]
    fn every_address_and_wide_prefixes_are_refused() {
        check("0.0.0.0/0", "ann", "1h", Err("all"));
        check("::/0", "ann", "1h", Err("all"));
        check("0.0.0.0/1", "ann", "1h", Err("wide"));
        check("10.0.0.0/16", "ann", "1h", Err("wide"));
        check("10.0.0.0/17", "ann", "1h", Ok(3600));
        check("2001:db8::/48", "ann", "1h", Err("wide"));
        check("2001:db8::/49", "ann", "1h", Ok(3600));
        let wider = PrefixLimits { v4: 1, v6: 1 };
        assert!(grant("0.0.0.0/1", "a", "1h", Time(0), wider).is_ok());
        assert!(grant("0.0.0.0/0", "a", "1h", Time(0), wider).is_err());
        let e = grant("10.0.0.0/8", "a", "1h", Time(0), PrefixLimits::default()).unwrap_err();
        assert_eq!(
            e.message("--for", "--user"),
            "10.0.0.0/8 is wider than /17, the widest prefix allowed; to allow it, set \
             `widest_prefix_v4 = 8` in the configuration file (or --widest-prefix-v4 8)"
        );
    }

    #[test]
    fn grants_longer_than_the_routers_longest_timeout_are_refused() {
        check("192.0.2.1", "ann", "35w3d13h13m56s", Ok(21_474_836));
        check("192.0.2.1", "ann", "35w3d13h13m57s", Err("long"));
        check("192.0.2.1", "ann", "36w", Err("long"));
    }

    #[test]
    fn user_names_with_control_characters_are_refused() {
        check(
            "192.0.2.1",
            "ann\nerror 208001 forged",
            "1h",
            Err("control"),
        );
        check("192.0.2.1", "ann\0", "1h", Err("control"));
        check("192.0.2.1", "ann\u{1b}[31m", "1h", Err("control"));
        check("192.0.2.1", "Zoë O'Brien", "1h", Ok(3600));
    }
}
