//! The tables behind the scripting menus: `/system/script`, `/system/scheduler`, `/file`, `/log`,
//! the certificate store `/tool/fetch` trusts, and [`Work`], what a command asks the runtime to do.
//!
//! Like every table of the model these are plain data without I/O. Running a script, fetching a
//! URL or importing a file needs the interpreter, sockets and time, which the model does not have:
//! the menus of `/execute`, `/system/script run`, `/import` and `/tool/fetch` check their
//! arguments and the caller's policies and then answer [`Outcome::Deferred`] with a [`Work`],
//! which the runtime (`crate::scripting`) carries out with the router's lock released, whether
//! the command came from REST or from a script. So there is still one implementation per menu.
//!
//! [`Outcome::Deferred`]: super::outcome::Outcome::Deferred

use std::collections::VecDeque;

use super::args::{Args, format_id};
use super::failure::Failure;
use super::row::{Row, bool_text};
use super::users::Policies;
use crate::clock::SimTime;

/// What a command asks the scripting runtime to do once the router's lock is released.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Work {
    /// `/execute`: run `source` as the caller; with `as_string` wait for its output, else start
    /// a background job.
    Execute {
        /// The script.
        source: String,
        /// Whether the caller waits for the output (`as-string` given, with any value).
        as_string: bool,
    },
    /// `/system/script run`.
    Run {
        /// The script's id.
        id: u32,
        /// Run with the script's `policy` rather than the caller's (7.15 and later).
        use_script_permissions: bool,
    },
    /// `/import file-name=...`: the file's text, run as one script that stops at its first error.
    Import {
        /// The file's name.
        name: String,
        /// Its contents.
        source: String,
    },
    /// `/tool/fetch` with its arguments, checked against the declaration.
    Fetch(Args),
}

/// The policies a script may carry (the `policy` enum of `/system/script` in the 7.22.3 schema).
pub const SCRIPT_POLICIES: &[&str] = &[
    "ftp",
    "password",
    "policy",
    "read",
    "reboot",
    "romon",
    "sensitive",
    "sniff",
    "test",
    "write",
];

/// A new script's policy when `add` names none (MikroTik manual, "Scripting", Script repository;
/// the Scheduler page's example print shows the same list).
pub const DEFAULT_SCRIPT_POLICY: &str =
    "ftp,reboot,read,write,policy,test,password,sniff,sensitive,romon";

/// Parses a `policy` argument: comma-separated names from `allowed`, refused with the router's
/// enum text otherwise.
pub fn parse_policy(text: &str, allowed: Option<&[&str]>) -> Result<Policies, Failure> {
    let bad = || Failure::bad_request("input does not match any value of policy");
    for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        if allowed.is_some_and(|a| !a.contains(&word)) {
            return Err(bad());
        }
    }
    Policies::parse(text).ok_or_else(bad)
}

/// One `/system/script` item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptItem {
    /// `.id` number.
    pub id: u32,
    /// Unique name.
    pub name: String,
    /// The source, verbatim.
    pub source: String,
    /// The user who added it (settable: the schema lists `owner` among `add`'s arguments).
    pub owner: String,
    /// The policies it may run with.
    pub policy: Policies,
    /// Skip the check that the script's policies are among the caller's.
    pub dont_require_permissions: bool,
    /// Comment, shown only when set.
    pub comment: Option<String>,
    /// Runs since the router started.
    pub run_count: u64,
    /// Wall-clock seconds of the last run, shown only after one.
    pub last_started: Option<i64>,
    /// Whether the source does not compile (`invalid`); decided by the runtime after a change.
    pub invalid: bool,
}

/// `/system/script`.
#[derive(Debug, Clone, Default)]
pub struct Scripts {
    /// Scripts in id order.
    pub items: Vec<ScriptItem>,
    next: u32,
}

/// A name argument: refused when empty, as the router refuses a name it cannot use.
fn name_arg(args: &Args, required: bool) -> Result<Option<String>, Failure> {
    match args.get("name") {
        Some("") => Err(Failure::invalid_value("name")),
        Some(n) => Ok(Some(n.to_owned())),
        None if required => Err(Failure::missing("name")),
        None => Ok(None),
    }
}

