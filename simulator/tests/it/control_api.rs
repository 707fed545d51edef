//! The control API over HTTP, through the typed [`ControlClient`] and through the `routeros-sim`
//! subcommands: state dump, reset, seeds, snapshots, the clock, reboots, and the bearer token.
//!
//! The raw HTTP client below checks the wire (statuses, refusals for malformed bodies); the typed
//! tests check that the in-process handle and the client give the same answers through [`Control`].

use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use simulator::Control as _;
use simulator::{Action, ControlClient, ControlError, FaultRule, JournalFilter, Seed, Simulator};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::support::{BOUND, V4, start, start_with, until_listening, until_refused};

/// A plain client of the control API.
struct Control {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Control {
    fn of(sim: &Simulator) -> Self {
        Self {
            http: crate::support::https_client(sim.ca_pem()),
            base: sim.control_url().unwrap(),
            token: None,
        }
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }
}

fn seed_file(name: &str) -> Seed {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/seeds")
        .join(name);
    Seed::from_file(&path).unwrap()
}

#[tokio::test]
async fn reset_returns_to_the_seed_and_seeds_load() {
    let s = start_with(Simulator::builder().seed(seed_file("vendor-guide.toml"))).await;
    let c = Control::of(&s.sim);
    assert_eq!(
        s.call_as(
            Some(("knocknoc-agent", "knocknoc-agent-password")),
            "GET",
            V4,
            None
        )
        .await
        .status,
        200
    );
    s.put(V4, json!({"list": "knocknoc-users", "address": "10.0.0.1"}))
        .await;
    s.call(
        "PATCH",
        "/rest/system/identity",
        Some(json!({"name": "changed"})),
    )
    .await;
    assert_eq!(c.call("POST", "/state/reset", None).await.0, 200);
    assert!(s.rows(V4).await.is_empty());
    assert_eq!(
        s.get("/rest/system/identity").await.json()["name"],
        "MikroTik"
    );

    // Load another seed over HTTP: it becomes the state and what reset returns to.
    let matrix = serde_json::to_value(seed_file("policy-matrix.toml")).unwrap();
    assert_eq!(c.call("PUT", "/seed", Some(matrix)).await.0, 200);
    assert_eq!(
        s.call_as(Some(("readonly", "password")), "GET", V4, None)
            .await
            .status,
        200
    );
    assert_eq!(
        s.call_as(
            Some(("knocknoc-agent", "knocknoc-agent-password")),
            "GET",
            V4,
            None
        )
        .await
        .status,
        401
    );
    c.call("POST", "/state/reset", None).await;
    assert_eq!(
        s.call_as(Some(("readonly", "password")), "GET", V4, None)
            .await
            .status,
        200
    );

    // A seed the router refuses is refused with the router's reason, and nothing changes.
    let (status, body) = c
        .call(
            "PUT",
            "/seed",
            Some(json!({"user": [{"name": "x", "group": "nope"}]})),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("input does not match any value of group"),
        "{body}"
    );
    assert_eq!(
        s.call_as(Some(("readonly", "password")), "GET", V4, None)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn snapshot_and_restore_keep_ids_and_remaining_time() {
    let s = start().await;
    let c = Control::of(&s.sim);
    s.put(
        V4,
        json!({"list": "l", "address": "10.0.0.1", "timeout": "1h"}),
    )
    .await;
    s.put(
        V4,
        json!({"list": "l", "address": "10.0.0.2", "comment": "static"}),
    )
    .await;
    s.call("DELETE", &format!("{V4}/*1"), None).await;
    s.put(
        V4,
        json!({"list": "l", "address": "10.0.0.3", "timeout": "2h"}),
    )
    .await;
    let (_, snap) = c.call("GET", "/state", None).await;
    let before = s.rows(V4).await;

    c.call("POST", "/state/reset", None).await;
    assert!(s.rows(V4).await.is_empty());
    assert_eq!(c.call("PUT", "/state", Some(snap.clone())).await.0, 200);
    assert_eq!(s.rows(V4).await, before);
    // The id counter came back too: the next entry is *4.
    assert_eq!(
        s.put(V4, json!({"list": "l", "address": "10.0.0.4"})).await,
        "*4"
    );

    // A snapshot restores into another simulator, keeping that simulator's ports.
    let other = start().await;
    other
        .sim
        .restore(&serde_json::from_value(snap).unwrap())
        .unwrap();
    let rows = other.rows(V4).await;
    assert_eq!(
        rows.iter()
            .map(|r| r["address"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["10.0.0.2", "10.0.0.3"]
    );
    assert_eq!(other.get("/rest/system/identity").await.status, 200);
}

#[tokio::test]
async fn clock_moves_expiry_and_uptime() {
    let s = start().await;
    let c = Control::of(&s.sim);
    s.put(
        V4,
        json!({"list": "l", "address": "10.0.0.1", "timeout": "30m"}),
    )
    .await;
    s.put(
        V4,
        json!({"list": "l", "address": "10.0.0.2", "timeout": "2h"}),
    )
    .await;
    let (_, frozen) = c.call("POST", "/clock/freeze", None).await;
    assert_eq!(frozen["frozen"], true);
    let (_, moved) = c
        .call("POST", "/clock/advance", Some(json!({"by": "1h"})))
        .await;
    assert_eq!(
        moved["now_ms"].as_u64().unwrap() - frozen["now_ms"].as_u64().unwrap(),
        3_600_000
    );
    let rows = s.rows(V4).await;
    assert_eq!(rows.len(), 1, "the 30m entry expired");
    assert_eq!(rows[0]["timeout"], "1h");
    let uptime = s.get("/rest/system/resource").await.json()["uptime"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        uptime.starts_with("1h"),
        "uptime follows the clock: {uptime}"
    );
    let (status, _) = c
        .call("POST", "/clock/advance", Some(json!({"by": 60_000})))
        .await;
    assert_eq!(status, 200);
    assert_eq!(s.rows(V4).await[0]["timeout"], "59m");
    let (status, body) = c
        .call("POST", "/clock/advance", Some(json!({"by": "soon"})))
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        c.call("POST", "/clock/resume", None).await.1["frozen"],
        false
    );
}

#[tokio::test]
async fn reboot_drops_dynamic_entries_and_connections_and_refuses_during_downtime() {
    let s = start().await;
    s.put(
        V4,
        json!({"list": "l", "address": "10.0.0.1", "timeout": "1h"}),
    )
    .await;
    s.put(V4, json!({"list": "l", "address": "10.0.0.2"})).await;
    s.sim.clock().advance(Duration::from_secs(7200 - 1));
    // A keep-alive connection open across the reboot is dropped.
    let mut open = crate::support::tls_connect(s.sim.https_addr(), s.sim.ca_pem())
        .await
        .unwrap();
    s.sim.reboot_with_downtime(Duration::from_millis(200));
    until_refused(s.sim.https_addr()).await;
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(BOUND, tokio::io::AsyncReadExt::read(&mut open, &mut buf))
        .await
        .unwrap();
    assert!(
        matches!(n, Ok(0) | Err(_)),
        "the open connection was dropped"
    );
    until_listening(s.sim.https_addr()).await;
    assert_eq!(
        s.addresses(V4).await,
        ["10.0.0.2"],
        "dynamic entries vanish, static stay"
    );
    let uptime = s.get("/rest/system/resource").await.json()["uptime"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!uptime.contains('h'), "uptime restarted: {uptime}");
}

#[tokio::test]
async fn bearer_token_guards_the_control_api() {
    let s = start_with(Simulator::builder().control_token(Some("t0ken".into()))).await;
    let mut c = Control::of(&s.sim);
    let (status, body) = c.call("GET", "/health", None).await;
    assert_eq!(status, 401);
    assert!(body["error"].as_str().unwrap().contains("Bearer"));
    c.token = Some("wrong".into());
    assert_eq!(c.call("GET", "/health", None).await.0, 401);
    c.token = Some("t0ken".into());
    assert_eq!(c.call("GET", "/health", None).await.0, 200);
}

#[tokio::test]
async fn control_api_refuses_bad_input_with_a_sentence() {
    let s = start().await;
    let c = Control::of(&s.sim);
    for (method, path, body) in [
        ("POST", "/faults", json!({"action": {"kind": "explode"}})),
        (
            "POST",
            "/faults",
            json!({"action": {"kind": "tls-expired"}, "match": {"path": "/x"}}),
        ),
        (
            "POST",
            "/faults",
            json!({"action": {"kind": "reset"}, "firing": {"probability": 2}}),
        ),
        ("PUT", "/state", json!({"version": "x"})),
        ("POST", "/reboot", json!({"downtime": "later"})),
        ("POST", "/nope", json!({})),
    ] {
        let (status, reply) = c.call(method, path, Some(body.clone())).await;
        assert_eq!(status, 400, "{method} {path} {body}");
        assert!(
            reply["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{reply}"
        );
    }
    assert_eq!(c.call("DELETE", "/faults/99", None).await.0, 404);
}

/// The binary: start it on free ports, read where it listens from what it prints, and drive it with
/// its own subcommands.
#[tokio::test]
async fn routeros_sim_binary_serves_and_its_subcommands_control_it() {
    let exe = env!("CARGO_BIN_EXE_routeros-sim");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let ca = dir.join("ca.pem");
    let mut child = tokio::process::Command::new(exe)
        .args([
            "--https-port",
            "0",
            "--http-port",
            "0",
            "--control-port",
            "0",
            "--ca-out",
        ])
        .arg(&ca)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut https, mut control) = (String::new(), String::new());
    let read = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.first() {
                Some(&"www-ssl") => https = words[1].trim_end_matches("/rest").to_owned(),
                Some(&"control") => control = words[1].to_owned(),
                Some(&"Press") => break,
                _ => {}
            }
        }
    };
    tokio::time::timeout(BOUND, read)
        .await
        .expect("the banner within the bound");
    assert!(
        https.starts_with("https://127.0.0.1:") && control.starts_with("http://127.0.0.1:"),
        "{https} {control}"
    );

    let run = |args: &[&str]| {
        let out = std::process::Command::new(exe)
            .args(args)
            .args(["--control", &control])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let added: Value = serde_json::from_str(&run(&[
        "fault", "add", "status", "--status", "500", "--detail", "boom", "--times", "1",
    ]))
    .unwrap();
    assert!(added["id"].as_u64().is_some());
    let client = crate::support::https_client(&std::fs::read_to_string(&ca).unwrap());
    let url = format!("{https}/rest/system/identity");
    let r = crate::support::call_on(&client, Some(("admin", "admin")), "GET", &url, None).await;
    r.assert_error(500, Some("boom"));
    let r = crate::support::call_on(&client, Some(("admin", "admin")), "GET", &url, None).await;
    assert_eq!(r.status, 200);
    let journal = run(&["journal", "--path", "/rest/system/identity"]);
    assert_eq!(
        journal
            .lines()
            .filter(|l| l.contains("/rest/system/identity"))
            .count(),
        2,
        "{journal}"
    );
    let clock: Value = serde_json::from_str(&run(&["clock", "advance", "1h"])).unwrap();
    assert!(clock["now_ms"].as_u64().unwrap() >= 3_600_000);
    let snap = dir.join("snap.json");
    run(&["state", "snapshot", snap.to_str().unwrap()]);
    run(&["state", "restore", snap.to_str().unwrap()]);
    // A control call to a simulator that is not there says what to do.
    let out = std::process::Command::new(exe)
        .args(["clock", "--control", "http://127.0.0.1:1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is `routeros-sim` running?"));
    child.kill().await.unwrap();
}

/// The same calls through [`Control`] on the in-process handle and on a [`ControlClient`] give the
/// same replies, and both act on the router.
#[tokio::test]
async fn the_handle_and_the_client_answer_alike_through_the_control_trait() {
    let s = start().await;
    let client = ControlClient::new(&s.sim.control_url().unwrap(), None).unwrap();
    let both: [&dyn simulator::Control; 2] = [&s.sim, &client];
    let mut health = Vec::new();
    for c in both {
        health.push(c.health().await.unwrap());
    }
    assert_eq!(health[0], health[1]);
    assert_eq!(health[0].https_url, s.sim.https_url());
    assert!(health[0].ok && !health[0].down);

    for (i, c) in both.into_iter().enumerate() {
        let address = format!("10.0.0.{}", i + 1);
        let before = c.snapshot().await.unwrap();
        s.put(
            V4,
            json!({"list": "l", "address": address, "timeout": "1h"}),
        )
        .await;
        let frozen = c.freeze_clock().await.unwrap();
        let moved = c.advance_clock(Duration::from_secs(60)).await.unwrap();
        assert_eq!(moved.now_ms - frozen.now_ms, 60_000);
        assert!(!c.resume_clock().await.unwrap().frozen);
        assert_eq!(s.rows(V4).await[0]["timeout"], "59m");

        let mark = c.journal_mark().await.unwrap().mark;
        let id = c
            .add_fault(FaultRule::always(Action::Status {
                status: 500,
                detail: Some("boom".into()),
            }))
            .await
            .unwrap()
            .id;
        s.get("/rest/system/identity")
            .await
            .assert_error(500, Some("boom"));
        let listed = c.faults().await.unwrap();
        assert_eq!((listed.len(), listed[0].id, listed[0].fired), (1, id, 1));
        assert_eq!(c.remove_fault(id).await.unwrap().removed, id);
        let gone = c.remove_fault(id).await.unwrap_err();
        assert!(gone.is_not_found(), "{gone}");
        assert!(gone.to_string().contains("no fault rule"), "{gone}");
        let page = c
            .journal(&JournalFilter {
                since: Some(mark),
                path: Some("/rest/system/identity".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(page.entries.len(), 1, "{page:?}");
        assert_eq!(page.entries[0].status, Some(500));

        // A refusal is the same sentence either way.
        let refused = c
            .add_fault(FaultRule::always(Action::TlsExpired).path("/x"))
            .await
            .unwrap_err();
        assert!(
            matches!(&refused, ControlError::Refused(r) if r.status == 400),
            "{refused}"
        );

        c.restore(&before).await.unwrap();
        assert!(s.rows(V4).await.is_empty());
        let mut limits = c.limits().await.unwrap();
        limits.row_cost = Duration::from_millis(2);
        assert_eq!(c.set_limits(limits).await.unwrap(), limits);
        assert_eq!(s.sim.shared().limits(), limits);
        let leaf = c.tls().await.unwrap().leaf_sha256;
        assert_ne!(c.rotate_certificate().await.unwrap().leaf_sha256, leaf);
        assert_eq!(c.tls().await.unwrap().leaf_sha256, s.sim.leaf_sha256());
    }
}

/// The client sends the token it was given, and its failures say what to do.
#[tokio::test]
async fn the_client_sends_its_token_and_says_what_to_do_when_it_cannot() {
    let s = start_with(Simulator::builder().control_token(Some("t0ken".into()))).await;
    let url = s.sim.control_url().unwrap();
    let with = ControlClient::new(&url, Some("t0ken".into())).unwrap();
    assert!(with.health().await.unwrap().ok);
    assert!(!format!("{with:?}").contains("t0ken"), "{with:?}");

    let without = ControlClient::new(&url, None).unwrap();
    let e = without.clock().await.unwrap_err().to_string();
    assert!(e.contains("ROUTEROS_SIM_TOKEN"), "{e}");

    // Nothing listens there: a port that was free a moment ago.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let gone = format!("http://{}", free.local_addr().unwrap());
    drop(free);
    let e = ControlClient::new(&gone, None)
        .unwrap()
        .clock()
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("is `routeros-sim` running?"), "{e}");

    // The router's own service is not the control API.
    let e = ControlClient::new(&s.sim.http_url().unwrap(), None)
        .unwrap()
        .clock()
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("not the control API's"), "{e}");

    let e = ControlClient::new("127.0.0.1:7090", None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("--control"), "{e}");
}

/// `GET /metrics` on the control listener: the token rules of the rest of the control API, and
/// OpenMetrics text with the requests by method, menu and status, the faults fired, the sessions,
/// the journal and the clock.
#[tokio::test]
async fn metrics_count_requests_faults_and_show_the_journal_and_clock() {
    let s = start_with(Simulator::builder().control_token(Some("t0ken".into()))).await;
    let url = format!("{}/metrics", s.sim.control_url().unwrap());
    let http = crate::support::https_client(s.sim.ca_pem());
    let r = http.get(&url).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401, "the metrics need the token");
    assert_eq!(s.get("/rest/system/identity").await.status, 200);
    assert_eq!(s.get("/rest/system/identity").await.status, 200);
    assert_eq!(s.get("/rest/no/such/menu").await.status, 400);
    let _fault = s
        .sim
        .fault(
            FaultRule::always(Action::Status {
                status: 503,
                detail: None,
            })
            .path("/rest/user")
            .times(1),
        )
        .unwrap();
    assert_eq!(s.get("/rest/user").await.status, 503);
    s.sim.advance_clock(Duration::from_secs(90)).await;
    let r = http.get(&url).bearer_auth("t0ken").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text"),
        "{:?}",
        r.headers()
    );
    let text = r.text().await.unwrap();
    for line in [
        r#"routeros_sim_requests_total{method="GET",menu="/system/identity",status="200"} 2"#,
        r#"routeros_sim_requests_total{method="GET",menu="other",status="400"} 1"#,
        r#"routeros_sim_requests_total{method="GET",menu="/user",status="503"} 1"#,
        r#"routeros_sim_faults_fired_total{action="status"} 1"#,
        "routeros_sim_journal_entries 4",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
    }
    let value = |name: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("{name} in\n{text}"))
    };
    assert!(value("routeros_sim_clock_milliseconds") >= 90_000, "{text}");
    assert!(value("routeros_sim_journal_bytes") > 0, "{text}");
    // The gauge of each service is there (its value is whatever the pooled clients hold open).
    assert!(
        text.lines()
            .any(|l| l.starts_with(r#"routeros_sim_sessions{service="www-ssl"} "#)),
        "{text}"
    );
}
