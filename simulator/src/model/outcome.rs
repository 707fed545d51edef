//! What running a command takes and gives: [`Context`] in, [`Outcome`] (with its [`Rows`]) out.
//!
//! These are the data of the one entry point, [`Router::run`](super::Router::run): plain values a
//! REST reply or a script can use after the router's lock is released.

use super::address_list::Snapshot;
use super::row::{Proplist, Row};
use super::scripting::Work;
use super::users::Policies;
use crate::clock::SimTime;

/// Who runs a command, and when.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    /// The caller's policies (of its group, or as the login cache remembers them).
    pub policies: Policies,
    /// Simulated time.
    pub now: SimTime,
    /// Wall-clock Unix seconds at `now` (for `creation-time`).
    pub wall_s: i64,
    /// The caller's `/user` id, when a user calls (scripts and scheduler entries record their
    /// owner); `None` for the simulator's own changes (seeds, tests).
    pub user: Option<u32>,
}

/// Rows a command returns, owning their data.
#[derive(Debug)]
pub enum Rows {
    /// Rows of a small menu, copied.
    Owned(Vec<Row<'static>>),
    /// Address-list entries, copied compactly (a print may hold a million of them).
    Entries(Snapshot),
}

impl Rows {
    /// How many rows.
    pub fn len(&self) -> usize {
        match self {
            Rows::Owned(rows) => rows.len(),
            Rows::Entries(s) => s.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rows, in order.
    pub fn iter(&self) -> Box<dyn Iterator<Item = Row<'_>> + '_> {
        match self {
            Rows::Owned(rows) => Box::new(rows.iter().cloned()),
            Rows::Entries(s) => Box::new(s.rows()),
        }
    }

    /// The first row (a singleton's, or a `get`'s).
    pub fn first(&self) -> Option<Row<'_>> {
        self.iter().next()
    }
}

/// What a command produced.
#[derive(Debug)]
pub enum Outcome {
    /// Rows (`print`), with the keys the caller asked for.
    Rows {
        /// The rows.
        rows: Rows,
        /// `.proplist`, when given.
        proplist: Option<Proplist>,
        /// Rows the command examined to find them: the whole table for a filtered print (a
        /// router checks every row against the filter; nothing is indexed), the rows returned
        /// for a plain print or an item. The router-speed profile charges a scan cost for each.
        examined: usize,
    },
    /// `add`: the new item's id.
    Added(u32),
    /// A value: `print count-only`'s count, `get`'s field.
    Value {
        /// The value as the router prints it.
        text: String,
        /// Rows read to produce it.
        rows: usize,
    },
    /// Done, nothing to show (`set`, `remove`, `enable`, `disable`).
    Done {
        /// Items changed.
        rows: usize,
    },
    /// Work the scripting runtime does once the router's lock is released (`/execute`,
    /// `/system/script run`, `/import`, `/tool/fetch`); it answers with one of the others.
    Deferred(Work),
}

impl Outcome {
    /// Rows read or written.
    pub fn rows(&self) -> usize {
        match self {
            Outcome::Rows { rows, .. } => rows.len(),
            Outcome::Added(_) => 1,
            Outcome::Value { rows, .. } | Outcome::Done { rows } => *rows,
            Outcome::Deferred(_) => 0,
        }
    }
}