impl Scripts {
    /// `add`; `owner` is the caller unless the arguments name one.
    pub fn add(&mut self, args: &Args, owner: &str) -> Result<u32, Failure> {
        let name = match name_arg(args, false)? {
            Some(n) => n,
            // The console names an unnamed script `script1`, `script2`, ... [likely].
            None => format!("script{}", self.next + 1),
        };
        if self.items.iter().any(|s| s.name == name) {
            return Err(Failure::bad_request(
                "failure: item with such name already exists",
            ));
        }
        let mut item = ScriptItem {
            id: 0,
            name,
            source: String::new(),
            owner: owner.to_owned(),
            policy: parse_policy(DEFAULT_SCRIPT_POLICY, None)?,
            dont_require_permissions: false,
            comment: None,
            run_count: 0,
            last_started: None,
            invalid: false,
        };
        apply_script(&mut item, args)?;
        self.next += 1;
        item.id = self.next;
        self.items.push(item);
        Ok(self.next)
    }

    /// `set` of one script.
    pub fn set(&mut self, id: u32, args: &Args) -> Result<(), Failure> {
        if let Some(name) = name_arg(args, false)?
            && self.items.iter().any(|s| s.name == name && s.id != id)
        {
            return Err(Failure::bad_request(
                "failure: item with such name already exists",
            ));
        }
        let item = self.get_mut(id).ok_or_else(Failure::not_found)?;
        let mut changed = item.clone();
        apply_script(&mut changed, args)?;
        *item = changed;
        Ok(())
    }

    /// The script with this id.
    pub fn get(&self, id: u32) -> Option<&ScriptItem> {
        self.items.iter().find(|s| s.id == id)
    }

    /// The script with this id, mutable.
    pub fn get_mut(&mut self, id: u32) -> Option<&mut ScriptItem> {
        self.items.iter_mut().find(|s| s.id == id)
    }

    /// The script called `name`.
    pub fn by_name(&self, name: &str) -> Option<&ScriptItem> {
        self.items.iter().find(|s| s.name == name)
    }

    /// `remove`.
    pub fn remove(&mut self, id: u32) {
        self.items.retain(|s| s.id != id);
    }

    /// The rows, with timestamps in the version's form.
    pub fn rows(&self, iso: bool) -> impl Iterator<Item = (u32, Row<'_>)> {
        self.items.iter().map(move |s| {
            let mut row = Row::with_capacity(11);
            row.push(".id", format_id(s.id));
            row.push_opt("comment", s.comment.as_deref());
            row.push(
                "dont-require-permissions",
                bool_text(s.dont_require_permissions),
            );
            row.push("invalid", bool_text(s.invalid));
            row.push_opt(
                "last-started",
                s.last_started.map(|t| super::timestamp::format(t, iso)),
            );
            row.push("name", s.name.as_str());
            row.push("owner", s.owner.as_str());
            row.push("policy", s.policy.granted_text());
            row.push("run-count", s.run_count.to_string());
            row.push("source", s.source.as_str());
            (s.id, row)
        })
    }
}

fn apply_script(item: &mut ScriptItem, args: &Args) -> Result<(), Failure> {
    if let Some(name) = name_arg(args, false)? {
        item.name = name;
    }
    if let Some(source) = args.get("source") {
        item.source = source.to_owned();
    }
    if let Some(owner) = args.get("owner") {
        item.owner = owner.to_owned();
    }
    if let Some(policy) = args.get("policy") {
        item.policy = parse_policy(policy, Some(SCRIPT_POLICIES))?;
    }
    if let Some(d) = args.get_bool("dont-require-permissions")? {
        item.dont_require_permissions = d;
    }
    if let Some(c) = args.get("comment") {
        item.comment = (!c.is_empty()).then(|| c.to_owned());
    }
    Ok(())
}

/// When a scheduler entry first runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// At this wall-clock second (`start-date` and `start-time`).
    At(i64),
    /// `start-time=startup`: 3 seconds after each boot (MikroTik manual, Scheduler).
    Startup,
}

