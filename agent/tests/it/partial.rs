//! Plans that meet failures half-way: a failure about one entry (a 500, `Session closed`) is recorded
//! and the rest of the plan goes on; a failure that means the router is unreachable stops it; and
//! removals run before adds, so a bad add never holds back a revocation.

use std::time::Duration;

use agent::address::Address;
use agent::clock::Clock;
use agent::net::RetryPolicy;
use agent::plan::Grant;
use agent::reconcile::Reconciler;
use simulator::{Action, Family, FaultRule};

use crate::support::{Harness, TAG};

const LIST_PATH: &str = "/rest/ip/firewall/address-list";

fn grant(h: &Harness, address: &str) -> Grant {
    Grant {
        address: Address::parse(address).unwrap(),
        user: "ann".into(),
        expires: h.clock.now().plus(Duration::from_secs(3600)),
    }
}

fn reconciler(h: &Harness, concurrency: usize) -> Reconciler {
    // No retries: each fault firing is exactly one failed write.
    let client = h.client().with_retry(RetryPolicy::none());
    Reconciler::new(client, h.config.plan_config(), concurrency, h.clock())
}

fn codes(report: &agent::reconcile::Report) -> Vec<u32> {
    report.errors.iter().map(|e| e.code.number()).collect()
}

#[tokio::test]
async fn one_failed_entry_does_not_stop_the_others() {
    for (concurrency, status, detail, code) in [
        (1, 500, "failure: out of memory", 208011),
        (4, 500, "failure: out of memory", 208011),
        (1, 400, "Session closed", 208010),
        (4, 400, "Session closed", 208010),
    ] {
        let h = Harness::start().await;
        let _fault = h
            .sim
            .fault(
                FaultRule::always(Action::Status {
                    status,
                    detail: Some(detail.into()),
                })
                .path(LIST_PATH)
                .method("PUT")
                .times(1),
            )
            .unwrap();
        let grants = [
            grant(&h, "192.0.2.31"),
            grant(&h, "192.0.2.32"),
            grant(&h, "192.0.2.33"),
        ];
        let mut rec = reconciler(&h, concurrency);
        let report = rec.sync(&grants).await.unwrap();
        let case = format!("concurrency {concurrency}, {status} {detail}: {report:?}");
        assert_eq!(codes(&report), vec![code], "{case}");
        assert_eq!(report.added.len(), 2, "{case}");
        assert_eq!(h.v4().len(), 2, "{case}");
        // The next reconcile adds the one that failed.
        let report = rec.sync(&grants).await.unwrap();
        assert!(report.errors.is_empty(), "{report:?}");
        assert_eq!(h.v4().len(), 3);
    }
}

#[tokio::test]
async fn a_lost_connection_still_stops_the_plan() {
    let h = Harness::start().await;
    let _fault = h
        .sim
        .fault(
            FaultRule::always(Action::Reset)
                .path(LIST_PATH)
                .method("PUT"),
        )
        .unwrap();
    let grants = [grant(&h, "192.0.2.34"), grant(&h, "192.0.2.35")];
    let mark = h.sim.journal_mark();
    let report = reconciler(&h, 1).sync(&grants).await.unwrap();
    assert_eq!(codes(&report), vec![208007], "{report:?}");
    let puts = h
        .requests_since(mark)
        .into_iter()
        .filter(|r| r.starts_with("PUT"))
        .count();
    assert_eq!(puts, 1, "the second add must not be attempted");
}

#[tokio::test]
async fn revocations_run_before_adds_that_fail() {
    let h = Harness::start().await;
    for concurrency in [1, 4] {
        // An entry of the agent's whose grant is gone, and a new grant whose add breaks the
        // connection (a stop-the-plan failure: before the fix it also skipped the removal).
        h.put_foreign(Family::V4, "192.0.2.40", Some(TAG), Some("1h"))
            .await;
        let fault = h
            .sim
            .fault(
                FaultRule::always(Action::Reset)
                    .path(LIST_PATH)
                    .method("PUT"),
            )
            .unwrap();
        let report = reconciler(&h, concurrency)
            .sync(&[grant(&h, "192.0.2.41")])
            .await
            .unwrap();
        drop(fault);
        assert_eq!(codes(&report), vec![208007], "{report:?}");
        assert_eq!(report.removed, vec!["192.0.2.40".to_owned()], "{report:?}");
        assert!(h.v4().is_empty(), "{:?}", h.v4());
    }
}
