//! One address-list menu (`/ip/firewall/address-list` or `/ipv6/firewall/address-list`).
//!
//! Entries are kept in id order (the order a real router prints them). Timed entries are dynamic,
//! count down on the simulator's clock and vanish when they reach zero; [`AddressList::purge`] runs
//! before every read and command so that an expired entry is never seen. The table also keeps an
//! index of *enabled* entries by (list, address), because the router refuses a second enabled entry
//! with the same address in the same list (`failure: already have such entry`) but allows one beside
//! a disabled twin.
//!
//! Memory matters here (a million entries must fit in about 300 bytes each): list names are interned,
//! times are plain integers, and the duplicate index holds only ids: it hashes (list, address) and
//! compares through the entries, so the address text is stored once.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;

use hashbrown::HashTable;

use super::address::{Family, normalise};
use super::args::{Args, format_id};
use super::duration;
use super::timestamp;
use crate::clock::SimTime;
use crate::rest::error::RosError;
use crate::rest::json::Row;

/// The longest timeout RouterOS accepts, `35w3d13h13m56s`: 2^31-1 hundredths of a second
/// (MikroTik manual, firewall address-lists; the refusal text names the range).
const MAX_TIMEOUT_MS: u64 = 21_474_836_470;

/// From this many entries a print is rendered on two threads.
const PARALLEL_PRINT_ROWS: usize = 16_384;

/// Keys a set may carry.
const WRITABLE: &[&str] = &["address", "comment", "disabled", "list", "timeout"];

/// Keys an add may carry: `dynamic` is an add-time flag (cli-reference, `ip/firewall/address-list`).
const ADDABLE: &[&str] = &[
    "address", "comment", "disabled", "dynamic", "list", "timeout",
];

/// One entry.
#[derive(Debug, Clone)]
pub struct Entry {
    list: u32,
    address: Box<str>,
    /// Wall-clock seconds (Unix) when created, shown as `creation-time`.
    created_s: i64,
    timeout: Option<Timeout>,
    disabled: bool,
    /// Added with `dynamic=yes`: dynamic (lost at reboot) even without a timeout.
    dynamic: bool,
    comment: Option<Box<str>>,
}

impl Entry {
    /// Whether the router shows the entry as dynamic: added so, or counting down.
    fn is_dynamic(&self) -> bool {
        self.dynamic || self.timeout.is_some()
    }
}

/// The countdown of a dynamic entry.
#[derive(Debug, Clone, Copy)]
struct Timeout {
    expires_at: SimTime,
    /// Whether the configured timeout was whole seconds: then the remaining time is shown rounded up
    /// to the second, so that a read right after creation shows the configured value.
    whole_seconds: bool,
}

impl Timeout {
    fn remaining(&self, now: SimTime) -> u64 {
        let ms = self.expires_at.saturating_sub(now);
        if self.whole_seconds {
            ms.div_ceil(1000) * 1000
        } else {
            ms
        }
    }
}

/// A plain view of an entry, for state dumps and snapshots.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EntryView {
    /// `.id` number.
    pub id: u32,
    /// List name.
    pub list: String,
    /// Canonical address.
    pub address: String,
    /// Creation time, Unix seconds.
    pub created_s: i64,
    /// Simulated time at which it expires, for dynamic entries.
    pub expires_at_ms: Option<u64>,
    /// Whether the remaining time is shown in whole seconds.
    #[serde(default = "yes")]
    pub whole_seconds: bool,
    /// Disabled flag.
    pub disabled: bool,
    /// Added with `dynamic=yes` (dynamic without a timeout).
    #[serde(default)]
    pub dynamic: bool,
    /// Comment, when set.
    pub comment: Option<String>,
}

fn yes() -> bool {
    true
}

