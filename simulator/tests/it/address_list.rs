//! Section 2 of ROUTEROS-REST.md on the address-list menus: every method and `POST` command.
//!
//! Each test prepares a few entries through REST, then checks one row of the table: GET of a list
//! with and without query-string filters and `.proplist`, GET by id, PUT, PATCH, DELETE, and the
//! `print`, `add`, `set`, `remove` and `count-only` commands. Filters and `.query` stacks are
//! data-driven: one `check` per area, many small cases.

use serde_json::{Value, json};

use crate::support::{Sim, V4, V6, assert_router_json, start};

/// Four entries over two lists: `*1` a/10.0.0.1 static with comment, `*2` a/10.0.0.2 dynamic,
/// `*3` b/10.0.0.3 static, `*4` b/10.0.0.1 disabled with comment.
async fn seeded() -> Sim {
    let s = start().await;
    s.put(V4, json!({"list":"a","address":"10.0.0.1","comment":"x"}))
        .await;
    s.put(V4, json!({"list":"a","address":"10.0.0.2","timeout":"1h"}))
        .await;
    s.put(V4, json!({"list":"b","address":"10.0.0.3"})).await;
    s.put(
        V4,
        json!({"list":"b","address":"10.0.0.1","disabled":"yes","comment":"y"}),
    )
    .await;
    s
}

fn ids(rows: &[Value]) -> Vec<&str> {
    rows.iter()
        .map(|r| r[".id"].as_str().expect("an .id"))
        .collect()
}

#[tokio::test]
async fn get_of_an_empty_menu_is_an_empty_array() {
    let s = start().await;
    for menu in [V4, V6] {
        let r = s.get(menu).await;
        assert_eq!((r.status, r.text.as_str()), (200, "[]"));
    }
}

#[tokio::test]
async fn get_lists_every_row_in_id_order() {
    let s = seeded().await;
    let r = s.get(V4).await;
    assert_eq!(r.status, 200);
    assert_router_json(&r.text);
    assert_eq!(ids(r.json().as_array().unwrap()), ["*1", "*2", "*3", "*4"]);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/json")
    );
}

#[tokio::test]
async fn query_string_filters_are_exact_and_combined_with_and() {
    let s = seeded().await;
    let check = |query: &'static str, expected: &'static [&'static str]| {
        let s = &s;
        async move {
            let rows = s.rows(&format!("{V4}?{query}")).await;
            assert_eq!(ids(&rows), expected, "?{query}");
        }
    };
    check("list=a", &["*1", "*2"]).await;
    check("list=b", &["*3", "*4"]).await;
    check("list=a&dynamic=true", &["*2"]).await;
    check("list=a&dynamic=false", &["*1"]).await;
    check("address=10.0.0.1", &["*1", "*4"]).await;
    check("address=10.0.0.1&list=b", &["*4"]).await;
    check("address=10.0.0.1&list=b&disabled=false", &[]).await;
    check("disabled=true", &["*4"]).await;
    check("comment=x", &["*1"]).await;
    // Exact match: no prefixes, no case folding.
    check("list=A", &[]).await;
    check("address=10.0.0", &[]).await;
    check("list=nosuch", &[]).await;
}

#[tokio::test]
async fn proplist_on_get_keeps_the_id() {
    let s = seeded().await;
    let check = |path: String, expected: Vec<Vec<&'static str>>| {
        let s = &s;
        async move {
            let r = s.get(&path).await;
            assert_eq!(r.status, 200, "{path}: {}", r.text);
            assert_router_json(&r.text);
            let v = r.json();
            let rows = match &v {
                Value::Array(rows) => rows.clone(),
                one => vec![one.clone()],
            };
            let keys: Vec<Vec<&str>> = rows
                .iter()
                .map(|r| r.as_object().unwrap().keys().map(String::as_str).collect())
                .collect();
            assert_eq!(keys, expected, "{path}");
        }
    };
    check(
        format!("{V4}?.proplist=address"),
        vec![vec![".id", "address"]; 4],
    )
    .await;
    check(
        format!("{V4}?.proplist=address,list&list=a"),
        vec![vec![".id", "address", "list"]; 2],
    )
    .await;
    check(format!("{V4}?.proplist=.id"), vec![vec![".id"]; 4]).await;
    // `comment` only where set.
    check(
        format!("{V4}?.proplist=comment&list=a"),
        vec![vec![".id", "comment"], vec![".id"]],
    )
    .await;
    check(format!("{V4}/*3?.proplist=list"), vec![vec![".id", "list"]]).await;
}

