//! The router-speed profile on the simulator's clock (`Limits::modelled_time`).
//!
//! With modelled time the costs of `Limits::realistic()` move the frozen simulator clock instead of
//! being waited for: these tests check that the clock moves by exactly what the journal says each
//! request cost, that timed entries, the scheduler and the session limit all follow that modelled
//! time, and that background work moves it too. None of them waits in real time or asserts one.

use std::time::Duration;

use serde_json::json;
use simulator::{JournalFilter, Limits, Simulator};

use crate::support::{Reply, Sim, V4, start_with};

/// A router-speed simulator on modelled time.
async fn router() -> Sim {
    start_with(Simulator::builder().limits(Limits::realistic().modelled())).await
}

/// `POST /rest/execute` with `as-string`.
async fn execute(sim: &Sim, script: &str) -> Reply {
    sim.call(
        "POST",
        "/rest/execute",
        Some(json!({"script": script, "as-string": ""})),
    )
    .await
}

/// The journal's entries since `mark`, with their modelled costs in microseconds.
fn costs_since(sim: &Sim, mark: u64) -> Vec<u64> {
    sim.sim
        .journal(&JournalFilter {
            since: Some(mark),
            ..Default::default()
        })
        .entries
        .iter()
        .map(|e| e.cost_us)
        .collect()
}

fn us(d: Duration) -> u64 {
    d.as_micros() as u64
}

