//! The RouterOS version the simulator follows, and the reply shapes that depend on it.
//!
//! Clients meet a handful of version differences (ROUTEROS-REST.md section 7). Those that change a
//! menu's fields or arguments are declared with the menu (`model/menus/*.rs`, `.since(7, 16)`); the
//! others are a method here, so that no other code compares version numbers itself:
//!
//! | shape | versions | evidence |
//! |---|---|---|
//! | `creation-time` as `mmm/dd/yyyy HH:MM:SS` | before 7.10 | captures (ROUTEROS-REST.md §3); not in any schema |
//! | `creation-time` as `YYYY-MM-DD HH:MM:SS` | 7.10 and later | the same |
//! | singleton menus (`/system/resource`, `/system/identity`) as a one-element array | before 7.19 | the 7.1beta4 manual example; no capture between it and 7.19.4 [unknown boundary] |
//! | singleton menus as a bare object | 7.19 and later | 7.19.4, 7.22.1 and 7.23.7 captures |
//! | `.proplist` leaves `.id` out unless asked for | before 7.2 (7.1-era) | the 7.1-era manual example [likely boundary] |
//! | REST on the plain `www` service | 7.9 and later | MikroTik manual, REST API |
//! | firewall filter rules take `tos` and no longer `hw-offload` | 7.21 and later | `hw-offload` last in 7.20.8, `tos` first in 7.21 (restraml dumps) |
//! | the static `reverse-proxy` service row | 7.22 and later | `/ip/reverse-proxy` first in 7.22rc4; the row's name in the 7.22.3, not the 7.21.5, deep dump |
//!
//! Declared with their menus, each at the first version whose schema shows it (tikoci/restraml
//! `docs/<version>/inspect.json`, `/console/inspect` of a real CHR for every published 7.9 to 7.24
//! build; `fixtures/routeros/menus.json` holds twelve of them, `fixtures/routeros/boundaries.json`
//! the last build before and the first after every change, which
//! `model::menus::tests::declared_switches_sit_at_the_first_build_that_shows_them` holds each
//! declaration to):
//!
//! | switch | first version | evidence |
//! |---|---|---|
//! | `/user` `inactivity-policy`, `inactivity-timeout` (fields and `add`/`set` arguments) | 7.16 | absent in 7.15.3, present in 7.16 |
//! | `/ip/service` `max-sessions` (field and `set` argument) | 7.16 | absent in 7.15.3, present in 7.16 |
//! | `/ip/service` `unset` | gone from 7.17 | last in 7.16.2 |
//! | `/ip/service` rows with `dynamic`, `proto`, and the per-connection dynamic rows | 7.19 | row keys are not in the schema; 7.19 changelog and the 7.19.1 capture (`fixtures/routeros/ip-service-www-ssl-7.19.1.json`) |
//! | `/system/identity` `reset` | 7.21 | absent in 7.20.8, present in 7.21 |
//! | `/ip/service` static `reverse-proxy` row | 7.22 | its name first in the 7.22.3 `numbers` completion, not in 7.21.5 |
//! | `/ip/service` allowed addresses printed as `available-from`; `set available-from` | 7.24 | first in 7.24beta1; `address` stays an argument in every 7.24 build |
//! | `/file set name` | 7.13 | absent in 7.12.2, present in 7.13.5 |
//! | `/ipv6/firewall/filter print chain` | 7.14 | absent in 7.13.5, present in 7.14.3 |
//! | `/tool/fetch idle-timeout`, `/system/script run use-script-permissions`, `/console/inspect proplist` | 7.15 | absent in 7.14.3, present in 7.15 |
//! | `/import dry-run` | 7.16 | absent in 7.15.3, present in 7.16 |
//! | `/file add copy-from` | gone from 7.18 | last in 7.17.1 |
//! | `/tool/fetch http-max-redirect-count` | 7.18 | absent in 7.17.1, present in 7.18 |
//! | `/tool/fetch proplist` | 7.19 | absent in 7.18.2, present in 7.19 |
//! | `/file copy` | 7.23 | absent in 7.22.3, present in 7.23beta2 |
//!
//! A `.proplist` in a `POST .../print` body returns only the keys listed, without `.id` unless
//! asked for, on every version (MikroTik manual, REST API page).

