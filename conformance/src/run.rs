//! Building the trials, running them, and everything around the run on a shared target.
//!
//! The list of trials is built from the catalogue and the settings alone: which scenarios are ignored
//! (and why) is decided here, without touching the target, so `--list` is cheap and side-effect
//! free. Running a trial gives it its own single-threaded Tokio runtime; on the in-process target
//! that runtime also hosts the scenario's own simulator, which is what lets scenarios run in parallel
//! without seeing each other's faults. On a shared target (a running simulator or a real router) the
//! run is wrapped in the safety protocol of [`crate::safety`] and trials run one at a time: earlier
//! runs' leftovers are reported (and refused, removed or ignored as the command line says), and a
//! Ctrl-C or SIGTERM handler runs the sweep before the process exits, because the users a run
//! creates have real policies and never expire by themselves.
//!
//! After each scenario the runner also checks what it declared: on the in-process simulator a
//! scenario without [`Cap::Write`] must not have sent a single write (the simulator's journal sees
//! the agent's requests as well as the suite's), since `--read-only` relies on that declaration;
//! and only the scenarios in [`scenarios::STATIC_ENTRY_SCENARIOS`] may create entries without a
//! timeout.

use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use libtest_mimic::{Completion, Failed, Trial};

use crate::cli::{Cli, ReportFile};
use crate::divergences::Divergences;
use crate::report::{self, Record, Status};
use crate::rest::Rest;
use crate::scenarios::{self, Scenario};
use crate::target::{Cap, Ctx, Leftovers, Settings, TargetKind};
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
    let mut outcome = match tokio::time::timeout(SCENARIO_LIMIT, (s.run)(&ctx)).await {
        Ok(r) => r,
        Err(_) => Err(Failure::new(format!(
            "did not finish within {}s",
            SCENARIO_LIMIT.as_secs()
        ))),
    };
    let broken = declaration_problems(&ctx, s);
    if !broken.is_empty() {
        let broken = broken.join("; ");
        outcome = match outcome {
            Ok(()) => Err(Failure::new(broken)),
            Err(e) => Err(Failure::new(format!("{e}\n(and {broken})"))),
        };
    }
    let cleanup = ctx.cleanup().await;
    match (outcome, cleanup) {
        (Ok(()), Ok(())) => Ok(()),
        (Err(e), Ok(())) => Err(e),
        (Ok(()), Err(c)) => Err(c),
        (Err(e), Err(c)) => Err(Failure::new(format!("{e}\n(and {c})"))),
    }
}

/// What the scenario did that its catalogue entry does not allow (checked before clean-up, whose
/// deletes are the runner's, not the scenario's).
fn declaration_problems(ctx: &Ctx, s: &Scenario) -> Vec<String> {
    let mut out = Vec::new();
    if !s.needs.contains(&Cap::Write)
        && let Some(writes) = ctx.writes_sent()
        && !writes.is_empty()
    {
        out.push(format!(
            "the scenario wrote to the router without declaring the `Write` capability (so `--read-only` would run it): {}",
            writes.join(", ")
        ));
    }
    let statics = ctx.rest.guard().static_entries();
    if statics > 0 && !scenarios::STATIC_ENTRY_SCENARIOS.contains(&s.name) {
        out.push(format!(
            "the scenario created {statics} address-list entr{} without a `timeout` (permanent on a router if the run is interrupted): give them a timeout, or list the scenario in STATIC_ENTRY_SCENARIOS if static entries are what it tests",
            if statics == 1 { "y" } else { "ies" }
        ));
    }
    out
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
            local: s.local,
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
    before: (Rest, safety::DeviceState),
}