#[tokio::test]
async fn a_thousand_gets_move_the_clock_by_their_costs_exactly() {
    let sim = router().await;
    let limits = sim.sim.limits();
    assert!(
        sim.sim.clock().reading().frozen,
        "modelled time freezes the clock"
    );
    let before = sim.sim.clock().now_us();
    let mark = sim.sim.journal_mark();
    // A filtered read of an empty list examines and returns nothing: it costs the request cost
    // alone.
    for _ in 0..1000 {
        let r = sim.get(&format!("{V4}?list=none")).await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    // Nothing else moved the clock: no real time passed on it.
    let each = us(limits.request_cost);
    let moved = sim.sim.clock().now_us() - before;
    assert_eq!(moved, 1000 * each, "the clock moved by the modelled costs");
    let costs = costs_since(&sim, mark);
    assert_eq!(costs.len(), 1000);
    assert!(costs.iter().all(|c| *c == each), "{:?}", &costs[..3]);
    assert_eq!(
        costs.iter().sum::<u64>(),
        moved,
        "the journal adds up to the clock"
    );
}

#[tokio::test]
async fn timed_entries_expire_on_modelled_time() {
    let sim = router().await;
    sim.put(
        V4,
        json!({"list": "t", "address": "10.9.0.1", "timeout": "10s"}),
    )
    .await;
    // 50 requests of about 120 ms: 6 s of modelled time, the entry has about 4 s left.
    for _ in 0..50 {
        sim.get("/rest/system/identity").await;
    }
    let rows = sim.rows(&format!("{V4}?list=t")).await;
    assert_eq!(rows.len(), 1, "still there after 6 s");
    let left = rows[0]["timeout"].as_str().expect("a timeout").to_owned();
    assert!(left.starts_with('3') || left.starts_with('4'), "{left}");
    // 50 more: 12 s in all, past the 10 s timeout.
    for _ in 0..50 {
        sim.get("/rest/system/identity").await;
    }
    assert!(
        sim.rows(&format!("{V4}?list=t")).await.is_empty(),
        "gone after 12 s"
    );
}

#[tokio::test]
async fn a_request_past_the_session_limit_moves_the_clock_by_the_limit() {
    let sim = router().await;
    let limits = sim.sim.limits();
    let before = sim.sim.clock().now_us();
    let mark = sim.sim.journal_mark();
    // 20,000 scripted commands at 6 ms are 120 s: twice the session limit.
    let r = execute(
        &sim,
        ":for i from=1 to=20000 do={ /system identity set name=(\"n\" . $i) }",
    )
    .await;
    r.assert_error(400, Some("Session closed"));
    let limit = us(limits.session_limit);
    assert_eq!(sim.sim.clock().now_us() - before, limit);
    assert_eq!(costs_since(&sim, mark), [limit]);
    // What the router did before the cut stays done: every command whose cost fitted ran.
    let ran = (limits.session_limit - limits.request_cost).as_micros()
        / limits.script_command_cost.as_micros();
    let identity = sim.get("/rest/system/identity").await.json();
    assert_eq!(identity["name"], format!("n{ran}"));
    // A single cost past the limit is cut the same way, before the command runs.
    let mut slow = limits;
    slow.request_cost = limits.session_limit + Duration::from_secs(1);
    sim.sim.set_limits(slow);
    let before = sim.sim.clock().now_us();
    let r = sim
        .call(
            "PUT",
            V4,
            Some(json!({"list": "cut", "address": "10.9.0.2"})),
        )
        .await;
    r.assert_error(400, Some("Session closed"));
    assert_eq!(sim.sim.clock().now_us() - before, limit);
    sim.sim.set_limits(limits);
    assert!(sim.rows(&format!("{V4}?list=cut")).await.is_empty());
}

#[tokio::test]
async fn a_delay_past_the_limit_closes_the_session_at_the_limit() {
    let sim = router().await;
    let before = sim.sim.clock().now_us();
    execute(&sim, ":delay 61s; :put late")
        .await
        .assert_error(400, Some("Session closed"));
    assert_eq!(
        sim.sim.clock().now_us() - before,
        us(sim.sim.limits().session_limit)
    );
}

#[tokio::test]
async fn scheduler_entries_run_during_a_long_modelled_execute() {
    let sim = router().await;
    let r = sim
        .call(
            "PUT",
            "/rest/system/scheduler",
            Some(json!({"name": "tick", "interval": "5s",
                        "on-event": ":log info tick"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    // 2,000 commands at 6 ms: 12 s of modelled time, in which the entry falls due twice (it
    // runs every 5 s from when it was added). The script sees the runs that happened while it
    // ran; without modelled time's catch-up they would come only after it.
    let r = execute(
        &sim,
        ":for i from=1 to=2000 do={ /system identity set name=x }\n\
         :put [:len [/log find where message=tick]]",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json(), json!({"ret": "2"}));
    let row = &sim.rows("/rest/system/scheduler").await[0];
    assert_eq!(row["run-count"], "2");
}

#[tokio::test]
async fn background_jobs_move_the_clock_and_resume_is_refused() {
    let sim = router().await;
    let limits = sim.sim.limits();
    let before = sim.sim.clock().now_us();
    let r = sim
        .call(
            "POST",
            "/rest/execute",
            Some(json!({"script": ":for i from=1 to=100 do={ /system identity set name=b }"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    sim.sim.scripts_idle().await;
    // The request's own cost, then the job's 100 commands.
    assert_eq!(
        sim.sim.clock().now_us() - before,
        us(limits.request_cost + limits.script_command_cost * 100)
    );
    let e = simulator::control::Control::resume_clock(&sim.sim)
        .await
        .expect_err("refused while time is modelled");
    assert!(e.to_string().contains("modelled_time"), "{e}");
    assert!(sim.sim.clock().reading().frozen);
}

#[tokio::test]
async fn turning_modelled_time_on_freezes_the_clock_and_off_changes_nothing_else() {
    let sim = start_with(Simulator::builder()).await;
    assert!(
        !sim.sim.clock().reading().frozen,
        "a default simulator's clock runs"
    );
    sim.sim.set_limits(Limits::default().modelled());
    assert!(sim.sim.clock().reading().frozen);
    // The fast profile costs nothing, so requests leave the modelled clock where it is.
    let before = sim.sim.clock().now_us();
    sim.get("/rest/system/identity").await;
    assert_eq!(sim.sim.clock().now_us(), before);
    // Without modelled time the clock can run again.
    sim.sim.set_limits(Limits::default());
    let reading = simulator::control::Control::resume_clock(&sim.sim)
        .await
        .expect("resumes");
    assert!(!reading.frozen);
}

/// Adds `n` entries to list `list` directly (a test's seed, not a client's work): `10.<i>` hosts
/// with `comment` when given.
fn seed_entries(sim: &Sim, list: &str, first: u32, n: u32, comment: Option<&str>) {
    sim.sim.with_router(|r| {
        let table = r.list_mut(simulator::Family::V4);
        for i in first..first + n {
            let mut args = simulator::Args::from_pairs([
                ("list", list.to_owned()),
                (
                    "address",
                    format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255),
                ),
            ]);
            if let Some(c) = comment {
                args.push("comment", c);
                args.push("timeout", "1d");
            }
            table.add(&args, 0, 0).expect("a new entry");
        }
    });
}

/// Issue 11: the managed list at 100,000 entries, 30,000 of them the agent's. The agent's read
/// (its list, the fields it needs) stays well inside the session limit on the router-speed
/// profile; a whole unfiltered print of the table does not, as on a small router, where
/// 30k-50k entry lists already take 8-20 s to print (ROUTEROS-REST.md section 6).
#[tokio::test]
async fn the_agents_read_of_100k_entries_fits_the_session_limit_and_a_full_print_does_not() {
    let sim = router().await;
    seed_entries(&sim, "other", 0, 70_000, None);
    seed_entries(&sim, "managed", 70_000, 30_000, Some("agent"));
    let limits = sim.sim.limits();
    let mark = sim.sim.journal_mark();
    let r = sim
        .get(&format!(
            "{V4}?list=managed&comment=agent&.proplist=.id,address,comment,timeout"
        ))
        .await;
    assert_eq!(r.status, 200, "{}", &r.text[..r.text.len().min(300)]);
    assert_eq!(r.json().as_array().map(Vec::len), Some(30_000));
    let cost = Duration::from_micros(costs_since(&sim, mark)[0]);
    assert_eq!(
        cost,
        limits.request_cost
            + limits.read_cost(simulator::costs::Read {
                examined: 100_000,
                returned: 30_000,
                fields: 120_000,
            })
    );
    assert!(
        cost * 2 < limits.session_limit,
        "{cost:?}: well inside the limit"
    );
    // The same read without `.proplist` costs more: every field of every row.
    let mark = sim.sim.journal_mark();
    assert_eq!(sim.get(&format!("{V4}?list=managed")).await.status, 200);
    assert!(Duration::from_micros(costs_since(&sim, mark)[0]) > cost);
    // The whole table, unfiltered: past the limit.
    let before = sim.sim.clock().now_us();
    sim.get(V4).await.assert_error(400, Some("Session closed"));
    assert_eq!(sim.sim.clock().now_us() - before, us(limits.session_limit));
}

/// A print or `[find]` inside a script costs the read it makes, as the same print over REST does:
/// the script that prints 1,000 entries costs that many rows' scan and rendering more than the
/// same script over an empty list, and a `[find]` over the table costs its scan.
#[tokio::test]
async fn scripted_reads_cost_what_they_read() {
    let sim = router().await;
    let limits = sim.sim.limits();
    let cost_of = |script: &'static str| {
        let sim = &sim;
        async move {
            let mark = sim.sim.journal_mark();
            let r = execute(sim, script).await;
            assert_eq!(r.status, 200, "{}", r.text);
            costs_since(sim, mark).iter().sum::<u64>()
        }
    };
    let print = ":local n 0; :foreach e in=[/ip/firewall/address-list/print as-value where list=big] do={ :set n ($n + 1) }; :put $n";
    let find = ":put [:len [/ip/firewall/address-list/find where list=big]]";
    let empty_print = cost_of(print).await;
    let empty_find = cost_of(find).await;
    let adds: String = (0..1000)
        .map(|i| {
            format!(
                "/ip/firewall/address-list/add list=big address=10.60.{}.{};",
                i / 250,
                i % 250
            )
        })
        .collect();
    let r = sim
        .call(
            "POST",
            "/rest/execute",
            Some(json!({"script": adds, "as-string": ""})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let full_print = cost_of(print).await;
    let full_find = cost_of(find).await;
    // Each of the 1,000 rows is examined and returned; the loop body's commands add more.
    let rows = us(limits.scan_cost + limits.row_cost) * 1000;
    assert!(
        full_print >= empty_print + rows,
        "{full_print} vs {empty_print} + {rows}"
    );
    let scan = us(limits.scan_cost) * 1000;
    assert!(
        full_find >= empty_find + scan,
        "{full_find} vs {empty_find} + {scan}"
    );
}
