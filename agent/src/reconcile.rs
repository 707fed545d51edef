//! Carrying out plans: reads the router's lists, plans, writes, and remembers what it saw.
//!
//! A full reconcile reads both managed lists (two requests), plans against them and executes the
//! plan. The reconciler then keeps the rows it saw, each with the wall-clock time at which its
//! timeout runs out, and updates them from the router's answers to its own writes. An incremental
//! step (a new grant or revoke in the daemon) plans against that memory instead of reading again, so
//! that a new grant costs exactly one request in steady state; the periodic full reconcile corrects
//! whatever the memory got wrong (someone else's changes, a reboot).
//!
//! Writes are idempotent in effect: a duplicate on add is looked up and adopted (an owned entry is
//! refreshed) or reported (208105); a 404 on delete means already gone; an entry that vanished before
//! its refresh is added again. After each write the router's answer is checked (208106).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::address::{Address, Family};
use crate::clock::Time;
use crate::error::{Code, Error, Result};
use crate::net::{Added, Changed, RouterClient};
use crate::plan::{self, Action, Conflict, Grant, PlanConfig, Row};
use crate::wire::Resource;

/// A row as last seen, with the time its timeout runs out.
#[derive(Debug, Clone)]
struct Seen {
    row: Row,
    expires: Option<Time>,
}

/// What a reconcile did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Report {
    /// Entries created.
    pub added: Vec<String>,
    /// Entries whose timeout was set.
    pub refreshed: Vec<String>,
    /// Entries deleted (or found already gone).
    pub removed: Vec<String>,
    /// Granted addresses held by entries the agent does not own (208105).
    pub conflicts: Vec<Conflict>,
    /// Writes that failed; the grants are kept for the next attempt.
    #[serde(serialize_with = "ser_errors")]
    pub errors: Vec<Error>,
    /// Owned entries the router lost since the last look (a reboot, or someone deleted them).
    pub vanished: Vec<String>,
    /// Requests sent to the router.
    pub requests: usize,
}

fn ser_errors<S: serde::Serializer>(
    errors: &[Error],
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(errors.len()))?;
    for e in errors {
        seq.serialize_element(&e.to_json())?;
    }
    seq.end()
}

impl Report {
    /// The conflicts as 208105 errors, for printing.
    pub fn conflict_errors(&self, config: &PlanConfig) -> Vec<Error> {
        self.conflicts
            .iter()
            .map(|c| {
                Error::new(
                    Code::EntryNotOwned,
                    format!(
                        "{} is in list `{}` as entry {} ({}); left untouched",
                        c.address,
                        config.list(c.address.family()),
                        c.id,
                        c.reason
                    ),
                )
            })
            .collect()
    }

    /// Adds another report's findings to this one.
    pub fn merge(&mut self, other: Report) {
        self.added.extend(other.added);
        self.refreshed.extend(other.refreshed);
        self.removed.extend(other.removed);
        self.conflicts.extend(other.conflicts);
        self.errors.extend(other.errors);
        self.vanished.extend(other.vanished);
        self.requests += other.requests;
    }
}

/// What one action ended in.
#[derive(Debug)]
enum Outcome {
    Added(Row),
    Refreshed(Row),
    Removed {
        family: Family,
        id: String,
        address: String,
    },
    /// A foreign entry holds the address; the row is remembered so the next step does not ask again.
    Conflict(Conflict, Row),
    Failed(Error),
}

/// Executes plans against one router and remembers its rows.
#[derive(Debug)]
pub struct Reconciler {
    client: RouterClient,
    config: PlanConfig,
    concurrency: usize,
    seen: Option<Vec<Seen>>,
}

impl Reconciler {
    /// A reconciler with no memory of the router yet.
    pub fn new(client: RouterClient, config: PlanConfig, concurrency: usize) -> Self {
        Reconciler {
            client,
            config,
            concurrency: concurrency.max(1),
            seen: None,
        }
    }

    /// The client, for probes.
    pub fn client(&self) -> &RouterClient {
        &self.client
    }

    /// The planner configuration.
    pub fn plan_config(&self) -> &PlanConfig {
        &self.config
    }

    /// Forgets the remembered rows, so the next step reads the router.
    pub fn forget(&mut self) {
        self.seen = None;
    }

