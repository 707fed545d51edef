//! Bulk writes: many adds, refreshes and removals in one RouterOS script sent to `/execute`.
//!
//! At a real router's speed a REST request costs about 120 ms whatever it does, while an address-list
//! command run inside a script costs a few milliseconds (research: cs-routeros-bouncer measures about
//! 168 scripted adds a second on an RB5009 against 35 ms per single API add, `internal/routeros/bulk.go`
//! and its CHANGELOG). So the agent sends a plan's writes as scripts of a few hundred commands each,
//! through `POST /rest/execute` with `as-string`, which runs the script as the calling user and
//! answers, within the 60 s session limit, with what the script printed in `ret` (captures on a CHR:
//! tikoci/quickchr `src/lib/exec.ts`; tikoci/routeros-skills PR #20 for 7.23.3).
//!
//! Why `/execute` and not a temporary `/system/script`: `/execute` is one request, changes nothing by
//! itself, leaves nothing behind if the agent dies, and needs only the caller's own policies (the
//! vendor guide's group `api,rest-api,read,write,policy` has them: REST needs `api` + `rest-api`, the
//! address-list commands inside need `read` + `write`). A stored script would cost three requests
//! (add, run, remove), needs the same policies, and `run` does not return `:put` output
//! ("We can't reliably get the :put output via API", cs-routeros-bouncer `bulk.go`). The MikroTik
//! manual (Scripting, "Script permissions") says a script run by a user runs with that user's
//! permissions; nothing in it asks for more than the commands inside need.
//!
//! Every command sits in its own `:do { } on-error={ }`, so one bad entry fails alone, and prints
//! one line naming its index: `a<n> <id>` (added, with the new `.id`), `s<n>` (timeout set), `r<n>`
//! (removed), or `e<n>` (that command failed). [`parse`] accepts exactly that and nothing else, so
//! a router that refused the script (a missing policy, an interpreter that does not understand
//! it) is noticed rather than mistaken for success. What the script printed is never the last
//! word: the reconciler reads the entries back and decides from what the router then shows.
//!
//! Every value placed in the script is a quoted string with RouterOS's escapes ([`quote`]):
//! addresses and ids were checked already, and the list names and the tag (the comment) come from
//! configuration, so a hostile tag cannot end the string or inject a command.

use std::fmt::Write as _;
use std::time::Duration;

use crate::address::{Address, Family};
use crate::duration;

/// How the agent writes entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WriteMode {
    /// Batches through `/execute` when the router allows it and they are cheaper: plans of
    /// [`MIN_BATCH`] writes or more, unless they are a few adds or refreshes among many owned
    /// entries (whose confirming read would cost more than the requests saved); one request per
    /// entry otherwise (so a new grant stays one `PUT`).
    #[default]
    Auto,
    /// Batches only, for every plan (a single write too, at the price of a read-back): a router
    /// that refuses scripting fails the writes (208002 or the refusal's code) instead of falling
    /// back.
    Bulk,
    /// One request per entry (`PUT`, `PATCH`, `DELETE`), never scripting.
    Single,
}

impl WriteMode {
    /// The mode's name, as in the configuration.
    pub fn name(self) -> &'static str {
        match self {
            WriteMode::Auto => "auto",
            WriteMode::Bulk => "bulk",
            WriteMode::Single => "single",
        }
    }

    /// Parses `auto`, `bulk` or `single`.
    pub fn parse(s: &str) -> Option<WriteMode> {
        match s {
            "auto" => Some(WriteMode::Auto),
            "bulk" => Some(WriteMode::Bulk),
            "single" => Some(WriteMode::Single),
            _ => None,
        }
    }
}

/// The fewest writes worth a batch in `auto` mode. A batch costs two requests (the script and the
/// read-back), so one or two writes go out one request each; a new grant in steady state stays one
/// `PUT`.
pub const MIN_BATCH: usize = 3;

/// The largest script the agent sends. RouterOS's limit on a script's source is not published;
/// `:execute` is said to take 64 KB (tikoci/routeros-skills `syntax.md`, [likely]) and
/// cs-routeros-bouncer keeps its scripts near 12 KB, "well within the ~32 KB safe limit"
/// (`internal/routeros/bulk.go`). Half of 64 KB leaves room for escapes.
pub const MAX_SCRIPT_BYTES: usize = 32 * 1024;

/// The cost the agent assumes for one scripted address-list command: about 6 ms on an RB5009
/// (cs-routeros-bouncer, 168 adds/s including per-chunk overhead), with room for a router almost
/// twice as slow. A hEX-class MIPS CPU is estimated at 3.5 times the RB5009 (research estimate; no
/// published hEX timing): its batches take about 5 s, still far inside the session limit, and a
/// tolerance of 10 s or more keeps their later entries from looking drifted.
pub const COMMAND_COST: Duration = Duration::from_millis(10);

