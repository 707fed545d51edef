//! Sections 3 and 4 of ROUTEROS-REST.md: how values are written and read, and the address-list rules.
//!
//! Every value comes back a string with sorted keys; yes/no/true/false/numbers go in and come back as
//! RouterOS text; `.id`s are `*HEX` from an increasing counter; `%2A` is not `*`; durations and
//! `creation-time` have the router's forms; and an address is stored the way the router stores it
//! (hosts without `/32`, host bits cleared, ranges folded to prefixes, IPv6 canonical with `/128`,
//! anything else kept as a DNS name). Duplicates and bad arguments get the router's exact refusals.

use serde_json::{Value, json};

use crate::support::{Sim, V4, V6, assert_router_json, start};

#[tokio::test]
async fn every_reply_has_sorted_keys_and_string_values() {
    let s = start().await;
    s.put(
        V4,
        json!({"list":"a","address":"10.0.0.1","comment":"c","timeout":"1h"}),
    )
    .await;
    s.put(V6, json!({"list":"a","address":"2001:db8::1"})).await;
    let mut texts = Vec::new();
    for path in [
        V4,
        V6,
        "/rest/ip/firewall/address-list/*1",
        "/rest/user",
        "/rest/user/admin",
        "/rest/user/group",
        "/rest/ip/service",
        "/rest/ip/service/www-ssl",
        "/rest/system/resource",
        "/rest/system/identity",
        "/rest/nosuch",
    ] {
        texts.push(s.get(path).await.text);
    }
    texts.push(
        s.call("PUT", V4, Some(json!({"list":"b","address":"10.0.0.2"})))
            .await
            .text,
    );
    texts.push(
        s.call(
            "PATCH",
            "/rest/ip/firewall/address-list/*3",
            Some(json!({"comment":"d"})),
        )
        .await
        .text,
    );
    texts.push(
        s.call(
            "POST",
            &format!("{V4}/print"),
            Some(json!({"count-only":""})),
        )
        .await
        .text,
    );
    texts.push(
        s.call(
            "POST",
            &format!("{V4}/add"),
            Some(json!({"list":"b","address":"10.0.0.3"})),
        )
        .await
        .text,
    );
    texts.push(
        s.call(
            "POST",
            &format!("{V4}/print"),
            Some(json!({".query":["list=b"]})),
        )
        .await
        .text,
    );
    texts.push(
        s.call("PUT", V4, Some(json!({"list":"b","address":"10.0.0.3"})))
            .await
            .text,
    );
    for t in texts {
        assert_router_json(&t);
    }
}

/// Creates an entry with `field: input` and returns what the router shows for `field`.
async fn written_then_read(
    s: &Sim,
    n: u32,
    field: &str,
    input: Value,
) -> Result<Option<String>, String> {
    let mut body = json!({"list":"values","address": format!("10.9.{}.{}", n / 250, n % 250)});
    body[field] = input;
    let r = s.call("PUT", V4, Some(body)).await;
    if r.status != 201 {
        return Err(r.json()["detail"].as_str().unwrap_or_default().to_owned());
    }
    Ok(r.json()[field].as_str().map(str::to_owned))
}

/// A field, the JSON value written to it, and what is read back (or the refusal's detail).
type ValueCase = (
    &'static str,
    Value,
    Result<Option<&'static str>, &'static str>,
);

