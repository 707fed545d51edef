//! The `address` of an address-list entry, normalised the way RouterOS stores and shows it.
//!
//! RouterOS keeps one canonical form per address so that `10.0.0.1` and `10.0.0.1/32` are the same
//! entry (and so a duplicate). The rules, from ROUTEROS-REST.md section 4 and `fixtures/README.md`:
//! - IPv4 hosts are shown bare (`/32` dropped); a prefix stays a prefix with its host bits cleared;
//!   a range `a-b` that covers exactly one prefix becomes that prefix, other ranges stay ranges;
//! - IPv6 hosts are shown with `/128`, in canonical lower-case compressed form; no ranges;
//! - anything else made of DNS-name characters is kept as written, as a name to resolve (the router
//!   resolves it; the simulator does not). This includes strings that look like broken addresses,
//!   such as `10.0.0.300` or `203.0.113.1-254`: a real router keeps them as names too;
//! - everything else is `failure: <text> is not a valid dns name` (an IPv6 range, a bad prefix length).
//!
//! Sources: MikroTik manual (firewall address-lists), captures in `fixtures/README.md`.

use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::{Ipv4Net, Ipv6Net};

/// Which address-list menu an entry belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// `/ip/firewall/address-list`
    V4,
    /// `/ipv6/firewall/address-list`
    V6,
}

/// The canonical text of `input` for a list of `family`, or `None` when RouterOS would refuse it.
pub fn normalise(family: Family, input: &str) -> Option<String> {
    let text = input.trim();
    if text.is_empty() {
        return None;
    }
    let literal = match family {
        Family::V4 => normalise_v4(text),
        Family::V6 => normalise_v6(text),
    };
    literal.or_else(|| dns_name(text))
}

/// An IPv4 host, prefix or range; `None` when `text` is none of these.
fn normalise_v4(text: &str) -> Option<String> {
    if let Some((a, b)) = text.split_once('-') {
        let a: Ipv4Addr = a.parse().ok()?;
        let b: Ipv4Addr = b.parse().ok()?;
        return v4_range(a, b);
    }
    if let Some((addr, len)) = text.split_once('/') {
        let addr: Ipv4Addr = addr.parse().ok()?;
        let len: u8 = len.parse().ok()?;
        let net = Ipv4Net::new(addr, len).ok()?.trunc();
        return Some(if len == 32 {
            net.addr().to_string()
        } else {
            net.to_string()
        });
    }
    text.parse::<Ipv4Addr>().ok().map(|a| a.to_string())
}

/// A range that is exactly one prefix is shown as that prefix (or host); others stay `a-b`.
fn v4_range(a: Ipv4Addr, b: Ipv4Addr) -> Option<String> {
    let (lo, hi) = (u32::from(a), u32::from(b));
    if lo > hi {
        return None;
    }
    let size = u64::from(hi - lo) + 1;
    if size.is_power_of_two() && u64::from(lo) % size == 0 {
        let len = 32 - size.trailing_zeros() as u8;
        return Some(if len == 32 {
            a.to_string()
        } else {
            format!("{a}/{len}")
        });
    }
    Some(format!("{a}-{b}"))
}

/// An IPv6 host or prefix; `None` when `text` is neither.
fn normalise_v6(text: &str) -> Option<String> {
    let (addr, len) = match text.split_once('/') {
        Some((a, l)) => (a, l.parse::<u8>().ok()?),
        None => (text, 128),
    };
    let addr: Ipv6Addr = addr.parse().ok()?;
    Some(Ipv6Net::new(addr, len).ok()?.trunc().to_string())
}

fn looks_numeric(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

/// A host name as RouterOS accepts one for resolution: dot-separated labels of letters, digits,
/// `-` and `_`, at most 253 characters.
fn dns_name(text: &str) -> Option<String> {
    let name = text.strip_suffix('.').unwrap_or(text);
    let ok = name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    ok.then(|| text.to_owned())
}

/// Whether a stored canonical address is a literal IP address or prefix (as opposed to a DNS name).
pub fn is_literal(canonical: &str) -> bool {
    canonical.contains(':') || looks_numeric(canonical.split(['/', '-']).next().unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(family: Family, input: &str, expected: Option<&str>) {
        assert_eq!(
            normalise(family, input).as_deref(),
            expected,
            "{family:?} {input:?}"
        );
    }

    #[test]
    fn ipv4() {
        use Family::V4;
        check(V4, "10.0.0.1", Some("10.0.0.1"));
        check(V4, "10.0.0.1/32", Some("10.0.0.1"));
        check(V4, " 10.0.0.1 ", Some("10.0.0.1"));
        check(V4, "10.0.0.0/24", Some("10.0.0.0/24"));
        check(V4, "10.0.0.5/24", Some("10.0.0.0/24"));
        check(V4, "0.0.0.0/0", Some("0.0.0.0/0"));
        check(V4, "10.0.0.0-10.0.0.255", Some("10.0.0.0/24"));
        check(V4, "10.0.0.7-10.0.0.7", Some("10.0.0.7"));
        check(V4, "10.0.0.1-10.0.0.5", Some("10.0.0.1-10.0.0.5"));
        // Not addresses, but DNS-name characters: kept as names, as a real router does.
        check(V4, "10.0.0.5-10.0.0.1", Some("10.0.0.5-10.0.0.1"));
        check(V4, "10.0.0.256", Some("10.0.0.256"));
        check(V4, "203.0.113.1-254", Some("203.0.113.1-254"));
        check(V4, "example.com", Some("example.com"));
        check(V4, "my-host.example.com", Some("my-host.example.com"));
        // Neither addresses nor names.
        check(V4, "10.0.0.1/33", None);
        check(V4, "10.0.0.1/x", None);
        check(V4, "2001:db8::1", None);
        check(V4, "", None);
        check(V4, "bad name", None);
        check(V4, "a..b", None);
    }

    #[test]
    fn ipv6() {
        use Family::V6;
        check(V6, "2001:DB8::1", Some("2001:db8::1/128"));
        check(V6, "2001:db8:0:0:0:0:0:1/128", Some("2001:db8::1/128"));
        check(V6, "2001:db8::/32", Some("2001:db8::/32"));
        check(V6, "2001:db8::1/64", Some("2001:db8::/64"));
        check(V6, "::", Some("::/128"));
        check(V6, "2001:db8::1-2001:db8::2", None);
        check(V6, "10.0.0.0/8", None);
        check(V6, "2001:db8::g", None);
        check(V6, "2001:db8::/129", None);
        check(V6, "example.com", Some("example.com"));
    }

    #[test]
    fn literal_or_name() {
        assert!(is_literal("10.0.0.1"));
        assert!(is_literal("10.0.0.0/24"));
        assert!(is_literal("10.0.0.1-10.0.0.5"));
        assert!(is_literal("2001:db8::/32"));
        assert!(!is_literal("example.com"));
    }
}
