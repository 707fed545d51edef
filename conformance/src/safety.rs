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
//!
//! Users and groups never expire on a router, and the suite's own static entries do not either, so
//! a run that dies before its sweep (power cut, `kill -9`; Ctrl-C and SIGTERM run the sweep) leaves
//! them. [`leftovers`] finds what any earlier run left (names `<list-prefix>-<6 hex digits>-...`, the
//! shape of every name a run creates) so that the next run reports it and, when asked, removes it.

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

/// The menus a run creates rows in, in the order they must be removed (users before groups,
/// which cannot be deleted while they have members).
const CREATED_IN: [&str; 4] = [
    "/ip/firewall/address-list",
    "/ipv6/firewall/address-list",
    "/user",
    "/user/group",
];

/// What a sweep did: the rows removed (`menu name`) and what could not be removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Swept {
    /// `menu name` of every row removed.
    pub removed: Vec<String>,
    /// What went wrong.
    pub problems: Vec<String>,
}

/// Deletes these rows (`(menu, id, name)`, in [`CREATED_IN`] order).
async fn remove(rest: &Rest, rows: &[(&'static str, String, String)]) -> Swept {
    let mut out = Swept::default();
    for (menu, id, name) in rows {
        rest.guard().adopt(menu, id);
        match rest.delete(&format!("{menu}/{id}")).await {
            Ok(r) if r.status == 204 || r.status == 404 => {
                out.removed.push(format!("{menu} {name}"))
            }
            Ok(r) => out
                .problems
                .push(format!("could not remove {menu} {name}: HTTP {}", r.status)),
            Err(e) => out
                .problems
                .push(format!("could not remove {menu} {name}: {e}")),
        }
    }
    out
}

/// Deletes every row of this run that is still there.
pub async fn sweep(rest: &Rest, prefix: &str) -> Swept {
    let state = match read(rest, prefix).await {
        Ok(s) => s,
        Err(e) => {
            return Swept {
                problems: vec![format!("final clean-up: {e}")],
                ..Swept::default()
            };
        }
    };
    let rows: Vec<(&'static str, String, String)> = CREATED_IN
        .iter()
        .flat_map(|menu| {
            state
                .own
                .get(menu)
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |(id, name)| (*menu, id, name))
        })
        .collect();
    remove(rest, &rows).await
}

/// Whether `name` has the shape of a name some run of the suite created with this `--list-prefix`:
/// `<list-prefix>-<6 lower-case hex digits>-<rest>`. Exact on purpose: a customer's own list that
/// merely starts with the word `conformance` is not the suite's.
pub fn is_leftover_name(name: &str, list_prefix: &str) -> bool {
    let Some(rest) = name
        .strip_prefix(list_prefix)
        .and_then(|r| r.strip_prefix('-'))
    else {
        return false;
    };
    let bytes = rest.as_bytes();
    bytes.len() > 7
        && bytes[..6]
            .iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
        && bytes[6] == b'-'
}

/// Rows (`(menu, id, name)`) that earlier runs left: address-list entries, users and groups whose
/// name has the shape [`is_leftover_name`] describes. Read before the run creates anything, so
/// none of them is this run's.
pub async fn leftovers(
    rest: &Rest,
    list_prefix: &str,
) -> Result<Vec<(&'static str, String, String)>, Failure> {
    let mut out = Vec::new();
    for menu in CREATED_IN {
        for row in rest.rows(menu).await? {
            let Some(name) = ["list", "name"]
                .iter()
                .filter_map(|k| row.get(*k).and_then(Value::as_str))
                .find(|n| is_leftover_name(n, list_prefix))
            else {
                continue;
            };
            let id = row.get(".id").and_then(Value::as_str).unwrap_or("");
            out.push((menu, id.to_owned(), name.to_owned()));
        }
    }
    Ok(out)
}

/// Removes what [`leftovers`] found (`--sweep-leftovers`).
pub async fn sweep_leftovers(rest: &Rest, rows: &[(&'static str, String, String)]) -> Swept {
    remove(rest, rows).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leftover_names_have_the_shape_of_a_run() {
        for name in [
            "conformance-0a1b2c-03",
            "conformance-0a1b2c-03-norest",
            "conformance-ffffff-99-wcache",
        ] {
            assert!(is_leftover_name(name, "conformance"), "{name}");
        }
        for name in [
            "conformance",
            "conformance-list",
            "conformance-0A1B2C-03",
            "conformance-0a1b2c",
            "conformance-0a1b2c-",
            "conformance-0a1b2-03",
            "conformanceX-0a1b2c-03",
            "knocknoc-users",
        ] {
            assert!(!is_leftover_name(name, "conformance"), "{name}");
        }
        assert!(is_leftover_name("lab_1-abcdef-01", "lab_1"));
    }

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