/// The safety protocol's first half on a shared target: read the state, refuse to start on leftovers.
async fn before_run(settings: &Settings) -> Result<SharedTarget, String> {
    let ca_pem = match &settings.kind {
        TargetKind::RunningSim { control, .. } => Some(
            crate::target::fetch_ca(control, settings.control_token.as_deref())
                .await
                .map_err(|e| format!("cannot reach the simulator's control API: {e}"))?,
        ),
        _ => None,
    };
    let probe = Ctx::open(Arc::new(settings.clone()), 0, "safety", ca_pem.as_deref())
        .await
        .map_err(|e| e.0)?;
    let reader = probe.admin.clone().unwrap_or_else(|| probe.rest.clone());
    handle_leftovers(settings, &reader).await?;
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

/// Reports what earlier runs left (users and groups never expire) and refuses, removes or keeps it
/// as the command line says.
async fn handle_leftovers(settings: &Settings, reader: &Rest) -> Result<(), String> {
    let found = safety::leftovers(reader, &settings.list_prefix)
        .await
        .map_err(|e| format!("cannot look for an earlier run's leftovers: {e}"))?;
    if found.is_empty() {
        return Ok(());
    }
    println!(
        "leftovers: earlier runs of the suite left {} row(s) named `{}-<run id>-*` on the target:",
        found.len(),
        settings.list_prefix
    );
    for (menu, _, name) in &found {
        println!("  {menu} {name}");
    }
    match settings.leftovers {
        Leftovers::Sweep => {
            let swept = safety::sweep_leftovers(reader, &found).await;
            for r in &swept.removed {
                println!("  removed {r}");
            }
            if !swept.problems.is_empty() {
                return Err(format!(
                    "--sweep-leftovers could not remove everything: {}",
                    swept.problems.join("; ")
                ));
            }
        }
        Leftovers::Ignore => println!("  left in place (--ignore-leftovers)"),
        // A read-only run writes nothing, so it cannot mix its rows with them.
        Leftovers::Refuse if settings.read_only => println!(
            "  left in place (read-only run); remove them with --sweep-leftovers when no other run uses this target"
        ),
        Leftovers::Refuse => {
            return Err(format!(
                "refusing to start: an earlier run left the rows above (a user among them can log in to this router). \
                 Remove them with --sweep-leftovers (only when no other run of the suite is using this target), \
                 or run anyway with --ignore-leftovers; --list-prefix `{}` chose which names count",
                settings.list_prefix
            ));
        }
    }
    Ok(())
}

/// The signals that end a run early: Ctrl-C and, on Unix, SIGTERM.
struct Interrupts {
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl Interrupts {
    /// Registers the handlers (from then on these signals no longer end the process by themselves).
    fn new() -> std::io::Result<Interrupts> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Interrupts {
                int: signal(SignalKind::interrupt())?,
                term: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Interrupts {})
    }

    /// Waits for the next one; returns its name.
    async fn next(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.int.recv() => "interrupted (SIGINT)",
                _ = self.term.recv() => "terminated (SIGTERM)",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "interrupted (Ctrl-C)"
        }
    }
}

/// On a shared target: on Ctrl-C or SIGTERM, stop every create, sweep the run's rows, say what was
/// removed, and exit with 130. A second signal abandons the sweep (and says how to finish it).
/// Returns once the handlers are registered, so no signal falls between registering and running.
fn install_interrupt_handler(reader: Rest, prefix: String) -> Result<(), String> {
    let (ready, registered) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("interrupts".into())
        .spawn(move || {
            runtime().block_on(async move {
                let mut signals = match Interrupts::new() {
                    Ok(s) => {
                        let _ = ready.send(Ok(()));
                        s
                    }
                    Err(e) => {
                        let _ = ready.send(Err(e.to_string()));
                        return;
                    }
                };
                let what = signals.next().await;
                eprintln!(
                    "\nrouteros-conformance: {what}: removing what this run created (signal again to abandon the clean-up)"
                );
                crate::rest::stop_writes();
                tokio::select! {
                    swept = safety::sweep(&reader, &prefix) => {
                        for r in &swept.removed {
                            eprintln!("  removed {r}");
                        }
                        if swept.removed.is_empty() {
                            eprintln!("  nothing of this run was left on the target");
                        }
                        for p in &swept.problems {
                            eprintln!("  {p}");
                        }
                        if !swept.problems.is_empty() {
                            eprintln!("  the next run will report what is left; remove it with --sweep-leftovers");
                        }
                    }
                    _ = signals.next() => eprintln!(
                        "routeros-conformance: clean-up abandoned; the next run will report what is left, remove it with --sweep-leftovers"
                    ),
                }
                std::process::exit(130);
            });
        })
        .map_err(|e| format!("cannot start the interrupt handler: {e}"))?;
    registered
        .recv()
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("cannot handle Ctrl-C: {e}"))
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
                if let Err(e) =
                    install_interrupt_handler(t.before.0.clone(), settings.run_prefix.clone())
                {
                    eprintln!("routeros-conformance: {e}");
                    return ExitCode::from(2);
                }
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
                local: s.local,
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
        let swept = rt.block_on(safety::sweep(&reader, &settings.run_prefix));
        if !swept.removed.is_empty() {
            println!(
                "safety: the final sweep removed what the scenarios left: {}",
                swept.removed.join(", ")
            );
        }
        problems.extend(swept.problems);
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