/// One `/system/scheduler` item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// `.id` number.
    pub id: u32,
    /// Unique name.
    pub name: String,
    /// A script's name, or a script's source.
    pub on_event: String,
    /// When it starts.
    pub start: Start,
    /// Milliseconds between runs; 0 runs once.
    pub interval_ms: u64,
    /// Policies its runs have (at most its owner's).
    pub policy: Policies,
    /// The user who added it.
    pub owner: String,
    /// Disabled entries never run.
    pub disabled: bool,
    /// Comment, shown only when set.
    pub comment: Option<String>,
    /// Runs since boot.
    pub run_count: u64,
    /// Simulated time of the next run, if there is one.
    pub next_run: Option<SimTime>,
}

/// `/system/scheduler`.
#[derive(Debug, Clone, Default)]
pub struct Schedules {
    /// Entries in id order, which is also the order simultaneous runs happen in ("in the order
    /// they appear in the scheduler configuration", MikroTik manual, Scheduler).
    pub items: Vec<Schedule>,
    next: u32,
    /// Simulated time of the last boot.
    pub booted_at: SimTime,
    /// Wall-clock Unix seconds at simulated time zero, learnt from the last command, so that
    /// a print can place `next-run` on the wall clock.
    wall_zero_s: i64,
}

/// Seconds since 1970-01-01 of a civil date (H. Hinnant's days-from-civil algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A `start-date`: `2024-01-31` (7.10 and later) or `jan/31/2024` (before), as days since 1970.
pub fn parse_date(text: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let (y, m, d) = if let Some((y, rest)) = text.split_once('-') {
        let (m, d) = rest.split_once('-')?;
        (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
    } else {
        let mut parts = text.split('/');
        let month = parts.next()?.to_ascii_lowercase();
        let m = MONTHS.iter().position(|x| *x == month)? as u32 + 1;
        let d = parts.next()?.parse().ok()?;
        let y = parts.next()?.parse().ok()?;
        (y, m, d)
    };
    let ok = (1970..=2099).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&d);
    ok.then(|| days_from_civil(y, m, d))
}

/// A `start-time` `HH:MM:SS` as seconds of the day.
pub fn parse_time_of_day(text: &str) -> Option<i64> {
    let mut parts = text.split(':');
    let h: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let s: i64 = parts.next().unwrap_or("0").parse().ok()?;
    (parts.next().is_none() && (0..24).contains(&h) && (0..60).contains(&m) && (0..60).contains(&s))
        .then_some(h * 3600 + m * 60 + s)
}

/// The run after `after` of an entry anchored at `anchor` with `interval` (both simulated ms):
/// the first `anchor + k * interval` strictly later than `after`, or the anchor itself when it
/// is still ahead. Runs are anchored to the start, not to the previous run [likely; consistent
/// with the manual's description of `start-time` and `interval`].
pub fn next_after(anchor: i64, interval: u64, after: i64) -> Option<i64> {
    if anchor > after {
        return Some(anchor);
    }
    if interval == 0 {
        return None;
    }
    let interval = interval as i64;
    let k = (after - anchor) / interval + 1;
    Some(anchor + k * interval)
}

/// Simulated time of a wall-clock second, given that `now` (simulated ms) is `wall_s`.
fn sim_of_wall(wall: i64, now: SimTime, wall_s: i64) -> i64 {
    now as i64 + (wall - wall_s) * 1000
}

/// How long after boot `start-time=startup` runs (MikroTik manual, Scheduler: "3 seconds after
/// console starts up").
pub const STARTUP_DELAY_MS: u64 = 3_000;

impl Schedules {
    /// The simulated time an entry's schedule is anchored at.
    fn anchor(&self, s: &Schedule, now: SimTime, wall_s: i64) -> i64 {
        match s.start {
            Start::At(wall) => sim_of_wall(wall, now, wall_s),
            Start::Startup => (self.booted_at + STARTUP_DELAY_MS) as i64,
        }
    }

    /// Recomputes an entry's next run: the first at or after `now`, or strictly after it when
    /// `after_now` (a change made this very moment does not run the entry at once).
    fn reschedule(&mut self, i: usize, now: SimTime, wall_s: i64, after_now: bool) {
        let s = &self.items[i];
        let anchor = self.anchor(s, now, wall_s);
        let after = now as i64 - i64::from(!after_now);
        let next = match (s.disabled, s.start, s.interval_ms) {
            (true, _, _) => None,
            // "If the interval is set to a value other than 0 scheduler will not run at startup"
            // (MikroTik manual, Scheduler): the first run is one interval after the startup time.
            (false, Start::Startup, i) if i > 0 => next_after(anchor + i as i64, i, after),
            (false, _, i) => next_after(anchor, i, after),
        };
        self.items[i].next_run = next.map(|t| t.max(0) as SimTime);
    }