/// One address-list menu.
#[derive(Debug)]
pub struct AddressList {
    family: Family,
    next_id: u32,
    names: Vec<Arc<str>>,
    name_ids: HashMap<Arc<str>, u32>,
    entries: BTreeMap<u32, Entry>,
    expiry: BTreeSet<(SimTime, u32)>,
    /// Ids of enabled entries, hashed by (list, address).
    enabled: HashTable<u32>,
    hasher: RandomState,
}

/// The duplicate index's hash of an entry's (list, address).
fn key_hash(hasher: &RandomState, list: u32, address: &str) -> u64 {
    hasher.hash_one((list, address))
}

impl AddressList {
    /// An empty menu for `family`.
    pub fn new(family: Family) -> Self {
        Self {
            family,
            next_id: 1,
            names: Vec::new(),
            name_ids: HashMap::new(),
            entries: BTreeMap::new(),
            expiry: BTreeSet::new(),
            enabled: HashTable::new(),
            hasher: RandomState::new(),
        }
    }

    /// Number of entries (after the last purge).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the menu is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Removes every entry whose timeout has run out by `now`.
    pub fn purge(&mut self, now: SimTime) {
        while let Some(&(at, id)) = self.expiry.first() {
            if at > now {
                break;
            }
            self.expiry.pop_first();
            self.unlink(id);
        }
    }

    fn intern(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.name_ids.get(name) {
            return i;
        }
        let arc: Arc<str> = Arc::from(name);
        let i = self.names.len() as u32;
        self.names.push(arc.clone());
        self.name_ids.insert(arc, i);
        i
    }

    /// Removes an entry and its index records.
    fn unlink(&mut self, id: u32) -> Option<Entry> {
        let e = self.entries.remove(&id)?;
        if let Some(t) = e.timeout {
            self.expiry.remove(&(t.expires_at, id));
        }
        if !e.disabled {
            let hash = key_hash(&self.hasher, e.list, &e.address);
            if let Ok(slot) = self.enabled.find_entry(hash, |&x| x == id) {
                slot.remove();
            }
        }
        Some(e)
    }

    /// Inserts an entry and its index records; the caller has checked for duplicates.
    fn link(&mut self, id: u32, e: Entry) {
        if let Some(t) = e.timeout {
            self.expiry.insert((t.expires_at, id));
        }
        let indexed = (!e.disabled).then(|| key_hash(&self.hasher, e.list, &e.address));
        self.entries.insert(id, e);
        if let Some(hash) = indexed {
            let (entries, hasher) = (&self.entries, &self.hasher);
            // Growing the table rehashes the ids already in it, through their entries.
            self.enabled.insert_unique(hash, id, |x| {
                entries
                    .get(x)
                    .map_or(0, |e| key_hash(hasher, e.list, &e.address))
            });
        }
    }

    fn parse_address(&self, text: &str) -> Result<Box<str>, RosError> {
        normalise(self.family, text).map(Box::from).ok_or_else(|| {
            RosError::bad_request(format!("failure: {} is not a valid dns name", text.trim()))
        })
    }

    /// A timeout; `0s` means none (the entry is static), as the range `00:00:00 ..` suggests.
    fn parse_timeout(text: &str, now: SimTime) -> Result<Option<Timeout>, RosError> {
        let ms = duration::parse_ms(text)
            .ok_or_else(|| RosError::bad_request("invalid time value for argument timeout"))?;
        if ms > MAX_TIMEOUT_MS {
            return Err(RosError::bad_request(
                "value of timeout is out of range (00:00:00 .. 35w3d13:13:56)",
            ));
        }
        Ok((ms > 0).then_some(Timeout {
            expires_at: now + ms,
            whole_seconds: ms % 1000 == 0,
        }))
    }

    fn duplicate_of(&self, list: u32, address: &str, except: Option<u32>) -> bool {
        let hash = key_hash(&self.hasher, list, address);
        let same = |&x: &u32| {
            self.entries
                .get(&x)
                .is_some_and(|e| e.list == list && &*e.address == address)
        };
        self.enabled
            .find(hash, same)
            .is_some_and(|&other| Some(other) != except)
    }