#[tokio::test]
async fn yes_no_true_false_and_numbers_are_read_back_as_router_text() {
    let s = start().await;
    s.sim.clock().freeze();
    let cases: &[ValueCase] = &[
        ("disabled", json!("yes"), Ok(Some("true"))),
        ("disabled", json!("no"), Ok(Some("false"))),
        ("disabled", json!(true), Ok(Some("true"))),
        ("disabled", json!(false), Ok(Some("false"))),
        ("disabled", json!("true"), Ok(Some("true"))),
        ("disabled", json!("false"), Ok(Some("false"))),
        (
            "disabled",
            json!("maybe"),
            Err("invalid value for argument disabled"),
        ),
        ("comment", json!(42), Ok(Some("42"))),
        ("comment", json!(true), Ok(Some("true"))),
        ("comment", json!(""), Ok(None)),
        ("timeout", json!(300), Ok(Some("5m"))),
        ("timeout", json!("300"), Ok(Some("5m"))),
        ("list", json!(7), Ok(Some("7"))),
    ];
    for (n, (field, input, expected)) in cases.iter().enumerate() {
        let got = written_then_read(&s, n as u32, field, input.clone()).await;
        assert_eq!(
            got,
            expected
                .map(|o| o.map(str::to_owned))
                .map_err(str::to_owned),
            "{field}={input}"
        );
    }
    // Numbers work on other menus too: a service port.
    let port = crate::support::free_port();
    let r = s
        .call(
            "PATCH",
            "/rest/ip/service/telnet",
            Some(json!({"port": port, "disabled": true})),
        )
        .await;
    assert_eq!(r.json()["port"], port.to_string());
    assert_eq!(r.json()["disabled"], "true");
}

#[tokio::test]
async fn ids_are_star_upper_hex_from_an_increasing_counter_with_gaps() {
    let s = start().await;
    let mut got = Vec::new();
    for i in 1..=12 {
        got.push(
            s.put(V4, json!({"list":"ids","address": format!("10.0.0.{i}")}))
                .await,
        );
    }
    let expected: Vec<String> = (1..=12).map(|i| format!("*{i:X}")).collect();
    assert_eq!(got, expected);
    assert!(got.contains(&"*A".to_owned()) && got.contains(&"*C".to_owned()));
    // Deleted ids are not reused, not even the last one.
    for id in ["*5", "*C"] {
        assert_eq!(
            s.call("DELETE", &format!("{V4}/{id}"), None).await.status,
            204
        );
    }
    assert_eq!(
        s.put(V4, json!({"list":"ids","address":"10.0.1.1"})).await,
        "*D"
    );
    // A refused add does not use up an id.
    assert_eq!(
        s.call("PUT", V4, Some(json!({"list":"ids","address":"10.0.1.1"})))
            .await
            .status,
        400
    );
    assert_eq!(
        s.put(V4, json!({"list":"ids","address":"10.0.1.2"})).await,
        "*E"
    );
    // Lower-case hex in a path finds the same row.
    assert_eq!(s.get(&format!("{V4}/*e")).await.json()[".id"], "*E");
    // Users and groups count on their own.
    let r = s
        .call(
            "PUT",
            "/rest/user/group",
            Some(json!({"name":"g","policy":"read,api,rest-api"})),
        )
        .await;
    assert_eq!(r.json()[".id"], "*4");
    let r = s
        .call(
            "PUT",
            "/rest/user",
            Some(json!({"name":"u","group":"g","password":"p"})),
        )
        .await;
    assert_eq!(r.json()[".id"], "*2");
}

#[tokio::test]
async fn a_percent_encoded_star_is_refused() {
    let s = start().await;
    s.put(V4, json!({"list":"a","address":"10.0.0.1"})).await;
    for (method, path) in [
        ("GET", "/rest/ip/firewall/address-list/%2A1"),
        ("GET", "/rest/ip/firewall/address-list/%2a1"),
        ("PATCH", "/rest/ip/firewall/address-list/%2A1"),
        ("DELETE", "/rest/ip/firewall/address-list/%2A1"),
        ("GET", "/rest/user/%2A1"),
    ] {
        let body = (method == "PATCH").then(|| json!({"comment":"x"}));
        let r = s.call(method, path, body).await;
        r.assert_error(400, Some("no such command prefix"));
    }
    // Nothing changed.
    assert!(
        s.get(&format!("{V4}/*1"))
            .await
            .json()
            .get("comment")
            .is_none()
    );
}

