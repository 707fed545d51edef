//! Passive mode's pure parts: what the feed holds, how it is paged, the RouterOS script a router
//! runs to pull it, and what the router's log says about the last run.
//!
//! In passive mode the agent never writes the list: it serves the live grants as a feed (the
//! vendor's "EDL": one address per line behind HTTP Basic authentication with user `apikey`, see
//! the README's passive-mode section for the sources), and a `/system/scheduler` entry on the
//! router runs a `/system/script` that fetches the feed with `/tool/fetch` and updates the list.
//! RouterOS has no built-in URL source for address lists, which is why every well-known importer
//! is such a script (eworm-de/routeros-scripts `fw-addr-lists`, multiduplikator/mikrotik_blocklist,
//! pwlgrzs/Mikrotik-Blacklist).
//!
//! Nothing here does I/O: the daemon serves [`page_after`] and [`page`] (`daemon/feed.rs`), `passive install` writes
//! [`script_source`] (`commands/passive.rs`), and `passive status` judges the log with
//! [`judge_log`].

use std::net::IpAddr;
use std::time::Duration;

use crate::address::{Address, Family};
use crate::clock::Time;
use crate::duration;
use crate::error::Code;
use crate::plan::Grant;

/// Addresses per feed page (`?after=<address>`, `?page=N`). `/tool/fetch output=user` keeps at most 64,512 bytes and
/// cuts a longer body without an error (MikroTik manual, "Fetch", 2026); the longest line the feed
/// writes is an IPv6 address with its prefix (`ffff:...:ffff/128`, 43 bytes) and a newline, so a
/// page of 1,000 lines is at most 44,000 bytes and is never cut. Paging follows CrowdSec's
/// MikroTik importer for small devices (crowdsecurity/crowdsec-docs PR #885), which fetches a long
/// list in pages for the same reason; it needs no `/file/read` (7.13.5+) and no `ftp` policy.
pub const PAGE_LINES: usize = 1000;

/// The most pages a run fetches (1,000,000 addresses): a bound so that a feed that never ends
/// cannot keep the script running.
pub const MAX_PAGES: usize = 1000;

/// The default fail-closed multiple: an entry the script adds or refreshes lives three intervals,
/// so a run that fails once (a feed restart, a slow network) does not drop access, and access ends
/// by itself at most three intervals after the feed stops.
pub const DEFAULT_FAIL_CLOSED_MULTIPLE: u32 = 3;

/// The feed's path for a list: stable for as long as the list keeps its name.
pub fn feed_path(list: &str) -> String {
    format!("/feed/v1/lists/{list}.txt")
}

/// The feed's one total order, in which it is listed and paged: IPv4 before IPv6, then the
/// numeric value of the network address, then the prefix length. A cursor (`?after=`) is compared
/// in the same order, so a page starts right after the last address the router received whatever
/// was added or removed before it in the meantime.
pub fn feed_order(a: &Address) -> (Family, u128, u8) {
    let text = a.as_str();
    let addr = text.split_once('/').map_or(text, |(addr, _)| addr);
    let value = match addr.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => u128::from(u32::from(v4)),
        Ok(IpAddr::V6(v6)) => u128::from(v6),
        // `Address` holds only parsed addresses; this arm is never taken.
        Err(_) => 0,
    };
    (a.family(), value, a.prefix_len())
}