#[cfg(test)]
mod tests {
    use clap::Parser;
    use serde_json::json;

    use super::*;
    use crate::Outcome;

    fn shared() -> Shared {
        shared_with(&["routeros-conformance"])
    }

    fn shared_with(args: &[&str]) -> Shared {
        let cli = Cli::try_parse_from(args).expect("the arguments parse");
        Shared {
            settings: Arc::new(cli.settings("abcdef").expect("in-process settings")),
            divergences: Divergences::default(),
            ca_pem: None,
            records: Mutex::new(Vec::new()),
        }
    }

    async fn timed_entry(ctx: &Ctx) -> Outcome {
        let body = json!({ "list": ctx.list, "address": "192.0.2.1", "timeout": "10m" });
        ctx.rest
            .put(Ctx::menu(false), &body)
            .await?
            .expect_status(201)?;
        Ok(())
    }

    async fn static_entry(ctx: &Ctx) -> Outcome {
        let body = json!({ "list": ctx.list, "address": "192.0.2.1" });
        ctx.rest
            .put(Ctx::menu(false), &body)
            .await?
            .expect_status(201)?;
        Ok(())
    }

    /// A grant through the agent: the suite's client sends nothing, the journal still sees it.
    async fn agent_grant(ctx: &Ctx) -> Outcome {
        crate::driver::Agent::new(ctx)
            .grant("192.0.2.1", "alice", "1h")
            .await
            .expect_ok()?;
        Ok(())
    }

    /// The users the suite creates: a random password, and logins only from the suite's address.
    async fn restricted_user_is_locked_down(ctx: &Ctx) -> Outcome {
        let creds = ctx.restricted_user("probe", "api,rest-api,read").await?;
        crate::ensure!(
            creds.password.len() == 32
                && !creds.password.contains(&ctx.settings.run_prefix)
                && creds.password.chars().all(|c| c.is_ascii_alphanumeric()),
            "a guessable password"
        );
        let other = ctx.restricted_user("probe2", "api,rest-api,read").await?;
        crate::ensure!(creds.password != other.password, "two users, one password");
        let rows = ctx
            .admin()?
            .rows(&format!("/user?name={}", creds.user))
            .await?;
        crate::ensure_eq!(
            rows.first().and_then(|r| r.get("address")).cloned(),
            Some(json!("127.0.0.1/32")),
            "the user's allowed address"
        );
        // And the restriction leaves the suite itself able to log in.
        ctx.rest
            .with_credentials(Some((creds.user, creds.password)))
            .get("/system/resource")
            .await?
            .expect_status(200)?;
        Ok(())
    }

    #[test]
    fn created_users_have_random_passwords_and_the_suites_address() {
        check(&[Cap::Admin, Cap::Write], |ctx| {
            Box::pin(restricted_user_is_locked_down(ctx))
        })
        .unwrap();
    }

    /// An earlier run's user and group are found, refused by default, kept with
    /// `--ignore-leftovers` and removed with `--sweep-leftovers`; rows of other shapes are not
    /// touched.
    async fn leftovers_are_found_refused_and_swept(ctx: &Ctx) -> Outcome {
        // Made by "an earlier run" (this context's prefix) and by someone else.
        ctx.restricted_user("norest", "api,read,write,policy")
            .await?;
        let admin = ctx.admin()?;
        let theirs = json!({ "name": "conformance-list", "policy": "read" });
        // Someone else's group: a client whose guard allows that one name.
        let open = crate::rest::WriteGuard::new("conformance-list");
        let stranger = Rest::new(
            &ctx.live.url,
            &ctx.tls,
            ctx.live
                .admin
                .as_ref()
                .map(|a| (a.user.clone(), a.password.clone())),
            Arc::new(open),
            None,
        )?;
        stranger
            .put("/user/group", &theirs)
            .await?
            .expect_status(201)?;
        let mut later = (*ctx.settings).clone();
        later.run_prefix = "conformance-123456".into();
        let e = handle_leftovers(&later, admin).await.unwrap_err();
        crate::ensure!(e.contains("--sweep-leftovers"), "{e}");
        later.leftovers = Leftovers::Ignore;
        handle_leftovers(&later, admin)
            .await
            .map_err(Failure::new)?;
        later.leftovers = Leftovers::Sweep;
        handle_leftovers(&later, admin)
            .await
            .map_err(Failure::new)?;
        let left = safety::leftovers(admin, "conformance").await?;
        crate::ensure!(left.is_empty(), "left after the sweep: {left:?}");
        let groups = admin.rows("/user/group?name=conformance-list").await?;
        crate::ensure_eq!(groups.len(), 1, "the group that is not the suite's");
        later.leftovers = Leftovers::Refuse;
        handle_leftovers(&later, admin).await.map_err(Failure::new)
    }

