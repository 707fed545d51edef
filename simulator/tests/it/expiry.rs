//! Timed entries and the simulator's clock (ROUTEROS-REST.md section 4, "dynamic").
//!
//! An entry created with a `timeout` counts down on the simulator's clock, shows the remaining time,
//! and vanishes from every read and command when it reaches zero. The tests move the clock with
//! `sim.clock().advance(..)` after freezing it; nothing waits for real time.

use std::time::Duration;

use serde_json::json;

use crate::support::{V4, V6, start};

#[tokio::test]
async fn timeout_counts_down_and_the_entry_vanishes_at_zero() {
    let s = start().await;
    let clock = s.sim.clock();
    clock.freeze();
    let id = s
        .put(V4, json!({"list":"t","address":"10.0.0.1","timeout":"5m"}))
        .await;
    let timeout = |v: serde_json::Value| v["timeout"].as_str().map(str::to_owned);
    let path = format!("{V4}/{id}");
    let check = |advance_ms: u64, expected: Option<&'static str>| {
        let (s, path) = (&s, &path);
        async move {
            s.sim.clock().advance(Duration::from_millis(advance_ms));
            let r = s.get(path).await;
            match expected {
                Some(t) => assert_eq!(timeout(r.json()), Some(t.to_owned())),
                None => r.assert_error(404, None),
            }
        }
    };
    check(0, Some("5m")).await;
    check(400, Some("5m")).await;
    check(600, Some("4m59s")).await;
    check(59_000, Some("4m")).await;
    check(3 * 60_000, Some("1m")).await;
    check(59_999, Some("1s")).await;
    check(1, None).await;
}

