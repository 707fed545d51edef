//! Filter rule scenarios: does a grant open the firewall?
//!
//! On a simulator the suite writes the vendor guide's rules for its own list (an accept for
//! `src-address-list=<list>` above a drop) and asks the simulator's verdict for a packet from the
//! granted address: accepted by the list's rule while the grant lasts, dropped by the drop once it is
//! revoked or has expired. It then breaks the rules the ways the field breaks them (the accept below
//! the drop, disabled, negated, behind a drop the check cannot judge) and asserts the agent's code
//! from `validate`. Every rule carries the run's prefix in its comment and narrows itself to
//! a destination of its own, so scenarios sharing a running simulator do not see each other's rules;
//! each removes its rules at the end.
//!
//! A real router's rules are never written: there the suite only reads the filter tables and runs the
//! same check offline, for the run's own list, which no rule mentions (208107).

use std::time::Duration;

use agent::Code;
use serde_json::{Value, json};
use simulator::control::types::{VerdictReply, VerdictRequest};
use simulator::{Action, FaultRule};

use super::{Scenario, advance, scenario};
use crate::driver::Agent;
use crate::target::Ctx;
use crate::{Failure, Outcome, ensure, ensure_eq};

/// The granted source address (TEST-NET-1).
const ADDR: &str = "192.0.2.20";
/// The granted IPv6 source address (documentation prefix).
const ADDR6: &str = "2001:db8::20";
/// The user the grant is for.
const USER: &str = "bob";
/// The IPv4 filter menu.
const FILTER: &str = "/ip/firewall/filter";
/// The IPv6 filter menu.
const FILTER6: &str = "/ipv6/firewall/filter";

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        scenario!(
            "lifecycle::verdict_follows_grant_revoke_and_expiry",
            [FilterRules, Write, Clock],
            [],
            verdict_follows_grants
        ),
        scenario!(
            "lifecycle::validate_rules_confirms_the_guide_rule",
            [FilterRules, Write],
            [],
            validate_confirms
        ),
        scenario!(
            "codes::208107::no_rule_accepts_the_list",
            [],
            [FilterRuleMissing],
            no_rule
        ),
        scenario!(
            "codes::208107::negated_list_rule",
            [FilterRules, Write],
            [FilterRuleMissing],
            negated
        ),
        scenario!(
            "codes::208108::accept_rule_disabled",
            [FilterRules, Write],
            [FilterRuleDisabled],
            disabled
        ),
        scenario!(
            "codes::208109::accept_rule_below_the_drop",
            [FilterRules, Write],
            [FilterRuleShadowed],
            below_the_drop
        ),
        scenario!(
            "codes::208110::undecidable_drop_warns_then_fails_strict",
            [FilterRules, Write],
            [FilterRuleUndecidable],
            undecidable
        ),
        scenario!(
            "codes::208111::filter_read_refused",
            [Faults, Write],
            [FilterRulesUnreadable],
            unreadable
        ),
    ]
}

/// A destination of the scenario's own, derived from its list name, so that its rules match only
/// its own packets (10.0.0.0/8 and its IPv6 counterpart in the documentation prefix).
fn destination(ctx: &Ctx, v6: bool) -> String {
    let h = ctx
        .list
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    let (a, b, c) = ((h >> 16) & 0xff, (h >> 8) & 0xff, (h & 0xfe) + 1);
    if v6 {
        format!("2001:db8:{a:x}{b:02x}::{c:x}")
    } else {
        format!("10.{a}.{b}.{c}")
    }
}

