//! What `/ip/firewall/filter` and `/ipv6/firewall/filter` accept: argument names, actions, and the
//! value sets the router offers, per family and version.
//!
//! Source: the real routers' `/console/inspect` dumps in `../shared/routeros-schema/` (7.9.2 to 7.24;
//! the value sets come from the 7.22.3 deep dump, the only one of these with completions), summarised
//! in the fidelity notes, section G. The argument lists are the same for `add` and `set` except
//! `copy-from` and `place-before` (add only) and `numbers` (set only). Two switches matter between
//! 7.9.2 and 7.24: `hw-offload` (IPv4 only) is gone and `tos` (both families) appears from 7.21.

use crate::{Family, Version};

/// Property arguments of the IPv4 filter in every version from 7.9.2 to 7.24, sorted.
pub const V4_ARGS: &[&str] = &[
    "action",
    "address-list",
    "address-list-timeout",
    "chain",
    "comment",
    "connection-bytes",
    "connection-limit",
    "connection-mark",
    "connection-nat-state",
    "connection-rate",
    "connection-state",
    "connection-type",
    "content",
    "disabled",
    "dscp",
    "dst-address",
    "dst-address-list",
    "dst-address-type",
    "dst-limit",
    "dst-port",
    "fragment",
    "hotspot",
    "icmp-options",
    "in-bridge-port",
    "in-bridge-port-list",
    "in-interface",
    "in-interface-list",
    "ingress-priority",
    "ipsec-policy",
    "ipv4-options",
    "jump-target",
    "layer7-protocol",
    "limit",
    "log",
    "log-prefix",
    "nth",
    "out-bridge-port",
    "out-bridge-port-list",
    "out-interface",
    "out-interface-list",
    "p2p",
    "packet-mark",
    "packet-size",
    "per-connection-classifier",
    "port",
    "priority",
    "protocol",
    "psd",
    "random",
    "realm",
    "reject-with",
    "routing-mark",
    "src-address",
    "src-address-list",
    "src-address-type",
    "src-mac-address",
    "src-port",
    "tcp-flags",
    "tcp-mss",
    "time",
    "tls-host",
    "ttl",
];

/// Property arguments of the IPv6 filter in every version from 7.9.2 to 7.24, sorted: the IPv4 set
/// without fragment, hotspot, ipv4-options, layer7-protocol, p2p, psd, realm and ttl, plus headers
/// and hop-limit.
pub const V6_ARGS: &[&str] = &[
    "action",
    "address-list",
    "address-list-timeout",
    "chain",
    "comment",
    "connection-bytes",
    "connection-limit",
    "connection-mark",
    "connection-nat-state",
    "connection-rate",
    "connection-state",
    "connection-type",
    "content",
    "disabled",
    "dscp",
    "dst-address",
    "dst-address-list",
    "dst-address-type",
    "dst-limit",
    "dst-port",
    "headers",
    "hop-limit",
    "icmp-options",
    "in-bridge-port",
    "in-bridge-port-list",
    "in-interface",
    "in-interface-list",
    "ingress-priority",
    "ipsec-policy",
    "jump-target",
    "limit",
    "log",
    "log-prefix",
    "nth",
    "out-bridge-port",
    "out-bridge-port-list",
    "out-interface",
    "out-interface-list",
    "packet-mark",
    "packet-size",
    "per-connection-classifier",
    "port",
    "priority",
    "protocol",
    "random",
    "reject-with",
    "routing-mark",
    "src-address",
    "src-address-list",
    "src-address-type",
    "src-mac-address",
    "src-port",
    "tcp-flags",
    "tcp-mss",
    "time",
    "tls-host",
];

/// `action` completions of the IPv4 filter (7.22.3 deep dump).
const V4_ACTIONS: &[&str] = &[
    "accept",
    "add-dst-to-address-list",
    "add-src-to-address-list",
    "drop",
    "fasttrack-connection",
    "jump",
    "log",
    "passthrough",
    "reject",
    "return",
    "tarpit",
];

