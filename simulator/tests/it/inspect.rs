//! `/console/inspect` over REST, walked the way tikoci/restraml's `rest2raml.js` walks a real CHR:
//! `POST /rest/console/inspect {"request":"child","path":"ip,firewall"}` from the root down, and
//! `request=syntax` of every argument. What comes back is held to `fixtures/routeros/inspect.json`
//! (the schema dumps of real routers): every node the simulator shows is a node a router of that
//! version shows, with the same node type and value description.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use simulator::{Simulator, Version};

use crate::support::{Sim, start_with};

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/routeros/inspect.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

async fn inspect(sim: &Sim, body: Value) -> Vec<Value> {
    let r = sim.call("POST", "/rest/console/inspect", Some(body)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json().as_array().unwrap().clone()
}

/// rest2raml.js's `parseChildren`: nodes by full path, with their node type and, for arguments,
/// the `syntax` text when exactly one non-empty row comes back.
async fn restraml_walk(sim: &Sim) -> BTreeMap<String, (String, Option<String>)> {
    let mut out = BTreeMap::new();
    let mut todo: Vec<Vec<String>> = vec![Vec::new()];
    while let Some(path) = todo.pop() {
        let rows = inspect(sim, json!({"request": "child", "path": path.join(",")})).await;
        for child in rows.iter().filter(|r| r["type"] == "child") {
            let mut next = path.clone();
            next.push(child["name"].as_str().unwrap().to_owned());
            let kind = child["node-type"].as_str().unwrap().to_owned();
            let mut desc = None;
            if kind == "arg" {
                let syntax =
                    inspect(sim, json!({"request": "syntax", "path": next.join(",")})).await;
                if let [one] = syntax.as_slice()
                    && let Some(text) = one["text"].as_str().filter(|t| !t.is_empty())
                {
                    desc = Some(text.to_owned());
                }
            }
            out.insert(format!("/{}", next.join("/")), (kind, desc));
            todo.push(next);
        }
    }
    out
}

#[tokio::test]
async fn a_restraml_walk_over_rest_matches_the_schema() {
    let fx = fixture();
    // One version over REST (every schema version is walked in process by the unit test
    // `model::menus::inspect::tests::a_restraml_walk_matches_the_schema`).
    for (version, schema) in [("7.23.3", "7.23.3")] {
        let sim =
            start_with(Simulator::builder().version(version.parse::<Version>().unwrap())).await;
        let walked = restraml_walk(&sim).await;
        assert!(walked.len() > 500, "{version}: {} nodes", walked.len());
        let versions: Vec<&str> = fx["versions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let pos = |v: &str| versions.iter().position(|x| *x == v).unwrap();
        let here = pos(schema);
        let mut described = 0;
        for (path, (kind, desc)) in &walked {
            let node = &fx["nodes"][path.as_str()];
            if node.is_null() {
                // Directories above the served menus are not in the dumps' menu trees; the
                // singleton print flags the simulator accepts are its listed divergences.
                let above = fx["nodes"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .any(|k| k.starts_with(&format!("{path}/")));
                let singleton_extra = path == "/system/resource/set"
                    || ["proplist", "count-only", "detail", "show-ids", "terse"]
                        .iter()
                        .any(|a| {
                            *path == format!("/system/resource/print/{a}")
                                || *path == format!("/system/identity/print/{a}")
                        });
                assert!(
                    above || singleton_extra,
                    "{version}: {path} is not reported"
                );
                continue;
            }
            assert_eq!(node["type"], kind.as_str(), "{version}: {path}");
            let real = node["desc"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|r| {
                    pos(r[1].as_str().unwrap()) <= here && here <= pos(r[2].as_str().unwrap())
                })
                .map(|r| r[0].as_str().unwrap());
            assert_eq!(desc.as_deref(), real, "{version}: syntax of {path}");
            described += usize::from(real.is_some());
        }
        assert!(described > 10, "{version}: {described}");
    }
}

/// The reply shapes clients read: `.proplist=name,node-type` as a published 7.x reply shows it
/// (the command itself first, then its arguments), a GET of the command path, a path word that
/// does not exist, and the version switch of `proplist` (7.15).
#[tokio::test]
async fn inspect_replies_as_a_router_does() {
    let sim = start_with(Simulator::builder()).await;
    let rows = inspect(
        &sim,
        json!({"request": "child", "path": "ip,firewall,address-list,add",
               ".proplist": "name,node-type"}),
    )
    .await;
    assert_eq!(rows[0], json!({"name": "add", "node-type": "cmd"}));
    assert_eq!(rows[1], json!({"name": "address", "node-type": "arg"}));
    assert_eq!(rows.len(), 8, "{rows:?}");
    sim.get("/rest/console/inspect")
        .await
        .assert_error(400, Some("no such command"));
    sim.call(
        "POST",
        "/rest/console/inspect",
        Some(json!({"request": "child", "path": "ip,nosuch"})),
    )
    .await
    .assert_error(400, Some("no such command or directory (nosuch)"));
    let old = start_with(Simulator::builder().version("7.13.5".parse::<Version>().unwrap())).await;
    old.call(
        "POST",
        "/rest/console/inspect",
        Some(json!({"request": "self", ".proplist": "name"})),
    )
    .await
    .assert_error(400, Some("unknown parameter .proplist"));
}