    /// `add`/PUT: creates an entry and returns its id.
    pub fn add(&mut self, args: &Args, now: SimTime, wall_s: i64) -> Result<u32, RosError> {
        args.only(ADDABLE)?;
        let dynamic = args.get_bool("dynamic")?.unwrap_or(false);
        let address = args
            .get("address")
            .map(|a| self.parse_address(a))
            .transpose()?;
        let timeout = args
            .get("timeout")
            .map(|t| Self::parse_timeout(t, now))
            .transpose()?
            .flatten();
        let disabled = args.get_bool("disabled")?.unwrap_or(false);
        let list = args
            .get("list")
            .filter(|l| !l.is_empty())
            .ok_or_else(|| RosError::missing("list"))?;
        let address = address.ok_or_else(|| RosError::missing("address"))?;
        let list = self.intern(list);
        if !disabled && self.duplicate_of(list, &address, None) {
            return Err(RosError::bad_request("failure: already have such entry"));
        }
        let comment = args.get("comment").filter(|c| !c.is_empty()).map(Box::from);
        let id = self.next_id;
        self.next_id += 1;
        self.link(
            id,
            Entry {
                list,
                address,
                created_s: wall_s,
                timeout,
                disabled,
                dynamic,
                comment,
            },
        );
        Ok(id)
    }

    /// `set`/PATCH: changes an entry's properties.
    pub fn set(&mut self, id: u32, args: &Args, now: SimTime) -> Result<(), RosError> {
        args.only(WRITABLE)?;
        let mut e = self
            .entries
            .get(&id)
            .cloned()
            .ok_or_else(RosError::not_found)?;
        if let Some(a) = args.get("address") {
            e.address = self.parse_address(a)?;
        }
        if let Some(t) = args.get("timeout") {
            e.timeout = Self::parse_timeout(t, now)?;
        }
        if let Some(d) = args.get_bool("disabled")? {
            e.disabled = d;
        }
        if let Some(l) = args.get("list") {
            if l.is_empty() {
                return Err(RosError::invalid_value("list"));
            }
            e.list = self.intern(l);
        }
        if let Some(c) = args.get("comment") {
            e.comment = (!c.is_empty()).then(|| Box::from(c));
        }
        if !e.disabled && self.duplicate_of(e.list, &e.address, Some(id)) {
            return Err(RosError::bad_request("failure: already have such entry"));
        }
        self.unlink(id);
        self.link(id, e);
        Ok(())
    }

    /// `remove`/DELETE.
    pub fn remove(&mut self, id: u32) -> Result<(), RosError> {
        self.unlink(id).map(|_| ()).ok_or_else(RosError::not_found)
    }

    /// Whether an entry with this id exists.
    pub fn contains(&self, id: u32) -> bool {
        self.entries.contains_key(&id)
    }

    /// Drops every dynamic entry, as a reboot does.
    pub fn drop_dynamic(&mut self) {
        let ids: Vec<u32> = self
            .entries
            .iter()
            .filter(|(_, e)| e.is_dynamic())
            .map(|(&id, _)| id)
            .collect();
        for id in ids {
            self.unlink(id);
        }
    }

