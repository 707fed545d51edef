//! Building the trials, running them, and everything around the run on a shared target.
//!
//! The list of trials is built from the catalogue and the settings alone: which scenarios are ignored
//! (and why) is decided here, without touching the target, so `--list` is cheap and side-effect
//! free. Running a trial gives it its own single-threaded Tokio runtime; on the in-process target
//! that runtime also hosts the scenario's own simulator, which is what lets scenarios run in parallel
//! without seeing each other's faults. On a shared target (a running simulator or a real router) the
//! run is wrapped in the safety protocol of [`crate::safety`] and trials run one at a time.

use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use libtest_mimic::{Completion, Failed, Trial};

use crate::cli::{Cli, ReportFile};
use crate::divergences::Divergences;
use crate::report::{self, Record, Status};
use crate::scenarios::{self, Scenario};
use crate::target::{Ctx, Settings, TargetKind};
use crate::{Failure, safety};

/// The longest a scenario may take; a hang is a failure, not a stuck CI job.
const SCENARIO_LIMIT: Duration = Duration::from_secs(90);

/// What every trial shares.
#[derive(Debug)]
struct Shared {
    settings: Arc<Settings>,
    divergences: Divergences,
    ca_pem: Option<String>,
    records: Mutex<Vec<Record>>,
}

