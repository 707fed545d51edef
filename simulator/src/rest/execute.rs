//! Executing an operation: the user's queue, the session limit, the router's lock.
//!
//! Requests of one user run one at a time in arrival order when the performance profile asks for it
//! (ROUTEROS-REST.md section 6); each pays its request cost, runs on the router under its lock,
//! pays the cost of the rows it touched, and is rendered, all within the session limit, past which
//! it is answered `400 Session closed` as a real router does after 60 seconds. Costs are waited for
//! on Tokio's clock, or, with modelled time, charged on the simulator's clock ([`Meter`]). The lock
//! is held only while the model runs: what comes back owns its data and is rendered after it is
//! released.

use std::sync::Arc;
use std::time::Duration;

use http::Response;

use super::body::Body;
use super::error::ErrorReply;
use super::reply::{self, Executed};
use super::request::{Form, Operation};
use crate::meter::{Meter, SessionClosed};
use crate::model::failure::Failure;
use crate::model::run::{Context, Outcome};
use crate::model::users::Policies;
use crate::scripting::host::SESSION_CLOSED;
use crate::shared::Shared;

/// Runs `op` in `user`'s queue, within the session limit, and renders its reply; also returns
/// the cost the router-speed profile charged for it (for the journal).
///
/// Without modelled time the costs are waited for on Tokio's clock and the session limit is a
/// Tokio timeout. With it ([`Limits::modelled_time`](crate::Limits::modelled_time)) nothing
/// waits: the [`Meter`] moves the simulator's clock by each cost while the user's turn is held,
/// scheduler entries that fall due inside a cost's window run after it, in order, and a request
/// whose costs would pass the limit moves the clock to the limit and is `400 Session closed`.
pub async fn run_queued(
    shared: &Arc<Shared>,
    user: &str,
    op: Operation,
    policies: Policies,
) -> (Result<Response<Body>, ErrorReply>, Duration) {
    let limits = shared.limits();
    // Scheduler entries that became due run before the request, each at its own time.
    crate::scripting::schedule::catch_up(shared).await;
    let modelled = limits.modelled_time;
    let queue = limits.serialize_per_user.then(|| shared.user_queue(user));
    let mut meter = Meter::new(
        shared.clock.clone(),
        modelled,
        modelled.then_some(limits.session_limit),
    );
    if let Some(q) = &queue {
        meter = meter.in_queue(q.clone());
    }
    let meter = Arc::new(meter);
    let work = async {
        let _turn = match &queue {
            Some(q) => Some(q.turn.lock().await),
            None => None,
        };
        meter.turn_started();
        pay(shared, &meter, limits.request_cost).await?;
        let Operation { call, form } = op;
        let menu = call.menu();
        let mut done = execute(shared, call, &form, policies, user)?;
        if let Outcome::Deferred(work) = done.outcome {
            let caller = crate::scripting::Caller {
                name: user.to_owned(),
                user: done.user,
                policies,
            };
            let (outcome, cost) = crate::scripting::perform(shared, work, caller, &meter).await?;
            pay(shared, &meter, cost).await?;
            done.outcome = outcome;
        }
        // The rows it read or wrote: a print's scan, rows and the fields the reply shows.
        let proplist = match &form {
            Form::List { proplist, .. } | Form::Item { proplist } => proplist.as_ref(),
            _ => None,
        };
        pay(shared, &meter, limits.outcome_cost(&done.outcome, proplist)).await?;
        reply::render(done, form, menu).await
    };
    let result = match modelled {
        true => work.await,
        false => match tokio::time::timeout(limits.session_limit, work).await {
            Ok(result) => result,
            Err(_) => {
                meter.close();
                return (
                    Err(Failure::bad_request(SESSION_CLOSED).into()),
                    limits.session_limit,
                );
            }
        },
    };
    if meter.is_closed() {
        // The work stopped at its limit (a cost, a script's `:delay`): the session lasted
        // exactly the limit, and what the router did before stays done.
        meter.close();
        return (
            Err(Failure::bad_request(SESSION_CLOSED).into()),
            meter.spent(),
        );
    }
    (result, meter.spent())
}

/// Pays a cost on `meter`; with modelled time, runs the scheduler entries that fell due inside
/// its window (the catch-up that follows every clock move), still in the user's turn.
async fn pay(shared: &Arc<Shared>, meter: &Meter, cost: Duration) -> Result<(), ErrorReply> {
    let paid = meter.pay(cost).await;
    if meter.is_modelled() && !cost.is_zero() {
        crate::scripting::schedule::catch_up(shared).await;
    }
    paid.map_err(|SessionClosed| Failure::bad_request(SESSION_CLOSED).into())
}

/// Runs a call on the router under its lock.
fn execute(
    shared: &Shared,
    call: crate::model::run::Call,
    form: &Form,
    policies: Policies,
    user: &str,
) -> Result<Executed, Failure> {
    let now = shared.clock.now();
    let menu = call.menu();
    let touches_listeners = menu.imp().drives_listeners() && call.writes();
    let mut router = shared.router();
    let ctx = Context {
        policies,
        now,
        wall_s: shared.clock.wall_ms(now).div_euclid(1000),
        user: router.users.id_by_name(false, user),
    };
    router.purge(now);
    let outcome = router.execute(call, &ctx)?;
    let item_id = match (&outcome, form) {
        (Outcome::Added(id), Form::Created { .. }) => Some(*id),
        (_, Form::Patched { id, .. }) => Some(*id),
        _ => None,
    };
    let item = match item_id {
        Some(id) => Some(router.item(menu, id, now).ok_or_else(Failure::not_found)?),
        None => None,
    };
    drop(router);
    if touches_listeners {
        shared.publish_services();
    }
    if let Form::Patched {
        applied_then_refused: Some(detail),
        ..
    } = form
    {
        return Err(Failure::bad_request(*detail));
    }
    Ok(Executed {
        outcome,
        item,
        user: ctx.user,
    })
}