use std::fmt;
use std::str::FromStr;

/// A RouterOS version such as `7.23.7`, `7.19.4` or `7.24rc1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// Major, minor and patch numbers (patch 0 when absent).
    pub numbers: (u32, u32, u32),
    /// A pre-release tag such as `rc1` or `beta2`, empty for a release.
    pub pre: String,
    /// The release channel shown after the version in `/system/resource`.
    pub channel: String,
}

impl Version {
    fn at_least(&self, major: u32, minor: u32) -> bool {
        (self.numbers.0, self.numbers.1) >= (major, minor)
    }

    /// `creation-time` in the `YYYY-MM-DD HH:MM:SS` form (7.10 and later).
    pub fn iso_timestamps(&self) -> bool {
        self.at_least(7, 10)
    }

    /// Singleton menus answer with a bare object (7.19 and later) rather than a one-element array.
    pub fn singleton_as_object(&self) -> bool {
        self.at_least(7, 19)
    }

    /// `.proplist` always brings `.id` back (after the 7.1 era).
    pub fn proplist_keeps_id(&self) -> bool {
        self.at_least(7, 2)
    }

    /// The plain `www` service serves `/rest` (7.9 and later).
    pub fn rest_on_www(&self) -> bool {
        self.at_least(7, 9)
    }

    /// Firewall filter rules (`/ip/firewall/filter`, `/ipv6/firewall/filter`) take `tos`, and the
    /// IPv4 filter no longer takes `hw-offload` (7.21 and later; the schema dumps of 7.20.8 and
    /// 7.21.5 in `../shared/routeros-schema/`, summarised in `fixtures/routeros/menus.json`). The
    /// menus' declarations carry the same switch as `.since(7, 21)` / `.until(7, 21)`; the filter
    /// table asks here when it checks a property.
    pub fn filter_has_tos(&self) -> bool {
        self.at_least(7, 21)
    }

    /// `/ip/service` lists a static `reverse-proxy` service (7.22 and later): its name is first in
    /// the 7.22.3 schema's `numbers` completion, not in 7.21.5's (restraml
    /// `docs/*/deep-inspect.json`).
    pub fn reverse_proxy_service(&self) -> bool {
        self.at_least(7, 22)
    }

    /// The value of `version` in `/system/resource`, such as `7.23.7 (long-term)`.
    pub fn resource_string(&self) -> String {
        format!("{self} ({})", self.channel)
    }
}

/// The versions a version matrix runs (`routeros-conformance --routeros-version all`): one in
/// every stretch between two of the simulator's switches, so that every behaviour that differs by
/// version is seen once. The twelve versions whose schema the simulator is held to
/// (`fixtures/routeros/menus.json`), with the default long-term release in place of 7.23.3, and 7.1
/// for the shapes before 7.2 and 7.9. A version not listed behaves as the listed one of its stretch.
pub const MATRIX: &[&str] = &[
    "7.1", "7.9.2", "7.10.2", "7.13.5", "7.15.3", "7.16.2", "7.18.2", "7.19.4", "7.20.8", "7.21.5",
    "7.22.3", "7.23.7", "7.24",
];

impl Default for Version {
    /// The current long-term release.
    fn default() -> Self {
        "7.23.7".parse().expect("the default version parses")
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (a, b, c) = self.numbers;
        if c == 0 {
            write!(f, "{a}.{b}{}", self.pre)
        } else {
            write!(f, "{a}.{b}.{c}{}", self.pre)
        }
    }
}