/// `action` completions of the IPv6 filter: the IPv4 set without `tarpit`.
const V6_ACTIONS: &[&str] = &[
    "accept",
    "add-dst-to-address-list",
    "add-src-to-address-list",
    "drop",
    "fasttrack-connection",
    "jump",
    "log",
    "passthrough",
    "reject",
    "return",
];

/// `reject-with` completions of the IPv4 filter.
const V4_REJECT_WITH: &[&str] = &[
    "icmp-admin-prohibited",
    "icmp-host-prohibited",
    "icmp-host-unreachable",
    "icmp-net-prohibited",
    "icmp-network-unreachable",
    "icmp-port-unreachable",
    "icmp-protocol-unreachable",
    "tcp-reset",
];

/// `reject-with` completions of the IPv6 filter.
const V6_REJECT_WITH: &[&str] = &[
    "icmp-address-unreachable",
    "icmp-admin-prohibited",
    "icmp-err-src-routing-header",
    "icmp-headers-too-long",
    "icmp-no-route",
    "icmp-not-neighbour",
    "icmp-port-unreachable",
    "tcp-reset",
];

/// `connection-state` completions (both families).
pub const CONNECTION_STATES: &[&str] = &["established", "invalid", "new", "related", "untracked"];

/// The chains a packet enters; every other chain is a user chain reached only by `jump`.
pub const BUILT_IN_CHAINS: &[&str] = &["forward", "input", "output"];

/// `protocol` completions with their IP protocol numbers (the names are those of the 7.22.3 deep
/// dump, the numbers the IANA ones the names stand for in `/etc/protocols`).
pub const PROTOCOLS: &[(&str, u8)] = &[
    ("dccp", 33),
    ("ddp", 37),
    ("egp", 8),
    ("encap", 98),
    ("etherip", 97),
    ("ggp", 3),
    ("gre", 47),
    ("hmp", 20),
    ("icmp", 1),
    ("icmpv6", 58),
    ("idpr-cmtp", 38),
    ("igmp", 2),
    ("ipencap", 4),
    ("ipip", 94),
    ("ipsec-ah", 51),
    ("ipsec-esp", 50),
    ("ipv6-encap", 41),
    ("ipv6-frag", 44),
    ("ipv6-nonxt", 59),
    ("ipv6-opts", 60),
    ("ipv6-route", 43),
    ("iso-tp4", 29),
    ("l2tp", 115),
    ("ospf", 89),
    ("pim", 103),
    ("pup", 12),
    ("rdp", 27),
    ("rspf", 73),
    ("rsvp", 46),
    ("sctp", 132),
    ("st", 5),
    ("tcp", 6),
    ("udp", 17),
    ("udp-lite", 136),
    ("vmtp", 81),
    ("vrrp", 112),
    ("xns-idp", 22),
    ("xtp", 36),
];

/// Protocols that carry ports: a rule with `src-port`, `dst-port` or `port` must name one of them
/// (the router's refusal lists exactly these, see [`PORTS_NEED_PROTOCOL`]).
pub const PORT_PROTOCOLS: &[u8] = &[6, 17, 136, 33, 132];

/// The router's refusal of ports without a port-carrying protocol. Source: a RouterOS reply quoted
/// in danikf/tik4net issue 52 (`failure: ports can be specified if proto is tcp,udp,udp-lite,dccp,sctp`).
pub const PORTS_NEED_PROTOCOL: &str =
    "failure: ports can be specified if proto is tcp,udp,udp-lite,dccp,sctp";

/// The router's refusal of `action=jump` without `jump-target`. Source: console output on RouterOS
/// 7.21.5 quoted in jeff-nasseri/mikrotik-mcp issue 137 (same text for IPv4 and IPv6).
pub const NO_JUMP_TARGET: &str = "failure: no target chain specified";

/// The longest `log-prefix` (schema desc `string value, max length 31`, printed from 7.21; the
/// limit is applied to every version because no version is known to accept more).
pub const LOG_PREFIX_MAX: usize = 31;