#[tokio::test]
async fn get_by_id_returns_one_bare_object_and_unknown_ids_are_404() {
    let s = seeded().await;
    let r = s.get(&format!("{V4}/*3")).await;
    assert_eq!(r.status, 200);
    assert_router_json(&r.text);
    let v = r.json();
    assert_eq!(
        (v[".id"].as_str(), v["address"].as_str(), v["list"].as_str()),
        (Some("*3"), Some("10.0.0.3"), Some("b"))
    );
    for id in ["*5", "*FF", "*0", "*3C"] {
        s.get(&format!("{V4}/{id}")).await.assert_error(404, None);
    }
    // An id of the other family's menu is not found either.
    s.get(&format!("{V6}/*1")).await.assert_error(404, None);
}

#[tokio::test]
async fn put_creates_one_row_with_201_location_and_the_whole_object() {
    let s = start().await;
    let r = s.call("PUT", V4, Some(json!({"list":"blocked","address":"203.0.113.45","timeout":"1d","comment":"reported by IDS"}))).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_router_json(&r.text);
    let v = r.json();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            ".id",
            "address",
            "comment",
            "creation-time",
            "disabled",
            "dynamic",
            "list",
            "timeout"
        ]
    );
    assert_eq!(v["timeout"], "1d");
    assert_eq!(v["dynamic"], "true");
    let id = v[".id"].as_str().unwrap();
    let location = r.header("location").expect("a Location header");
    let expected_tail = format!("/rest/ip/firewall/address-list/{id}");
    assert_eq!(location, format!("{}{expected_tail}", s.sim.https_url()));
    // The Location leads to the row.
    let again = s.get(&expected_tail).await;
    assert_eq!(again.json(), v);
}

