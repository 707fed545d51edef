//! Property tests: random and mutated requests through the REST handler and the control API.
//!
//! Whatever arrives (a head with any method and path, a query, a body of random bytes or of JSON
//! with a field changed, an id of any shape), the simulator answers without panicking, in the
//! router's shape on `/rest` (a JSON error envelope with a numeric `error`, or rows) and in the
//! control API's shape on its listener (`{"error": "..."}` for every refusal), and it still answers
//! a normal request afterwards.
//!
//! CI runs a bounded number of cases (64 per property). A long run sets `PROPTEST_CASES`:
//!
//! ```sh
//! PROPTEST_CASES=20000 cargo test -p simulator --test it fuzz -- --nocapture
//! ```

use std::net::SocketAddr;

use proptest::prelude::*;
use serde_json::Value;
use simulator::{Limits, Listener, Simulator};

use crate::support::{ADMIN, basic};

/// Cases per property: `PROPTEST_CASES`, or 64.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(64);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

const METHODS: &[&str] = &[
    "GET", "PUT", "POST", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE", "FOO",
];

const REST_PATHS: &[&str] = &[
    "/rest/ip/firewall/address-list",
    "/rest/ip/firewall/address-list/*1",
    "/rest/ip/firewall/address-list/add",
    "/rest/ip/firewall/address-list/print",
    "/rest/ipv6/firewall/address-list/remove",
    "/rest/user",
    "/rest/user/admin",
    "/rest/user/group",
    "/rest/ip/service",
    "/rest/system/resource",
    "/rest/system/identity/set",
    "/rest/execute",
    "/rest",
    "/",
    "/webfig",
];

const BODIES: &[&str] = &[
    r#"{"list":"l","address":"10.0.0.1","timeout":"1h"}"#,
    r##"{".proplist":["address","list"],".query":["list=l","#|"]}"##,
    r#"{"numbers":"*1"}"#,
    r#"{".id":"*1","comment":"x"}"#,
    r#"{"name":"u","group":"full","password":"p"}"#,
    r#"{"script":":put 1"}"#,
    "[]",
    "null",
    "",
];

/// A string from `base` with a few characters replaced, inserted or removed.
fn mutated(base: &'static [&'static str]) -> impl Strategy<Value = String> {
    (
        proptest::sample::select(base),
        proptest::collection::vec((any::<prop::sample::Index>(), 0u8..3, any::<char>()), 0..4),
    )
        .prop_map(|(base, edits)| {
            let mut chars: Vec<char> = base.chars().collect();
            for (at, op, c) in edits {
                let i = if chars.is_empty() {
                    0
                } else {
                    at.index(chars.len())
                };
                match op {
                    0 if !chars.is_empty() => chars[i] = c,
                    1 => chars.insert(i, c),
                    _ if !chars.is_empty() => {
                        chars.remove(i);
                    }
                    _ => {}
                }
            }
            chars.into_iter().collect()
        })
}

/// A request target: a mutated path, maybe with a query of random pairs.
fn target(paths: &'static [&'static str]) -> impl Strategy<Value = String> {
    (
        mutated(paths),
        proptest::option::of("[a-z.=&%*#|0-9-]{0,24}"),
    )
        .prop_map(|(path, query)| {
            let path: String = path
                .chars()
                .map(|c| if c.is_ascii_graphic() { c } else { '_' })
                .collect();
            let path = if path.starts_with('/') {
                path
            } else {
                format!("/{path}")
            };
            match query {
                Some(q) => format!("{path}?{q}"),
                None => path,
            }
        })
}

/// A body: mutated JSON, or random bytes.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        mutated(BODIES).prop_map(String::into_bytes),
        proptest::collection::vec(any::<u8>(), 0..64),
    ]
}

/// Whether `text` is a RouterOS error envelope: an object with a numeric `error` and a `message`.
fn is_envelope(text: &str) -> bool {
    serde_json::from_str::<Value>(text).is_ok_and(|v| {
        v.get("error").is_some_and(Value::is_u64) && v.get("message").is_some_and(Value::is_string)
    })
}

