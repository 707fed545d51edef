//! Executing an operation: the user's queue, the session limit, the router's lock.
//!
//! Requests of one user run one at a time in arrival order when the performance profile asks for it
//! (ROUTEROS-REST.md section 6); each waits its request cost, runs on the router under its lock,
//! waits the cost of the rows it touched, and is rendered, all within the session limit, past which
//! it is answered `400 Session closed` as a real router does after 60 seconds. The lock is held only
//! while the model runs: what comes back owns its data and is rendered after it is released.

use std::sync::Arc;

use http::Response;

use super::body::Body;
use super::error::ErrorReply;
use super::reply::{self, Executed};
use super::request::{Form, Operation};
use crate::model::failure::Failure;
use crate::model::run::{Context, Outcome};
use crate::model::users::Policies;
use crate::shared::Shared;

/// Runs `op` in `user`'s queue, within the session limit, and renders its reply.
pub async fn run_queued(
    shared: &Arc<Shared>,
    user: &str,
    op: Operation,
    policies: Policies,
) -> Result<Response<Body>, ErrorReply> {
    let limits = shared.limits();
    // Scheduler entries that became due run before the request, each at its own time.
    crate::scripting::schedule::catch_up(shared).await;
    let work = async {
        let queue = limits.serialize_per_user.then(|| shared.user_queue(user));
        let _turn = match &queue {
            Some(q) => Some(q.lock().await),
            None => None,
        };
        if !limits.request_cost.is_zero() {
            tokio::time::sleep(limits.request_cost).await;
        }
        let Operation { call, form } = op;
        let menu = call.menu();
        let mut done = execute(shared, call, &form, policies, user)?;
        if let Outcome::Deferred(work) = done.outcome {
            let caller = crate::scripting::Caller {
                name: user.to_owned(),
                user: done.user,
                policies,
            };
            let (outcome, cost) = crate::scripting::perform(shared, work, caller).await?;
            if !cost.is_zero() {
                tokio::time::sleep(cost).await;
            }
            done.outcome = outcome;
        }
        let cost = limits
            .row_cost
            .saturating_mul(done.outcome.rows().min(u32::MAX as usize) as u32);
        if !cost.is_zero() {
            tokio::time::sleep(cost).await;
        }
        reply::render(done, form, menu).await
    };
    match tokio::time::timeout(limits.session_limit, work).await {
        Ok(result) => result,
        Err(_) => Err(Failure::bad_request("Session closed").into()),
    }
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
