//! Bulk writes through `/execute`: batches do what single writes do, entry by entry (foreign entries
//! reported and untouched, missing entries on removal counted as removed, one failed command not
//! failing the others), the router's rows read back decide even when the batch's reply is lost,
//! hostile tags stay strings, and a router that refuses scripting is written one entry at a time
//! in `auto` mode and fails the writes in `bulk` mode.

use std::time::Duration;

use agent::address::Address;
use agent::batch::WriteMode;
use agent::clock::Clock;
use agent::net::RetryPolicy;
use agent::plan::Grant;
use agent::reconcile::Reconciler;
use simulator::{Action, Family, FaultRule};

use crate::support::{Harness, TAG};

fn grants(h: &Harness, addresses: &[&str]) -> Vec<Grant> {
    addresses
        .iter()
        .map(|a| Grant {
            address: Address::parse(a).unwrap(),
            user: "ann".into(),
            expires: h.clock.now().plus(Duration::from_secs(3600)),
        })
        .collect()
}

fn reconciler(h: &Harness, mode: WriteMode) -> Reconciler {
    // No retries: a lost reply is not sent again, so the read-back alone must decide.
    let client = h.client().with_retry(RetryPolicy::none());
    Reconciler::new(client, h.config.plan_config(), 1, h.clock()).with_write_mode(mode)
}

fn count(requests: &[String], prefix: &str) -> usize {
    requests.iter().filter(|r| r.starts_with(prefix)).count()
}

fn hosts(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("10.1.{}.{}", i / 200, i % 200 + 1))
        .collect()
}

#[tokio::test]
async fn a_cold_sync_goes_out_in_batches_and_a_second_sync_writes_nothing() {
    let h = Harness::start().await;
    let addresses = hosts(600);
    let mut all: Vec<&str> = addresses.iter().map(String::as_str).collect();
    all.push("2001:db8::7");
    let grants = grants(&h, &all);
    let mut rec = reconciler(&h, WriteMode::Bulk);
    let mark = h.sim.journal_mark();
    let report = rec.sync(&grants).await.unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.added.len(), 601);
    let requests = h.requests_since(mark);
    // 600 IPv4 adds in batches of at most 250 (three), one IPv6 add on its own batch.
    assert_eq!(count(&requests, "POST /rest/execute"), 4, "{requests:?}");
    assert_eq!(count(&requests, "PUT "), 0, "{requests:?}");
    assert_eq!(report.batches, 4);
    assert_eq!(report.requests, requests.len());
    assert_eq!(h.v4().len(), 600);
    for (address, remaining) in h.v4() {
        assert_eq!(remaining, Some(3600), "{address}");
    }
    assert_eq!(h.entries(Family::V6)[0].address, "2001:db8::7/128");

    let mark = h.sim.journal_mark();
    let report = rec.sync(&grants).await.unwrap();
    assert_eq!(
        (
            report.added.len(),
            report.refreshed.len(),
            report.removed.len()
        ),
        (0, 0, 0)
    );
    assert_eq!(h.requests_since(mark).len(), 2, "reads only");

    // Revoking most at once goes out in batches too.
    h.advance(Duration::from_secs(60));
    let mark = h.sim.journal_mark();
    let report = rec.sync(&grants[..100]).await.unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.removed.len(), 501);
    let requests = h.requests_since(mark);
    assert_eq!(count(&requests, "DELETE "), 0, "{requests:?}");
    assert_eq!(count(&requests, "POST /rest/execute"), 3, "{requests:?}");
    assert_eq!(h.v4().len(), 100);
}

