//! Fault injection, each action observed from a plain client: HTTP answers, delays, refused and reset
//! connections, early closes, stalls, dribbling, and the TLS faults; firing modes (times, after,
//! seeded probability), matchers, the journal's record of faults, and the control API staying
//! reachable while every fault is active.

use std::time::Duration;

use serde_json::{Value, json};
use simulator::{Action, FaultRule, JournalFilter, Listener};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{
    self, BOUND, V4, raw_request, start, tls_connect, until_listening, until_refused,
};

fn status(status: u16, detail: &str) -> Action {
    Action::Status {
        status,
        detail: Some(detail.to_owned()),
    }
}

/// Reads whatever the server sends on a raw TLS connection until it closes, resets or stalls.
/// Returns the bytes and how the connection ended.
async fn raw_outcome(
    sim: &simulator::Simulator,
    request: &[u8],
    patience: Duration,
) -> (Vec<u8>, String) {
    let mut tls = match tls_connect(sim.https_addr(), sim.ca_pem()).await {
        Ok(s) => s,
        Err(e) => return (Vec::new(), format!("handshake: {e}")),
    };
    tls.write_all(request).await.expect("request sent");
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match tokio::time::timeout(patience, tls.read(&mut chunk)).await {
            Err(_) => return (buf, "stalled".into()),
            Ok(Ok(0)) => return (buf, "closed".into()),
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return (buf, "reset".into());
            }
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return (buf, "closed".into());
            }
            Ok(Err(e)) => return (buf, format!("error: {e}")),
        }
    }
}

#[tokio::test]
async fn status_fault_answers_like_the_router_and_leaves_state_alone() {
    let s = start().await;
    let guard = s
        .sim
        .fault(
            FaultRule::always(status(500, "not enough permissions (9)"))
                .method("PUT")
                .times(1),
        )
        .unwrap();
    let r = s
        .call("PUT", V4, Some(json!({"list": "l", "address": "10.0.0.1"})))
        .await;
    r.assert_error(500, Some("not enough permissions (9)"));
    assert!(
        s.rows(V4).await.is_empty(),
        "a status fault answers before the router acts"
    );
    s.put(V4, json!({"list": "l", "address": "10.0.0.1"})).await;
    drop(guard);
    // A status without detail is the bare envelope.
    let _g = s
        .sim
        .fault(
            FaultRule::always(Action::Status {
                status: 503,
                detail: None,
            })
            .path("/rest/system/*"),
        )
        .unwrap();
    s.get("/rest/system/resource").await.assert_error(503, None);
}

#[tokio::test]
async fn body_faults_send_exactly_the_body() {
    let s = start().await;
    let cases = [
        ("text/html", "<html><body>Welcome</body></html>"),
        ("application/json", "{not json"),
        ("application/json", "[{\".id\":\"*1\",\"addr"),
        ("application/json", "{\"address\":\"10.0.0.1\"}"),
        (
            "application/json",
            "[{\".id\":\"*1\",\"address\":\"10.0.0.1\",\"list\":\"l\",\"dynamic\":true,\"timeout\":300}]",
        ),
        ("application/json", "[{\"address\":\"10.0.0.1\"}]"),
    ];
    for (content_type, body) in cases {
        let _g = s
            .sim
            .fault(
                FaultRule::always(Action::Body {
                    status: 200,
                    content_type: content_type.into(),
                    body: body.into(),
                })
                .path(V4),
            )
            .unwrap();
        let r = s.get(V4).await;
        assert_eq!(
            (
                r.status,
                r.text.as_str(),
                r.header("content-type").as_deref()
            ),
            (200, body, Some(content_type))
        );
    }
}

