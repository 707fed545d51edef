//! Convergence under faults: with a seeded 30% of requests failing in assorted ways (HTTP errors,
//! resets, stalls, broken JSON, replies lost after the router acted) during 500 grants and revokes,
//! one reconcile after the faults stop leaves the router's lists exactly equal to the grants, with no
//! grant lost and no foreign entry touched.
//!
//! The same run goes again at a real router's speed on modelled time (`Limits::realistic()
//! .modelled()`), writing in batches through `/execute`, with the agent's clock read from the
//! simulator's: faults then also land inside batches (a scripted command fails, the batch's reply
//! is lost after the router ran it, the read-back fails), and the agent restarts (its memory of
//! the router lost) every hundred steps.
//!
//! The test keeps its own model of the grants (what a user was told), independent of the agent, and
//! compares three things at the end: the model, the agent's grant store reloaded from disk, and the
//! simulator's lists read from its state (not through the agent's parser).

use std::collections::BTreeMap;
use std::time::Duration;

use std::sync::Arc;

use agent::address::Address;
use agent::batch::WriteMode;
use agent::clock::{Clock, Time};
use agent::net::{RetryPolicy, RouterClient};
use agent::plan::Grant;
use agent::reconcile::Reconciler;
use agent::store::GrantStore;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use simulator::{Action, Family, FaultRule, Limits};

use crate::support::{Harness, TAG};

/// Faults as rules of the simulator, each with its own seeded generator; about 30% of requests
/// meet one of them (1 - 0.88 * 0.92 * 0.93 * 0.97 * 0.97 ≈ 0.29).
fn faults() -> Vec<FaultRule> {
    let everywhere = |action: Action, p: f64, seed: u64| {
        FaultRule::always(action)
            .path("/rest/*")
            .probability(p, seed)
    };
    vec![
        everywhere(
            Action::Status {
                status: 500,
                detail: Some("std failure: timeout (13)".into()),
            },
            0.12,
            1,
        ),
        everywhere(Action::Reset, 0.08, 2),
        everywhere(
            Action::Body {
                status: 200,
                content_type: "application/json".into(),
                body: "[{\".id\":\"*1\",\"addr".into(),
            },
            0.07,
            3,
        ),
        everywhere(Action::CloseAfterHeaders, 0.03, 4),
        everywhere(Action::Stall, 0.03, 5),
    ]
}

#[tokio::test]
async fn five_hundred_grants_and_revokes_under_thirty_percent_faults_converge() {
    converge(false).await;
}

#[tokio::test]
async fn at_router_speed_in_batches_with_restarts_they_converge_too() {
    converge(true).await;
}

