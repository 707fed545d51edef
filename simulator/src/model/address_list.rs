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
use super::failure::Failure;
use super::row::Row;
use super::row::bool_text;
use super::spec::{Name, name, refuse_unknown};
use super::timestamp;
use crate::clock::SimTime;

/// The longest timeout RouterOS accepts, `35w3d13h13m56s`: 2^31-1 hundredths of a second
/// (MikroTik manual, firewall address-lists; the refusal text names the range).
const MAX_TIMEOUT_MS: u64 = 21_474_836_470;

/// Arguments of `set`.
pub const SET_ARGS: &[Name] = &[
    name("address"),
    name("comment"),
    name("disabled"),
    name("list"),
    name("timeout"),
];

/// Arguments of `add`: `dynamic` is an add-time flag (cli-reference, `ip/firewall/address-list`).
/// `copy-from` is taken by the command itself (`model/run.rs`) before the entry is made.
pub const ADD_ARGS: &[Name] = &[
    name("address"),
    name("comment"),
    name("copy-from"),
    name("disabled"),
    name("dynamic"),
    name("list"),
    name("timeout"),
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

    fn parse_address(&self, text: &str) -> Result<Box<str>, Failure> {
        normalise(self.family, text).map(Box::from).ok_or_else(|| {
            Failure::bad_request(format!("failure: {} is not a valid dns name", text.trim()))
        })
    }

    /// A timeout; `0s` means none (the entry is static), as the range `00:00:00 ..` suggests.
    fn parse_timeout(text: &str, now: SimTime) -> Result<Option<Timeout>, Failure> {
        let ms = duration::parse_ms(text)
            .ok_or_else(|| Failure::bad_request("invalid time value for argument timeout"))?;
        if ms > MAX_TIMEOUT_MS {
            return Err(Failure::bad_request(
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
    pub fn add(&mut self, args: &Args, now: SimTime, wall_s: i64) -> Result<u32, Failure> {
        refuse_unknown(args, ADD_ARGS)?;
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
            .ok_or_else(|| Failure::missing("list"))?;
        let address = address.ok_or_else(|| Failure::missing("address"))?;
        let list = self.intern(list);
        if !disabled && self.duplicate_of(list, &address, None) {
            return Err(Failure::bad_request("failure: already have such entry"));
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
    pub fn set(&mut self, id: u32, args: &Args, now: SimTime) -> Result<(), Failure> {
        refuse_unknown(args, SET_ARGS)?;
        let mut e = self
            .entries
            .get(&id)
            .cloned()
            .ok_or_else(Failure::not_found)?;
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
                return Err(Failure::invalid_value("list"));
            }
            e.list = self.intern(l);
        }
        if let Some(c) = args.get("comment") {
            e.comment = (!c.is_empty()).then(|| Box::from(c));
        }
        if !e.disabled && self.duplicate_of(e.list, &e.address, Some(id)) {
            return Err(Failure::bad_request("failure: already have such entry"));
        }
        self.unlink(id);
        self.link(id, e);
        Ok(())
    }

    /// `remove`/DELETE.
    pub fn remove(&mut self, id: u32) -> Result<(), Failure> {
        self.unlink(id).map(|_| ()).ok_or_else(Failure::not_found)
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
        Some(self.view(id, e, now).row(iso_time))
    }

    /// The plain view of an entry at `now`: what every rendering of it starts from.
    fn view<'a>(&'a self, id: u32, e: &'a Entry, now: SimTime) -> EntryRef<'a> {
        EntryRef {
            id,
            address: &e.address,
            comment: e.comment.as_deref(),
            created_s: e.created_s,
            disabled: e.disabled,
            dynamic: e.is_dynamic(),
            list: &self.names[e.list as usize],
            timeout_ms: e.timeout.map(|t| t.remaining(now)),
        }
    }

    /// Every entry in id order.
    pub fn rows(&self, now: SimTime, iso_time: bool) -> impl Iterator<Item = Row<'_>> {
        self.entries
            .iter()
            .map(move |(&id, e)| self.view(id, e, now).row(iso_time))
    }

    /// A compact copy of the entries `keep` accepts (all of them when `keep` is `None`), to be read
    /// after the router's lock is released.
    ///
    /// The copy is one pass over the table with no allocation per entry: fixed-size records and
    /// one text buffer for addresses and comments. A filter needs the row as the router shows it,
    /// so only a filtered copy renders rows on the way.
    pub fn snapshot(
        &self,
        now: SimTime,
        iso_time: bool,
        keep: Option<&dyn Fn(&Row<'_>) -> bool>,
    ) -> Snapshot {
        let mut snap = Snapshot {
            names: self.names.clone(),
            text: String::new(),
            items: Vec::with_capacity(if keep.is_some() {
                0
            } else {
                self.entries.len()
            }),
            iso_time,
        };
        if keep.is_none() {
            snap.text.reserve(self.entries.len() * 16);
        }
        for (&id, e) in &self.entries {
            let view = self.view(id, e, now);
            if let Some(keep) = keep
                && !keep(&view.row(iso_time))
            {
                continue;
            }
            snap.push(e.list, &view);
        }
        snap
    }

    /// A compact copy of one entry, if it exists.
    pub fn snapshot_one(&self, id: u32, now: SimTime, iso_time: bool) -> Option<Snapshot> {
        let e = self.entries.get(&id)?;
        let mut snap = Snapshot {
            names: vec![self.names[e.list as usize].clone()],
            text: String::new(),
            items: Vec::with_capacity(1),
            iso_time,
        };
        snap.push(0, &self.view(id, e, now));
        Some(snap)
    }

    /// How many entries `keep` accepts.
    pub fn count(&self, now: SimTime, iso_time: bool, keep: &dyn Fn(&Row<'_>) -> bool) -> usize {
        self.entries
            .iter()
            .filter(|&(&id, e)| keep(&self.view(id, e, now).row(iso_time)))
            .count()
    }

    /// Every id in order.
    pub fn ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.entries.keys().copied()
    }

    /// Whether list `name` has at least one entry (a list exists only through its entries; the
    /// filter shows a rule naming an empty list as `invalid`).
    pub fn has_list(&self, name: &str) -> bool {
        self.name_ids
            .get(name)
            .is_some_and(|id| self.entries.values().any(|e| e.list == *id))
    }

    /// The entries of list `name` as the filter's verdict reads them: address, disabled flag and
    /// expiry. Expired entries the last purge has not dropped are still given; the verdict skips
    /// them by their expiry.
    pub fn filter_entries(&self, name: &str) -> Vec<crate::firewall::ListEntry> {
        let Some(id) = self.name_ids.get(name) else {
            return Vec::new();
        };
        self.entries
            .values()
            .filter(|e| e.list == *id)
            .map(|e| crate::firewall::ListEntry {
                address: e.address.to_string(),
                disabled: e.disabled,
                expires_at: e.timeout.map(|t| t.expires_at),
            })
            .collect()
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

/// One entry as the router shows it at some moment: plain values, borrowed.
///
/// Both renderings of an entry start here: [`EntryRef::row`] for filters, `get` and scripts, and
/// the REST layer's direct JSON writer for a plain print (`rest/json.rs`), so they cannot disagree
/// about a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryRef<'a> {
    /// `.id` number.
    pub id: u32,
    /// Canonical address.
    pub address: &'a str,
    /// Comment, when set (never empty).
    pub comment: Option<&'a str>,
    /// Creation time, Unix seconds.
    pub created_s: i64,
    /// Disabled flag.
    pub disabled: bool,
    /// Shown as dynamic: added with `dynamic=yes`, or counting down.
    pub dynamic: bool,
    /// List name.
    pub list: &'a str,
    /// Remaining milliseconds of a timed entry.
    pub timeout_ms: Option<u64>,
}

impl<'a> EntryRef<'a> {
    /// The entry as a row; `iso_time` picks the `creation-time` form (see `model/version.rs`).
    pub fn row(&self, iso_time: bool) -> Row<'a> {
        let mut row = Row::with_capacity(8);
        row.push(".id", format_id(self.id));
        row.push("address", self.address);
        row.push_opt("comment", self.comment);
        row.push("creation-time", timestamp::format(self.created_s, iso_time));
        row.push("disabled", bool_text(self.disabled));
        row.push("dynamic", bool_text(self.dynamic));
        row.push("list", self.list);
        row.push_opt("timeout", self.timeout_ms.map(duration::format_ms));
        row
    }
}

/// A compact copy of address-list entries, taken under the router's lock and read without it.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    names: Vec<Arc<str>>,
    /// Addresses and comments, back to back.
    text: String,
    items: Vec<SnapEntry>,
    iso_time: bool,
}

/// One entry of a [`Snapshot`]: fixed-size, its text in the snapshot's buffer.
#[derive(Debug, Clone, Copy)]
struct SnapEntry {
    id: u32,
    list: u32,
    created_s: i64,
    timeout_ms: Option<u64>,
    /// `text[start..address_end]` is the address, `text[address_end..comment_end]` the comment.
    start: usize,
    address_end: usize,
    comment_end: usize,
    disabled: bool,
    dynamic: bool,
}

impl Snapshot {
    fn push(&mut self, list: u32, e: &EntryRef<'_>) {
        let start = self.text.len();
        self.text.push_str(e.address);
        let address_end = self.text.len();
        self.text.push_str(e.comment.unwrap_or(""));
        self.items.push(SnapEntry {
            id: e.id,
            list,
            created_s: e.created_s,
            timeout_ms: e.timeout_ms,
            start,
            address_end,
            comment_end: self.text.len(),
            disabled: e.disabled,
            dynamic: e.dynamic,
        });
    }

    /// How many entries.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Whether `creation-time` is shown in the 7.10 form.
    pub fn iso_time(&self) -> bool {
        self.iso_time
    }

    /// The entries from index `from` up to `to`, in id order.
    pub fn entries(&self, from: usize, to: usize) -> impl Iterator<Item = EntryRef<'_>> {
        self.items[from.min(self.items.len())..to.min(self.items.len())]
            .iter()
            .map(|s| EntryRef {
                id: s.id,
                address: &self.text[s.start..s.address_end],
                comment: (s.comment_end > s.address_end)
                    .then(|| &self.text[s.address_end..s.comment_end]),
                created_s: s.created_s,
                disabled: s.disabled,
                dynamic: s.dynamic,
                list: &self.names[s.list as usize],
                timeout_ms: s.timeout_ms,
            })
    }

    /// The entries as rows.
    pub fn rows(&self) -> impl Iterator<Item = Row<'_>> {
        self.entries(0, self.len()).map(|e| e.row(self.iso_time))
    }
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
        assert_eq!(t.remove(1).unwrap_err(), Failure::not_found());
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
            Failure::not_found()
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
        assert_eq!(bad.unwrap_err(), Failure::invalid_value("dynamic"));
        // `dynamic` is not a property a set can change.
        let set = t.set(s, &args(&[("dynamic", "yes")]), 0);
        assert_eq!(set.unwrap_err(), Failure::unknown_parameter("dynamic"));
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
