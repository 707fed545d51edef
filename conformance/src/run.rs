//! A run from start to end: prepare, run the trials, finish.
//!
//! Preparing turns the command line into settings, reports and divergences, and on a shared target
//! (a running simulator or a real router) runs the first half of the safety protocol
//! ([`crate::safety::prepare`]) and installs the Ctrl-C/SIGTERM sweep ([`crate::interrupts`]);
//! nothing of this happens when only listing, so `--list` stays cheap and side-effect free. The
//! trials ([`crate::trials`]) run one at a time on a shared target. Finishing runs the safety
//! protocol's second half, prints the coverage table and writes the reports. Each stage has its own
//! error type, and every way a run ends is one [`Exit`].

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use libtest_mimic::Conclusion;

use crate::cli::{Cli, ReportFile};
use crate::divergences::Divergences;
use crate::exit::Exit;
use crate::report;
use crate::safety::{self, SharedTarget};
use crate::target::{Settings, TargetKind};
use crate::trials::{self, Suite, runtime};

/// Why a run did not start.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    /// The command line cannot be used.
    #[error("{0}")]
    Settings(String),
    /// A `--report` cannot be used.
    #[error("{0}")]
    Reports(String),
    /// The divergences file cannot be read.
    #[error("{0}")]
    Divergences(String),
    /// A real router and no agent credentials.
    #[error(
        "a real router needs the agent's user and password: --user (or ROUTEROS_USERNAME) and ROUTEROS_PASSWORD (or --password-file)"
    )]
    NoAgentCredentials,
    /// The safety protocol refused to start on the shared target.
    #[error(transparent)]
    Target(#[from] safety::PrepareError),
    /// The Ctrl-C/SIGTERM handler could not be installed.
    #[error("{0}")]
    Interrupts(String),
    /// The filter (and `--skip`) keep no trial: a typo would otherwise pass as "0 passed".
    #[error("no scenario matches {0}; `--list` shows every name")]
    NothingMatches(String),
    /// A preflight check failed (a report path).
    #[error(transparent)]
    Preflight(#[from] crate::preflight::PreflightError),
}

/// Why a finished run failed. Each cause has been printed where it happened (libtest's summary, the
/// safety section, the report line), so this only decides the exit status.
#[derive(Debug, thiserror::Error)]
pub enum FinishError {
    /// At least one trial failed.
    #[error("{0} trial(s) failed")]
    Trials(u64),
    /// The shared target was not left as found.
    #[error("the target changed: {}", .0.join("; "))]
    TargetChanged(Vec<String>),
    /// A report could not be written.
    #[error("cannot write a report: {0}")]
    Report(String),
}

/// Why a run failed, at the stage it failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// It did not start.
    #[error(transparent)]
    Prepare(#[from] PrepareError),
    /// It ran and failed.
    #[error(transparent)]
    Finish(#[from] FinishError),
}

impl RunError {
    /// The exit status for it.
    pub fn exit(&self) -> Exit {
        match self {
            RunError::Prepare(_) => Exit::NotStarted,
            RunError::Finish(_) => Exit::Failed,
        }
    }
}

/// Runs the suite with a parsed command line; returns the process's exit status.
pub fn main(cli: Cli) -> ExitCode {
    quiet_on_closed_pipe();
    if cli.libtest.format == Some(libtest_mimic::FormatSetting::Json) {
        crate::json_only();
    }
    match run(cli) {
        Ok(()) => Exit::Passed.into(),
        Err(e) => {
            if let RunError::Prepare(p) = &e {
                eprintln!("routeros-conformance: {p}");
            }
            e.exit().into()
        }
    }
}

/// Makes a closed stdout (`routeros-conformance | head`) end the process quietly, as any Unix
/// filter does, instead of a panic and exit 101. Rust ignores SIGPIPE and turns the closed pipe into
/// an error, which libtest-mimic's printer unwraps; restoring the signal's default action would
/// need `unsafe` (forbidden in this workspace), so the panic that follows is recognised instead and
/// the process exits with [`Exit::OutputClosed`]. Every other panic goes to the usual hook.
fn quiet_on_closed_pipe() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if is_closed_pipe(payload) {
            std::process::exit(i32::from(Exit::OutputClosed.status()));
        }
        previous(info);
    }));
}

/// Whether a panic's message is about writing to a closed pipe (`println!` says "Broken pipe",
/// an unwrapped `io::Error` shows `BrokenPipe`).
fn is_closed_pipe(message: &str) -> bool {
    message.contains("Broken pipe") || message.contains("BrokenPipe")
}