#[tokio::test]
async fn patch_answers_200_with_the_whole_updated_object() {
    let s = seeded().await;
    let r = s
        .call(
            "PATCH",
            &format!("{V4}/*3"),
            Some(json!({"comment":"now with comment","disabled":"yes"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_router_json(&r.text);
    let v = r.json();
    assert_eq!(v[".id"], "*3");
    assert_eq!(v["comment"], "now with comment");
    assert_eq!(v["disabled"], "true");
    assert_eq!(v["address"], "10.0.0.3");
    assert!(v.get("creation-time").is_some());
    assert_eq!(s.get(&format!("{V4}/*3")).await.json(), v);
    // An empty comment removes the key.
    let v = s
        .call("PATCH", &format!("{V4}/*3"), Some(json!({"comment":""})))
        .await
        .json();
    assert!(v.get("comment").is_none(), "{v}");
    // Unknown ids are 404.
    s.call("PATCH", &format!("{V4}/*99"), Some(json!({"comment":"x"})))
        .await
        .assert_error(404, None);
}

#[tokio::test]
async fn delete_answers_204_with_no_body_and_then_404() {
    let s = seeded().await;
    let r = s.call("DELETE", &format!("{V4}/*2"), None).await;
    assert_eq!((r.status, r.text.as_str()), (204, ""));
    s.call("DELETE", &format!("{V4}/*2"), None)
        .await
        .assert_error(404, None);
    s.get(&format!("{V4}/*2")).await.assert_error(404, None);
    assert_eq!(ids(&s.rows(V4).await), ["*1", "*3", "*4"]);
}

#[tokio::test]
async fn post_print_with_query_stacks() {
    let s = seeded().await;
    let check = |query: Value, expected: &'static [&'static str]| {
        let s = &s;
        async move {
            let body = json!({".proplist":[".id"], ".query": query.clone()});
            let r = s.call("POST", &format!("{V4}/print"), Some(body)).await;
            assert_eq!(r.status, 200, "{query}: {}", r.text);
            assert_router_json(&r.text);
            assert_eq!(ids(r.json().as_array().unwrap()), expected, "{query}");
        }
    };
    check(json!([]), &["*1", "*2", "*3", "*4"]).await;
    check(json!(["list=a"]), &["*1", "*2"]).await;
    check(json!(["list=a", "dynamic=true"]), &["*2"]).await;
    check(json!(["list=a", "list=b", "#|"]), &["*1", "*2", "*3", "*4"]).await;
    check(json!(["address=10.0.0.1", "list=b", "#&"]), &["*4"]).await;
    check(json!(["list=a", "#!"]), &["*3", "*4"]).await;
    check(json!(["comment"]), &["*1", "*4"]).await;
    check(json!(["-comment"]), &["*2", "*3"]).await;
    check(json!(["timeout"]), &["*2"]).await;
    check(
        json!([
            "address=10.0.0.2",
            "address=10.0.0.3",
            "#|",
            "disabled=false",
            "#&"
        ]),
        &["*2", "*3"],
    )
    .await;
    // The forum's stack: three lists or-ed, and-ed with an address.
    check(
        json!([
            "list=a",
            "list=b",
            "list=c",
            "#|",
            "#|",
            "address=10.0.0.1",
            "#&"
        ]),
        &["*1", "*4"],
    )
    .await;
    check(json!(["list=nosuch"]), &[]).await;
}

#[tokio::test]
async fn post_print_proplist_returns_exactly_the_listed_keys() {
    let s = seeded().await;
    let check = |body: Value, expected: Value| {
        let s = &s;
        async move {
            let r = s
                .call("POST", &format!("{V4}/print"), Some(body.clone()))
                .await;
            assert_eq!(r.status, 200, "{body}: {}", r.text);
            assert_eq!(r.json(), expected, "{body}");
        }
    };
    // `.id` only when listed (fixtures/README.md: the manual's example returns no `.id`).
    check(
        json!({".proplist":["address"], ".query":["list=b"]}),
        json!([{"address":"10.0.0.3"},{"address":"10.0.0.1"}]),
    )
    .await;
    check(
        json!({".proplist":"address,list", ".query":["list=b"]}),
        json!([{"address":"10.0.0.3","list":"b"},{"address":"10.0.0.1","list":"b"}]),
    )
    .await;
    check(
        json!({".proplist":[".id","comment"], ".query":["comment"]}),
        json!([{".id":"*1","comment":"x"},{".id":"*4","comment":"y"}]),
    )
    .await;
}

#[tokio::test]
async fn post_print_without_arguments_lists_every_row() {
    let s = seeded().await;
    for body in [None, Some(json!({}))] {
        let r = s.call("POST", &format!("{V4}/print"), body).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.json(), s.get(V4).await.json());
    }
}

#[tokio::test]
async fn post_add_answers_the_new_id_as_ret() {
    let s = seeded().await;
    let r = s
        .call(
            "POST",
            &format!("{V4}/add"),
            Some(json!({"list":"c","address":"192.0.2.1"})),
        )
        .await;
    assert_eq!((r.status, r.text.as_str()), (200, r#"{"ret":"*5"}"#));
    let row = s.get(&format!("{V4}/*5")).await.json();
    assert_eq!(
        (row["list"].as_str(), row["address"].as_str()),
        (Some("c"), Some("192.0.2.1"))
    );
}

#[tokio::test]
async fn post_set_answers_an_empty_array() {
    let s = seeded().await;
    let r = s
        .call(
            "POST",
            &format!("{V4}/set"),
            Some(json!({".id":"*3","comment":"set"})),
        )
        .await;
    assert_eq!((r.status, r.text.as_str()), (200, "[]"));
    assert_eq!(s.get(&format!("{V4}/*3")).await.json()["comment"], "set");
    // `numbers` with a comma list sets several.
    let r = s
        .call(
            "POST",
            &format!("{V4}/set"),
            Some(json!({"numbers":"*1,*3","list":"z"})),
        )
        .await;
    assert_eq!((r.status, r.text.as_str()), (200, "[]"));
    assert_eq!(ids(&s.rows(&format!("{V4}?list=z")).await), ["*1", "*3"]);
    // Without an id.
    s.call("POST", &format!("{V4}/set"), Some(json!({"comment":"x"})))
        .await
        .assert_error(400, Some("missing =.id="));
}

#[tokio::test]
async fn post_remove_by_id_and_by_numbers_list() {
    let s = seeded().await;
    let r = s
        .call("POST", &format!("{V4}/remove"), Some(json!({".id":"*2"})))
        .await;
    assert_eq!((r.status, r.text.as_str()), (200, "[]"));
    assert_eq!(ids(&s.rows(V4).await), ["*1", "*3", "*4"]);
    let r = s
        .call(
            "POST",
            &format!("{V4}/remove"),
            Some(json!({"numbers":"*1,*4"})),
        )
        .await;
    assert_eq!((r.status, r.text.as_str()), (200, "[]"));
    assert_eq!(ids(&s.rows(V4).await), ["*3"]);
}

#[tokio::test]
async fn set_and_remove_of_unknown_ids_are_404_and_change_nothing() {
    let s = seeded().await;
    let before = s.get(V4).await.json();
    let check = |cmd: &'static str, body: Value| {
        let s = &s;
        async move {
            s.call("POST", &format!("{V4}/{cmd}"), Some(body))
                .await
                .assert_error(404, None);
        }
    };
    check("set", json!({".id":"*99","comment":"x"})).await;
    check("set", json!({"numbers":"*1,*99","comment":"x"})).await;
    check("remove", json!({".id":"*99"})).await;
    check("remove", json!({"numbers":"*1,*99"})).await;
    assert_eq!(s.get(V4).await.json(), before);
}

#[tokio::test]
async fn count_only_answers_the_number_as_ret() {
    let s = seeded().await;
    let check = |body: Value, expected: &'static str| {
        let s = &s;
        async move {
            let r = s
                .call("POST", &format!("{V4}/print"), Some(body.clone()))
                .await;
            assert_eq!((r.status, r.text.as_str()), (200, expected), "{body}");
        }
    };
    check(json!({"count-only":""}), r#"{"ret":"4"}"#).await;
    check(
        json!({"count-only":"", ".query":["list=a"]}),
        r#"{"ret":"2"}"#,
    )
    .await;
    check(
        json!({"count-only":"", ".query":["list=nosuch"]}),
        r#"{"ret":"0"}"#,
    )
    .await;
    let r = s
        .call(
            "POST",
            &format!("{V6}/print"),
            Some(json!({"count-only":""})),
        )
        .await;
    assert_eq!(r.text, r#"{"ret":"0"}"#);
}

#[tokio::test]
async fn the_ipv6_menu_has_the_same_methods() {
    let s = start().await;
    let id = s
        .put(V6, json!({"list":"v6","address":"2001:db8::1"}))
        .await;
    assert_eq!(id, "*1");
    let r = s
        .call(
            "POST",
            &format!("{V6}/add"),
            Some(json!({"list":"v6","address":"2001:db8::/32"})),
        )
        .await;
    assert_eq!(r.text, r#"{"ret":"*2"}"#);
    assert_eq!(s.addresses(V6).await, ["2001:db8::1/128", "2001:db8::/32"]);
    let r = s
        .call("PATCH", &format!("{V6}/*1"), Some(json!({"comment":"c"})))
        .await;
    assert_eq!(r.json()["comment"], "c");
    assert_eq!(
        s.call("DELETE", &format!("{V6}/*1"), None).await.status,
        204
    );
    // The two families are separate menus with separate ids.
    assert_eq!(s.get(V4).await.text, "[]");
    assert_eq!(
        s.put(V4, json!({"list":"v4","address":"10.0.0.1"})).await,
        "*1"
    );
}

#[tokio::test]
async fn post_disable_and_enable_follow_the_duplicate_rule() {
    let s = seeded().await;
    let r = s
        .call("POST", &format!("{V4}/disable"), Some(json!({".id":"*1"})))
        .await;
    assert_eq!((r.status, r.text.as_str()), (200, "[]"));
    assert_eq!(s.get(&format!("{V4}/*1")).await.json()["disabled"], "true");
    // *4 (b/10.0.0.1) is a disabled twin of nothing live in list b: it can be enabled.
    let r = s
        .call(
            "POST",
            &format!("{V4}/enable"),
            Some(json!({"numbers":"*4"})),
        )
        .await;
    assert_eq!((r.status, r.text.as_str()), (200, "[]"));
    // A twin of *1 in list a, enabled while *1 is disabled; re-enabling *1 is then a duplicate.
    s.put(V4, json!({"list":"a","address":"10.0.0.1"})).await;
    let r = s
        .call("POST", &format!("{V4}/enable"), Some(json!({".id":"*1"})))
        .await;
    r.assert_error(400, Some("failure: already have such entry"));
}

#[tokio::test]
async fn proplist_on_a_singleton_keeps_only_the_listed_keys() {
    let s = start().await;
    let v = s
        .get("/rest/system/resource?.proplist=uptime,version")
        .await
        .json();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["uptime", "version"]);
}
