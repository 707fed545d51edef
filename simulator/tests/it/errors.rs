//! The error replies of ROUTEROS-REST.md section 5 that do not depend on users: unknown paths,
//! commands used as resources, bad JSON, wrong content types, HEAD and OPTIONS.
//!
//! Each case is one row: request in, exact status and body out. Rules that do not depend on the
//! connection are checked through the REST handler directly ([`Sim::oneshot`]); HEAD and OPTIONS go
//! over real sockets, because they are about what reaches the wire.
//!
//! [`Sim::oneshot`]: crate::support::Sim::oneshot

use serde_json::json;

use crate::support::{V4, envelope, raw_request, start};

/// One row of a request/reply table: method, path, body, status, detail.
type Case = (
    &'static str,
    &'static str,
    Option<serde_json::Value>,
    u16,
    Option<&'static str>,
);

#[tokio::test]
async fn unknown_paths_and_misused_commands() {
    let s = start().await;
    s.put(V4, json!({"list":"a","address":"10.0.0.1"})).await;
    let cases: &[Case] = &[
        (
            "GET",
            "/rest/nonexistent/path",
            None,
            400,
            Some("no such command or directory (nonexistent)"),
        ),
        (
            "GET",
            "/rest/interface",
            None,
            400,
            Some("no such command or directory (interface)"),
        ),
        (
            "GET",
            "/rest/ip/firewall/address-lists",
            None,
            400,
            Some("no such command or directory (address-lists)"),
        ),
        (
            "GET",
            "/rest/ip/nosuch/address-list",
            None,
            400,
            Some("no such command or directory (nosuch)"),
        ),
        (
            "GET",
            "/rest/ip/firewall/address-list/*1/extra",
            None,
            400,
            Some("no such command or directory (extra)"),
        ),
        (
            "GET",
            "/rest/ip/firewall/address-list/print",
            None,
            400,
            Some("no such command"),
        ),
        (
            "GET",
            "/rest/ip/firewall/address-list/add",
            None,
            400,
            Some("no such command"),
        ),
        (
            "GET",
            "/rest/system/identity/set",
            None,
            400,
            Some("no such command"),
        ),
        (
            "POST",
            "/rest/ip/firewall/address-list",
            Some(json!({})),
            400,
            Some("no such command"),
        ),
        (
            "POST",
            "/rest/user",
            Some(json!({})),
            400,
            Some("no such command"),
        ),
        (
            "PUT",
            "/rest/ip/firewall/address-list/*1",
            Some(json!({"comment":"x"})),
            400,
            Some("no such command"),
        ),
        (
            "DELETE",
            "/rest/ip/firewall/address-list",
            None,
            400,
            Some("no such command"),
        ),
        // A PATCH needs an id in the URL (laravel-mikrotik notes, 7.10.2; FreeSDN, CHR 7.21.3).
        (
            "PATCH",
            "/rest/ip/firewall/address-list",
            Some(json!({"comment":"x"})),
            400,
            Some("missing or invalid resource identifier"),
        ),
        // A command the menu lacks is named like an unknown path word, with 400 (fixtures/README.md).
        (
            "POST",
            "/rest/user/group/disable",
            Some(json!({"numbers":"*1"})),
            400,
            Some("no such command or directory (disable)"),
        ),
        (
            "POST",
            "/rest/user/group/expire-password",
            Some(json!({})),
            400,
            Some("no such command or directory (expire-password)"),
        ),
        (
            "POST",
            "/rest/ip/firewall/address-list/move",
            Some(json!({})),
            400,
            Some("no such command or directory (move)"),
        ),
        // A word where an id is wanted, on a menu whose items have no name.
        (
            "GET",
            "/rest/ip/firewall/address-list/blocked",
            None,
            400,
            Some("no such command prefix"),
        ),
        (
            "GET",
            "/rest/ip/firewall/address-list/%2A1",
            None,
            400,
            Some("no such command prefix"),
        ),
        ("GET", "/rest/ip/firewall/address-list/*99", None, 404, None),
        (
            "DELETE",
            "/rest/ip/firewall/address-list/*99",
            None,
            404,
            None,
        ),
    ];
    for (method, path, body, status, detail) in cases {
        let r = s.oneshot(method, path, body.clone()).await;
        assert_eq!(
            (r.status, r.text.clone()),
            (*status, envelope(*status, *detail)),
            "{method} {path}"
        );
    }
}