/// Adds a filter rule with PUT (the comment carries the run's prefix) and returns its `.id`.
async fn add_rule(ctx: &Ctx, v6: bool, mut rule: Value) -> Result<String, Failure> {
    let menu = if v6 { FILTER6 } else { FILTER };
    rule["comment"] = json!(format!(
        "{} {}",
        ctx.list,
        rule["comment"].as_str().unwrap_or("")
    ));
    rule["dst-address"] = json!(destination(ctx, v6));
    rule["chain"] = json!("forward");
    let reply = ctx.rest.put(menu, &rule).await?;
    reply.expect_status(201)?;
    reply.json()?[".id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| Failure::new(format!("PUT {menu}: no .id in {}", reply.text())))
}

/// The guide's setup for the scenario's list: a drop, and an accept placed before it.
async fn guide_rules(ctx: &Ctx, v6: bool) -> Result<(String, String), Failure> {
    let drop = add_rule(ctx, v6, json!({"action":"drop","comment":"drop"})).await?;
    let accept = add_rule(
        ctx,
        v6,
        json!({"action":"accept","src-address-list":ctx.list,"place-before":drop,"comment":"accept"}),
    )
    .await?;
    Ok((accept, drop))
}

/// Removes every filter rule whose comment carries the scenario's list name.
async fn remove_rules(ctx: &Ctx) -> Outcome {
    for menu in [FILTER, FILTER6] {
        for row in ctx.rest.rows(menu).await? {
            let ours = row
                .get("comment")
                .and_then(Value::as_str)
                .is_some_and(|c| c.starts_with(&ctx.list));
            if let (true, Some(id)) = (ours, row.get(".id").and_then(Value::as_str)) {
                ctx.rest.delete(&format!("{menu}/{id}")).await?;
            }
        }
    }
    Ok(())
}

/// The verdict for a packet from `ADDR` to the scenario's destination.
async fn verdict(ctx: &Ctx) -> Result<VerdictReply, Failure> {
    let request = VerdictRequest {
        chain: "forward".into(),
        connection_state: None,
        dst: destination(ctx, false)
            .parse()
            .map_err(|e| Failure::new(format!("{e}")))?,
        dst_port: Some(22),
        family: None,
        in_interface: None,
        out_interface: None,
        protocol: Some("tcp".into()),
        size: None,
        src: ADDR.parse().map_err(|e| Failure::new(format!("{e}")))?,
        src_port: None,
    };
    ctx.verdict(&request).await
}

/// Fails unless the verdict is `decision` by rule `id`.
fn decided(v: &VerdictReply, decision: &str, id: &str, when: &str) -> Outcome {
    let by = v.decided_by.as_ref().map(|s| s.id.as_str());
    ensure!(
        v.decision == decision && by == Some(id),
        "{when}: expected {decision} by {id}, got {} by {by:?} ({:?})",
        v.decision,
        v.reasons
    );
    Ok(())
}

async fn verdict_follows_grants(ctx: &Ctx) -> Outcome {
    let (accept, drop) = guide_rules(ctx, false).await?;
    let agent = Agent::new(ctx);
    decided(&verdict(ctx).await?, "drop", &drop, "before the grant")?;
    agent.grant(ADDR, USER, "1h").await.expect_ok()?;
    decided(&verdict(ctx).await?, "accept", &accept, "with the grant")?;
    let rule = ctx.rest.rows(&format!("{FILTER}?.id={accept}")).await?;
    ensure!(
        rule.first()
            .and_then(|r| r.get("packets"))
            .and_then(Value::as_str)
            .is_some_and(|p| p != "0"),
        "the accept rule's counters did not advance: {rule:?}"
    );
    agent.revoke(ADDR, USER).await.expect_ok()?;
    decided(&verdict(ctx).await?, "drop", &drop, "after the revoke")?;
    agent.grant(ADDR, USER, "1m").await.expect_ok()?;
    decided(
        &verdict(ctx).await?,
        "accept",
        &accept,
        "with the second grant",
    )?;
    advance(ctx, &agent, Duration::from_secs(120)).await?;
    decided(&verdict(ctx).await?, "drop", &drop, "after expiry")?;
    remove_rules(ctx).await
}

async fn validate_confirms(ctx: &Ctx) -> Outcome {
    fill_list(ctx).await?;
    guide_rules(ctx, false).await?;
    guide_rules(ctx, true).await?;
    let run = Agent::new(ctx).validate_rules(true).await;
    run.expect_ok()?;
    ensure!(
        run.output.text.contains("accepts address list"),
        "{}",
        run.output.text
    );
    remove_rules(ctx).await
}

/// Grants `ADDR`, so that the list exists: a rule naming a list without entries is shown `invalid`
/// by the router, which the check rightly cannot judge.
async fn fill_list(ctx: &Ctx) -> Outcome {
    let agent = Agent::new(ctx);
    agent.grant(ADDR, USER, "1h").await.expect_ok()?;
    agent.grant(ADDR6, USER, "1h").await.expect_ok()?;
    Ok(())
}

/// `validate` (with the rule check) fails with `code`, and its message carries `command`.
async fn expect_rule_code(ctx: &Ctx, code: Code, command: &str) -> Outcome {
    let run = Agent::new(ctx).validate_rules(false).await;
    run.expect_code(code.number())?;
    ensure!(
        run.output.text.contains(command),
        "the message should carry `{command}`:\n{}",
        run.output.text
    );
    Ok(())
}

async fn no_rule(ctx: &Ctx) -> Outcome {
    // Reading only: the run's list is new, so no rule of any router mentions it.
    let command = format!(
        "/ip firewall filter add chain=forward src-address-list={}",
        ctx.list
    );
    expect_rule_code(ctx, Code::FilterRuleMissing, &command).await
}

async fn negated(ctx: &Ctx) -> Outcome {
    let list = format!("!{}", ctx.list);
    add_rule(
        ctx,
        false,
        json!({"action":"accept","src-address-list":list,"comment":"negated"}),
    )
    .await?;
    expect_rule_code(ctx, Code::FilterRuleMissing, "/ip firewall filter add").await?;
    remove_rules(ctx).await
}

async fn disabled(ctx: &Ctx) -> Outcome {
    let (accept, _) = guide_rules(ctx, false).await?;
    let reply = ctx
        .rest
        .patch(&format!("{FILTER}/{accept}"), &json!({"disabled":"yes"}))
        .await?;
    reply.expect_status(200)?;
    let command = format!("/ip firewall filter enable {accept}");
    expect_rule_code(ctx, Code::FilterRuleDisabled, &command).await?;
    remove_rules(ctx).await
}

async fn below_the_drop(ctx: &Ctx) -> Outcome {
    fill_list(ctx).await?;
    let drop = add_rule(ctx, false, json!({"action":"drop","comment":"drop"})).await?;
    let accept = add_rule(
        ctx,
        false,
        json!({"action":"accept","src-address-list":ctx.list,"comment":"accept"}),
    )
    .await?;
    let command = format!("/ip firewall filter move {accept} destination={drop}");
    expect_rule_code(ctx, Code::FilterRuleShadowed, &command).await?;
    remove_rules(ctx).await
}

async fn undecidable(ctx: &Ctx) -> Outcome {
    // A drop the check cannot judge (`tcp-flags`) above the accept, in both families.
    fill_list(ctx).await?;
    for v6 in [false, true] {
        add_rule(
            ctx,
            v6,
            json!({"action":"drop","tcp-flags":"syn","comment":"syn"}),
        )
        .await?;
        add_rule(
            ctx,
            v6,
            json!({"action":"accept","src-address-list":ctx.list,"comment":"accept"}),
        )
        .await?;
    }
    let agent = Agent::new(ctx);
    let run = agent.validate_rules(false).await;
    run.expect_ok()?;
    ensure!(
        run.output.text.contains("warn") && run.output.text.contains("208110"),
        "without --strict-rules 208110 is a warning:\n{}",
        run.output.text
    );
    agent
        .validate_rules(true)
        .await
        .expect_code(Code::FilterRuleUndecidable.number())?;
    remove_rules(ctx).await
}

async fn unreadable(ctx: &Ctx) -> Outcome {
    let rule = FaultRule::always(Action::Status {
        status: 400,
        detail: Some("no such command or directory (filter)".into()),
    })
    .path("/rest/ip/firewall/filter");
    let id = ctx.fault(rule).await?;
    let agent = Agent::new(ctx);
    agent
        .validate_rules(false)
        .await
        .expect_code(Code::FilterRulesUnreadable.number())?;
    ctx.remove_fault(id).await?;
    // Without the fault the read works and the check judges the rules (none for this list).
    let run = agent.validate_rules(false).await;
    ensure_eq!(
        run.codes(),
        vec![Code::FilterRuleMissing.number()],
        "after the fault is removed"
    );
    Ok(())
}