#[tokio::test]
async fn each_entry_of_a_batch_keeps_the_single_writes_guarantees() {
    let h = Harness::start().await;
    let mut rec = reconciler(&h, WriteMode::Bulk);
    let first = grants(&h, &["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"]);
    rec.sync(&first).await.unwrap();
    // Behind the agent's back: an owned entry deleted, and a foreign entry at an address the
    // agent will add from its memory without reading the router again.
    let gone = h.entries(Family::V4)[0].id.clone();
    let resp = h
        .http()
        .delete(format!(
            "{}/rest/ip/firewall/address-list/{gone}",
            h.sim.https_url()
        ))
        .basic_auth(simulator::DEFAULT_USER, Some(simulator::DEFAULT_PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 204);
    let foreign = h
        .put_foreign(Family::V4, "192.0.2.9", Some("office"), None)
        .await;
    let next = grants(
        &h,
        &[
            "192.0.2.2",
            "192.0.2.3",
            "192.0.2.9",
            "192.0.2.10",
            "192.0.2.11",
        ],
    );
    let report = rec.step(&next).await.unwrap();
    let case = format!("{report:?}");
    // The deleted entry's removal succeeded (already gone), 192.0.2.4 was removed, the foreign
    // entry is reported, untouched, and the other adds went through in the same batch.
    assert!(report.errors.is_empty(), "{case}");
    assert_eq!(report.removed, vec!["192.0.2.1", "192.0.2.4"], "{case}");
    assert_eq!(report.added, vec!["192.0.2.10", "192.0.2.11"], "{case}");
    assert_eq!(report.conflicts.len(), 1, "{case}");
    assert_eq!(report.conflicts[0].id, foreign, "{case}");
    let v4 = h.entries(Family::V4);
    let f = v4.iter().find(|e| e.id == foreign).unwrap();
    assert_eq!(
        (f.address.as_str(), f.comment.as_deref(), f.remaining_s),
        ("192.0.2.9", Some("office"), None)
    );
    let mut owned: Vec<&str> = v4
        .iter()
        .filter(|e| e.comment.as_deref() == Some(TAG))
        .map(|e| e.address.as_str())
        .collect();
    owned.sort();
    assert_eq!(
        owned,
        ["192.0.2.10", "192.0.2.11", "192.0.2.2", "192.0.2.3"]
    );
}

#[tokio::test]
async fn a_command_failing_inside_a_batch_fails_alone_and_is_written_again_on_its_own() {
    let h = Harness::start().await;
    // The second scripted add fails (a fault on the scripted command's path).
    let _fault = h
        .sim
        .fault(
            FaultRule::always(Action::Status {
                status: 500,
                detail: Some("std failure: timeout (13)".into()),
            })
            .path("/rest/ip/firewall/address-list/add")
            .method("SCRIPT")
            .after(1)
            .times(1),
        )
        .unwrap();
    let grants = grants(&h, &["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"]);
    let mut rec = reconciler(&h, WriteMode::Bulk);
    let mark = h.sim.journal_mark();
    let report = rec.sync(&grants).await.unwrap();
    assert!(report.errors.is_empty(), "{report:?}");
    assert_eq!(report.added.len(), 4);
    let requests = h.requests_since(mark);
    assert_eq!(count(&requests, "POST /rest/execute"), 1, "{requests:?}");
    assert_eq!(count(&requests, "PUT "), 1, "{requests:?}");
    assert_eq!(h.v4().len(), 4);
}

#[tokio::test]
async fn a_lost_reply_after_the_batch_ran_is_decided_by_reading_back() {
    let h = Harness::start().await;
    let _fault = h
        .sim
        .fault(
            FaultRule::always(Action::CloseAfterHeaders)
                .path("/rest/execute")
                .times(1),
        )
        .unwrap();
    let grants = grants(&h, &["192.0.2.1", "192.0.2.2", "192.0.2.3"]);
    let mut rec = reconciler(&h, WriteMode::Bulk);
    let mark = h.sim.journal_mark();
    let report = rec.sync(&grants).await.unwrap();
    assert!(report.errors.is_empty(), "{report:?}");
    assert_eq!(report.added.len(), 3);
    let requests = h.requests_since(mark);
    assert_eq!(count(&requests, "PUT "), 0, "the batch ran: {requests:?}");
    assert_eq!(h.v4().len(), 3);
    // Nothing left to do.
    let report = rec.sync(&grants).await.unwrap();
    assert_eq!(report.added.len() + report.refreshed.len(), 0, "{report:?}");
}

#[tokio::test]
async fn hostile_tags_and_list_names_stay_strings() {
    for tag in [
        "x\";/ip/firewall/address-list/remove [find];:put \"",
        "$(/system/reboot) ? } on-error={",
        "line\nbreak\tand é",
    ] {
        let h = Harness::start().await;
        let foreign = h.put_foreign(Family::V4, "198.51.100.1", None, None).await;
        let mut plan = h.config.plan_config();
        plan.tag = tag.into();
        plan.list_v4 = "l\"i$t?} [x]".into();
        let client = h.client().with_retry(RetryPolicy::none());
        let mut rec =
            Reconciler::new(client, plan.clone(), 1, h.clock()).with_write_mode(WriteMode::Bulk);
        let grants = grants(&h, &["192.0.2.1", "192.0.2.2", "192.0.2.3"]);
        let report = rec.sync(&grants).await.unwrap();
        assert!(report.errors.is_empty(), "{tag:?}: {report:?}");
        assert_eq!(report.added.len(), 3, "{tag:?}");
        let written: Vec<(String, Option<String>)> = h.sim.with_router(|r| {
            r.list(Family::V4)
                .views()
                .into_iter()
                .filter(|v| v.list == plan.list_v4)
                .map(|v| (v.address, v.comment))
                .collect()
        });
        assert_eq!(written.len(), 3, "{tag:?}");
        assert!(
            written.iter().all(|(_, c)| c.as_deref() == Some(tag)),
            "{written:?}"
        );
        // The foreign entry of the other list is still there.
        assert!(h.entries(Family::V4).iter().any(|e| e.id == foreign));
        let report = rec.sync(&grants).await.unwrap();
        assert_eq!(report.added.len() + report.refreshed.len(), 0, "{tag:?}");
    }
}

#[tokio::test]
async fn refused_scripting_falls_back_to_single_writes_in_auto_mode_only() {
    for (action, code) in [
        (
            Action::Status {
                status: 500,
                detail: Some("not enough permissions (9)".into()),
            },
            208002,
        ),
        (
            Action::Body {
                status: 200,
                content_type: "application/json".into(),
                body: r#"{"ret":"bad command name execute (line 1 column 2)"}"#.into(),
            },
            208401,
        ),
    ] {
        let h = Harness::start().await;
        let _fault = h
            .sim
            .fault(FaultRule::always(action.clone()).path("/rest/execute"))
            .unwrap();
        let addresses = ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"];
        let mut rec = reconciler(&h, WriteMode::Auto);
        let mark = h.sim.journal_mark();
        let report = rec.sync(&grants(&h, &addresses[..3])).await.unwrap();
        assert!(report.errors.is_empty(), "{action:?}: {report:?}");
        assert_eq!(report.added.len(), 3);
        assert_eq!(rec.write_mode(), WriteMode::Single);
        let requests = h.requests_since(mark);
        assert_eq!(count(&requests, "POST /rest/execute"), 1, "{requests:?}");
        assert_eq!(count(&requests, "PUT "), 3, "{requests:?}");
        // Once refused, no more batches.
        let mark = h.sim.journal_mark();
        h.advance(Duration::from_secs(1));
        let more = grants(&h, &addresses);
        let report = rec.sync(&more).await.unwrap();
        assert!(report.errors.is_empty(), "{report:?}");
        assert_eq!(count(&h.requests_since(mark), "POST /rest/execute"), 0);

        // Bulk mode does not fall back: the writes fail with the refusal's code.
        let h = Harness::start().await;
        let _fault = h
            .sim
            .fault(FaultRule::always(action.clone()).path("/rest/execute"))
            .unwrap();
        let mut rec = reconciler(&h, WriteMode::Bulk);
        let report = rec.sync(&grants(&h, &addresses[..3])).await.unwrap();
        let codes: Vec<u32> = report.errors.iter().map(|e| e.code.number()).collect();
        assert_eq!(codes, vec![code; 3], "{action:?}: {report:?}");
        assert!(h.v4().is_empty());
    }
}

#[tokio::test]
async fn reads_only_the_agents_entries_and_still_finds_foreign_ones_at_granted_addresses() {
    let h = Harness::start().await;
    let foreign = h
        .put_foreign(Family::V4, "192.0.2.5", Some("office"), None)
        .await;
    for i in 0..20 {
        h.put_foreign(Family::V4, &format!("198.51.100.{i}"), None, None)
            .await;
    }
    let grants = grants(
        &h,
        &[
            "192.0.2.1",
            "192.0.2.2",
            "192.0.2.3",
            "192.0.2.4",
            "192.0.2.5",
        ],
    );
    let mut rec = reconciler(&h, WriteMode::Auto);
    let mark = h.sim.journal_mark();
    let report = rec.sync(&grants).await.unwrap();
    assert!(report.errors.is_empty(), "{report:?}");
    assert_eq!(report.added.len(), 4, "{report:?}");
    let conflicts: Vec<&str> = report.conflicts.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(conflicts, [foreign.as_str()], "{report:?}");
    let requests = h.requests_since(mark);
    // The reads name the list and the tag; the foreign entry was found by the probe of the
    // addresses to add, so no write was tried at its address.
    assert!(
        requests[..2]
            .iter()
            .all(|r| r.starts_with("GET ") && r.contains("comment=routeros-agent")),
        "{requests:?}"
    );
    assert_eq!(
        count(&requests, "POST /rest/ip/firewall/address-list/print"),
        1,
        "{requests:?}"
    );
    assert_eq!(count(&requests, "POST /rest/execute"), 1, "{requests:?}");
    // The batch's adds were confirmed by reading the agent's entries back once.
    assert!(
        requests.len() == 5 && requests[4].starts_with("GET "),
        "{requests:?}"
    );

    // Steady state: reads only, and the conflict is still reported.
    let mark = h.sim.journal_mark();
    let report = rec.sync(&grants).await.unwrap();
    assert_eq!(report.added.len() + report.refreshed.len(), 0, "{report:?}");
    assert_eq!(report.conflicts.len(), 1, "{report:?}");
    let requests = h.requests_since(mark);
    assert!(
        requests
            .iter()
            .all(|r| r.starts_with("GET ") || r.ends_with("/address-list/print")),
        "{requests:?}"
    );
    assert_eq!(requests.len(), 3, "{requests:?}");

    // A cold start with more adds than the probe takes: the batch's read-back finds it.
    let h = Harness::start().await;
    let foreign = h
        .put_foreign(Family::V4, "10.1.0.7", Some("office"), None)
        .await;
    let addresses = hosts(300);
    let all: Vec<&str> = addresses.iter().map(String::as_str).collect();
    let mut rec = reconciler(&h, WriteMode::Bulk);
    let report = rec.sync(&super::bulk::grants(&h, &all)).await.unwrap();
    assert!(report.errors.is_empty(), "{report:?}");
    assert_eq!(report.added.len(), 299);
    let conflicts: Vec<&str> = report.conflicts.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(conflicts, [foreign.as_str()], "{report:?}");
    let v4 = h.entries(Family::V4);
    let f = v4.iter().find(|e| e.id == foreign).unwrap();
    assert_eq!(f.comment.as_deref(), Some("office"));
}
