//! The scheduler on the simulator's clock.
//!
//! Every REST request, every clock move through the control API and a background pump (once a
//! second of Tokio time) first run the scheduler entries that are due, oldest first, entries due
//! at the same moment in table order ("in the order they appear in the scheduler configuration",
//! MikroTik manual, Scheduler). Each run sees the simulated time it was due at, so moving the
//! clock by an hour with `interval=1m` runs the event 60 times, each at its own minute.
//!
//! With modelled time (`Limits::modelled_time`) a run's costs move the clock as it goes, and a
//! script's or a request's costs that carry the clock past an entry's time run that entry right
//! after the cost, in order: the same catch-up as after a clock move.
//!
//! This replays every missed run, where a real router whose clock jumps runs an event once and
//! re-anchors [likely]: a test that moves the clock wants what would have happened had the time
//! passed. The replay is bounded: past [`MAX_RUNS_PER_CATCH_UP`] runs in one catch-up the rest are
//! skipped (each entry moves to its first run after now) and a `script,warning` line says so.
//!
//! A run's policies are the entry's `policy` within its owner's current policies; `on-event`
//! naming a script runs it as `run use-script-permissions` does, so the script's policies must be
//! within those (unless `dont-require-permissions=yes`); inline source runs with the entry's
//! (MikroTik manual, Scripting, "Script permissions").

use std::sync::Arc;
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::sync::watch;

use super::host::{self, RunError, RunOptions};
use super::{Caller, log};
use crate::model::scripting::{Schedule, Schedules, Scripts};
use crate::shared::Shared;

/// The most scheduled runs one catch-up replays.
pub const MAX_RUNS_PER_CATCH_UP: usize = 10_000;

/// Runs the entries due now. Cheap when none is due (one short hold of the router's lock).
pub async fn catch_up(shared: &Arc<Shared>) {
    if !any_due(shared) {
        return;
    }
    let _turn = shared.scripting.catch_up.lock().await;
    let now = shared.clock.now();
    let s2 = shared.clone();
    let handle = Handle::current();
    let _ = tokio::task::spawn_blocking(move || run_due(&s2, &handle, now)).await;
}

/// Runs the entries due now from a script's blocking thread, between two of its commands (with
/// modelled time, each command's cost moves the clock). When another catch-up is running (the
/// one this run belongs to, or a request's) it is left to that one and the next.
pub fn catch_up_blocking(shared: &Arc<Shared>, handle: &Handle) {
    if !any_due(shared) {
        return;
    }
    let Ok(_turn) = shared.scripting.catch_up.try_lock() else {
        return;
    };
    run_due(shared, handle, shared.clock.now());
}

fn any_due(shared: &Shared) -> bool {
    let now = shared.clock.now();
    shared
        .router()
        .state_ref::<Schedules>()
        .is_some_and(|t| t.due(now).is_some())
}

/// Runs the scheduler once a second of Tokio time until `stop` changes.
pub async fn pump(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => catch_up(&shared).await,
            _ = stop.changed() => return,
        }
    }
}

/// Runs every entry due at or before `now`, in order.
pub fn run_due(shared: &Arc<Shared>, handle: &Handle, now: u64) {
    for n in 0.. {
        let next = {
            let mut router = shared.router();
            let table = router.state::<Schedules>();
            match table.due(now) {
                None => None,
                Some(_) if n == MAX_RUNS_PER_CATCH_UP => {
                    table.skip_to(now);
                    drop(router);
                    log(
                        shared,
                        "script,warning",
                        &format!(
                            "scheduler: more than {MAX_RUNS_PER_CATCH_UP} runs were due at once; the simulator skipped the rest"
                        ),
                    );
                    None
                }
                Some((i, due)) => {
                    let entry = table.items[i].clone();
                    table.ran(i, due);
                    Some((entry, due))
                }
            }
        };
        let Some((entry, due)) = next else {
            return;
        };
        run_entry(shared, handle, &entry, due);
    }
}

fn run_entry(shared: &Arc<Shared>, handle: &Handle, entry: &Schedule, at: u64) {
    let (owner_policies, user, script) = {
        let mut router = shared.router();
        let owner = router.users.policies_of(&entry.owner);
        let user = router.users.id_by_name(false, &entry.owner);
        let script = router
            .state::<Scripts>()
            .by_name(entry.on_event.trim())
            .map(|s| (s.id, s.name.clone()));
        (owner, user, script)
    };
    let caller = Caller {
        name: entry.owner.clone(),
        user,
        policies: owner_policies.map_or(entry.policy, |p| entry.policy.intersect(p)),
    };
    // With modelled time the run's costs move the clock as it goes; the runs due meanwhile are
    // left to the next catch-up, since this one's list of due runs was fixed when it started.
    let opts = RunOptions {
        at: Some(at),
        job_name: Some(entry.name.clone()),
        ..RunOptions::metered(&shared.background_meter(), false)
    };
    match script {
        Some((id, name)) => match host::run_script(shared, handle, id, true, &caller, &opts) {
            Ok(_) => {}
            Err(RunError::Refused(f)) => {
                host::log_failure(shared, Some(&name), &entry.name, &f.to_string())
            }
            Err(RunError::Script(e)) => {
                host::log_failure(shared, Some(&name), &entry.name, &e.message())
            }
        },
        None => {
            if let Err(e) = host::run_source(shared, handle, &entry.on_event, &caller, &opts) {
                host::log_failure(shared, None, &entry.name, &e.message());
            }
        }
    }
}