#[tokio::test]
async fn delay_answers_normally_after_the_delay() {
    let s = start().await;
    let _g = s
        .sim
        .fault(
            FaultRule::always(Action::Delay {
                ms: 150,
                max_ms: None,
            })
            .path("/rest/system/identity"),
        )
        .unwrap();
    let mark = s.sim.journal_mark();
    let r = s.get("/rest/system/identity").await;
    assert_eq!(r.text, r#"{"name":"MikroTik"}"#);
    let page = s.sim.journal(&JournalFilter {
        since: Some(mark),
        ..Default::default()
    });
    assert_eq!(page.entries.len(), 1);
    assert!(
        page.entries[0].duration_ms >= 150,
        "journal shows the delay: {:?}",
        page.entries[0]
    );
    assert!(
        page.entries[0]
            .fault
            .as_deref()
            .unwrap()
            .starts_with("delay (rule ")
    );
}

#[tokio::test]
async fn refuse_closes_the_listener_until_the_rule_goes() {
    let s = start().await;
    let addr = s.sim.https_addr();
    let guard = s
        .sim
        .fault(FaultRule::always(Action::Refuse).listener(Listener::WwwSsl))
        .unwrap();
    until_refused(addr).await;
    // The plain listener is untouched.
    let http = s.sim.http_addr().unwrap();
    TcpStream::connect(http).await.expect("www still listens");
    drop(guard);
    until_listening(addr).await;
    assert_eq!(s.get("/rest/system/identity").await.status, 200);
}

#[tokio::test]
async fn reset_close_and_stall_at_request_time() {
    let s = start().await;
    let get = raw_request("GET", "/rest/system/resource", &[], b"");

    let g = s
        .sim
        .fault(FaultRule::always(Action::Reset).path("/rest/system/resource"))
        .unwrap();
    let (bytes, how) = raw_outcome(&s.sim, &get, BOUND).await;
    assert!(bytes.is_empty(), "no response before the reset");
    assert_eq!(how, "reset");
    drop(g);

    let g = s
        .sim
        .fault(FaultRule::always(Action::CloseAfterHeaders).path("/rest/system/resource"))
        .unwrap();
    let (bytes, how) = raw_outcome(&s.sim, &get, BOUND).await;
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.starts_with("HTTP/1.1 200 OK\r\n") && text.ends_with("\r\n\r\n"),
        "headers only: {text:?}"
    );
    assert_eq!(how, "closed");
    drop(g);

    let g = s
        .sim
        .fault(
            FaultRule::always(Action::CloseAfterBytes { bytes: 7 }).path("/rest/system/resource"),
        )
        .unwrap();
    let (bytes, _) = raw_outcome(&s.sim, &get, BOUND).await;
    let text = String::from_utf8_lossy(&bytes);
    let body = text.split("\r\n\r\n").nth(1).unwrap();
    assert_eq!(body, "{\"archi", "exactly 7 body bytes");
    drop(g);

    let _g = s
        .sim
        .fault(FaultRule::always(Action::Stall).path("/rest/system/resource"))
        .unwrap();
    let (bytes, how) = raw_outcome(&s.sim, &get, Duration::from_millis(300)).await;
    assert_eq!((bytes.len(), how.as_str()), (0, "stalled"));
    // Other paths still answer on new connections.
    assert_eq!(s.get("/rest/system/identity").await.status, 200);
}

#[tokio::test]
async fn close_after_headers_still_executes_the_request() {
    // The reply is lost but the router acted: the case that makes clients verify after a failure.
    let s = start().await;
    let _g = s
        .sim
        .fault(
            FaultRule::always(Action::CloseAfterHeaders)
                .method("PUT")
                .times(1),
        )
        .unwrap();
    let body = br#"{"list":"l","address":"10.9.9.9"}"#;
    let req = raw_request("PUT", V4, &[("Content-Type", "application/json")], body);
    let (_, how) = raw_outcome(&s.sim, &req, BOUND).await;
    assert_eq!(how, "closed");
    assert_eq!(s.addresses(V4).await, ["10.9.9.9"]);
}

#[tokio::test]
async fn connection_phase_reset_and_stall() {
    let s = start().await;
    let get = raw_request("GET", "/rest/system/identity", &[], b"");
    let g = s
        .sim
        .fault(FaultRule::always(Action::Reset).listener(Listener::WwwSsl))
        .unwrap();
    let (_, how) = raw_outcome(&s.sim, &get, BOUND).await;
    assert!(
        how.starts_with("handshake") || how == "reset",
        "reset at accept: {how}"
    );
    drop(g);
    let _g = s
        .sim
        .fault(FaultRule::always(Action::Stall).listener(Listener::WwwSsl))
        .unwrap();
    let tcp = TcpStream::connect(s.sim.https_addr()).await.unwrap();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(support::client_config(
        s.sim.ca_pem(),
    )));
    let hs = tokio::time::timeout(
        Duration::from_millis(300),
        connector.connect("localhost".try_into().unwrap(), tcp),
    )
    .await;
    assert!(hs.is_err(), "the handshake never completes");
    let page = s.sim.journal(&JournalFilter::default());
    assert!(
        page.entries
            .iter()
            .any(|e| e.method.is_none()
                && e.fault.as_deref().is_some_and(|f| f.starts_with("stall")))
    );
}

