//! Deciding what to add, refresh and remove: a pure function of (grants, router rows, now).
//!
//! The router's list should hold exactly one entry per address that has a live grant, carrying the
//! agent's tag in `comment` and a RouterOS `timeout` equal to the latest remaining expiry of that
//! address's grants (so access closes by itself if the agent dies). The planner compares that wish
//! with what the router shows and returns the writes that close the gap. It never plans a write to an
//! entry the agent does not own (no tag, or a static entry): such an entry at a granted address is
//! reported as a conflict (208105) and left alone.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::address::{Address, Family};
use crate::clock::Time;
use crate::duration;

/// A user's access for one address until a wall-clock time.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Grant {
    /// The normalised address.
    pub address: Address,
    /// Who the grant is for; several users may share an address.
    pub user: String,
    /// When access ends.
    pub expires: Time,
}

/// An address-list row as the router shows it, already checked by the wire parser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Which menu the row came from.
    pub family: Family,
    /// The router's `.id`, like `*1A`.
    pub id: String,
    /// The list name.
    pub list: String,
    /// The address as the router shows it (may be a DNS name or a range on foreign rows).
    pub address: String,
    /// The comment, when set.
    pub comment: Option<String>,
    /// The remaining time, on entries created with a timeout.
    pub timeout: Option<Duration>,
    /// Whether the entry is dynamic (created with a timeout; lost on reboot).
    pub dynamic: bool,
    /// Whether the entry is disabled.
    pub disabled: bool,
}

impl Row {
    /// Whether the agent owns this row: its tag in `comment`, and dynamic. A static entry is never
    /// the agent's, even with its tag: the agent only creates entries with a timeout.
    pub fn is_owned(&self, tag: &str) -> bool {
        self.comment.as_deref() == Some(tag) && self.dynamic
    }
}

/// Why a row at a granted address is not the agent's, for the 208105 report.
pub fn foreign_reason(row: &Row, tag: &str) -> &'static str {
    if row.comment.as_deref() == Some(tag) {
        "static entry (carries the agent's tag but has no timeout)"
    } else {
        "entry without the agent's tag"
    }
}

/// What the planner needs to know besides the data.
#[derive(Debug, Clone)]
pub struct PlanConfig {
    /// The ownership tag written into `comment`.
    pub tag: String,
    /// The IPv4 list name.
    pub list_v4: String,
    /// The IPv6 list name.
    pub list_v6: String,
    /// How far an entry's remaining time may be from the wanted one before it is refreshed. The
    /// router and the agent count down together, so a small slack absorbs request latency.
    pub tolerance: Duration,
}

impl PlanConfig {
    /// The list name for a family.
    pub fn list(&self, family: Family) -> &str {
        match family {
            Family::V4 => &self.list_v4,
            Family::V6 => &self.list_v6,
        }
    }
}

/// One write to the router.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Create an entry with the tag, counting down to this instant.
    Add {
        /// The address (its family picks the menu).
        address: Address,
        /// When the entry must run out: its timeout is computed from this when the write goes out
        /// ([`timeout_at`]), never when the plan is made.
        expires: Time,
    },
    /// Set an owned entry's timeout so that it runs out at this instant.
    Refresh {
        /// The entry's `.id`.
        id: String,
        /// Its address.
        address: Address,
        /// When the entry must run out.
        expires: Time,
    },
    /// Delete an owned entry.
    Remove {
        /// The menu.
        family: Family,
        /// The entry's `.id`.
        id: String,
        /// Its address as the router shows it.
        address: String,
    },
}

/// An address the agent should manage but cannot, because an entry it does not own holds it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Conflict {
    /// The address.
    pub address: Address,
    /// The foreign entry's `.id`.
    pub id: String,
    /// Why it is not the agent's.
    pub reason: &'static str,
}

/// The writes that bring the router in step, and the conflicts found on the way.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Writes in a stable order: removals first (by family, address, id), then adds and refreshes
    /// by address, so that closing access never waits behind opening it.
    pub actions: Vec<Action>,
    /// Granted addresses held by foreign entries.
    pub conflicts: Vec<Conflict>,
}

/// When each address's entry should run out: the latest expiry of its live grants at `now`.
///
/// The plan carries these instants rather than durations because a write may go out long after
/// the plan was made (late in a long reconcile, or in a batch): its timeout is computed from the
/// instant when it is sent ([`timeout_at`]), so that no entry outlives its grant by the time the
/// reconcile took.
pub fn wanted(grants: &[Grant], now: Time) -> BTreeMap<Address, Time> {
    let mut latest: BTreeMap<Address, Time> = BTreeMap::new();
    for g in grants.iter().filter(|g| g.expires > now) {
        let e = latest.entry(g.address.clone()).or_insert(g.expires);
        *e = (*e).max(g.expires);
    }
    latest
}