#[tokio::test]
async fn durations_are_read_and_shown_in_router_form() {
    let s = start().await;
    s.sim.clock().freeze();
    let cases: &[(&str, &str)] = &[
        ("1d", "1d"),
        ("5m", "5m"),
        ("4m59s", "4m59s"),
        ("90s", "1m30s"),
        ("300", "5m"),
        ("01:00:00", "1h"),
        ("1w2d3h4m5s", "1w2d3h4m5s"),
        ("1s500ms", "1s500ms"),
        ("35w3d13h13m56s", "35w3d13h13m56s"),
        // Days glued to the clock form, as a router prints its bounds (`1d00:00:00`).
        ("1d00:00:00", "1d"),
        ("2d11:00:12", "2d11h12s"),
    ];
    for (n, (input, shown)) in cases.iter().enumerate() {
        let got = written_then_read(&s, n as u32, "timeout", json!(input)).await;
        assert_eq!(got, Ok(Some(shown.to_string())), "timeout={input}");
    }
    let refusals: &[(&str, &str)] = &[
        ("abc", "invalid time value for argument timeout"),
        ("5x", "invalid time value for argument timeout"),
        ("-5s", "invalid time value for argument timeout"),
        ("1h1h", "invalid time value for argument timeout"),
        ("", "invalid time value for argument timeout"),
        (
            "35w3d13h13m57s",
            "value of timeout is out of range (00:00:00 .. 35w3d13:13:56)",
        ),
        (
            "36w",
            "value of timeout is out of range (00:00:00 .. 35w3d13:13:56)",
        ),
    ];
    for (n, (input, detail)) in refusals.iter().enumerate() {
        let got = written_then_read(&s, 100 + n as u32, "timeout", json!(input)).await;
        assert_eq!(got, Err(detail.to_string()), "timeout={input}");
    }
    // Nothing refused was stored.
    assert_eq!(s.rows(V4).await.len(), cases.len());
}

/// JSON number tokens in octal (leading zero) and hexadecimal (`0x`) are read as the manual says;
/// the same digits in a string are decimal.
#[tokio::test]
async fn json_numbers_in_octal_and_hex() {
    let s = start().await;
    s.sim.clock().freeze();
    let ct = Some("application/json");
    for (n, (timeout, shown)) in [("010", "8s"), ("0x3C", "1m"), ("\"010\"", "10s")]
        .into_iter()
        .enumerate()
    {
        let body = format!(r#"{{"list":"radix","address":"10.8.0.{n}","timeout":{timeout}}}"#);
        let r = s
            .oneshot_raw(Some(crate::support::ADMIN), "PUT", V4, ct, body.as_bytes())
            .await;
        assert_eq!(r.status, 201, "{timeout}: {}", r.text);
        assert_eq!(r.json()["timeout"], shown, "{timeout}");
    }
}

/// Filters take `yes`/`no` for the `true`/`false` a router prints.
#[tokio::test]
async fn filters_take_yes_and_no_for_booleans() {
    let s = start().await;
    s.put(V4, json!({"list":"b","address":"10.7.0.1"})).await;
    s.put(
        V4,
        json!({"list":"b","address":"10.7.0.2","disabled":"yes"}),
    )
    .await;
    for (filter, n) in [
        ("disabled=yes", 1),
        ("disabled=true", 1),
        ("disabled=no", 1),
        ("dynamic=no", 2),
    ] {
        let rows = s.rows(&format!("{V4}?list=b&{filter}")).await;
        assert_eq!(rows.len(), n, "{filter}");
    }
}

/// `creation-time` as the router shows the simulator's wall clock at `wall_ms`.
pub fn expected_creation_time(wall_ms: i64, iso: bool) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(wall_ms.div_euclid(1000)).unwrap();
    if iso {
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    } else {
        let month = [
            "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
        ][usize::from(u8::from(t.month())) - 1];
        format!(
            "{month}/{:02}/{:04} {:02}:{:02}:{:02}",
            t.day(),
            t.year(),
            t.hour(),
            t.minute(),
            t.second()
        )
    }
}

