//! Passive mode end to end on the simulator: the daemon serves the feed over HTTPS, `passive
//! install` puts the script and scheduler entry on the router, and the simulator's scheduler runs
//! the script, whose `/tool/fetch` is a real request to the feed on loopback. Time moves on both
//! clocks together (the simulator's, which runs the scheduler, and the agent's manual clock, which
//! expires grants); nothing waits for real time except the fetches' own sockets.
//!
//! The first test installs as on a router, uploading the feed's CA and importing it with
//! `/certificate import`; the others trust it with `Simulator::trust_ca` (the same store) and
//! install with `--no-ca-import`, so that each can leave it out on purpose.

use std::time::Duration;

use agent::commands::{Command, PassiveAction};
use agent::config::{Config, Mode};
use serde_json::{Value, json};
use simulator::{Action, Family, FaultRule};
use tokio::sync::oneshot;

use crate::support::{Harness, LIST, assert_status};

const TOKEN: &str = "passive-test-token-0123456789";
const INTERVAL: Duration = Duration::from_secs(60);

/// A passive daemon with its feed on loopback port 0.
struct Feed {
    control: String,
    url: String,
    http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), agent::daemon::DaemonError>>,
}

impl Feed {
    async fn start(h: &mut Harness) -> Feed {
        h.config.mode = Mode::Passive;
        h.config.list_v6 = LIST.into();
        h.config.control_token = Some(agent::config::Secret::new(TOKEN));
        let control = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let feed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "https://127.0.0.1:{}{}",
            feed.local_addr().unwrap().port(),
            agent::passive::feed_path(LIST)
        );
        let control_url = format!("http://{}", control.local_addr().unwrap());
        let (tx, rx) = oneshot::channel();
        // The daemon is given no router at all: in passive mode it never talks to the router, so
        // a feed host holds neither its URL nor its credentials. The harness's own configuration
        // keeps them for the commands that do (`passive install`, `validate`).
        let daemon_config = Config {
            router: None,
            ..h.config.clone()
        };
        let task = tokio::spawn(agent::daemon::serve_with_feed(
            daemon_config,
            None,
            h.clock(),
            control,
            Some(feed),
            async move {
                let _ = rx.await;
            },
            agent::daemon::Timing::default(),
        ));
        // The daemon writes its CA and key before it serves; wait for them (bounded).
        let ca = h.config.beside_state(".feed-ca.pem");
        for _ in 0..500 {
            if ca.exists() && h.config.feed_key_path().exists() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(ca.exists(), "the daemon wrote its feed CA");
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(agent::net::no_trust_config())
            .build()
            .unwrap();
        Feed {
            control: control_url,
            url,
            http,
            stop: Some(tx),
            task,
        }
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let resp = self
            .http
            .post(format!("{}{path}", self.control))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap();
        resp.json().await.unwrap()
    }

    async fn grant(&self, address: &str) {
        let v = self
            .post(
                "/v1/grants",
                json!({"address": address, "user": "alice", "for": "1h"}),
            )
            .await;
        assert_eq!(v["ok"], json!(true), "{v}");
    }

    async fn revoke(&self, address: &str) {
        let v = self
            .post("/v1/revoke", json!({"address": address, "user": "alice"}))
            .await;
        assert_eq!(v["revoked"], json!(true), "{v}");
    }

    async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        self.task.await.unwrap().unwrap();
    }
}

/// Writes grants for `addresses` (one hour each) into the store before the daemon starts: faster
/// than thousands of control API calls, each of which writes the store.
fn seed_grants(h: &Harness, addresses: &[String]) {
    let expires = agent::clock::Clock::now(&h.clock).plus(Duration::from_secs(3600));
    let grants: Vec<Value> = addresses
        .iter()
        .map(|a| json!({"address": a, "user": "bulk", "expires": expires.0}))
        .collect();
    std::fs::write(
        &h.config.state,
        serde_json::to_vec(&json!({"format": 1, "grants": grants})).unwrap(),
    )
    .unwrap();
}

/// The addresses of the list `LIST` in the simulator's IPv6 table.
fn v6(h: &Harness) -> Vec<String> {
    h.sim.with_router(|r| {
        r.list(Family::V6)
            .views()
            .into_iter()
            .filter(|v| v.list == LIST)
            .map(|v| v.address)
            .collect()
    })
}