/// The addresses the feed of `list` holds at `now`: the live grants of every family whose list is
/// `list`, each address once, as RouterOS stores it (an IPv4 host without `/32`, an IPv6 host with
/// `/128`: `Address` is already in that form), in [`feed_order`].
pub fn feed_lines(grants: &[Grant], list: &str, lists: (&str, &str), now: Time) -> Vec<String> {
    let mut out: Vec<((Family, u128, u8), &str)> = grants
        .iter()
        .filter(|g| g.expires > now)
        .filter_map(|g| {
            let family = g.address.family();
            let name = match family {
                Family::V4 => lists.0,
                Family::V6 => lists.1,
            };
            (name == list).then(|| (feed_order(&g.address), g.address.as_str()))
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out.into_iter().map(|(_, a)| a.to_owned()).collect()
}

/// The text of one page (`Some(n)`) or of the whole feed (`None`): one address per line, each line
/// ending in a newline; an empty text when the page is past the end. Numbered pages are what
/// scripts installed by earlier versions fetch; they shift when a grant before them goes.
pub fn page(lines: &[String], page: Option<usize>) -> String {
    let slice = match page {
        None => lines,
        Some(n) => {
            let start = n.saturating_mul(PAGE_LINES).min(lines.len());
            &lines[start..(start + PAGE_LINES).min(lines.len())]
        }
    };
    text(slice)
}

/// The page of the [`PAGE_LINES`] addresses that follow `after` in [`feed_order`] (the first page
/// when `None`): what the script fetches, so that no address is skipped when one before the
/// cursor goes between two fetches. `lines` are [`feed_lines`], already in that order.
pub fn page_after(lines: &[String], after: Option<&Address>) -> String {
    let start = after.map_or(0, |after| {
        let cursor = feed_order(after);
        lines.partition_point(|l| Address::parse(l).is_ok_and(|a| feed_order(&a) <= cursor))
    });
    text(&lines[start..(start + PAGE_LINES).min(lines.len())])
}

fn text(slice: &[String]) -> String {
    let mut out = String::with_capacity(slice.len() * 16);
    for l in slice {
        out.push_str(l);
        out.push('\n');
    }
    out
}

/// What the router-side script needs to know.
#[derive(Debug, Clone)]
pub struct ScriptParams {
    /// The ownership tag (entries' `comment`; the script's and scheduler entry's name and comment).
    pub tag: String,
    /// The feed URL of each list the script keeps, with the list's name.
    pub feeds: Vec<(String, String)>,
    /// The scheduler interval.
    pub interval: Duration,
    /// Entries live `multiple` × `interval`.
    pub multiple: u32,
    /// The feed's API key, written into the script (see the README: where the key lives).
    pub key: String,
}

impl ScriptParams {
    /// The timeout the script gives the entries it adds and refreshes.
    pub fn timeout(&self) -> Duration {
        self.interval.saturating_mul(self.multiple)
    }
}

/// A RouterOS string literal, quoted as every value the agent puts into a script is
/// ([`crate::batch::quote`]).
pub use crate::batch::quote;

/// The prefix of every log line the script writes (`:log`), by which `passive status` finds them.
pub fn log_prefix(tag: &str) -> String {
    format!("{tag} feed: ")
}

/// The RouterOS script that pulls the feed and updates the lists.
///
/// For each feed it fetches page after page (`?after=<the last address received>`, empty for the
/// first page; [`PAGE_LINES`] addresses each, until a shorter page) with `check-certificate=yes` and Basic credentials `apikey` / key, collecting the
/// addresses in a keyed array per family (an IPv6 address has a `:`). A failed fetch is logged
/// under `script,error` with the router's text (`failure: Status 401, Unauthorized`,
/// `failure: SSL: ssl: no trusted CA certificate found (6)`, ...) and ends the run with `:error`,
/// so the list is never changed from a partial feed; the entries then expire on their own after
/// `multiple` × `interval` (fail closed). A feed still going after [`MAX_PAGES`] full pages ends
/// the run the same way, since removing entries beyond a cut-short feed would drop live grants. With the whole feed read, it walks the entries the agent
/// owns (its tag in `comment`; `print as-value where` so the list is read once, not once per
/// address), removes those not in the feed, refreshes those whose remaining time has fallen below
/// half the timeout (so that a 10,000-address list is not rewritten on every run), and adds the
/// missing ones with the timeout. An address held by an entry the agent does not own is left alone
/// (`failure: already have such entry` is caught and logged as a warning). The last line logs what
/// it did, which `passive status` reads.
pub fn script_source(p: &ScriptParams) -> String {
    let timeout = duration::format(p.timeout());
    let half = duration::format(p.timeout() / 2);
    let prefix = log_prefix(&p.tag);
    let mut s = String::new();
    s.push_str(&format!(
        "# Written by routeros-agent passive install ({}): pulls the agent's feed and keeps\n\
         # the entries commented {} in step with it. Changes here are overwritten by install.\n",
        // Escaped: a line break in the tag would end the comment and start a command.
        p.tag.escape_debug(),
        quote(&p.tag)
    ));
    s.push_str(&format!(":local tag {}\n", quote(&p.tag)));
    s.push_str(&format!(":local logp {}\n", quote(&prefix)));
    s.push_str(&format!(":local key {}\n", quote(&p.key)));
    s.push_str(&format!(":local tmo {timeout}\n:local half {half}\n"));
    s.push_str(":local added 0\n:local refreshed 0\n:local removed 0\n:local total 0\n");
    for (url, list) in &p.feeds {
        // Each list in a block of its own, so that its locals are its own.
        s.push_str(&format!(
            "\n# {}\n:do {{\n:local url {}\n:local list {}\n",
            list.escape_debug(),
            quote(url),
            quote(list)
        ));
        s.push_str(&format!(
            r#":local want4 [:toarray ""]
:local want6 [:toarray ""]
:local page 0
:local last ""
:local more true
:while ($more) do={{
  :local r
  :onerror e in={{
    :set r [/tool/fetch url=($url . "?after=" . $last) user="apikey" password=$key check-certificate=yes output=user as-value]
  }} do={{
    :log error ($logp . $e)
    :error ($logp . $e)
  }}
  :local d ($r->"data")
  :local n 0
  :local pos 0
  :local len [:len $d]
  :while ($pos < $len) do={{
    :local nl [:find $d "\n" ($pos - 1)]
    :if ([:typeof $nl] != "num") do={{ :set nl $len }}
    :local a [:pick $d $pos $nl]
    :if ([:len $a] > 0) do={{
      :if ([:typeof [:find $a ":"]] = "num") do={{ :set ($want6->$a) 1 }} else={{ :set ($want4->$a) 1 }}
      :set n ($n + 1)
      :set last $a
    }}
    :set pos ($nl + 1)
  }}
  :set total ($total + $n)
  :set page ($page + 1)
  :if ($n < {PAGE_LINES}) do={{ :set more false }} else={{
    :if ($page >= {MAX_PAGES}) do={{
      :log error ($logp . "the feed is longer than {MAX_PAGES} pages; nothing changed")
      :error ($logp . "the feed is longer than {MAX_PAGES} pages; nothing changed")
    }}
  }}
}}
"#
        ));
        for (menu, want) in [
            ("/ip/firewall/address-list", "want4"),
            ("/ipv6/firewall/address-list", "want6"),
        ] {
            s.push_str(&format!(
                r#":do {{
:local have [:toarray ""]
:foreach e in=[{menu}/print as-value where list=$list and comment=$tag and dynamic] do={{
  :local a ($e->"address")
  :if ([:typeof (${want}->$a)] = "nothing") do={{
    {menu}/remove ($e->".id")
    :set removed ($removed + 1)
  }} else={{
    :set ($have->$a) 1
    :if ([:totime ($e->"timeout")] < $half) do={{
      {menu}/set ($e->".id") timeout=$tmo
      :set refreshed ($refreshed + 1)
    }}
  }}
}}
:foreach a,v in=${want} do={{
  :if ([:typeof ($have->$a)] = "nothing") do={{
    :onerror e in={{
      {menu}/add list=$list address=$a timeout=$tmo comment=$tag
      :set added ($added + 1)
    }} do={{ :log warning ($logp . $a . " not added: " . $e) }}
  }}
}}
}}
"#
            ));
        }
        s.push_str("}\n");
    }
    s.push_str(
        ":log info ($logp . \"ok \" . $total . \" addresses, \" . $added . \" added, \" . $refreshed . \" refreshed, \" . $removed . \" removed\")\n",
    );
    s
}