/// The most commands in one batch: the batch must end well inside the router's 60 s session limit
/// (at most 20 s at [`COMMAND_COST`]), and within half the refresh tolerance, because the
/// last entry of a batch starts counting down later than the first, by up to the batch's duration,
/// and a drift larger than the tolerance would be "corrected" by the next reconcile.
pub fn max_entries(tolerance: Duration) -> usize {
    let budget = (tolerance / 2).min(Duration::from_secs(20));
    let by_cost = budget.as_millis() / COMMAND_COST.as_millis().max(1);
    usize::try_from(by_cost)
        .unwrap_or(usize::MAX)
        .clamp(1, 1000)
}

/// One command of a batch, with its timeout computed at the moment the batch goes out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command<'a> {
    /// Add an entry.
    Add {
        /// The address.
        address: &'a Address,
        /// Its timeout.
        timeout: Duration,
    },
    /// Set an entry's timeout.
    Set {
        /// The entry's id (checked `*HEX`).
        id: &'a str,
        /// The new timeout.
        timeout: Duration,
    },
    /// Remove an entry.
    Remove {
        /// The entry's id (checked `*HEX`).
        id: &'a str,
    },
}

/// A RouterOS string literal: `"..."` with `\"`, `\\`, `\$` and `\?` escaped (the console treats
/// `$` as a variable and `?` as help), and every byte outside printable ASCII as `\HH` with capital
/// hex digits (MikroTik manual, Scripting, "Constant Escape Sequences"), so nothing in the value can
/// end the string or start a command.
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for b in value.bytes() {
        match b {
            b'"' | b'\\' | b'$' | b'?' => {
                out.push('\\');
                out.push(b as char);
            }
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\{b:02X}");
            }
        }
    }
    out.push('"');
    out
}

/// The script's first line: the list name and the tag as locals, so each command stays short.
pub fn prologue(list: &str, tag: &str) -> String {
    format!(":local l {}; :local c {}\n", quote(list), quote(tag))
}

/// One command's line, for index `n` of the batch, on the menu of `family`.
pub fn line(family: Family, n: usize, command: &Command<'_>) -> String {
    let menu = family.menu();
    let body = match command {
        Command::Add { address, timeout } => format!(
            ":put (\"a{n} \".[{menu}/add list=$l address={} timeout={} comment=$c])",
            quote(address.as_str()),
            quote(&duration::format(*timeout)),
        ),
        Command::Set { id, timeout } => format!(
            "{menu}/set numbers={} timeout={}; :put \"s{n}\"",
            quote(id),
            quote(&duration::format(*timeout)),
        ),
        Command::Remove { id } => format!("{menu}/remove numbers={}; :put \"r{n}\"", quote(id)),
    };
    format!(":do {{{body}}} on-error={{:put \"e{n}\"}}\n")
}

/// What the script reported for one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reported {
    /// Added, with the router's new `.id`.
    Added(String),
    /// Timeout set.
    Set,
    /// Removed.
    Removed,
    /// The command failed (the router's reason is not printed; the per-entry write that follows
    /// gets it).
    Failed,
}

