//! The agent's benchmark: `cargo bench -p agent --bench agent_bench` (a debug build is enough:
//! `cargo bench --profile dev -p agent --bench agent_bench`). `AGENT_BENCH_FULL=1` runs the full
//! sizes of the router-speed targets; the default run uses a tenth of them and takes a few minutes.
//!
//! Two parts, against an in-process simulator on loopback:
//!
//! **At a real router's speed** (`Limits::realistic().modelled()`: about 120 ms a request, 0.9 ms a
//! printed row, 6 ms a scripted command, one user's requests one at a time), on modelled time: the
//! costs move the simulator's clock instead of being waited for, and the agent reads the same
//! clock, so the figures are the time a router of that speed would take, measured in moments of
//! real time. Requests are counted in the simulator's journal. The targets (full sizes):
//!
//! 1. cold sync of 30,000 grants: at most 5 minutes (per-entry writes: about an hour);
//! 2. reconcile with nothing to change at 30,000 owned entries among 100,000 in the list: no
//!    writes, at most 30 s;
//! 3. one new grant at 30,000 owned entries: exactly one request;
//! 4. revocation of 10,000 grants at once.
//!
//! **At the simulator's default speed** (as fast as the machine allows), as ratios against a
//! baseline from the same run, because absolute times on a shared two-core machine mean little:
//!
//! 5. a new grant in steady state: one request (journal), and its median latency within 1.5x of a
//!    bare `PUT` sent with a plain reqwest client over the same TLS settings;
//! 6. reconciling many grants onto an empty list in batches, against one request per entry (the
//!    baseline, the agent's only write path before batches).
//!
//! The grant store's fsync is not part of (5): it is a local disk cost, not a router round trip, and
//! the daemon acknowledges a grant only after it. The benchmark prints PASS or MISS per target and
//! exits non-zero only when something breaks.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use agent::address::Address;
use agent::batch::WriteMode;
use agent::clock::{Clock, SystemClock, Time};
use agent::config::{Config, RouterConfig, Secret, TlsMode};
use agent::net::RouterClient;
use agent::plan::Grant;
use agent::reconcile::{Reconciler, Report};
use simulator::seed::SeedEntry;
use simulator::{JournalFilter, Limits, Simulator};

const LIST: &str = "bench";
const TAG: &str = "routeros-agent";
const STEADY_GRANTS: usize = 200;

/// The sizes of one run.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    /// Grants of the cold sync, and owned entries of the no-change reconcile.
    owned: usize,
    /// Entries in the list for the no-change reconcile (the rest are another tool's).
    total: usize,
    /// Grants revoked at once.
    revoke: usize,
    /// Grants of the per-entry cold sync shown beside the batched one.
    single: usize,
    /// Grants reconciled onto an empty list at the default speed.
    fast: usize,
}

impl Sizes {
    fn from_env() -> Sizes {
        let full = Sizes {
            owned: 30_000,
            total: 100_000,
            revoke: 10_000,
            single: 1_000,
            fast: 10_000,
        };
        match std::env::var("AGENT_BENCH_FULL").is_ok_and(|v| v == "1") {
            true => full,
            false => Sizes {
                owned: full.owned / 10,
                total: full.total / 10,
                revoke: full.revoke / 10,
                single: 300,
                fast: full.fast / 5,
            },
        }
    }

    fn full(&self) -> bool {
        self.owned == 30_000
    }
}

/// The agent's clock read from the in-process simulator's (wall milliseconds), so that modelled
/// costs move both.
#[derive(Debug)]
struct SimClock(Arc<simulator::shared::Shared>);

impl Clock for SimClock {
    fn now(&self) -> Time {
        Time(u64::try_from(self.0.clock.reading().wall_ms).unwrap_or(0))
    }
}

