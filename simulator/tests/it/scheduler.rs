//! `/system/scheduler` on the simulator's clock: moving the clock replays every run that became
//! due, in order, each at its own time; `start-time=startup` runs after a reboot.

use std::time::Duration;

use serde_json::json;

use crate::support::start;

#[tokio::test]
async fn an_hour_of_a_one_minute_interval_runs_sixty_times_in_order() {
    let sim = start().await;
    sim.sim.clock().freeze();
    let r = sim
        .call(
            "PUT",
            "/rest/system/scheduler",
            Some(json!({"name": "tick", "interval": "1m",
                        "on-event": ":global n; :if ([:typeof $n] = \"nothing\") do={ :set n 0 }; :set n ($n + 1); :log info \"tick $n\""})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let row = r.json();
    assert_eq!(row["interval"], "1m");
    assert_eq!(row["owner"], "admin");
    assert_eq!(row["run-count"], "0");
    assert!(row["next-run"].is_string(), "{row}");
    sim.sim.advance_clock(Duration::from_secs(3600)).await;
    let log = sim.rows("/rest/log").await;
    assert_eq!(log.len(), 60, "{log:?}");
    let mut previous: Option<String> = None;
    for (i, line) in log.iter().enumerate() {
        assert_eq!(line["message"], format!("tick {}", i + 1));
        // Each run saw the minute it was due at.
        let time = line["time"].as_str().unwrap().to_owned();
        if let Some(p) = &previous {
            assert!(time > *p, "{time} after {p}");
            assert_eq!(time[17..], p[17..], "whole minutes apart");
        }
        previous = Some(time);
    }
    let row = &sim.rows("/rest/system/scheduler").await[0];
    assert_eq!(row["run-count"], "60");
    // Disabled entries do not run.
    let id = row[".id"].as_str().unwrap().to_owned();
    let r = sim
        .call(
            "POST",
            "/rest/system/scheduler/disable",
            Some(json!({".id": id})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    sim.sim.advance_clock(Duration::from_secs(600)).await;
    assert_eq!(sim.rows("/rest/log").await.len(), 60);
    assert!(
        sim.rows("/rest/system/scheduler").await[0]
            .get("next-run")
            .is_none()
    );
}

#[tokio::test]
async fn a_control_api_clock_move_runs_the_scheduler_before_the_next_request() {
    let sim = start().await;
    sim.sim.clock().freeze();
    sim.call(
        "PUT",
        "/rest/system/scheduler",
        Some(json!({"name": "add", "interval": "10m",
                    "on-event": "/ip/firewall/address-list/add list=s address=10.7.0.1"})),
    )
    .await;
    // The clock moved without the scheduler knowing: the next request runs what is due first.
    sim.sim.clock().advance(Duration::from_secs(601));
    assert_eq!(
        sim.addresses("/rest/ip/firewall/address-list").await,
        ["10.7.0.1"]
    );
    // The second run fails on the duplicate and says so in the log, as a router does.
    sim.sim.advance_clock(Duration::from_secs(600)).await;
    let log = sim.rows("/rest/log").await;
    let topics: Vec<&str> = log.iter().map(|l| l["topics"].as_str().unwrap()).collect();
    assert_eq!(topics, ["script,error", "script,error,debug"], "{log:?}");
    assert_eq!(
        log[0]["message"],
        "executing script from scheduler (add) failed, please check it manually"
    );
    assert_eq!(
        log[1]["message"],
        "failure: already have such entry (/ip/firewall/address-list/add; line 1)"
    );
}

#[tokio::test]
async fn a_scheduled_script_runs_with_its_own_policy_within_the_entry_s() {
    let sim = start().await;
    sim.sim.clock().freeze();
    sim.call(
        "POST",
        "/rest/system/script/add",
        Some(json!({"name": "job", "policy": "read,write,test",
                    "source": "/ip/firewall/address-list/add list=q address=10.8.0.1"})),
    )
    .await;
    sim.call(
        "PUT",
        "/rest/system/scheduler",
        Some(
            json!({"name": "narrow", "interval": "1m", "policy": "read,write", "on-event": "job"}),
        ),
    )
    .await;
    sim.sim.advance_clock(Duration::from_secs(60)).await;
    let log = sim.rows("/rest/log").await;
    assert_eq!(
        log[0]["message"],
        "executing script job from scheduler (narrow) failed, please check it manually"
    );
    assert_eq!(log[1]["message"], "not enough permissions (9)");
    assert!(sim.rows("/rest/ip/firewall/address-list").await.is_empty());
    sim.call(
        "PATCH",
        "/rest/system/scheduler/*1",
        Some(json!({"policy": "read,write,test"})),
    )
    .await;
    sim.sim.advance_clock(Duration::from_secs(60)).await;
    assert_eq!(
        sim.addresses("/rest/ip/firewall/address-list").await,
        ["10.8.0.1"]
    );
    assert_eq!(sim.rows("/rest/system/script").await[0]["run-count"], "1");
}

#[tokio::test]
async fn startup_entries_run_after_a_reboot() {
    let mut sim = start().await;
    sim.sim.clock().freeze();
    let r = sim
        .call(
            "PUT",
            "/rest/system/scheduler",
            Some(json!({"name": "boot", "start-time": "startup", "on-event": ":log info booted"})),
        )
        .await;
    assert_eq!(r.json()["start-time"], "startup");
    assert!(r.json().get("start-date").is_none());
    sim.sim.advance_clock(Duration::from_secs(3600)).await;
    assert!(sim.rows("/rest/log").await.is_empty(), "no boot yet");
    sim.sim.reboot();
    sim.reconnect();
    sim.sim.advance_clock(Duration::from_secs(5)).await;
    let log = sim.rows("/rest/log").await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["message"], "booted");
    assert_eq!(
        sim.rows("/rest/system/scheduler").await[0]["run-count"],
        "1"
    );
}

#[tokio::test]
async fn scheduler_arguments_are_checked() {
    let sim = start().await;
    sim.call(
        "PUT",
        "/rest/system/scheduler",
        Some(json!({"name": "x", "interval": "often"})),
    )
    .await
    .assert_error(400, Some("invalid time value for argument interval"));
    sim.call(
        "PUT",
        "/rest/system/scheduler",
        Some(json!({"name": "x", "start-time": "25:00:00"})),
    )
    .await
    .assert_error(400, Some("invalid value for argument start-time"));
    sim.call(
        "PUT",
        "/rest/system/scheduler",
        Some(json!({"name": "x", "owner": "root"})),
    )
    .await
    .assert_error(400, Some("unknown parameter owner"));
    let r = sim
        .call(
            "PUT",
            "/rest/system/scheduler",
            Some(json!({"name": "x", "start-date": "2030-01-02", "start-time": "03:04:05", "interval": "1d"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json()["start-date"], "2030-01-02");
    assert_eq!(r.json()["start-time"], "03:04:05");
    assert_eq!(r.json()["next-run"], "2030-01-02 03:04:05");
}