/// The filter as the command line gave it, for the error when it keeps nothing.
fn describe_filter(libtest: &libtest_mimic::Arguments) -> String {
    let mut parts = Vec::new();
    if let Some(f) = &libtest.filter {
        parts.push(format!(
            "`{f}`{}",
            if libtest.exact { " (--exact)" } else { "" }
        ));
    }
    for s in &libtest.skip {
        parts.push(format!("--skip `{s}`"));
    }
    if parts.is_empty() {
        "the command line".into()
    } else {
        parts.join(" with ")
    }
}

/// A run id: six hex digits from the time and the process id, so that two runs never share names.
fn run_id() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let mut x = t.as_nanos() as u64 ^ (u64::from(std::process::id()) << 20);
    // A few rounds of xorshift so that close times do not give close ids.
    for _ in 0..4 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    format!("{:06x}", x & 0xff_ffff)
}

/// What preparing a run gives the trials and the finish.
struct Prepared {
    settings: Arc<Settings>,
    reports: Vec<ReportFile>,
    suite: Arc<Suite>,
    /// On a shared target: what the safety protocol read before the run.
    shared_target: Option<SharedTarget>,
}

/// Prepares, runs and finishes; with several `--routeros-version`s, once per version.
fn run(mut cli: Cli) -> Result<(), RunError> {
    if let Some(arg) = cli.routeros_version.clone() {
        let versions = crate::matrix::versions(&arg).map_err(PrepareError::Settings)?;
        if versions.len() > 1 && !cli.libtest.list {
            return run_matrix(cli, versions);
        }
    }
    let listing = cli.libtest.list;
    let prepared = prepare(&mut cli, listing)?;
    let trials = trials::build(&prepared.suite, &cli.libtest);
    let started = Instant::now();
    let conclusion = libtest_mimic::run(&cli.libtest, trials);
    if listing {
        return Ok(());
    }
    finish(prepared, &conclusion, started)?;
    Ok(())
}

/// The version matrix: one whole run per version against in-process simulators of that version,
/// with libtest's terse output, then the table of what differs ([`crate::matrix`]). The exit
/// status is the runs' worst: a scenario that fails on any version fails the matrix.
fn run_matrix(cli: Cli, versions: Vec<simulator::Version>) -> Result<(), RunError> {
    if cli.target != "sim" {
        return Err(PrepareError::Settings(
            "--routeros-version with several versions runs in-process simulators: use --target sim"
                .into(),
        )
        .into());
    }
    if !cli.report.is_empty() || cli.record.is_some() {
        return Err(PrepareError::Settings(
            "--report and --record describe one run: give them with a single --routeros-version"
                .into(),
        )
        .into());
    }
    let started = Instant::now();
    let (columns, failed) = matrix_columns(&cli, versions)?;
    crate::say!("{}", crate::matrix::table(&columns).trim_end());
    crate::say!("matrix time: {:.1}s", started.elapsed().as_secs_f64());
    match failed {
        0 => Ok(()),
        n => Err(FinishError::Trials(n).into()),
    }
}

/// Runs the suite once per version; the records of each, and how many trials failed in all.
fn matrix_columns(
    cli: &Cli,
    versions: Vec<simulator::Version>,
) -> Result<(Vec<crate::matrix::Column>, u64), RunError> {
    let mut columns = Vec::new();
    let mut failed = 0;
    for version in versions {
        let mut one = cli.clone();
        one.routeros_version = Some(version.to_string());
        one.libtest.quiet = true;
        crate::say!("== RouterOS {version} ==");
        let prepared = prepare(&mut one, false)?;
        let trials = trials::build(&prepared.suite, &one.libtest);
        let conclusion = libtest_mimic::run(&one.libtest, trials);
        failed += conclusion.num_failed;
        columns.push(crate::matrix::Column {
            version: version.to_string(),
            records: prepared.suite.records(),
        });
    }
    Ok((columns, failed))
}

/// Everything before the first trial. When `listing`, nothing is sent anywhere and nothing printed.
fn prepare(cli: &mut Cli, listing: bool) -> Result<Prepared, PrepareError> {
    let settings = Arc::new(cli.settings(&run_id()).map_err(PrepareError::Settings)?);
    let reports = cli.reports().map_err(PrepareError::Reports)?;
    let mut divergences =
        Divergences::load(cli.divergences.as_deref()).map_err(PrepareError::Divergences)?;
    if !listing && !trials::filter_keeps_any(&cli.libtest) {
        return Err(PrepareError::NothingMatches(describe_filter(&cli.libtest)));
    }
    if !listing {
        crate::preflight::reports(&reports)?;
    }
    if matches!(settings.kind, TargetKind::Router { .. }) && settings.agent.is_none() && !listing {
        return Err(PrepareError::NoAgentCredentials);
    }
    if settings.kind.is_shared() {
        // One router, one scenario at a time: a real router runs one user's requests in order, and
        // a fault or reboot for one scenario must not hit another.
        cli.libtest.test_threads = Some(1);
    }
    let mut shared_target = None;
    if !listing && settings.kind.is_shared() {
        let target = runtime().block_on(safety::prepare(&settings))?;
        crate::interrupts::install(
            settings.stop.clone(),
            target.reader.clone(),
            settings.run_prefix.clone(),
        )
        .map_err(PrepareError::Interrupts)?;
        if let Some(line) = target
            .limits
            .as_ref()
            .and_then(|l| crate::preflight::apply_limits(l, &mut divergences))
        {
            crate::say!("{line}");
        }
        shared_target = Some(target);
    }
    if !listing {
        announce(&settings);
    }
    let ca_pem = shared_target.as_ref().and_then(|t| t.ca_pem.clone());
    Ok(Prepared {
        suite: Arc::new(Suite::new(settings.clone(), divergences, ca_pem)),
        settings,
        reports,
        shared_target,
    })
}