#[tokio::test]
async fn an_expired_entry_is_gone_from_every_read_and_command() {
    let s = start().await;
    s.sim.clock().freeze();
    let timed = s
        .put(V4, json!({"list":"t","address":"10.0.0.1","timeout":"1m"}))
        .await;
    let kept = s.put(V4, json!({"list":"t","address":"10.0.0.2"})).await;
    let v6 = s
        .put(
            V6,
            json!({"list":"t","address":"2001:db8::1","timeout":"30s"}),
        )
        .await;
    s.sim.clock().advance(Duration::from_secs(61));
    let item = format!("{V4}/{timed}");
    assert_eq!(s.addresses(V4).await, ["10.0.0.2"]);
    assert_eq!(s.get(V6).await.text, "[]");
    s.get(&format!("{V6}/{v6}")).await.assert_error(404, None);
    s.get(&item).await.assert_error(404, None);
    assert_eq!(s.rows(&format!("{V4}?list=t")).await.len(), 1);
    let count = s
        .call(
            "POST",
            &format!("{V4}/print"),
            Some(json!({"count-only":""})),
        )
        .await;
    assert_eq!(count.text, r#"{"ret":"1"}"#);
    let print = s
        .call(
            "POST",
            &format!("{V4}/print"),
            Some(json!({".query":["dynamic=true"]})),
        )
        .await;
    assert_eq!(print.text, "[]");
    s.call("PATCH", &item, Some(json!({"comment":"x"})))
        .await
        .assert_error(404, None);
    s.call("DELETE", &item, None).await.assert_error(404, None);
    s.call(
        "POST",
        &format!("{V4}/set"),
        Some(json!({".id": timed, "comment":"x"})),
    )
    .await
    .assert_error(404, None);
    s.call("POST", &format!("{V4}/remove"), Some(json!({".id": timed})))
        .await
        .assert_error(404, None);
    // The address is free again, and gets a new id.
    let again = s.put(V4, json!({"list":"t","address":"10.0.0.1"})).await;
    assert_ne!(again, timed);
    assert_ne!(again, kept);
}

#[tokio::test]
async fn patch_and_set_restart_the_countdown() {
    let s = start().await;
    s.sim.clock().freeze();
    let id = s
        .put(V4, json!({"list":"t","address":"10.0.0.1","timeout":"1m"}))
        .await;
    let item = format!("{V4}/{id}");
    s.sim.clock().advance(Duration::from_secs(50));
    let v = s
        .call("PATCH", &item, Some(json!({"timeout":"1h"})))
        .await
        .json();
    assert_eq!(v["timeout"], "1h");
    s.sim.clock().advance(Duration::from_secs(30 * 60));
    assert_eq!(s.get(&item).await.json()["timeout"], "30m");
    let r = s
        .call(
            "POST",
            &format!("{V4}/set"),
            Some(json!({".id": id, "timeout":"10s"})),
        )
        .await;
    assert_eq!(r.text, "[]");
    s.sim.clock().advance(Duration::from_secs(9));
    assert_eq!(s.get(&item).await.json()["timeout"], "1s");
    s.sim.clock().advance(Duration::from_secs(1));
    s.get(&item).await.assert_error(404, None);
}

#[tokio::test]
async fn a_duplicate_of_a_timed_entry_is_refused_until_it_expires() {
    let s = start().await;
    s.sim.clock().freeze();
    s.put(V4, json!({"list":"t","address":"10.0.0.1","timeout":"10s"}))
        .await;
    s.sim.clock().advance(Duration::from_secs(5));
    let r = s
        .call(
            "PUT",
            V4,
            Some(json!({"list":"t","address":"10.0.0.1","timeout":"1h"})),
        )
        .await;
    r.assert_error(400, Some("failure: already have such entry"));
    // The refused add did not refresh the countdown.
    assert_eq!(s.rows(V4).await[0]["timeout"], "5s");
    s.sim.clock().advance(Duration::from_secs(5));
    let r = s
        .call(
            "PUT",
            V4,
            Some(json!({"list":"t","address":"10.0.0.1","timeout":"1h"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

#[tokio::test]
async fn many_entries_expire_in_order() {
    let s = start().await;
    s.sim.clock().freeze();
    for i in 1..=10u32 {
        s.put(
            V4,
            json!({"list":"t","address": format!("10.0.0.{i}"), "timeout": format!("{i}m")}),
        )
        .await;
    }
    for remaining in (0..10usize).rev() {
        s.sim.clock().advance(Duration::from_secs(60));
        let left = s.addresses(V4).await;
        let expected: Vec<String> = (10 - remaining + 1..=10)
            .map(|i| format!("10.0.0.{i}"))
            .collect();
        assert_eq!(left, expected);
        assert_eq!(left.len(), remaining);
    }
}

#[tokio::test]
async fn reboot_drops_dynamic_entries_keeps_static_ones_and_restarts_uptime() {
    let mut s = start().await;
    s.sim.clock().freeze();
    s.put(V4, json!({"list":"r","address":"10.0.0.1"})).await;
    s.put(V4, json!({"list":"r","address":"10.0.0.2","timeout":"1d"}))
        .await;
    s.put(
        V6,
        json!({"list":"r","address":"2001:db8::2","timeout":"1d"}),
    )
    .await;
    s.put(V4, json!({"list":"r","address":"10.0.0.3","dynamic":"yes"}))
        .await;
    s.sim.clock().advance(Duration::from_secs(3600));
    assert_eq!(s.get("/rest/system/resource").await.json()["uptime"], "1h");
    s.sim.reboot();
    // A reboot drops open connections, as a real one does; the client reconnects.
    s.reconnect();
    s.sim.clock().advance(Duration::from_secs(5));
    assert_eq!(s.addresses(V4).await, ["10.0.0.1"]);
    assert_eq!(s.get(V6).await.text, "[]");
    assert_eq!(s.get("/rest/system/resource").await.json()["uptime"], "5s");
}

#[tokio::test]
async fn uptime_follows_the_clock() {
    let s = start().await;
    s.sim.clock().freeze();
    let uptime = || async {
        s.get("/rest/system/resource").await.json()["uptime"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let base = s.sim.clock().now();
    // Start from a whole number of seconds since boot.
    s.sim
        .clock()
        .advance(Duration::from_millis(1000 - base % 1000));
    let start_s = s.sim.clock().now() / 1000;
    let fmt = |extra: u64| {
        let total = start_s + extra;
        let (w, d, h, m, sec) = (
            total / 604_800,
            total / 86_400 % 7,
            total / 3600 % 24,
            total / 60 % 60,
            total % 60,
        );
        let mut out = String::new();
        for (n, u) in [(w, "w"), (d, "d"), (h, "h"), (m, "m"), (sec, "s")] {
            if n > 0 {
                out.push_str(&format!("{n}{u}"));
            }
        }
        if out.is_empty() { "0s".to_owned() } else { out }
    };
    assert_eq!(uptime().await, fmt(0));
    s.sim.clock().advance(Duration::from_secs(90));
    assert_eq!(uptime().await, fmt(90));
    s.sim.clock().advance(Duration::from_secs(8 * 86_400));
    assert_eq!(uptime().await, fmt(90 + 8 * 86_400));
}
