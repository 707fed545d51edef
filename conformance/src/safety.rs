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
//!
//! [`prepare`] is the protocol's first half (leftovers, the reading before, the start check) and
//! [`SharedTarget::finish`] its second (the final sweep, the reading after, the comparison).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use crate::Failure;
use crate::rest::Rest;
use crate::target::{Ctx, Leftovers, Settings, TargetKind};

/// Why the run may not start on a shared target.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    /// A running simulator's control API did not give its CA.
    #[error("cannot reach the simulator's control API: {0}")]
    Control(Failure),
    /// The target could not be reached with the run's settings.
    #[error("{0}")]
    Open(Failure),
    /// The search for an earlier run's rows failed.
    #[error("cannot look for an earlier run's leftovers: {0}")]
    LeftoverSearch(Failure),
    /// `--sweep-leftovers` left some of them.
    #[error("--sweep-leftovers could not remove everything: {}", .0.join("; "))]
    SweepIncomplete(Vec<String>),
    /// An earlier run's rows are there and the command line did not say what to do with them.
    #[error(
        "refusing to start: an earlier run left {found} (listed above). \
         Remove them with --sweep-leftovers (only when no other run of the suite is using this target), \
         or run anyway with --ignore-leftovers; --list-prefix `{list_prefix}` chose which names count"
    )]
    Leftovers {
        /// What was found, for people: `2 address-list entries and 1 user (who can log in)`.
        found: String,
        /// The `--list-prefix` that chose them.
        list_prefix: String,
    },
    /// A preflight check failed.
    #[error(transparent)]
    Preflight(#[from] crate::preflight::PreflightError),
    /// The reading before the run failed.
    #[error("cannot read the target before the run: {0}")]
    Read(Failure),
    /// Rows with this run's own prefix are already there.
    #[error(
        "refusing to start: the target already holds rows named `{prefix}*` that this run did not create: {rows:?}"
    )]
    OwnRows {
        /// The run prefix.
        prefix: String,
        /// The rows, by menu.
        rows: BTreeMap<&'static str, Vec<(String, String)>>,
    },
}

/// What the run holds on a shared target between its start and its end.
#[derive(Debug)]
pub struct SharedTarget {
    /// A running simulator's CA.
    pub ca_pem: Option<String>,
    /// The client that reads (admin when available).
    pub reader: Rest,
    /// A running simulator's limits, read before the run.
    pub limits: Option<simulator::Limits>,
    /// The state read before the run.
    before: DeviceState,
}

/// The safety protocol's first half on a shared target: read the state, refuse to start on leftovers.
pub async fn prepare(settings: &Settings) -> Result<SharedTarget, PrepareError> {
    let ca_pem = match &settings.kind {
        TargetKind::RunningSim { control, .. } => Some(
            crate::target::fetch_ca(control, settings.control_token.as_deref())
                .await
                .map_err(PrepareError::Control)?,
        ),
        _ => None,
    };
    let probe = Ctx::open(Arc::new(settings.clone()), 0, "safety", ca_pem.as_deref())
        .await
        .map_err(PrepareError::Open)?;
    crate::preflight::target(
        settings,
        &probe.live.url,
        &probe.rest,
        &probe.live.agent.user,
        probe
            .admin
            .as_ref()
            .zip(probe.live.admin.as_ref().map(|a| a.user.as_str())),
    )
    .await?;
    let limits = match &probe.live.control {
        Some(control) => Some(
            control
                .limits()
                .await
                .map_err(|e| PrepareError::Control(e.into()))?,
        ),
        None => None,
    };
    let reader = probe.admin.clone().unwrap_or_else(|| probe.rest.clone());
    handle_leftovers(settings, &reader).await?;
    let state = read(&reader, &settings.run_prefix)
        .await
        .map_err(PrepareError::Read)?;
    if !state.own.is_empty() {
        return Err(PrepareError::OwnRows {
            prefix: settings.run_prefix.clone(),
            rows: state.own,
        });
    }
    Ok(SharedTarget {
        ca_pem,
        limits,
        reader,
        before: state,
    })
}