fn config(sim: &Simulator, ca: std::path::PathBuf, mode: WriteMode) -> Config {
    Config {
        router: Some(RouterConfig {
            url: sim
                .https_url()
                .parse()
                .expect("the simulator's URL is valid"),
            username: simulator::DEFAULT_USER.into(),
            password: Secret::new(simulator::DEFAULT_PASSWORD),
            tls: TlsMode::CaFile(ca),
        }),
        list_v4: LIST.into(),
        list_v6: LIST.into(),
        tag: TAG.into(),
        state: std::env::temp_dir().join("agent-bench-unused.json"),
        connect_timeout: Duration::from_secs(5),
        request_timeout: Duration::from_secs(120),
        concurrency: 1,
        write_mode: mode,
        interval: Duration::from_secs(60),
        control: "127.0.0.1:0".parse().expect("valid"),
        allow_plain_http: false,
        prefix_limits: Default::default(),
        control_token_file: None,
        control_token: None,
        check_rules: true,
        mode: Default::default(),
        feed: Default::default(),
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn host(i: u32) -> Address {
    let [_, a, b, c] = (0x0a00_0000u32 + i).to_be_bytes();
    Address::parse(&format!("10.{a}.{b}.{c}")).expect("valid")
}

fn grants(n: usize, expires: Time) -> Vec<Grant> {
    (0..n as u32)
        .map(|i| Grant {
            address: host(i),
            user: "u".into(),
            expires,
        })
        .collect()
}

fn verdict(ok: bool) -> &'static str {
    if ok { "PASS" } else { "MISS" }
}

/// What one measured step cost.
struct Cost {
    modelled: Duration,
    wall: Duration,
    requests: usize,
}

impl std::fmt::Display for Cost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "modelled {:.1} s, wall {:.2} s, {} request{}",
            self.modelled.as_secs_f64(),
            self.wall.as_secs_f64(),
            self.requests,
            if self.requests == 1 { "" } else { "s" }
        )
    }
}

/// Runs `step`, measuring modelled time on the simulator's clock, wall time and the requests the
/// journal saw.
async fn measure<T>(
    sim: &Simulator,
    step: impl std::future::Future<Output = Result<T, String>>,
) -> Result<(T, Cost), String> {
    let mark = sim.journal_mark();
    let before = sim.clock().reading().now_ms;
    let t = Instant::now();
    let out = step.await?;
    let wall = t.elapsed();
    let modelled = Duration::from_millis(sim.clock().reading().now_ms - before);
    let page = sim.journal(&JournalFilter {
        since: Some(mark),
        ..Default::default()
    });
    if page.dropped > 0 {
        return Err(format!("the journal dropped {} entries", page.dropped));
    }
    Ok((
        out,
        Cost {
            modelled,
            wall,
            requests: page.entries.len(),
        },
    ))
}

fn writes(r: &Report) -> usize {
    r.added.len() + r.refreshed.len() + r.removed.len()
}

fn checked(r: Report) -> Result<Report, String> {
    match r.errors.first() {
        Some(e) => Err(format!("{} errors, the first: {e}", r.errors.len())),
        None => Ok(r),
    }
}

