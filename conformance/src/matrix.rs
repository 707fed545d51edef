//! The version matrix: the suite against in-process simulators of several RouterOS versions, and
//! a table of the scenarios whose outcome differs between them.
//!
//! `routeros-conformance --routeros-version all` runs every scenario once per version of
//! [`simulator::model::version::MATRIX`] (one version in every stretch between two of the
//! simulator's version switches); `--routeros-version 7.18.2,7.23.7` runs the listed ones. Each
//! version is a whole run with its own fresh simulators, and libtest's terse output per version;
//! at the end [`table`] shows, scenario by scenario, where the outcome changes with the version
//! (the wire checks among them), so a user sees version drift at a glance. Scenarios that agree on
//! every version are only counted.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use simulator::Version;

use crate::report::{Record, Status};

/// The versions `--routeros-version` names: `all`, one version, or several separated by commas.
pub fn versions(arg: &str) -> Result<Vec<Version>, String> {
    let words: Vec<&str> = match arg.trim() {
        "all" => simulator::model::version::MATRIX.to_vec(),
        list => list.split(',').map(str::trim).collect(),
    };
    let parsed: Result<Vec<Version>, String> = words
        .iter()
        .map(|w| {
            w.parse::<Version>().map_err(|e| {
                format!("--routeros-version `{w}`: {e} (use `all` or versions such as 7.19.4)")
            })
        })
        .collect();
    match parsed? {
        v if v.is_empty() => Err("--routeros-version: name at least one version, or `all`".into()),
        v => Ok(v),
    }
}

/// One version's run: the version and its scenarios' records.
#[derive(Debug, Clone)]
pub struct Column {
    /// The simulator's version.
    pub version: String,
    /// What each scenario did.
    pub records: Vec<Record>,
}

/// A cell of the table: short enough to line up.
fn cell(status: Option<&Status>) -> &'static str {
    match status {
        Some(Status::Passed) => "pass",
        Some(Status::Failed(_)) => "FAIL",
        Some(Status::Ignored(_)) => "ignored",
        Some(Status::KnownDivergence(_)) => "known",
        None => "-",
    }
}

/// The table: one row per scenario whose outcome differs between the columns, one column per
/// version, then a count of the scenarios that agree everywhere.
pub fn table(columns: &[Column]) -> String {
    let mut by_name: BTreeMap<&str, Vec<Option<&Status>>> = BTreeMap::new();
    for (i, c) in columns.iter().enumerate() {
        for r in &c.records {
            let row = by_name
                .entry(r.name.as_str())
                .or_insert_with(|| vec![None; columns.len()]);
            row[i] = Some(&r.status);
        }
    }
    let differing: Vec<(&str, Vec<&'static str>)> = by_name
        .iter()
        .map(|(name, row)| (*name, row.iter().map(|s| cell(*s)).collect::<Vec<_>>()))
        .filter(|(_, cells)| cells.iter().any(|c| *c != cells[0]))
        .collect();
    let agreeing = by_name.len() - differing.len();
    let width = differing
        .iter()
        .map(|(n, _)| n.len())
        .max()
        .unwrap_or(8)
        .max("scenario".len());
    let col = |v: &str| v.len().max("ignored".len());
    let mut out = String::new();
    let _ = writeln!(
        out,
        "version matrix: {} version(s), {} scenario(s); {} differ by version, {} agree on every version",
        columns.len(),
        by_name.len(),
        differing.len(),
        agreeing
    );
    if differing.is_empty() {
        return out;
    }
    let _ = write!(out, "{:width$}", "scenario");
    for c in columns {
        let _ = write!(out, "  {:w$}", c.version, w = col(&c.version));
    }
    out.push('\n');
    for (name, cells) in &differing {
        let _ = write!(out, "{name:width$}");
        for (c, text) in columns.iter().zip(cells) {
            let _ = write!(out, "  {:w$}", text, w = col(&c.version));
        }
        out.push('\n');
    }
    // Padding ends no line.
    out.lines().map(|l| format!("{}\n", l.trim_end())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(name: &str, status: Status) -> Record {
        Record {
            name: name.into(),
            codes: Vec::new(),
            status,
            millis: 0,
            local: false,
        }
    }

    #[test]
    fn versions_are_all_one_or_a_list() {
        let all = versions("all").unwrap();
        assert_eq!(all.len(), simulator::model::version::MATRIX.len());
        let two: Vec<String> = versions("7.18.2, 7.23.7")
            .unwrap()
            .iter()
            .map(|v| v.to_string())
            .collect();
        assert_eq!(two, ["7.18.2", "7.23.7"]);
        assert!(versions("seven").unwrap_err().contains("`seven`"));
        assert!(versions("").is_err());
    }

    #[test]
    fn the_table_lists_only_what_differs() {
        let columns = [
            Column {
                version: "7.18.2".into(),
                records: vec![
                    record("wire::a", Status::Failed("array".into())),
                    record("wire::b", Status::Passed),
                ],
            },
            Column {
                version: "7.23.7".into(),
                records: vec![
                    record("wire::a", Status::Passed),
                    record("wire::b", Status::Passed),
                ],
            },
        ];
        let t = table(&columns);
        assert!(t.starts_with(
            "version matrix: 2 version(s), 2 scenario(s); 1 differ by version, 1 agree on every version\n"
        ));
        assert!(t.contains("wire::a   FAIL     pass"), "{t}");
        assert!(!t.contains("wire::b"), "{t}");
    }
}
