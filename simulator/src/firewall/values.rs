//! Values of filter-rule arguments: checked and normalised on write, parsed again for matching.
//!
//! A rule keeps each value as the text the router prints (console form, `!` kept in front of a
//! negated matcher, lists comma-separated), so that a print is a copy of the stored text; the
//! matchers the verdict understands are parsed from that text when a packet is evaluated.
//!
//! Refusal texts: `input does not match any value of <arg>` for a word outside a fixed set (action,
//! reject-with, connection-state, interface names when known), `invalid value for argument <arg>`
//! for malformed addresses, ports, protocols and yes/no words (fidelity notes, section B). Which of
//! the two a real router uses for a bad protocol word or port is not captured; the second is the
//! router's general text for a value of the wrong type.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{Ipv4Net, Ipv6Net};

use super::Refusal;
use super::schema::{self, Schema};
use crate::Family;

/// Splits a leading `!` (negation) from a matcher value.
pub fn split_negation(text: &str) -> (bool, &str) {
    match text.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, text),
    }
}

/// `invalid value for argument <key>`.
pub fn invalid(key: &str) -> Refusal {
    Refusal::bad_request(format!("invalid value for argument {key}"))
}

/// `input does not match any value of <key>`.
pub fn no_match(key: &str) -> Refusal {
    Refusal::bad_request(format!("input does not match any value of {key}"))
}

/// A yes/no word as RouterOS reads it, printed back as `true`/`false`.
pub fn boolean(key: &str, text: &str) -> Result<bool, Refusal> {
    match text {
        "true" | "yes" => Ok(true),
        "false" | "no" => Ok(false),
        _ => Err(invalid(key)),
    }
}

/// An inclusive range of addresses of one family, as 128-bit integers (IPv4 in the low 32 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddrRange {
    /// Lowest address.
    pub lo: u128,
    /// Highest address.
    pub hi: u128,
}

impl AddrRange {
    /// Whether `addr` (of the range's family) lies in the range.
    pub fn contains(&self, addr: u128) -> bool {
        self.lo <= addr && addr <= self.hi
    }
}

/// An address as a 128-bit integer, with its family.
pub fn addr_bits(addr: IpAddr) -> (Family, u128) {
    match addr {
        IpAddr::V4(a) => (Family::V4, u128::from(u32::from(a))),
        IpAddr::V6(a) => (Family::V6, u128::from(a)),
    }
}

/// Parses a host, prefix or (IPv4 only) range of `family` and returns its canonical text and span.
///
/// The canonical text follows the address-list rules (ROUTEROS-REST.md section 4): IPv4 hosts bare,
/// prefixes with host bits cleared, IPv6 compressed lower-case with `/128` on a host. Whether a
/// filter rule prints an IPv6 host with `/128` as the address list does is not captured [likely].
pub fn address(family: Family, text: &str) -> Option<(String, AddrRange)> {
    match family {
        Family::V4 => {
            if let Some((a, b)) = text.split_once('-') {
                let (a, b): (Ipv4Addr, Ipv4Addr) = (a.parse().ok()?, b.parse().ok()?);
                let (lo, hi) = (u32::from(a), u32::from(b));
                if lo > hi {
                    return None;
                }
                let text = if lo == hi {
                    a.to_string()
                } else {
                    format!("{a}-{b}")
                };
                return Some((
                    text,
                    AddrRange {
                        lo: lo.into(),
                        hi: hi.into(),
                    },
                ));
            }
            let (addr, len) = match text.split_once('/') {
                Some((a, l)) => (a, prefix_len(l, 32)?),
                None => (text, 32),
            };
            let net = Ipv4Net::new(addr.parse().ok()?, len).ok()?.trunc();
            let span = AddrRange {
                lo: u32::from(net.network()).into(),
                hi: u32::from(net.broadcast()).into(),
            };
            let text = if len == 32 {
                net.addr().to_string()
            } else {
                net.to_string()
            };
            Some((text, span))
        }
        Family::V6 => {
            let (addr, len) = match text.split_once('/') {
                Some((a, l)) => (a, prefix_len(l, 128)?),
                None => (text, 128),
            };
            let addr: Ipv6Addr = addr.parse().ok()?;
            let net = Ipv6Net::new(addr, len).ok()?.trunc();
            let span = AddrRange {
                lo: u128::from(net.network()),
                hi: u128::from(net.broadcast()),
            };
            Some((net.to_string(), span))
        }
    }
}

fn prefix_len(text: &str, max: u8) -> Option<u8> {
    if text.is_empty() || text.len() > 3 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<u8>().ok().filter(|l| *l <= max)
}

