//! `/ip/firewall/filter` and `/ipv6/firewall/filter` over REST: every method and the commands of
//! their own (`move`, `place-before`, `reset-counters`), through a real HTTPS client.
//!
//! The rules' semantics are unit-tested in `src/firewall/`; these tests check that the menus are
//! wired to REST as the other menus are: rows in console order with the fixed keys, PUT/PATCH/
//! DELETE with their statuses, `POST` commands with `.id`, and refusals in the router's envelope.

use serde_json::{Value, json};

use crate::support::start;

const F4: &str = "/rest/ip/firewall/filter";
const F6: &str = "/rest/ipv6/firewall/filter";

fn order(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .map(|r| {
            format!(
                "{} {}",
                r[".id"].as_str().unwrap(),
                r["action"].as_str().unwrap()
            )
        })
        .collect()
}

#[tokio::test]
async fn methods_and_commands_follow_the_rule_order() {
    let s = start().await;
    assert_eq!(s.rows(F4).await, Vec::<Value>::new());
    let drop = s.put(F4, json!({"chain":"forward","action":"drop"})).await;
    assert_eq!(drop, "*1");
    // `place-before` puts the accept rule above the drop, as the vendor's guide asks.
    let r = s
        .call(
            "POST",
            &format!("{F4}/add"),
            Some(
                json!({"chain":"forward","src-address-list":"knocknoc-users","place-before":"*1"}),
            ),
        )
        .await;
    assert_eq!((r.status, r.json()), (200, json!({"ret":"*2"})));
    let rows = s.rows(F4).await;
    assert_eq!(order(&rows), ["*2 accept", "*1 drop"]);
    // Every row shows the fixed keys, strings only.
    assert_eq!(
        rows[1],
        json!({".id":"*1","action":"drop","bytes":"0","chain":"forward","dynamic":"false","invalid":"false","packets":"0"})
    );
    assert_eq!(
        rows[0]["invalid"], "true",
        "an empty list makes the rule invalid"
    );
    // `move` with `.id` and no destination: to the end.
    let r = s
        .call("POST", &format!("{F4}/move"), Some(json!({".id":"*2"})))
        .await;
    assert_eq!((r.status, r.text.as_str()), (200, "[]"));
    assert_eq!(order(&s.rows(F4).await), ["*1 drop", "*2 accept"]);
    let r = s
        .call(
            "POST",
            &format!("{F4}/move"),
            Some(json!({"numbers":"*2","destination":"*1"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(order(&s.rows(F4).await), ["*2 accept", "*1 drop"]);
    // PATCH answers with the whole row; GET of one item; DELETE then 404.
    let r = s
        .call(
            "PATCH",
            &format!("{F4}/*2"),
            Some(json!({"disabled":"yes","comment":"c"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["disabled"], "true");
    assert_eq!(s.get(&format!("{F4}/*2")).await.json()["comment"], "c");
    let r = s
        .call("POST", &format!("{F4}/enable"), Some(json!({".id":"*2"})))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(s.get(&format!("{F4}/*2")).await.json()["disabled"], "false");
    let r = s
        .call(
            "POST",
            &format!("{F4}/reset-counters"),
            Some(json!({".id":"*2"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s.call("DELETE", &format!("{F4}/*1"), None).await;
    assert_eq!(r.status, 204);
    s.call("DELETE", &format!("{F4}/*1"), None)
        .await
        .assert_error(404, None);
    // Query filters and the other family's separate table.
    assert_eq!(s.rows(&format!("{F4}?chain=forward")).await.len(), 1);
    assert_eq!(s.rows(&format!("{F4}?chain=input")).await.len(), 0);
    assert_eq!(s.rows(F6).await.len(), 0);
}

#[tokio::test]
async fn refusals_are_in_the_routers_words() {
    let s = start().await;
    s.put(F6, json!({"chain":"forward","action":"drop"})).await;
    s.call("PUT", F6, Some(json!({"chain":"input","action":"tarpit"})))
        .await
        .assert_error(400, Some("input does not match any value of action"));
    s.call("PUT", F4, Some(json!({"action":"drop"})))
        .await
        .assert_error(400, Some("missing =chain="));
    s.call(
        "PATCH",
        &format!("{F6}/*1"),
        Some(json!({"place-before":"*1"})),
    )
    .await
    .assert_error(400, Some("unknown parameter place-before"));
    s.call("POST", &format!("{F6}/move"), Some(json!({".id":"*7"})))
        .await
        .assert_error(404, None);
    s.call(
        "POST",
        &format!("{F6}/move"),
        Some(json!({".id":"*1","destination":"*1"})),
    )
    .await
    .assert_error(400, Some("failure: can not move object before itself"));
    s.call("PUT", F4, Some(json!({"chain":"forward","dst-port":"22"})))
        .await
        .assert_error(400, Some(simulator::firewall::schema::PORTS_NEED_PROTOCOL));
}
