//! The trials: one libtest-mimic trial per scenario, plus the catalogue's own checks.
//!
//! Which scenarios are ignored (and why) is decided from the capabilities alone when the list is
//! built ([`crate::target::caps`]), so listing never touches the target. Running a trial gives it its
//! own single-threaded Tokio runtime; on the in-process target that runtime also hosts the
//! scenario's own simulator, which is what lets scenarios run in parallel without seeing each other's
//! faults.
//!
//! After each scenario the trial also checks what the scenario declared: on the in-process simulator
//! a scenario without [`Cap::Write`] must not have sent a single write (the simulator's journal sees
//! the agent's requests as well as the suite's), since `--read-only` relies on that declaration;
//! and only the scenarios in [`scenarios::STATIC_ENTRY_SCENARIOS`] may create entries without a
//! timeout.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use libtest_mimic::{Completion, Failed, Trial};

use crate::Failure;
use crate::divergences::Divergences;
use crate::report::{Record, Status};
use crate::scenarios::{self, Scenario};
use crate::target::{Cap, Ctx, Settings};

/// The longest a scenario may take; a hang is a failure, not a stuck CI job.
const SCENARIO_LIMIT: Duration = Duration::from_secs(90);

/// Why a scenario stopped early: the run was interrupted.
pub const INTERRUPTED: &str = "the run was interrupted";

/// How libtest shows a scenario that failed as `divergences.toml` expects.
pub const KNOWN_DIVERGENCE: &str = "known divergence, see divergences.toml and the summary";

/// What every trial shares.
#[derive(Debug)]
pub struct Suite {
    /// The run's settings.
    pub settings: Arc<Settings>,
    /// The known divergences.
    pub divergences: Divergences,
    /// A running simulator's CA, fetched once before the run.
    pub ca_pem: Option<String>,
    records: Mutex<Vec<Record>>,
}

impl Suite {
    /// The trials' shared state, before any record.
    pub fn new(settings: Arc<Settings>, divergences: Divergences, ca_pem: Option<String>) -> Suite {
        Suite {
            settings,
            divergences,
            ca_pem,
            records: Mutex::new(Vec::new()),
        }
    }

    /// Keeps a scenario's record for the reports.
    pub fn record(&self, r: Record) {
        self.records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(r);
    }

    /// The records so far, sorted by name.
    pub fn records(&self) -> Vec<Record> {
        let mut records = self
            .records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        records.sort_by(|a, b| a.name.cmp(&b.name));
        records
    }
}

/// A single-threaded Tokio runtime for one trial (or one step of the run).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime can be built")
}