    #[test]
    fn leftovers_of_an_earlier_run_are_refused_or_swept() {
        check(&[Cap::Admin, Cap::Write], |ctx| {
            Box::pin(leftovers_are_found_refused_and_swept(ctx))
        })
        .unwrap();
    }

    fn check(needs: &'static [Cap], run: scenarios::Body) -> Result<(), Failure> {
        let s = Scenario {
            name: "test::declarations",
            needs,
            codes: &[],
            local: false,
            run,
        };
        runtime().block_on(run_scenario(&shared(), 1, &s))
    }

    #[test]
    fn an_undeclared_write_fails_the_scenario() {
        let e = check(&[], |ctx| Box::pin(timed_entry(ctx))).unwrap_err();
        assert!(e.0.contains("without declaring the `Write`"), "{e}");
        let e = check(&[], |ctx| Box::pin(agent_grant(ctx))).unwrap_err();
        assert!(e.0.contains("PUT /rest/ip/firewall/address-list"), "{e}");
        check(&[Cap::Write], |ctx| Box::pin(timed_entry(ctx))).unwrap();
        check(&[Cap::Write], |ctx| Box::pin(agent_grant(ctx))).unwrap();
    }

    #[test]
    fn with_record_the_agents_exchanges_are_recorded_too() {
        let dir = crate::target::TempDir::new("record-test").expect("temp dir");
        let record = dir.0.to_str().expect("a UTF-8 path").to_owned();
        let s = Scenario {
            name: "test::record",
            needs: &[Cap::Write],
            codes: &[],
            local: false,
            run: |ctx| Box::pin(agent_grant(ctx)),
        };
        let shared = shared_with(&["routeros-conformance", "--record", &record]);
        runtime()
            .block_on(run_scenario(&shared, 1, &s))
            .expect("the scenario passes");
        let scenario_dir = dir.0.join("test__record");
        let mut names: Vec<String> = std::fs::read_dir(&scenario_dir)
            .expect("the scenario's record directory")
            .map(|e| {
                e.expect("an entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        let agents: Vec<&String> = names.iter().filter(|n| n.contains("-agent-")).collect();
        assert!(
            agents.iter().any(|n| n.contains("-agent-GET-")),
            "{names:?}"
        );
        let mut put = None;
        for name in &agents {
            let text = std::fs::read_to_string(scenario_dir.join(name)).expect("readable");
            assert!(
                !text.contains(crate::target::SIM_AGENT.1),
                "{name} holds the password: {text}"
            );
            let doc: serde_json::Value = serde_json::from_str(&text).expect("JSON");
            assert_eq!(doc["client"], "agent", "{name}: {doc}");
            assert!(
                doc["request"]["path"]
                    .as_str()
                    .is_some_and(|p| p.starts_with("/rest/")),
                "{doc}"
            );
            assert!(doc["response"]["status"].is_u64(), "{doc}");
            if doc["request"]["method"] == "PUT" {
                put = Some(doc);
            }
        }
        let put = put.unwrap_or_else(|| panic!("no PUT of the agent in {names:?}"));
        assert_eq!(put["request"]["path"], "/rest/ip/firewall/address-list");
        assert_eq!(put["request"]["body"]["address"], "192.0.2.1");
        assert_eq!(put["response"]["status"], 201);
        assert_eq!(put["response"]["body"]["address"], "192.0.2.1");
    }

    #[test]
    fn a_static_entry_outside_the_list_fails_the_scenario() {
        let e = check(&[Cap::Write], |ctx| Box::pin(static_entry(ctx))).unwrap_err();
        assert!(e.0.contains("without a `timeout`"), "{e}");
    }
}
