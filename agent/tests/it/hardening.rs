//! What the agent refuses and bounds: the control API's token, Host check and connection bounds; wide
//! prefixes, over-long grants and control characters in user names; a store poisoned by an
//! over-long grant; endless response bodies; and retries that say how long they took.

use std::time::Duration;

use agent::commands::{Command, exit};
use agent::store::GrantStore;
use serde_json::{Value, json};
use simulator::{Action, FaultRule};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::daemon::Daemon;
use crate::support::{Harness, assert_status};

/// A client without the token, for the refusals.
fn bare() -> reqwest::Client {
    reqwest::Client::builder()
        .tls_backend_preconfigured(agent::net::no_trust_config())
        .build()
        .unwrap()
}

async fn reply(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let body = resp.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// Every error of the control API has the one shape: `ok: false` and an `error` with `kind` and
/// `message`.
#[track_caller]
fn assert_error(got: &(u16, Value), status: u16, kind: &str) {
    assert_eq!(got.0, status, "{}", got.1);
    assert_eq!(got.1["ok"], false, "{}", got.1);
    assert_eq!(got.1["error"]["kind"], kind, "{}", got.1);
    assert!(got.1["error"]["message"].is_string(), "{}", got.1);
}

#[tokio::test(start_paused = true)]
async fn the_control_api_needs_the_token_and_its_own_host_name() {
    let h = Harness::start().await;
    let d = Daemon::start(&h).await;
    let base = &d.base;
    // No token, a wrong token: refused before anything is read or stored.
    let r = reply(
        bare()
            .get(format!("{base}/v1/status"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(&r, 401, "unauthorized");
    let r = reply(
        bare()
            .post(format!("{base}/v1/grants"))
            .bearer_auth("wrong")
            .json(&json!({ "address": "0.0.0.0/0", "user": "eve", "for": "35w" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(&r, 401, "unauthorized");
    assert!(GrantStore::load(&h.config.state).unwrap().is_empty());
    // DNS rebinding: the right token would not help a page that names another host.
    let r = reply(
        d.http
            .get(format!("{base}/v1/status"))
            .header("host", "attacker.example")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(&r, 403, "host");
    let port = base.rsplit(':').next().unwrap();
    let ok = d
        .http
        .get(format!("{base}/v1/status"))
        .header("host", format!("localhost:{port}"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    // The probes need no token; the metrics do.
    let r = reply(bare().get(format!("{base}/healthz")).send().await.unwrap()).await;
    assert_eq!(r, (200, json!({ "ok": true })));
    let r = reply(bare().get(format!("{base}/readyz")).send().await.unwrap()).await;
    assert_eq!(r, (200, json!({ "ok": true })));
    let r = reply(bare().get(format!("{base}/metrics")).send().await.unwrap()).await;
    assert_error(&r, 401, "unauthorized");
    // Errors of the framework itself come in the same shape.
    let r = reply(
        d.http
            .get(format!("{base}/v2/nothing"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(&r, 404, "not_found");
    let r = reply(
        d.http
            .delete(format!("{base}/v1/grants"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(&r, 405, "method");
    let r = reply(
        d.http
            .post(format!("{base}/v1/grants"))
            .body(vec![b' '; 100_000])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(&r, 413, "request");
    let r = reply(
        d.http
            .post(format!("{base}/v1/grants"))
            .body("{not json")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(&r, 400, "request");
    // A JSON body without a content type is still JSON.
    let resp = d
        .http
        .post(format!("{base}/v1/grants"))
        .body(r#"{"address":"192.0.2.80","user":"ann","for":"1h"}"#)
        .send()
        .await
        .unwrap();
    let r = reply(resp).await;
    assert_eq!(r.0, 200, "{}", r.1);
    assert_eq!(r.1["ok"], true, "{}", r.1);
    let metrics = d
        .http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "routeros_agent_grants 1",
        "routeros_agent_control_requests_total{method=\"GET\",status=\"401\"} 2",
        "routeros_agent_control_requests_total{method=\"POST\",status=\"200\"} 1",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in\n{metrics}");
    }
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("routeros_agent_reconciles_total ")),
        "{metrics}"
    );
    assert!(
        metrics.lines().any(
            |l| l.starts_with("routeros_agent_last_success_timestamp_seconds ")
                && !l.ends_with(" 0.0")
        ),
        "{metrics}"
    );
    d.stop().await;
}

#[tokio::test(start_paused = true)]
async fn the_control_api_refuses_what_the_command_line_refuses() {
    let h = Harness::start().await;
    let d = Daemon::start(&h).await;
    let mark = h.sim.journal_mark();
    for (address, user, for_) in [
        ("0.0.0.0/0", "eve", "1h"),
        ("::/0", "eve", "1h"),
        ("0.0.0.0/1", "eve", "1h"),
        ("2001:db8::/32", "eve", "1h"),
        ("192.0.2.1", "eve", "36w"),
        ("192.0.2.1", "eve\nerror 208001 forged", "1h"),
    ] {
        let r = d
            .post(
                "/v1/grants",
                json!({ "address": address, "user": user, "for": for_ }),
            )
            .await;
        assert_error(&r, 400, "request");
    }
    assert!(GrantStore::load(&h.config.state).unwrap().is_empty());
    assert!(
        h.requests_since(mark).is_empty(),
        "{:?}",
        h.requests_since(mark)
    );
    d.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_half_sent_request_head_is_dropped_after_the_head_timeout() {
    let h = Harness::start().await;
    let d = Daemon::start(&h).await;
    let addr = d.base.trim_start_matches("http://").to_owned();
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"GET /v1/status HTTP/1.1\r\nHost: ")
        .await
        .unwrap();
    // On the paused clock this moves time past the 10 s head timeout without waiting for it.
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(60), slow.read_to_end(&mut buf)).await;
    assert!(
        read.is_ok(),
        "the half-open connection was still open a minute later"
    );
    d.stop().await;
}

#[tokio::test(start_paused = true)]
async fn idle_connections_beyond_the_cap_never_lock_out_a_client() {
    let h = Harness::start().await;
    let timing = agent::daemon::Timing {
        control: agent::daemon::Limits {
            max_connections: 16,
            ..Default::default()
        },
        ..Default::default()
    };
    let d = Daemon::start_with(&h, h.client(), timing).await;
    let addr = d.base.trim_start_matches("http://").to_owned();
    let mut idle = Vec::new();
    for _ in 0..200 {
        idle.push(tokio::net::TcpStream::connect(&addr).await.unwrap());
    }
    // Give the accept loop its turn on every one of them (no time passes on the paused clock).
    tokio::task::yield_now().await;
    let status = d.get("/v1/status").await;
    assert!(status["reconciles"].as_u64().unwrap() >= 1, "{status}");
    // The oldest idle connections were closed to make room. Bounded (on the paused clock), so
    // that a server without a cap fails here instead of waiting forever.
    let mut first = idle.remove(0);
    let mut buf = [0u8; 1];
    let read = tokio::time::timeout(Duration::from_secs(5), first.read(&mut buf)).await;
    assert!(
        matches!(read, Ok(Ok(0))),
        "the oldest idle connection was not closed: {read:?}"
    );
    d.stop().await;
}

#[tokio::test]
async fn wide_prefixes_and_long_grants_are_refused_from_the_command_line() {
    let h = Harness::start().await;
    let mark = h.sim.journal_mark();
    for (address, user, for_, says) in [
        ("0.0.0.0/0", "eve", "1h", "is every address"),
        ("::/0", "eve", "1h", "is every address"),
        ("0.0.0.0/1", "eve", "1h", "widest_prefix_v4 = 1"),
        ("10.0.0.0/16", "eve", "1h", "wider than /17"),
        ("2001:db8::/48", "eve", "1h", "widest_prefix_v6 = 48"),
        (
            "192.0.2.1",
            "eve",
            "36w",
            "longest timeout RouterOS accepts",
        ),
        (
            "192.0.2.1",
            "eve\nerror 208001 (MIKRO001): forged",
            "1h",
            "control characters",
        ),
        ("192.0.2.1", "nul\0", "1h", "control characters"),
    ] {
        let out = h.grant(address, user, for_).await;
        assert_status(&out, exit::CONFIG);
        assert!(out.text.contains(says), "{address} {for_}: {}", out.text);
    }
    assert!(!h.config.state.exists(), "nothing may be stored");
    assert!(h.requests_since(mark).is_empty());
    // Widened by the configuration, /16 is allowed; /0 never is.
    let mut wide = Harness::start().await;
    wide.config.prefix_limits.v4 = 8;
    assert_status(&wide.grant("10.0.0.0/16", "ann", "1h").await, exit::OK);
    assert_status(&wide.grant("0.0.0.0/0", "ann", "1h").await, exit::CONFIG);
}

#[tokio::test]
async fn a_store_with_an_over_long_grant_still_syncs_every_grant() {
    let h = Harness::start().await;
    let now = agent::clock::Clock::now(&h.clock);
    let forty_weeks = 40 * 7 * 86_400 * 1000;
    // Written by an older agent that let any length through.
    std::fs::write(
        &h.config.state,
        json!({ "format": 1, "grants": [
            { "address": "192.0.2.60", "user": "old", "expires": now.0 + forty_weeks },
            { "address": "192.0.2.61", "user": "ann", "expires": now.0 + 3_600_000 },
        ]})
        .to_string(),
    )
    .unwrap();
    let out = h.run(Command::Sync).await;
    assert_status(&out, exit::OK);
    assert!(out.text.starts_with("2 live grants\n"), "{}", out.text);
    assert_eq!(
        h.v4(),
        vec![
            ("192.0.2.60".into(), Some(21_474_836)),
            ("192.0.2.61".into(), Some(3600))
        ]
    );
    // Refreshed to the maximum once the entry has counted down.
    h.advance(Duration::from_secs(3600));
    assert_status(&h.run(Command::Sync).await, exit::OK);
    assert_eq!(h.v4(), vec![("192.0.2.60".into(), Some(21_474_836))]);
}

#[tokio::test]
async fn a_forged_user_name_in_an_old_store_cannot_forge_a_line_of_list() {
    let h = Harness::start().await;
    let now = agent::clock::Clock::now(&h.clock);
    std::fs::write(
        &h.config.state,
        json!({ "format": 1, "grants": [
            { "address": "192.0.2.62", "user": "x\nerror 208001 (MIKRO001): forged", "expires": now.0 + 3_600_000 },
        ]})
        .to_string(),
    )
    .unwrap();
    let out = h.run(Command::List).await;
    assert!(
        !out.text.lines().any(|l| l.starts_with("error")),
        "{}",
        out.text
    );
    assert!(out.text.contains("grants (1):"), "{}", out.text);
}

/// A server that answers every connection with an endless chunked body.
async fn endless_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = [0u8; 4096];
                let _ = s.read(&mut head).await;
                let _ = s
                    .write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
                    )
                    .await;
                let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, "[".repeat(64 * 1024));
                // Bounded only by the client hanging up.
                while s.write_all(chunk.as_bytes()).await.is_ok() {}
            });
        }
    });
    url
}

#[tokio::test]
async fn an_endless_body_stops_at_the_limit_with_208400_naming_it() {
    let mut h = Harness::start().await;
    h.config.router.as_mut().unwrap().url = endless_server().await.parse().unwrap();
    assert_eq!(agent::net::MAX_BODY, 256 * 1024 * 1024);
    let client = agent::net::RouterClient::new(&h.config)
        .unwrap()
        .with_body_limit(4 * 1024 * 1024);
    let e = client.resource().await.unwrap_err();
    assert_eq!(e.code.number(), 208400, "{e}");
    assert!(e.to_string().contains("longer than 4 MiB"), "{e}");
}

#[tokio::test]
async fn a_lasting_failure_says_how_many_attempts_over_how_long_once() {
    let h = Harness::start().await;
    let _fault = h
        .sim
        .fault(FaultRule::always(Action::Status {
            status: 500,
            detail: Some("failure: out of memory".into()),
        }))
        .unwrap();
    let out = h.run(Command::Sync).await;
    assert_status(&out, exit::FAILED);
    assert!(
        out.text.contains("(gave up after 4 attempts over "),
        "{}",
        out.text
    );
    assert_eq!(out.text.matches("208011").count(), 1, "{}", out.text);
}

/// Log lines, captured from the daemon's tasks (they run on the test's one thread).
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn the_daemon_logs_its_control_address_and_each_failure_once() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let h = Harness::start().await;
    let d = Daemon::start(&h).await;
    let text = || String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(
        text().contains(&format!("control={}", d.base)),
        "{}",
        text()
    );
    let _fault = h
        .sim
        .fault(FaultRule::always(Action::Status {
            status: 500,
            detail: Some("failure: out of memory".into()),
        }))
        .unwrap();
    let before = text().len();
    // The next periodic reconcile (the interval is 1m) fails after its retries; the one after it
    // is 2 s later. The paused clock moves in small steps: one long sleep would let Tokio jump
    // past the daemon's real socket exchanges with the simulator before they are answered.
    // Bounded: at most 200 s of the paused clock.
    for _ in 0..20_000 {
        if text()[before..].contains("208011") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // A second print of the same failure would come at once; the next failure only 2 s later.
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let after = text()[before..].to_owned();
    assert_eq!(after.matches("208011").count(), 1, "{after}");
    assert!(after.contains("gave up after 4 attempts"), "{after}");
    d.stop().await;
}
