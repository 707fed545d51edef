//! `/ip/firewall/filter` and `/ipv6/firewall/filter` over REST: every method and the commands of
//! their own (`move`, `place-before`, `reset-counters`), through a real HTTPS client.
//!
//! The rules' semantics are unit-tested in `src/firewall/`; these tests check that the menus are
//! wired to REST as the other menus are: rows in console order with the fixed keys, PUT/PATCH/
//! DELETE with their statuses, `POST` commands with `.id`, and refusals in the router's envelope;
//! and the verdict through the control API (handle and client) and `routeros-sim verdict`.

use std::time::Duration;

use serde_json::{Value, json};
use simulator::Control as _;
use simulator::control::types::VerdictRequest;
use simulator::{ControlClient, Simulator};

use crate::support::{start, start_with};

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

fn vendor_guide() -> simulator::Seed {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/seeds/vendor-guide.toml");
    simulator::Seed::from_file(&path).unwrap()
}

fn packet(src: &str, dst: &str) -> VerdictRequest {
    VerdictRequest {
        chain: "forward".into(),
        connection_state: None,
        dst: dst.parse().unwrap(),
        dst_port: Some(22),
        family: None,
        in_interface: None,
        out_interface: None,
        protocol: Some("tcp".into()),
        size: None,
        src: src.parse().unwrap(),
        src_port: None,
    }
}

/// `(decision, deciding rule id)` of a verdict.
fn decided(v: &simulator::control::types::VerdictReply) -> (String, Option<String>) {
    (
        v.decision.clone(),
        v.decided_by.as_ref().map(|s| s.id.clone()),
    )
}

/// The vendor guide's seed: a grant opens the way through its rule, expiry closes it again, and
/// the hits show in the rules' counters over REST; the handle and the client answer alike.
#[tokio::test]
async fn verdicts_follow_grants_and_expiry_and_count_on_the_rules() {
    let s = start_with(Simulator::builder().seed(vendor_guide())).await;
    let client = ControlClient::new(&s.sim.control_url().unwrap(), None).unwrap();
    let both: [&dyn simulator::Control; 2] = [&s.sim, &client];
    let p = packet("198.51.100.7", "10.0.0.5");
    for c in both {
        let v = c.verdict(&p).await.unwrap();
        assert_eq!(decided(&v), ("drop".into(), Some("*2".into())));
    }
    s.put(
        "/rest/ip/firewall/address-list",
        json!({"list":"knocknoc-users","address":"198.51.100.7","timeout":"1m"}),
    )
    .await;
    for c in both {
        let v = c.verdict(&p).await.unwrap();
        assert_eq!(decided(&v), ("accept".into(), Some("*1".into())));
        let step = v.decided_by.unwrap();
        assert_eq!(
            step.comment.as_deref(),
            Some("knocknoc: accept granted users")
        );
        assert!(
            step.matchers
                .iter()
                .any(|m| m.key == "src-address-list" && m.outcome == "match")
        );
    }
    let rule = s.get(&format!("{F4}/*1")).await.json();
    assert_eq!(
        (rule["packets"].as_str(), rule["bytes"].as_str()),
        (Some("2"), Some("120"))
    );
    // Another source, and the IPv6 table, still meet the default drop.
    let v = s
        .sim
        .verdict(&packet("203.0.113.9", "10.0.0.5"))
        .await
        .unwrap();
    assert_eq!(decided(&v), ("drop".into(), Some("*2".into())));
    let v = s
        .sim
        .verdict(&packet("2001:db8::7", "2001:db8:1::5"))
        .await
        .unwrap();
    assert_eq!(decided(&v), ("drop".into(), Some("*2".into())));
    assert_eq!(v.family, simulator::Family::V6);
    // The entry expires on the simulator's clock: the drop decides again.
    s.sim.advance_clock(Duration::from_secs(61)).await;
    let v = client.verdict(&p).await.unwrap();
    assert_eq!(decided(&v), ("drop".into(), Some("*2".into())));
    // A request that cannot be used is refused with a sentence, by both.
    let mixed = packet("198.51.100.7", "2001:db8::1");
    for c in both {
        let e = c.verdict(&mixed).await.unwrap_err();
        assert!(e.to_string().contains("different families"), "{e}");
    }
    let mut bad = packet("198.51.100.7", "10.0.0.5");
    bad.protocol = Some("tcpp".into());
    let e = client.verdict(&bad).await.unwrap_err();
    assert!(e.to_string().contains("protocol `tcpp`"), "{e}");
}

/// `routeros-sim verdict` prints which rule decided, as text and as JSON.
#[tokio::test]
async fn the_verdict_subcommand_prints_the_deciding_rule() {
    let s = start_with(Simulator::builder().seed(vendor_guide())).await;
    s.put(
        "/rest/ip/firewall/address-list",
        json!({"list":"knocknoc-users","address":"198.51.100.7"}),
    )
    .await;
    let control = s.sim.control_url().unwrap();
    let exe = env!("CARGO_BIN_EXE_routeros-sim");
    let run = |extra: &[&str]| {
        let control = control.clone();
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        async move {
            let out = tokio::process::Command::new(exe)
                .args([
                    "verdict",
                    "--chain",
                    "forward",
                    "--src",
                    "198.51.100.7",
                    "--dst",
                    "10.0.0.5",
                    "--protocol",
                    "tcp",
                    "--dst-port",
                    "22",
                    "--control",
                ])
                .arg(&control)
                .args(&extra)
                .output()
                .await
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap()
        }
    };
    let text = run(&[]).await;
    assert!(
        text.starts_with("ACCEPT by rule *1 (position 0, chain forward, action accept, \"knocknoc: accept granted users\")"),
        "{text}"
    );
    assert!(
        text.contains("src-address-list=knocknoc-users: match"),
        "{text}"
    );
    let json: Value = serde_json::from_str(&run(&["--json"]).await).unwrap();
    assert_eq!(json["decision"], "accept");
    assert_eq!(json["decided_by"]["id"], "*1");
}