async fn router_speed(sizes: Sizes, ca: &std::path::Path) -> Result<(), String> {
    let scale = if sizes.full() {
        "full sizes"
    } else {
        "a tenth of the full sizes (AGENT_BENCH_FULL=1 for all)"
    };
    println!("At router speed (Limits::realistic().modelled()), {scale}:");
    let sim = Simulator::builder()
        .limits(Limits::realistic().modelled())
        .start()
        .await
        .map_err(|e| e.to_string())?;
    std::fs::write(ca, sim.ca_pem()).map_err(|e| e.to_string())?;
    let clock: Arc<dyn Clock> = Arc::new(SimClock(sim.shared().clone()));
    let reconciler = |mode: WriteMode| -> Result<Reconciler, String> {
        let cfg = config(&sim, ca.to_path_buf(), mode);
        let client = RouterClient::new(&cfg).map_err(|e| e.to_string())?;
        Ok(Reconciler::for_config(&cfg, client, clock.clone()))
    };

    // The per-entry path, for comparison: one request per grant.
    let expires = clock.now().plus(Duration::from_secs(3600));
    let mut rec = reconciler(WriteMode::Single)?;
    let few = grants(sizes.single, expires);
    let (report, cost) = measure(&sim, async {
        checked(rec.sync(&few).await.map_err(|e| e.to_string())?)
    })
    .await?;
    let per_grant = cost.modelled.as_secs_f64() / sizes.single as f64;
    println!(
        "  cold sync, one request per entry, {} grants: {cost} ({:.0} ms a grant; 30,000 would \
         take about {:.0} min)",
        report.added.len(),
        per_grant * 1e3,
        per_grant * 30_000.0 / 60.0
    );
    sim.reset().map_err(|e| e.to_string())?;

    // 1. Cold sync in batches.
    let expires = clock.now().plus(Duration::from_secs(3600));
    let all = grants(sizes.owned, expires);
    let mut rec = reconciler(WriteMode::Auto)?;
    let (report, cost) = measure(&sim, async {
        checked(rec.sync(&all).await.map_err(|e| e.to_string())?)
    })
    .await?;
    let target = Duration::from_secs(300) * sizes.owned as u32 / 30_000;
    println!(
        "  1. cold sync of {} grants in {} batches: {cost}; target <= {:.0} s: {}",
        report.added.len(),
        report.batches,
        target.as_secs_f64(),
        verdict(cost.modelled <= target && report.added.len() == sizes.owned)
    );
    let (report, cost) = measure(&sim, async {
        checked(rec.sync(&all).await.map_err(|e| e.to_string())?)
    })
    .await?;
    println!(
        "     a second sync right after: {} writes, {cost}",
        writes(&report)
    );

    // 2. Nothing to change, among another tool's entries in the same list.
    let mut seed = sim.shared().seed();
    seed.entries = (0..sizes.total as u32)
        .map(|i| {
            let ours = (i as usize) < sizes.owned;
            SeedEntry {
                list: LIST.into(),
                address: host(i).to_string(),
                family: None,
                timeout: Some(if ours { "1h" } else { "1d" }.into()),
                comment: Some(if ours { TAG } else { "blocklist" }.into()),
                disabled: false,
            }
        })
        .collect();
    sim.load_seed(seed).map_err(|e| e.to_string())?;
    let expires = clock.now().plus(Duration::from_secs(3600));
    let mut all = grants(sizes.owned, expires);
    let mut rec = reconciler(WriteMode::Auto)?;
    let (report, cost) = measure(&sim, async {
        checked(rec.sync(&all).await.map_err(|e| e.to_string())?)
    })
    .await?;
    let target = Duration::from_secs(30);
    println!(
        "  2. reconcile with nothing to change, {} owned among {} entries: {} writes, {cost}; \
         target 0 writes, <= 30 s: {}",
        sizes.owned,
        sizes.total,
        writes(&report),
        verdict(writes(&report) == 0 && cost.modelled <= target)
    );

    // 3. One new grant with the memory warm.
    let new = host(sizes.total as u32 + 1);
    all.push(Grant {
        address: new.clone(),
        user: "u".into(),
        expires: clock.now().plus(Duration::from_secs(3600)),
    });
    let (report, cost) = measure(&sim, async {
        checked(
            rec.step_address(&new, &all)
                .await
                .map_err(|e| e.to_string())?,
        )
    })
    .await?;
    println!(
        "  3. one new grant at {} owned entries: {cost}; target 1 request: {}",
        sizes.owned,
        verdict(cost.requests == 1 && report.added.len() == 1)
    );

    // 4. Revoking many at once.
    let kept = all.split_off(sizes.revoke);
    let (report, cost) = measure(&sim, async {
        checked(rec.sync(&kept).await.map_err(|e| e.to_string())?)
    })
    .await?;
    println!(
        "  4. revocation of {} grants at once: {} removed in {} batches, {cost}",
        sizes.revoke,
        report.removed.len(),
        report.batches
    );
    if report.removed.len() != sizes.revoke {
        return Err(format!(
            "revocation removed {} of {}",
            report.removed.len(),
            sizes.revoke
        ));
    }
    Ok(())
}

