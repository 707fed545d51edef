//! What happened to each scenario, the coverage table, and the JSON and JUnit files.
//!
//! libtest-mimic prints each trial and a summary but hands back only counts, so every trial also
//! writes a [`Record`] here: passed, failed, ignored (with the missing capability) or a known
//! divergence. The coverage table then answers the question the suite exists for: for each error code
//! of the contract, did the agent produce it on this target, and if not, why not.

use std::fmt::Write as _;
use std::path::Path;

use agent::Code;
use serde_json::{Value, json};

/// A scenario's result on this target.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status", content = "message", rename_all = "kebab-case")]
pub enum Status {
    /// Ran and passed.
    Passed,
    /// Ran and failed.
    Failed(String),
    /// Not run: the target lacks a capability (the reason).
    Ignored(String),
    /// Failed as `divergences.toml` expects (the reason).
    KnownDivergence(String),
}

/// One scenario's record.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Record {
    /// Full trial name.
    pub name: String,
    /// The codes it asserts.
    pub codes: Vec<u32>,
    /// What happened.
    #[serde(flatten)]
    pub status: Status,
    /// Wall time in milliseconds (0 when not run).
    pub millis: u64,
    /// A local check: it never contacts the target, so its pass proves nothing about it.
    pub local: bool,
}

fn summary(records: &[&Record]) -> (String, String) {
    let failed: Vec<&&Record> = records
        .iter()
        .filter(|r| matches!(r.status, Status::Failed(_)))
        .collect();
    let passed = records
        .iter()
        .filter(|r| r.status == Status::Passed)
        .count();
    let passed_here = records
        .iter()
        .filter(|r| r.status == Status::Passed && !r.local)
        .count();
    let diverged: Vec<&&Record> = records
        .iter()
        .filter(|r| matches!(r.status, Status::KnownDivergence(_)))
        .collect();
    let mut ignored: Vec<String> = records
        .iter()
        .filter_map(|r| match &r.status {
            Status::Ignored(why) => Some(why.clone()),
            _ => None,
        })
        .collect();
    ignored.sort();
    ignored.dedup();
    if !failed.is_empty() {
        let names: Vec<&str> = failed.iter().map(|r| r.name.as_str()).collect();
        return ("FAILED".into(), names.join(", "));
    }
    if passed > 0 {
        let mut why = format!("{passed} of {} scenario(s)", records.len());
        if passed_here < passed {
            let _ = write!(
                why,
                " ({} a local check that never contacts the target)",
                passed - passed_here
            );
        }
        let n_ignored = records
            .iter()
            .filter(|r| matches!(r.status, Status::Ignored(_)))
            .count();
        if n_ignored > 0 {
            let _ = write!(why, "; {n_ignored} ignored: {}", ignored.join("; "));
        }
        // Only local checks passed: the agent produced the code, but not against this target.
        let outcome = if passed_here > 0 { "passed" } else { "local" };
        return (outcome.into(), why);
    }
    if !diverged.is_empty() {
        return ("divergent".into(), diverged[0].name.clone());
    }
    if !ignored.is_empty() {
        return ("ignored".into(), ignored.join("; "));
    }
    ("not run".into(), "filtered out".into())
}

/// The coverage table: one line per code of the contract.
pub fn coverage_table(target: &str, records: &[Record]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\nerror-code coverage on {target}:");
    let _ = writeln!(out, "{:<8} {:<30} {:<9} detail", "code", "name", "outcome");
    for code in Code::ALL {
        let mine: Vec<&Record> = records
            .iter()
            .filter(|r| r.codes.contains(&code.number()))
            .collect();
        let (outcome, detail) = summary(&mine);
        let _ = writeln!(
            out,
            "{:<8} {:<30} {:<9} {detail}",
            code.number(),
            code.name(),
            outcome
        );
    }
    let _ = writeln!(out, "{}", counts_line(records));
    out
}

/// The counts as libtest's own summary line gives them (every trial, the catalogue's checks
/// included; a known divergence is an ignored trial), with the known divergences named apart.
pub fn counts_line(records: &[Record]) -> String {
    let count = |f: fn(&Status) -> bool| records.iter().filter(|r| f(&r.status)).count();
    let diverged = count(|s| matches!(s, Status::KnownDivergence(_)));
    let mut line = format!(
        "trials: {} passed; {} failed; {} ignored",
        count(|s| *s == Status::Passed),
        count(|s| matches!(s, Status::Failed(_))),
        count(|s| matches!(s, Status::Ignored(_) | Status::KnownDivergence(_))),
    );
    if diverged > 0 {
        let _ = write!(
            line,
            " ({diverged} of them {}, see divergences.toml)",
            if diverged == 1 {
                "a known divergence"
            } else {
                "known divergences"
            }
        );
    }
    line
}

/// The JSON report.
pub fn json_report(target: &str, records: &[Record], safety: &[String]) -> Value {
    let coverage: Vec<Value> = Code::ALL
        .iter()
        .map(|code| {
            let mine: Vec<&Record> = records
                .iter()
                .filter(|r| r.codes.contains(&code.number()))
                .collect();
            let (outcome, detail) = summary(&mine);
            json!({
                "code": code.number(),
                "name": code.name(),
                "outcome": outcome,
                "detail": detail,
                "scenarios": mine.iter().map(|r| r.name.clone()).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "target": target,
        "scenarios": records,
        "coverage": coverage,
        "safety": { "ok": safety.is_empty(), "problems": safety },
    })
}

fn xml_escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '&' => "&amp;".into(),
            '<' => "&lt;".into(),
            '>' => "&gt;".into(),
            '"' => "&quot;".into(),
            '\'' => "&apos;".into(),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => " ".into(),
            c => c.to_string(),
        })
        .collect()
}