#[tokio::test]
async fn creation_time_is_the_router_clock_at_creation() {
    let s = start().await;
    let reading = s.sim.clock().freeze();
    let v = s
        .call("PUT", V4, Some(json!({"list":"t","address":"10.0.0.1"})))
        .await
        .json();
    assert_eq!(
        v["creation-time"],
        expected_creation_time(reading.wall_ms, true)
    );
    // It does not move afterwards.
    s.sim
        .clock()
        .advance(std::time::Duration::from_secs(3 * 86_400 + 5));
    assert_eq!(
        s.get(&format!("{V4}/*1")).await.json()["creation-time"],
        expected_creation_time(reading.wall_ms, true)
    );
    // A later entry carries the later time.
    let later = s
        .call("PUT", V4, Some(json!({"list":"t","address":"10.0.0.2"})))
        .await
        .json();
    assert_eq!(
        later["creation-time"],
        expected_creation_time(reading.wall_ms + (3 * 86_400 + 5) * 1000, true)
    );
}

#[tokio::test]
async fn keys_follow_static_dynamic_comment_and_timeout_rules() {
    let s = start().await;
    s.sim.clock().freeze();
    let keys = |v: &Value| {
        v.as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>()
            .join(",")
    };
    let check = |body: Value, expected_keys: &'static str, dynamic: &'static str| {
        let s = &s;
        async move {
            let v = s.call("PUT", V4, Some(body.clone())).await.json();
            assert_eq!(keys(&v), expected_keys, "{body}");
            assert_eq!(v["dynamic"], dynamic, "{body}");
            // A GET shows the same.
            let again = s
                .get(&format!("{V4}/{}", v[".id"].as_str().unwrap()))
                .await
                .json();
            assert_eq!(again, v);
        }
    };
    check(
        json!({"list":"k","address":"10.0.0.1"}),
        ".id,address,creation-time,disabled,dynamic,list",
        "false",
    )
    .await;
    check(
        json!({"list":"k","address":"10.0.0.2","comment":"c"}),
        ".id,address,comment,creation-time,disabled,dynamic,list",
        "false",
    )
    .await;
    check(
        json!({"list":"k","address":"10.0.0.3","comment":""}),
        ".id,address,creation-time,disabled,dynamic,list",
        "false",
    )
    .await;
    check(
        json!({"list":"k","address":"10.0.0.4","timeout":"1h"}),
        ".id,address,creation-time,disabled,dynamic,list,timeout",
        "true",
    )
    .await;
    check(
        json!({"list":"k","address":"10.0.0.5","timeout":"1h","comment":"c","disabled":"yes"}),
        ".id,address,comment,creation-time,disabled,dynamic,list,timeout",
        "true",
    )
    .await;
    // `dynamic=yes` on add makes a dynamic entry without a countdown.
    check(
        json!({"list":"k","address":"10.0.0.6","dynamic":"yes"}),
        ".id,address,creation-time,disabled,dynamic,list",
        "true",
    )
    .await;
    check(
        json!({"list":"k","address":"10.0.0.7","dynamic":false}),
        ".id,address,creation-time,disabled,dynamic,list",
        "false",
    )
    .await;
}

/// Adds `input` to a fresh list of `menu` and returns the stored address or the refusal's detail.
async fn stored(s: &Sim, menu: &str, n: usize, input: &str) -> Result<String, String> {
    let r = s
        .call(
            "PUT",
            menu,
            Some(json!({"list": format!("norm{n}"), "address": input})),
        )
        .await;
    match r.status {
        201 => Ok(r.json()["address"].as_str().unwrap().to_owned()),
        _ => {
            assert_eq!(r.status, 400, "{input}: {}", r.text);
            Err(r.json()["detail"].as_str().unwrap().to_owned())
        }
    }
}