#[tokio::test]
async fn dribble_sends_the_whole_answer_in_small_pieces() {
    let s = start().await;
    let _g = s
        .sim
        .fault(
            FaultRule::always(Action::Dribble {
                bytes: 32,
                interval_ms: 5,
            })
            .path("/rest/system/resource"),
        )
        .unwrap();
    let mut tls = tls_connect(s.sim.https_addr(), s.sim.ca_pem())
        .await
        .unwrap();
    tls.write_all(&raw_request("GET", "/rest/system/resource", &[], b""))
        .await
        .unwrap();
    let mut buf = Vec::new();
    let mut reads = 0;
    let mut chunk = [0u8; 4096];
    loop {
        match tokio::time::timeout(BOUND, tls.read(&mut chunk))
            .await
            .expect("no stall")
        {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                reads += 1;
                buf.extend_from_slice(&chunk[..n]);
            }
        }
    }
    let reply = support::parse_reply(&buf).expect("a whole reply");
    assert_eq!(reply.status, 200);
    let v: Value = serde_json::from_slice(&reply.body).expect("complete JSON");
    assert_eq!(v["platform"], "MikroTik");
    assert!(reads >= 10, "{} bytes came in {reads} reads", buf.len());
}

#[tokio::test]
async fn tls_faults_fail_the_handshake_for_the_right_reason() {
    let s = start().await;
    let cases = [
        (Action::TlsExpired, "expired"),
        (Action::TlsWrongName, "NotValidForName"),
        (Action::TlsUntrusted, "UnknownIssuer"),
        // rustls, having no certificate to offer, refuses the handshake with an alert.
        (Action::TlsNoCertificate, "HandshakeFailure"),
        (Action::TlsPlaintext, "InvalidContentType"),
    ];
    for (action, expected) in cases {
        let g = s.sim.fault(FaultRule::always(action.clone())).unwrap();
        let err = tls_connect(s.sim.https_addr(), s.sim.ca_pem())
            .await
            .err()
            .unwrap_or_else(|| panic!("{action:?} handshake succeeded"));
        let text = format!("{err:?}");
        assert!(
            text.contains(expected) || text.to_lowercase().contains(&expected.to_lowercase()),
            "{action:?}: {text}"
        );
        drop(g);
        tls_connect(s.sim.https_addr(), s.sim.ca_pem())
            .await
            .expect("the right certificate is back");
    }
}

