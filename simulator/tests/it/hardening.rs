//! Hostile and careless clients: the listener stays available to a real client whatever others do.
//!
//! Every `max-sessions` slot of a service (20 by default) is a connection. A client that sends a
//! request's head and then nothing must not keep its slot: a request without valid credentials is
//! answered before its body is read, and a body that does not arrive within the read timeout ends
//! the connection. The timeouts are made short through [`Limits`], so these tests wait at most a
//! fraction of a second for the server to give up; every other wait is bounded by [`BOUND`].

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{ADMIN, BOUND, Sim, basic, https_client, start_with};
use simulator::{Limits, Simulator};

/// The default `max-sessions` of `www` and `www-ssl`.
const MAX_SESSIONS: usize = 20;

/// Opens `n` plain-HTTP connections that each send a POST head announcing ten bytes of body, and
/// no body.
async fn stalled(addr: SocketAddr, n: usize, credentials: bool) -> Vec<TcpStream> {
    let auth = if credentials {
        format!("Authorization: {}\r\n", basic(ADMIN.0, ADMIN.1))
    } else {
        String::new()
    };
    let head = format!(
        "POST /rest/ip/firewall/address-list/add HTTP/1.1\r\nHost: localhost\r\n{auth}\
         Content-Type: application/json\r\nContent-Length: 10\r\n\r\n"
    );
    let mut out = Vec::new();
    for _ in 0..n {
        let mut s = TcpStream::connect(addr).await.expect("connect");
        s.write_all(head.as_bytes()).await.expect("send the head");
        out.push(s);
    }
    out
}

