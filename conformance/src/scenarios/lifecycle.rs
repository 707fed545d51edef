//! Lifecycle scenarios: grants through the agent, from first grant to expiry, reboot and restart.
//!
//! Each drives the agent's commands and then reads the router's list with the suite's own client,
//! so "the entry is there with the right timeout" is judged by the router, not by the agent's report.
//! Time moves by the simulator's clock and the agent's manual clock together, never by sleeping.

use std::time::Duration;

use serde_json::{Value, json};
use simulator::{Action, FaultRule};

use super::{Scenario, advance, scenario, seconds};
use agent::batch::WriteMode;

use crate::driver::Agent;
use crate::target::{Cap, Ctx};
use crate::{Failure, Outcome, ensure, ensure_eq};

const ADDR: &str = "192.0.2.10";

pub(super) fn scenarios() -> Vec<Scenario> {
    let all = every_mode();
    // Every scenario that writes runs again with the agent in `bulk` mode, where each plan, even
    // of one write, goes out as a batch through `/execute` and is read back: the lifecycle must
    // look the same from the router's side whichever way the agent writes.
    let bulk: Vec<Scenario> = all
        .iter()
        .filter(|s| s.needs.contains(&Cap::Write))
        .map(|s| Scenario {
            name: Box::leak(
                s.name
                    .replacen("lifecycle::", "lifecycle::bulk::", 1)
                    .into_boxed_str(),
            ),
            needs: s.needs,
            codes: s.codes,
            local: s.local,
            write_mode: WriteMode::Bulk,
            run: s.run,
        })
        .collect();
    all.into_iter().chain(bulk).collect()
}

/// The scenarios, with the agent in its default write mode.
fn every_mode() -> Vec<Scenario> {
    vec![
        scenario!("lifecycle::validate_passes", [], [], validate_passes),
        scenario!(
            "lifecycle::validate_write_check_leaves_no_trace",
            [Write],
            [],
            validate_write_check
        ),
        scenario!(
            "lifecycle::grant_adds_a_tagged_timed_entry",
            [Write],
            [],
            grant_adds
        ),
        scenario!(
            "lifecycle::later_grant_refreshes_the_timeout",
            [Write],
            [],
            refresh
        ),
        scenario!("lifecycle::revoke_removes_the_entry", [Write], [], revoke),
        scenario!(
            "lifecycle::shared_address_stays_until_the_last_revoke",
            [Write],
            [],
            shared_address
        ),
        scenario!(
            "lifecycle::ipv6_grant_uses_the_ipv6_list",
            [Write],
            [],
            ipv6_grant
        ),
        scenario!(
            "lifecycle::prefix_grants_match_the_routers_normal_form",
            [Write],
            [],
            prefix_grants
        ),
        scenario!(
            "lifecycle::expiry_closes_access_by_itself",
            [Clock, Write],
            [],
            expiry
        ),
        scenario!(
            "lifecycle::sync_in_step_writes_nothing",
            [Clock, Write],
            [],
            in_step
        ),
        scenario!(
            "lifecycle::reboot_recovery",
            [Reboot, Write],
            [],
            reboot_recovery
        ),
        scenario!("lifecycle::restart_recovery", [Write], [], restart_recovery),
        scenario!(
            "lifecycle::foreign_entries_untouched",
            [Write],
            [],
            foreign_untouched
        ),
        scenario!(
            "lifecycle::transient_failure_is_retried",
            [Faults, Write],
            [],
            retried
        ),
    ]
}

/// The single row of the scenario's IPv4 or IPv6 list.
async fn only_row(ctx: &Ctx, v6: bool) -> Result<serde_json::Map<String, Value>, Failure> {
    let mut rows = ctx.entries(v6).await?;
    ensure!(
        rows.len() == 1,
        "expected one entry in `{}`, found {rows:?}",
        ctx.list
    );
    Ok(rows.remove(0))
}

fn timeout_of(row: &serde_json::Map<String, Value>) -> Result<u64, Failure> {
    match row.get("timeout").and_then(Value::as_str) {
        Some(t) => seconds(t),
        None => Err(Failure::new(format!("entry without timeout: {row:?}"))),
    }
}

