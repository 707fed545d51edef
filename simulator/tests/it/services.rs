//! `/ip/service` changes acting on the listeners (ROUTEROS-REST.md section 1).
//!
//! A client changes `www-ssl` through REST exactly as on a real router and then watches the socket:
//! a disabled service refuses connections; an allowed-address list without the client accepts TCP
//! and then resets it without a byte of reply; `certificate=none` fails the TLS handshake with a
//! `handshake_failure` alert; a new port moves the listener; and plain `www` serves REST from 7.9.
//! Each test repairs the service afterwards through the other listener, which proves the change was
//! the service's and not a dead simulator.

use std::net::SocketAddr;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{
    ADMIN, BOUND, Reply, Sim, call_on, https_client, start, start_with, until_listening,
    until_refused,
};
use simulator::{Simulator, Version};

/// What happened to a TCP connection after it was accepted.
#[derive(Debug, PartialEq, Eq)]
enum Fate {
    /// Reset by the server, no byte received.
    Reset,
    /// Closed in order without a reply.
    Closed,
    /// The server sent something.
    Answered,
}

/// Connects (TCP must be accepted), sends the start of a TLS handshake and sees what comes back.
async fn fate(addr: SocketAddr) -> Fate {
    let mut tcp = TcpStream::connect(addr).await.expect("TCP is accepted");
    // A TLS record header and a few bytes: enough for a server to answer or complain.
    if let Err(e) = tcp
        .write_all(&[0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00])
        .await
    {
        assert!(
            matches!(
                e.kind(),
                std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
            ),
            "{e}"
        );
        return Fate::Reset;
    }
    let mut buf = [0u8; 256];
    match tokio::time::timeout(BOUND, tcp.read(&mut buf))
        .await
        .expect("the server acts within the bound")
    {
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => Fate::Reset,
        Err(e) => panic!("unexpected error {e}"),
        Ok(0) => Fate::Closed,
        Ok(_) => Fate::Answered,
    }
}

/// Changes a service over plain `www` (used to repair `www-ssl`).
async fn patch_over_www(s: &Sim, service: &str, body: Value) -> Reply {
    let url = format!(
        "{}/rest/ip/service/{service}",
        s.sim.http_url().expect("a www listener")
    );
    call_on(
        &https_client(s.sim.ca_pem()),
        Some(ADMIN),
        "PATCH",
        &url,
        Some(body),
    )
    .await
}

/// A GET of the identity over HTTPS with a new client (no pooled connection).
async fn https_works(s: &Sim, addr: SocketAddr) -> bool {
    let url = format!("https://{addr}/rest/system/identity");
    match https_client(s.sim.ca_pem())
        .get(&url)
        .header("authorization", crate::support::basic("admin", "admin"))
        .send()
        .await
    {
        Ok(r) => {
            r.status() == 200 && r.text().await.unwrap_or_default() == r#"{"name":"MikroTik"}"#
        }
        Err(_) => false,
    }
}

#[tokio::test]
async fn disabling_www_ssl_refuses_connections() {
    let s = start().await;
    let addr = s.sim.https_addr();
    assert!(https_works(&s, addr).await);
    let r = s
        .call(
            "PATCH",
            "/rest/ip/service/*6",
            Some(json!({"disabled":"true"})),
        )
        .await;
    assert_eq!(
        (r.status, r.json()["disabled"].as_str()),
        (200, Some("true")),
        "{}",
        r.text
    );
    until_refused(addr).await;
    let r = patch_over_www(&s, "www-ssl", json!({"disabled":"false"})).await;
    assert_eq!(r.json()["disabled"], "false");
    until_listening(addr).await;
    assert!(https_works(&s, addr).await);
}

