//! What `routeros-sim` prints: the banner of a started simulator, control replies as JSON, and the
//! journal as a table.
//!
//! Replies are printed through [`serde_json::Value`], whose keys come out sorted, so the output is
//! the same whatever order a type declares its fields in.
//!
//! Everything goes through [`out`], which stops quietly when the reader has gone (`| head`):
//! `println!` would panic on the broken pipe.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::{JournalPage, Simulator};

/// Writes `text` to standard output. A reader that closed the pipe ends the program quietly with
/// success, as `cat` or `ls` do; other write errors are ignored (there is nowhere to report them).
pub(super) fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        && e.kind() == std::io::ErrorKind::BrokenPipe
    {
        std::process::exit(0);
    }
}

/// `count` and the noun, singular or plural ("1 entry", "2 entries").
pub(super) fn plural(count: u64, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// Prints a control reply as pretty JSON with sorted keys.
pub(super) fn json<T: Serialize>(reply: &T) {
    let text = serde_json::to_value(reply)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_default();
    out(&format!("{text}\n"));
}

/// Prints where a started simulator listens, the users of the seed it loaded, and a `curl`
/// command that works as printed (when there is a user to log in with).
pub(super) fn banner(sim: &Simulator, ca_path: &Path) {
    out(&banner_text(sim, ca_path));
}

fn banner_text(sim: &Simulator, ca_path: &Path) -> String {
    use std::fmt::Write;
    let (version, users) = sim.with_router(|r| {
        let users: Vec<(String, String)> = r
            .users
            .users
            .iter()
            .filter(|u| !u.disabled)
            .map(|u| (u.name.clone(), u.password.clone()))
            .collect();
        (r.version.resource_string(), users)
    });
    let mut t = String::new();
    let _ = writeln!(t, "RouterOS simulator (RouterOS {version}) is running.");
    let _ = writeln!(t, "  www-ssl   {}/rest", sim.https_url());
    if let Some(http) = sim.http_url() {
        let _ = writeln!(t, "  www       {http}/rest");
    }
    if let Some(c) = sim.control_url() {
        let _ = writeln!(
            t,
            "  control   {c}   (routeros-sim --help lists the control subcommands)"
        );
    }
    let _ = writeln!(t, "  CA        {}", ca_path.display());
    if users.is_empty() {
        let _ = writeln!(
            t,
            "  users     none enabled: load a seed with a user (routeros-sim state load FILE)"
        );
    }
    for (i, (name, password)) in users.iter().enumerate() {
        let label = if i == 0 { "users" } else { "" };
        let _ = writeln!(t, "  {label:<9} {name} / {password}");
    }
    // The first user in the seed's order, preferring the default administrator.
    let first = users
        .iter()
        .find(|(n, _)| n == crate::DEFAULT_USER)
        .or(users.first());
    if let Some((user, pw)) = first {
        let _ = writeln!(t);
        let _ = writeln!(t, "Try:");
        let _ = writeln!(
            t,
            "  curl --cacert {} -u '{user}:{pw}' {}/rest/system/resource",
            ca_path.display(),
            sim.https_url()
        );
    }
    let _ = writeln!(t);
    let _ = writeln!(t, "Press Ctrl-C to stop.");
    t
}

/// Microseconds as milliseconds with up to three decimals and no trailing zeros (`120.9`).
fn cost_ms(us: u64) -> String {
    let whole = us / 1000;
    match us % 1000 {
        0 => whole.to_string(),
        frac => format!("{whole}.{frac:03}")
            .trim_end_matches('0')
            .to_owned(),
    }
}

/// Prints a journal page as a table, one request a line.
pub(super) fn journal(page: &JournalPage) {
    out(&journal_table(page));
}

/// The journal as a table whose columns are as wide as their widest cell, so they line up whatever
/// the paths and user names are (the journal keeps at most 1 KiB of each).
fn journal_table(page: &JournalPage) -> String {
    use std::fmt::Write;
    let dash = |v: Option<&str>| v.unwrap_or("-").to_owned();
    let header = [
        "seq", "client", "user", "method", "path", "status", "ms", "cost_ms", "fault",
    ];
    let mut rows: Vec<[String; 9]> = vec![header.map(str::to_owned)];
    for e in &page.entries {
        rows.push([
            e.seq.to_string(),
            e.client.to_string(),
            dash(e.user.as_deref()),
            dash(e.method.as_deref()),
            dash(e.path.as_deref()),
            e.status.map_or("-".to_owned(), |s| s.to_string()),
            e.duration_ms.to_string(),
            cost_ms(e.cost_us),
            dash(e.fault.as_deref()),
        ]);
    }
    let mut widths = [0usize; 9];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    // Numbers are right-aligned, text left-aligned; the last column is not padded.
    let right = [true, false, false, false, false, true, true, true, false];
    let mut out = String::new();
    for row in &rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            let pad = widths[i] - cell.chars().count();
            if right[i] {
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            } else if i + 1 < row.len() {
                line.push_str(cell);
                line.push_str(&" ".repeat(pad));
            } else {
                line.push_str(cell);
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    let _ = writeln!(
        out,
        "next mark: {}   dropped: {}",
        page.next_mark,
        plural(page.dropped, "entry", "entries")
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_banner_shows_the_seeds_users_and_a_curl_that_logs_in() {
        let seed: crate::Seed =
            toml::from_str("[[user]]\nname = \"ops\"\npassword = \"pw1\"\ngroup = \"full\"\n")
                .expect("a seed");
        let sim = Simulator::builder()
            .seed(seed)
            .start()
            .await
            .expect("starts");
        let text = banner_text(&sim, Path::new("/x/ca.pem"));
        assert!(text.contains("ops / pw1"), "{text}");
        assert!(!text.contains("admin / admin"), "{text}");
        assert!(text.contains("-u 'ops:pw1'"), "{text}");
        let sim = Simulator::builder()
            .admin_password(None)
            .start()
            .await
            .expect("starts");
        let text = banner_text(&sim, Path::new("/x/ca.pem"));
        assert!(text.contains("none enabled"), "{text}");
        assert!(!text.contains("curl"), "{text}");
    }
    use crate::{JournalEntry, Listener};

    #[test]
    fn the_journal_table_has_a_line_per_entry_and_dashes_for_what_is_missing() {
        let entry = |seq, method: Option<&str>, status| JournalEntry {
            seq,
            time_ms: 0,
            sim_ms: 0,
            client: "127.0.0.1:50000".parse().unwrap(),
            listener: Listener::WwwSsl,
            user: method.map(|_| "admin".to_owned()),
            method: method.map(str::to_owned),
            path: method.map(|_| "/rest/system/identity".to_owned()),
            status,
            fault: status.is_none().then(|| "reset (rule 1)".to_owned()),
            duration_ms: 3,
            cost_us: 120_900,
        };
        let page = JournalPage {
            entries: vec![entry(1, Some("GET"), Some(200)), entry(2, None, None)],
            next_mark: 3,
            dropped: 0,
        };
        let table = journal_table(&page);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 4, "{table}");
        assert!(lines[0].trim_start().starts_with("seq"), "{table}");
        let cells: Vec<&str> = lines[1].split_whitespace().collect();
        assert_eq!(
            cells,
            [
                "1",
                "127.0.0.1:50000",
                "admin",
                "GET",
                "/rest/system/identity",
                "200",
                "3",
                "120.9",
                "-"
            ]
        );
        let cells: Vec<&str> = lines[2].split_whitespace().collect();
        assert_eq!(
            cells,
            [
                "2",
                "127.0.0.1:50000",
                "-",
                "-",
                "-",
                "-",
                "3",
                "120.9",
                "reset",
                "(rule",
                "1)"
            ]
        );
        assert_eq!(lines[3], "next mark: 3   dropped: 0 entries");
        // Every column starts at the same offset on every line.
        let at = |line: &str, cell: &str| line.find(cell).expect("a cell");
        assert_eq!(at(lines[0], "path"), at(lines[1], "/rest/system/identity"));
        assert_eq!(at(lines[0], "fault"), at(lines[2], "reset (rule 1)"));
        assert_eq!(plural(1, "entry", "entries"), "1 entry");
        assert_eq!(cost_ms(0), "0");
        assert_eq!(cost_ms(6_000), "6");
        assert_eq!(cost_ms(1_050), "1.05");
    }
}