/// Reads a batch's `ret`: exactly one line per command `0..count`, each in the form [`line`]
/// prints. Anything else (an interpreter error, a permission refusal, a line the script cannot
/// have printed) is refused with the text, cut to a readable length.
pub fn parse(ret: &str, count: usize) -> Result<Vec<Reported>, String> {
    let mut out: Vec<Option<Reported>> = vec![None; count];
    let bad = |why: &str| {
        let shown: String = ret.chars().take(200).collect();
        format!("{why}: `{shown}`")
    };
    let mut seen = 0;
    for raw in ret.split('\n') {
        let l = raw.strip_suffix('\r').unwrap_or(raw);
        if l.is_empty() {
            continue;
        }
        // A line the script prints starts with an ASCII letter; anything else (a character of
        // several bytes included) is refused below, never split inside a character.
        let Some((head, rest)) = l.split_at_checked(1) else {
            return Err(bad("the batch printed a line it cannot have printed"));
        };
        let (index, id) = match rest.split_once(' ') {
            Some((i, id)) => (i, Some(id)),
            None => (rest, None),
        };
        let n: usize = match index.parse() {
            Ok(n) if index.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => return Err(bad("the batch printed a line it cannot have printed")),
        };
        let reported = match (head, id) {
            ("a", Some(id)) if crate::wire::is_router_id(id) => Reported::Added(id.to_owned()),
            ("s", None) => Reported::Set,
            ("r", None) => Reported::Removed,
            ("e", None) => Reported::Failed,
            _ => return Err(bad("the batch printed a line it cannot have printed")),
        };
        match out.get_mut(n) {
            Some(slot @ None) => *slot = Some(reported),
            Some(Some(_)) => return Err(bad("the batch reported a command twice")),
            None => return Err(bad("the batch reported a command it does not have")),
        }
        seen += 1;
    }
    if seen != count {
        return Err(bad(&format!(
            "the batch reported {seen} of its {count} commands"
        )));
    }
    Ok(out.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> Address {
        Address::parse(s).unwrap()
    }

    #[test]
    fn quoting_leaves_nothing_that_ends_the_string() {
        let check = |value: &str, quoted: &str| assert_eq!(quote(value), quoted, "{value:?}");
        check("routeros-agent", "\"routeros-agent\"");
        check("10.0.0.1/24", "\"10.0.0.1/24\"");
        check("a\"b", "\"a\\\"b\"");
        check("a\\b", "\"a\\\\b\"");
        check("$x", "\"\\$x\"");
        check("$(/system/reboot)", "\"\\$(/system/reboot)\"");
        check("why?", "\"why\\?\"");
        check(
            "x\";/system/reboot;:put \"",
            "\"x\\\";/system/reboot;:put \\\"\"",
        );
        check("a\nb\r\t", "\"a\\0Ab\\0D\\09\"");
        check("é", "\"\\C3\\A9\"");
        check("} on-error={", "\"} on-error={\"");
        check("[/system/reboot]", "\"[/system/reboot]\"");
    }

    #[test]
    fn lines_name_their_index_and_quote_every_value() {
        let a = addr("192.0.2.1");
        assert_eq!(
            line(
                Family::V4,
                7,
                &Command::Add {
                    address: &a,
                    timeout: Duration::from_secs(3661)
                }
            ),
            ":do {:put (\"a7 \".[/ip/firewall/address-list/add list=$l address=\"192.0.2.1\" \
             timeout=\"1h1m1s\" comment=$c])} on-error={:put \"e7\"}\n"
        );
        assert_eq!(
            line(
                Family::V6,
                0,
                &Command::Set {
                    id: "*1A",
                    timeout: Duration::from_secs(60)
                }
            ),
            ":do {/ipv6/firewall/address-list/set numbers=\"*1A\" timeout=\"1m\"; :put \"s0\"} \
             on-error={:put \"e0\"}\n"
        );
        assert_eq!(
            line(Family::V4, 12, &Command::Remove { id: "*FF" }),
            ":do {/ip/firewall/address-list/remove numbers=\"*FF\"; :put \"r12\"} on-error={:put \
             \"e12\"}\n"
        );
        assert_eq!(
            prologue("my \"list\"", "tag$x"),
            ":local l \"my \\\"list\\\"\"; :local c \"tag\\$x\"\n"
        );
    }

    #[test]
    fn replies_are_read_strictly() {
        use Reported::*;
        let ok = |ret: &str, count: usize, expected: Vec<Reported>| {
            assert_eq!(parse(ret, count).unwrap(), expected, "{ret:?}")
        };
        ok(
            "a0 *1A\r\ns1\r\nr2\r\ne3",
            4,
            vec![Added("*1A".into()), Set, Removed, Failed],
        );
        // Out of order, `\n` only, a trailing line break.
        ok("s1\na0 *2\n", 2, vec![Added("*2".into()), Set]);
        ok("", 0, vec![]);
        let refused = |ret: &str, count: usize| {
            assert!(parse(ret, count).is_err(), "{ret:?} accepted");
        };
        refused("", 1);
        refused("a0 *1A", 2);
        refused("a0 *1A\r\na0 *1B", 2);
        refused("a5 *1A", 1);
        refused("a0", 1);
        refused("a0 1A", 1);
        refused("a0 *1a", 1);
        refused("s0 extra", 1);
        refused("x0", 1);
        refused("s+0", 1);
        refused("s-1", 1);
        refused("not enough permissions (9)", 1);
        refused("syntax error (line 1 column 7)", 1);
        refused("s0\r\nfailure: already have such entry", 1);
        // A line that starts with a character of more than one byte is refused, not a panic.
        refused("é0", 1);
        refused("s0\r\n\u{2028}", 1);
    }

    #[test]
    fn batches_fit_the_tolerance_and_the_session_limit() {
        assert_eq!(max_entries(Duration::from_secs(5)), 250);
        assert_eq!(max_entries(Duration::from_secs(60)), 1000);
        assert_eq!(max_entries(Duration::ZERO), 1);
        assert_eq!(WriteMode::parse("bulk"), Some(WriteMode::Bulk));
        assert_eq!(WriteMode::parse("Bulk"), None);
        for m in [WriteMode::Auto, WriteMode::Bulk, WriteMode::Single] {
            assert_eq!(WriteMode::parse(m.name()), Some(m));
        }
    }
}
