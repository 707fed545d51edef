//! The grant lifecycle through the commands: grant, refresh, revoke, shared addresses, expiry,
//! IPv6, foreign entries left alone, and an agent restart that restores the list.

use std::time::Duration;

use agent::commands::{Command, exit};
use simulator::Family;

use crate::support::{Harness, TAG, assert_status};

#[tokio::test]
async fn grant_adds_a_tagged_timed_entry() {
    let h = Harness::start().await;
    let out = h.grant("192.0.2.10/32", "ann", "1h").await;
    assert_status(&out, exit::OK);
    let entries = h.entries(Family::V4);
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].address, "192.0.2.10");
    assert_eq!(entries[0].comment.as_deref(), Some(TAG));
    assert_eq!(entries[0].remaining_s, Some(3600));
    assert_eq!(out.json["report"]["added"][0], "192.0.2.10");
    // The same grant again changes nothing on the router.
    let mark = h.sim.journal_mark();
    assert_status(&h.run(Command::Sync).await, exit::OK);
    let writes: Vec<String> = h
        .requests_since(mark)
        .into_iter()
        .filter(|r| !r.starts_with("GET"))
        .collect();
    assert!(writes.is_empty(), "{writes:?}");
}

#[tokio::test]
async fn a_later_grant_refreshes_the_timeout() {
    let h = Harness::start().await;
    assert_status(&h.grant("192.0.2.10", "ann", "10m").await, exit::OK);
    h.advance(Duration::from_secs(300));
    assert_eq!(h.v4(), vec![("192.0.2.10".into(), Some(300))]);
    let out = h.grant("192.0.2.10", "ann", "1h").await;
    assert_status(&out, exit::OK);
    assert_eq!(h.v4(), vec![("192.0.2.10".into(), Some(3600))]);
    assert_eq!(out.json["report"]["refreshed"][0], "192.0.2.10");
    // The entry was changed, not replaced.
    assert_eq!(h.entries(Family::V4)[0].id, "*1");
}

#[tokio::test]
async fn revoke_removes_the_entry_and_a_second_revoke_is_harmless() {
    let h = Harness::start().await;
    assert_status(&h.grant("192.0.2.10", "ann", "1h").await, exit::OK);
    let out = h.revoke("192.0.2.10", "ann").await;
    assert_status(&out, exit::OK);
    assert!(h.v4().is_empty());
    assert_eq!(out.json["revoked"], true);
    let again = h.revoke("192.0.2.10", "ann").await;
    assert_status(&again, exit::OK);
    assert_eq!(again.json["revoked"], false);
}

#[tokio::test]
async fn shared_address_lives_while_any_grant_lives() {
    let h = Harness::start().await;
    assert_status(&h.grant("192.0.2.20", "ann", "10m").await, exit::OK);
    assert_status(&h.grant("192.0.2.20", "bob", "1h").await, exit::OK);
    // One entry, carrying the latest expiry.
    assert_eq!(h.v4(), vec![("192.0.2.20".into(), Some(3600))]);
    // Bob leaves first: the entry stays, cut back to Ann's remaining time.
    assert_status(&h.revoke("192.0.2.20", "bob").await, exit::OK);
    assert_eq!(h.v4(), vec![("192.0.2.20".into(), Some(600))]);
    // Last one out closes it.
    assert_status(&h.revoke("192.0.2.20", "ann").await, exit::OK);
    assert!(h.v4().is_empty());
}

#[tokio::test]
async fn expiry_closes_access_on_the_router_and_in_the_store() {
    let h = Harness::start().await;
    assert_status(&h.grant("192.0.2.30", "ann", "5m").await, exit::OK);
    assert_status(&h.grant("192.0.2.31", "bob", "1h").await, exit::OK);
    h.advance(Duration::from_secs(301));
    // The router dropped the entry by itself: access closes even without the agent.
    assert_eq!(h.v4(), vec![("192.0.2.31".into(), Some(3600 - 301))]);
    let out = h.run(Command::Sync).await;
    assert_status(&out, exit::OK);
    assert_eq!(
        out.json["report"]["added"],
        serde_json::json!([]),
        "an expired grant must not be re-added"
    );
    let list = h.run(Command::List).await;
    assert_status(&list, exit::OK);
    let grants = list.json["grants"].as_array().unwrap();
    assert_eq!(grants.len(), 1, "{grants:?}");
    assert_eq!(grants[0]["user"], "bob");
    assert_eq!(grants[0]["remaining"], "54m59s");
}

#[tokio::test]
async fn ipv6_goes_to_the_ipv6_list_in_canonical_form() {
    let mut h = Harness::start().await;
    // A /48 is wider than the default limit (/49): this configuration allows it.
    h.config.prefix_limits.v6 = 48;
    assert_status(&h.grant("2001:DB8:0:0::5", "ann", "1h").await, exit::OK);
    assert_status(&h.grant("2001:db8:1::/48", "bob", "1h").await, exit::OK);
    let v6: Vec<String> = h
        .entries(Family::V6)
        .into_iter()
        .map(|e| e.address)
        .collect();
    assert_eq!(v6, vec!["2001:db8::5/128", "2001:db8:1::/48"]);
    assert!(h.v4().is_empty());
    // Reconciling again finds both equal to the grants: canonical forms match the router's.
    let out = h.run(Command::Sync).await;
    assert_status(&out, exit::OK);
    assert_eq!(out.json["report"]["added"], serde_json::json!([]));
    assert_status(&h.revoke("2001:db8::5", "ann").await, exit::OK);
    assert_eq!(h.entries(Family::V6).len(), 1);
}