    /// `/system/resource`.
    pub async fn resource(&self) -> Result<Resource> {
        self.client.resource().await
    }

    /// Reads both managed lists (two requests) and remembers them.
    pub async fn read(&mut self, now: Time) -> Result<Vec<Row>> {
        let mut rows = self.client.rows(Family::V4, &self.config.list_v4).await?;
        rows.extend(self.client.rows(Family::V6, &self.config.list_v6).await?);
        self.seen = Some(
            rows.iter()
                .map(|r| Seen {
                    row: r.clone(),
                    expires: r.timeout.map(|t| now.plus(t)),
                })
                .collect(),
        );
        Ok(rows)
    }

    /// The remembered rows as they should look at `now` (timeouts counted down, expired rows gone).
    pub fn remembered(&self, now: Time) -> Option<Vec<Row>> {
        self.seen.as_ref().map(|seen| {
            seen.iter()
                .filter(|s| s.expires.is_none_or(|e| e > now))
                .map(|s| Row {
                    timeout: s.expires.map(|e| e.since(now)),
                    ..s.row.clone()
                })
                .collect()
        })
    }

    /// Owned rows remembered as alive at `now` that the router no longer shows in `rows`: a sign of a
    /// reboot (dynamic entries live in RAM) or of someone deleting the agent's entries.
    pub fn vanished(&self, rows_before: &[Row], rows_now: &[Row]) -> Vec<String> {
        rows_before
            .iter()
            .filter(|r| {
                r.is_owned(&self.config.tag)
                    && r.timeout.is_some_and(|t| t > Duration::from_secs(2))
            })
            .filter(|r| !rows_now.iter().any(|n| n.id == r.id))
            .map(|r| r.address.clone())
            .collect()
    }

    /// A full reconcile: read, plan, write. Owned entries remembered as alive but missing now are
    /// reported in `vanished` (and restored by the plan if their grants live).
    pub async fn sync(&mut self, grants: &[Grant], now: Time) -> Result<Report> {
        let before = self.remembered(now);
        let rows = self.read(now).await?;
        let mut report = self.apply(grants, &rows, now).await;
        report.vanished = before.map(|b| self.vanished(&b, &rows)).unwrap_or_default();
        report.requests += 2;
        Ok(report)
    }

    /// An incremental step: plan against the remembered rows, or read first if there are none.
    pub async fn step(&mut self, grants: &[Grant], now: Time) -> Result<Report> {
        match self.remembered(now) {
            Some(rows) => Ok(self.apply(grants, &rows, now).await),
            None => self.sync(grants, now).await,
        }
    }

    /// An incremental step for one address (a new grant or a revoke): plans only that address against
    /// the remembered rows, so its cost does not grow with the number of grants; reads everything
    /// first if nothing is remembered.
    pub async fn step_address(
        &mut self,
        address: &Address,
        grants: &[Grant],
        now: Time,
    ) -> Result<Report> {
        let Some(seen) = &self.seen else {
            return self.sync(grants, now).await;
        };
        let rows: Vec<Row> = seen
            .iter()
            .filter(|s| s.row.family == address.family() && s.row.address == address.as_str())
            .filter(|s| s.expires.is_none_or(|e| e > now))
            .map(|s| Row {
                timeout: s.expires.map(|e| e.since(now)),
                ..s.row.clone()
            })
            .collect();
        let mine: Vec<Grant> = grants
            .iter()
            .filter(|g| &g.address == address)
            .cloned()
            .collect();
        Ok(self.apply(&mine, &rows, now).await)
    }

