//! The router-speed profile's cost model: what a command's outcome costs a router besides the
//! request's fixed cost.
//!
//! A read costs a **scan** for every row the router examines (a filtered print checks every row of
//! the table against its filter: RouterOS keeps no index a query could use), a **row** cost for
//! every row it returns, and a **field** cost for every field of those rows (so `.proplist`
//! makes a read cheaper, as it does on a router). A write costs the row cost per row changed.
//!
//! The figures of [`Limits::realistic`] and where they come from:
//!
//! | cost | value | source |
//! |---|---|---|
//! | `scan_cost` | 0.125 ms per row examined | <https://github.com/svenshi/oxidns/issues/189> (2026): on a router with ~53k IPv4 entries, API prints filtered by `list` took 7.7 s returning ~2.2k rows and 9.8 s returning ~6.6k, so ~0.125 ms per row examined and ~0.48 ms per full row returned; <https://github.com/akpw/mktxp/issues/329> (2026): an unfiltered count of 12,651 entries passed a 5 s timeout |
//! | `row_cost` + `field_cost` | 0.1 ms + 0.08 ms per field | a full address-list row (8 fields) then costs 0.865 ms with its scan: "about 3,000 rows took 2.7 s on a CHR" (0.9 ms a row, ROUTEROS-REST.md section 6); 30k-50k entry lists take 8-20 s on small routers |
//!
//! The split of a row's cost between a fixed part and its fields is an estimate [likely]: no
//! measurement of `.proplist` on a router was published. Against the best calibration for the
//! agent's kind of read, cs-routeros-bouncer's (<https://github.com/jmrplens/cs-routeros-bouncer>,
//! README "Performance" and `internal/routeros/addresslist.go`: RB5009, RouterOS 7.22.1, binary API,
//! `print ?list=<list> =.proplist=.id,address,list,timeout,comment` of ~28,700 entries, whole
//! no-drift reconcile 3-4 s), the model is pessimistic: it charges 17.9 s for that read, where an
//! RB5009 takes at most 4 s and a hEX-class router (about 3.5 times slower) about 14 s.

use std::time::Duration;

use crate::model::outcome::{Outcome, Rows};
use crate::model::row::Proplist;
use crate::shared::Limits;

/// The shape of a read, for its cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Read {
    /// Rows the router examined (the whole table for a filtered print).
    pub examined: usize,
    /// Rows returned.
    pub returned: usize,
    /// Fields of the rows returned, added up (after `.proplist`).
    pub fields: usize,
}

fn times(cost: Duration, n: usize) -> Duration {
    cost.saturating_mul(u32::try_from(n).unwrap_or(u32::MAX))
}

impl Limits {
    /// What a read of this shape costs: a scan of every row examined, and every row and field
    /// returned.
    pub fn read_cost(&self, read: Read) -> Duration {
        times(self.scan_cost, read.examined)
            + times(self.row_cost, read.returned)
            + times(self.field_cost, read.fields)
    }

    /// What a command's outcome costs besides the request cost: a print as a [`Read`] whose
    /// fields are those `proplist` keeps (the reply's own, when the request gave one), a value
    /// (`count-only`, `get`) as a scan of the rows it read and one row, a write as a row per item
    /// changed.
    pub fn outcome_cost(&self, outcome: &Outcome, proplist: Option<&Proplist>) -> Duration {
        match outcome {
            Outcome::Rows {
                rows,
                proplist: own,
                examined,
            } => self.read_cost(Read {
                examined: *examined,
                returned: rows.len(),
                fields: match self.field_cost.is_zero() {
                    true => 0,
                    false => fields(rows, proplist.or(own.as_ref())),
                },
            }),
            Outcome::Value { rows, .. } => {
                times(self.scan_cost, *rows) + times(self.row_cost, (*rows).min(1))
            }
            Outcome::Added(_) => self.row_cost,
            Outcome::Done { rows } => times(self.row_cost, *rows),
            Outcome::Deferred(_) => Duration::ZERO,
        }
    }
}

/// The fields of `rows` that a reply with `proplist` shows.
fn fields(rows: &Rows, proplist: Option<&Proplist>) -> usize {
    rows.iter()
        .map(|row| match proplist {
            Some(p) => row.fields().iter().filter(|(k, _)| p.keeps(k)).count(),
            None => row.fields().len(),
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(d: Duration) -> f64 {
        d.as_secs_f64() * 1000.0
    }

    fn check(read: Read, expected_ms: f64) {
        let got = ms(Limits::realistic().read_cost(read));
        assert!((got - expected_ms).abs() < 1e-6, "{read:?}: {got} ms");
    }

    #[test]
    fn reads_cost_a_scan_of_every_row_examined_and_each_field_returned() {
        // Nothing examined, nothing returned.
        check(Read::default(), 0.0);
        // One full address-list row (8 fields): about the 0.9 ms a CHR takes.
        check(
            Read {
                examined: 1,
                returned: 1,
                fields: 8,
            },
            0.865,
        );
        // 100,000 full rows: past the 60 s session limit, as on a router.
        check(
            Read {
                examined: 100_000,
                returned: 100_000,
                fields: 800_000,
            },
            86_500.0,
        );
        // The agent's read: 30,000 rows of 100,000 by list, `.id,address,comment,timeout`.
        check(
            Read {
                examined: 100_000,
                returned: 30_000,
                fields: 120_000,
            },
            25_100.0,
        );
        // A filter that matches nothing still scans the table.
        check(
            Read {
                examined: 100_000,
                returned: 0,
                fields: 0,
            },
            12_500.0,
        );
    }

    #[test]
    fn the_fast_default_charges_nothing() {
        let l = Limits::default();
        assert_eq!(
            l.read_cost(Read {
                examined: 1_000_000,
                returned: 1_000_000,
                fields: 8_000_000,
            }),
            Duration::ZERO
        );
        assert_eq!(
            l.outcome_cost(&Outcome::Done { rows: 10 }, None),
            Duration::ZERO
        );
    }

    #[test]
    fn outcomes_cost_their_reads_and_writes() {
        use crate::model::row::Row;
        let l = Limits::realistic();
        let row = |n: usize| {
            let mut r = Row::with_capacity(n);
            for k in [".id", "address", "comment", "list"].into_iter().take(n) {
                r.push(k, "x");
            }
            r
        };
        let rows = Outcome::Rows {
            rows: Rows::Owned(vec![row(4), row(4)]),
            proplist: None,
            examined: 10,
        };
        let expect = l.read_cost(Read {
            examined: 10,
            returned: 2,
            fields: 8,
        });
        assert_eq!(l.outcome_cost(&rows, None), expect);
        // The request's `.proplist` narrows the fields charged (`.id` kept as on 7.x).
        let narrow = Proplist::new(["address"], true);
        let expect = l.read_cost(Read {
            examined: 10,
            returned: 2,
            fields: 4,
        });
        assert_eq!(l.outcome_cost(&rows, Some(&narrow)), expect);
        // `count-only` of 100,000 rows scans them all and returns one value.
        let count = Outcome::Value {
            text: "5".into(),
            rows: 100_000,
        };
        assert_eq!(
            l.outcome_cost(&count, None),
            l.scan_cost * 100_000 + l.row_cost
        );
        assert_eq!(l.outcome_cost(&Outcome::Added(1), None), l.row_cost);
        assert_eq!(
            l.outcome_cost(&Outcome::Done { rows: 3 }, None),
            l.row_cost * 3
        );
    }
}