    /// `add` by `owner`, whose policies bound the entry's.
    pub fn add(
        &mut self,
        args: &Args,
        owner: &str,
        now: SimTime,
        wall_s: i64,
    ) -> Result<u32, Failure> {
        self.wall_zero_s = wall_s - (now / 1000) as i64;
        let name = match name_arg(args, false)? {
            Some(n) => n,
            None => format!("schedule{}", self.next + 1),
        };
        if self.items.iter().any(|s| s.name == name) {
            return Err(Failure::bad_request(
                "failure: item with such name already exists",
            ));
        }
        let mut item = Schedule {
            id: 0,
            name,
            on_event: String::new(),
            // Added without a start, an entry starts now (the console fills in the current date
            // and time) [likely].
            start: Start::At(wall_s),
            interval_ms: 0,
            policy: parse_policy(DEFAULT_SCRIPT_POLICY, None)?,
            owner: owner.to_owned(),
            disabled: false,
            comment: None,
            run_count: 0,
            next_run: None,
        };
        apply_schedule(&mut item, args, wall_s)?;
        self.next += 1;
        item.id = self.next;
        self.items.push(item);
        let i = self.items.len() - 1;
        // An entry starting this very second first runs one interval from now.
        self.reschedule(i, now, wall_s, true);
        // A `startup` entry added after the boot waits for the next one.
        if self.items[i].start == Start::Startup && self.items[i].interval_ms == 0 {
            self.items[i].next_run = None;
        }
        Ok(self.next)
    }

    /// `set` (also `enable` and `disable`).
    pub fn set(&mut self, id: u32, args: &Args, now: SimTime, wall_s: i64) -> Result<(), Failure> {
        self.wall_zero_s = wall_s - (now / 1000) as i64;
        if let Some(name) = name_arg(args, false)?
            && self.items.iter().any(|s| s.name == name && s.id != id)
        {
            return Err(Failure::bad_request(
                "failure: item with such name already exists",
            ));
        }
        let i = self
            .items
            .iter()
            .position(|s| s.id == id)
            .ok_or_else(Failure::not_found)?;
        let mut changed = self.items[i].clone();
        apply_schedule(&mut changed, args, wall_s)?;
        self.items[i] = changed;
        self.reschedule(i, now, wall_s, true);
        Ok(())
    }

    /// `remove`.
    pub fn remove(&mut self, id: u32) {
        self.items.retain(|s| s.id != id);
    }

    /// A boot at `now`: run counts restart and `startup` entries are due 3 seconds later.
    pub fn boot(&mut self, now: SimTime) {
        let wall_s = self.wall_zero_s + (now / 1000) as i64;
        self.booted_at = now;
        for i in 0..self.items.len() {
            self.items[i].run_count = 0;
            self.reschedule(i, now, wall_s, false);
        }
    }

    /// The first entry due at or before `now`: its index and due time (earliest first; ties in
    /// table order).
    pub fn due(&self, now: SimTime) -> Option<(usize, SimTime)> {
        self.items
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.next_run.filter(|t| *t <= now).map(|t| (i, t)))
            .min_by_key(|(i, t)| (*t, *i))
    }

    /// Marks entry `i` as run at `at` and schedules its next run.
    pub fn ran(&mut self, i: usize, at: SimTime) {
        let s = &mut self.items[i];
        s.run_count += 1;
        s.next_run = match s.interval_ms {
            0 => None,
            iv => s.next_run.map(|t| t.max(at) + iv),
        };
    }

    /// Skips every run due at or before `now` (the per-advance cap was reached).
    pub fn skip_to(&mut self, now: SimTime) {
        for s in &mut self.items {
            if let Some(t) = s.next_run
                && t <= now
            {
                s.next_run = match s.interval_ms {
                    0 => None,
                    iv => Some(t + ((now - t) / iv + 1) * iv),
                };
            }
        }
    }

    /// The rows.
    pub fn rows(&self, iso: bool, now: SimTime) -> impl Iterator<Item = (u32, Row<'_>)> {
        let wall_s = self.wall_zero_s + (now / 1000) as i64;
        self.items.iter().map(move |s| {
            let mut row = Row::with_capacity(12);
            row.push(".id", format_id(s.id));
            row.push_opt("comment", s.comment.as_deref());
            row.push("disabled", bool_text(s.disabled));
            row.push("interval", super::duration::format_ms(s.interval_ms));
            row.push("name", s.name.as_str());
            row.push_opt(
                "next-run",
                s.next_run.map(|t| {
                    let wall = wall_s + (t as i64 - now as i64).div_euclid(1000);
                    super::timestamp::format(wall, iso)
                }),
            );
            row.push("on-event", s.on_event.as_str());
            row.push("owner", s.owner.as_str());
            row.push("policy", s.policy.granted_text());
            row.push("run-count", s.run_count.to_string());
            match s.start {
                Start::Startup => row.push("start-time", "startup"),
                Start::At(wall) => {
                    let text = super::timestamp::format(wall, iso);
                    let (date, time) = text.split_once(' ').unwrap_or((&text, ""));
                    row.push("start-date", date.to_owned());
                    row.push("start-time", time.to_owned());
                }
            }
            (s.id, row)
        })
    }
}

