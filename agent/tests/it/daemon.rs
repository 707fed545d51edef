//! The daemon through its loopback control API: one request per new grant in steady state, revoke,
//! expiry, a router reboot noticed and repaired, a failed write retried at the backoff, and a status
//! that answers while the router stalls.
//!
//! Every test runs on Tokio's paused clock (`start_paused`), which drives the daemon's schedule, its
//! backoff and the simulator's timers alike: when every task waits, the clock jumps to the next
//! timer. A test moves time by sleeping on that clock (no real time passes), so the backoff is tested
//! with the production delays, and waits for other tasks' I/O cost no real time either.

use std::time::Duration;

use serde_json::{Value, json};
use simulator::{Action, Family, FaultRule};
use tokio::sync::oneshot;

use crate::support::Harness;

/// The token the tests give the daemon (through the configuration, as `ROUTEROS_AGENT_TOKEN` would).
pub const TOKEN: &str = "test-token-0123456789abcdef";

pub struct Daemon {
    pub base: String,
    /// Sends the token with every request.
    pub http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), agent::daemon::DaemonError>>,
}

impl Daemon {
    pub async fn start(h: &Harness) -> Daemon {
        Daemon::start_with(h, h.client(), agent::daemon::Timing::default()).await
    }

    pub async fn start_with(
        h: &Harness,
        client: agent::net::RouterClient,
        timing: agent::daemon::Timing,
    ) -> Daemon {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = oneshot::channel();
        let mut config = h.config.clone();
        config.control_token = Some(agent::config::Secret::new(TOKEN));
        let task = tokio::spawn(agent::daemon::serve_with(
            config,
            Some(client),
            h.clock(),
            listener,
            async move {
                let _ = rx.await;
            },
            timing,
        ));
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::AUTHORIZATION,
            format!("Bearer {TOKEN}").parse().unwrap(),
        );
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(agent::net::no_trust_config())
            .default_headers(headers)
            .build()
            .unwrap();
        let d = Daemon {
            base,
            http,
            stop: Some(tx),
            task,
        };
        // Wait (bounded, on the paused clock) for the reconcile the daemon runs at start, so that
        // the journal marks below see only the requests of the step under test.
        for _ in 0..500 {
            if d.get("/v1/status").await["reconciles"]
                .as_u64()
                .unwrap_or(0)
                >= 1
            {
                return d;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!(
            "the daemon did not reconcile at start: {}",
            d.get("/v1/status").await
        );
    }

    pub async fn get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap())
    }

    pub async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.await.unwrap().unwrap();
    }
}

