//! Carrying out plans: reads the router's lists, plans, writes, and remembers what it saw.
//!
//! A full reconcile reads the agent's own entries of both managed lists (two requests filtered by
//! list and tag, with only the fields it uses, so that a list shared with other tools costs only
//! the agent's rows), reads the entries at the addresses it is about to add when they are few (a
//! foreign entry there is a conflict, 208105, found without writing), plans and executes the plan. The reconciler then keeps the rows it saw, each with the wall-clock time at which its
//! timeout runs out, and updates them from the router's answers to its own writes. An incremental
//! step (a new grant or revoke in the daemon) plans against that memory instead of reading again, so
//! that a new grant costs exactly one request in steady state; the periodic full reconcile corrects
//! whatever the memory got wrong (someone else's changes, a reboot).
//!
//! Plans carry the instant each entry must run out; the timeout written is computed from the
//! reconciler's [`Clock`] when the write (or its batch) goes out, so an entry written late in a long
//! reconcile does not outlive its grant, and the next reconcile finds nothing to correct.
//!
//! Writes go out one request each, or in batches through `/execute` ([`batch`]): in `auto` mode for
//! plans of [`batch::MIN_BATCH`] writes or more, in `bulk` mode always. After a batch the entries it
//! touched are read back in one request and the router's rows decide each entry's outcome, whatever
//! the script printed or whether its reply arrived at all; an entry the batch did not write is
//! written again on its own, with every guarantee of the single path. In `auto` mode a router that
//! refuses scripting is written one entry at a time from then on, said once in the log.
//!
//! Writes are idempotent in effect: a duplicate on add is looked up and adopted (an owned entry is
//! refreshed) or reported (208105); a 404 on delete means already gone; an entry that vanished before
//! its refresh is added again. After each write the router's answer is checked (208106).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::address::{Address, Family};
use crate::batch::{self, Command, Reported, WriteMode};
use crate::clock::{Clock, Time};
use crate::error::{Code, Error, Result};
use crate::net::{Added, Changed, RouterClient};
use crate::plan::{self, Action, Conflict, Grant, PlanConfig, Row, Seen};
use crate::wire::Resource;

/// A row as last seen, with the earliest time its timeout can run out.
#[derive(Debug, Clone)]
struct Memory {
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
    /// Batches sent through `/execute`.
    pub batches: usize,
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
        self.batches += other.batches;
    }
}

/// What one action ended in. Rows carry the instant their `timeout` was counted from.
#[derive(Debug)]
enum Outcome {
    Added(Row, Time),
    Refreshed(Row, Time),
    Removed {
        family: Family,
        id: String,
        address: String,
    },
    /// A foreign entry holds the address; the row is remembered so the next step does not ask again.
    Conflict(Conflict, Row, Time),
    /// The grant ran out before the write went out: nothing to write.
    Lapsed,
    Failed(Error),
}

/// Whether the router takes batches, as far as the reconciler has seen.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Scripting {
    /// Not tried yet, or it worked.
    Usable,
    /// Refused, with the refusal (said once in the log).
    Refused(Error),
}

/// Executes plans against one router and remembers its rows.
#[derive(Debug)]
pub struct Reconciler {
    client: RouterClient,
    config: PlanConfig,
    concurrency: usize,
    clock: Arc<dyn Clock>,
    mode: WriteMode,
    scripting: Scripting,
    seen: Option<Vec<Memory>>,
    /// How long the read behind the memory took: the uncertainty of the rows' timeouts.
    read_span: Duration,
}

impl Reconciler {
    /// A reconciler with no memory of the router yet. `clock` is the agent's clock: the timeouts
    /// of writes are computed from it when they go out. Writes go one request each until
    /// [`Reconciler::with_write_mode`] says otherwise.
    pub fn new(
        client: RouterClient,
        config: PlanConfig,
        concurrency: usize,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Reconciler {
            client,
            config,
            concurrency: concurrency.max(1),
            clock,
            mode: WriteMode::Single,
            scripting: Scripting::Usable,
            seen: None,
            read_span: Duration::ZERO,
        }
    }