fn apply_schedule(item: &mut Schedule, args: &Args, wall_s: i64) -> Result<(), Failure> {
    if let Some(name) = name_arg(args, false)? {
        item.name = name;
    }
    if let Some(e) = args.get("on-event") {
        item.on_event = e.to_owned();
    }
    if let Some(p) = args.get("policy") {
        item.policy = parse_policy(p, None)?;
    }
    if let Some(d) = args.get_bool("disabled")? {
        item.disabled = d;
    }
    if let Some(c) = args.get("comment") {
        item.comment = (!c.is_empty()).then(|| c.to_owned());
    }
    if let Some(iv) = args.get("interval") {
        item.interval_ms = super::duration::parse_ms(iv)
            .ok_or_else(|| Failure::bad_request("invalid time value for argument interval"))?;
    }
    let (day, secs) = match item.start {
        Start::At(w) => (w.div_euclid(86_400), w.rem_euclid(86_400)),
        Start::Startup => (wall_s.div_euclid(86_400), 0),
    };
    let mut start = item.start;
    let mut day = day;
    if let Some(d) = args.get("start-date") {
        day = parse_date(d).ok_or_else(|| Failure::invalid_value("start-date"))?;
        if let Start::At(_) = start {
            start = Start::At(day * 86_400 + secs);
        }
    }
    if let Some(t) = args.get("start-time") {
        start = match t {
            "startup" => Start::Startup,
            t => Start::At(
                day * 86_400
                    + parse_time_of_day(t).ok_or_else(|| Failure::invalid_value("start-time"))?,
            ),
        };
    }
    item.start = start;
    Ok(())
}

/// One `/file` item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileItem {
    /// `.id` number.
    pub id: u32,
    /// Path and name (`flash/list.rsc`).
    pub name: String,
    /// Contents.
    pub contents: Vec<u8>,
    /// Wall-clock seconds of the last write.
    pub modified: i64,
}

/// The largest `contents` a print or `get` shows: "It is possible to retrieve content and edit
/// files up to 60KB in size" (MikroTik manual, Files, 7.16). Larger files show no `contents`
/// [likely; the manual does not say what happens, and `/file/read` is the documented way].
pub const FILE_CONTENTS_LIMIT: usize = 60 * 1024;

/// The largest file the simulator keeps (a fetch writing more fails): a bound of the simulator's,
/// not of a router's, whose limit is its free storage.
pub const FILE_SIZE_LIMIT: usize = 16 << 20;

/// `/file`.
#[derive(Debug, Clone, Default)]
pub struct Files {
    /// Files in id order.
    pub items: Vec<FileItem>,
    next: u32,
}

impl Files {
    /// Writes a file, replacing one of the same name; returns its id.
    pub fn write(&mut self, name: &str, contents: Vec<u8>, wall_s: i64) -> Result<u32, Failure> {
        if contents.len() > FILE_SIZE_LIMIT {
            return Err(Failure::bad_request("failure: not enough space"));
        }
        if let Some(f) = self.items.iter_mut().find(|f| f.name == name) {
            f.contents = contents;
            f.modified = wall_s;
            return Ok(f.id);
        }
        self.next += 1;
        self.items.push(FileItem {
            id: self.next,
            name: name.to_owned(),
            contents,
            modified: wall_s,
        });
        Ok(self.next)
    }