/// What the router's log says about the script's last run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LastRun {
    /// No line of the script's in the log.
    Unknown,
    /// The run finished: the script's `ok` line.
    Ok(String),
    /// The run failed with this code and the router's text.
    Failed(Code, String),
}

/// Judges the log lines (`(topics, message)`, oldest first) about the script named `name` whose
/// lines start with [`log_prefix`]: the newest line that tells the outcome of a run wins.
///
/// A fetch failure carries the router's text (research: `failure: Status 401, Unauthorized`,
/// `failure: SSL: ssl: no trusted CA certificate found (6)`, `failure: Connection refused`,
/// `failure: Idle timeout - connecting`; MikroTik manual "Fetch" and the notes in
/// `fixtures/README.md`): 401 and 403 are the key refused, `SSL` the certificate refused, anything
/// else the feed unreachable. A failure the script did not log itself shows as the scheduler's
/// `executing script <name> from scheduler (...) failed` line (MikroTik manual, Scripting): the
/// script failed.
pub fn judge_log(lines: &[(String, String)], tag: &str, name: &str) -> LastRun {
    let prefix = log_prefix(tag);
    let scheduler = format!("executing script {name} from scheduler");
    let mut last = LastRun::Unknown;
    let mut i = 0;
    while i < lines.len() {
        let (topics, message) = &lines[i];
        if let Some(rest) = message.strip_prefix(&prefix) {
            if topics.contains("error") {
                let code = if rest.contains("Status 401") || rest.contains("Status 403") {
                    Code::FeedKeyRefused
                } else if rest.contains("SSL") {
                    Code::FeedCertificateRefused
                } else if rest.contains("failure:") {
                    Code::FeedUnreachable
                } else {
                    Code::FeedScriptFailed
                };
                last = LastRun::Failed(code, rest.to_owned());
                // The scheduler's own two lines about the same failure follow; skip them.
                while i + 1 < lines.len()
                    && (lines[i + 1].1.starts_with(&scheduler)
                        || lines[i + 1].1.contains(rest.trim()))
                {
                    i += 1;
                }
            } else if rest.starts_with("ok ") {
                last = LastRun::Ok(rest.to_owned());
            }
        } else if message.starts_with(&scheduler) {
            // The script failed without a line of its own: the next (debug) line has the reason.
            let reason = lines
                .get(i + 1)
                .filter(|(t, _)| t.contains("debug"))
                .map(|(_, m)| m.clone())
                .unwrap_or_else(|| message.clone());
            last = LastRun::Failed(Code::FeedScriptFailed, reason);
        }
        i += 1;
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(a: &str, expires: u64) -> Grant {
        Grant {
            address: Address::parse(a).unwrap(),
            user: "u".into(),
            expires: Time(expires),
        }
    }

    #[test]
    fn the_feed_holds_live_addresses_once_as_routeros_stores_them() {
        let grants = vec![
            grant("192.0.2.10/32", 100),
            grant("192.0.2.10", 200),
            grant("2001:DB8::1", 100),
            grant("198.51.100.0/24", 100),
            grant("192.0.2.99", 5),
        ];
        let lines = feed_lines(&grants, "l", ("l", "l"), Time(10));
        assert_eq!(
            lines,
            vec!["192.0.2.10", "198.51.100.0/24", "2001:db8::1/128"]
        );
        assert_eq!(
            feed_lines(&grants, "v6", ("l", "v6"), Time(10)),
            vec!["2001:db8::1/128"]
        );
        assert!(feed_lines(&grants, "other", ("l", "l"), Time(10)).is_empty());
    }

    #[test]
    fn pages_hold_at_most_a_page_of_lines_and_fit_fetch() {
        let lines: Vec<String> = (0..2500)
            .map(|i| format!("ffff:ffff:ffff:ffff:ffff:ffff:ffff:{i:04x}/128"))
            .collect();
        let p0 = page(&lines, Some(0));
        assert_eq!(p0.lines().count(), PAGE_LINES);
        assert!(p0.len() <= 64_512, "{}", p0.len());
        assert_eq!(page(&lines, Some(2)).lines().count(), 500);
        assert_eq!(page(&lines, Some(3)), "");
        assert_eq!(page(&lines, Some(usize::MAX)), "");
        assert_eq!(page(&lines, None).lines().count(), 2500);
    }

    #[test]
    fn quoting_keeps_values_inside_the_string() {
        assert_eq!(quote(r#"a"b\c$d"#), r#""a\"b\\c\$d""#);
        assert_eq!(quote("x\ny"), r#""x\0Ay""#);
    }

    fn check(lines: &[(&str, &str)], expected: LastRun) {
        let lines: Vec<(String, String)> = lines
            .iter()
            .map(|(t, m)| ((*t).to_owned(), (*m).to_owned()))
            .collect();
        assert_eq!(judge_log(&lines, "tag", "tag"), expected);
    }

    #[test]
    fn the_log_tells_the_last_run() {
        check(&[], LastRun::Unknown);
        check(
            &[(
                "script,info",
                "tag feed: ok 3 addresses, 3 added, 0 refreshed, 0 removed",
            )],
            LastRun::Ok("ok 3 addresses, 3 added, 0 refreshed, 0 removed".into()),
        );
        let fail =
            |text: &str| {
                [
                ("script,error", format!("tag feed: {text}")),
                (
                    "script,error",
                    "executing script tag from scheduler (tag) failed, please check it manually"
                        .into(),
                ),
                ("script,error,debug", format!("tag feed: {text} (:error; line 9)")),
            ]
            };
        for (text, code) in [
            ("failure: Status 401, Unauthorized", Code::FeedKeyRefused),
            (
                "failure: SSL: ssl: no trusted CA certificate found (6)",
                Code::FeedCertificateRefused,
            ),
            ("failure: Connection refused", Code::FeedUnreachable),
            ("failure: Idle timeout - connecting", Code::FeedUnreachable),
        ] {
            let lines = fail(text);
            let lines: Vec<(&str, &str)> = lines.iter().map(|(t, m)| (*t, m.as_str())).collect();
            check(&lines, LastRun::Failed(code, text.into()));
        }
        check(
            &[
                (
                    "script,info",
                    "tag feed: ok 1 addresses, 1 added, 0 refreshed, 0 removed",
                ),
                (
                    "script,error",
                    "executing script tag from scheduler (tag) failed, please check it manually",
                ),
                ("script,error,debug", "syntax error (line 1 column 7)"),
            ],
            LastRun::Failed(
                Code::FeedScriptFailed,
                "syntax error (line 1 column 7)".into(),
            ),
        );
        // A later success wins over an earlier failure.
        check(
            &[
                ("script,error", "tag feed: failure: Connection refused"),
                (
                    "script,info",
                    "tag feed: ok 0 addresses, 0 added, 0 refreshed, 0 removed",
                ),
            ],
            LastRun::Ok("ok 0 addresses, 0 added, 0 refreshed, 0 removed".into()),
        );
    }

    #[test]
    fn a_feed_cut_short_by_the_page_limit_ends_the_run_before_any_change() {
        let p = ScriptParams {
            tag: "t".into(),
            feeds: vec![(
                "https://feed.example/feed/v1/lists/l.txt".into(),
                "l".into(),
            )],
            interval: Duration::from_secs(60),
            multiple: 3,
            key: "k".into(),
        };
        let s = script_source(&p);
        // Only a short page ends the loop normally; reaching the limit is an error.
        assert!(s.contains(&format!(
            ":if ($n < {PAGE_LINES}) do={{ :set more false }} else={{"
        )));
        assert!(!s.contains(&format!("or $page >= {MAX_PAGES}")));
        let limit = s
            .find(&format!(":if ($page >= {MAX_PAGES}) do={{"))
            .expect("the limit");
        let error = s[limit..].find(":error ($logp . ").expect(":error") + limit;
        let log = s[limit..].find(":log error ($logp . ").expect(":log") + limit;
        assert!(log < error);
        // The error comes before the first change to a list.
        let first_change = s.find("/remove").unwrap().min(s.find("/add ").unwrap());
        assert!(error < first_change);
    }

    #[test]
    fn names_in_the_scripts_comments_cannot_start_a_command() {
        let p = ScriptParams {
            tag: "t\n/system/reboot".into(),
            feeds: vec![(
                "https://feed.example/feed/v1/lists/l.txt".into(),
                "l\r/system/reboot".into(),
            )],
            interval: Duration::from_secs(60),
            multiple: 3,
            key: "k".into(),
        };
        let s = script_source(&p);
        for line in s.split(['\n', '\r']) {
            assert!(
                !line.trim_start().starts_with("/system/reboot"),
                "a name became a command: {line:?}"
            );
        }
    }
}
