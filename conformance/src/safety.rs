//! Proving that a shared target was left as it was found.
//!
//! Before the first scenario the suite reads everything it could touch (both address-list menus,
//! users, groups, services, identity); after the last one and its clean-up it reads them again. Rows
//! that belong to the run (names starting with the run prefix) are left out, as are values that
//! change by themselves (`timeout` counting down, `last-logged-in`). Dynamic rows are left out too:
//! on a live router firewall rules add and expire dynamic address-list entries and every open
//! connection is a dynamic `/ip/service` row, none of which the suite writes (its write guard refuses
//! any write outside its own names). Whatever else differs is a failure of the run.
//!
//! The same reading also decides whether the run may start: it refuses when a list of this run
//! already holds entries, because those would be entries it did not create.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::Failure;
use crate::rest::Rest;

/// The menus read before and after.
pub const MENUS: [&str; 6] = [
    "/ip/firewall/address-list",
    "/ipv6/firewall/address-list",
    "/user",
    "/user/group",
    "/ip/service",
    "/system/identity",
];

/// Keys whose values change without anyone writing.
const VOLATILE: [&str; 3] = ["timeout", "last-logged-in", "uptime"];

/// A normalised reading: for each menu, its rows as sorted `key=value` lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceState {
    /// Rows by menu.
    pub menus: BTreeMap<&'static str, Vec<String>>,
    /// Rows that belong to this run (by menu), for the start check and the final sweep.
    pub own: BTreeMap<&'static str, Vec<(String, String)>>,
}

fn owned_name(row: &serde_json::Map<String, Value>, prefix: &str) -> Option<String> {
    ["list", "name"]
        .iter()
        .filter_map(|k| row.get(*k).and_then(Value::as_str))
        .find(|n| n.starts_with(prefix))
        .map(str::to_owned)
}

/// Reads the state.
pub async fn read(rest: &Rest, prefix: &str) -> Result<DeviceState, Failure> {
    let mut state = DeviceState::default();
    for menu in MENUS {
        let reply = rest.get(menu).await?;
        reply.expect_status(200)?;
        let rows = match reply.json()? {
            Value::Array(items) => items,
            obj @ Value::Object(_) => vec![obj],
            other => return Err(Failure::new(format!("{menu}: unexpected {other}"))),
        };
        let mut lines = Vec::new();
        for row in rows {
            let Value::Object(map) = row else { continue };
            if let Some(name) = owned_name(&map, prefix) {
                let id = map
                    .get(".id")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                state.own.entry(menu).or_default().push((id, name));
                continue;
            }
            if map.get("dynamic").and_then(Value::as_str) == Some("true") {
                continue;
            }
            let line: Vec<String> = map
                .iter()
                .filter(|(k, _)| !VOLATILE.contains(&k.as_str()))
                .map(|(k, v)| format!("{k}={}", v.as_str().map_or(v.to_string(), str::to_owned)))
                .collect();
            lines.push(line.join(" "));
        }
        lines.sort();
        state.menus.insert(menu, lines);
    }
    Ok(state)
}

/// What differs between two readings, one line per row added or removed.
pub fn compare(before: &DeviceState, after: &DeviceState) -> Vec<String> {
    let mut out = Vec::new();
    for menu in MENUS {
        let empty = Vec::new();
        let b = before.menus.get(menu).unwrap_or(&empty);
        let a = after.menus.get(menu).unwrap_or(&empty);
        for row in b.iter().filter(|r| !a.contains(r)) {
            out.push(format!("{menu}: changed or removed: {row}"));
        }
        for row in a.iter().filter(|r| !b.contains(r)) {
            out.push(format!("{menu}: added or changed: {row}"));
        }
    }
    out
}

/// Deletes every row of this run that is still there (users before groups, which cannot be
/// deleted while they have members). Returns what could not be removed.
pub async fn sweep(rest: &Rest, prefix: &str) -> Vec<String> {
    let state = match read(rest, prefix).await {
        Ok(s) => s,
        Err(e) => return vec![format!("final clean-up: {e}")],
    };
    let mut problems = Vec::new();
    for menu in [
        "/ip/firewall/address-list",
        "/ipv6/firewall/address-list",
        "/user",
        "/user/group",
    ] {
        for (id, name) in state.own.get(menu).cloned().unwrap_or_default() {
            rest.guard().adopt(menu, &id);
            match rest.delete(&format!("{menu}/{id}")).await {
                Ok(r) if r.status == 204 || r.status == 404 => {}
                Ok(r) => {
                    problems.push(format!("could not remove {menu} {name}: HTTP {}", r.status))
                }
                Err(e) => problems.push(format!("could not remove {menu} {name}: {e}")),
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_are_named_by_menu() {
        let mut a = DeviceState::default();
        a.menus.insert("/user", vec!["name=admin".into()]);
        let mut b = a.clone();
        assert!(compare(&a, &b).is_empty());
        b.menus.insert("/user", vec!["name=admin2".into()]);
        let d = compare(&a, &b);
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(d[0].starts_with("/user: changed or removed: name=admin"));
    }
}