/// The run; `router_speed` for the router-speed profile on modelled time, batches and restarts.
async fn converge(router_speed: bool) {
    let mut h = Harness::start().await;
    // Stalls must cost little: a short request limit, and a quick retry so the run stays short.
    h.config.request_timeout = Duration::from_millis(200);
    h.config.connect_timeout = Duration::from_millis(200);
    let clock: Arc<dyn Clock> = if router_speed {
        h.sim.set_limits(Limits::realistic().modelled());
        h.config.write_mode = WriteMode::Bulk;
        h.sim_clock()
    } else {
        h.clock()
    };
    let reconciler = |h: &Harness| {
        let client = RouterClient::new(&h.config)
            .unwrap()
            .with_retry(RetryPolicy {
                attempts: 2,
                base: Duration::from_millis(1),
                max: Duration::from_millis(5),
            });
        Reconciler::new(
            client,
            h.config.plan_config(),
            h.config.concurrency,
            clock.clone(),
        )
        .with_write_mode(h.config.write_mode)
    };
    let mut rec = reconciler(&h);

    // Entries the agent must never touch: untagged static and dynamic ones, one of them on an address
    // that will also be granted.
    h.put_foreign(Family::V4, "198.51.100.1", None, None).await;
    h.put_foreign(Family::V4, "198.51.100.2", Some("firewall admin"), None)
        .await;
    h.put_foreign(Family::V4, "10.0.0.7", Some("someone else's"), Some("3h"))
        .await;
    h.put_foreign(Family::V6, "2001:db8:ffff::1", None, None)
        .await;
    let foreign_before: Vec<_> = [Family::V4, Family::V6]
        .into_iter()
        .flat_map(|f| h.entries(f))
        .filter(|e| e.comment.as_deref() != Some(TAG))
        .collect();

    let rules: Vec<u64> = faults()
        .into_iter()
        .map(|r| h.sim.add_fault(r).unwrap())
        .collect();
    let mut store = GrantStore::open(&h.config.state).unwrap();
    let mut model: BTreeMap<(String, String), Time> = BTreeMap::new();
    let mut rng = StdRng::seed_from_u64(0x5eed);
    let pool: Vec<String> = (0..40)
        .map(|i| format!("10.0.0.{i}"))
        .chain((0..20).map(|i| format!("2001:db8::{i:x}")))
        .chain((0..5).map(|i| format!("10.{i}.0.0/24")))
        .collect();
    let users = ["ana", "bo", "cy", "di", "ed"];
    let (mut failures, mut writes) = (0, 0);
    for step in 0..500 {
        if router_speed && step % 100 == 99 {
            // The agent restarts: whatever it remembered of the router is gone.
            rec = reconciler(&h);
        }
        let now = clock.now();
        if step % 3 == 2 && !model.is_empty() {
            let (address, user) = model
                .keys()
                .nth(rng.random_range(0..model.len()))
                .cloned()
                .unwrap();
            model.remove(&(address.clone(), user.clone()));
            assert!(
                store
                    .revoke(&Address::parse(&address).unwrap(), &user)
                    .unwrap()
            );
        } else {
            let address = pool[rng.random_range(0..pool.len())].clone();
            let user = users[rng.random_range(0..users.len())].to_owned();
            let expires = now.plus(Duration::from_secs(rng.random_range(600..7200)));
            let parsed = Address::parse(&address).unwrap();
            model.insert((parsed.to_string(), user.clone()), expires);
            store
                .grant(Grant {
                    address: parsed,
                    user,
                    expires,
                })
                .unwrap();
        }
        // At router speed the agent reconciles every fourth change, so that plans hold several
        // writes and go out in batches.
        if !router_speed || step % 4 == 3 {
            writes += 1;
            if rec.sync(store.grants()).await.is_err() {
                failures += 1;
            }
        }
        if step % 50 == 49 {
            // Time passes; a few grants may expire between reconciles.
            h.advance(Duration::from_secs(rng.random_range(1..120)));
            let now = clock.now();
            model.retain(|_, expires| *expires > now);
            store.prune(now).unwrap();
        }
    }
    assert!(
        failures > writes / 10,
        "the faults must have bitten: {failures} of {writes} reconciles failed"
    );
    let fired: u64 = h.sim.shared().faults.list().iter().map(|r| r.fired).sum();
    assert!(fired > 100, "faults fired {fired} times");
    if router_speed {
        // Batches went out, and faults met them: replies lost or broken after the router ran
        // the script, or the request refused before it.
        let batches: Vec<_> = h
            .sim
            .journal(&simulator::JournalFilter {
                path: Some("/rest/execute".into()),
                ..Default::default()
            })
            .entries;
        let faulted = batches.iter().filter(|e| e.fault.is_some()).count();
        assert!(batches.len() > 30, "{} batches", batches.len());
        assert!(
            faulted > 5,
            "{faulted} of {} batches met a fault",
            batches.len()
        );
    }

    for id in rules {
        h.sim.remove_fault(id);
    }
    let report = rec
        .sync(store.grants())
        .await
        .expect("one reconcile after the faults stop succeeds");
    // The time the router's remaining times are read at (the same instant as before the reconcile
    // on the frozen clock; later by the reconcile's own cost on modelled time).
    let now = clock.now();

    // No grant lost: the store on disk holds exactly what users were told.
    // `store` still holds the lock: read the file as it is on disk, without it.
    let reloaded = GrantStore::load(&h.config.state).unwrap();
    let on_disk: BTreeMap<(String, String), Time> = reloaded
        .iter()
        .map(|g| ((g.address.to_string(), g.user.clone()), g.expires))
        .collect();
    assert_eq!(on_disk, model);

    // The router holds one tagged entry per granted address, with the latest expiry as its timeout,
    // except where a foreign entry already holds the address (reported, left alone).
    let mut wanted: BTreeMap<String, Time> = BTreeMap::new();
    // Grants that ran out during the last reconcile (modelled time moves) are not wanted.
    for ((address, _), expires) in model.iter().filter(|(_, e)| **e > now) {
        let e = wanted.entry(address.clone()).or_insert(*expires);
        *e = (*e).max(*expires);
    }
    let foreign_addresses: Vec<&str> = foreign_before.iter().map(|e| e.address.as_str()).collect();
    let owned: BTreeMap<String, u64> = [Family::V4, Family::V6]
        .into_iter()
        .flat_map(|f| h.entries(f))
        .filter(|e| e.comment.as_deref() == Some(TAG))
        .map(|e| {
            (
                e.address,
                e.remaining_s.expect("owned entries carry a timeout"),
            )
        })
        .collect();
    let expected: BTreeMap<String, u64> = wanted
        .iter()
        .filter(|(a, _)| !foreign_addresses.contains(&a.as_str()))
        .map(|(a, t)| (a.clone(), (t.0 - now.0).div_ceil(1000)))
        .collect();
    assert_eq!(
        owned.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "exactly the granted addresses"
    );
    let slack = h.config.plan_config().tolerance.as_secs() + 1;
    for (address, remaining) in &owned {
        let want = expected[address];
        assert!(
            remaining.abs_diff(want) <= slack,
            "{address}: timeout {remaining}s, latest grant {want}s"
        );
    }
    assert!(
        report.added.len() + report.refreshed.len() + report.removed.len() < 200,
        "a last reconcile, not a rebuild"
    );

    // No foreign entry touched: same ids, addresses, comments and timeouts (the clock moved both).
    let foreign_after: Vec<_> = [Family::V4, Family::V6]
        .into_iter()
        .flat_map(|f| h.entries(f))
        .filter(|e| e.comment.as_deref() != Some(TAG))
        .collect();
    assert_eq!(
        foreign_after
            .iter()
            .map(|e| (&e.id, &e.address, &e.comment, e.disabled))
            .collect::<Vec<_>>(),
        foreign_before
            .iter()
            .map(|e| (&e.id, &e.address, &e.comment, e.disabled))
            .collect::<Vec<_>>()
    );
}