/// Runs one scenario on a fresh context and cleans up after it.
async fn run_scenario(suite: &Suite, index: usize, s: &Scenario) -> Result<(), Failure> {
    let stop = suite.settings.stop.clone();
    // Held until the clean-up is done: an interrupted run sweeps only after that.
    let Some(_running) = stop.scenario() else {
        return Err(Failure::new(INTERRUPTED));
    };
    let mut ctx = Ctx::open(
        suite.settings.clone(),
        index,
        s.name,
        suite.ca_pem.as_deref(),
    )
    .await?;
    ctx.write_mode = s.write_mode;
    // On Ctrl-C the scenario is dropped at its next safe point (nothing of it in the air), then
    // cleaned up like any other.
    let mut outcome = tokio::select! {
        r = tokio::time::timeout(SCENARIO_LIMIT, (s.run)(&ctx)) => match r {
            Ok(r) => r,
            Err(_) => Err(Failure::new(format!(
                "did not finish within {}s",
                SCENARIO_LIMIT.as_secs()
            ))),
        },
        () = stop.stopped() => Err(Failure::new(INTERRUPTED)),
    };
    let broken = declaration_problems(&ctx, s).await;
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
async fn declaration_problems(ctx: &Ctx, s: &Scenario) -> Vec<String> {
    let mut out = Vec::new();
    if !s.needs.contains(&Cap::Write) {
        match ctx.writes_sent().await {
            Ok(Some(writes)) if !writes.is_empty() => out.push(format!(
                "the scenario wrote to the router without declaring the `Write` capability (so `--read-only` would run it): {}",
                writes.join(", ")
            )),
            Ok(_) => {}
            Err(e) => out.push(format!("cannot read the simulator's journal: {e}")),
        }
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

/// The trial of scenario `s`, ignored with its reason when the target lacks a capability.
pub fn trial(shared: &Arc<Suite>, index: usize, s: &'static Scenario) -> Trial {
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
        if result.as_ref().is_err_and(|e| e.0 == INTERRUPTED) {
            // Not run to its end, so neither passed nor failed; the sweep reports what it removed.
            record.status = Status::Ignored(INTERRUPTED.into());
            shared.record(record);
            return Ok(Completion::ignored_with(INTERRUPTED));
        }
        let verdict = match (result, shared.divergences.expected(s.name, class)) {
            (Ok(()), None) => Ok(Completion::Completed),
            (Err(e), None) => {
                record.status = Status::Failed(e.0.clone());
                Err(Failed::from(e.0))
            }
            // libtest-mimic has no outcome of its own for this, and `ok` would claim a pass: it
            // is an ignored trial whose message says why, counted as ignored everywhere.
            (Err(e), Some(why)) => {
                record.status = Status::KnownDivergence(format!("{why} (failed with: {e})"));
                Ok(Completion::ignored_with(KNOWN_DIVERGENCE))
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

/// The names of the catalogue's own checks ([`meta_trials`]).
const META_TRIALS: [&str; 3] = [
    "coverage::every_code_has_a_scenario",
    "coverage::scenario_names_are_unique",
    "coverage::divergences_name_real_scenarios",
];

/// The checks of the catalogue itself, run as trials so that `cargo test` fails on them. Each
/// keeps a record like a scenario (a local check with no code), so that the summary and the
/// reports count what libtest counts.
pub fn meta_trials(suite: &Arc<Suite>) -> Vec<Trial> {
    fn check(
        suite: &Arc<Suite>,
        name: &'static str,
        f: impl FnOnce(&Suite) -> Result<(), String> + Send + 'static,
    ) -> Trial {
        let suite = suite.clone();
        Trial::test(name, move || {
            let result = f(&suite);
            suite.record(Record {
                name: name.into(),
                codes: Vec::new(),
                status: match &result {
                    Ok(()) => Status::Passed,
                    Err(e) => Status::Failed(e.clone()),
                },
                millis: 0,
                local: true,
            });
            result.map_err(Failed::from)
        })
    }
    vec![
        check(suite, META_TRIALS[0], |_| {
            scenarios::uncovered_codes().map_err(|e| e.0)
        }),
        check(suite, META_TRIALS[1], |_| {
            scenarios::names_are_unique().map_err(|e| e.0)
        }),
        check(suite, META_TRIALS[2], |suite| {
            let names: Vec<&str> = scenarios::catalogue().iter().map(|s| s.name).collect();
            let unknown: Vec<&str> = suite
                .divergences
                .entries
                .iter()
                .map(|e| e.scenario.as_str())
                .filter(|n| !names.contains(n))
                .collect();
            if unknown.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "divergences.toml names unknown scenarios: {unknown:?}"
                ))
            }
        }),
    ]
}

/// Whether the command line's filter (and `--skip`) keeps at least one trial. Decided from the
/// names alone, before anything is prepared.
pub fn filter_keeps_any(libtest: &libtest_mimic::Arguments) -> bool {
    META_TRIALS
        .iter()
        .copied()
        .chain(scenarios::catalogue().iter().map(|s| s.name))
        .any(|name| !libtest.is_filtered_out(&Trial::test(name, || Ok(()))))
}

/// Every trial of the run: the catalogue's checks, then one per scenario. Ignored trials never run
/// their closure, so their records are written here, for those `libtest`'s filter keeps.
pub fn build(suite: &Arc<Suite>, libtest: &libtest_mimic::Arguments) -> Vec<Trial> {
    let mut trials = meta_trials(suite);
    let meta = trials.len();
    for (i, s) in scenarios::catalogue().iter().enumerate() {
        trials.push(trial(suite, i + 1, s));
    }
    for (t, s) in trials.iter().skip(meta).zip(scenarios::catalogue()) {
        if t.has_ignored_flag()
            && !libtest.is_filtered_out(t)
            && !libtest.ignored
            && !libtest.include_ignored
        {
            suite.record(Record {
                name: s.name.into(),
                codes: s.codes.iter().map(|c| c.number()).collect(),
                status: Status::Ignored(suite.settings.missing_any(s.needs).unwrap_or_default()),
                millis: 0,
                local: s.local,
            });
        }
    }
    trials
}

#[cfg(test)]
pub(crate) mod tests {
    use clap::Parser;
    use serde_json::json;

    use super::*;
    use crate::Outcome;
    use crate::cli::Cli;

    fn suite_with(args: &[&str]) -> Suite {
        let cli = Cli::try_parse_from(args).expect("the arguments parse");
        let settings = cli.settings("abcdef").expect("in-process settings");
        Suite::new(Arc::new(settings), Divergences::default(), None)
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

    /// Runs a scenario with these needs and this body on a fresh in-process simulator.
    pub(crate) fn check(needs: &'static [Cap], run: scenarios::Body) -> Result<(), Failure> {
        let s = Scenario {
            name: "test::declarations",
            needs,
            codes: &[],
            local: false,
            write_mode: Default::default(),
            run,
        };
        runtime().block_on(run_scenario(&suite_with(&["routeros-conformance"]), 1, &s))
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
        let dir = tempfile::tempdir().expect("temp dir");
        let record = dir.path().to_str().expect("a UTF-8 path").to_owned();
        let s = Scenario {
            name: "test::record",
            needs: &[Cap::Write],
            codes: &[],
            local: false,
            write_mode: Default::default(),
            run: |ctx| Box::pin(agent_grant(ctx)),
        };
        let suite = suite_with(&["routeros-conformance", "--record", &record]);
        runtime()
            .block_on(run_scenario(&suite, 1, &s))
            .expect("the scenario passes");
        let scenario_dir = dir.path().join("test__record");
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