/// The JUnit XML report (one test suite; ignored scenarios and known divergences are `skipped`
/// with the reason, as libtest counts them). On a shared target (`safety` given) the safety
/// protocol's verdict is one more test case, `safety::device_left_as_found`.
pub fn junit_report(target: &str, records: &[Record], safety: Option<&[String]>) -> String {
    let failures = records
        .iter()
        .filter(|r| matches!(r.status, Status::Failed(_)))
        .count()
        + usize::from(safety.is_some_and(|s| !s.is_empty()));
    let skipped = records
        .iter()
        .filter(|r| matches!(r.status, Status::Ignored(_) | Status::KnownDivergence(_)))
        .count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites><testsuite name=\"routeros-conformance\" hostname=\"{}\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\">",
        xml_escape(target),
        records.len() + usize::from(safety.is_some())
    );
    for r in records {
        let (class, name) = r.name.rsplit_once("::").unwrap_or(("", &r.name));
        let _ = write!(
            out,
            "  <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\">",
            xml_escape(class),
            xml_escape(name),
            r.millis as f64 / 1000.0
        );
        match &r.status {
            Status::Passed => {}
            Status::Failed(m) => {
                let _ = write!(
                    out,
                    "<failure message=\"{}\">{}</failure>",
                    xml_escape(m.lines().next().unwrap_or("")),
                    xml_escape(m)
                );
            }
            Status::Ignored(m) => {
                let _ = write!(out, "<skipped message=\"{}\"/>", xml_escape(m));
            }
            Status::KnownDivergence(m) => {
                let _ = write!(
                    out,
                    "<skipped message=\"known divergence: {}\"/>",
                    xml_escape(m)
                );
            }
        }
        out.push_str("</testcase>\n");
    }
    if let Some(safety) = safety {
        let _ = write!(
            out,
            "  <testcase classname=\"safety\" name=\"device_left_as_found\">"
        );
        if !safety.is_empty() {
            let _ = write!(
                out,
                "<failure message=\"the target changed\">{}</failure>",
                xml_escape(&safety.join("\n"))
            );
        }
        out.push_str("</testcase>\n");
    }
    out.push_str("</testsuite></testsuites>\n");
    out
}

/// Writes a report file, creating its directory.
pub fn write(path: &Path, text: &str) -> Result<(), String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(name: &str, code: u32, status: Status) -> Record {
        Record {
            name: name.into(),
            codes: vec![code],
            status,
            millis: 5,
            local: false,
        }
    }

    #[test]
    fn a_code_proven_only_by_local_checks_is_not_passed_on_the_target() {
        let mut local = rec("codes::208005::a", 208005, Status::Passed);
        local.local = true;
        let mut local_too = rec("codes::208000::local", 208000, Status::Passed);
        local_too.local = true;
        let records = vec![
            local,
            local_too,
            rec("codes::208000::here", 208000, Status::Passed),
        ];
        let t = coverage_table("x", &records);
        let line = |code: &str| t.lines().find(|l| l.starts_with(code)).unwrap().to_owned();
        assert!(
            line("208005").contains(" local ") && line("208005").contains("local check"),
            "{t}"
        );
        assert!(
            line("208000").contains(" passed ") && line("208000").contains("1 a local check"),
            "{t}"
        );
    }

    #[test]
    fn a_code_passes_only_when_a_scenario_ran_and_none_failed() {
        let records = vec![
            rec("codes::208000::a", 208000, Status::Passed),
            rec(
                "codes::208000::b",
                208000,
                Status::Ignored("needs fault injection".into()),
            ),
            rec(
                "codes::208001::a",
                208001,
                Status::Ignored("needs admin".into()),
            ),
            rec("codes::208002::a", 208002, Status::Failed("boom".into())),
        ];
        let t = coverage_table("x", &records);
        let line = |code: &str| t.lines().find(|l| l.starts_with(code)).unwrap().to_owned();
        assert!(line("208000").contains("passed") && line("208000").contains("1 ignored"));
        assert!(line("208001").contains("ignored") && line("208001").contains("needs admin"));
        assert!(line("208002").contains("FAILED"));
        assert!(line("208003").contains("not run"));
    }

    #[test]
    fn junit_escapes_and_marks_skips() {
        let records = vec![
            rec(
                "codes::208000::a<b>",
                208000,
                Status::Failed("x & y".into()),
            ),
            rec("codes::208001::a", 208001, Status::Ignored("why".into())),
        ];
        let x = junit_report("t", &records, Some(&[]));
        assert!(x.contains("a&lt;b&gt;") && x.contains("x &amp; y"));
        assert!(x.contains("<skipped message=\"why\"/>"));
        assert!(x.contains("tests=\"3\" failures=\"1\" skipped=\"1\""));
    }

    /// libtest's line, the summary and the JUnit file count the same trials: a known divergence is
    /// an ignored trial in all three, and the safety case exists only on a shared target.
    #[test]
    fn the_counts_agree_with_libtest() {
        let records = vec![
            rec("codes::208000::a", 208000, Status::Passed),
            rec("codes::208001::b", 208001, Status::Ignored("why".into())),
            rec(
                "wire::c",
                208002,
                Status::KnownDivergence("the router caches logins".into()),
            ),
        ];
        assert_eq!(
            counts_line(&records),
            "trials: 1 passed; 0 failed; 2 ignored (1 of them a known divergence, see divergences.toml)"
        );
        let x = junit_report("t", &records, None);
        assert!(
            x.contains("tests=\"3\" failures=\"0\" skipped=\"2\""),
            "{x}"
        );
        assert!(x.contains("<skipped message=\"known divergence: the router caches logins\"/>"));
        assert!(!x.contains("device_left_as_found"));
    }
}