#[tokio::test]
async fn invalid_addresses_are_refused_before_sending() {
    let h = Harness::start().await;
    let mark = h.sim.journal_mark();
    for bad in [
        "example.com",
        "10.0.0.1-10.0.0.5",
        "192.0.2.300",
        "2001:db8::1/129",
    ] {
        // Nothing was sent: bad usage (2), not a router or network failure (1).
        let out = h.grant(bad, "ann", "1h").await;
        assert_status(&out, exit::CONFIG);
        assert_eq!(out.json["error"]["code"], 208104, "{bad}");
        assert!(
            out.text.starts_with("error 208104: address rejected"),
            "{}",
            out.text
        );
    }
    assert!(h.requests_since(mark).is_empty());
}

#[tokio::test]
async fn foreign_entries_are_never_touched_and_are_reported() {
    let h = Harness::start().await;
    let untagged = h
        .put_foreign(Family::V4, "192.0.2.40", Some("office"), None)
        .await;
    let untagged_timed = h
        .put_foreign(Family::V4, "192.0.2.41", None, Some("2h"))
        .await;
    let tagged_static = h
        .put_foreign(Family::V4, "192.0.2.42", Some(TAG), None)
        .await;
    let elsewhere = h
        .put_foreign(Family::V4, "192.0.2.43", Some("someone"), Some("1h"))
        .await;
    let before = h.entries(Family::V4);
    for (i, a) in ["192.0.2.40", "192.0.2.41", "192.0.2.42"]
        .into_iter()
        .enumerate()
    {
        let out = h.grant(a, "ann", "30m").await;
        assert_status(&out, exit::CONFLICT);
        // Every granted address held by a foreign entry is reported, this one included.
        let codes: Vec<u64> = out.json["report"]["conflict_errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["code"].as_u64().unwrap())
            .collect();
        assert_eq!(codes, vec![208105; i + 1], "{a}: {}", out.text);
        assert!(
            out.text
                .contains(&format!("error 208105: entry not owned: {a} is in list")),
            "{}",
            out.text
        );
    }
    // Revoking everything and syncing leaves all foreign entries as they were.
    for a in ["192.0.2.40", "192.0.2.41", "192.0.2.42"] {
        h.revoke(a, "ann").await;
    }
    assert_status(&h.run(Command::Sync).await, exit::OK);
    assert_eq!(h.entries(Family::V4), before);
    let ids: Vec<String> = before.iter().map(|e| e.id.clone()).collect();
    assert_eq!(
        ids,
        vec![untagged, untagged_timed, tagged_static, elsewhere]
    );
}

#[tokio::test]
async fn a_tagged_entry_the_agent_does_not_remember_is_adopted() {
    let h = Harness::start().await;
    // An entry with the agent's tag and a timeout that the agent does not remember creating (its
    // store was lost, or another instance made it) is the agent's by its tag: adopted, not duplicated.
    h.put_foreign(Family::V4, "192.0.2.50", Some(TAG), Some("5m"))
        .await;
    let out = h.grant("192.0.2.50", "ann", "1h").await;
    assert_status(&out, exit::OK);
    let entries = h.entries(Family::V4);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].remaining_s, Some(3600));
}

#[tokio::test]
async fn agent_restart_restores_the_list() {
    let h = Harness::start().await;
    assert_status(&h.grant("192.0.2.60", "ann", "1h").await, exit::OK);
    assert_status(&h.grant("2001:db8::60", "bob", "2h").await, exit::OK);
    // While the agent is down, the router loses its dynamic entries (a reboot) and time passes.
    h.sim.reboot();
    h.advance(Duration::from_secs(60));
    assert!(h.v4().is_empty() && h.entries(Family::V6).is_empty());
    // A new agent process starts from the same grant store.
    let out = h.run(Command::Sync).await;
    assert_status(&out, exit::OK);
    assert_eq!(h.v4(), vec![("192.0.2.60".into(), Some(3540))]);
    let v6: Vec<(String, Option<u64>)> = h
        .entries(Family::V6)
        .into_iter()
        .map(|e| (e.address, e.remaining_s))
        .collect();
    assert_eq!(v6, vec![("2001:db8::60/128".into(), Some(7140))]);
}

#[tokio::test]
async fn a_damaged_store_stops_the_agent_without_touching_anything() {
    let h = Harness::start().await;
    std::fs::write(&h.config.state, "{ not json").unwrap();
    let mark = h.sim.journal_mark();
    let out = h.grant("192.0.2.70", "ann", "1h").await;
    assert_status(&out, exit::STORE);
    assert!(out.text.contains("damaged"), "{}", out.text);
    assert_eq!(
        std::fs::read_to_string(&h.config.state).unwrap(),
        "{ not json"
    );
    assert!(h.requests_since(mark).is_empty());
}
