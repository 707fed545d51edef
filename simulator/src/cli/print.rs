//! What `routeros-sim` prints: the banner of a started simulator, control replies as JSON, and the
//! journal as a table.
//!
//! Replies are printed through [`serde_json::Value`], whose keys come out sorted, so the output is
//! the same whatever order a type declares its fields in.

use std::path::Path;

use serde::Serialize;

use crate::{JournalPage, Simulator};

/// Prints a control reply as pretty JSON with sorted keys.
pub(super) fn json<T: Serialize>(reply: &T) {
    let text = serde_json::to_value(reply)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_default();
    println!("{text}");
}

/// Prints where a started simulator listens, its user, and a `curl` command that works as printed.
pub(super) fn banner(sim: &Simulator, ca_path: &Path) {
    let (user, pw) = sim.with_router(|r| {
        let u = r
            .users
            .users
            .iter()
            .find(|u| u.name == crate::DEFAULT_USER)
            .or(r.users.users.first());
        u.map(|u| (u.name.clone(), u.password.clone()))
            .unwrap_or_default()
    });
    println!(
        "RouterOS simulator (RouterOS {}) is running.",
        sim.with_router(|r| r.version.resource_string())
    );
    println!("  www-ssl   {}/rest", sim.https_url());
    if let Some(http) = sim.http_url() {
        println!("  www       {http}/rest");
    }
    if let Some(c) = sim.control_url() {
        println!("  control   {c}   (routeros-sim --help lists the control subcommands)");
    }
    println!("  CA        {}", ca_path.display());
    println!("  user      {user} / {pw}");
    println!();
    println!("Try:");
    println!(
        "  curl --cacert {} -u {user}:{pw} {}/rest/system/resource",
        ca_path.display(),
        sim.https_url()
    );
    println!();
    println!("Press Ctrl-C to stop.");
}

/// Prints a journal page as a table, one request a line.
pub(super) fn journal(page: &JournalPage) {
    print!("{}", journal_table(page));
}

fn journal_table(page: &JournalPage) -> String {
    use std::fmt::Write;
    let dash = |v: Option<&str>| v.unwrap_or("-").to_owned();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>6}  {:<21}  {:<12}  {:<6}  {:<44}  {:>6}  {:>6}  fault",
        "seq", "client", "user", "method", "path", "status", "ms"
    );
    for e in &page.entries {
        let status = e.status.map_or("-".to_owned(), |s| s.to_string());
        let _ = writeln!(
            out,
            "{:>6}  {:<21}  {:<12}  {:<6}  {:<44}  {:>6}  {:>6}  {}",
            e.seq,
            e.client.to_string(),
            dash(e.user.as_deref()),
            dash(e.method.as_deref()),
            dash(e.path.as_deref()),
            status,
            e.duration_ms,
            dash(e.fault.as_deref()),
        );
    }
    let _ = writeln!(
        out,
        "next mark: {}   dropped: {}",
        page.next_mark, page.dropped
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
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
                "reset",
                "(rule",
                "1)"
            ]
        );
        assert_eq!(lines[3], "next mark: 3   dropped: 0");
    }
}
