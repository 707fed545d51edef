//! Timing and concurrency (ROUTEROS-REST.md sections 5 and 6): the session limit and per-user queues.
//!
//! These tests run on Tokio's paused clock (`start_paused`): the simulator's request cost and session
//! limit are Tokio timers, so the runtime jumps over them instead of waiting, and elapsed times are
//! exact virtual durations. A request that takes longer than the session limit is answered
//! `400 Session closed`, and so is every request queued behind it; one user's requests run one at a
//! time while different users run side by side.

use std::time::Duration;

use tokio::time::Instant;

use crate::support::{Reply, Sim, start_with};
use simulator::{Limits, Simulator};

const SECOND: Duration = Duration::from_secs(1);

async fn router(limits: Limits) -> Sim {
    start_with(
        Simulator::builder()
            .limits(limits)
            .group("agents", "api,rest-api,read,write")
            .user("agent", "pw", "agents"),
    )
    .await
}

/// Runs the GETs of `users` concurrently; returns each reply with its virtual completion time.
async fn concurrently(s: &Sim, users: &[(&'static str, &'static str)]) -> Vec<(Reply, Duration)> {
    let start = Instant::now();
    let calls = users.iter().map(|u| async move {
        let r = s
            .call_as(Some(*u), "GET", "/rest/system/identity", None)
            .await;
        (r, start.elapsed())
    });
    crate::support::join_all(calls).await
}

#[tokio::test(start_paused = true)]
async fn a_request_past_the_session_limit_is_session_closed() {
    let s = router(Limits {
        session_limit: 2 * SECOND,
        request_cost: 3 * SECOND,
        ..Limits::default()
    })
    .await;
    let done = concurrently(&s, &[("admin", "admin")]).await;
    let (r, took) = &done[0];
    r.assert_error(400, Some("Session closed"));
    assert!(*took >= 2 * SECOND && *took < 3 * SECOND, "{took:?}");
    // With the limit lifted the same request succeeds.
    s.sim.set_limits(Limits::default());
    assert_eq!(s.get("/rest/system/identity").await.status, 200);
}

#[tokio::test(start_paused = true)]
async fn requests_queued_behind_a_long_one_fail_the_same_way() {
    let s = router(Limits {
        session_limit: 2 * SECOND,
        request_cost: 3 * SECOND,
        ..Limits::default()
    })
    .await;
    let admin = ("admin", "admin");
    let done = concurrently(&s, &[admin, admin, admin]).await;
    for (r, took) in &done {
        r.assert_error(400, Some("Session closed"));
        assert!(*took < 3 * SECOND, "{took:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn one_users_requests_run_one_at_a_time() {
    let s = router(Limits {
        session_limit: 8 * SECOND,
        request_cost: SECOND,
        ..Limits::default()
    })
    .await;
    let admin = ("admin", "admin");
    let done = concurrently(&s, &[admin, admin, admin]).await;
    let mut times: Vec<u64> = done
        .iter()
        .map(|(r, took)| {
            assert_eq!(r.status, 200, "{}", r.text);
            took.as_secs()
        })
        .collect();
    times.sort();
    assert_eq!(times, [1, 2, 3], "each request waits for the one before it");
}

#[tokio::test(start_paused = true)]
async fn different_users_run_in_parallel() {
    let s = router(Limits {
        session_limit: 8 * SECOND,
        request_cost: SECOND,
        ..Limits::default()
    })
    .await;
    let done = concurrently(&s, &[("admin", "admin"), ("agent", "pw")]).await;
    for (r, took) in &done {
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(took.as_secs(), 1, "{took:?}");
    }
    // Two of one user and one of another: the other user is not held up.
    let done = concurrently(
        &s,
        &[("admin", "admin"), ("admin", "admin"), ("agent", "pw")],
    )
    .await;
    let secs: Vec<u64> = done.iter().map(|(_, t)| t.as_secs()).collect();
    assert_eq!(secs[2], 1);
    let mut admin: Vec<u64> = secs[..2].to_vec();
    admin.sort();
    assert_eq!(admin, [1, 2]);
}