#[tokio::test]
async fn plaintext_on_the_tls_port_answers_http() {
    let s = start().await;
    let _g = s
        .sim
        .fault(FaultRule::always(Action::TlsPlaintext))
        .unwrap();
    let reply = support::raw_http(
        s.sim.https_addr(),
        &raw_request("GET", "/rest/system/identity", &[], b""),
    )
    .await
    .unwrap();
    assert_eq!(reply.text(), r#"{"name":"MikroTik"}"#);
}

#[tokio::test]
async fn rotation_serves_a_new_certificate_from_the_same_ca() {
    let s = start().await;
    let before = s.sim.leaf_sha256();
    let peer_sha = |tls: &tokio_rustls::client::TlsStream<TcpStream>| {
        simulator::tls::sha256_hex(tls.get_ref().1.peer_certificates().unwrap()[0].as_ref())
    };
    assert_eq!(
        peer_sha(
            &tls_connect(s.sim.https_addr(), s.sim.ca_pem())
                .await
                .unwrap()
        ),
        before
    );
    let after = s.sim.rotate_certificate().unwrap();
    assert_ne!(before, after);
    assert_eq!(
        peer_sha(
            &tls_connect(s.sim.https_addr(), s.sim.ca_pem())
                .await
                .unwrap()
        ),
        after,
        "still trusted by the same CA"
    );
}

#[tokio::test]
async fn firing_modes_times_after_and_matchers() {
    let s = start().await;
    s.sim
        .add_fault(
            FaultRule::always(status(500, "x"))
                .path("/rest/system/identity")
                .after(2)
                .times(2),
        )
        .unwrap();
    let mut seen = Vec::new();
    for _ in 0..6 {
        seen.push(s.get("/rest/system/identity").await.status);
    }
    assert_eq!(seen, [200, 200, 500, 500, 200, 200]);
    s.sim.clear_faults();
    // User and listener matchers.
    s.sim
        .add_fault(FaultRule::always(status(500, "u")).user("nobody"))
        .unwrap();
    s.sim
        .add_fault(FaultRule::always(status(503, "www")).listener(Listener::Www))
        .unwrap();
    assert_eq!(s.get("/rest/system/identity").await.status, 200);
    assert_eq!(
        s.call_as(Some(("nobody", "x")), "GET", "/rest/system/identity", None)
            .await
            .status,
        500
    );
    let http = support::raw_http(
        s.sim.http_addr().unwrap(),
        &raw_request("GET", "/rest/system/identity", &[], b""),
    )
    .await
    .unwrap();
    assert_eq!(http.status, 503);
}

async fn probability_run(seed: u64) -> Vec<u16> {
    let s = start().await;
    s.sim
        .add_fault(
            FaultRule::always(status(500, "p"))
                .path("/rest/*")
                .probability(0.3, seed),
        )
        .unwrap();
    let mut out = Vec::new();
    for _ in 0..60 {
        out.push(s.get("/rest/system/identity").await.status);
    }
    out
}

#[tokio::test]
async fn seeded_probability_is_reproducible_over_http() {
    let a = probability_run(42).await;
    assert_eq!(a, probability_run(42).await, "same seed, same sequence");
    assert_ne!(a, probability_run(43).await);
    let failures = a.iter().filter(|s| **s == 500).count();
    assert!((5..=35).contains(&failures), "about 30% of 60: {failures}");
}

#[tokio::test]
async fn control_api_works_while_every_fault_is_active() {
    let s = start().await;
    let actions = [
        Action::Refuse,
        Action::TlsExpired,
        Action::Stall,
        Action::Reset,
        status(500, "all"),
        Action::Delay {
            ms: 10_000,
            max_ms: None,
        },
        Action::CloseAfterHeaders,
        Action::Dribble {
            bytes: 1,
            interval_ms: 1000,
        },
    ];
    for a in actions {
        s.sim.add_fault(FaultRule::always(a)).unwrap();
    }
    until_refused(s.sim.https_addr()).await;
    let control = s.sim.control_url().unwrap();
    let http = support::https_client(s.sim.ca_pem());
    for path in [
        "/health", "/faults", "/journal", "/clock", "/state", "/tls", "/limits",
    ] {
        let r = http.get(format!("{control}{path}")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
    }
    let r = http
        .delete(format!("{control}/faults"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    until_listening(s.sim.https_addr()).await;
    assert_eq!(s.get("/rest/system/identity").await.status, 200);
}

#[tokio::test]
async fn journal_records_and_filters_every_request() {
    let s = start().await;
    let mark = s.sim.journal_mark();
    s.put(V4, json!({"list": "l", "address": "10.0.0.1"})).await;
    s.get(V4).await;
    s.call_as(
        Some(("admin", "wrong")),
        "GET",
        "/rest/system/resource",
        None,
    )
    .await;
    let _g = s
        .sim
        .fault(FaultRule::always(status(500, "f")).method("DELETE"))
        .unwrap();
    s.call("DELETE", &format!("{V4}/*1"), None).await;
    let q = |f: JournalFilter| {
        s.sim
            .journal(&JournalFilter {
                since: Some(mark),
                ..f
            })
            .entries
    };
    let all = q(JournalFilter::default());
    let summary: Vec<(String, String, u16, Option<String>)> = all
        .iter()
        .map(|e| {
            (
                e.method.clone().unwrap(),
                e.path.clone().unwrap(),
                e.status.unwrap(),
                e.user.clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("PUT".into(), V4.into(), 201, Some("admin".into())),
            ("GET".into(), V4.into(), 200, Some("admin".into())),
            (
                "GET".into(),
                "/rest/system/resource".into(),
                401,
                Some("admin".into())
            ),
            (
                "DELETE".into(),
                format!("{V4}/*1"),
                500,
                Some("admin".into())
            ),
        ]
    );
    assert!(
        all.iter()
            .all(|e| e.client.ip().is_loopback() && e.listener == Listener::WwwSsl)
    );
    assert!(
        all[3]
            .fault
            .as_deref()
            .unwrap()
            .starts_with("status (rule ")
    );
    assert_eq!(
        q(JournalFilter {
            method: Some("get".into()),
            ..Default::default()
        })
        .len(),
        2
    );
    assert_eq!(
        q(JournalFilter {
            status: Some(401),
            ..Default::default()
        })
        .len(),
        1
    );
    assert_eq!(
        q(JournalFilter {
            path: Some("*address-list*".into()),
            ..Default::default()
        })
        .len(),
        3
    );
    assert_eq!(
        q(JournalFilter {
            user: Some("nobody".into()),
            ..Default::default()
        })
        .len(),
        0
    );
    s.sim.clear_journal();
    assert!(q(JournalFilter::default()).is_empty());
}

#[tokio::test]
async fn a_user_supplied_certificate_is_served_instead_of_the_generated_one() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let own =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, own.cert.pem()).unwrap();
    std::fs::write(&key, own.signing_key.serialize_pem()).unwrap();
    let identity = simulator::Identity::from_files(&cert, &key).unwrap();
    let sim = simulator::Simulator::builder()
        .certificate(identity)
        .start()
        .await
        .unwrap();
    // Trusting the user's certificate works; trusting the simulator's own CA does not.
    let tls = tls_connect(sim.https_addr(), &own.cert.pem())
        .await
        .expect("the user's certificate is served");
    assert_eq!(
        tls.get_ref().1.peer_certificates().unwrap()[0].as_ref(),
        own.cert.der().as_ref()
    );
    assert!(tls_connect(sim.https_addr(), sim.ca_pem()).await.is_err());
    // Unusable files are refused with the file named.
    std::fs::write(&key, "not a key").unwrap();
    let err = simulator::Identity::from_files(&cert, &key)
        .unwrap_err()
        .to_string();
    assert!(err.contains("key.pem"), "{err}");
}

/// Sends `requests` on one keep-alive TLS connection and returns each complete reply, stopping at
/// the first that does not arrive whole; also returns how many reads each one took.
async fn keep_alive(
    sim: &simulator::Simulator,
    requests: &[&[u8]],
) -> Vec<(support::RawReply, usize)> {
    let mut tls = tls_connect(sim.https_addr(), sim.ca_pem()).await.unwrap();
    let mut out = Vec::new();
    for req in requests {
        if tls.write_all(req).await.is_err() {
            break;
        }
        let mut buf = Vec::new();
        let mut reads = 0;
        let mut chunk = [0u8; 4096];
        let reply = loop {
            if let Some(r) = support::parse_reply(&buf) {
                let len: usize = r
                    .header("content-length")
                    .and_then(|l| l.parse().ok())
                    .unwrap_or(0);
                if r.body.len() >= len {
                    break Some(r);
                }
            }
            match tokio::time::timeout(BOUND, tls.read(&mut chunk))
                .await
                .expect("no stall")
            {
                Ok(0) | Err(_) => break None,
                Ok(n) => {
                    reads += 1;
                    buf.extend_from_slice(&chunk[..n]);
                }
            }
        };
        match reply {
            Some(r) => out.push((r, reads)),
            None => break,
        }
    }
    out
}

fn keep_alive_get(path: &str) -> Vec<u8> {
    format!(
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: {}\r\n\r\n",
        support::basic("admin", "admin")
    )
    .into_bytes()
}

#[tokio::test]
async fn a_one_time_dribble_does_not_slow_the_next_response_on_the_connection() {
    let s = start().await;
    let _g = s
        .sim
        .fault(
            FaultRule::always(Action::Dribble {
                bytes: 8,
                interval_ms: 2,
            })
            .path("/rest/system/resource")
            .times(1),
        )
        .unwrap();
    let (a, b) = (
        keep_alive_get("/rest/system/resource"),
        keep_alive_get("/rest/system/resource"),
    );
    let replies = keep_alive(&s.sim, &[&a, &b]).await;
    assert_eq!(replies.len(), 2, "both answered on one connection");
    assert!(
        replies[0].1 >= 10,
        "the first was dribbled ({} reads)",
        replies[0].1
    );
    assert!(
        replies[1].1 <= 3,
        "the second came normally ({} reads)",
        replies[1].1
    );
    let platform = |r: &support::RawReply| {
        serde_json::from_slice::<Value>(&r.body).unwrap()["platform"].clone()
    };
    assert_eq!(
        (platform(&replies[0].0), platform(&replies[1].0)),
        (json!("MikroTik"), json!("MikroTik"))
    );
}

#[tokio::test]
async fn a_close_fault_ends_the_connection_after_its_own_response() {
    let s = start().await;
    // More bytes allowed than the body has: the reply is whole, then the connection closes, and the
    // next request on it is not cut short by a leftover allowance.
    let g = s
        .sim
        .fault(
            FaultRule::always(Action::CloseAfterBytes { bytes: 300 })
                .path("/rest/system/identity")
                .times(1),
        )
        .unwrap();
    let (a, b) = (
        keep_alive_get("/rest/system/identity"),
        keep_alive_get("/rest/system/resource"),
    );
    let replies = keep_alive(&s.sim, &[&a, &b]).await;
    assert_eq!(
        replies.len(),
        1,
        "the connection closed after the faulted response"
    );
    assert_eq!(replies[0].0.text(), r#"{"name":"MikroTik"}"#);
    drop(g);
    // A 204 with close-after-headers: the whole (empty) reply, then the close.
    let id = s.put(V4, json!({"list": "l", "address": "10.0.0.1"})).await;
    let _g = s
        .sim
        .fault(
            FaultRule::always(Action::CloseAfterHeaders)
                .method("DELETE")
                .times(1),
        )
        .unwrap();
    let delete = format!(
        "DELETE {V4}/{id} HTTP/1.1\r\nHost: localhost\r\nAuthorization: {}\r\n\r\n",
        support::basic("admin", "admin")
    );
    let replies = keep_alive(
        &s.sim,
        &[delete.as_bytes(), &keep_alive_get("/rest/system/identity")],
    )
    .await;
    assert_eq!(
        replies.iter().map(|(r, _)| r.status).collect::<Vec<_>>(),
        [204]
    );
    // New connections are untouched.
    let replies = keep_alive(
        &s.sim,
        &[
            &keep_alive_get("/rest/system/identity"),
            &keep_alive_get("/rest/system/identity"),
        ],
    )
    .await;
    assert_eq!(replies.len(), 2);
}

/// Silent clients cannot hold the service's sessions: a connection that never completes its TLS
/// handshake is closed after the handshake limit and its slot is free again; a keep-alive connection
/// left idle after a request is closed too.
#[tokio::test(start_paused = true)]
async fn silent_and_idle_clients_are_dropped_and_free_their_sessions() {
    let sim = simulator::Simulator::builder().start().await.unwrap();
    sim.with_router(|r| {
        let id = r.services.get(Listener::WwwSsl).unwrap().id;
        r.services
            .set(
                id,
                &simulator::Args::from_pairs([("max-sessions", "1")]),
                "address",
            )
            .unwrap();
    });
    let mut silent = TcpStream::connect(sim.https_addr()).await.unwrap();
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(Duration::from_secs(60), silent.read(&mut buf))
        .await
        .expect("closed by the server");
    assert!(
        matches!(n, Ok(0) | Err(_)),
        "the silent connection was closed: {n:?}"
    );
    let tls = tokio::time::timeout(
        Duration::from_secs(60),
        tls_connect(sim.https_addr(), sim.ca_pem()),
    )
    .await
    .unwrap();
    let mut tls = tls.expect("its session slot is free again");
    tls.write_all(&keep_alive_get("/rest/system/identity"))
        .await
        .unwrap();
    let mut reply = [0u8; 1024];
    assert!(tls.read(&mut reply).await.unwrap() > 0, "answered");
    let n = tokio::time::timeout(Duration::from_secs(120), tls.read(&mut reply))
        .await
        .expect("closed by the server");
    assert!(
        matches!(n, Ok(0) | Err(_)),
        "the idle connection was closed: {n:?}"
    );
}
