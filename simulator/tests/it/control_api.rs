//! The control API over HTTP and through the `routeros-sim` subcommands: state dump, reset, seeds,
//! snapshots, the clock, reboots, and the bearer token.

use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use simulator::{Seed, Simulator};
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
    let dir = std::env::temp_dir().join(format!("routeros-sim-it-{}", std::process::id()));
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
    let _ = std::fs::remove_dir_all(&dir);
}