/// Why a version string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a RouterOS version: expected a form like 7.23.7, 7.19 or 7.24rc1")]
pub struct BadVersion(String);

impl FromStr for Version {
    type Err = BadVersion;

    /// Parses `7.23.7`, `7.19`, `7.24rc1`, `7.24beta2`, optionally followed by ` (channel)`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadVersion(s.to_owned());
        let (core, channel) = match s.trim().split_once(' ') {
            Some((core, rest)) => {
                let ch = rest
                    .trim()
                    .strip_prefix('(')
                    .and_then(|r| r.strip_suffix(')'))
                    .ok_or_else(bad)?;
                (core, Some(ch.to_owned()))
            }
            None => (s.trim(), None),
        };
        let split = core
            .find(|c: char| c.is_ascii_alphabetic())
            .unwrap_or(core.len());
        let (nums, pre) = core.split_at(split);
        let parts: Vec<&str> = nums.split('.').collect();
        if !(2..=3).contains(&parts.len())
            || parts
                .iter()
                .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(bad());
        }
        let n = |i: usize| {
            parts
                .get(i)
                .map_or(Ok(0), |p| p.parse::<u32>())
                .map_err(|_| bad())
        };
        if !(pre.is_empty() || pre.starts_with("rc") || pre.starts_with("beta")) {
            return Err(bad());
        }
        let numbers = (n(0)?, n(1)?, n(2)?);
        let channel = channel.unwrap_or_else(|| {
            if !pre.is_empty() {
                "testing".to_owned()
            } else if numbers == (7, 23, 7) {
                "long-term".to_owned()
            } else {
                "stable".to_owned()
            }
        });
        Ok(Self {
            numbers,
            pre: pre.to_owned(),
            channel,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every matrix version parses, they are in order, the default is one of them, and every
    /// switch of this module changes somewhere between two neighbours.
    #[test]
    fn the_matrix_spans_every_switch() {
        let versions: Vec<Version> = MATRIX.iter().map(|v| v.parse().unwrap()).collect();
        assert!(versions.windows(2).all(|w| w[0].numbers < w[1].numbers));
        assert!(versions.contains(&Version::default()));
        let switches: [fn(&Version) -> bool; 6] = [
            Version::iso_timestamps,
            Version::reverse_proxy_service,
            Version::singleton_as_object,
            Version::proplist_keeps_id,
            Version::rest_on_www,
            Version::filter_has_tos,
        ];
        for switch in switches {
            assert!(!switch(&versions[0]) && switch(versions.last().unwrap()));
        }
    }

    fn v(s: &str) -> Version {
        s.parse().unwrap()
    }

    #[test]
    fn parses_and_prints() {
        assert_eq!(v("7.23.7").resource_string(), "7.23.7 (long-term)");
        assert_eq!(v("7.19.4").resource_string(), "7.19.4 (stable)");
        assert_eq!(v("7.24rc1").resource_string(), "7.24rc1 (testing)");
        assert_eq!(v("7.19.4 (long-term)").channel, "long-term");
        assert_eq!(v("7.1").to_string(), "7.1");
        for bad in ["7", "x.y", "7.1.2.3", "7.1foo", "", "7..1", "7.1 (x"] {
            assert!(bad.parse::<Version>().is_err(), "{bad}");
        }
    }

    #[test]
    fn shapes_follow_the_version() {
        assert!(!v("7.9").iso_timestamps());
        assert!(v("7.10").iso_timestamps());
        assert!(!v("7.18.2").singleton_as_object());
        assert!(v("7.19.4").singleton_as_object());
        assert!(!v("7.1").proplist_keeps_id());
        assert!(v("7.23.7").proplist_keeps_id());
        assert!(!v("7.8").rest_on_www());
        assert!(v("7.9").rest_on_www());
        assert!(!v("7.21.5").reverse_proxy_service());
        assert!(v("7.22").reverse_proxy_service());
    }
}