#[test]
fn random_rest_requests_get_a_routeros_shaped_answer() {
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let sim = rt.block_on(Simulator::builder().start()).expect("starts");
    let peer = SocketAddr::from(([127, 0, 0, 1], 40000));
    proptest!(config(), |(
        method in proptest::sample::select(METHODS),
        path in target(REST_PATHS),
        body in body(),
        authorized in any::<bool>(),
    )| {
        let mut req = http::Request::builder().method(method).uri(&path).header("host", "127.0.0.1");
        if authorized {
            req = req.header("authorization", basic(ADMIN.0, ADMIN.1));
        }
        let Ok(req) = req.header("content-type", "application/json").body(bytes::Bytes::from(body)) else {
            // http refused to build the request (an invalid URI): nothing reaches the server.
            return Ok(());
        };
        let out = rt.block_on(simulator::rest::handle(sim.shared(), req, peer, Listener::WwwSsl));
        let status = out.response.status().as_u16();
        let is_json = out.response.headers().get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        let text = String::from_utf8_lossy(&out.response.into_body().to_bytes()).into_owned();
        let rest = path == "/rest" || path.starts_with("/rest/") || path.starts_with("/rest?");
        if rest && status >= 400 {
            prop_assert!(
                text.is_empty() || is_envelope(&text),
                "{method} {path}: {status} {text}"
            );
        }
        if is_json && !text.is_empty() {
            prop_assert!(serde_json::from_str::<Value>(&text).is_ok(), "{method} {path}: {text}");
        }
        // Whatever the request added, the table is emptied so cases stay independent and small.
        sim.reset().expect("reset");
    });
    let ok = rt.block_on(async {
        let req = http::Request::builder()
            .uri("/rest/system/identity")
            .header("authorization", basic(ADMIN.0, ADMIN.1))
            .body(bytes::Bytes::new())
            .unwrap();
        simulator::rest::handle(sim.shared(), req, peer, Listener::WwwSsl).await
    });
    assert_eq!(ok.response.status().as_u16(), 200);
}

const CONTROL_PATHS: &[&str] = &[
    "/health",
    "/state",
    "/state/reset",
    "/seed",
    "/clock",
    "/clock/freeze",
    "/clock/resume",
    "/clock/advance",
    "/reboot",
    "/journal",
    "/journal/mark",
    "/faults",
    "/faults/1",
    "/tls",
    "/limits",
];

const CONTROL_BODIES: &[&str] = &[
    r#"{"by":"1h"}"#,
    r#"{"by":18446744073709551615}"#,
    r#"{"downtime":"5s"}"#,
    r#"{"action":{"kind":"status","status":500},"matcher":{"path":"/rest/*"}}"#,
    r#"{"user":[{"name":"x","password":"y","group":"full"}]}"#,
    r#"{"session_limit":"1m","row_cost":0}"#,
    "{}",
    "",
];

#[test]
fn random_control_requests_get_a_control_shaped_answer() {
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let sim = rt.block_on(Simulator::builder().start()).expect("starts");
    let base = sim.control_url().expect("a control API");
    let client = crate::support::https_client(sim.ca_pem());
    proptest!(config(), |(
        method in proptest::sample::select(METHODS),
        path in target(CONTROL_PATHS),
        body in prop_oneof![
            mutated(CONTROL_BODIES).prop_map(String::into_bytes),
            proptest::collection::vec(any::<u8>(), 0..32),
        ],
    )| {
        let Ok(m) = reqwest::Method::from_bytes(method.as_bytes()) else { return Ok(()) };
        let head = m == reqwest::Method::HEAD;
        let (status, text) = rt.block_on(async {
            let r = client.request(m, format!("{base}{path}")).body(body).send().await
                .expect("the control API answers");
            let status = r.status().as_u16();
            (status, r.text().await.unwrap_or_default())
        });
        if status >= 400 && !head {
            let v: Value = serde_json::from_str(&text)
                .unwrap_or_else(|_| panic!("{method} {path}: {status} {text:?}"));
            prop_assert!(v.get("error").is_some_and(Value::is_string), "{method} {path}: {text}");
        }
        // Undo what a case may have changed that would slow the next ones down.
        sim.clear_faults();
        sim.set_limits(Limits::default());
        sim.reboot();
        sim.clock().resume();
    });
    let health = rt.block_on(async {
        client
            .get(format!("{base}/health"))
            .send()
            .await
            .expect("answers")
            .status()
            .as_u16()
    });
    assert_eq!(health, 200);
}