#[tokio::test]
async fn ipv4_addresses_are_stored_in_router_form() {
    let s = start().await;
    let cases: &[(&str, Result<&str, &str>)] = &[
        ("203.0.113.45", Ok("203.0.113.45")),
        ("203.0.113.45/32", Ok("203.0.113.45")),
        ("203.0.113.0/24", Ok("203.0.113.0/24")),
        ("203.0.113.77/24", Ok("203.0.113.0/24")),
        ("10.1.2.3/8", Ok("10.0.0.0/8")),
        ("0.0.0.0/0", Ok("0.0.0.0/0")),
        ("10.0.0.0-10.0.0.255", Ok("10.0.0.0/24")),
        ("10.0.0.8-10.0.0.15", Ok("10.0.0.8/29")),
        ("10.0.0.7-10.0.0.7", Ok("10.0.0.7")),
        ("10.0.0.1-10.0.0.5", Ok("10.0.0.1-10.0.0.5")),
        // Not addresses but DNS-name text: kept as names (fixtures/README.md).
        ("203.0.113.1-254", Ok("203.0.113.1-254")),
        ("10.0.0.300", Ok("10.0.0.300")),
        ("example.com", Ok("example.com")),
        ("ftp.mikrotik.com", Ok("ftp.mikrotik.com")),
        ("my-host", Ok("my-host")),
        // Neither.
        (
            "10.0.0.1/33",
            Err("failure: 10.0.0.1/33 is not a valid dns name"),
        ),
        (
            "has space",
            Err("failure: has space is not a valid dns name"),
        ),
    ];
    for (n, (input, expected)) in cases.iter().enumerate() {
        assert_eq!(
            stored(&s, V4, n, input).await,
            expected.map(str::to_owned).map_err(str::to_owned),
            "{input}"
        );
    }
}

#[tokio::test]
async fn ipv6_addresses_are_canonical_with_128_for_hosts_and_no_ranges() {
    let s = start().await;
    let cases: &[(&str, Result<&str, &str>)] = &[
        ("2001:db8::1", Ok("2001:db8::1/128")),
        ("2001:DB8::1", Ok("2001:db8::1/128")),
        (
            "2001:0db8:0000:0000:0000:0000:0000:0001",
            Ok("2001:db8::1/128"),
        ),
        ("2001:db8::1/128", Ok("2001:db8::1/128")),
        ("2001:db8::/32", Ok("2001:db8::/32")),
        ("2001:db8:bad::1/48", Ok("2001:db8:bad::/48")),
        ("one.one.one.one", Ok("one.one.one.one")),
        (
            "2001:db8::1-2001:db8::5",
            Err("failure: 2001:db8::1-2001:db8::5 is not a valid dns name"),
        ),
    ];
    for (n, (input, expected)) in cases.iter().enumerate() {
        assert_eq!(
            stored(&s, V6, n, input).await,
            expected.map(str::to_owned).map_err(str::to_owned),
            "{input}"
        );
    }
}