/// Says what the run is about to do.
fn announce(settings: &Settings) {
    crate::say!(
        "target: {}; run prefix `{}`{}",
        settings.kind.describe(),
        settings.run_prefix,
        if settings.read_only {
            "; read-only"
        } else {
            ""
        }
    );
    if settings.read_only {
        crate::say!(
            "read-only: would create list `{}-NN` (one per scenario), users and groups `{}-NN-*`, and remove them at the end",
            settings.run_prefix,
            settings.run_prefix
        );
    }
}

/// Everything after the last trial: the safety protocol's second half, the coverage table, the
/// reports.
fn finish(p: Prepared, conclusion: &Conclusion, started: Instant) -> Result<(), FinishError> {
    let shared = p.shared_target.is_some();
    let problems = match p.shared_target {
        Some(target) => runtime().block_on(target.finish(&p.settings.run_prefix)),
        None => Vec::new(),
    };
    let records = p.suite.records();
    let target = p.settings.kind.describe();
    crate::say!("{}", report::coverage_table(&target, &records).trim_end());
    crate::say!("suite time: {:.1}s", started.elapsed().as_secs_f64());
    let mut report_error = None;
    for r in &p.reports {
        let result = match r {
            ReportFile::Json(path) => report::write(
                path,
                &serde_json::to_string_pretty(&report::json_report(&target, &records, &problems))
                    .unwrap_or_default(),
            ),
            ReportFile::Junit(path) => report::write(
                path,
                &report::junit_report(&target, &records, shared.then_some(&problems[..])),
            ),
        };
        if let Err(e) = result {
            eprintln!("routeros-conformance: cannot write a report: {e}");
            report_error.get_or_insert(e);
        }
    }
    if conclusion.has_failed() {
        Err(FinishError::Trials(conclusion.num_failed))
    } else if !problems.is_empty() {
        Err(FinishError::TargetChanged(problems))
    } else if let Some(e) = report_error {
        Err(FinishError::Report(e.to_string()))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The matrix on a subset (two versions, one scenario that differs and one that does not):
    /// the whole of `--routeros-version all` takes minutes and is not run by `cargo test`.
    #[test]
    fn the_matrix_shows_what_differs_by_version() {
        use clap::Parser;
        // The inner runs' libtest lines go to a file, so that this test's output has one verdict.
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("matrix.log");
        let cli = Cli::try_parse_from([
            "routeros-conformance",
            "--routeros-version",
            "7.18.2,7.23.7",
            "--test-threads",
            "1",
            "--logfile",
            log.to_str().unwrap(),
            "wire::resource_is_a_bare_object_of_strings",
        ])
        .unwrap();
        let versions = crate::matrix::versions("7.18.2,7.23.7").unwrap();
        let (columns, failed) = matrix_columns(&cli, versions).unwrap();
        // Before 7.19 `/system/resource` is a one-element array, which the scenario refuses.
        assert_eq!(failed, 1);
        let table = crate::matrix::table(&columns);
        assert!(
            table.contains("wire::resource_is_a_bare_object_of_strings  FAIL     pass"),
            "{table}"
        );
        let with_reports = Cli::try_parse_from([
            "routeros-conformance",
            "--routeros-version",
            "all",
            "--report",
            "json",
            "/tmp/x.json",
        ])
        .unwrap();
        assert!(matches!(
            run(with_reports),
            Err(RunError::Prepare(PrepareError::Settings(_)))
        ));
    }

    #[test]
    fn closed_pipe_panics_are_recognised() {
        let e = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        assert!(is_closed_pipe(&format!(
            "called `Result::unwrap()` on an `Err` value: {e:?}"
        )));
        assert!(is_closed_pipe(
            "failed printing to stdout: Broken pipe (os error 32)"
        ));
        assert!(!is_closed_pipe("index out of bounds"));
    }
}