/// A port list: `22`, `80,443`, `1000-2000`, `22,8000-8080`, each 0..=65535.
pub fn ports(text: &str) -> Option<Vec<(u16, u16)>> {
    let mut out = Vec::new();
    for item in text.split(',') {
        let (lo, hi) = match item.split_once('-') {
            Some((a, b)) => (port(a)?, port(b)?),
            None => {
                let p = port(item)?;
                (p, p)
            }
        };
        if lo > hi {
            return None;
        }
        out.push((lo, hi));
    }
    Some(out)
}

fn port(text: &str) -> Option<u16> {
    if text.is_empty() || text.len() > 5 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A `connection-state` list (`established,related`), each word from the router's set.
pub fn connection_states(text: &str) -> Option<Vec<&str>> {
    let words: Vec<&str> = text.split(',').collect();
    words
        .iter()
        .all(|w| schema::CONNECTION_STATES.contains(w))
        .then_some(words)
}

/// A name such as an interface, an interface list, an address list or a chain: RouterOS takes any
/// printable text; the simulator refuses only the empty name, control characters and text longer
/// than a router would keep (bounded input).
pub fn name(text: &str) -> bool {
    !text.is_empty() && text.len() <= 255 && !text.chars().any(char::is_control)
}

/// What the table needs to know about the router's other menus when it checks a value.
#[derive(Debug, Clone, Default)]
pub struct Known {
    /// Interface names; `None` accepts any name (the simulator has no `/interface` menu yet).
    pub interfaces: Option<Vec<String>>,
}

/// Checks one property value and returns the text to store, or `None` to clear the property (an
/// empty value on a matcher or parameter removes it, as `unset` does).
pub fn normalise(
    schema: &Schema,
    known: &Known,
    key: &'static str,
    text: &str,
) -> Result<Option<String>, Refusal> {
    if text.len() > 4096 {
        return Err(invalid(key));
    }
    match key {
        "chain" | "jump-target" => {
            if !name(text) {
                return Err(invalid(key));
            }
            Ok(Some(text.to_owned()))
        }
        "action" => {
            if schema.actions().contains(&text) {
                Ok(Some(text.to_owned()))
            } else {
                Err(no_match(key))
            }
        }
        "reject-with" if text.is_empty() => Ok(None),
        "reject-with" => {
            if schema.reject_with().contains(&text) {
                Ok(Some(text.to_owned()))
            } else {
                Err(no_match(key))
            }
        }
        "disabled" | "log" => Ok(Some(boolean(key, text)?.to_string())),
        // `log-prefix` and `comment` keep the empty string: the router prints `"log-prefix":""`
        // when it was written so (fidelity notes, section G).
        "log-prefix" => {
            if text.chars().count() > schema::LOG_PREFIX_MAX {
                return Err(invalid(key));
            }
            Ok(Some(text.to_owned()))
        }
        "comment" => Ok(Some(text.to_owned())),
        _ if text.is_empty() => Ok(None),
        "src-address" | "dst-address" => {
            let (neg, rest) = split_negation(text);
            let (canon, _) = address(schema.family, rest).ok_or_else(|| invalid(key))?;
            Ok(Some(negated(neg, &canon)))
        }
        "src-address-list" | "dst-address-list" | "in-interface-list" | "out-interface-list" => {
            let (_, rest) = split_negation(text);
            if !name(rest) {
                return Err(invalid(key));
            }
            Ok(Some(text.to_owned()))
        }
        "in-interface" | "out-interface" => {
            let (_, rest) = split_negation(text);
            if !name(rest) {
                return Err(invalid(key));
            }
            if let Some(names) = &known.interfaces
                && !names.iter().any(|n| n == rest)
            {
                return Err(no_match(key));
            }
            Ok(Some(text.to_owned()))
        }
        "protocol" => {
            let (_, rest) = split_negation(text);
            schema::protocol_number(rest).ok_or_else(|| invalid(key))?;
            Ok(Some(text.to_owned()))
        }
        "src-port" | "dst-port" | "port" => {
            let (_, rest) = split_negation(text);
            ports(rest).ok_or_else(|| invalid(key))?;
            Ok(Some(text.to_owned()))
        }
        "connection-state" => {
            let (_, rest) = split_negation(text);
            connection_states(rest).ok_or_else(|| no_match(key))?;
            Ok(Some(text.to_owned()))
        }
        "address-list-timeout" => {
            if text == "none-dynamic" || text == "none-static" || duration_ok(text) {
                Ok(Some(text.to_owned()))
            } else {
                Err(invalid(key))
            }
        }
        // Every other argument the schema lists is stored as written: the simulator does not
        // evaluate it, and the verdict says so rather than ignoring it.
        _ => {
            if text.chars().any(char::is_control) {
                return Err(invalid(key));
            }
            Ok(Some(text.to_owned()))
        }
    }
}

fn negated(neg: bool, text: &str) -> String {
    if neg {
        format!("!{text}")
    } else {
        text.to_owned()
    }
}

/// A RouterOS duration in unit form (`1d2h`, `30m`, `45`), or `HH:MM:SS`, up to the
/// `35w3d13h13m56s` the schema prints as the maximum: 2^31-1 hundredths of a second, so 21474836 s
/// (the same bound as an address-list entry's `timeout`).
pub fn duration_ok(text: &str) -> bool {
    duration_secs(text).is_some_and(|s| s <= 21_474_836)
}

/// Seconds in a RouterOS duration (`1w2d3h4m5s`, a bare number of seconds, or `HH:MM:SS`).
pub fn duration_secs(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 32 {
        return None;
    }
    if text.contains(':') {
        let mut total = 0u64;
        let parts: Vec<&str> = text.split(':').collect();
        if parts.len() != 3 {
            return None;
        }
        for p in parts {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            total = total.checked_mul(60)?.checked_add(p.parse().ok()?)?;
        }
        return Some(total);
    }
    let mut total = 0u64;
    let mut number = String::new();
    let mut rest = text;
    while !rest.is_empty() {
        let c = rest.as_bytes()[0];
        if c.is_ascii_digit() {
            number.push(c as char);
            rest = &rest[1..];
            continue;
        }
        let (unit, len) = if rest.starts_with("ms") {
            (0, 2)
        } else {
            let unit = match c {
                b'w' => 604_800,
                b'd' => 86_400,
                b'h' => 3_600,
                b'm' => 60,
                b's' => 1,
                _ => return None,
            };
            (unit, 1)
        };
        if number.is_empty() {
            return None;
        }
        let n: u64 = number.parse().ok()?;
        total = total.checked_add(n.checked_mul(unit)?)?;
        number.clear();
        rest = &rest[len..];
    }
    if !number.is_empty() {
        total = total.checked_add(number.parse().ok()?)?;
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(family: Family, key: &'static str, input: &str, expected: Result<Option<&str>, &str>) {
        let schema = Schema::latest(family);
        let known = Known {
            interfaces: Some(vec!["ether1".into(), "lo".into()]),
        };
        let got = normalise(&schema, &known, key, input);
        let got = got
            .as_ref()
            .map(|o| o.as_deref())
            .map_err(|e| e.detail().unwrap_or_default());
        assert_eq!(got, expected, "{family:?} {key}={input:?}");
    }

    #[test]
    fn addresses() {
        use Family::*;
        check(V4, "src-address", "10.0.0.1", Ok(Some("10.0.0.1")));
        check(V4, "src-address", "10.0.0.1/32", Ok(Some("10.0.0.1")));
        check(V4, "src-address", "10.0.0.5/24", Ok(Some("10.0.0.0/24")));
        check(V4, "dst-address", "!10.0.0.0/8", Ok(Some("!10.0.0.0/8")));
        check(
            V4,
            "src-address",
            "10.0.0.1-10.0.0.9",
            Ok(Some("10.0.0.1-10.0.0.9")),
        );
        check(
            V4,
            "src-address",
            "10.0.0.9-10.0.0.1",
            Err("invalid value for argument src-address"),
        );
        check(
            V4,
            "src-address",
            "10.0.0.1/33",
            Err("invalid value for argument src-address"),
        );
        check(
            V4,
            "src-address",
            "example.com",
            Err("invalid value for argument src-address"),
        );
        check(
            V4,
            "src-address",
            "2001:db8::1",
            Err("invalid value for argument src-address"),
        );
        check(
            V4,
            "src-address",
            "!",
            Err("invalid value for argument src-address"),
        );
        check(V4, "src-address", "", Ok(None));
        check(
            V6,
            "src-address",
            "2001:DB8::1",
            Ok(Some("2001:db8::1/128")),
        );
        check(
            V6,
            "src-address",
            "!2001:db8::1/32",
            Ok(Some("!2001:db8::/32")),
        );
        check(
            V6,
            "src-address",
            "10.0.0.1",
            Err("invalid value for argument src-address"),
        );
        check(
            V6,
            "src-address",
            "2001:db8::1-2001:db8::2",
            Err("invalid value for argument src-address"),
        );
    }

    #[test]
    fn words_and_lists() {
        use Family::*;
        check(V4, "action", "tarpit", Ok(Some("tarpit")));
        check(
            V6,
            "action",
            "tarpit",
            Err("input does not match any value of action"),
        );
        check(
            V4,
            "action",
            "ACCEPT",
            Err("input does not match any value of action"),
        );
        check(V4, "reject-with", "tcp-reset", Ok(Some("tcp-reset")));
        check(
            V6,
            "reject-with",
            "icmp-no-route",
            Ok(Some("icmp-no-route")),
        );
        check(
            V4,
            "reject-with",
            "icmp-no-route",
            Err("input does not match any value of reject-with"),
        );
        check(V4, "src-address-list", "!trusted", Ok(Some("!trusted")));
        check(
            V4,
            "src-address-list",
            "!",
            Err("invalid value for argument src-address-list"),
        );
        check(V4, "in-interface", "!ether1", Ok(Some("!ether1")));
        check(
            V4,
            "in-interface",
            "ether9",
            Err("input does not match any value of in-interface"),
        );
        check(V4, "in-interface-list", "!LAN", Ok(Some("!LAN")));
        check(
            V4,
            "connection-state",
            "established,related",
            Ok(Some("established,related")),
        );
        check(V4, "connection-state", "!invalid", Ok(Some("!invalid")));
        check(
            V4,
            "connection-state",
            "new,bogus",
            Err("input does not match any value of connection-state"),
        );
        check(V4, "disabled", "yes", Ok(Some("true")));
        check(V4, "log", "no", Ok(Some("false")));
        check(V4, "log", "maybe", Err("invalid value for argument log"));
        check(V4, "log-prefix", "", Ok(Some("")));
        check(V4, "log-prefix", &"x".repeat(31), Ok(Some(&"x".repeat(31))));
        check(
            V4,
            "log-prefix",
            &"x".repeat(32),
            Err("invalid value for argument log-prefix"),
        );
        check(V4, "chain", "", Err("invalid value for argument chain"));
        check(V4, "chain", "my-chain", Ok(Some("my-chain")));
        check(V4, "address-list-timeout", "1d", Ok(Some("1d")));
        check(
            V4,
            "address-list-timeout",
            "none-static",
            Ok(Some("none-static")),
        );
        check(
            V4,
            "address-list-timeout",
            "36w",
            Err("invalid value for argument address-list-timeout"),
        );
        check(V4, "tcp-flags", "syn,!ack", Ok(Some("syn,!ack")));
    }

    #[test]
    fn protocols_and_ports() {
        use Family::*;
        check(V4, "protocol", "tcp", Ok(Some("tcp")));
        check(V4, "protocol", "!udp", Ok(Some("!udp")));
        check(V4, "protocol", "139", Ok(Some("139")));
        check(
            V4,
            "protocol",
            "300",
            Err("invalid value for argument protocol"),
        );
        check(
            V4,
            "protocol",
            "bogus",
            Err("invalid value for argument protocol"),
        );
        check(V4, "dst-port", "22", Ok(Some("22")));
        check(
            V4,
            "dst-port",
            "!80,443,8000-8080",
            Ok(Some("!80,443,8000-8080")),
        );
        check(V4, "dst-port", "65535", Ok(Some("65535")));
        check(
            V4,
            "dst-port",
            "65536",
            Err("invalid value for argument dst-port"),
        );
        check(
            V4,
            "dst-port",
            "90-80",
            Err("invalid value for argument dst-port"),
        );
        check(
            V4,
            "dst-port",
            "80,",
            Err("invalid value for argument dst-port"),
        );
        check(
            V4,
            "src-port",
            "http",
            Err("invalid value for argument src-port"),
        );
    }

    #[test]
    fn durations() {
        assert_eq!(duration_secs("1d2h"), Some(93_600));
        assert_eq!(duration_secs("45"), Some(45));
        assert_eq!(duration_secs("2d11h12"), Some(2 * 86_400 + 11 * 3_600 + 12));
        assert_eq!(duration_secs("00:05:00"), Some(300));
        assert_eq!(duration_secs("35w3d13h13m56s"), Some(21_474_836));
        assert!(duration_ok("35w3d13h13m56s"));
        assert!(!duration_ok("35w3d13h13m57s"));
        assert_eq!(duration_secs("500ms"), Some(0));
        assert_eq!(duration_secs("1x"), None);
        assert_eq!(duration_secs("h"), None);
        assert_eq!(duration_secs(""), None);
    }
}
