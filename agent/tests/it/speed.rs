//! The agent at a real router's speed (`Limits::realistic()`: about 120 ms a request, one user's
//! requests one at a time), on modelled time (the costs move the simulator's clock instead of being
//! waited for), with the agent's clock read from the simulator's, so that both see the same time
//! pass: after a sync no owned entry outlives its grant by more than the tolerance plus
//! one request's latency, and a second sync right after writes nothing, in both write modes.

use std::time::Duration;

use agent::address::Address;
use agent::batch::WriteMode;
use agent::plan::Grant;
use agent::reconcile::Reconciler;
use simulator::{Family, Limits};

use crate::support::{Harness, LIST, TAG};

/// How far each owned entry's remaining life exceeds its grant's, in milliseconds, at one instant
/// of the simulator's clock.
fn excess_ms(h: &Harness, grants: &[Grant]) -> Vec<(String, i64)> {
    let (now_ms, wall_ms) = {
        let r = h.sim.clock().reading();
        (r.now_ms, r.wall_ms)
    };
    h.sim.with_router(|r| {
        r.list(Family::V4)
            .views()
            .into_iter()
            .filter(|v| v.list == LIST && v.comment.as_deref() == Some(TAG))
            .map(|v| {
                let left =
                    v.expires_at_ms.expect("owned entries have a timeout") as i64 - now_ms as i64;
                let grant = grants
                    .iter()
                    .find(|g| g.address.as_str() == v.address)
                    .expect("an entry for a grant");
                let grant_left = grant.expires.0 as i64 - wall_ms;
                (v.address, left - grant_left)
            })
            .collect()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_router_speed_timeouts_are_true_when_sent_and_a_second_sync_writes_nothing() {
    // Enough single writes that the last goes out well past the tolerance after the plan was made
    // (100 x 120 ms = 12 s > 5 s): computed at planning time, its timeout would be too long.
    for (mode, count) in [(WriteMode::Single, 100), (WriteMode::Bulk, 1000)] {
        let h = Harness::start().await;
        let limits = Limits::realistic().modelled();
        h.sim.set_limits(limits);
        let clock = h.sim_clock();
        let now = clock.now();
        let grants: Vec<Grant> = (0..count)
            .map(|i| Grant {
                address: Address::parse(&format!("10.2.{}.{}", i / 100, i % 100 + 1)).unwrap(),
                user: "ann".into(),
                expires: now.plus(Duration::from_secs(3600)),
            })
            .collect();
        let client = h.client();
        let mut rec =
            Reconciler::new(client, h.config.plan_config(), 1, clock.clone()).with_write_mode(mode);
        let report = rec.sync(&grants).await.unwrap();
        assert!(report.errors.is_empty(), "{mode:?}: {report:?}");
        assert_eq!(report.added.len(), count, "{mode:?}");

        let bound = (h.config.plan_config().tolerance + limits.request_cost).as_millis() as i64;
        let excess = excess_ms(&h, &grants);
        assert_eq!(excess.len(), count);
        for (address, over) in &excess {
            assert!(
                *over <= bound,
                "{mode:?}: {address} outlives its grant by {over} ms (bound {bound} ms)"
            );
        }
        let mark = h.sim.journal_mark();
        let report = rec.sync(&grants).await.unwrap();
        assert_eq!(
            (
                report.added.len(),
                report.refreshed.len(),
                report.removed.len()
            ),
            (0, 0, 0),
            "{mode:?}: {report:?}"
        );
        assert_eq!(h.requests_since(mark).len(), 2, "{mode:?}: reads only");
    }
}
