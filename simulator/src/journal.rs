//! The journal: a record of every request and every connection-level fault.
//!
//! Tests use it to assert how a client behaved ("the grant cost exactly one request", "no request
//! touched `/user`"). Entries are numbered; a *mark* is the number the next entry will get, so
//! "since a mark" means "what happened after this point". The journal keeps the newest entries
//! within two bounds so a long run cannot exhaust memory: at most [`CAPACITY`] entries, and at most
//! a number of bytes ([`DEFAULT_BYTES`] unless `Limits::journal_bytes` says otherwise); the oldest
//! go first and `dropped` says how many fell off. What it keeps of a request's user name and path
//! is cut at [`FIELD_LIMIT`] bytes (ending in `…`), so one huge query or name cannot fill it.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::faults::glob;
use crate::model::services::Listener;

/// Entries kept before the oldest are dropped.
pub const CAPACITY: usize = 200_000;

/// Bytes the journal holds by default before the oldest entries are dropped (64 MiB).
pub const DEFAULT_BYTES: usize = 64 * 1024 * 1024;

/// The most the journal keeps of a user name or a path with its query.
pub const FIELD_LIMIT: usize = 1024;

/// `text` cut to at most [`FIELD_LIMIT`] bytes at a character boundary, marked with `…`.
fn truncated(mut text: String) -> String {
    if text.len() > FIELD_LIMIT {
        let mut end = FIELD_LIMIT - '…'.len_utf8();
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
        text.shrink_to_fit();
    }
    text
}

/// What an entry costs in memory, roughly: the struct and its strings.
fn cost(e: &JournalEntry) -> usize {
    let text = |s: &Option<String>| s.as_ref().map_or(0, String::capacity);
    std::mem::size_of::<JournalEntry>()
        + text(&e.user)
        + text(&e.method)
        + text(&e.path)
        + text(&e.fault)
}

/// One request, or one connection that a fault ended before any request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// Sequence number, from 1.
    pub seq: u64,
    /// Router wall time (Unix milliseconds) when the request arrived.
    pub time_ms: i64,
    /// Simulated milliseconds since start.
    pub sim_ms: u64,
    /// Client address and port.
    pub client: SocketAddr,
    /// Listener.
    pub listener: Listener,
    /// User name presented, if any.
    pub user: Option<String>,
    /// HTTP method; `None` for a connection-level event.
    pub method: Option<String>,
    /// Path and query; `None` for a connection-level event.
    pub path: Option<String>,
    /// Status sent; `None` when no response was sent (reset, stall, closed).
    pub status: Option<u16>,
    /// The fault applied: `<kind> (rule <id>)`.
    pub fault: Option<String>,
    /// Milliseconds from the request's arrival to its response.
    pub duration_ms: u64,
    /// Microseconds the router-speed profile charged for the request: its request, row, script
    /// and fetch costs (waited for, or with modelled time moved on the simulator's clock; a
    /// request cut at the session limit is charged the limit). With modelled time and one user,
    /// the costs of a run's entries add up to how far the clock moved; 0 for requests refused
    /// before they ran and for connection-level events.
    #[serde(default)]
    pub cost_us: u64,
}

/// A journal query; empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JournalFilter {
    /// Path pattern (`*` wildcard), matched against the path without its query.
    pub path: Option<String>,
    /// Method, case-insensitive.
    pub method: Option<String>,
    /// User.
    pub user: Option<String>,
    /// Status.
    pub status: Option<u16>,
    /// Only entries at or after this mark.
    pub since: Option<u64>,
}

impl JournalFilter {
    fn matches(&self, e: &JournalEntry) -> bool {
        let path = e.path.as_deref().map(|p| p.split('?').next().unwrap_or(p));
        self.since.is_none_or(|m| e.seq >= m)
            && self
                .path
                .as_deref()
                .is_none_or(|p| path.is_some_and(|x| glob(p, x)))
            && self.method.as_deref().is_none_or(|m| {
                e.method
                    .as_deref()
                    .is_some_and(|x| x.eq_ignore_ascii_case(m))
            })
            && self
                .user
                .as_deref()
                .is_none_or(|u| e.user.as_deref() == Some(u))
            && self.status.is_none_or(|s| e.status == Some(s))
    }
}

/// The answer to a query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalPage {
    /// Matching entries, oldest first.
    pub entries: Vec<JournalEntry>,
    /// The mark after the newest entry (pass as `since` to see only what comes next).
    pub next_mark: u64,
    /// Entries dropped because the journal was full.
    pub dropped: u64,
}

/// The journal.
#[derive(Debug)]
pub struct Journal {
    inner: Mutex<Inner>,
}

impl Default for Journal {
    fn default() -> Self {
        Journal::with_capacity_bytes(DEFAULT_BYTES)
    }
}

#[derive(Debug, Default)]
struct Inner {
    next_seq: u64,
    entries: VecDeque<JournalEntry>,
    dropped: u64,
    /// What the entries cost ([`cost`]).
    bytes: usize,
    /// The most they may cost.
    max_bytes: usize,
}

impl Inner {
    /// Drops the oldest entries until both bounds hold.
    fn trim(&mut self) {
        while self.entries.len() > CAPACITY
            || (self.bytes > self.max_bytes && !self.entries.is_empty())
        {
            if let Some(old) = self.entries.pop_front() {
                self.bytes = self.bytes.saturating_sub(cost(&old));
                self.dropped += 1;
            }
        }
    }
}