    /// Renders one entry as the router prints it.
    pub fn render(&self, id: u32, now: SimTime, iso_time: bool) -> Option<Row<'_>> {
        let e = self.entries.get(&id)?;
        Some(self.render_entry(id, e, now, iso_time))
    }

    fn render_entry<'a>(&'a self, id: u32, e: &'a Entry, now: SimTime, iso_time: bool) -> Row<'a> {
        let mut row = Row::with_capacity(8);
        row.push(".id", format_id(id));
        row.push("address", &*e.address);
        row.push_opt("comment", e.comment.as_deref());
        row.push("creation-time", timestamp::format(e.created_s, iso_time));
        row.push("disabled", bool_text(e.disabled));
        row.push("dynamic", bool_text(e.is_dynamic()));
        row.push("list", &*self.names[e.list as usize]);
        row.push_opt(
            "timeout",
            e.timeout.map(|t| duration::format_ms(t.remaining(now))),
        );
        row
    }

    /// Writes every entry as the JSON array a print returns, straight into `out`.
    ///
    /// This is the hot path of a large print: it produces exactly what rendering [`Row`]s and
    /// writing them would (a unit test holds the two equal), without a `Row` or a `String` per field.
    pub fn write_json(&self, out: &mut Vec<u8>, now: SimTime, iso_time: bool) {
        for part in self.json_parts(now, iso_time) {
            out.extend_from_slice(&part);
        }
    }

    /// The JSON array of every entry, in consecutive pieces whose concatenation is the reply.
    ///
    /// A large print is rendered in two halves on two threads (the request's worker is blocked for
    /// the render anyway) and sent as two chunks of one body, so the halves are never copied
    /// together; a small one is one piece.
    pub fn json_parts(&self, now: SimTime, iso_time: bool) -> Vec<Vec<u8>> {
        let n = self.entries.len();
        let mut first = Vec::with_capacity(n.min(PARALLEL_PRINT_ROWS * 2) * 160 + 2);
        first.push(b'[');
        if n >= PARALLEL_PRINT_ROWS && cores() > 1 {
            let mid = self.entries.keys().nth(n / 2).copied().unwrap_or(0);
            let second = std::thread::scope(|scope| {
                let handle = scope.spawn(|| {
                    let mut part = Vec::with_capacity(n * 80 + 1);
                    self.write_entries(&mut part, self.entries.range(mid..), now, iso_time, false);
                    part
                });
                first.reserve(n * 80);
                self.write_entries(&mut first, self.entries.range(..mid), now, iso_time, true);
                handle.join()
            });
            let mut second = second.unwrap_or_else(|_| {
                // Rendering does not panic; if it ever did, render the half here instead.
                let mut part = Vec::new();
                self.write_entries(&mut part, self.entries.range(mid..), now, iso_time, false);
                part
            });
            second.push(b']');
            return vec![first, second];
        }
        self.write_entries(&mut first, self.entries.iter(), now, iso_time, true);
        first.push(b']');
        vec![first]
    }

    /// Writes entries as comma-separated JSON objects (`first`: no comma before the first one).
    fn write_entries<'a>(
        &self,
        out: &mut Vec<u8>,
        entries: impl Iterator<Item = (&'a u32, &'a Entry)>,
        now: SimTime,
        iso_time: bool,
        mut first: bool,
    ) {
        use crate::rest::json::write_str;
        for (&id, e) in entries {
            if !first {
                out.push(b',');
            }
            first = false;
            out.extend_from_slice(b"{\".id\":\"*");
            write_hex(out, id);
            out.extend_from_slice(b"\",\"address\":");
            write_str(out, &e.address);
            if let Some(c) = &e.comment {
                out.extend_from_slice(b",\"comment\":");
                write_str(out, c);
            }
            out.extend_from_slice(b",\"creation-time\":\"");
            timestamp::write(out, e.created_s, iso_time);
            out.extend_from_slice(if e.disabled {
                b"\",\"disabled\":\"true\""
            } else {
                b"\",\"disabled\":\"false\""
            });
            out.extend_from_slice(if e.timeout.is_some() {
                b",\"dynamic\":\"true\""
            } else {
                b",\"dynamic\":\"false\""
            });
            out.extend_from_slice(b",\"list\":");
            write_str(out, &self.names[e.list as usize]);
            if let Some(t) = e.timeout {
                out.extend_from_slice(b",\"timeout\":\"");
                duration::write_ms(out, t.remaining(now));
                out.push(b'"');
            }
            out.push(b'}');
        }
    }

    /// Every entry in id order.
    pub fn rows(&self, now: SimTime, iso_time: bool) -> impl Iterator<Item = Row<'_>> {
        self.entries
            .iter()
            .map(move |(&id, e)| self.render_entry(id, e, now, iso_time))
    }

    /// Every id in order.
    pub fn ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.entries.keys().copied()
    }

    /// Plain views of every entry.
    pub fn views(&self) -> Vec<EntryView> {
        self.entries
            .iter()
            .map(|(&id, e)| EntryView {
                id,
                list: self.names[e.list as usize].to_string(),
                address: e.address.to_string(),
                created_s: e.created_s,
                expires_at_ms: e.timeout.map(|t| t.expires_at),
                whole_seconds: e.timeout.is_none_or(|t| t.whole_seconds),
                disabled: e.disabled,
                dynamic: e.dynamic,
                comment: e.comment.as_deref().map(str::to_owned),
            })
            .collect()
    }

    /// Rebuilds a menu from views (snapshots); ids and the id counter are kept.
    pub fn from_views(family: Family, views: &[EntryView], next_id: u32) -> Result<Self, String> {
        let mut t = Self::new(family);
        for v in views {
            let address = normalise(family, &v.address)
                .ok_or_else(|| format!("bad address {:?}", v.address))?;
            let list = t.intern(&v.list);
            let address: Box<str> = Box::from(address);
            if !v.disabled && t.duplicate_of(list, &address, None) {
                return Err(format!(
                    "duplicate enabled entry {} in list {}",
                    v.address, v.list
                ));
            }
            let timeout = v.expires_at_ms.map(|at| Timeout {
                expires_at: at,
                whole_seconds: v.whole_seconds,
            });
            let comment = v
                .comment
                .as_deref()
                .filter(|c| !c.is_empty())
                .map(Box::from);
            t.link(
                v.id,
                Entry {
                    list,
                    address,
                    created_s: v.created_s,
                    timeout,
                    disabled: v.disabled,
                    dynamic: v.dynamic,
                    comment,
                },
            );
        }
        t.next_id = next_id.max(t.entries.keys().next_back().map_or(1, |id| id + 1));
        Ok(t)
    }

    /// The next id this menu will hand out.
    pub fn next_id(&self) -> u32 {
        self.next_id
    }
}