#[tokio::test(start_paused = true)]
async fn a_new_grant_costs_one_request_in_steady_state() {
    let h = Harness::start().await;
    let d = Daemon::start(&h).await;
    let mark = h.sim.journal_mark();
    let (status, body) = d
        .post(
            "/v1/grants",
            json!({ "address": "192.0.2.90", "user": "ann", "for": "1h" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ok"], true, "{body}");
    assert_eq!(
        h.requests_since(mark),
        vec!["PUT /rest/ip/firewall/address-list"]
    );
    assert_eq!(h.v4(), vec![("192.0.2.90".into(), Some(3600))]);
    // A second user on the same address with a later expiry: one PATCH.
    let mark = h.sim.journal_mark();
    let (_, body) = d
        .post(
            "/v1/grants",
            json!({ "address": "192.0.2.90", "user": "bob", "for": "2h" }),
        )
        .await;
    assert_eq!(body["ok"], true, "{body}");
    let reqs = h.requests_since(mark);
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    assert!(
        reqs[0].starts_with("PATCH /rest/ip/firewall/address-list/*"),
        "{reqs:?}"
    );
    assert_eq!(h.v4(), vec![("192.0.2.90".into(), Some(7200))]);
    let grants = d.get("/v1/grants").await;
    assert_eq!(grants["grants"].as_array().unwrap().len(), 2);
    d.stop().await;
}

#[tokio::test(start_paused = true)]
async fn revoke_and_bad_requests() {
    let h = Harness::start().await;
    let d = Daemon::start(&h).await;
    d.post(
        "/v1/grants",
        json!({ "address": "2001:db8::9", "user": "ann", "for": "1h" }),
    )
    .await;
    assert_eq!(h.entries(Family::V6).len(), 1);
    let (_, body) = d
        .post(
            "/v1/revoke",
            json!({ "address": "2001:db8::9/128", "user": "ann" }),
        )
        .await;
    assert_eq!(
        (body["ok"].clone(), body["revoked"].clone()),
        (json!(true), json!(true)),
        "{body}"
    );
    assert!(h.entries(Family::V6).is_empty());
    let (status, body) = d
        .post(
            "/v1/grants",
            json!({ "address": "not-an-ip", "user": "ann", "for": "1h" }),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], 208104);
    let (status, _) = d
        .post(
            "/v1/grants",
            json!({ "address": "192.0.2.1", "user": "ann", "for": "soon" }),
        )
        .await;
    assert_eq!(status, 400);
    d.stop().await;
}

#[tokio::test(start_paused = true)]
async fn expired_grants_leave_the_store_and_the_router() {
    let h = Harness::start().await;
    let d = Daemon::start(&h).await;
    d.post(
        "/v1/grants",
        json!({ "address": "192.0.2.91", "user": "ann", "for": "2m" }),
    )
    .await;
    d.post(
        "/v1/grants",
        json!({ "address": "192.0.2.92", "user": "bob", "for": "1h" }),
    )
    .await;
    h.advance(Duration::from_secs(121));
    let (_, body) = d.post("/v1/sync", json!({})).await;
    assert_eq!(body["ok"], true, "{body}");
    assert_eq!(h.v4(), vec![("192.0.2.92".into(), Some(3600 - 121))]);
    let grants = d.get("/v1/grants").await;
    let users: Vec<&str> = grants["grants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["user"].as_str().unwrap())
        .collect();
    assert_eq!(users, vec!["bob"]);
    assert_eq!(d.get("/v1/status").await["grants"], 1);
    d.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_router_reboot_is_noticed_and_the_list_restored() {
    let h = Harness::start().await;
    h.advance(Duration::from_secs(600));
    let d = Daemon::start(&h).await;
    d.post(
        "/v1/grants",
        json!({ "address": "192.0.2.93", "user": "ann", "for": "1h" }),
    )
    .await;
    d.post(
        "/v1/grants",
        json!({ "address": "2001:db8::93", "user": "ann", "for": "1h" }),
    )
    .await;
    let (_, body) = d.post("/v1/sync", json!({})).await;
    assert_eq!(body["reboots_detected"], 0, "{body}");
    h.sim.reboot();
    h.advance(Duration::from_secs(30));
    assert!(h.v4().is_empty());
    let (_, body) = d.post("/v1/sync", json!({})).await;
    assert_eq!(body["ok"], true, "{body}");
    assert_eq!(body["reboots_detected"], 1, "{body}");
    assert_eq!(h.v4(), vec![("192.0.2.93".into(), Some(3570))]);
    assert_eq!(h.entries(Family::V6).len(), 1);
    let status = d.get("/v1/status").await;
    assert_eq!(status["last_error"], Value::Null, "{status}");
    assert!(status["last_success"].is_string(), "{status}");
    d.stop().await;
}

#[tokio::test(start_paused = true)]
async fn duplicates_behind_the_daemons_back_are_adopted_or_reported() {
    let h = Harness::start().await;
    let d = Daemon::start(&h).await;
    // After the daemon's last read, someone adds a foreign entry and an entry with the agent's tag.
    let foreign = h
        .put_foreign(Family::V4, "192.0.2.94", Some("office"), None)
        .await;
    h.put_foreign(
        Family::V4,
        "192.0.2.95",
        Some(crate::support::TAG),
        Some("5m"),
    )
    .await;
    // The daemon's PUT meets `already have such entry`: the foreign one is reported and left alone...
    let (_, body) = d
        .post(
            "/v1/grants",
            json!({ "address": "192.0.2.94", "user": "ann", "for": "1h" }),
        )
        .await;
    assert_eq!(
        body["report"]["conflicts"][0]["id"],
        foreign.as_str(),
        "{body}"
    );
    // ...and the tagged one is adopted and refreshed rather than duplicated.
    let mark = h.sim.journal_mark();
    let (_, body) = d
        .post(
            "/v1/grants",
            json!({ "address": "192.0.2.95", "user": "ann", "for": "1h" }),
        )
        .await;
    assert_eq!(body["ok"], true, "{body}");
    assert_eq!(body["report"]["refreshed"][0], "192.0.2.95", "{body}");
    let methods: Vec<String> = h
        .requests_since(mark)
        .into_iter()
        .map(|r| r.split(' ').next().unwrap().to_owned())
        .collect();
    assert_eq!(methods, vec!["PUT", "GET", "PATCH"]);
    let entries = h.entries(Family::V4);
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert_eq!(entries[0].comment.as_deref(), Some("office"));
    assert_eq!(entries[0].remaining_s, None);
    assert_eq!(entries[1].remaining_s, Some(3600));
    d.stop().await;
}

/// Polls `done` every 20 ms of the paused clock for at most `limit` of it: a bounded wait for other
/// tasks' I/O, which no clock can hurry, that takes no real time.
async fn eventually(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let end = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < end {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    done()
}

#[tokio::test(start_paused = true)]
async fn a_failed_write_is_retried_at_the_backoff_not_the_interval() {
    let mut h = Harness::start().await;
    h.config.interval = Duration::from_secs(600);
    // No client retries: two failed PUTs outlast the grant's own step and the first retry. The
    // daemon keeps its production backoff (2 s, then 4 s): the test moves the paused clock past it.
    let client = h.client().with_retry(agent::net::RetryPolicy::none());
    let d = Daemon::start_with(&h, client, agent::daemon::Timing::default()).await;
    let _fault = h
        .sim
        .fault(
            FaultRule::always(Action::Status {
                status: 503,
                detail: None,
            })
            .path("/rest/ip/firewall/address-list")
            .method("PUT")
            .times(2),
        )
        .unwrap();
    let (_, body) = d
        .post(
            "/v1/grants",
            json!({ "address": "192.0.2.96", "user": "ann", "for": "1h" }),
        )
        .await;
    assert_eq!(body["ok"], false, "{body}");
    assert_eq!(body["report"]["errors"][0]["code"], 208011, "{body}");
    // Well before the ten-minute interval, the daemon's own full reconcile adds the entry: the
    // retry after 2 s fails again, the one 4 s later succeeds. Move the clock past both, in small
    // steps: one long sleep would let Tokio jump past a retry whose exchange on the real socket is
    // still under way, and the check would run before it ends.
    for _ in 0..700 {
        if h.v4().len() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        h.v4().len() == 1,
        "the entry is still missing: {}",
        d.get("/v1/status").await
    );
    assert_eq!(h.v4(), vec![("192.0.2.96".into(), Some(3600))]);
    let status = d.get("/v1/status").await;
    assert!(status["reconciles"].as_u64().unwrap() >= 2, "{status}");
    d.stop().await;
}

#[tokio::test(start_paused = true)]
async fn status_answers_and_grants_reach_disk_while_the_router_stalls() {
    let mut h = Harness::start().await;
    // Far longer than the bound below: a status that waited for the router would miss it.
    h.config.request_timeout = Duration::from_secs(120);
    let client = h.client().with_retry(agent::net::RetryPolicy::none());
    let d = Daemon::start_with(&h, client, agent::daemon::Timing::default()).await;
    let _stall = h
        .sim
        .fault(FaultRule::always(Action::Stall).path("/rest/ip/firewall/address-list"))
        .unwrap();
    let mark = h.sim.journal_mark();
    // A reconcile that reads the list and so hangs, holding the router.
    let (http, base) = (d.http.clone(), d.base.clone());
    let sync = tokio::spawn(async move {
        http.post(format!("{base}/v1/sync"))
            .json(&json!({}))
            .send()
            .await
    });
    assert!(
        eventually(Duration::from_secs(20), || h
            .requests_since(mark)
            .iter()
            .any(|r| r.starts_with("GET /rest/ip/firewall/address-list")))
        .await,
        "the reconcile never reached the stalled list read"
    );
    // A new grant meanwhile: its request waits for the router, but the grant is on disk at once.
    let (http, base) = (d.http.clone(), d.base.clone());
    let grant = tokio::spawn(async move {
        http.post(format!("{base}/v1/grants"))
            .json(&json!({ "address": "192.0.2.97", "user": "ann", "for": "1h" }))
            .send()
            .await
    });
    let bound = Duration::from_secs(10);
    let mut on_disk = false;
    for _ in 0..500 {
        let status = tokio::time::timeout(bound, d.get("/v1/status"))
            .await
            .expect("GET /v1/status must not wait for the stalled router");
        let file = std::fs::read_to_string(&h.config.state).unwrap_or_default();
        if status["grants"] == 1 && file.contains("192.0.2.97") {
            on_disk = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        on_disk,
        "the grant never reached the store while the router stalled"
    );
    let grants = tokio::time::timeout(bound, d.get("/v1/grants"))
        .await
        .expect("GET /v1/grants must not wait for the stalled router");
    assert_eq!(grants["grants"][0]["address"], "192.0.2.97", "{grants}");
    assert!(!sync.is_finished() && !grant.is_finished());
    // The stall never ends by itself within the test: end the daemon without waiting for it.
    sync.abort();
    grant.abort();
    d.task.abort();
}
