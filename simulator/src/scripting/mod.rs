//! The scripting runtime: what `/execute`, `/system/script run`, `/import`, `/tool/fetch` and the
//! scheduler do once the model has checked the command and the router's lock is released.
//!
//! The model answers those commands with [`Outcome::Deferred`] and a [`Work`]; [`perform`] carries
//! the work out and returns the outcome REST renders. Scripts run on Tokio's blocking pool, each
//! command of a script taking the router's lock for that command only (other requests interleave,
//! as on a router), through the same [`Router::run`] a REST request uses ([`host`]). A fetch is a
//! real HTTP request ([`fetch`]); the scheduler runs on the simulator's clock ([`schedule`]).
//!
//! Nothing here waits for real time that a test could not move: `:delay` moves the script's own
//! time, costs of the router-speed profile are slept on Tokio's clock (which the simulator's clock
//! follows) exactly as REST costs are, or with modelled time charged on the simulator's clock as
//! they are spent ([`Meter`]), and every run has the interpreter's step budget.
//!
//! [`Router::run`]: crate::model::Router::run

pub mod fetch;
pub mod host;
pub mod schedule;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use crate::meter::Meter;
use crate::model::args::format_id;
use crate::model::failure::Failure;
use crate::model::outcome::{Outcome, Rows};
use crate::model::scripting::{Log, Scripts, Work};
use crate::model::users::Policies;
use crate::script::{Globals, ScriptError};
use crate::shared::Shared;

pub use host::{RegistryCatalog, RunOptions};

/// Who a piece of work runs as.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The user's name (`owner` of what it adds, whose globals it sees).
    pub name: String,
    /// The user's id.
    pub user: Option<u32>,
    /// The policies the work runs with.
    pub policies: Policies,
}

/// The runtime's own state, one per simulator.
#[derive(Debug)]
pub struct Runtime {
    next_job: AtomicU32,
    globals: Mutex<HashMap<String, Globals>>,
    running: watch::Sender<usize>,
    /// One catch-up of the scheduler at a time.
    pub(crate) catch_up: tokio::sync::Mutex<()>,
}

impl Default for Runtime {
    fn default() -> Self {
        Self {
            // Job ids on a router are large (`*B546`); any increasing counter will do.
            next_job: AtomicU32::new(0xB500),
            globals: Mutex::new(HashMap::new()),
            running: watch::Sender::new(0),
            catch_up: tokio::sync::Mutex::new(()),
        }
    }
}

impl Runtime {
    /// Takes `user`'s globals for a run (they are per user on a router: "accessible from all
    /// scripts created by the current user", MikroTik manual, Scripting).
    pub(crate) fn take_globals(&self, user: &str) -> Globals {
        let mut all = self.globals.lock().unwrap_or_else(|e| e.into_inner());
        all.remove(user).unwrap_or_default()
    }

    /// Gives a run's globals back.
    pub(crate) fn put_globals(&self, user: &str, globals: Globals) {
        let mut all = self.globals.lock().unwrap_or_else(|e| e.into_inner());
        all.insert(user.to_owned(), globals);
    }

    /// Waits until no background job is running.
    pub async fn idle(&self) {
        let mut rx = self.running.subscribe();
        let _ = rx.wait_for(|n| *n == 0).await;
    }

    fn job_started(&self) {
        self.running.send_modify(|n| *n += 1);
    }

    fn job_ended(&self) {
        self.running.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// Appends a line to the router's log.
pub(crate) fn log(shared: &Shared, topics: &str, message: &str) {
    let now = shared.clock.now();
    let wall = shared.clock.wall_ms(now).div_euclid(1000);
    shared.router().state::<Log>().push(wall, topics, message);
}

/// Carries out `work` for `caller` and returns the outcome to render, and the router-speed cost
/// the work spent that the caller still has to pay on `meter` (as REST costs are). With modelled
/// time a script's costs are charged on `meter` as it runs, so only a fetch's is left to pay.
pub async fn perform(
    shared: &Arc<Shared>,
    work: Work,
    caller: Caller,
    meter: &Arc<Meter>,
) -> Result<(Outcome, Duration), Failure> {
    match work {
        Work::Execute {
            source,
            as_string: false,
        } => {
            let id = shared.scripting.next_job.fetch_add(1, Ordering::Relaxed);
            let job = format_id(id);
            start_job(shared, source, caller, job.clone());
            Ok((Outcome::Value { text: job, rows: 0 }, Duration::ZERO))
        }
        Work::Fetch(args) => {
            let version = shared.router().version.clone();
            let result = fetch::fetch(shared, &args, &version).await?;
            let cost = shared.limits().fetch_cost;
            Ok((
                Outcome::Rows {
                    rows: Rows::Owned(vec![result.rest_row()]),
                    proplist: None,
                    examined: 0,
                },
                cost,
            ))
        }
        other => {
            let shared2 = shared.clone();
            let limit = shared.limits().session_limit;
            let cancel = Arc::new(AtomicBool::new(false));
            let _guard = CancelOnDrop(cancel.clone());
            let handle = tokio::runtime::Handle::current();
            let metered = RunOptions::metered(meter, true);
            let done = tokio::task::spawn_blocking(move || {
                let opts = RunOptions {
                    session: Some(limit),
                    cancel,
                    ..metered
                };
                host::perform_blocking(&shared2, &handle, other, &caller, &opts)
            })
            .await
            .map_err(|_| Failure::internal("script could not be run"))?;
            let (value, cost) = done?;
            Ok((value, cost))
        }
    }
}

/// Sets its flag when dropped: a REST request that gave up (its session closed) stops its script.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Starts a background job running `source` as `caller`: bounded by the step budget only, not by
/// the session limit ([likely]: a job outlives the request that started it); an error goes to the
/// log, as the captures show nothing else to see it in.
fn start_job(shared: &Arc<Shared>, source: String, caller: Caller, job: String) {
    let shared = shared.clone();
    shared.scripting.job_started();
    let handle = tokio::runtime::Handle::current();
    // A job outlives its request, so its costs go on a meter of its own (no session limit).
    let opts = RunOptions::metered(&shared.background_meter(), true);
    tokio::spawn(async move {
        let s2 = shared.clone();
        let result = tokio::task::spawn_blocking(move || {
            host::run_source(&s2, &handle, &source, &caller, &opts)
        })
        .await;
        if let Ok(Err(e)) = &result {
            log(
                &shared,
                "script,error",
                &format!("job {job}: {}", e.message()),
            );
        }
        if let Ok(Ok(run)) = &result
            && !run.cost.is_zero()
        {
            tokio::time::sleep(run.cost).await;
        }
        shared.scripting.job_ended();
    });
}

/// What a script error looks like in a REST reply's `detail` or `ret`.
pub fn error_text(e: &ScriptError) -> String {
    e.to_string()
}

/// Marks a script as started: `run-count` and `last-started`.
pub(crate) fn mark_started(shared: &Shared, id: u32) {
    let now = shared.clock.now();
    let wall = shared.clock.wall_ms(now).div_euclid(1000);
    if let Some(s) = shared.router().state::<Scripts>().get_mut(id) {
        s.run_count += 1;
        s.last_started = Some(wall);
    }
}
