//! Passive-mode scenarios: the router pulls the agent's feed on its own timer.
//!
//! On the in-process simulator ([`Cap::FeedFetch`]) the suite runs the agent's daemon in passive
//! mode with its feed on loopback, trusts the feed's CA in the simulator's certificate store (what
//! `/certificate import` does), runs `passive install`, and moves the clocks: the simulator's
//! scheduler runs the installed script, whose `/tool/fetch` is a real HTTPS request to the feed.
//! Grants go to the daemon as the binary sends them (the command finds the daemon holding the store
//! and forwards to its control API). The list is then read by the suite's own client, and
//! `passive status` must say `in step` or the code of what is wrong.
//!
//! On any target, and so on a real router, only `install`, `status` and `uninstall` run, against a
//! feed URL the router need not reach, with the suite's own tag as the script's and scheduler
//! entry's name; each scenario removes what it made and proves the router holds no script or
//! scheduler entry of that name afterwards.
//!
//! [`Cap::FeedFetch`]: crate::target::Cap::FeedFetch

use std::time::Duration;

use agent::config::{Mode, Secret};
use serde_json::json;
use simulator::{Action, FaultRule};
use tokio::sync::oneshot;

use super::{Scenario, advance, scenario};
use crate::driver::Agent;
use crate::target::Ctx;
use crate::{Failure, Outcome, ensure, ensure_eq};

/// The scheduler interval `passive install` is given here.
const INTERVAL: Duration = Duration::from_secs(60);
const USER: &str = "carol";

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        scenario!(
            "lifecycle::passive_grant_and_revoke_reach_the_list_within_one_interval",
            [FeedFetch, Admin, Write, Clock],
            [],
            grant_and_revoke
        ),
        scenario!(
            "lifecycle::passive_install_status_uninstall_leave_no_trace",
            [Write],
            [],
            install_status_uninstall
        ),
        scenario!(
            "lifecycle::passive_ten_thousand_grants_in_step_at_router_speed",
            [FeedFetch, Admin, Write, Clock],
            [],
            ten_thousand
        ),
        scenario!(
            "codes::208020::passive_feed_down_then_entries_expire",
            [FeedFetch, Admin, Write, Clock],
            [FeedUnreachable],
            feed_down
        ),
        scenario!(
            "codes::208021::passive_feed_refuses_the_key",
            [FeedFetch, Admin, Write, Clock],
            [FeedKeyRefused],
            wrong_key
        ),
        scenario!(
            "codes::208022::passive_router_lacks_the_feed_ca",
            [FeedFetch, Admin, Write, Clock],
            [FeedCertificateRefused],
            wrong_ca
        ),
        scenario!(
            "codes::208120::passive_script_fails",
            [FeedFetch, Admin, Faults, Write, Clock],
            [FeedScriptFailed],
            script_fails
        ),
        scenario!(
            "codes::208121::passive_list_out_of_step",
            [FeedFetch, Admin, Write, Clock],
            [FeedOutOfStep],
            out_of_step
        ),
        scenario!(
            "codes::208122::passive_not_installed",
            [],
            [PassiveNotInstalled],
            not_installed
        ),
        scenario!(
            "codes::208123::passive_foreign_script_of_the_same_name",
            [Write],
            [PassiveNotOwned],
            foreign_script
        ),
        scenario!(
            "codes::208124::passive_router_refuses_the_script",
            [Faults, Write],
            [PassiveSetupFailed],
            setup_refused
        ),
    ]
}

/// The agent's daemon in passive mode, serving its feed on loopback.
struct Feed {
    agent: Agent,
    url: String,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), agent::daemon::DaemonError>>,
}