    /// The reconciler a configuration asks for: its lists, tag, concurrency and write mode.
    pub fn for_config(
        config: &crate::config::Config,
        client: RouterClient,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Reconciler::new(client, config.plan_config(), config.concurrency, clock)
            .with_write_mode(config.write_mode)
    }

    /// The same reconciler writing in `mode`.
    pub fn with_write_mode(mut self, mode: WriteMode) -> Self {
        self.mode = mode;
        self
    }

    /// The write mode in use: the configured one, or `single` once `auto` found scripting refused.
    pub fn write_mode(&self) -> WriteMode {
        match (&self.scripting, self.mode) {
            (Scripting::Refused(_), WriteMode::Auto) => WriteMode::Single,
            (_, mode) => mode,
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

    /// Reads both managed lists whole (two requests) and remembers them: every entry, the agent's
    /// and others', as `list` shows them.
    pub async fn read(&mut self) -> Result<Vec<Row>> {
        Ok(self.read_seen(false).await?.0)
    }

    /// Reads both managed lists (two requests), only the agent's tagged entries when `tagged`, and
    /// says when: the rows were rendered between the request going out and the reply coming back.
    async fn read_seen(&mut self, tagged: bool) -> Result<(Vec<Row>, Seen)> {
        let at = self.clock.now();
        let mut rows = Vec::new();
        for family in [Family::V4, Family::V6] {
            let list = self.config.list(family);
            rows.extend(match tagged {
                true => {
                    self.client
                        .tagged_rows(family, list, &self.config.tag)
                        .await?
                }
                false => self.client.rows(family, list).await?,
            });
        }
        let seen = Seen {
            at,
            span: self.clock.now().since(at),
        };
        self.read_span = seen.span;
        self.seen = Some(rows.iter().map(|r| memory(r, at)).collect());
        Ok((rows, seen))
    }

    /// Reads the entries at the addresses a plan would add, in one request per family, when they
    /// are few: a foreign entry there is a conflict (208105) found without trying to write. With
    /// many adds (a cold start) the batches' read-back or the single writes' duplicate answers
    /// find the same entries, at no extra cost. Returns the requests sent.
    async fn probe_adds(
        &mut self,
        grants: &[Grant],
        rows: &mut Vec<Row>,
        seen: Seen,
    ) -> Result<usize> {
        let plan = plan::plan_seen(&self.config, grants, rows, seen);
        let adds: Vec<&Address> = plan
            .actions
            .iter()
            .filter_map(|a| match a {
                Action::Add { address, .. } => Some(address),
                _ => None,
            })
            .collect();
        if adds.is_empty() || adds.len() > PROBE_MAX {
            return Ok(0);
        }
        let mut requests = 0;
        let mut found = Vec::new();
        for family in [Family::V4, Family::V6] {
            let here: Vec<&str> = adds
                .iter()
                .filter(|a| a.family() == family)
                .map(|a| a.as_str())
                .collect();
            if here.is_empty() {
                continue;
            }
            requests += 1;
            let list = self.config.list(family);
            found.extend(self.client.rows_at(family, list, &here).await?);
        }
        for row in found {
            if !rows
                .iter()
                .any(|r| r.family == row.family && r.id == row.id)
            {
                if let Some(memory) = self.seen.as_mut() {
                    memory.push(self::memory(&row, seen.at));
                }
                rows.push(row);
            }
        }
        Ok(requests)
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
    pub async fn sync(&mut self, grants: &[Grant]) -> Result<Report> {
        let before = self.remembered(self.clock.now());
        let (mut rows, seen) = self.read_seen(true).await?;
        let probes = self.probe_adds(grants, &mut rows, seen).await?;
        let mut report = self.apply(grants, &rows, seen).await;
        report.vanished = before.map(|b| self.vanished(&b, &rows)).unwrap_or_default();
        report.requests += 2 + probes;
        Ok(report)
    }

    /// An incremental step: plan against the remembered rows, or read first if there are none.
    pub async fn step(&mut self, grants: &[Grant]) -> Result<Report> {
        let now = self.clock.now();
        match self.remembered(now) {
            Some(rows) => {
                let seen = self.memory_seen(now);
                Ok(self.apply(grants, &rows, seen).await)
            }
            None => self.sync(grants).await,
        }
    }

    /// How well the remembered rows are known at `now`: as well as the read behind them.
    fn memory_seen(&self, now: Time) -> Seen {
        Seen {
            at: now,
            span: self.read_span,
        }
    }

    /// An incremental step for one address (a new grant or a revoke): plans only that address against
    /// the remembered rows, so its cost does not grow with the number of grants; reads everything
    /// first if nothing is remembered.
    pub async fn step_address(&mut self, address: &Address, grants: &[Grant]) -> Result<Report> {
        let now = self.clock.now();
        let Some(seen) = &self.seen else {
            return self.sync(grants).await;
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
        let seen = self.memory_seen(now);
        Ok(self.apply(&mine, &rows, seen).await)
    }

    /// Plans against `rows` and executes the plan, in plan order (removals first): in batches when
    /// the write mode and the plan's size call for them, one request per entry otherwise.
    async fn apply(&mut self, grants: &[Grant], rows: &[Row], seen: Seen) -> Report {
        let plan = plan::plan_seen(&self.config, grants, rows, seen);
        let mut report = Report {
            conflicts: plan.conflicts,
            ..Report::default()
        };
        let bulk = match self.write_mode() {
            WriteMode::Single => false,
            WriteMode::Bulk => !plan.actions.is_empty(),
            WriteMode::Auto => worth_batching(&plan.actions, &self.config.tag, rows),
        };
        let results = if bulk {
            self.bulk(plan.actions, &mut report).await
        } else {
            self.each(plan.actions.into_iter().map(Some).collect(), &mut report)
                .await
        };
        // Apply outcomes in plan order so the memory and the report are deterministic.
        for result in results {
            let Some((outcome, requests)) = result else {
                continue;
            };
            report.requests += requests;
            self.remember(&outcome);
            match outcome {
                Outcome::Added(row, _) => report.added.push(row.address),
                Outcome::Refreshed(row, _) => report.refreshed.push(row.address),
                Outcome::Removed { address, .. } => report.removed.push(address),
                Outcome::Conflict(c, _, _) => report.conflicts.push(c),
                Outcome::Lapsed => {}
                Outcome::Failed(e) => report.errors.push(e),
            }
        }
        report
    }

    /// Executes each present action on its own, with the configured concurrency. A failure that
    /// means the router is unreachable or refuses us stops the rest; any other failure is recorded
    /// and the others go on. Results are in the actions' order (`None` for skipped ones).
    async fn each(
        &self,
        actions: Vec<Option<Action>>,
        report: &mut Report,
    ) -> Vec<Option<(Outcome, usize)>> {
        let mut results: Vec<Option<(Outcome, usize)>> = actions.iter().map(|_| None).collect();
        let count = actions.iter().flatten().count();
        if self.concurrency == 1 || count <= 1 {
            // One at a time in this task: no spawn, no cross-thread hop, so a single write costs
            // little more than its round trip.
            for (index, action) in actions.into_iter().enumerate() {
                let Some(action) = action else { continue };
                let (outcome, requests) =
                    execute(&self.client, &self.config, &*self.clock, action).await;
                let abort = is_connection_failure(&outcome);
                results[index] = Some((outcome, requests));
                if abort {
                    break;
                }
            }
            return results;
        }
        let abort = Arc::new(AtomicBool::new(false));
        let semaphore = Arc::new(tokio::sync::Semaphore::new(self.concurrency));
        let mut tasks = tokio::task::JoinSet::new();
        for (index, action) in actions.into_iter().enumerate() {
            let Some(action) = action else { continue };
            let (client, config, clock, abort, semaphore) = (
                self.client.clone(),
                self.config.clone(),
                self.clock.clone(),
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
                let (outcome, requests) = execute(&client, &config, &*clock, action).await;
                if is_connection_failure(&outcome) {
                    abort.store(true, Ordering::SeqCst);
                }
                (index, Some((outcome, requests)))
            });
        }
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok((index, r)) => results[index] = r,
                Err(e) => report.errors.push(Error::new(
                    Code::EntryAddFailed,
                    format!("internal task failure: {e}"),
                )),
            }
        }
        results
    }

    /// Executes the plan in batches: each batch one `/execute` and one read-back; entries the
    /// read-back does not show as done go out one by one afterwards.
    async fn bulk(
        &mut self,
        actions: Vec<Action>,
        report: &mut Report,
    ) -> Vec<Option<(Outcome, usize)>> {
        let mut results: Vec<Option<(Outcome, usize)>> = actions.iter().map(|_| None).collect();
        let mut again: Vec<Option<Action>> = actions.iter().map(|_| None).collect();
        let limit = batch::max_entries(self.config.tolerance);
        let mut start = 0;
        let mut stop: Option<Error> = None;
        // Adds and refreshes the router reported done, with the entry's id, to confirm.
        let mut provisional: Vec<(usize, String)> = Vec::new();
        while start < actions.len() {
            let family = family_of(&actions[start]);
            let list = self.config.list(family).to_owned();
            let prologue = batch::prologue(&list, &self.config.tag);
            // The batch: consecutive actions of one family, within the entry and byte limits.
            // Timeouts are computed now, just before it goes out.
            let sent_at = self.clock.now();
            let mut script = prologue.clone();
            let mut members: Vec<usize> = Vec::new();
            let mut end = start;
            while end < actions.len() && members.len() < limit {
                let action = &actions[end];
                if family_of(action) != family {
                    break;
                }
                let n = members.len();
                match command(action, sent_at) {
                    Some(cmd) => {
                        let line = batch::line(family, n, &cmd);
                        if !members.is_empty()
                            && script.len() + line.len() > batch::MAX_SCRIPT_BYTES
                        {
                            break;
                        }
                        script.push_str(&line);
                        members.push(end);
                    }
                    None => results[end] = Some((Outcome::Lapsed, 0)),
                }
                end += 1;
            }
            start = end;
            if members.is_empty() {
                continue;
            }
            if let Some(e) = &stop {
                for &i in &members {
                    results[i] = Some((Outcome::Failed(e.clone()), 0));
                }
                continue;
            }
            if let Scripting::Refused(_) = self.scripting {
                for &i in &members {
                    again[i] = Some(actions[i].clone());
                }
                continue;
            }
            report.batches += 1;
            let mut requests = 1;
            let ran = self.client.execute_script(&script).await.and_then(|ret| {
                batch::parse(&ret, members.len()).map_err(|why| {
                    Error::new(
                        Code::WrongShape,
                        format!(
                            "POST /rest/execute: the router did not run the batch as written \
                                 ({why})"
                        ),
                    )
                })
            });
            let refused = match &ran {
                Err(e) if is_refusal(e) => {
                    self.refuse(e.clone());
                    true
                }
                _ => false,
            };
            // What the router reports done is provisionally done: a removal for good (as a `DELETE`
            // answered 204, there is no row left to read), an add or a refresh once the rows read
            // after the last batch confirm it. Everything else (a command that failed, or every
            // command when the reply is lost or unreadable) is decided now by the router's rows at
            // those addresses, whatever the reply said.
            let mut unsure = Vec::new();
            for (p, &i) in members.iter().enumerate() {
                let reported = ran.as_ref().ok().map(|r| &r[p]);
                match (&actions[i], reported) {
                    (
                        Action::Remove {
                            family,
                            id,
                            address,
                        },
                        Some(Reported::Removed),
                    ) => {
                        results[i] = Some((
                            Outcome::Removed {
                                family: *family,
                                id: id.clone(),
                                address: address.clone(),
                            },
                            0,
                        ))
                    }
                    (Action::Refresh { id, address, .. }, Some(Reported::Removed)) => {
                        // Its grants ran out before the batch went out: the entry was removed.
                        results[i] = Some((
                            Outcome::Removed {
                                family,
                                id: id.clone(),
                                address: address.to_string(),
                            },
                            0,
                        ))
                    }
                    (Action::Add { .. }, Some(Reported::Added(id))) => {
                        provisional.push((i, id.clone()))
                    }
                    (Action::Refresh { id, .. }, Some(Reported::Set)) => {
                        provisional.push((i, id.clone()))
                    }
                    _ => unsure.push(i),
                }
            }
            if unsure.is_empty() {
                report.requests += requests;
                continue;
            }
            let members = unsure;
            let addresses: Vec<&str> = {
                let mut a: Vec<&str> = members.iter().map(|&i| address_of(&actions[i])).collect();
                a.sort_unstable();
                a.dedup();
                a
            };
            let at = self.clock.now();
            requests += 1;
            let rows = self.client.rows_at(family, &list, &addresses).await;
            let seen = Seen {
                at,
                span: self.clock.now().since(at),
            };
            let rows = match rows {
                Ok(rows) => rows,
                Err(e) => {
                    // Neither the batch nor its effect is known: every entry of it failed, and
                    // the next reconcile reads the router again.
                    let e = match ran {
                        Err(batch_error) if !refused => batch_error,
                        _ => e,
                    };
                    if stops_the_plan(e.code) {
                        stop = Some(e.clone());
                    }
                    for &i in &members {
                        results[i] = Some((Outcome::Failed(e.clone()), 0));
                    }
                    report.requests += requests;
                    continue;
                }
            };
            let script_ran = ran.is_ok();
            for &i in &members {
                match decide(&self.config, &actions[i], &rows, seen) {
                    Some(outcome) => results[i] = Some((outcome, 0)),
                    // Not done: written on its own, where it gets its own answer and code,
                    // unless bulk writes were asked for and the router refuses them.
                    None if !script_ran && self.mode == WriteMode::Bulk => {
                        let e = ran.as_ref().err().cloned().unwrap_or_else(|| {
                            Error::new(Code::EntryAddFailed, "the batch failed")
                        });
                        results[i] = Some((Outcome::Failed(e), 0));
                    }
                    None => again[i] = Some(actions[i].clone()),
                }
            }
            report.requests += requests;
        }
        self.confirm_batched(&actions, provisional, &mut results, &mut again, report)
            .await;
        if again.iter().any(Option::is_some) {
            let singles = self.each(again, report).await;
            for (slot, single) in results.iter_mut().zip(singles) {
                if single.is_some() {
                    *slot = single;
                }
            }
        }
        results
    }

    /// Confirms the adds and refreshes the batches reported done by reading the agent's entries
    /// back once (one request per family written, the same narrow read a reconcile starts with):
    /// each must show with its id, the tag, its address and a timeout in step with its expiry.
    /// What does not is written again on its own; if the read fails, they fail with its error.
    async fn confirm_batched(
        &mut self,
        actions: &[Action],
        provisional: Vec<(usize, String)>,
        results: &mut [Option<(Outcome, usize)>],
        again: &mut [Option<Action>],
        report: &mut Report,
    ) {
        if provisional.is_empty() {
            return;
        }
        let at = self.clock.now();
        let mut rows = Vec::new();
        let mut failed = None;
        for family in [Family::V4, Family::V6] {
            if !provisional
                .iter()
                .any(|(i, _)| family_of(&actions[*i]) == family)
            {
                continue;
            }
            report.requests += 1;
            let list = self.config.list(family);
            match self
                .client
                .tagged_rows(family, list, &self.config.tag)
                .await
            {
                Ok(r) => rows.extend(r),
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        let seen = Seen {
            at,
            span: self.clock.now().since(at),
        };
        for (i, id) in provisional {
            if let Some(e) = &failed {
                results[i] = Some((Outcome::Failed(e.clone()), 0));
                continue;
            }
            let family = family_of(&actions[i]);
            let row = rows.iter().find(|r| r.family == family && r.id == id);
            let confirmed = row.filter(|r| {
                r.is_owned(&self.config.tag)
                    && !r.disabled
                    && r.address == address_of(&actions[i])
                    && match &actions[i] {
                        Action::Add { expires, .. } | Action::Refresh { expires, .. } => {
                            r.timeout.is_some_and(|t| {
                                plan::in_step(t, *expires, seen, self.config.tolerance)
                            })
                        }
                        Action::Remove { .. } => false,
                    }
            });
            results[i] = match (confirmed, &actions[i]) {
                (Some(row), Action::Add { .. }) => Some((Outcome::Added(row.clone(), seen.at), 0)),
                (Some(row), _) => Some((Outcome::Refreshed(row.clone(), seen.at), 0)),
                (None, action) => {
                    again[i] = Some(action.clone());
                    None
                }
            };
        }
    }

    /// Scripting was refused: in `auto` mode the agent writes one entry at a time from now on, and
    /// says so once.
    fn refuse(&mut self, e: Error) {
        if self.scripting == Scripting::Usable {
            if self.mode == WriteMode::Auto {
                tracing::warn!(
                    "{e}; bulk writes through /execute are refused, so entries are written one \
                     request each from now on (grant the agent's group the `read`, `write`, `api` \
                     and `rest-api` policies, or set write_mode = \"single\")"
                );
            }
            self.scripting = Scripting::Refused(e);
        }
    }

    fn remember(&mut self, outcome: &Outcome) {
        let Some(seen) = self.seen.as_mut() else {
            return;
        };
        let upsert = |seen: &mut Vec<Memory>, row: &Row, at: Time| {
            seen.retain(|s| !(s.row.family == row.family && s.row.id == row.id));
            seen.push(Memory {
                row: row.clone(),
                expires: row.timeout.map(|t| at.plus(t)),
            });
        };
        match outcome {
            Outcome::Added(row, at)
            | Outcome::Refreshed(row, at)
            | Outcome::Conflict(_, row, at) => upsert(seen, row, *at),
            Outcome::Removed { family, id, .. } => {
                seen.retain(|s| !(s.row.family == *family && &s.row.id == id))
            }
            Outcome::Lapsed => {}
            Outcome::Failed(_) => {
                // The memory may now be wrong about this address: the next full reconcile reads again.
            }
        }
    }
}

/// Whether `auto` mode sends `actions` in batches. A batch saves a request per write, but its adds
/// and refreshes are confirmed by reading all of the agent's entries back, which on a router costs
/// about 0.7 ms a row against about 120 ms a request (ROUTEROS-REST.md section 6): a few writes
/// among many owned entries go out one request each, removals alone always batch.
fn worth_batching(actions: &[Action], tag: &str, rows: &[Row]) -> bool {
    if actions.len() < batch::MIN_BATCH {
        return false;
    }
    let confirmed = actions
        .iter()
        .filter(|a| !matches!(a, Action::Remove { .. }))
        .count();
    let owned = rows.iter().filter(|r| r.is_owned(tag)).count();
    confirmed == 0 || owned <= ROWS_PER_REQUEST * actions.len()
}

/// How many rows of a read cost about as much as one request (120 ms against 0.7 ms a row).
const ROWS_PER_REQUEST: usize = 100;

/// The most adds whose addresses a full reconcile reads before writing ([`Reconciler::probe_adds`]):
/// one query of that many addresses is about the size of a batch's read-back.
const PROBE_MAX: usize = 250;

/// A row as remembered, read (or written) at `at`.
fn memory(row: &Row, at: Time) -> Memory {
    Memory {
        row: row.clone(),
        expires: row.timeout.map(|t| at.plus(t)),
    }
}

/// Whether a batch's failure means the router will not run the agent's scripts: a permission
/// refusal, an `/execute` the router rejects (not a transient failure), or a reply that is not what
/// the script prints (an interpreter that does not understand it).
fn is_refusal(e: &Error) -> bool {
    matches!(
        e.code,
        Code::AuthorizationFailed | Code::EntryAddFailed | Code::WrongShape
    )
}

fn family_of(action: &Action) -> Family {
    match action {
        Action::Add { address, .. } | Action::Refresh { address, .. } => address.family(),
        Action::Remove { family, .. } => *family,
    }
}

fn address_of(action: &Action) -> &str {
    match action {
        Action::Add { address, .. } | Action::Refresh { address, .. } => address.as_str(),
        Action::Remove { address, .. } => address,
    }
}

/// The scripted command for `action` sent at `now`; `None` for an add whose grant has run out.
/// A refresh whose grant ran out removes the entry instead.
fn command(action: &Action, now: Time) -> Option<Command<'_>> {
    match action {
        Action::Add { address, expires } => {
            plan::timeout_at(*expires, now).map(|timeout| Command::Add { address, timeout })
        }
        Action::Refresh { id, expires, .. } => Some(match plan::timeout_at(*expires, now) {
            Some(timeout) => Command::Set { id, timeout },
            None => Command::Remove { id },
        }),
        Action::Remove { id, .. } => Some(Command::Remove { id }),
    }
}

/// What the rows read back after a batch say about one of its actions; `None` when the action is
/// not done and must be written on its own.
fn decide(config: &PlanConfig, action: &Action, rows: &[Row], seen: Seen) -> Option<Outcome> {
    let in_step = |row: &Row, expires: Time| {
        row.timeout
            .is_some_and(|t| plan::in_step(t, expires, seen, config.tolerance))
    };
    match action {
        Action::Add { address, expires } => {
            let here: Vec<&Row> = rows
                .iter()
                .filter(|r| !r.disabled && r.address == address.as_str())
                .collect();
            if let Some(mine) = here.iter().find(|r| r.is_owned(&config.tag)) {
                return in_step(mine, *expires).then(|| Outcome::Added((*mine).clone(), seen.at));
            }
            here.first().map(|other| {
                Outcome::Conflict(
                    Conflict {
                        address: address.clone(),
                        id: other.id.clone(),
                        reason: plan::foreign_reason(other, &config.tag),
                    },
                    (*other).clone(),
                    seen.at,
                )
            })
        }
        Action::Refresh { id, expires, .. } => {
            let row = rows.iter().find(|r| &r.id == id)?;
            (row.is_owned(&config.tag) && !row.disabled && in_step(row, *expires))
                .then(|| Outcome::Refreshed(row.clone(), seen.at))
        }
        Action::Remove {
            family,
            id,
            address,
        } => (!rows.iter().any(|r| &r.id == id)).then(|| Outcome::Removed {
            family: *family,
            id: id.clone(),
            address: address.clone(),
        }),
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

/// Adds, adopting or reporting a duplicate. Returns the outcome and the number of requests. Each
/// request's timeout is computed from `clock` as it goes out.
async fn add(
    client: &RouterClient,
    config: &PlanConfig,
    clock: &dyn Clock,
    address: Address,
    expires: Time,
) -> (Outcome, usize) {
    let list = config.list(address.family());
    let mut requests = 0;
    // A duplicate whose entry has vanished by the time it is looked up (it just expired) is retried once.
    for _ in 0..2 {
        let at = clock.now();
        let Some(timeout) = plan::timeout_at(expires, at) else {
            return (Outcome::Lapsed, requests);
        };
        requests += 1;
        match client.add(list, &address, timeout, &config.tag).await {
            Err(e) => return (Outcome::Failed(e), requests),
            Ok(Added::Created(row)) => {
                return match confirm(&row, config, &address, timeout, "add") {
                    Ok(()) => (Outcome::Added(row, at), requests),
                    Err(e) => (Outcome::Failed(e), requests),
                };
            }
            Ok(Added::Duplicate) => {
                requests += 1;
                let rows = match client.find(list, &address).await {
                    Ok(rows) => rows,
                    Err(e) => return (Outcome::Failed(e), requests),
                };
                let found_at = clock.now();
                let enabled: Vec<&Row> = rows
                    .iter()
                    .filter(|r| !r.disabled && r.address == address.as_str())
                    .collect();
                if let Some(mine) = enabled.iter().find(|r| r.is_owned(&config.tag)) {
                    let at = clock.now();
                    let Some(timeout) = plan::timeout_at(expires, at) else {
                        return (Outcome::Lapsed, requests);
                    };
                    requests += 1;
                    return match client.set_timeout(mine.family, &mine.id, timeout).await {
                        Ok(Changed::Done(Some(row))) => {
                            match confirm(&row, config, &address, timeout, "refresh") {
                                Ok(()) => (Outcome::Refreshed(row, at), requests),
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
                            found_at,
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

/// Executes one action on its own, computing its timeout from `clock` when it goes out.
async fn execute(
    client: &RouterClient,
    config: &PlanConfig,
    clock: &dyn Clock,
    action: Action,
) -> (Outcome, usize) {
    match action {
        Action::Add { address, expires } => add(client, config, clock, address, expires).await,
        Action::Refresh {
            id,
            address,
            expires,
        } => {
            let at = clock.now();
            let Some(timeout) = plan::timeout_at(expires, at) else {
                // The grants ran out before the write went out: the entry goes.
                let family = address.family();
                return match client.remove(family, &id).await {
                    Ok(_) => (
                        Outcome::Removed {
                            family,
                            id,
                            address: address.to_string(),
                        },
                        1,
                    ),
                    Err(e) => (Outcome::Failed(e), 1),
                };
            };
            match client.set_timeout(address.family(), &id, timeout).await {
                Ok(Changed::Done(Some(row))) => {
                    match confirm(&row, config, &address, timeout, "refresh") {
                        Ok(()) => (Outcome::Refreshed(row, at), 1),
                        Err(e) => (Outcome::Failed(e), 1),
                    }
                }
                // It expired or was deleted between the read and the write: create it again.
                Ok(_) => {
                    let (outcome, n) = add(client, config, clock, address, expires).await;
                    (outcome, n + 1)
                }
                Err(e) => (Outcome::Failed(e), 1),
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(n: usize) -> Vec<Row> {
        (0..n)
            .map(|i| Row {
                family: Family::V4,
                id: format!("*{:X}", i + 1),
                list: "l".into(),
                address: format!("10.0.{}.{}", i / 250, i % 250),
                comment: Some("t".into()),
                timeout: Some(Duration::from_secs(60)),
                dynamic: true,
                disabled: false,
            })
            .collect()
    }

    fn adds(n: usize) -> Vec<Action> {
        (0..n)
            .map(|i| Action::Add {
                address: Address::parse(&format!("10.9.{}.{}", i / 250, i % 250)).unwrap(),
                expires: Time(1_000_000),
            })
            .collect()
    }

    fn removes(n: usize) -> Vec<Action> {
        (0..n)
            .map(|i| Action::Remove {
                family: Family::V4,
                id: format!("*{:X}", i + 1),
                address: format!("10.0.0.{i}"),
            })
            .collect()
    }

    #[test]
    fn auto_batches_when_it_saves_requests() {
        // Too few writes for a batch.
        assert!(!worth_batching(&adds(2), "t", &[]));
        assert!(!worth_batching(&removes(2), "t", &[]));
        // A cold start, and removals at any size: batches.
        assert!(worth_batching(&adds(3), "t", &[]));
        assert!(worth_batching(&removes(3), "t", &owned(30_000)));
        // A few adds among many owned entries: their confirming read would cost more.
        assert!(!worth_batching(&adds(10), "t", &owned(30_000)));
        assert!(worth_batching(&adds(300), "t", &owned(30_000)));
        // Entries that are not the agent's do not count.
        assert!(worth_batching(&adds(10), "other", &owned(30_000)));
    }
}