async fn validate_passes(ctx: &Ctx) -> Outcome {
    let run = Agent::new(ctx).validate(false).await;
    run.expect_ok()?;
    ensure!(
        run.output.text.contains("validation passed"),
        "{}",
        run.output.text
    );
    Ok(())
}

async fn validate_write_check(ctx: &Ctx) -> Outcome {
    Agent::new(ctx).validate(true).await.expect_ok()?;
    ensure!(
        ctx.entries(false).await?.is_empty(),
        "the write check left its probe entry behind"
    );
    Ok(())
}

async fn grant_adds(ctx: &Ctx) -> Outcome {
    let agent = Agent::new(ctx);
    let run = agent.grant(ADDR, "alice", "1h").await;
    run.expect_ok()?;
    ensure_eq!(
        run.report("added"),
        vec![ADDR.to_owned()],
        "reported as added"
    );
    let row = only_row(ctx, false).await?;
    ensure_eq!(row["address"], json!(ADDR), "address");
    ensure_eq!(
        row.get("comment"),
        Some(&json!(ctx.tag)),
        "the agent's tag in `comment`"
    );
    ensure_eq!(
        row["dynamic"],
        json!("true"),
        "dynamic (so it dies with the router's RAM)"
    );
    let left = timeout_of(&row)?;
    ensure!(
        (3590..=3600).contains(&left),
        "timeout {left}s for a 1h grant"
    );
    agent.expect_grant(ADDR, "alice")
}

async fn refresh(ctx: &Ctx) -> Outcome {
    let agent = Agent::new(ctx);
    agent.grant(ADDR, "alice", "10m").await.expect_ok()?;
    let id = only_row(ctx, false).await?[".id"].clone();
    let run = agent.grant(ADDR, "alice", "2h").await;
    run.expect_ok()?;
    ensure_eq!(
        run.report("refreshed"),
        vec![ADDR.to_owned()],
        "reported as refreshed"
    );
    let row = only_row(ctx, false).await?;
    ensure_eq!(row[".id"], id, "the same entry (refreshed, not replaced)");
    let left = timeout_of(&row)?;
    ensure!(
        (7190..=7200).contains(&left),
        "timeout {left}s after a 2h grant"
    );
    Ok(())
}

async fn revoke(ctx: &Ctx) -> Outcome {
    let agent = Agent::new(ctx);
    agent.grant(ADDR, "alice", "1h").await.expect_ok()?;
    let run = agent.revoke(ADDR, "alice").await;
    run.expect_ok()?;
    ensure_eq!(
        run.report("removed"),
        vec![ADDR.to_owned()],
        "reported as removed"
    );
    ensure!(
        ctx.entries(false).await?.is_empty(),
        "the entry survived its revoke"
    );
    ensure!(agent.grants()?.is_empty(), "the grant survived its revoke");
    Ok(())
}

async fn shared_address(ctx: &Ctx) -> Outcome {
    let agent = Agent::new(ctx);
    agent.grant(ADDR, "alice", "1h").await.expect_ok()?;
    agent.grant(ADDR, "bob", "2h").await.expect_ok()?;
    ensure!(
        timeout_of(&only_row(ctx, false).await?)? > 7000,
        "the shared entry should carry the later expiry"
    );
    agent.revoke(ADDR, "bob").await.expect_ok()?;
    let row = only_row(ctx, false).await?;
    let left = timeout_of(&row)?;
    ensure!(
        (3500..=3600).contains(&left),
        "after bob's revoke the entry should follow alice's 1h grant, has {left}s"
    );
    agent.revoke(ADDR, "alice").await.expect_ok()?;
    ensure!(
        ctx.entries(false).await?.is_empty(),
        "the entry outlived the last grant"
    );
    Ok(())
}