impl Feed {
    /// Starts the daemon; with `trust`, the simulator trusts the feed's CA.
    async fn start(ctx: &Ctx, trust: bool) -> Result<Feed, Failure> {
        // The vendor guide's group (`api,rest-api,read,write,policy`) cannot run `/tool/fetch`:
        // passive mode's owner needs `test` too (see the README's router setup).
        let creds = ctx
            .restricted_user("passive", "api,rest-api,read,write,policy,test")
            .await?;
        let mut agent = Agent::new(ctx).with_creds(&creds);
        agent.config.mode = Mode::Passive;
        agent.config.control_token = Some(Secret::new(crate::target::ctx::random_password()?));
        let bind = |what: &'static str| async move {
            tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(|e| Failure::new(format!("cannot listen for the {what}: {e}")))
        };
        let control = bind("control API").await?;
        let feed = bind("feed").await?;
        let port = feed
            .local_addr()
            .map_err(|e| Failure::new(e.to_string()))?
            .port();
        let url = format!(
            "https://127.0.0.1:{port}{}",
            agent::passive::feed_path(&ctx.list)
        );
        let client = agent::net::RouterClient::new(&agent.config)
            .map_err(|e| Failure::new(e.to_string()))?;
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(agent::daemon::serve_with_feed(
            agent.config.clone(),
            Some(client),
            std::sync::Arc::new(agent.clock.clone()),
            control,
            Some(feed),
            async move {
                let _ = rx.await;
            },
            agent::daemon::Timing::default(),
        ));
        // The daemon writes its CA and key before it serves: poll for them in short steps.
        let ca = agent.config.beside_state(".feed-ca.pem");
        for _ in 0..500 {
            if ca.exists() && agent.config.feed_key_path().exists() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let pem = std::fs::read_to_string(&ca)
            .map_err(|e| Failure::new(format!("the daemon wrote no feed CA: {e}")))?;
        if trust {
            ctx.trust_on_router(&pem)?;
        }
        Ok(Feed {
            agent,
            url,
            stop: Some(tx),
            task,
        })
    }

    async fn stop(&mut self) -> Outcome {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
            (&mut self.task)
                .await
                .map_err(|e| Failure::new(e.to_string()))?
                .map_err(|e| Failure::new(format!("the daemon failed: {e}")))?;
        }
        Ok(())
    }

    async fn grant(&self, address: &str) -> Outcome {
        self.agent.grant(address, USER, "1h").await.expect_ok()?;
        Ok(())
    }

    /// Installs, moves both clocks by one interval (the scheduler runs the script once) and
    /// returns `passive status`.
    async fn install_and_run(&self, ctx: &Ctx) -> Result<crate::driver::Run, Failure> {
        self.install_and_run_with(ctx, true).await
    }

    /// [`Feed::install_and_run`], importing the feed's CA on the router unless `no_ca_import`.
    async fn install_and_run_with(
        &self,
        ctx: &Ctx,
        no_ca_import: bool,
    ) -> Result<crate::driver::Run, Failure> {
        self.agent
            .passive_install(&self.url, no_ca_import)
            .await
            .expect_ok()?;
        advance(ctx, &self.agent, INTERVAL).await?;
        Ok(self.agent.passive_status().await)
    }
}

async fn grant_and_revoke(ctx: &Ctx) -> Outcome {
    // The CA goes to the router as on a real one: uploaded and imported by `passive install`.
    let mut feed = Feed::start(ctx, false).await?;
    feed.grant("192.0.2.50").await?;
    feed.install_and_run_with(ctx, false).await?.expect_ok()?;
    ensure_eq!(
        ctx.addresses(false).await?,
        vec!["192.0.2.50".to_owned()],
        "ctx.addresses(false).await?"
    );
    let row = &ctx.entries(false).await?[0];
    ensure_eq!(row["comment"], json!(ctx.tag), "row[\"comment\"]");
    ensure_eq!(row["dynamic"], json!("true"), "row[\"dynamic\"]");
    feed.grant("192.0.2.51").await?;
    feed.agent.revoke("192.0.2.50", USER).await.expect_ok()?;
    advance(ctx, &feed.agent, INTERVAL).await?;
    ensure_eq!(
        ctx.addresses(false).await?,
        vec!["192.0.2.51".to_owned()],
        "ctx.addresses(false).await?"
    );
    feed.agent.passive_status().await.expect_ok()?;
    let removed = feed.agent.passive_uninstall().await;
    removed.expect_ok()?;
    ensure_eq!(
        removed.output.json["changes"]["ca"],
        json!("removed"),
        "the imported CA"
    );
    feed.stop().await
}

async fn feed_down(ctx: &Ctx) -> Outcome {
    let mut feed = Feed::start(ctx, true).await?;
    feed.grant("192.0.2.52").await?;
    feed.install_and_run(ctx).await?.expect_ok()?;
    feed.stop().await?;
    advance(ctx, &feed.agent, INTERVAL).await?;
    feed.agent.passive_status().await.expect_code(208020)?;
    // Still there, counting down: three intervals after its last refresh it is gone.
    ensure_eq!(
        ctx.addresses(false).await?,
        vec!["192.0.2.52".to_owned()],
        "ctx.addresses(false).await?"
    );
    advance(ctx, &feed.agent, INTERVAL * 2).await?;
    ensure!(
        ctx.addresses(false).await?.is_empty(),
        "the entry outlived the fail-closed timeout"
    );
    feed.agent.passive_uninstall().await.expect_ok()?;
    Ok(())
}

