//! Addresses the agent grants access to, normalised exactly the way RouterOS stores them.
//!
//! The router keeps one canonical text per entry and the agent compares its grants with the router's
//! rows by that text, so the two must agree byte for byte: an IPv4 host is shown bare (`/32`
//! dropped), a prefix keeps its length with the host bits cleared (`10.0.0.5/24` → `10.0.0.0/24`),
//! an IPv6 address is lower-case and zero-compressed and a host carries `/128`. Ranges and DNS
//! names, which RouterOS also accepts, are refused here (208104) before anything is sent: a grant is
//! for a host or a prefix.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use ipnet::{Ipv4Net, Ipv6Net};

use crate::error::{Code, Error};

/// Which address-list menu an address belongs to.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// `/ip/firewall/address-list`
    V4,
    /// `/ipv6/firewall/address-list`
    V6,
}

impl Family {
    /// The REST path of the family's address-list menu, without the `/rest` prefix.
    pub fn menu(self) -> &'static str {
        match self {
            Family::V4 => "/ip/firewall/address-list",
            Family::V6 => "/ipv6/firewall/address-list",
        }
    }
}

/// A normalised IPv4 or IPv6 host or prefix.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address {
    family: Family,
    text: String,
}

impl Address {
    /// Parses and normalises `input`; anything that is not a host or prefix is 208104.
    pub fn parse(input: &str) -> Result<Address, Error> {
        normalise(input.trim()).ok_or_else(|| {
            Error::new(
                Code::AddressRejected,
                format!(
                    "`{}` is not an IPv4 or IPv6 host or prefix",
                    input.escape_debug()
                ),
            )
        })
    }

    /// The family, which picks the list menu.
    pub fn family(&self) -> Family {
        self.family
    }

    /// The canonical text, as the router shows it.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The prefix length: 32 for an IPv4 host (shown without `/32`), 128 for an IPv6 host.
    pub fn prefix_len(&self) -> u8 {
        match self.text.rsplit_once('/') {
            Some((_, len)) => len.parse().unwrap_or(0),
            None => match self.family {
                Family::V4 => 32,
                Family::V6 => 128,
            },
        }
    }
}

fn normalise(text: &str) -> Option<Address> {
    let (addr, len) = match text.split_once('/') {
        Some((a, l)) => {
            // RouterOS reads only plain decimal lengths; `+8` or ` 8` are not prefixes.
            if l.is_empty() || !l.bytes().all(|b| b.is_ascii_digit()) || l.len() > 3 {
                return None;
            }
            (a, Some(l.parse::<u8>().ok()?))
        }
        None => (text, None),
    };
    // `Ipv6Addr` would accept an embedded IPv4 zone-less form; both parsers are strict otherwise.
    match IpAddr::from_str(addr).ok()? {
        IpAddr::V4(a) => v4(a, len.unwrap_or(32)),
        IpAddr::V6(a) => v6(a, len.unwrap_or(128)),
    }
}

fn v4(addr: Ipv4Addr, len: u8) -> Option<Address> {
    let net = Ipv4Net::new(addr, len).ok()?.trunc();
    let text = if len == 32 {
        net.addr().to_string()
    } else {
        net.to_string()
    };
    Some(Address {
        family: Family::V4,
        text,
    })
}

fn v6(addr: Ipv6Addr, len: u8) -> Option<Address> {
    let net = Ipv6Net::new(addr, len).ok()?.trunc();
    Some(Address {
        family: Family::V6,
        text: net.to_string(),
    })
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.text)
    }
}

impl FromStr for Address {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Address::parse(s)
    }
}

impl serde::Serialize for Address {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> serde::Deserialize<'de> for Address {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Address::parse(&text).map_err(|e| serde::de::Error::custom(e.context))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Option<(Family, &str)>) {
        let got = Address::parse(input)
            .ok()
            .map(|a| (a.family(), a.as_str().to_owned()));
        assert_eq!(got, expected.map(|(f, t)| (f, t.to_owned())), "{input:?}");
    }

    #[test]
    fn ipv4() {
        use Family::V4;
        check("192.0.2.10", Some((V4, "192.0.2.10")));
        check("192.0.2.10/32", Some((V4, "192.0.2.10")));
        check(" 192.0.2.10 ", Some((V4, "192.0.2.10")));
        check("192.0.2.0/24", Some((V4, "192.0.2.0/24")));
        check("192.0.2.77/24", Some((V4, "192.0.2.0/24")));
        check("0.0.0.0/0", Some((V4, "0.0.0.0/0")));
        check("10.1.2.3/31", Some((V4, "10.1.2.2/31")));
    }

    #[test]
    fn ipv6() {
        use Family::V6;
        check("2001:DB8::1", Some((V6, "2001:db8::1/128")));
        check(
            "2001:0db8:0000:0000:0000:0000:0000:0001",
            Some((V6, "2001:db8::1/128")),
        );
        check("2001:db8::1/128", Some((V6, "2001:db8::1/128")));
        check("2001:db8::1/64", Some((V6, "2001:db8::/64")));
        check("::/0", Some((V6, "::/0")));
        check("::1", Some((V6, "::1/128")));
        check("::ffff:192.0.2.1", Some((V6, "::ffff:192.0.2.1/128")));
    }

    #[test]
    fn refused_before_sending() {
        for bad in [
            "",
            " ",
            "10.0.0.300",
            "10.0.0",
            "10.0.0.1/33",
            "10.0.0.1/",
            "10.0.0.1/+8",
            "10.0.0.1/ 8",
            "10.0.0.1-10.0.0.9",
            "10.0.0.1/8/8",
            "2001:db8::1/129",
            "2001:db8::1-2001:db8::2",
            "example.com",
            "fe80::1%eth0",
            "010.0.0.1",
            "10.0.0.1 /32",
        ] {
            check(bad, None);
        }
        let e = Address::parse("example.com").unwrap_err();
        assert_eq!(e.code, Code::AddressRejected);
    }

    #[test]
    fn serde_round_trip_normalises() {
        let a: Address = serde_json::from_str("\"192.0.2.1/32\"").unwrap();
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"192.0.2.1\"");
        assert!(serde_json::from_str::<Address>("\"nope\"").is_err());
    }
}