    /// The file called `name`.
    pub fn by_name(&self, name: &str) -> Option<&FileItem> {
        let name = name.trim_start_matches('/');
        self.items.iter().find(|f| f.name == name)
    }

    /// The rows.
    pub fn rows(&self, iso: bool) -> impl Iterator<Item = (u32, Row<'_>)> {
        self.items.iter().map(move |f| {
            let mut row = Row::with_capacity(7);
            row.push(".id", format_id(f.id));
            row.push_opt(
                "contents",
                (f.contents.len() <= FILE_CONTENTS_LIMIT)
                    .then(|| String::from_utf8_lossy(&f.contents).into_owned()),
            );
            row.push("last-modified", super::timestamp::format(f.modified, iso));
            row.push("name", f.name.as_str());
            row.push("size", f.contents.len().to_string());
            // The console shows `.txt file`, `.rsc file` or `file` (MikroTik manual, Files).
            let kind = match f.name.rsplit_once('.') {
                Some((_, ext)) if !ext.contains('/') => format!(".{ext} file"),
                _ => "file".to_owned(),
            };
            row.push("type", kind);
            (f.id, row)
        })
    }
}

/// One line of the memory log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// `.id` number.
    pub id: u32,
    /// Wall-clock seconds.
    pub time: i64,
    /// `script,info`, `script,error`, ...
    pub topics: String,
    /// The text.
    pub message: String,
}

/// How many lines the memory log keeps: RouterOS's default `memory-lines=1000` of the `memory`
/// logging action (MikroTik manual, Log).
pub const LOG_LINES: usize = 1000;

/// `/log`: the memory buffer, lost on reboot as a router's is.
#[derive(Debug, Clone, Default)]
pub struct Log {
    /// The lines, oldest first.
    pub lines: VecDeque<LogLine>,
    next: u32,
}

impl Log {
    /// Appends a line, dropping the oldest past [`LOG_LINES`].
    pub fn push(&mut self, time: i64, topics: &str, message: &str) {
        self.next += 1;
        // A message is bounded so that a script cannot fill memory through the log.
        let message: String = message.chars().take(4096).collect();
        self.lines.push_back(LogLine {
            id: self.next,
            time,
            topics: topics.to_owned(),
            message,
        });
        while self.lines.len() > LOG_LINES {
            self.lines.pop_front();
        }
    }

    /// The rows; a line from today shows its time only on versions before 7.10, which the
    /// simulator does not distinguish: every line shows the full timestamp.
    pub fn rows(&self, iso: bool) -> impl Iterator<Item = (u32, Row<'_>)> {
        self.lines.iter().map(move |l| {
            let mut row = Row::with_capacity(4);
            row.push(".id", format_id(l.id));
            row.push("message", l.message.as_str());
            row.push("time", super::timestamp::format(l.time, iso));
            row.push("topics", l.topics.as_str());
            (l.id, row)
        })
    }
}

/// The certificate store `/tool/fetch check-certificate=yes` trusts, behind `/certificate`
/// (`model/certificates.rs`). Public roots (`builtin-trust-store`) are not included: tests reach
/// only loopback servers with their own CAs.
pub use super::certificates::Certificates;

/// Settings of the simulator's scripting where the real router's rule is not known; change them
/// with `Simulator::with_router(|r| r.state::<ScriptSettings>()...)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptSettings {
    /// What `/tool/fetch` requires of its caller. No source states it; blocklist importers'
    /// schedulers run fetches with `read,write,test` (and `ftp` to write a file), and the
    /// manual's `test` policy covers "ping, traceroute, bandwidth test" [likely]. Default
    /// `read,write,test`.
    pub fetch_policies: Policies,
    /// What a fetch that writes a file (`output=file`) requires besides: default `ftp`
    /// ("send and retrieve files from the router") [likely].
    pub fetch_file_policies: Policies,
}

impl Default for ScriptSettings {
    fn default() -> Self {
        Self {
            fetch_policies: Policies::parse("read,write,test").unwrap_or_default(),
            fetch_file_policies: Policies::parse("ftp").unwrap_or_default(),
        }
    }
}
