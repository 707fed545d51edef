//! Version-dependent shapes (ROUTEROS-REST.md section 7 and the table in `model/version.rs`).
//!
//! The same requests against simulators following different RouterOS versions: `creation-time`
//! before and from 7.10, singleton menus as a one-element array before 7.19 and a bare object from
//! 7.19, the `version` string of `/system/resource`, and the keys that appeared in 7.16 and 7.19.

use serde_json::{Value, json};

use crate::support::{Sim, V4, assert_router_json, start_with};
use crate::values::expected_creation_time;
use simulator::{Simulator, Version};

async fn on(version: &str) -> Sim {
    start_with(Simulator::builder().version(version.parse::<Version>().unwrap())).await
}

fn keys(v: &Value) -> Vec<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

#[tokio::test]
async fn singletons_are_bare_objects_from_7_19_and_arrays_before() {
    for (version, object) in [
        ("7.23.7", true),
        ("7.19.4", true),
        ("7.19", true),
        ("7.18.2", false),
        ("7.10", false),
        ("7.1beta4", false),
    ] {
        let s = on(version).await;
        for path in ["/rest/system/resource", "/rest/system/identity"] {
            let r = s.get(path).await;
            assert_eq!(r.status, 200, "{version} {path}");
            assert_router_json(&r.text);
            let v = r.json();
            let row = if object {
                assert!(v.is_object(), "{version} {path}: {v}");
                v
            } else {
                let rows = v
                    .as_array()
                    .unwrap_or_else(|| panic!("{version} {path}: not an array: {v}"));
                assert_eq!(rows.len(), 1, "{version} {path}");
                rows[0].clone()
            };
            assert!(
                row.get(".id").is_none(),
                "{version} {path}: singletons have no .id"
            );
        }
        let identity = s.get("/rest/system/identity").await.json();
        let name = if object {
            identity["name"].clone()
        } else {
            identity[0]["name"].clone()
        };
        assert_eq!(name, "MikroTik", "{version}");
    }
}

#[tokio::test]
async fn resource_version_strings_name_the_channel() {
    for (version, shown) in [
        ("7.23.7", "7.23.7 (long-term)"),
        ("7.19.4", "7.19.4 (stable)"),
        ("7.24rc1", "7.24rc1 (testing)"),
        ("7.20.5 (stable)", "7.20.5 (stable)"),
    ] {
        let s = on(version).await;
        assert_eq!(
            s.get("/rest/system/resource").await.json()["version"],
            shown,
            "{version}"
        );
    }
    // The default is the current long-term release.
    let s = start_with(Simulator::builder()).await;
    assert_eq!(
        s.get("/rest/system/resource").await.json()["version"],
        "7.23.7 (long-term)"
    );
}

#[tokio::test]
async fn creation_time_changes_form_at_7_10() {
    for (version, iso) in [
        ("7.23.7", true),
        ("7.10", true),
        ("7.9", false),
        ("7.1", false),
    ] {
        let s = on(version).await;
        let wall = s.sim.clock().freeze().wall_ms;
        let v = s
            .call("PUT", V4, Some(json!({"list":"t","address":"10.0.0.1"})))
            .await
            .json();
        let shown = v["creation-time"].as_str().unwrap().to_owned();
        assert_eq!(shown, expected_creation_time(wall, iso), "{version}");
        let form_ok = if iso {
            shown.len() == 19 && shown.as_bytes()[4] == b'-' && shown.as_bytes()[10] == b' '
        } else {
            shown.len() == 20
                && shown[..3].bytes().all(|b| b.is_ascii_lowercase())
                && shown.as_bytes()[3] == b'/'
        };
        assert!(form_ok, "{version}: {shown}");
    }
}

#[tokio::test]
async fn user_and_service_keys_follow_the_version() {
    let user_keys = |s: &'static str| s.split(',').map(str::to_owned).collect::<Vec<_>>();
    for (version, user, service) in [
        (
            "7.23.7",
            user_keys(
                ".id,address,comment,disabled,expired,group,inactivity-policy,inactivity-timeout,name",
            ),
            user_keys(
                ".id,address,certificate,disabled,dynamic,invalid,max-sessions,name,port,proto,tls-version,vrf",
            ),
        ),
        (
            "7.16",
            user_keys(
                ".id,address,comment,disabled,expired,group,inactivity-policy,inactivity-timeout,name",
            ),
            // `max-sessions` is in the schema from 7.16 (tikoci/restraml `docs/7.16/inspect.json`).
            user_keys(
                ".id,address,certificate,disabled,invalid,max-sessions,name,port,tls-version,vrf",
            ),
        ),
        (
            "7.9",
            user_keys(".id,address,comment,disabled,expired,group,name"),
            user_keys(".id,address,certificate,disabled,invalid,name,port,tls-version,vrf"),
        ),
        (
            "7.24rc1",
            user_keys(
                ".id,address,comment,disabled,expired,group,inactivity-policy,inactivity-timeout,name",
            ),
            user_keys(
                ".id,available-from,certificate,disabled,dynamic,invalid,max-sessions,name,port,proto,tls-version,vrf",
            ),
        ),
    ] {
        let s = on(version).await;
        assert_eq!(
            keys(&s.get("/rest/user/admin").await.json()),
            user,
            "{version} /user"
        );
        assert_eq!(
            keys(&s.get("/rest/ip/service/www-ssl").await.json()),
            service,
            "{version} /ip/service"
        );
    }
}

#[tokio::test]
async fn get_proplist_keeps_the_id_from_7_2() {
    for (version, with_id) in [("7.23.7", true), ("7.2", true), ("7.1", false)] {
        let s = on(version).await;
        s.put(V4, json!({"list":"p","address":"10.0.0.1"})).await;
        let rows = s.rows(&format!("{V4}?.proplist=address")).await;
        let expected: Vec<&str> = if with_id {
            vec![".id", "address"]
        } else {
            vec!["address"]
        };
        assert_eq!(keys(&rows[0]), expected, "{version}");
    }
}