/// Reports what earlier runs left (users and groups never expire) and refuses, removes or keeps it
/// as the command line says.
pub async fn handle_leftovers(settings: &Settings, reader: &Rest) -> Result<(), PrepareError> {
    let found = leftovers(reader, &settings.list_prefix)
        .await
        .map_err(PrepareError::LeftoverSearch)?;
    if found.is_empty() {
        return Ok(());
    }
    crate::say!(
        "leftovers: earlier runs of the suite left {} named `{}-<run id>-*` on the target:",
        describe_leftovers(&found),
        settings.list_prefix
    );
    for (menu, _, name) in &found {
        crate::say!("  {menu} {name}");
    }
    match settings.leftovers {
        Leftovers::Sweep => {
            let swept = sweep_leftovers(reader, &found).await;
            for r in &swept.removed {
                crate::say!("  removed {r}");
            }
            if !swept.problems.is_empty() {
                return Err(PrepareError::SweepIncomplete(swept.problems));
            }
        }
        Leftovers::Ignore => crate::say!("  left in place (--ignore-leftovers)"),
        // A read-only run writes nothing, so it cannot mix its rows with them.
        Leftovers::Refuse if settings.read_only => crate::say!(
            "  left in place (read-only run); remove them with --sweep-leftovers when no other run uses this target"
        ),
        Leftovers::Refuse => {
            return Err(PrepareError::Leftovers {
                found: describe_leftovers(&found),
                list_prefix: settings.list_prefix.clone(),
            });
        }
    }
    Ok(())
}