async fn wrong_key(ctx: &Ctx) -> Outcome {
    let mut feed = Feed::start(ctx, true).await?;
    feed.grant("192.0.2.53").await?;
    let wrong = ctx.dir.path().join("wrong-feed-key");
    std::fs::write(&wrong, "not-the-feed-key\n").map_err(|e| Failure::new(e.to_string()))?;
    let mut other = feed.agent.clone();
    other.config.feed.key_file = Some(wrong);
    other.passive_install(&feed.url, true).await.expect_ok()?;
    advance(ctx, &feed.agent, INTERVAL).await?;
    feed.agent.passive_status().await.expect_code(208021)?;
    ensure!(
        ctx.addresses(false).await?.is_empty(),
        "a refused fetch added entries"
    );
    feed.agent.passive_uninstall().await.expect_ok()?;
    feed.stop().await
}

async fn wrong_ca(ctx: &Ctx) -> Outcome {
    let mut feed = Feed::start(ctx, false).await?;
    feed.grant("192.0.2.54").await?;
    feed.install_and_run(ctx).await?.expect_code(208022)?;
    ensure!(
        ctx.addresses(false).await?.is_empty(),
        "an untrusted feed added entries"
    );
    feed.agent.passive_uninstall().await.expect_ok()?;
    feed.stop().await
}

async fn script_fails(ctx: &Ctx) -> Outcome {
    let mut feed = Feed::start(ctx, true).await?;
    feed.grant("192.0.2.55").await?;
    ctx.fault(
        FaultRule::always(Action::Status {
            status: 500,
            detail: Some("failure: out of memory".into()),
        })
        .path("/rest/ip/firewall/address-list/print")
        .method("SCRIPT"),
    )
    .await?;
    feed.install_and_run(ctx).await?.expect_code(208120)?;
    ctx.clear_faults().await?;
    feed.agent.passive_uninstall().await.expect_ok()?;
    feed.stop().await
}

async fn out_of_step(ctx: &Ctx) -> Outcome {
    let mut feed = Feed::start(ctx, true).await?;
    feed.grant("192.0.2.56").await?;
    feed.install_and_run(ctx).await?.expect_ok()?;
    // A grant after the run: missing on the router until the next one.
    feed.grant("192.0.2.57").await?;
    feed.agent.passive_status().await.expect_code(208121)?;
    advance(ctx, &feed.agent, INTERVAL).await?;
    feed.agent.passive_status().await.expect_ok()?;
    feed.agent.passive_uninstall().await.expect_ok()?;
    feed.stop().await
}

/// Whether the router holds a script or scheduler entry named `name`.
async fn leftovers(ctx: &Ctx, name: &str) -> Result<Vec<String>, Failure> {
    let mut found = Vec::new();
    for menu in ["/system/script", "/system/scheduler"] {
        let rows = ctx
            .rest
            .rows(&format!("{menu}?name={}", crate::rest::encode_query(name)))
            .await?;
        found.extend(rows.iter().map(|_| format!("{menu} {name}")));
    }
    Ok(found)
}

async fn not_installed(ctx: &Ctx) -> Outcome {
    Agent::new(ctx).passive_status().await.expect_code(208122)?;
    Ok(())
}

/// An agent whose feed key is a file in the scenario's directory (no daemon needed to install).
fn agent_with_key(ctx: &Ctx) -> Result<Agent, Failure> {
    let mut agent = Agent::new(ctx);
    let key = ctx.dir.path().join("feed-key");
    std::fs::write(
        &key,
        format!("{}\n", crate::target::ctx::random_password()?),
    )
    .map_err(|e| Failure::new(e.to_string()))?;
    agent.config.feed.key_file = Some(key);
    Ok(agent)
}

async fn install_status_uninstall(ctx: &Ctx) -> Outcome {
    let agent = agent_with_key(ctx)?;
    ensure!(
        leftovers(ctx, &ctx.tag).await?.is_empty(),
        "the router already holds our names"
    );
    // A feed URL the router need not reach: this scenario never lets the scheduler run.
    let url = format!(
        "https://127.0.0.1:9{}",
        agent::passive::feed_path(&ctx.list)
    );
    let body = async {
        let first = agent.passive_install(&url, true).await;
        first.expect_ok()?;
        ensure_eq!(
            first.output.json["changes"]["script"],
            json!("created"),
            "first.output.json[\"changes\"][\"script\"]"
        );
        let second = agent.passive_install(&url, true).await;
        second.expect_ok()?;
        ensure_eq!(
            second.output.json["changes"]["script"],
            json!("unchanged"),
            "second.output.json[\"changes\"][\"script\"]"
        );
        ensure_eq!(
            second.output.json["changes"]["scheduler"],
            json!("unchanged"),
            "second.output.json[\"changes\"][\"scheduler\"]"
        );
        agent.passive_status().await.expect_code(208122)?;
        Ok(())
    }
    .await;
    let removed = agent.passive_uninstall().await;
    body?;
    removed.expect_ok()?;
    ensure_eq!(
        removed.output.json["changes"]["script"],
        json!("removed"),
        "removed.output.json[\"changes\"][\"script\"]"
    );
    ensure_eq!(
        removed.output.json["changes"]["scheduler"],
        json!("removed"),
        "removed.output.json[\"changes\"][\"scheduler\"]"
    );
    let left = leftovers(ctx, &ctx.tag).await?;
    ensure!(left.is_empty(), "left on the router: {left:?}");
    Ok(())
}