async fn ipv6_grant(ctx: &Ctx) -> Outcome {
    let agent = Agent::new(ctx);
    agent
        .grant("2001:DB8::5", "alice", "1h")
        .await
        .expect_ok()?;
    let row = only_row(ctx, true).await?;
    ensure_eq!(row["address"], json!("2001:db8::5/128"), "the IPv6 entry");
    ensure!(
        ctx.entries(false).await?.is_empty(),
        "an IPv6 grant wrote to the IPv4 list"
    );
    // In step now: a sync must not see a difference between `2001:db8::5` and `/128`.
    let run = agent.sync().await;
    run.expect_ok()?;
    ensure!(
        run.report("added").is_empty() && run.report("refreshed").is_empty(),
        "a sync in step wrote: {}",
        run.output.text
    );
    agent.revoke("2001:db8::5", "alice").await.expect_ok()?;
    ensure!(
        ctx.entries(true).await?.is_empty(),
        "the IPv6 entry survived its revoke"
    );
    Ok(())
}

/// The agent must write addresses in the form the router shows them, or every sync would see a
/// difference (and every write would look unconfirmed).
async fn prefix_grants(ctx: &Ctx) -> Outcome {
    let agent = Agent::new(ctx);
    agent
        .grant("198.51.100.77/24", "alice", "1h")
        .await
        .expect_ok()?;
    agent
        .grant("192.0.2.12/32", "bob", "1h")
        .await
        .expect_ok()?;
    ensure_eq!(
        ctx.addresses(false).await?,
        vec!["192.0.2.12".to_owned(), "198.51.100.0/24".to_owned()],
        "the list"
    );
    let run = agent.sync().await;
    run.expect_ok()?;
    ensure!(
        run.report("added").is_empty() && run.report("refreshed").is_empty(),
        "a sync in step wrote: {}",
        run.output.text
    );
    Ok(())
}

async fn expiry(ctx: &Ctx) -> Outcome {
    let agent = Agent::new(ctx);
    agent.grant(ADDR, "alice", "10m").await.expect_ok()?;
    advance(ctx, &agent, Duration::from_secs(11 * 60)).await?;
    // The router closed access by itself: the entry's own timeout ran out.
    ensure!(
        ctx.entries(false).await?.is_empty(),
        "the entry outlived its grant"
    );
    let run = agent.sync().await;
    run.expect_ok()?;
    ensure!(
        run.report("added").is_empty(),
        "an expired grant was added again"
    );
    ensure!(
        agent.grants()?.is_empty(),
        "the expired grant was not pruned"
    );
    Ok(())
}

async fn in_step(ctx: &Ctx) -> Outcome {
    let agent = Agent::new(ctx);
    agent.grant(ADDR, "alice", "1h").await.expect_ok()?;
    advance(ctx, &agent, Duration::from_secs(20 * 60)).await?;
    let run = agent.sync().await;
    run.expect_ok()?;
    ensure!(
        run.report("added").is_empty()
            && run.report("refreshed").is_empty()
            && run.report("removed").is_empty(),
        "router and agent counted down together, yet the sync wrote: {}",
        run.output.text
    );
    let left = timeout_of(&only_row(ctx, false).await?)?;
    ensure!(
        (2390..=2400).contains(&left),
        "40 minutes should remain, {left}s do"
    );
    Ok(())
}

async fn reboot_recovery(ctx: &Ctx) -> Outcome {
    let agent = Agent::new(ctx);
    agent.grant(ADDR, "alice", "1h").await.expect_ok()?;
    ctx.reboot().await?;
    ensure!(
        ctx.entries(false).await?.is_empty(),
        "a dynamic entry survived the reboot"
    );
    let run = agent.sync().await;
    run.expect_ok()?;
    ensure_eq!(
        run.report("added"),
        vec![ADDR.to_owned()],
        "re-added after the reboot"
    );
    ensure!(
        timeout_of(&only_row(ctx, false).await?)? > 3500,
        "the re-added entry's timeout"
    );
    Ok(())
}