/// `n thing` or `n things`.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// What [`leftovers`] found, for people: `1 address-list entry, 2 users (who can log in to this
/// router) and 1 group`. Only users can log in, so only they are called a risk.
pub fn describe_leftovers(found: &[(&'static str, String, String)]) -> String {
    let n = |menus: &[&str]| found.iter().filter(|(m, _, _)| menus.contains(m)).count();
    let entries = n(&["/ip/firewall/address-list", "/ipv6/firewall/address-list"]);
    let users = n(&["/user"]);
    let groups = n(&["/user/group"]);
    let mut parts = Vec::new();
    if entries > 0 {
        parts.push(count(entries, "address-list entry", "address-list entries"));
    }
    if users > 0 {
        parts.push(format!(
            "{} (who can log in to this router)",
            count(users, "user", "users")
        ));
    }
    if groups > 0 {
        parts.push(count(groups, "group", "groups"));
    }
    match parts.len() {
        0 => "nothing".into(),
        1 => parts.remove(0),
        _ => {
            let last = parts.pop().unwrap_or_default();
            format!("{} and {last}", parts.join(", "))
        }
    }
}

impl SharedTarget {
    /// The safety protocol's second half: sweep what the scenarios left, read the target again and
    /// compare. Prints what it found; returns every way the target changed (empty when it was left
    /// as found).
    pub async fn finish(self, prefix: &str) -> Vec<String> {
        let mut problems = Vec::new();
        let swept = sweep(&self.reader, prefix).await;
        if !swept.removed.is_empty() {
            crate::say!(
                "safety: the final sweep removed what the scenarios left: {}",
                swept.removed.join(", ")
            );
        }
        problems.extend(swept.problems);
        match read(&self.reader, prefix).await {
            Ok(after) => {
                problems.extend(compare(&self.before, &after));
                if let Some(left) = after.own.iter().find(|(_, rows)| !rows.is_empty()) {
                    problems.push(format!("left behind in {}: {:?}", left.0, left.1));
                }
            }
            Err(e) => problems.push(format!("cannot read the target after the run: {e}")),
        }
        if problems.is_empty() {
            crate::say!("safety: the target was left as found (its own rows removed)");
        } else {
            crate::say!("safety: THE TARGET CHANGED:");
            for p in &problems {
                crate::say!("  {p}");
            }
        }
        problems
    }
}

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
    use serde_json::json;

    use super::*;
    use crate::Outcome;
    use crate::target::Cap;
    use crate::trials::tests::check;

    /// An earlier run's user and group are found, refused by default, kept with
    /// `--ignore-leftovers` and removed with `--sweep-leftovers`; rows of other shapes are not
    /// touched.
    async fn leftovers_are_found_refused_and_swept(ctx: &Ctx) -> Outcome {
        // Made by "an earlier run" (this context's prefix) and by someone else.
        ctx.restricted_user("norest", "api,read,write,policy")
            .await?;
        let admin = ctx.admin()?;
        let theirs = json!({ "name": "conformance-list", "policy": "read" });
        // Someone else's group: a client whose guard allows that one name.
        let open = crate::rest::WriteGuard::new("conformance-list");
        let stranger = Rest::new(
            &ctx.live.url,
            &ctx.tls,
            ctx.live
                .admin
                .as_ref()
                .map(|a| (a.user.clone(), a.password.clone())),
            Arc::new(open),
            None,
        )?;
        stranger
            .put("/user/group", &theirs)
            .await?
            .expect_status(201)?;
        let mut later = (*ctx.settings).clone();
        later.run_prefix = "conformance-123456".into();
        let e = handle_leftovers(&later, admin)
            .await
            .unwrap_err()
            .to_string();
        crate::ensure!(e.contains("--sweep-leftovers"), "{e}");
        later.leftovers = Leftovers::Ignore;
        handle_leftovers(&later, admin)
            .await
            .map_err(|e| Failure::new(e.to_string()))?;
        later.leftovers = Leftovers::Sweep;
        handle_leftovers(&later, admin)
            .await
            .map_err(|e| Failure::new(e.to_string()))?;
        let left = leftovers(admin, "conformance").await?;
        crate::ensure!(left.is_empty(), "left after the sweep: {left:?}");
        let groups = admin.rows("/user/group?name=conformance-list").await?;
        crate::ensure_eq!(groups.len(), 1, "the group that is not the suite's");
        later.leftovers = Leftovers::Refuse;
        handle_leftovers(&later, admin)
            .await
            .map_err(|e| Failure::new(e.to_string()))
    }

    #[test]
    fn leftovers_of_an_earlier_run_are_refused_or_swept() {
        check(&[Cap::Admin, Cap::Write], |ctx| {
            Box::pin(leftovers_are_found_refused_and_swept(ctx))
        })
        .unwrap();
    }

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
    fn the_leftover_refusal_names_what_it_found() {
        let row = |m: &'static str| (m, "*1".to_owned(), "conformance-0a1b2c-01".to_owned());
        let e = |rows: &[(&'static str, String, String)]| describe_leftovers(rows);
        assert_eq!(
            e(&[row("/ip/firewall/address-list")]),
            "1 address-list entry"
        );
        assert_eq!(
            e(&[
                row("/ip/firewall/address-list"),
                row("/ipv6/firewall/address-list")
            ]),
            "2 address-list entries"
        );
        assert_eq!(
            e(&[row("/user"), row("/user/group"), row("/user/group")]),
            "1 user (who can log in to this router) and 2 groups"
        );
        assert_eq!(
            e(&[
                row("/ip/firewall/address-list"),
                row("/user"),
                row("/user"),
                row("/user/group")
            ]),
            "1 address-list entry, 2 users (who can log in to this router) and 1 group"
        );
        let refusal = PrepareError::Leftovers {
            found: e(&[row("/ip/firewall/address-list")]),
            list_prefix: "conformance".into(),
        }
        .to_string();
        assert!(
            refusal.contains("left 1 address-list entry") && !refusal.contains("log in"),
            "{refusal}"
        );
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