async fn foreign_script(ctx: &Ctx) -> Outcome {
    let agent = agent_with_key(ctx)?;
    let reply = ctx
        .rest
        .put(
            "/system/script",
            &json!({"name": ctx.tag, "source": ":log info \"not the agent's\"", "comment": "someone else"}),
        )
        .await?;
    reply.expect_status(201)?;
    let id = reply.json()?[".id"].as_str().unwrap_or("").to_owned();
    let url = format!(
        "https://127.0.0.1:9{}",
        agent::passive::feed_path(&ctx.list)
    );
    let install = agent.passive_install(&url, true).await;
    let uninstall = agent.passive_uninstall().await;
    // The foreign script is still there, untouched, until the suite removes it.
    let still = ctx.rest.get(&format!("/system/script/{id}")).await?;
    ctx.rest.delete(&format!("/system/script/{id}")).await?;
    install.expect_code(208123)?;
    uninstall.expect_code(208123)?;
    still.expect_status(200)?;
    ensure_eq!(
        still.json()?["comment"],
        json!("someone else"),
        "the foreign script's comment"
    );
    let left = leftovers(ctx, &ctx.tag).await?;
    ensure!(left.is_empty(), "left on the router: {left:?}");
    Ok(())
}

async fn setup_refused(ctx: &Ctx) -> Outcome {
    let agent = agent_with_key(ctx)?;
    ctx.fault(
        FaultRule::always(Action::Status {
            status: 400,
            detail: Some("failure: could not add script".into()),
        })
        .path("/rest/system/script")
        .method("PUT"),
    )
    .await?;
    let url = format!(
        "https://127.0.0.1:9{}",
        agent::passive::feed_path(&ctx.list)
    );
    agent
        .passive_install(&url, true)
        .await
        .expect_code(208124)?;
    ctx.clear_faults().await?;
    Ok(())
}

async fn ten_thousand(ctx: &Ctx) -> Outcome {
    // The grants go into the store before the daemon starts: 10,000 control API calls would each
    // write the store.
    let agent = Agent::new(ctx);
    let expires = agent::clock::Clock::now(&agent.clock).plus(Duration::from_secs(3600));
    let grants: Vec<serde_json::Value> = (0..10_000u32)
        .map(|i| {
            json!({"address": format!("10.{}.{}.{}", i / 65536, (i / 256) % 256, i % 256),
                   "user": USER, "expires": expires.0})
        })
        .collect();
    std::fs::write(
        agent.state(),
        serde_json::to_vec(&json!({"format": 1, "grants": grants}))
            .map_err(|e| Failure::new(e.to_string()))?,
    )
    .map_err(|e| Failure::new(e.to_string()))?;
    let mut feed = Feed::start(ctx, true).await?;
    let control = ctx
        .live
        .control
        .as_ref()
        .ok_or_else(|| Failure::new("needs the simulator's control"))?;
    feed.agent
        .passive_install(&feed.url, true)
        .await
        .expect_ok()?;
    let before = control.limits().await?;
    control
        .set_limits(simulator::Limits::realistic().modelled())
        .await?;
    let start = control.clock().await?.now_ms;
    let mut in_step = None;
    for interval in 1..=3u32 {
        advance(ctx, &feed.agent, INTERVAL).await?;
        if ctx.addresses(false).await?.len() == 10_000 {
            in_step = Some((interval, control.clock().await?.now_ms - start));
            break;
        }
    }
    control.set_limits(before).await?;
    let (intervals, ms) =
        in_step.ok_or_else(|| Failure::new("10,000 grants not in step within three intervals"))?;
    crate::say!(
        "10,000 grants in step after {intervals} interval(s): {:.1} s of router time after install",
        ms as f64 / 1000.0
    );
    feed.agent.passive_status().await.expect_ok()?;
    feed.agent.passive_uninstall().await.expect_ok()?;
    feed.stop().await
}