async fn restart_recovery(ctx: &Ctx) -> Outcome {
    let first = Agent::new(ctx);
    first.grant(ADDR, "alice", "1h").await.expect_ok()?;
    first.grant("192.0.2.11", "bob", "1h").await.expect_ok()?;
    // While the agent is down, someone deletes one of its entries.
    let row = ctx
        .entries(false)
        .await?
        .into_iter()
        .find(|r| r["address"] == json!(ADDR))
        .ok_or_else(|| Failure::new("the first entry is missing"))?;
    let id = row[".id"].as_str().unwrap_or("").to_owned();
    ctx.rest.guard().adopt(Ctx::menu(false), &id);
    ctx.rest
        .delete(&format!("{}/{id}", Ctx::menu(false)))
        .await?
        .expect_status(204)?;
    drop(first);
    // A new process on the same grant store: nothing was lost, and the gap is closed.
    let second = Agent::new(ctx);
    ensure_eq!(second.grants()?.len(), 2, "grants after the restart");
    let run = second.sync().await;
    run.expect_ok()?;
    ensure_eq!(
        run.report("added"),
        vec![ADDR.to_owned()],
        "restored after the restart"
    );
    ensure_eq!(
        ctx.addresses(false).await?,
        vec![ADDR.to_owned(), "192.0.2.11".to_owned()],
        "the list"
    );
    Ok(())
}

async fn foreign_untouched(ctx: &Ctx) -> Outcome {
    // One static entry (a firewall admin's: the case that matters most, and the reason this
    // scenario is in STATIC_ENTRY_SCENARIOS); the others are timed, so that an interrupted run
    // leaves no more than that one permanent entry.
    let foreign = [
        json!({ "list": ctx.list, "address": "192.0.2.200", "comment": "firewall admin" }),
        json!({ "list": ctx.list, "address": "192.0.2.201", "timeout": "1d", "comment": "another-agent" }),
        json!({ "list": ctx.list, "address": "192.0.2.202", "timeout": "1d" }),
    ];
    for f in &foreign {
        ctx.rest
            .put(Ctx::menu(false), f)
            .await?
            .expect_status(201)?;
    }
    let ids = |rows: &[serde_json::Map<String, Value>]| -> Vec<(String, String, Option<String>)> {
        let mut v: Vec<_> = rows
            .iter()
            .filter(|r| r["address"] != json!(ADDR))
            .map(|r| {
                (
                    r[".id"].to_string(),
                    r["address"].to_string(),
                    r.get("comment").map(Value::to_string),
                )
            })
            .collect();
        v.sort();
        v
    };
    let before = ids(&ctx.entries(false).await?);
    let agent = Agent::new(ctx);
    agent.grant(ADDR, "alice", "1h").await.expect_ok()?;
    agent.sync().await.expect_ok()?;
    agent.revoke(ADDR, "alice").await.expect_ok()?;
    let after = ctx.entries(false).await?;
    ensure_eq!(ids(&after), before, "the foreign entries");
    ensure!(
        !after.iter().any(|r| r["address"] == json!(ADDR)),
        "the agent's entry survived its revoke"
    );
    // The other agent's timed entry still counts down from its own 1d.
    let other = after
        .iter()
        .find(|r| r["address"] == json!("192.0.2.201"))
        .ok_or_else(|| Failure::new("the timed foreign entry vanished"))?;
    ensure!(
        timeout_of(other)? > 86_000,
        "the foreign entry's timeout was changed: {other:?}"
    );
    Ok(())
}

async fn retried(ctx: &Ctx) -> Outcome {
    let agent = Agent::new(ctx);
    // One 503 on the list read and one reset on the write: the agent retries both and succeeds.
    ctx.fault(
        FaultRule::always(Action::Status {
            status: 503,
            detail: None,
        })
        .path("/rest/ip/firewall/address-list")
        .method("GET")
        .times(1),
    )
    .await?;
    ctx.fault(
        FaultRule::always(Action::Reset)
            .path("/rest/ip/firewall/address-list")
            .method("PUT")
            .times(1),
    )
    .await?;
    agent.grant(ADDR, "alice", "1h").await.expect_ok()?;
    ensure_eq!(
        ctx.addresses(false).await?,
        vec![ADDR.to_owned()],
        "the list after the retries"
    );
    Ok(())
}