#[tokio::test]
async fn duplicates_in_a_list_are_refused_unless_the_twin_is_disabled() {
    let s = start().await;
    s.sim.clock().freeze();
    let first = s
        .put(
            V4,
            json!({"list":"d","address":"203.0.113.45","comment":"first"}),
        )
        .await;
    s.put(V4, json!({"list":"d","address":"203.0.113.0/24"}))
        .await;
    let dup = Some("failure: already have such entry");
    let check = |body: Value, expected: Result<(), Option<&'static str>>| {
        let s = &s;
        async move {
            let r = s.call("PUT", V4, Some(body.clone())).await;
            match expected {
                Ok(()) => assert_eq!(r.status, 201, "{body}: {}", r.text),
                Err(detail) => r.assert_error(400, detail),
            }
        }
    };
    check(json!({"list":"d","address":"203.0.113.45"}), Err(dup)).await;
    check(json!({"list":"d","address":"203.0.113.45/32"}), Err(dup)).await;
    check(
        json!({"list":"d","address":"203.0.113.45","comment":"other"}),
        Err(dup),
    )
    .await;
    check(
        json!({"list":"d","address":"203.0.113.45","timeout":"1h"}),
        Err(dup),
    )
    .await;
    check(json!({"list":"d","address":"203.0.113.77/24"}), Err(dup)).await;
    check(
        json!({"list":"d","address":"203.0.113.0-203.0.113.255"}),
        Err(dup),
    )
    .await;
    // POST add is refused the same way.
    let r = s
        .call(
            "POST",
            &format!("{V4}/add"),
            Some(json!({"list":"d","address":"203.0.113.45"})),
        )
        .await;
    r.assert_error(400, dup);
    // The existing entry was not refreshed.
    let row = s.get(&format!("{V4}/{first}")).await.json();
    assert_eq!(
        (row["comment"].as_str(), row.get("timeout")),
        (Some("first"), None)
    );
    // Another list, an overlapping prefix, and a disabled twin are fine.
    check(json!({"list":"e","address":"203.0.113.45"}), Ok(())).await;
    check(json!({"list":"d","address":"203.0.113.0/25"}), Ok(())).await;
    check(
        json!({"list":"d","address":"203.0.113.45","disabled":"yes"}),
        Ok(()),
    )
    .await;
    // A disabled twin can be added beside another disabled twin, but not enabled beside the live one.
    let twin = s
        .put(
            V4,
            json!({"list":"d","address":"203.0.113.45","disabled":"true"}),
        )
        .await;
    let r = s
        .call(
            "PATCH",
            &format!("{V4}/{twin}"),
            Some(json!({"disabled":"no"})),
        )
        .await;
    r.assert_error(400, dup);
    // Once the live one is gone, the twin can be enabled.
    assert_eq!(
        s.call("DELETE", &format!("{V4}/{first}"), None)
            .await
            .status,
        204
    );
    let r = s
        .call(
            "PATCH",
            &format!("{V4}/{twin}"),
            Some(json!({"disabled":"no"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // IPv6 duplicates by canonical form.
    s.put(V6, json!({"list":"d","address":"2001:db8::1"})).await;
    let r = s
        .call(
            "PUT",
            V6,
            Some(json!({"list":"d","address":"2001:DB8:0::1/128"})),
        )
        .await;
    r.assert_error(400, dup);
}

#[tokio::test]
async fn bad_arguments_get_the_router_texts() {
    let s = start().await;
    let cases: &[(Value, &str)] = &[
        (json!({"address":"10.0.0.1"}), "missing =list="),
        (json!({"list":"","address":"10.0.0.1"}), "missing =list="),
        (
            json!({"list":"a","address":"10.0.0.1","color":"red"}),
            "unknown parameter color",
        ),
        (
            json!({"list":"a","address":"10.0.0.1","timeout":"abc"}),
            "invalid time value for argument timeout",
        ),
        (
            json!({"list":"a","address":"10.0.0.1","timeout":"99w"}),
            "value of timeout is out of range (00:00:00 .. 35w3d13:13:56)",
        ),
        (
            json!({"list":"a","address":"10.0.0.1","disabled":"maybe"}),
            "invalid value for argument disabled",
        ),
        (
            json!({"list":{"a":1},"address":"10.0.0.1"}),
            "invalid value for argument list",
        ),
        (
            json!({"list":"a","address":["10.0.0.1"]}),
            "invalid value for argument address",
        ),
        (
            json!({"list":"a","address":null}),
            "invalid value for argument address",
        ),
    ];
    for (body, detail) in cases {
        let r = s.call("PUT", V4, Some(body.clone())).await;
        assert_eq!(
            (r.status, r.text.clone()),
            (400, crate::support::envelope(400, Some(detail))),
            "{body}"
        );
        let r = s
            .call("POST", &format!("{V4}/add"), Some(body.clone()))
            .await;
        assert_eq!(
            (r.status, r.text.clone()),
            (400, crate::support::envelope(400, Some(detail))),
            "add {body}"
        );
    }
    // The same rules on PATCH.
    let id = s.put(V4, json!({"list":"a","address":"10.0.0.1"})).await;
    let patch: &[(Value, &str)] = &[
        (json!({"color":"red"}), "unknown parameter color"),
        (
            json!({"timeout":"abc"}),
            "invalid time value for argument timeout",
        ),
        (
            json!({"disabled":"maybe"}),
            "invalid value for argument disabled",
        ),
    ];
    for (body, detail) in patch {
        s.call("PATCH", &format!("{V4}/{id}"), Some(body.clone()))
            .await
            .assert_error(400, Some(detail));
    }
    assert_eq!(s.rows(V4).await.len(), 1);
}