/// The timeout to write at `now` for an entry that must run out at `expires`: rounded up to whole
/// seconds (RouterOS counts in seconds; rounding up never closes access early), and never more than
/// the longest timeout RouterOS accepts ([`duration::MAX_TIMEOUT`]): a longer grant (from an older
/// agent's store) is written with the maximum, which the router accepts, and refreshed once the
/// entry has counted down, so that one such grant never makes every write fail. `None` once the
/// instant has passed: there is nothing left to write.
pub fn timeout_at(expires: Time, now: Time) -> Option<Duration> {
    (expires > now).then(|| {
        let ms = expires.since(now).as_millis() as u64;
        Duration::from_secs(ms.div_ceil(1000)).min(duration::MAX_TIMEOUT)
    })
}

/// When the rows a plan is made against were seen: the router rendered them at some instant
/// between `at` (the request went out) and `at + span` (the reply was in), so a row's remaining
/// timeout is known only up to `span`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    /// When the read was sent.
    pub at: Time,
    /// How long it took to come back.
    pub span: Duration,
}

impl Seen {
    /// Rows known exactly at `at` (remembered rows, counted down by the agent itself).
    pub fn exactly(at: Time) -> Seen {
        Seen {
            at,
            span: Duration::ZERO,
        }
    }
}

/// Whether a row showing `timeout` (seen as `seen` says) runs out within `tolerance` of `expires`.
/// A row that may merely look short because it was rendered late in a slow read is not drift; a
/// row that is too long at the earliest instant it could have been rendered is.
pub fn in_step(timeout: Duration, expires: Time, seen: Seen, tolerance: Duration) -> bool {
    // The wanted timeout as of the earliest and the latest instant the row could have been seen.
    let Some(early) = timeout_at(expires, seen.at) else {
        return false;
    };
    let late = timeout_at(expires, seen.at.plus(seen.span)).unwrap_or(Duration::ZERO);
    timeout <= early + tolerance && timeout + tolerance >= late
}

/// Plans the writes that make `rows` (both families, all rows of the managed lists) match `grants`,
/// for rows known exactly at `now`.
pub fn plan(config: &PlanConfig, grants: &[Grant], rows: &[Row], now: Time) -> Plan {
    plan_seen(config, grants, rows, Seen::exactly(now))
}