/// The protocol number of a `protocol` word: a name from [`PROTOCOLS`] or a number 0..=255.
pub fn protocol_number(word: &str) -> Option<u8> {
    PROTOCOLS
        .iter()
        .find(|(name, _)| *name == word)
        .map(|(_, n)| *n)
        .or_else(|| {
            (!word.is_empty() && word.len() <= 3 && word.bytes().all(|b| b.is_ascii_digit()))
                .then(|| word.parse::<u8>().ok())
                .flatten()
        })
}

/// What one filter menu accepts, fixed by its family and the router's version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schema {
    /// IPv4 (`/ip/firewall/filter`) or IPv6 (`/ipv6/firewall/filter`).
    pub family: Family,
    /// 7.21 or later: `tos` exists and `hw-offload` does not.
    pub v7_21: bool,
}

impl Schema {
    /// The schema of `family`'s filter on a router of `version`.
    pub fn new(family: Family, version: &Version) -> Self {
        Self {
            family,
            v7_21: version.filter_has_tos(),
        }
    }

    /// The schema of `family`'s filter on the newest version the simulator knows.
    pub fn latest(family: Family) -> Self {
        Self {
            family,
            v7_21: true,
        }
    }

    /// The argument name as a static string when `add` and `set` take it as a property of a rule.
    pub fn property(&self, key: &str) -> Option<&'static str> {
        let base = match self.family {
            Family::V4 => V4_ARGS,
            Family::V6 => V6_ARGS,
        };
        if let Ok(i) = base.binary_search(&key) {
            return Some(base[i]);
        }
        match key {
            "tos" if self.v7_21 => Some("tos"),
            "hw-offload" if !self.v7_21 && self.family == Family::V4 => Some("hw-offload"),
            _ => None,
        }
    }

    /// The actions the family's filter offers.
    pub fn actions(&self) -> &'static [&'static str] {
        match self.family {
            Family::V4 => V4_ACTIONS,
            Family::V6 => V6_ACTIONS,
        }
    }

    /// The `reject-with` values the family's filter offers.
    pub fn reject_with(&self) -> &'static [&'static str] {
        match self.family {
            Family::V4 => V4_REJECT_WITH,
            Family::V6 => V6_REJECT_WITH,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argument_lists_are_sorted_for_lookup() {
        assert!(V4_ARGS.windows(2).all(|w| w[0] < w[1]));
        assert!(V6_ARGS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn properties_by_family_and_version() {
        let v4 = Schema::latest(Family::V4);
        let v6 = Schema::latest(Family::V6);
        let old: Version = "7.20.8".parse().unwrap();
        let v4_old = Schema::new(Family::V4, &old);
        let v6_old = Schema::new(Family::V6, &old);
        let check = |s: &Schema, key: &str, expected: bool| {
            assert_eq!(s.property(key).is_some(), expected, "{s:?} {key}");
        };
        check(&v4, "src-address-list", true);
        check(&v4, "ttl", true);
        check(&v6, "ttl", false);
        check(&v6, "hop-limit", true);
        check(&v4, "hop-limit", false);
        check(&v4, "tos", true);
        check(&v6, "tos", true);
        check(&v4_old, "tos", false);
        check(&v6_old, "tos", false);
        check(&v4_old, "hw-offload", true);
        check(&v4, "hw-offload", false);
        check(&v6_old, "hw-offload", false);
        // Not properties: handled by the commands themselves.
        check(&v4, "place-before", false);
        check(&v4, "copy-from", false);
        check(&v4, "numbers", false);
        check(&v4, ".id", false);
    }

    #[test]
    fn actions_per_family() {
        assert!(Schema::latest(Family::V4).actions().contains(&"tarpit"));
        assert!(!Schema::latest(Family::V6).actions().contains(&"tarpit"));
    }

    #[test]
    fn protocols() {
        assert_eq!(protocol_number("tcp"), Some(6));
        assert_eq!(protocol_number("icmpv6"), Some(58));
        assert_eq!(protocol_number("139"), Some(139));
        assert_eq!(protocol_number("0"), Some(0));
        assert_eq!(protocol_number("256"), None);
        assert_eq!(protocol_number("+6"), None);
        assert_eq!(protocol_number("TCP"), None);
        assert_eq!(protocol_number(""), None);
    }
}
