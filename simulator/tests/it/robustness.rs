//! "No input makes the server panic or hang": a table of odd requests, each answered in time.
//!
//! Every request goes over a raw TLS socket with `Connection: close`, so a panic in the connection
//! (which would drop it without a reply) or a hang (which would never close it) fails the test. Well
//! formed HTTP requests to `/rest` must get a RouterOS reply: compact JSON with sorted string values,
//! and for errors the envelope with `error` equal to the status. Malformed HTTP only has to be
//! answered or closed in time. After each table the simulator must still serve normally.

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{BOUND, Sim, V4, assert_router_json, raw_request, start};

/// Checks that `method path body` gets a RouterOS reply in time.
async fn check(s: &Sim, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) {
    let started = std::time::Instant::now();
    let r = s.raw_https(&raw_request(method, path, headers, body)).await;
    let label = format!(
        "{method} {} ({} body bytes)",
        &path[..path.len().min(80)],
        body.len()
    );
    assert!(started.elapsed() < BOUND, "{label}: too slow");
    let text = r.text();
    assert!(
        r.status >= 200 && r.status < 600,
        "{label}: status {}",
        r.status
    );
    if r.status == 204 {
        assert!(text.is_empty(), "{label}");
        return;
    }
    assert_router_json(&text);
    if r.status >= 400 {
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["error"], r.status, "{label}: {text}");
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert!(
            keys == ["error", "message"] || keys == ["detail", "error", "message"],
            "{label}: {text}"
        );
    }
}

const JSON: &[(&str, &str)] = &[("Content-Type", "application/json")];

#[tokio::test]
async fn odd_bodies_get_router_replies() {
    let s = start().await;
    let deep_array = "[".repeat(100_000);
    let deep_object = "{\"a\":".repeat(50_000);
    let long_list = format!(
        "{{\"list\":\"{}\",\"address\":\"10.0.0.1\"}}",
        "l".repeat(1_000_000)
    );
    let padded = format!(
        "{}{{\"list\":\"p\",\"address\":\"10.0.0.2\"}}",
        " ".repeat(2_000_000)
    );
    let many_keys = format!(
        "{{{}}}",
        (0..20_000)
            .map(|i| format!("\"k{i}\":\"v\""))
            .collect::<Vec<_>>()
            .join(",")
    );
    let long_query = format!("{{\".query\":[\"list=a\"{}]}}", ",\"#!\"".repeat(10_000));
    let bodies: Vec<&[u8]> = vec![
        deep_array.as_bytes(),
        deep_object.as_bytes(),
        long_list.as_bytes(),
        padded.as_bytes(),
        many_keys.as_bytes(),
        b"[]",
        b"[{\"list\":\"a\",\"address\":\"10.0.0.3\"}]",
        b"\"a string\"",
        b"42",
        b"null",
        b"true",
        b"{\"list\":{\"a\":{\"b\":[1,2,{\"c\":null}]}},\"address\":\"10.0.0.4\"}",
        b"{\"list\":\"\xff\xfe\",\"address\":\"10.0.0.5\"}",
        b"\xff\xfe\xfd",
        b"{\"list\":\"a\\u0000b\",\"address\":\"10.0.0.6\"}",
        b"{\"list\":\"\\ud800\",\"address\":\"10.0.0.7\"}",
        b"{\"list\":\"a\",\"list\":\"b\",\"address\":\"10.0.0.8\"}",
        b"{\"list\":\"a\",\"address\":\"10.0.0.9\",\"timeout\":1e400}",
        b"{\"list\":\"a\",\"address\":\"10.0.0.10\",\"timeout\":18446744073709551615}",
        b"{\"list\":\"a\",\"address\":\"10.0.0.11\",\"timeout\":-1}",
        b"{\"list\":\"a\",\"address\":\"10.0.0.12\",\"timeout\":\"99999999999999999999w\"}",
        b"{\"list\":\"a\",\"address\":\"\"}",
        b"{\"list\":\"a\",\"address\":\"\\u00e9xample.com\"}",
        b"{\"\":\"\"}",
        b"{\".id\":\"*1\",\"list\":\"a\",\"address\":\"10.0.0.13\"}",
        b"{}",
    ];
    for body in &bodies {
        check(&s, "PUT", V4, JSON, body).await;
        check(&s, "POST", "/rest/ip/firewall/address-list/add", JSON, body).await;
        check(&s, "PATCH", "/rest/ip/firewall/address-list/*1", JSON, body).await;
    }
    for body in [
        long_query.as_bytes(),
        b"{\".query\":[\"#|\"]}",
        b"{\".query\":[\"\"]}",
        b"{\".query\":[{\"x\":1}]}",
        b"{\".query\":\"list=a\"}",
        b"{\".query\":[\"list=a\",\"#9\"]}",
        b"{\".proplist\":[[[]]]}",
        b"{\".proplist\":\"\"}",
        b"{\"count-only\":{\"a\":1}}",
        b"{\"nosuch\":\"\"}",
    ] {
        check(
            &s,
            "POST",
            "/rest/ip/firewall/address-list/print",
            JSON,
            body,
        )
        .await;
    }
    for body in [
        &b"{\".id\":\"*FFFFFFFF\"}"[..],
        b"{\"numbers\":\",,,\"}",
        b"{\"numbers\":\"*1,*\"}",
        b"{\".id\":\"\"}",
        b"{\"numbers\":[\"*1\"]}",
    ] {
        check(
            &s,
            "POST",
            "/rest/ip/firewall/address-list/remove",
            JSON,
            body,
        )
        .await;
        check(&s, "POST", "/rest/ip/firewall/address-list/set", JSON, body).await;
    }
    assert_eq!(s.get("/rest/system/identity").await.status, 200);
}