/// Sends `body` with the given content type (or none) as admin and returns status and body.
async fn send_body(
    s: &crate::support::Sim,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: &'static str,
) -> (u16, String) {
    let r = s
        .oneshot_raw(
            Some(crate::support::ADMIN),
            method,
            path,
            content_type,
            body.as_bytes(),
        )
        .await;
    (r.status, r.text)
}

#[tokio::test]
async fn bodies_that_are_not_json_objects_or_not_declared_as_json() {
    let s = start().await;
    let json_ct = Some("application/json");
    let parse = envelope(400, Some("Failed to parse json"));
    let unsupported = envelope(415, None);
    let cases: &[(&str, &str, Option<&str>, &'static str, &str)] = &[
        ("PUT", V4, json_ct, "{\"list\":", &parse),
        ("PUT", V4, json_ct, "not json", &parse),
        ("PUT", V4, json_ct, "{'list':'a'}", &parse),
        ("PUT", V4, json_ct, "{\"list\":\"a\",}", &parse),
        // A number with an exponent (MikroTik manual, REST API troubleshooting).
        (
            "PUT",
            V4,
            json_ct,
            "{\"list\":\"a\",\"address\":\"10.0.0.1\",\"timeout\":1e3}",
            &parse,
        ),
        (
            "POST",
            "/rest/ip/firewall/address-list/add",
            json_ct,
            "{\"list\"",
            &parse,
        ),
        (
            "POST",
            "/rest/ip/firewall/address-list/print",
            json_ct,
            "[",
            &parse,
        ),
        (
            "PUT",
            V4,
            Some("text/plain"),
            "{\"list\":\"a\",\"address\":\"10.0.0.1\"}",
            &unsupported,
        ),
        (
            "PUT",
            V4,
            Some("application/x-www-form-urlencoded"),
            "list=a&address=10.0.0.1",
            &unsupported,
        ),
        (
            "POST",
            "/rest/ip/firewall/address-list/add",
            Some("text/json"),
            "{\"list\":\"a\",\"address\":\"10.0.0.1\"}",
            &unsupported,
        ),
        (
            "PUT",
            V4,
            None,
            "{\"list\":\"a\",\"address\":\"10.0.0.1\"}",
            &unsupported,
        ),
    ];
    for (method, path, ct, body, expected) in cases {
        let got = send_body(&s, method, path, *ct, body).await;
        assert_eq!(
            got,
            (
                if expected.contains("415") { 415 } else { 400 },
                expected.to_string()
            ),
            "{method} {path} {ct:?} {body}"
        );
    }
    // A charset parameter is still JSON.
    let (status, _) = send_body(
        &s,
        "PUT",
        V4,
        Some("application/json; charset=utf-8"),
        "{\"list\":\"a\",\"address\":\"10.0.0.1\"}",
    )
    .await;
    assert_eq!(status, 201);
    // Nothing refused was stored.
    assert_eq!(s.rows(V4).await.len(), 1);
}

#[tokio::test]
async fn head_is_501_and_options_is_503_without_cors() {
    let s = start().await;
    for path in ["/rest/system/identity", V4, "/rest/nosuch"] {
        let r = s.raw_https(&raw_request("HEAD", path, &[], b"")).await;
        assert_eq!(r.status, 501, "HEAD {path}");
        assert!(r.body.is_empty(), "a HEAD reply has no body");
        let www = s.sim.http_addr().expect("a www listener");
        let r = crate::support::raw_http(www, &raw_request("HEAD", path, &[], b""))
            .await
            .expect("a reply over www");
        assert_eq!(r.status, 501, "HEAD {path} over www");
        let r = s
            .raw_https(&raw_request(
                "OPTIONS",
                path,
                &[("Origin", "https://example.com")],
                b"",
            ))
            .await;
        assert_eq!(
            (r.status, r.text()),
            (503, envelope(503, None)),
            "OPTIONS {path}"
        );
        assert_eq!(
            r.header("content-type"),
            Some("application/json"),
            "OPTIONS {path}"
        );
        assert!(
            r.headers
                .iter()
                .all(|(k, _)| !k.starts_with("access-control-")),
            "{:?}",
            r.headers
        );
    }
}

#[tokio::test]
async fn no_credentials_beat_every_other_error_except_transport_ones() {
    // An unauthenticated request for an unknown path is a 401, not a 400: nothing is revealed.
    let s = start().await;
    for path in [
        "/rest/nonexistent/path",
        "/rest/ip/firewall/address-list/print",
        V4,
    ] {
        s.oneshot_raw(None, "GET", path, None, b"")
            .await
            .assert_error(401, None);
        s.oneshot_raw(Some(("admin", "x")), "GET", path, None, b"")
            .await
            .assert_error(401, None);
    }
}

#[tokio::test]
async fn singletons_answer_set_and_refuse_ids() {
    let s = start().await;
    let r = s
        .oneshot(
            "POST",
            "/rest/system/identity/set",
            Some(json!({"name":"branch-office-1"})),
        )
        .await;
    assert_eq!((r.status, r.text.as_str()), (200, "[]"));
    assert_eq!(
        s.oneshot("GET", "/rest/system/identity", None).await.text,
        r#"{"name":"branch-office-1"}"#
    );
    let r = s
        .oneshot(
            "POST",
            "/rest/system/identity/set",
            Some(json!({"color":"red"})),
        )
        .await;
    r.assert_error(400, Some("unknown parameter color"));
    let r = s.oneshot("GET", "/rest/system/resource/*1", None).await;
    r.assert_error(400, Some("no such command prefix"));
}

/// What hyper refuses before any handler runs (a malformed request line, an over-long URI,
/// over-large headers) answers in the RouterOS envelope with hyper's status, on both listeners,
/// and closes the connection. The router's own answers here are not published ([likely],
/// fixtures/README.md).
#[tokio::test]
async fn requests_the_server_cannot_parse_get_the_router_envelope() {
    let s = start().await;
    let www = s.sim.http_addr().expect("a www listener");
    let long_uri = format!("/rest/{}", "a".repeat(70_000));
    let many_headers: Vec<(String, String)> =
        (0..200).map(|i| (format!("X-{i}"), "a".into())).collect();
    let many: Vec<(&str, &str)> = many_headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let cases: [(Vec<u8>, u16); 4] = [
        (b"GARBAGE\r\n\r\n".to_vec(), 400),
        (
            raw_request("GET", V4, &[("Content-Length", "abc")], b""),
            400,
        ),
        (raw_request("GET", &long_uri, &[], b""), 414),
        (raw_request("GET", V4, &many, b""), 431),
    ];
    for (request, status) in &cases {
        let shown = String::from_utf8_lossy(&request[..request.len().min(40)]).into_owned();
        for r in [
            s.raw_https(request).await,
            crate::support::raw_http(www, request)
                .await
                .expect("a reply over www"),
        ] {
            assert_eq!(
                (r.status, r.text()),
                (*status, envelope(*status, None)),
                "{shown:?}"
            );
            assert_eq!(
                r.header("content-type"),
                Some("application/json"),
                "{shown:?}"
            );
            assert_eq!(r.header("connection"), Some("close"), "{shown:?}");
        }
    }
    // The listener still serves a normal request afterwards.
    assert_eq!(s.get("/rest/system/identity").await.status, 200);
}