/// [`plan`] for rows read from the router as `seen` says.
pub fn plan_seen(config: &PlanConfig, grants: &[Grant], rows: &[Row], seen: Seen) -> Plan {
    let want = wanted(grants, seen.at);
    let mut out = Plan::default();
    // Rows of the managed lists, grouped by the canonical address they hold.
    let mut owned: BTreeMap<Address, Vec<&Row>> = BTreeMap::new();
    let mut foreign: BTreeMap<Address, &Row> = BTreeMap::new();
    let mut removals = Vec::new();
    for row in rows.iter().filter(|r| r.list == config.list(r.family)) {
        let parsed = Address::parse(&row.address)
            .ok()
            .filter(|a| a.family() == row.family);
        match (row.is_owned(&config.tag), parsed) {
            (true, Some(a)) if !row.disabled => owned.entry(a).or_default().push(row),
            // An owned row the agent cannot use (disabled by someone, or an address it would never
            // write) is stale: removing it is safe because it is the agent's.
            (true, _) => removals.push(row),
            (false, Some(a)) if !row.disabled => {
                foreign.entry(a).or_insert(row);
            }
            // Disabled foreign rows do not block an add (RouterOS allows the duplicate) and
            // foreign names or ranges are none of the agent's business.
            (false, _) => {}
        }
    }
    // Every owned row that must go is known before any add or refresh is planned, so that the
    // removals can run first: closing access matters more than opening it, and an add the router
    // keeps rejecting must not hold back a revocation on every cycle.
    let mut opening = Vec::new();
    for (address, expires) in &want {
        if let Some(row) = foreign.get(address) {
            let reason = foreign_reason(row, &config.tag);
            out.conflicts.push(Conflict {
                address: address.clone(),
                id: row.id.clone(),
                reason,
            });
        }
        match owned.get(address).map(Vec::as_slice) {
            Some([first, extra @ ..]) => {
                let off = first
                    .timeout
                    .is_none_or(|t| !in_step(t, *expires, seen, config.tolerance));
                if off {
                    opening.push(Action::Refresh {
                        id: first.id.clone(),
                        address: address.clone(),
                        expires: *expires,
                    });
                }
                removals.extend(extra.iter().copied());
            }
            _ if foreign.contains_key(address) => {}
            _ => opening.push(Action::Add {
                address: address.clone(),
                expires: *expires,
            }),
        }
    }
    for (address, rows) in &owned {
        if !want.contains_key(address) {
            removals.extend(rows.iter().copied());
        }
    }
    removals.sort_by(|a, b| (a.family, &a.address, &a.id).cmp(&(b.family, &b.address, &b.id)));
    out.actions
        .extend(removals.into_iter().map(|r| Action::Remove {
            family: r.family,
            id: r.id.clone(),
            address: r.address.clone(),
        }));
    out.actions.extend(opening);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAG: &str = "routeros-agent";
    const NOW: Time = Time(1_000_000_000);

    fn config() -> PlanConfig {
        PlanConfig {
            tag: TAG.into(),
            list_v4: "access".into(),
            list_v6: "access6".into(),
            tolerance: Duration::from_secs(5),
        }
    }

    fn addr(s: &str) -> Address {
        Address::parse(s).unwrap()
    }

    fn grant(a: &str, user: &str, secs_left: i64) -> Grant {
        Grant {
            address: addr(a),
            user: user.into(),
            expires: Time((NOW.0 as i64 + secs_left * 1000) as u64),
        }
    }

    /// An owned row with `secs` remaining.
    fn owned(id: &str, a: &str, secs: u64) -> Row {
        let family = if a.contains(':') {
            Family::V6
        } else {
            Family::V4
        };
        let list = if family == Family::V4 {
            "access"
        } else {
            "access6"
        };
        Row {
            family,
            id: id.into(),
            list: list.into(),
            address: a.into(),
            comment: Some(TAG.into()),
            timeout: Some(Duration::from_secs(secs)),
            dynamic: true,
            disabled: false,
        }
    }

    fn foreign(id: &str, a: &str) -> Row {
        Row {
            comment: Some("office".into()),
            timeout: None,
            dynamic: false,
            ..owned(id, a, 0)
        }
    }

    /// An add that runs out `secs` after `NOW`.
    fn add(a: &str, secs: u64) -> Action {
        Action::Add {
            address: addr(a),
            expires: NOW.plus(Duration::from_secs(secs)),
        }
    }

    fn refresh(id: &str, a: &str, secs: u64) -> Action {
        Action::Refresh {
            id: id.into(),
            address: addr(a),
            expires: NOW.plus(Duration::from_secs(secs)),
        }
    }

    fn remove(id: &str, a: &str) -> Action {
        let family = if a.contains(':') {
            Family::V6
        } else {
            Family::V4
        };
        Action::Remove {
            family,
            id: id.into(),
            address: a.into(),
        }
    }

    fn check(grants: &[Grant], rows: &[Row], actions: &[Action], conflicts: &[&str]) {
        let p = plan(&config(), grants, rows, NOW);
        assert_eq!(p.actions, actions, "actions");
        let got: Vec<&str> = p.conflicts.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(got, conflicts, "conflicts");
    }

    #[test]
    fn nothing_to_do() {
        check(&[], &[], &[], &[]);
        check(
            &[grant("192.0.2.1", "ann", 600)],
            &[owned("*1", "192.0.2.1", 600)],
            &[],
            &[],
        );
        // Within the tolerance either way.
        check(
            &[grant("192.0.2.1", "ann", 600)],
            &[owned("*1", "192.0.2.1", 597)],
            &[],
            &[],
        );
        check(
            &[grant("192.0.2.1", "ann", 600)],
            &[owned("*1", "192.0.2.1", 605)],
            &[],
            &[],
        );
    }

    #[test]
    fn adds_missing_entries() {
        check(
            &[grant("192.0.2.1", "ann", 600)],
            &[],
            &[add("192.0.2.1", 600)],
            &[],
        );
        check(
            &[grant("2001:db8::1", "ann", 60)],
            &[],
            &[add("2001:db8::1/128", 60)],
            &[],
        );
    }

    #[test]
    fn rounds_remaining_time_up_to_seconds() {
        let expires = Time(NOW.0 + 1_001);
        assert_eq!(timeout_at(expires, NOW), Some(Duration::from_secs(2)));
        assert_eq!(
            timeout_at(expires, Time(NOW.0 + 1)),
            Some(Duration::from_secs(1))
        );
        assert_eq!(timeout_at(expires, expires), None);
        assert_eq!(timeout_at(expires, Time(NOW.0 + 5_000)), None);
    }

    #[test]
    fn timeouts_are_computed_when_sent() {
        // The same planned add, sent ten minutes later, carries ten minutes less.
        let Action::Add { expires, .. } = add("192.0.2.1", 3600) else {
            unreachable!()
        };
        assert_eq!(timeout_at(expires, NOW), Some(Duration::from_secs(3600)));
        assert_eq!(
            timeout_at(expires, NOW.plus(Duration::from_secs(600))),
            Some(Duration::from_secs(3000))
        );
    }

    #[test]
    fn slow_reads_do_not_look_like_drift() {
        let tol = Duration::from_secs(5);
        let expires = NOW.plus(Duration::from_secs(600));
        let s = |span: u64| Seen {
            at: NOW,
            span: Duration::from_secs(span),
        };
        // Rendered 30 s into a 40 s read: 570 s left. Not drift with the span known...
        assert!(in_step(Duration::from_secs(570), expires, s(40), tol));
        // ...but drift for rows known exactly at NOW.
        assert!(!in_step(Duration::from_secs(570), expires, s(0), tol));
        // Too long is drift however slow the read: it is too long at the earliest instant.
        assert!(!in_step(Duration::from_secs(606), expires, s(40), tol));
        assert!(in_step(Duration::from_secs(605), expires, s(40), tol));
        // Shorter than the latest instant allows, beyond the tolerance.
        assert!(!in_step(Duration::from_secs(554), expires, s(40), tol));
        // An expired wish is never in step.
        assert!(!in_step(Duration::from_secs(1), NOW, s(0), tol));
    }

    #[test]
    fn timeouts_never_exceed_the_routers_maximum() {
        let max = 21_474_836;
        // A 40-week grant from an older store: written with the maximum, left alone while the entry
        // is near it, refreshed to the maximum once the entry has counted well down.
        let long = grant("192.0.2.1", "ann", 40 * 7 * 86_400);
        check(
            std::slice::from_ref(&long),
            &[],
            &[add("192.0.2.1", 40 * 7 * 86_400)],
            &[],
        );
        assert_eq!(
            timeout_at(long.expires, NOW),
            Some(Duration::from_secs(max))
        );
        check(
            std::slice::from_ref(&long),
            &[owned("*1", "192.0.2.1", max - 2)],
            &[],
            &[],
        );
        check(
            &[long],
            &[owned("*1", "192.0.2.1", max - 3600)],
            &[refresh("*1", "192.0.2.1", 40 * 7 * 86_400)],
            &[],
        );
    }

    #[test]
    fn refreshes_timeouts_that_drifted() {
        check(
            &[grant("192.0.2.1", "ann", 3600)],
            &[owned("*1", "192.0.2.1", 60)],
            &[refresh("*1", "192.0.2.1", 3600)],
            &[],
        );
        // Too long is wrong too: the grant that kept it long was revoked.
        check(
            &[grant("192.0.2.1", "ann", 60)],
            &[owned("*1", "192.0.2.1", 3600)],
            &[refresh("*1", "192.0.2.1", 60)],
            &[],
        );
        let mut no_timeout = owned("*1", "192.0.2.1", 0);
        no_timeout.timeout = None;
        check(
            &[grant("192.0.2.1", "ann", 60)],
            &[no_timeout],
            &[refresh("*1", "192.0.2.1", 60)],
            &[],
        );
    }

    #[test]
    fn shared_address_keeps_the_latest_expiry() {
        let grants = [
            grant("192.0.2.1", "ann", 60),
            grant("192.0.2.1", "bob", 900),
            grant("192.0.2.1/32", "cy", 300),
        ];
        check(&grants, &[], &[add("192.0.2.1", 900)], &[]);
        check(&grants, &[owned("*1", "192.0.2.1", 900)], &[], &[]);
        // Bob's grant gone: the entry follows the next latest.
        check(
            &grants[..1],
            &[owned("*1", "192.0.2.1", 900)],
            &[refresh("*1", "192.0.2.1", 60)],
            &[],
        );
    }

    #[test]
    fn expired_grants_count_as_gone() {
        check(
            &[grant("192.0.2.1", "ann", 0)],
            &[owned("*1", "192.0.2.1", 1)],
            &[remove("*1", "192.0.2.1")],
            &[],
        );
        check(&[grant("192.0.2.1", "ann", -5)], &[], &[], &[]);
    }

    #[test]
    fn removes_owned_entries_without_grants() {
        check(
            &[],
            &[
                owned("*1", "192.0.2.1", 60),
                owned("*2", "2001:db8::1/128", 60),
            ],
            &[remove("*1", "192.0.2.1"), remove("*2", "2001:db8::1/128")],
            &[],
        );
    }

    #[test]
    fn never_touches_foreign_entries() {
        // Untagged, with or without a timeout.
        check(&[], &[foreign("*9", "192.0.2.1")], &[], &[]);
        let mut untagged_dynamic = owned("*9", "192.0.2.1", 60);
        untagged_dynamic.comment = None;
        check(&[], &[untagged_dynamic.clone()], &[], &[]);
        check(
            &[grant("192.0.2.1", "ann", 60)],
            &[untagged_dynamic],
            &[],
            &["*9"],
        );
        // Static with the agent's tag is still not the agent's.
        let mut static_tagged = foreign("*8", "192.0.2.2");
        static_tagged.comment = Some(TAG.into());
        check(&[], &[static_tagged.clone()], &[], &[]);
        check(
            &[grant("192.0.2.2", "ann", 60)],
            &[static_tagged],
            &[],
            &["*8"],
        );
        // A granted address held by a foreign entry is reported, not added.
        check(
            &[grant("192.0.2.1", "ann", 60)],
            &[foreign("*9", "192.0.2.1")],
            &[],
            &["*9"],
        );
        // Foreign names and ranges are ignored.
        check(
            &[],
            &[
                foreign("*7", "example.com"),
                foreign("*6", "10.0.0.1-10.0.0.9"),
            ],
            &[],
            &[],
        );
    }

    #[test]
    fn disabled_entries() {
        let mut disabled_foreign = foreign("*9", "192.0.2.1");
        disabled_foreign.disabled = true;
        check(
            &[grant("192.0.2.1", "ann", 60)],
            &[disabled_foreign],
            &[add("192.0.2.1", 60)],
            &[],
        );
        let mut disabled_owned = owned("*1", "192.0.2.1", 60);
        disabled_owned.disabled = true;
        check(
            &[grant("192.0.2.1", "ann", 60)],
            &[disabled_owned],
            &[remove("*1", "192.0.2.1"), add("192.0.2.1", 60)],
            &[],
        );
    }

    #[test]
    fn removals_come_before_adds_and_refreshes() {
        // Closing access must not wait behind (or be blocked by) opening it.
        check(
            &[
                grant("192.0.2.1", "ann", 60),
                grant("192.0.2.9", "bob", 600),
            ],
            &[
                owned("*5", "192.0.2.9", 60),
                owned("*6", "192.0.2.5", 60),
                owned("*7", "2001:db8::5/128", 60),
            ],
            &[
                remove("*6", "192.0.2.5"),
                remove("*7", "2001:db8::5/128"),
                add("192.0.2.1", 60),
                refresh("*5", "192.0.2.9", 600),
            ],
            &[],
        );
    }

    #[test]
    fn duplicates_of_owned_entries_are_removed() {
        check(
            &[grant("192.0.2.1", "ann", 60)],
            &[owned("*1", "192.0.2.1", 60), owned("*2", "192.0.2.1", 60)],
            &[remove("*2", "192.0.2.1")],
            &[],
        );
    }

    #[test]
    fn other_lists_and_families_are_ignored() {
        let mut other_list = owned("*1", "192.0.2.1", 60);
        other_list.list = "elsewhere".into();
        check(&[], &[other_list], &[], &[]);
        // An IPv4 row seen in the IPv6 list name is not in the managed IPv6 list.
        let mut wrong_list = owned("*2", "192.0.2.1", 60);
        wrong_list.list = "access6".into();
        check(&[], &[wrong_list], &[], &[]);
    }

    #[test]
    fn ipv4_and_ipv6_lists_are_independent() {
        let grants = [
            grant("192.0.2.1", "ann", 60),
            grant("2001:db8::1", "ann", 60),
        ];
        check(
            &grants,
            &[owned("*1", "192.0.2.1", 60)],
            &[add("2001:db8::1/128", 60)],
            &[],
        );
    }

    #[test]
    fn unusable_owned_rows_are_removed() {
        let mut named = owned("*3", "192.0.2.1", 60);
        named.address = "host.example".into();
        check(&[], &[named], &[remove("*3", "host.example")], &[]);
    }
}