#[tokio::test]
async fn odd_paths_and_headers_get_router_replies() {
    let s = start().await;
    let long_path = format!("/rest/{}", "a/".repeat(3000));
    let long_name = format!("/rest/user/{}", "u".repeat(10_000));
    let paths = [
        "/rest",
        "/rest/",
        "/rest//ip//firewall//address-list",
        "/rest/../rest/system/identity",
        "/rest/./system/identity",
        "/rest/ip/firewall/address-list/*",
        "/rest/ip/firewall/address-list/**1",
        "/rest/ip/firewall/address-list/*FFFFFFFFF",
        "/rest/ip/firewall/address-list/*FFFFFFFF",
        "/rest/ip/firewall/address-list/*-1",
        "/rest/ip/firewall/address-list?%ZZ=1&=&&.proplist=",
        "/rest/ip/firewall/address-list?.proplist=,,,",
        "/rest/ip/firewall/address-list?.query=list%3Da",
        "/rest/ip/firewall/address-list?list=%FF",
        "/rest/ip/firewall/address-list/%00",
        "/rest/%E2%82%AC",
        "/rest/user/admin/extra",
        "/rest/system/resource/print",
        "/rest/system/identity/*1",
        &long_path,
        &long_name,
    ];
    for path in paths {
        for method in ["GET", "DELETE", "POST", "PATCH", "PUT"] {
            let body: &[u8] = if method == "GET" || method == "DELETE" {
                b""
            } else {
                b"{}"
            };
            check(&s, method, path, JSON, body).await;
        }
    }
    let headers: &[&[(&str, &str)]] = &[
        &[("Authorization", "Basic //79/Q==")],
        &[("Content-Type", "application/json; charset=latin1")],
        &[("Content-Type", "")],
        &[("Accept", "text/html")],
        &[("Connection", "keep-alive, close")],
        &[("Host", "")],
    ];
    for h in headers {
        check(&s, "GET", V4, h, b"").await;
        check(
            &s,
            "PUT",
            V4,
            h,
            b"{\"list\":\"h\",\"address\":\"10.0.0.1\"}",
        )
        .await;
    }
    assert_eq!(s.get("/rest/system/identity").await.status, 200);
}

/// Sends raw bytes over TLS, optionally closes the write side, and waits until the server answers
/// or closes; returns the bytes received.
async fn raw_bytes(s: &Sim, bytes: &[u8], half_close: bool) -> Vec<u8> {
    let mut tls = crate::support::tls_connect(s.sim.https_addr(), s.sim.ca_pem())
        .await
        .expect("TLS works");
    tls.write_all(bytes).await.expect("write");
    if half_close {
        tls.shutdown().await.expect("shutdown");
    }
    let mut buf = Vec::new();
    let read = tokio::time::timeout(BOUND, tls.read_to_end(&mut buf)).await;
    assert!(
        read.is_ok(),
        "no answer and no close within the bound for {:?}",
        String::from_utf8_lossy(&bytes[..bytes.len().min(60)])
    );
    buf
}

#[tokio::test]
async fn malformed_http_is_answered_or_closed_in_time() {
    let s = start().await;
    let huge_header = format!(
        "GET /rest/system/identity HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
        "b".repeat(200_000)
    );
    let cases: Vec<(Vec<u8>, bool)> = vec![
        (b"GARBAGE\r\n\r\n".to_vec(), false),
        (b"GET /rest/\xff\xfe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(), false),
        (b"GET /rest/system/identity HTTP/9.9\r\nHost: x\r\n\r\n".to_vec(), false),
        (b"GET /rest/system/identity HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n".to_vec(), false),
        (b"GET /rest/system/identity HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n".to_vec(), true),
        (huge_header.into_bytes(), false),
        // The body is shorter than announced and the client gives up writing.
        (b"PUT /rest/ip/firewall/address-list HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{}".to_vec(), true),
        // Only part of a request line.
        (b"GET /rest/sys".to_vec(), true),
        (Vec::new(), true),
    ];
    for (bytes, half_close) in cases {
        let got = raw_bytes(&s, &bytes, half_close).await;
        if let Some(r) = crate::support::parse_reply(&got) {
            assert!(
                (400..600).contains(&r.status),
                "{}: {:?}",
                r.status,
                String::from_utf8_lossy(&got)
            );
        }
    }
    // A chunked body is fine when well formed.
    let body = b"{\"list\":\"c\",\"address\":\"10.0.0.1\"}";
    let chunked = format!(
        "PUT {V4} HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{}\r\n0\r\n\r\n",
        crate::support::basic("admin", "admin"),
        body.len(),
        std::str::from_utf8(body).unwrap()
    );
    let r = crate::support::parse_reply(&raw_bytes(&s, chunked.as_bytes(), false).await)
        .expect("a reply");
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(s.get("/rest/system/identity").await.status, 200);
}

#[tokio::test]
async fn many_connections_at_once_are_all_answered() {
    let s = start().await;
    let calls = (0..16).map(|i| {
        let s = &s;
        async move {
            let body = serde_json::json!({"list":"many","address": format!("10.1.0.{i}")});
            s.call("PUT", V4, Some(body)).await.status
        }
    });
    let all = tokio::time::timeout(Duration::from_secs(30), crate::support::join_all(calls))
        .await
        .expect("all answered in time");
    assert!(all.iter().all(|st| *st == 201), "{all:?}");
    assert_eq!(s.rows(V4).await.len(), 16);
}