/// The machine's cores, asked once: the question reads cgroup files on Linux, too slow per request.
fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Appends `id` as upper-case hex without leading zeros.
fn write_hex(out: &mut Vec<u8>, id: u32) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let digits = (32 - id.leading_zeros()).div_ceil(4).max(1);
    for i in (0..digits).rev() {
        out.push(HEX[((id >> (i * 4)) & 0xF) as usize]);
    }
}

/// RouterOS's boolean text.
pub fn bool_text(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(pairs: &[(&str, &str)]) -> Args {
        Args::from_pairs(pairs.iter().copied())
    }

    fn table() -> AddressList {
        AddressList::new(Family::V4)
    }

    #[test]
    fn add_render_and_duplicates() {
        let mut t = table();
        let id = t
            .add(
                &args(&[("list", "l"), ("address", "10.0.0.1/32"), ("comment", "c")]),
                0,
                0,
            )
            .unwrap();
        assert_eq!(id, 1);
        let row = t.render(id, 0, true).unwrap();
        assert_eq!(row.get("address"), Some("10.0.0.1"));
        assert_eq!(row.get("dynamic"), Some("false"));
        assert_eq!(row.get("timeout"), None);
        assert_eq!(row.get("comment"), Some("c"));
        let dup = t.add(
            &args(&[("list", "l"), ("address", "10.0.0.1"), ("timeout", "1h")]),
            0,
            0,
        );
        assert_eq!(
            dup.unwrap_err().detail.as_deref(),
            Some("failure: already have such entry")
        );
        // Another list, or a disabled twin, is fine.
        t.add(&args(&[("list", "m"), ("address", "10.0.0.1")]), 0, 0)
            .unwrap();
        let d = t
            .add(
                &args(&[("list", "l"), ("address", "10.0.0.1"), ("disabled", "yes")]),
                0,
                0,
            )
            .unwrap();
        // Enabling the disabled twin would make a duplicate.
        assert!(t.set(d, &args(&[("disabled", "false")]), 0).is_err());
        t.remove(1).unwrap();
        t.set(d, &args(&[("disabled", "false")]), 0).unwrap();
        assert_eq!(t.remove(1).unwrap_err(), RosError::not_found());
    }

    #[test]
    fn refusals() {
        let mut t = table();
        let check = |t: &mut AddressList, a: &[(&str, &str)], detail: &str| {
            assert_eq!(
                t.add(&args(a), 0, 0).unwrap_err().detail.as_deref(),
                Some(detail),
                "{a:?}"
            );
        };
        check(&mut t, &[("address", "10.0.0.1")], "missing =list=");
        check(&mut t, &[("list", "l")], "missing =address=");
        check(
            &mut t,
            &[("list", "l"), ("address", "10.0.0.1/40")],
            "failure: 10.0.0.1/40 is not a valid dns name",
        );
        check(
            &mut t,
            &[("list", "l"), ("address", "1.1.1.1"), ("timeout", "5x")],
            "invalid time value for argument timeout",
        );
        check(
            &mut t,
            &[("list", "l"), ("address", "1.1.1.1"), ("timeout", "36w")],
            "value of timeout is out of range (00:00:00 .. 35w3d13:13:56)",
        );
        check(
            &mut t,
            &[("list", "l"), ("address", "1.1.1.1"), ("color", "red")],
            "unknown parameter color",
        );
        check(
            &mut t,
            &[("list", "l"), ("address", "1.1.1.1"), ("disabled", "maybe")],
            "invalid value for argument disabled",
        );
        assert!(t.is_empty());
    }

    #[test]
    fn timeouts_count_down_and_expire() {
        let mut t = table();
        let id = t
            .add(
                &args(&[("list", "l"), ("address", "10.0.0.1"), ("timeout", "5m")]),
                1000,
                0,
            )
            .unwrap();
        let timeout = |t: &AddressList, now| {
            t.render(id, now, true)
                .unwrap()
                .get("timeout")
                .unwrap()
                .to_owned()
        };
        assert_eq!(timeout(&t, 1000), "5m");
        assert_eq!(timeout(&t, 1300), "5m");
        assert_eq!(timeout(&t, 2000), "4m59s");
        assert_eq!(
            t.render(id, 1000, true).unwrap().get("dynamic"),
            Some("true")
        );
        t.purge(300_999);
        assert!(t.contains(id));
        t.purge(301_000);
        assert!(!t.contains(id));
        // The address is free again.
        t.add(&args(&[("list", "l"), ("address", "10.0.0.1")]), 301_000, 0)
            .unwrap();
    }

    #[test]
    fn set_refreshes_timeout_and_reboot_drops_dynamic() {
        let mut t = table();
        let a = t
            .add(
                &args(&[("list", "l"), ("address", "10.0.0.1"), ("timeout", "1m")]),
                0,
                0,
            )
            .unwrap();
        let b = t
            .add(&args(&[("list", "l"), ("address", "10.0.0.2")]), 0, 0)
            .unwrap();
        t.set(a, &args(&[("timeout", "1h")]), 30_000).unwrap();
        t.purge(3_000_000);
        assert!(t.contains(a));
        t.drop_dynamic();
        assert!(!t.contains(a));
        assert!(t.contains(b));
        assert_eq!(
            t.set(a, &args(&[("comment", "x")]), 0).unwrap_err(),
            RosError::not_found()
        );
    }

    #[test]
    fn dynamic_without_timeout_is_dynamic_until_reboot() {
        let mut t = table();
        let d = t
            .add(
                &args(&[("list", "l"), ("address", "10.0.0.1"), ("dynamic", "yes")]),
                0,
                0,
            )
            .unwrap();
        let s = t
            .add(
                &args(&[("list", "l"), ("address", "10.0.0.2"), ("dynamic", "no")]),
                0,
                0,
            )
            .unwrap();
        let row = t.render(d, 0, true).unwrap();
        assert_eq!(
            (row.get("dynamic"), row.get("timeout")),
            (Some("true"), None)
        );
        assert_eq!(t.render(s, 0, true).unwrap().get("dynamic"), Some("false"));
        let bad = t.add(
            &args(&[("list", "l"), ("address", "10.0.0.3"), ("dynamic", "maybe")]),
            0,
            0,
        );
        assert_eq!(bad.unwrap_err(), RosError::invalid_value("dynamic"));
        // `dynamic` is not a property a set can change.
        let set = t.set(s, &args(&[("dynamic", "yes")]), 0);
        assert_eq!(set.unwrap_err(), RosError::unknown_parameter("dynamic"));
        let back = AddressList::from_views(Family::V4, &t.views(), t.next_id()).unwrap();
        assert_eq!(
            back.render(d, 0, true).unwrap().get("dynamic"),
            Some("true")
        );
        t.drop_dynamic();
        assert!(!t.contains(d));
        assert!(t.contains(s));
    }

    #[test]
    fn direct_writer_equals_rendered_rows() {
        let mut t = table();
        t.add(
            &args(&[("list", "l"), ("address", "10.0.0.1"), ("timeout", "1m")]),
            0,
            1_700_000_000,
        )
        .unwrap();
        t.add(
            &args(&[
                ("list", "k\"q"),
                ("address", "10.0.0.0/8"),
                ("comment", "a\\b"),
                ("disabled", "yes"),
            ]),
            0,
            5,
        )
        .unwrap();
        t.add(
            &args(&[
                ("list", "l"),
                ("address", "example.com"),
                ("timeout", "1s500ms"),
            ]),
            0,
            5,
        )
        .unwrap();
        for _ in 0..300 {
            t.add(
                &args(&[
                    ("list", "m"),
                    (
                        "address",
                        &format!("10.1.{}.{}", t.next_id() / 256, t.next_id() % 256),
                    ),
                ]),
                0,
                5,
            )
            .unwrap();
        }
        for (now, iso) in [(0, true), (700, false), (30_000, true)] {
            let mut direct = Vec::new();
            t.write_json(&mut direct, now, iso);
            let mut rendered = Vec::new();
            crate::rest::json::write_rows(&mut rendered, t.rows(now, iso), None);
            assert_eq!(
                String::from_utf8(direct).unwrap(),
                String::from_utf8(rendered).unwrap()
            );
        }
        let mut empty = Vec::new();
        table().write_json(&mut empty, 0, true);
        assert_eq!(empty, b"[]");
        let mut hex = Vec::new();
        for id in [0, 1, 0xF, 0x10, 0x3C, 0xA1E6F, u32::MAX] {
            write_hex(&mut hex, id);
            hex.push(b' ');
        }
        assert_eq!(hex, b"0 1 F 10 3C A1E6F FFFFFFFF ");
    }

    #[test]
    fn views_round_trip() {
        let mut t = table();
        t.add(
            &args(&[("list", "l"), ("address", "10.0.0.1"), ("timeout", "1m")]),
            0,
            5,
        )
        .unwrap();
        t.add(
            &args(&[("list", "k"), ("address", "10.0.0.0/8"), ("comment", "x")]),
            0,
            5,
        )
        .unwrap();
        t.remove(1).unwrap();
        let views = t.views();
        let back = AddressList::from_views(Family::V4, &views, t.next_id()).unwrap();
        assert_eq!(back.views(), views);
        assert_eq!(back.next_id(), 3);
    }
}