#[tokio::test]
async fn disabling_www_refuses_plain_http() {
    let s = start().await;
    let addr = s.sim.http_addr().unwrap();
    let r = s
        .call(
            "PATCH",
            "/rest/ip/service/www",
            Some(json!({"disabled":true})),
        )
        .await;
    assert_eq!(r.json()["disabled"], "true");
    until_refused(addr).await;
    s.call(
        "PATCH",
        "/rest/ip/service/www",
        Some(json!({"disabled":false})),
    )
    .await;
    until_listening(addr).await;
    let r = call_on(
        &https_client(s.sim.ca_pem()),
        Some(ADMIN),
        "GET",
        &format!("http://{addr}/rest/system/identity"),
        None,
    )
    .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn a_client_outside_the_allowed_addresses_is_reset_without_a_response() {
    let s = start().await;
    let addr = s.sim.https_addr();
    assert_eq!(
        fate(addr).await,
        Fate::Answered,
        "a TLS server answers a bad ClientHello with an alert"
    );
    let r = s
        .call(
            "PATCH",
            "/rest/ip/service/www-ssl",
            Some(json!({"address":"192.0.2.0/24"})),
        )
        .await;
    assert_eq!(
        (r.status, r.json()["address"].as_str()),
        (200, Some("192.0.2.0/24")),
        "{}",
        r.text
    );
    assert_eq!(fate(addr).await, Fate::Reset);
    assert!(
        crate::support::tls_connect(addr, s.sim.ca_pem())
            .await
            .is_err()
    );
    // An allowed-address list that includes the client lets it in again.
    patch_over_www(&s, "www-ssl", json!({"address":"192.0.2.0/24,127.0.0.0/8"})).await;
    assert!(https_works(&s, addr).await);
    patch_over_www(&s, "www-ssl", json!({"address":"10.0.0.1"})).await;
    assert_eq!(fate(addr).await, Fate::Reset);
    patch_over_www(&s, "www-ssl", json!({"address":""})).await;
    assert!(https_works(&s, addr).await);
    // The plain service follows its own row.
    let www = s.sim.http_addr().unwrap();
    s.call(
        "PATCH",
        "/rest/ip/service/www",
        Some(json!({"address":"192.0.2.1"})),
    )
    .await;
    assert_eq!(fate(www).await, Fate::Reset);
}

#[tokio::test]
async fn certificate_none_fails_the_handshake_with_a_handshake_failure_alert() {
    let s = start().await;
    let addr = s.sim.https_addr();
    let before = s.get("/rest/ip/service/www-ssl").await.json();
    let cert = before["certificate"].as_str().unwrap().to_owned();
    assert_ne!(cert, "none");
    let r = s
        .call(
            "PATCH",
            "/rest/ip/service/*6",
            Some(json!({"certificate":"none"})),
        )
        .await;
    assert_eq!(r.json()["certificate"], "none");
    let err = crate::support::tls_connect(addr, s.sim.ca_pem())
        .await
        .expect_err("the handshake fails");
    let tls = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
        .unwrap_or_else(|| panic!("not a TLS error: {err}"));
    assert_eq!(
        *tls,
        rustls::Error::AlertReceived(rustls::AlertDescription::HandshakeFailure)
    );
    // An unknown certificate name is refused; the assigned one works again.
    let r = patch_over_www(&s, "www-ssl", json!({"certificate":"nosuch"})).await;
    r.assert_error(400, Some("input does not match any value of certificate"));
    patch_over_www(&s, "www-ssl", json!({"certificate": cert})).await;
    assert!(https_works(&s, addr).await);
}

#[tokio::test]
async fn a_new_port_moves_the_listener() {
    let s = start().await;
    let old = s.sim.https_addr();
    let port = crate::support::free_port();
    let r = s
        .call(
            "PATCH",
            "/rest/ip/service/www-ssl",
            Some(json!({"port": port.to_string()})),
        )
        .await;
    assert_eq!(r.json()["port"], port.to_string());
    until_refused(old).await;
    let new = SocketAddr::new(old.ip(), port);
    until_listening(new).await;
    assert!(https_works(&s, new).await);
    // The same for www, through the moved www-ssl.
    let www_old = s.sim.http_addr().unwrap();
    let www_port = crate::support::free_port();
    let url = format!("https://{new}/rest/ip/service/www");
    let r = call_on(
        &https_client(s.sim.ca_pem()),
        Some(ADMIN),
        "PATCH",
        &url,
        Some(json!({"port": www_port})),
    )
    .await;
    assert_eq!(r.json()["port"], www_port.to_string());
    until_refused(www_old).await;
    let www_new = SocketAddr::new(old.ip(), www_port);
    until_listening(www_new).await;
    let r = call_on(
        &https_client(s.sim.ca_pem()),
        Some(ADMIN),
        "GET",
        &format!("http://{www_new}/rest/system/identity"),
        None,
    )
    .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn plain_www_serves_rest_from_7_9_only() {
    for (version, rest_on_www) in [("7.23.7", true), ("7.9", true), ("7.8", false)] {
        let s = start_with(Simulator::builder().version(version.parse::<Version>().unwrap())).await;
        let url = format!("{}/rest/system/identity", s.sim.http_url().unwrap());
        let r = call_on(
            &https_client(s.sim.ca_pem()),
            Some(ADMIN),
            "GET",
            &url,
            None,
        )
        .await;
        if rest_on_www {
            assert_eq!(r.status, 200, "{version}: {}", r.text);
            assert!(r.text.contains("MikroTik"), "{version}: {}", r.text);
        } else {
            assert_ne!(r.status, 200, "{version}");
            assert!(
                serde_json::from_str::<Value>(&r.text).is_err(),
                "{version}: REST answered on www: {}",
                r.text
            );
        }
        // HTTPS serves REST on every version.
        assert_eq!(
            s.get("/rest/system/identity").await.status,
            200,
            "{version}"
        );
    }
}

#[tokio::test]
async fn services_are_found_by_id_and_name_and_refuse_unknown_keys() {
    let s = start().await;
    let by_id = s.get("/rest/ip/service/*6").await.json();
    let by_name = s.get("/rest/ip/service/www-ssl").await.json();
    assert_eq!(by_id, by_name);
    assert_eq!(by_id["name"], "www-ssl");
    assert_eq!(by_id["port"], s.sim.https_addr().port().to_string());
    assert_eq!(
        s.get("/rest/ip/service/www").await.json()["port"],
        s.sim.http_addr().unwrap().port().to_string()
    );
    let cases: &[(&str, Value, &str)] = &[
        ("*0", json!({"comment":"x"}), "unknown parameter comment"),
        (
            "www-ssl",
            json!({"port":"x"}),
            "invalid value for argument port",
        ),
        (
            "www-ssl",
            json!({"tls-version":"only-1.3"}),
            "invalid value for argument tls-version",
        ),
        (
            "www",
            json!({"certificate":"none"}),
            "unknown parameter certificate",
        ),
        (
            "www-ssl",
            json!({"address":"not-an-address"}),
            "invalid value for argument address",
        ),
        (
            "www-ssl",
            json!({"available-from":"10.0.0.0/8"}),
            "unknown parameter available-from",
        ),
    ];
    for (service, body, detail) in cases {
        let r = s
            .call(
                "PATCH",
                &format!("/rest/ip/service/{service}"),
                Some(body.clone()),
            )
            .await;
        r.assert_error(400, Some(detail));
    }
    s.get("/rest/ip/service/nosuch")
        .await
        .assert_error(404, None);
    // Nothing was changed by the refusals, and the listener still serves.
    assert_eq!(s.get("/rest/ip/service/*6").await.json(), by_id);
}

#[tokio::test]
async fn from_7_24_the_allowed_addresses_are_called_available_from() {
    let s = start_with(Simulator::builder().version("7.24rc1".parse::<Version>().unwrap())).await;
    let row = s.get("/rest/ip/service/www-ssl").await.json();
    assert_eq!(row["available-from"], "");
    assert!(row.get("address").is_none(), "{row}");
    let r = s
        .call(
            "PATCH",
            "/rest/ip/service/www-ssl",
            Some(json!({"available-from":"192.0.2.0/24"})),
        )
        .await;
    assert_eq!(r.json()["available-from"], "192.0.2.0/24");
    assert_eq!(fate(s.sim.https_addr()).await, Fate::Reset);
}

/// `max-sessions` caps open connections per service: the next one is reset, and a freed slot is
/// usable again.
#[tokio::test]
async fn max_sessions_caps_open_connections() {
    let s = start().await;
    let r = patch_over_www(&s, "www-ssl", json!({"max-sessions": "2"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let addr = s.sim.https_addr();
    let first = crate::support::tls_connect(addr, s.sim.ca_pem())
        .await
        .expect("one session");
    let _second = crate::support::tls_connect(addr, s.sim.ca_pem())
        .await
        .expect("two sessions");
    assert_eq!(fate(addr).await, Fate::Reset, "a third session is refused");
    drop(first);
    let freed = async {
        while !https_works(&s, addr).await {
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(BOUND, freed)
        .await
        .expect("a freed session can be used again");
}

/// The simulator serves an IPv6 loopback client when bound to `::1` (its certificate names `::1`).
#[tokio::test]
async fn serves_ipv6_loopback() {
    let s = start_with(Simulator::builder().bind("::1".parse().unwrap())).await;
    assert!(
        s.sim.https_url().starts_with("https://[::1]:"),
        "{}",
        s.sim.https_url()
    );
    let r = s.get("/rest/system/identity").await;
    assert_eq!(r.text, r#"{"name":"MikroTik"}"#);
    let page = s.sim.journal(&simulator::JournalFilter::default());
    assert!(
        page.entries
            .iter()
            .all(|e| e.client.ip() == "::1".parse::<std::net::IpAddr>().unwrap())
    );
}

/// From 7.19 a router lists one dynamic `/ip/service` row per open REST connection, the caller's
/// own included (lab contract, CHR 7.23.7): `connection`, `local` (address), `remote` (address and
/// port), no `address`, `max-sessions` or `vrf`; ids from a counter that only grows; gone when the
/// connection closes. 7.18 lists none.
#[tokio::test]
async fn open_connections_are_dynamic_service_rows_from_7_19() {
    let s = start().await;
    let https = s.sim.https_addr();
    // A connection that sends nothing: listed from the moment it is accepted.
    let idle = TcpStream::connect(https).await.unwrap();
    let idle_addr = idle.local_addr().unwrap();
    let rows = s.rows("/rest/ip/service?dynamic=true").await;
    let mine = rows
        .iter()
        .find(|r| r["remote"] == idle_addr.to_string())
        .unwrap_or_else(|| panic!("no row for {idle_addr}: {rows:?}"));
    let keys: Vec<&str> = mine
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            ".id",
            "connection",
            "disabled",
            "dynamic",
            "invalid",
            "local",
            "name",
            "port",
            "proto",
            "remote"
        ]
    );
    assert_eq!(mine["name"], "www-ssl");
    assert_eq!(mine["port"], https.port().to_string());
    assert_eq!(mine["local"], https.ip().to_string());
    assert_eq!(mine["connection"], "true");
    // The caller's own connection is there too, and static rows stay apart.
    assert!(rows.len() >= 2, "{rows:?}");
    assert!(
        s.rows("/rest/ip/service?dynamic=false")
            .await
            .iter()
            .all(|r| r.get("connection").is_none())
    );
    // The row is not writable, and a name still finds the static service.
    let id = mine[".id"].as_str().unwrap().to_owned();
    s.call(
        "PATCH",
        &format!("/rest/ip/service/{id}"),
        Some(json!({"disabled": "yes"})),
    )
    .await
    .assert_error(404, None);
    assert_eq!(
        s.get("/rest/ip/service/www-ssl").await.json()["dynamic"],
        "false"
    );
    // A new connection gets a higher id; a closed one leaves (polled in bounded steps: the server
    // sees the close on its own task).
    let later = TcpStream::connect(https).await.unwrap();
    let later_addr = later.local_addr().unwrap();
    let id_of = |rows: &[Value], addr: SocketAddr| {
        rows.iter()
            .find(|r| r["remote"] == addr.to_string())
            .map(|r| u32::from_str_radix(&r[".id"].as_str().unwrap()[1..], 16).unwrap())
    };
    let rows = s.rows("/rest/ip/service?dynamic=true").await;
    assert!(id_of(&rows, later_addr) > id_of(&rows, idle_addr));
    drop(idle);
    let mut gone = false;
    for _ in 0..200 {
        let rows = s.rows("/rest/ip/service?dynamic=true").await;
        if id_of(&rows, idle_addr).is_none() {
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(gone, "the closed connection's row stays");
    drop(later);
    // 7.18 has no connection rows, and its rows no `dynamic` key.
    let old = start_with(Simulator::builder().version("7.18.2".parse::<Version>().unwrap())).await;
    let _open = TcpStream::connect(old.sim.https_addr()).await.unwrap();
    let rows = old.rows("/rest/ip/service").await;
    assert!(
        rows.iter()
            .all(|r| r.get("connection").is_none() && r.get("remote").is_none())
    );
    assert_eq!(rows.len(), 8, "{rows:?}");
}