impl Shared {
    fn record(&self, r: Record) {
        self.records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(r);
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

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime can be built")
}

/// Runs one scenario on a fresh context and cleans up after it.
async fn run_scenario(shared: &Shared, index: usize, s: &Scenario) -> Result<(), Failure> {
    let ctx = Ctx::open(
        shared.settings.clone(),
        index,
        s.name,
        shared.ca_pem.as_deref(),
    )
    .await?;
    let outcome = match tokio::time::timeout(SCENARIO_LIMIT, (s.run)(&ctx)).await {
        Ok(r) => r,
        Err(_) => Err(Failure::new(format!(
            "did not finish within {}s",
            SCENARIO_LIMIT.as_secs()
        ))),
    };
    let cleanup = ctx.cleanup().await;
    match (outcome, cleanup) {
        (Ok(()), Ok(())) => Ok(()),
        (Err(e), Ok(())) => Err(e),
        (Ok(()), Err(c)) => Err(c),
        (Err(e), Err(c)) => Err(Failure::new(format!("{e}\n(and {c})"))),
    }
}

fn trial(shared: &Arc<Shared>, index: usize, s: &'static Scenario) -> Trial {
    let missing = shared.settings.missing_any(s.needs);
    let codes: Vec<u32> = s.codes.iter().map(|c| c.number()).collect();
    let ignored = missing.is_some();
    let shared = shared.clone();
    Trial::ignorable_test(s.name, move || {
        let start = Instant::now();
        let class = shared.settings.kind.class();
        let mut record = Record {
            name: s.name.into(),
            codes,
            status: Status::Passed,
            millis: 0,
        };
        // Forced with --include-ignored: still never run what the target cannot do.
        if let Some(why) = shared.settings.missing_any(s.needs) {
            record.status = Status::Ignored(why.clone());
            shared.record(record);
            return Ok(Completion::ignored_with(why));
        }
        let result = runtime().block_on(run_scenario(&shared, index, s));
        record.millis = start.elapsed().as_millis() as u64;
        let verdict = match (result, shared.divergences.expected(s.name, class)) {
            (Ok(()), None) => Ok(Completion::Completed),
            (Err(e), None) => {
                record.status = Status::Failed(e.0.clone());
                Err(Failed::from(e.0))
            }
            (Err(e), Some(why)) => {
                record.status = Status::KnownDivergence(format!("{why} (failed with: {e})"));
                Ok(Completion::Completed)
            }
            (Ok(()), Some(why)) => {
                let msg = format!(
                    "unexpected pass: divergences.toml says this fails on a {class} ({why}); remove the entry"
                );
                record.status = Status::Failed(msg.clone());
                Err(Failed::from(msg))
            }
        };
        shared.record(record);
        verdict
    })
    .with_ignored_flag(ignored)
}

/// The checks of the catalogue itself, run as trials so that `cargo test` fails on them.
fn meta_trials(divergences: &Divergences) -> Vec<Trial> {
    let d = divergences.clone();
    vec![
        Trial::test("coverage::every_code_has_a_scenario", || {
            scenarios::uncovered_codes().map_err(|e| Failed::from(e.0))
        }),
        Trial::test("coverage::scenario_names_are_unique", || {
            scenarios::names_are_unique().map_err(|e| Failed::from(e.0))
        }),
        Trial::test("coverage::divergences_name_real_scenarios", move || {
            let names: Vec<&str> = scenarios::catalogue().iter().map(|s| s.name).collect();
            let unknown: Vec<&str> = d
                .entries
                .iter()
                .map(|e| e.scenario.as_str())
                .filter(|n| !names.contains(n))
                .collect();
            if unknown.is_empty() {
                Ok(())
            } else {
                Err(format!("divergences.toml names unknown scenarios: {unknown:?}").into())
            }
        }),
    ]
}

/// What the run holds on a shared target between its start and its end.
struct SharedTarget {
    /// A running simulator's CA.
    ca_pem: Option<String>,
    /// The client that reads (admin when available) and the state read before the run.
    before: (crate::rest::Rest, safety::DeviceState),
}

/// The safety protocol's first half on a shared target: read the state, refuse to start on leftovers.
async fn before_run(settings: &Settings) -> Result<SharedTarget, String> {
    let ca_pem = match &settings.kind {
        TargetKind::RunningSim { control, .. } => Some(
            crate::target::fetch_ca(control)
                .await
                .map_err(|e| format!("cannot reach the simulator's control API: {e}"))?,
        ),
        _ => None,
    };
    let probe = Ctx::open(Arc::new(settings.clone()), 0, "safety", ca_pem.as_deref())
        .await
        .map_err(|e| e.0)?;
    let reader = probe.admin.clone().unwrap_or_else(|| probe.rest.clone());
    let state = safety::read(&reader, &settings.run_prefix)
        .await
        .map_err(|e| format!("cannot read the target before the run: {e}"))?;
    if !state.own.is_empty() {
        return Err(format!(
            "refusing to start: the target already holds rows named `{}*` that this run did not create: {:?}",
            settings.run_prefix, state.own
        ));
    }
    Ok(SharedTarget {
        ca_pem,
        before: (reader, state),
    })
}

/// Runs the suite with a parsed command line; returns the process's exit status.
pub fn main(mut cli: Cli) -> ExitCode {
    let settings = match cli.settings(&run_id()) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            eprintln!("routeros-conformance: {e}");
            return ExitCode::from(2);
        }
    };
    let reports = match cli.reports() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("routeros-conformance: {e}");
            return ExitCode::from(2);
        }
    };
    let divergences = match Divergences::load(cli.divergences.as_deref()) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("routeros-conformance: {e}");
            return ExitCode::from(2);
        }
    };
    let listing = cli.libtest.list;
    if matches!(settings.kind, TargetKind::Router { .. }) && settings.agent.is_none() && !listing {
        eprintln!(
            "routeros-conformance: a real router needs the agent's user and password: --user (or ROUTEROS_USERNAME) and ROUTEROS_PASSWORD (or --password-file)"
        );
        return ExitCode::from(2);
    }
    if settings.kind.is_shared() {
        // One router, one scenario at a time: a real router runs one user's requests in order, and
        // a fault or reboot for one scenario must not hit another.
        cli.libtest.test_threads = Some(1);
    }

    let mut shared = Shared {
        settings: settings.clone(),
        divergences,
        ca_pem: None,
        records: Mutex::new(Vec::new()),
    };
    let mut safety_state = None;
    if !listing && settings.kind.is_shared() {
        match runtime().block_on(before_run(&settings)) {
            Ok(t) => {
                shared.ca_pem = t.ca_pem;
                safety_state = Some(t.before);
            }
            Err(e) => {
                eprintln!("routeros-conformance: {e}");
                return ExitCode::from(2);
            }
        }
    }
    if !listing {
        println!(
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
            println!(
                "read-only: would create list `{}-NN` (one per scenario), users and groups `{}-NN-*`, and remove them at the end",
                settings.run_prefix, settings.run_prefix
            );
        }
    }
    let shared = Arc::new(shared);
    let mut trials = meta_trials(&shared.divergences);
    let meta = trials.len();
    for (i, s) in scenarios::catalogue().iter().enumerate() {
        trials.push(trial(&shared, i + 1, s));
    }
    // Ignored trials never run their closure, so their records are written here, for those the
    // filter keeps.
    for (t, s) in trials.iter().skip(meta).zip(scenarios::catalogue()) {
        if t.has_ignored_flag()
            && !cli.libtest.is_filtered_out(t)
            && !cli.libtest.ignored
            && !cli.libtest.include_ignored
        {
            shared.record(Record {
                name: s.name.into(),
                codes: s.codes.iter().map(|c| c.number()).collect(),
                status: Status::Ignored(settings.missing_any(s.needs).unwrap_or_default()),
                millis: 0,
            });
        }
    }
    let started = Instant::now();
    let conclusion = libtest_mimic::run(&cli.libtest, trials);
    if listing {
        return ExitCode::SUCCESS;
    }

    let mut problems = Vec::new();
    if let Some((reader, before)) = safety_state {
        let rt = runtime();
        problems.extend(rt.block_on(safety::sweep(&reader, &settings.run_prefix)));
        match rt.block_on(safety::read(&reader, &settings.run_prefix)) {
            Ok(after) => {
                problems.extend(safety::compare(&before, &after));
                if let Some(left) = after.own.iter().find(|(_, rows)| !rows.is_empty()) {
                    problems.push(format!("left behind in {}: {:?}", left.0, left.1));
                }
            }
            Err(e) => problems.push(format!("cannot read the target after the run: {e}")),
        }
        if problems.is_empty() {
            println!("safety: the target was left as found (its own rows removed)");
        } else {
            println!("safety: THE TARGET CHANGED:");
            for p in &problems {
                println!("  {p}");
            }
        }
    }

    let mut records = shared
        .records
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    records.sort_by(|a, b| a.name.cmp(&b.name));
    let target = settings.kind.describe();
    print!("{}", report::coverage_table(&target, &records));
    println!("suite time: {:.1}s", started.elapsed().as_secs_f64());
    let mut ok = !conclusion.has_failed() && problems.is_empty();
    for r in &reports {
        let result = match r {
            ReportFile::Json(p) => report::write(
                p,
                &serde_json::to_string_pretty(&report::json_report(&target, &records, &problems))
                    .unwrap_or_default(),
            ),
            ReportFile::Junit(p) => {
                report::write(p, &report::junit_report(&target, &records, &problems))
            }
        };
        if let Err(e) = result {
            eprintln!("routeros-conformance: cannot write a report: {e}");
            ok = false;
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(101)
    }
}