    /// Plans against `rows` and executes the plan with the configured concurrency, in plan order
    /// (removals first). A failure that means the router is unreachable or refuses us stops the
    /// rest of the plan; any other failure is recorded and the plan goes on.
    async fn apply(&mut self, grants: &[Grant], rows: &[Row], now: Time) -> Report {
        let plan = plan::plan(&self.config, grants, rows, now);
        let mut report = Report {
            conflicts: plan.conflicts,
            ..Report::default()
        };
        let mut results = Vec::new();
        if self.concurrency == 1 || plan.actions.len() <= 1 {
            // One at a time in this task: no spawn, no cross-thread hop, so a single write costs
            // little more than its round trip.
            let mut abort = false;
            for (index, action) in plan.actions.into_iter().enumerate() {
                if abort {
                    break;
                }
                let (outcome, requests) = execute(&self.client, &self.config, action).await;
                abort = is_connection_failure(&outcome);
                results.push((index, Some((outcome, requests))));
            }
        } else {
            let abort = Arc::new(AtomicBool::new(false));
            let semaphore = Arc::new(tokio::sync::Semaphore::new(self.concurrency));
            let mut tasks = tokio::task::JoinSet::new();
            for (index, action) in plan.actions.into_iter().enumerate() {
                let (client, config, abort, semaphore) = (
                    self.client.clone(),
                    self.config.clone(),
                    abort.clone(),
                    semaphore.clone(),
                );
                tasks.spawn(async move {
                    let _permit = semaphore
                        .acquire_owned()
                        .await
                        .expect("semaphore is never closed");
                    // After a connection-level failure the other writes would fail the same way:
                    // skip them and let the next reconcile retry everything.
                    if abort.load(Ordering::SeqCst) {
                        return (index, None);
                    }
                    let (outcome, requests) = execute(&client, &config, action).await;
                    if is_connection_failure(&outcome) {
                        abort.store(true, Ordering::SeqCst);
                    }
                    (index, Some((outcome, requests)))
                });
            }
            while let Some(joined) = tasks.join_next().await {
                match joined {
                    Ok(r) => results.push(r),
                    Err(e) => report.errors.push(Error::new(
                        Code::EntryAddFailed,
                        format!("internal task failure: {e}"),
                    )),
                }
            }
        }
        // Apply outcomes in plan order so the memory and the report are deterministic.
        results.sort_by_key(|(i, _)| *i);
        for (_, result) in results {
            let Some((outcome, requests)) = result else {
                continue;
            };
            report.requests += requests;
            self.remember(&outcome, now);
            match outcome {
                Outcome::Added(row) => report.added.push(row.address),
                Outcome::Refreshed(row) => report.refreshed.push(row.address),
                Outcome::Removed { address, .. } => report.removed.push(address),
                Outcome::Conflict(c, _) => report.conflicts.push(c),
                Outcome::Failed(e) => report.errors.push(e),
            }
        }
        report
    }

    fn remember(&mut self, outcome: &Outcome, now: Time) {
        let Some(seen) = self.seen.as_mut() else {
            return;
        };
        let upsert = |seen: &mut Vec<Seen>, row: &Row| {
            seen.retain(|s| !(s.row.family == row.family && s.row.id == row.id));
            seen.push(Seen {
                row: row.clone(),
                expires: row.timeout.map(|t| now.plus(t)),
            });
        };
        match outcome {
            Outcome::Added(row) | Outcome::Refreshed(row) | Outcome::Conflict(_, row) => {
                upsert(seen, row)
            }
            Outcome::Removed { family, id, .. } => {
                seen.retain(|s| !(s.row.family == *family && &s.row.id == id))
            }
            Outcome::Failed(_) => {
                // The memory may now be wrong about this address: the next full reconcile reads again.
            }
        }
    }
}

/// Whether an outcome means the router is unreachable or refuses us (208000-208007: refused,
/// authentication, authorization, certificate, timeout, name, TLS, reset), after which the remaining
/// writes of a plan would fail the same way. Anything else (a 500 or `Session closed` on one entry,
/// a rejected write, a strange reply) is about that entry: it is recorded and the plan goes on, so
/// one bad entry cannot hold back every other grant and revocation.
fn is_connection_failure(outcome: &Outcome) -> bool {
    matches!(outcome, Outcome::Failed(e) if stops_the_plan(e.code))
}

fn stops_the_plan(code: Code) -> bool {
    (Code::ConnectionRefused.number()..=Code::ConnectionReset.number()).contains(&code.number())
}