fn trust_feed_ca(h: &Harness) {
    let pem = std::fs::read_to_string(h.config.beside_state(".feed-ca.pem")).unwrap();
    h.sim.trust_ca(&pem).unwrap();
}

fn install_cmd(url: &str) -> Command {
    install_with(url, true)
}

fn install_with(url: &str, no_ca_import: bool) -> Command {
    Command::Passive {
        action: PassiveAction::Install {
            feed_url: url.into(),
            interval: Some("1m".into()),
            fail_closed_multiple: None,
            feed_ca: None,
            no_ca_import,
        },
    }
}

fn status_cmd() -> Command {
    Command::Passive {
        action: PassiveAction::Status { feed_ca: None },
    }
}

/// Moves both clocks by `d`; the simulator runs the scheduler entries that fell due.
async fn tick(h: &Harness, d: Duration) {
    h.clock.advance(d);
    h.sim.advance_clock(d).await;
}

fn code(out: &agent::commands::Output) -> Option<u64> {
    out.json["error"]["code"].as_u64()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grants_revocations_and_a_dead_feed_reach_the_router_within_their_bounds() {
    let mut h = Harness::start().await;
    let feed = Feed::start(&mut h).await;

    let out = h.run(status_cmd()).await;
    assert_eq!(code(&out), Some(208122), "{}", out.text);

    let out = h.run(install_with(&feed.url, false)).await;
    assert_status(&out, 0);
    assert_eq!(out.json["changes"]["script"], json!("created"));
    assert_eq!(out.json["changes"]["scheduler"], json!("created"));
    assert_eq!(out.json["changes"]["ca"], json!("created"));
    // A second install changes nothing, the CA included.
    let again = h.run(install_with(&feed.url, false)).await;
    assert_eq!(
        again.json["changes"]["ca"],
        json!("unchanged"),
        "{}",
        again.text
    );
    assert_status(&again, 0);
    assert_eq!(
        again.json["changes"]["script"],
        json!("unchanged"),
        "{}",
        again.text
    );
    assert_eq!(again.json["changes"]["scheduler"], json!("unchanged"));

    let out = h.run(status_cmd()).await;
    assert_eq!(code(&out), Some(208122), "not run yet: {}", out.text);

    feed.grant("192.0.2.10").await;
    feed.grant("2001:db8::7").await;
    tick(&h, INTERVAL).await;
    assert_eq!(h.v4(), vec![("192.0.2.10".to_owned(), Some(180))]);
    assert_eq!(v6(&h), vec!["2001:db8::7/128".to_owned()]);
    let out = h.run(status_cmd()).await;
    assert_status(&out, 0);
    assert!(out.text.contains("in step"), "{}", out.text);

    // A grant since the last run shows as out of step until the next run.
    feed.grant("192.0.2.11").await;
    let out = h.run(status_cmd()).await;
    assert_eq!(code(&out), Some(208121), "{}", out.text);
    feed.revoke("192.0.2.10").await;
    tick(&h, INTERVAL).await;
    assert_eq!(h.v4(), vec![("192.0.2.11".to_owned(), Some(180))]);
    let out = h.run(status_cmd()).await;
    assert_status(&out, 0);

    // The feed stops: the next run fails (208020) and the entry expires by itself within
    // three intervals of its last refresh.
    feed.stop().await;
    tick(&h, INTERVAL).await;
    let out = h.run(status_cmd()).await;
    assert_eq!(code(&out), Some(208020), "{}", out.text);
    assert_eq!(h.v4(), vec![("192.0.2.11".to_owned(), Some(120))]);
    tick(&h, INTERVAL * 2).await;
    assert!(h.v4().is_empty(), "{:?}", h.v4());

    // Uninstall removes exactly what install made.
    let out = h
        .run(Command::Passive {
            action: PassiveAction::Uninstall,
        })
        .await;
    assert_status(&out, 0);
    assert_eq!(out.json["changes"]["script"], json!("removed"));
    assert_eq!(out.json["changes"]["scheduler"], json!("removed"));
    assert_eq!(out.json["changes"]["ca"], json!("removed"));
    let out = h.run(status_cmd()).await;
    assert_eq!(code(&out), Some(208122));
    // Nothing of the install is left: no certificate, no uploaded file.
    for menu in ["certificate", "file", "system/script", "system/scheduler"] {
        let rows: Value = h
            .http()
            .get(format!("{}/rest/{menu}", h.sim.https_url()))
            .basic_auth(simulator::DEFAULT_USER, Some(simulator::DEFAULT_PASSWORD))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(rows, json!([]), "{menu}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_a_wrong_ca_and_a_failing_script_each_have_their_code() {
    let mut h = Harness::start().await;
    let feed = Feed::start(&mut h).await;
    feed.grant("192.0.2.20").await;

    // No CA on the router: the fetch refuses the certificate.
    let out = h.run(install_cmd(&feed.url)).await;
    assert_status(&out, 0);
    tick(&h, INTERVAL).await;
    let out = h.run(status_cmd()).await;
    assert_eq!(code(&out), Some(208022), "{}", out.text);
    assert!(h.v4().is_empty());

    // The CA trusted, a script written with another key: the feed refuses it.
    trust_feed_ca(&h);
    let wrong = h.config.beside_state(".wrong-key");
    std::fs::write(&wrong, "not-the-key\n").unwrap();
    let mut wrong_config = h.config.clone();
    wrong_config.feed.key_file = Some(wrong);
    let out = agent::commands::run_command(install_cmd(&feed.url), &wrong_config, h.clock()).await;
    assert_eq!(
        out.json["changes"]["script"],
        json!("updated"),
        "{}",
        out.text
    );
    tick(&h, INTERVAL).await;
    let out = h.run(status_cmd()).await;
    assert_eq!(code(&out), Some(208021), "{}", out.text);

    // The right key again: in step.
    let out = h.run(install_cmd(&feed.url)).await;
    assert_eq!(out.json["changes"]["script"], json!("updated"));
    tick(&h, INTERVAL).await;
    let out = h.run(status_cmd()).await;
    assert_status(&out, 0);

    // The router fails the script's read of the list: the script failed.
    let rule = h
        .sim
        .add_fault(
            FaultRule::always(Action::Status {
                status: 500,
                detail: Some("failure: out of memory".into()),
            })
            .path("/rest/ip/firewall/address-list/print")
            .method("SCRIPT"),
        )
        .unwrap();
    tick(&h, INTERVAL).await;
    let out = h.run(status_cmd()).await;
    assert_eq!(code(&out), Some(208120), "{}", out.text);
    h.sim.remove_fault(rule);
    tick(&h, INTERVAL).await;
    let out = h.run(status_cmd()).await;
    assert_status(&out, 0);
    feed.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_and_uninstall_refuse_foreign_entries_and_leave_other_entries_alone() {
    let mut h = Harness::start().await;
    let feed = Feed::start(&mut h).await;
    trust_feed_ca(&h);
    // Someone else's script with the agent's name.
    let resp = h
        .http()
        .put(format!("{}/rest/system/script", h.sim.https_url()))
        .basic_auth(simulator::DEFAULT_USER, Some(simulator::DEFAULT_PASSWORD))
        .json(&json!({"name": crate::support::TAG, "source": ":log info x", "comment": "mine"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let out = h.run(install_cmd(&feed.url)).await;
    assert_eq!(code(&out), Some(208123), "{}", out.text);
    let out = h
        .run(Command::Passive {
            action: PassiveAction::Uninstall,
        })
        .await;
    assert_eq!(code(&out), Some(208123), "{}", out.text);
    let rows: Value = h
        .http()
        .get(format!("{}/rest/system/script", h.sim.https_url()))
        .basic_auth(simulator::DEFAULT_USER, Some(simulator::DEFAULT_PASSWORD))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 1);
    assert_eq!(rows[0]["comment"], json!("mine"));
    assert_eq!(rows[0]["source"], json!(":log info x"));

    // With its own tag the agent installs beside it; another's entries in the list stay.
    h.config.tag = "agent-b".into();
    let id = h
        .put_foreign(Family::V4, "192.0.2.99", Some("office"), None)
        .await;
    feed.grant("192.0.2.99").await;
    feed.grant("192.0.2.30").await;
    let out = h.run(install_cmd(&feed.url)).await;
    assert_status(&out, 0);
    tick(&h, INTERVAL).await;
    let entries = h.entries(Family::V4);
    assert_eq!(entries.len(), 2, "{entries:?}");
    let office = entries.iter().find(|e| e.id == id).unwrap();
    assert_eq!(office.comment.as_deref(), Some("office"));
    assert_eq!(office.remaining_s, None);
    feed.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_answers_only_its_key_and_its_paths_without_detail() {
    let mut h = Harness::start().await;
    let feed = Feed::start(&mut h).await;
    feed.grant("192.0.2.40").await;
    feed.grant("2001:DB8::1").await;
    let key = std::fs::read_to_string(h.config.feed_key_path()).unwrap();
    let key = key.trim();
    let tls = agent::net::tls_config(&agent::config::TlsMode::CaFile(
        h.config.beside_state(".feed-ca.pem"),
    ))
    .unwrap();
    let http = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .build()
        .unwrap();
    let get = |url: String, user: &'static str, pass: String| {
        let http = http.clone();
        async move {
            let r = http
                .get(url)
                .basic_auth(user, Some(pass))
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (s, body) = get(feed.url.clone(), "apikey", key.to_owned()).await;
    assert_eq!((s, body.as_str()), (200, "192.0.2.40\n2001:db8::1/128\n"));
    let (s, body) = get(format!("{}?page=0", feed.url), "apikey", key.to_owned()).await;
    assert_eq!((s, body.as_str()), (200, "192.0.2.40\n2001:db8::1/128\n"));
    let (s, body) = get(format!("{}?page=1", feed.url), "apikey", key.to_owned()).await;
    assert_eq!((s, body.as_str()), (200, ""));
    // The cursor the script sends: `:` and `/` of an address arrive as they are.
    let (s, body) = get(format!("{}?after=", feed.url), "apikey", key.to_owned()).await;
    assert_eq!((s, body.as_str()), (200, "192.0.2.40\n2001:db8::1/128\n"));
    let (s, body) = get(
        format!("{}?after=192.0.2.40", feed.url),
        "apikey",
        key.to_owned(),
    )
    .await;
    assert_eq!((s, body.as_str()), (200, "2001:db8::1/128\n"));
    let (s, body) = get(
        format!("{}?after=2001:db8::/64", feed.url),
        "apikey",
        key.to_owned(),
    )
    .await;
    assert_eq!((s, body.as_str()), (200, "2001:db8::1/128\n"));
    let (s, body) = get(
        format!("{}?after=2001:db8::1/128", feed.url),
        "apikey",
        key.to_owned(),
    )
    .await;
    assert_eq!((s, body.as_str()), (200, ""));
    let (s, body) = get(
        format!("{}?after=not-an-address", feed.url),
        "apikey",
        key.to_owned(),
    )
    .await;
    assert_eq!((s, body.as_str()), (400, "bad request\n"));
    let (s, body) = get(feed.url.clone(), "apikey", "wrong".into()).await;
    assert_eq!((s, body.as_str()), (401, "unauthorized\n"));
    let (s, _) = get(feed.url.clone(), "admin", key.to_owned()).await;
    assert_eq!(s, 401);
    let other = feed.url.replace(LIST, "other");
    let (s, body) = get(other.clone(), "apikey", key.to_owned()).await;
    assert_eq!((s, body.as_str()), (404, "not found\n"));
    // Without the key, an unknown path is refused as unauthorized: nobody learns the lists.
    let (s, _) = get(other, "apikey", "wrong".into()).await;
    assert_eq!(s, 401);
    let (s, body) = get(format!("{}?page=x", feed.url), "apikey", key.to_owned()).await;
    assert_eq!((s, body.as_str()), (400, "bad request\n"));
    // Expired grants never appear.
    tick(&h, Duration::from_secs(3601)).await;
    let (s, body) = get(feed.url.clone(), "apikey", key.to_owned()).await;
    assert_eq!((s, body.as_str()), (200, ""));
    feed.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_larger_than_fetch_keeps_in_memory_arrives_whole() {
    let mut h = Harness::start().await;
    // 3,000 IPv6 hosts of about 25 bytes a line: 75 KB, over fetch's 64,512-byte cut.
    let addresses: Vec<String> = (0..3000u32)
        .map(|i| format!("2001:db8:{:x}::{:x}", i / 256 + 1, i % 256 + 1))
        .collect();
    seed_grants(&h, &addresses);
    let feed = Feed::start(&mut h).await;
    trust_feed_ca(&h);
    let out = h.run(install_cmd(&feed.url)).await;
    assert_status(&out, 0);
    tick(&h, INTERVAL).await;
    assert_eq!(v6(&h).len(), 3000);
    let out = h.run(status_cmd()).await;
    assert_status(&out, 0);
    feed.stop().await;
}

/// 10,000 grants at the router-speed profile on modelled time: the scheduled runs' costs (each
/// scripted command, each fetch) move the simulator's clock, so the figures below are the
/// router's time, not this machine's. The list must be in step within a few intervals.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_grants_are_in_step_within_a_few_intervals_at_router_speed() {
    let mut h = Harness::start().await;
    let addresses: Vec<String> = (0..10_000u32)
        .map(|i| format!("10.{}.{}.{}", i / 65536, (i / 256) % 256, i % 256))
        .collect();
    seed_grants(&h, &addresses);
    let feed = Feed::start(&mut h).await;
    trust_feed_ca(&h);
    let out = h.run(install_cmd(&feed.url)).await;
    assert_status(&out, 0);
    h.sim.set_limits(simulator::Limits::realistic().modelled());
    let installed_at = h.sim.clock().now();
    let mut in_step_after = None;
    // Until in step, then one more run to see the steady state; at most three intervals.
    for interval in 1..=3u32 {
        if in_step_after.is_some_and(|(i, _)| i < interval - 1) {
            break;
        }
        let before = h.sim.clock().now();
        tick(&h, INTERVAL).await;
        let after = h.sim.clock().now();
        let n = h.v4().len();
        eprintln!(
            "interval {interval}: {n} entries; the run cost {:.1} s of router time",
            (after - before) as f64 / 1000.0 - INTERVAL.as_secs_f64()
        );
        if n == addresses.len() && in_step_after.is_none() {
            in_step_after = Some((interval, after - installed_at));
        }
    }
    let (intervals, ms) = in_step_after.expect("in step within three intervals");
    eprintln!(
        "10,000 grants in step after {intervals} interval(s), {:.1} s of router time after install",
        ms as f64 / 1000.0
    );
    assert!(intervals <= 3, "in step after {intervals} intervals");
    h.sim.set_limits(simulator::Limits::default());
    let out = h.run(status_cmd()).await;
    assert_status(&out, 0);
    feed.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_in_passive_mode_wants_the_test_policy() {
    let mut h = Harness::start().await;
    h.config.mode = Mode::Passive;
    let validate = Command::Validate {
        write_check: false,
        rules: false,
        strict_rules: false,
    };
    // The simulator's admin is in the `full` group.
    let out = h.run(validate.clone()).await;
    assert_status(&out, 0);
    assert!(out.text.contains("passive policies"), "{}", out.text);
    // The vendor guide's group lacks `test`.
    let http = h.http();
    let base = h.sim.https_url();
    for (menu, body) in [
        (
            "user/group",
            json!({"name": "vendor", "policy": "api,rest-api,read,write,policy"}),
        ),
        (
            "user",
            json!({"name": "agent", "group": "vendor", "password": "agent-password"}),
        ),
    ] {
        let r = http
            .put(format!("{base}/rest/{menu}"))
            .basic_auth(simulator::DEFAULT_USER, Some(simulator::DEFAULT_PASSWORD))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
    }
    h.config.router.as_mut().unwrap().username = "agent".into();
    h.config.router.as_mut().unwrap().password = agent::config::Secret::new("agent-password");
    let out = h.run(validate).await;
    assert_eq!(code(&out), Some(208002), "{}", out.text);
    assert!(out.text.contains("lacks test"), "{}", out.text);
}