/// Reads until the server ends the connection (close or reset); fails the test past [`BOUND`].
async fn ended_by_server(mut s: TcpStream) -> Vec<u8> {
    let mut buf = Vec::new();
    let read = tokio::time::timeout(BOUND, s.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the server kept a stalled connection open");
    buf
}

/// A real request on a fresh connection.
async fn identity(s: &Sim) -> u16 {
    let addr = s.sim.http_addr().expect("www");
    let client = https_client(s.sim.ca_pem());
    let r = tokio::time::timeout(
        BOUND,
        client
            .get(format!("http://{addr}/rest/system/identity"))
            .header("authorization", basic(ADMIN.0, ADMIN.1))
            .send(),
    )
    .await
    .expect("an answer within the bound")
    .expect("the real client is served");
    r.status().as_u16()
}

#[tokio::test]
async fn clients_without_credentials_are_answered_before_their_body_and_free_their_slot() {
    let s = start_with(Simulator::builder()).await;
    let addr = s.sim.http_addr().expect("www");
    let conns = stalled(addr, MAX_SESSIONS + 5, false).await;
    for c in conns.into_iter().take(MAX_SESSIONS) {
        let reply = ended_by_server(c).await;
        let text = String::from_utf8_lossy(&reply);
        assert!(text.starts_with("HTTP/1.1 401"), "{text}");
    }
    assert_eq!(identity(&s).await, 200);
}

#[tokio::test]
async fn a_body_that_does_not_arrive_ends_the_connection_within_the_read_timeout() {
    let s = start_with(Simulator::builder().limits(Limits {
        read_timeout: Duration::from_millis(200),
        ..Limits::default()
    }))
    .await;
    let addr = s.sim.http_addr().expect("www");
    let conns = stalled(addr, MAX_SESSIONS, true).await;
    for c in conns {
        ended_by_server(c).await;
    }
    assert_eq!(identity(&s).await, 200);
}

#[tokio::test]
async fn the_control_api_stays_on_loopback_when_the_services_bind_elsewhere() {
    // 127.0.0.2 stands for "another address": it is loopback on Linux, so the test stays local.
    let other = std::net::IpAddr::from([127, 0, 0, 2]);
    let sim = Simulator::builder()
        .bind(other)
        .start()
        .await
        .expect("the simulator starts");
    assert_eq!(sim.https_addr().ip(), other);
    let control = sim.control_url().expect("a control API");
    assert!(control.starts_with("http://127.0.0.1:"), "{control}");
}

#[tokio::test]
async fn a_control_api_beyond_loopback_needs_a_token() {
    let refused = Simulator::builder()
        .control_bind(std::net::IpAddr::from([0, 0, 0, 0]))
        .start()
        .await;
    let message = refused
        .expect_err("no token, no control API beyond loopback")
        .to_string();
    assert!(message.contains("control-token-file"), "{message}");
    let refused = Simulator::builder()
        .control_bind(std::net::IpAddr::from([0, 0, 0, 0]))
        .control_token(Some(String::new()))
        .start()
        .await;
    assert!(refused.is_err(), "an empty token is no token");
}

#[tokio::test]
async fn the_control_token_is_checked_whole() {
    let sim = Simulator::builder()
        .control_token(Some("s3cret-token".into()))
        .start()
        .await
        .expect("the simulator starts");
    let url = format!("{}/clock", sim.control_url().expect("a control API"));
    let client = https_client(sim.ca_pem());
    for (token, want) in [
        ("s3cret-token", 200),
        ("s3cret-toke", 401),
        ("s3cret-token2", 401),
        ("", 401),
    ] {
        let r = client
            .get(&url)
            .bearer_auth(token)
            .send()
            .await
            .expect("the control API answers");
        assert_eq!(r.status().as_u16(), want, "{token:?}");
    }
}

/// Lets the simulator's spawned tasks run on the paused clock.
async fn settle() {
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test(start_paused = true)]
async fn a_reboot_during_a_reboot_extends_the_downtime_and_the_router_comes_back_once() {
    let sim = Simulator::builder().start().await.expect("starts");
    let shared = sim.shared().clone();
    sim.reboot_with_downtime(Duration::from_secs(10));
    tokio::time::advance(Duration::from_secs(5)).await;
    sim.reboot_with_downtime(Duration::from_secs(10));
    let second_boot = sim.with_router(|r| r.booted_at);
    // The first reboot's end passes: the router stays down until the second one's.
    tokio::time::advance(Duration::from_secs(9)).await;
    settle().await;
    assert!(
        shared.is_down(),
        "the first reboot's end opened the listeners"
    );
    tokio::time::advance(Duration::from_secs(2)).await;
    settle().await;
    assert!(!shared.is_down());
    let back = sim.with_router(|r| r.booted_at);
    assert!(back > second_boot);
    // No later phantom reboot resets the uptime.
    tokio::time::advance(Duration::from_secs(30)).await;
    settle().await;
    assert_eq!(sim.with_router(|r| r.booted_at), back);
}

#[tokio::test(start_paused = true)]
async fn a_long_downtime_ends_with_a_reset_or_a_restart() {
    let sim = Simulator::builder().start().await.expect("starts");
    let shared = sim.shared().clone();
    sim.reboot_with_downtime(Duration::from_secs(3600));
    settle().await;
    assert!(shared.is_down());
    sim.reset().expect("reset");
    assert!(
        !shared.is_down(),
        "state reset leaves a router that answers"
    );
    tokio::time::advance(Duration::from_secs(3601)).await;
    settle().await;
    assert!(!shared.is_down());
    sim.reboot_with_downtime(Duration::from_secs(3600));
    settle().await;
    assert!(shared.is_down());
    sim.reboot();
    assert!(!shared.is_down(), "a reboot without downtime is a restart");
}

#[tokio::test]
async fn downtimes_clock_moves_and_empty_seeds_are_refused_with_a_reason() {
    use simulator::control::Control;
    let sim = Simulator::builder().start().await.expect("starts");
    let before = sim.clock().now();
    let e = Control::advance_clock(&sim, Duration::from_millis(u64::MAX))
        .await
        .expect_err("u64::MAX is refused");
    assert!(e.to_string().contains("at most"), "{e}");
    assert!(
        sim.clock().now() < before + 60_000,
        "the clock did not move"
    );
    let e = Control::reboot(&sim, Duration::from_millis(u64::MAX))
        .await
        .expect_err("u64::MAX is refused");
    assert!(e.to_string().contains("downtime is at most"), "{e}");
    assert!(!sim.shared().is_down());
    let e = Control::load_seed(&sim, simulator::Seed::default())
        .await
        .expect_err("a seed without users is refused");
    assert!(e.to_string().contains("no enabled user"), "{e}");
    sim.reset().expect("reset");
    let admins = sim.with_router(|r| r.users.users.iter().filter(|u| u.name == "admin").count());
    assert_eq!(admins, 1, "the router keeps a user to log in with");
}

#[tokio::test]
async fn every_control_api_error_is_the_documented_json_shape() {
    let sim = Simulator::builder().start().await.expect("starts");
    let base = sim.control_url().expect("a control API");
    let client = https_client(sim.ca_pem());
    for (method, path, body, want) in [
        ("DELETE", "/faults/abc", None, 400),
        ("GET", "/journal?since=abc", None, 400),
        ("GET", "/journal?nope=1", None, 400),
        ("PATCH", "/clock", None, 405),
        ("GET", "/no/such/endpoint", None, 400),
        ("POST", "/clock/advance", Some("{not json"), 400),
        ("POST", "/reboot", Some(r#"{"downtime": "100000w"}"#), 400),
        ("DELETE", "/faults/99", None, 404),
    ] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = client.request(method, format!("{base}{path}"));
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        let r = req.send().await.expect("an answer");
        assert_eq!(r.status().as_u16(), want, "{path}");
        let ct = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(ct.starts_with("application/json"), "{path}: {ct}");
        let v: serde_json::Value = r.json().await.expect("JSON");
        let keys: Vec<&String> = v.as_object().expect("an object").keys().collect();
        assert_eq!(keys, ["error"], "{path}: {v}");
        assert!(!v["error"].as_str().unwrap().is_empty(), "{path}");
    }
}