/// Checks the router's copy of a written row against what was asked.
fn confirm(
    row: &Row,
    config: &PlanConfig,
    address: &Address,
    timeout: Duration,
    what: &str,
) -> Result<()> {
    let problem = if row.address != address.as_str() {
        Some(format!("address is `{}`, not `{address}`", row.address))
    } else if row.list != config.list(address.family()) {
        Some(format!("list is `{}`", row.list))
    } else if row.comment.as_deref() != Some(config.tag.as_str()) {
        Some(format!("comment is {:?}", row.comment))
    } else {
        match row.timeout {
            None => Some("it has no timeout".to_owned()),
            Some(t) if t.abs_diff(timeout) > config.tolerance => Some(format!(
                "timeout is {}, not {}",
                crate::duration::format(t),
                crate::duration::format(timeout)
            )),
            Some(_) => None,
        }
    };
    match problem {
        Some(p) => Err(Error::new(
            Code::WriteNotConfirmed,
            format!("{what} {address}: the router's entry {}: {p}", row.id),
        )),
        None => Ok(()),
    }
}

/// Adds, adopting or reporting a duplicate. Returns the outcome and the number of requests.
async fn add(
    client: &RouterClient,
    config: &PlanConfig,
    address: Address,
    timeout: Duration,
) -> (Outcome, usize) {
    let list = config.list(address.family());
    let mut requests = 0;
    // A duplicate whose entry has vanished by the time it is looked up (it just expired) is retried once.
    for _ in 0..2 {
        requests += 1;
        match client.add(list, &address, timeout, &config.tag).await {
            Err(e) => return (Outcome::Failed(e), requests),
            Ok(Added::Created(row)) => {
                return match confirm(&row, config, &address, timeout, "add") {
                    Ok(()) => (Outcome::Added(row), requests),
                    Err(e) => (Outcome::Failed(e), requests),
                };
            }
            Ok(Added::Duplicate) => {
                requests += 1;
                let rows = match client.find(list, &address).await {
                    Ok(rows) => rows,
                    Err(e) => return (Outcome::Failed(e), requests),
                };
                let enabled: Vec<&Row> = rows
                    .iter()
                    .filter(|r| !r.disabled && r.address == address.as_str())
                    .collect();
                if let Some(mine) = enabled.iter().find(|r| r.is_owned(&config.tag)) {
                    requests += 1;
                    return match client.set_timeout(mine.family, &mine.id, timeout).await {
                        Ok(Changed::Done(Some(row))) => {
                            match confirm(&row, config, &address, timeout, "refresh") {
                                Ok(()) => (Outcome::Refreshed(row), requests),
                                Err(e) => (Outcome::Failed(e), requests),
                            }
                        }
                        Ok(_) => (
                            Outcome::Failed(Error::new(
                                Code::EntryUpdateFailed,
                                format!(
                                    "entry {} of {address} vanished while being adopted",
                                    mine.id
                                ),
                            )),
                            requests,
                        ),
                        Err(e) => (Outcome::Failed(e), requests),
                    };
                }
                if let Some(other) = enabled.first() {
                    let reason = plan::foreign_reason(other, &config.tag);
                    return (
                        Outcome::Conflict(
                            Conflict {
                                address,
                                id: other.id.clone(),
                                reason,
                            },
                            (*other).clone(),
                        ),
                        requests,
                    );
                }
            }
        }
    }
    let e = Error::new(
        Code::EntryAddFailed,
        format!("add {address}: the router reports a duplicate but shows no such entry"),
    );
    (Outcome::Failed(e), requests)
}

async fn execute(client: &RouterClient, config: &PlanConfig, action: Action) -> (Outcome, usize) {
    match action {
        Action::Add { address, timeout } => add(client, config, address, timeout).await,
        Action::Refresh {
            id,
            address,
            timeout,
        } => match client.set_timeout(address.family(), &id, timeout).await {
            Ok(Changed::Done(Some(row))) => {
                match confirm(&row, config, &address, timeout, "refresh") {
                    Ok(()) => (Outcome::Refreshed(row), 1),
                    Err(e) => (Outcome::Failed(e), 1),
                }
            }
            // It expired or was deleted between the read and the write: create it again.
            Ok(_) => {
                let (outcome, n) = add(client, config, address, timeout).await;
                (outcome, n + 1)
            }
            Err(e) => (Outcome::Failed(e), 1),
        },
        Action::Remove {
            family,
            id,
            address,
        } => match client.remove(family, &id).await {
            Ok(_) => (
                Outcome::Removed {
                    family,
                    id,
                    address,
                },
                1,
            ),
            Err(e) => (Outcome::Failed(e), 1),
        },
    }
}