impl Journal {
    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// An empty journal that holds at most `max_bytes` (see [`cost`]).
    pub fn with_capacity_bytes(max_bytes: usize) -> Journal {
        Journal {
            inner: Mutex::new(Inner {
                max_bytes,
                ..Inner::default()
            }),
        }
    }

    /// Changes the byte bound; the oldest entries go at once if they no longer fit.
    pub fn set_max_bytes(&self, max_bytes: usize) {
        let mut j = self.inner();
        j.max_bytes = max_bytes;
        j.trim();
    }

    /// What the kept entries cost, roughly, in bytes.
    pub fn bytes(&self) -> usize {
        self.inner().bytes
    }

    /// Appends an entry, its user name and path cut to [`FIELD_LIMIT`]; its `seq` is assigned here.
    pub fn record(&self, mut entry: JournalEntry) {
        entry.user = entry.user.map(truncated);
        entry.path = entry.path.map(truncated);
        let size = cost(&entry);
        let mut j = self.inner();
        j.next_seq = j.next_seq.max(1);
        entry.seq = j.next_seq;
        j.next_seq += 1;
        j.entries.push_back(entry);
        j.bytes += size;
        j.trim();
    }

    /// The mark of the next entry.
    pub fn mark(&self) -> u64 {
        self.inner().next_seq.max(1)
    }

    /// Entries matching `filter`.
    pub fn query(&self, filter: &JournalFilter) -> JournalPage {
        let j = self.inner();
        JournalPage {
            entries: j
                .entries
                .iter()
                .filter(|e| filter.matches(e))
                .cloned()
                .collect(),
            next_mark: j.next_seq.max(1),
            dropped: j.dropped,
        }
    }

    /// Forgets every entry (numbering goes on, so old marks stay meaningful).
    /// The memory goes back too (the queue's buffer is released, not only emptied).
    pub fn clear(&self) {
        let mut j = self.inner();
        j.entries = VecDeque::new();
        j.bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_fields_are_cut_and_the_byte_bound_drops_the_oldest() {
        let j = Journal::with_capacity_bytes(200 * 1024);
        let huge = "q".repeat(60_000);
        for i in 0..1000 {
            let mut e = entry("GET", &format!("/rest/x?{i}{huge}"), &huge, 200);
            e.fault = None;
            j.record(e);
        }
        let page = j.query(&JournalFilter::default());
        let last = page.entries.last().expect("the newest is kept");
        assert_eq!(last.seq, 1000);
        assert!(last.path.as_ref().unwrap().len() <= FIELD_LIMIT);
        assert!(last.path.as_ref().unwrap().ends_with('…'));
        assert!(last.user.as_ref().unwrap().len() <= FIELD_LIMIT);
        assert!(j.bytes() <= 200 * 1024, "{}", j.bytes());
        assert_eq!(page.dropped as usize + page.entries.len(), 1000);
        assert!(page.dropped > 0);
        j.set_max_bytes(0);
        assert!(j.query(&JournalFilter::default()).entries.is_empty());
        // A multi-byte character at the cut is not split.
        let cut = truncated("é".repeat(FIELD_LIMIT));
        assert!(cut.len() <= FIELD_LIMIT && cut.ends_with('…'));
    }

    fn entry(method: &str, path: &str, user: &str, status: u16) -> JournalEntry {
        JournalEntry {
            seq: 0,
            time_ms: 0,
            sim_ms: 0,
            client: "127.0.0.1:1".parse().unwrap(),
            listener: Listener::WwwSsl,
            user: Some(user.into()),
            method: Some(method.into()),
            path: Some(path.into()),
            status: Some(status),
            fault: None,
            duration_ms: 0,
            cost_us: 0,
        }
    }

    #[test]
    fn filters_and_marks() {
        let j = Journal::default();
        j.record(entry("GET", "/rest/system/resource", "a", 200));
        let mark = j.mark();
        j.record(entry("PUT", "/rest/ip/firewall/address-list", "a", 201));
        j.record(entry(
            "GET",
            "/rest/ip/firewall/address-list?list=x",
            "b",
            401,
        ));
        let q = |f: JournalFilter| {
            j.query(&f)
                .entries
                .iter()
                .map(|e| e.seq)
                .collect::<Vec<_>>()
        };
        assert_eq!(q(JournalFilter::default()), [1, 2, 3]);
        assert_eq!(
            q(JournalFilter {
                since: Some(mark),
                ..Default::default()
            }),
            [2, 3]
        );
        assert_eq!(
            q(JournalFilter {
                path: Some("*address-list".into()),
                ..Default::default()
            }),
            [2, 3]
        );
        assert_eq!(
            q(JournalFilter {
                method: Some("get".into()),
                ..Default::default()
            }),
            [1, 3]
        );
        assert_eq!(
            q(JournalFilter {
                user: Some("b".into()),
                ..Default::default()
            }),
            [3]
        );
        assert_eq!(
            q(JournalFilter {
                status: Some(201),
                ..Default::default()
            }),
            [2]
        );
        j.clear();
        assert!(j.query(&JournalFilter::default()).entries.is_empty());
        j.record(entry("GET", "/", "a", 200));
        assert_eq!(q(JournalFilter::default()), [4]);
    }
}