async fn default_speed(sizes: Sizes, ca: &std::path::Path) -> Result<(), String> {
    println!("At the simulator's default speed:");
    let sim = Simulator::builder()
        .start()
        .await
        .map_err(|e| e.to_string())?;
    std::fs::write(ca, sim.ca_pem()).map_err(|e| e.to_string())?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);

    // 5. Steady state: warm the memory with one full reconcile, then time new grants one by one,
    //    alternating with bare PUTs of fresh addresses.
    let cfg = config(&sim, ca.to_path_buf(), WriteMode::Auto);
    let client = RouterClient::new(&cfg).map_err(|e| e.to_string())?;
    let mut rec = Reconciler::for_config(&cfg, client, clock.clone());
    let mut grants: Vec<Grant> = Vec::new();
    rec.sync(&grants).await.map_err(|e| e.to_string())?;
    let tls = agent::net::tls_config(&cfg.router().unwrap().tls).map_err(|e| e.to_string())?;
    let bare = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .http1_only()
        .build()
        .map_err(|e| e.to_string())?;
    let put_url = format!("{}/rest/ip/firewall/address-list", sim.https_url());
    let (mut agent_times, mut bare_times, mut extra_requests) = (Vec::new(), Vec::new(), 0usize);
    for i in 0..STEADY_GRANTS as u32 {
        let t = Instant::now();
        let resp = bare
            .put(&put_url)
            .basic_auth(simulator::DEFAULT_USER, Some(simulator::DEFAULT_PASSWORD))
            .json(&serde_json::json!({ "list": "bare", "address": host(100_000 + i).as_str(), "timeout": "1h", "comment": "bare" }))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = resp.status();
        let _ = resp.bytes().await.map_err(|e| e.to_string())?;
        bare_times.push(t.elapsed());
        if status.as_u16() != 201 {
            return Err(format!("bare PUT answered {status}"));
        }
        let mark = sim.journal_mark();
        grants.push(Grant {
            address: host(i),
            user: "u".into(),
            expires: clock.now().plus(Duration::from_secs(3600)),
        });
        let t = Instant::now();
        let report = rec
            .step_address(&host(i), &grants)
            .await
            .map_err(|e| e.to_string())?;
        agent_times.push(t.elapsed());
        if !report.errors.is_empty() || report.added.len() != 1 {
            return Err(format!("grant {i}: {report:?}"));
        }
        let n = sim
            .journal(&JournalFilter {
                since: Some(mark),
                ..Default::default()
            })
            .entries
            .len();
        extra_requests += n.saturating_sub(1);
    }
    let (a, b) = (median(agent_times), median(bare_times));
    let ratio = a.as_secs_f64() / b.as_secs_f64();
    println!(
        "  5. new grant, steady state: {STEADY_GRANTS} grants, {extra_requests} requests beyond one \
         per grant; median latency: agent {:.3} ms, bare PUT {:.3} ms, ratio {ratio:.2} (target \
         <= 1.5): {}",
        a.as_secs_f64() * 1e3,
        b.as_secs_f64() * 1e3,
        verdict(ratio <= 1.5 && extra_requests == 0)
    );

    // 6. Many grants onto an empty list: one request per entry (the baseline), then in batches.
    let mut took = Vec::new();
    for mode in [WriteMode::Single, WriteMode::Auto] {
        sim.reset().map_err(|e| e.to_string())?;
        let cfg = config(&sim, ca.to_path_buf(), mode);
        let client = RouterClient::new(&cfg).map_err(|e| e.to_string())?;
        let mut rec = Reconciler::for_config(&cfg, client, clock.clone());
        let all = grants_at(sizes.fast, clock.now());
        let (report, cost) = measure(&sim, async {
            checked(rec.sync(&all).await.map_err(|e| e.to_string())?)
        })
        .await?;
        if report.added.len() != sizes.fast {
            return Err(format!("{} of {} added", report.added.len(), sizes.fast));
        }
        println!(
            "  6. reconcile {} grants onto an empty list, write_mode {}: {:.2} s, {} requests",
            sizes.fast,
            mode.name(),
            cost.wall.as_secs_f64(),
            cost.requests
        );
        took.push(cost.wall);
    }
    println!(
        "     batches against one request per entry: {:.2}x the time",
        took[1].as_secs_f64() / took[0].as_secs_f64()
    );
    Ok(())
}

fn grants_at(n: usize, now: Time) -> Vec<Grant> {
    grants(n, now.plus(Duration::from_secs(3600)))
}

async fn bench() -> Result<(), String> {
    let sizes = Sizes::from_env();
    let ca = std::env::temp_dir().join(format!("agent-bench-ca-{}.pem", std::process::id()));
    let out = async {
        router_speed(sizes, &ca).await?;
        default_speed(sizes, &ca).await
    }
    .await;
    let _ = std::fs::remove_file(&ca);
    out
}

fn main() -> ExitCode {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // Run as a spawned task, like the daemon's handlers: a future driven by `block_on` lives on the
    // main thread, and every I/O wake-up would cross threads.
    let result = rt.block_on(async {
        tokio::spawn(bench())
            .await
            .unwrap_or_else(|e| Err(e.to_string()))
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("benchmark broke: {e}");
            ExitCode::FAILURE
        }
    }
}
