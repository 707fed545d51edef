//! The agent's benchmark: `cargo bench -p agent --bench agent_bench`.
//!
//! Two measurements against an in-process simulator on loopback, each set against a baseline from
//! the same run, because absolute times on a shared two-core machine mean little:
//!
//! 1. **A new grant in steady state.** With the agent's memory of the router warm, one new grant must
//!    cost exactly one request (checked in the simulator's journal), and its latency (plan, PUT, parse
//!    and check of the reply) must be within 1.5x of a bare `PUT` of the same kind of entry sent with a
//!    plain reqwest client over the same keep-alive TLS settings. Medians of alternating runs.
//! 2. **Reconciling 10,000 grants onto an empty list**, at concurrency 1 (the default, suited to a
//!    real router, which runs one user's requests one at a time) and at concurrency 4: wall time,
//!    request count and requests per second.
//!
//! The grant store's fsync is not part of (1): it is a local disk cost, not a router round trip, and
//! the daemon acknowledges a grant only after it. The benchmark prints PASS or MISS per target and
//! exits non-zero only when something breaks.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use agent::address::Address;
use agent::clock::{Clock, SystemClock};
use agent::config::{Config, Secret, TlsMode};
use agent::net::RouterClient;
use agent::plan::Grant;
use agent::reconcile::Reconciler;
use simulator::{JournalFilter, Simulator};

const LIST: &str = "bench";
const STEADY_GRANTS: usize = 200;
const BIG: u32 = 10_000;

fn config(sim: &Simulator, ca: std::path::PathBuf, concurrency: usize) -> Config {
    Config {
        url: sim
            .https_url()
            .parse()
            .expect("the simulator's URL is valid"),
        username: simulator::DEFAULT_USER.into(),
        password: Secret::new(simulator::DEFAULT_PASSWORD),
        tls: TlsMode::CaFile(ca),
        list_v4: LIST.into(),
        list_v6: LIST.into(),
        tag: "routeros-agent".into(),
        state: std::env::temp_dir().join("agent-bench-unused.json"),
        connect_timeout: Duration::from_secs(5),
        request_timeout: Duration::from_secs(60),
        concurrency,
        write_mode: Default::default(),
        interval: Duration::from_secs(60),
        control: "127.0.0.1:0".parse().expect("valid"),
        allow_plain_http: false,
        prefix_limits: Default::default(),
        control_token_file: None,
        control_token: None,
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

async fn bench() -> Result<(), String> {
    let sim = Simulator::builder()
        .start()
        .await
        .map_err(|e| e.to_string())?;
    let ca = std::env::temp_dir().join(format!("agent-bench-ca-{}.pem", std::process::id()));
    std::fs::write(&ca, sim.ca_pem()).map_err(|e| e.to_string())?;
    let clock = SystemClock;

    // 1. Steady state: warm the memory with one full reconcile, then time new grants one by one,
    //    alternating with bare PUTs of fresh addresses.
    let cfg = config(&sim, ca.clone(), 1);
    let client = RouterClient::new(&cfg).map_err(|e| e.to_string())?;
    let mut rec = Reconciler::new(
        client,
        cfg.plan_config(),
        1,
        std::sync::Arc::new(SystemClock),
    );
    let mut grants: Vec<Grant> = Vec::new();
    rec.sync(&grants).await.map_err(|e| e.to_string())?;
    let tls = agent::net::tls_config(&cfg.tls).map_err(|e| e.to_string())?;
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
        let now = clock.now();
        grants.push(Grant {
            address: host(i),
            user: "u".into(),
            expires: now.plus(Duration::from_secs(3600)),
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
        if n != 1 {
            println!("grant {i} took {n} requests");
        }
    }
    let (a, b) = (median(agent_times), median(bare_times));
    let ratio = a.as_secs_f64() / b.as_secs_f64();
    println!(
        "new grant, steady state: {STEADY_GRANTS} grants, {} requests beyond one per grant",
        extra_requests
    );
    println!(
        "  median latency: agent {:.3} ms, bare PUT {:.3} ms, ratio {ratio:.2} (target <= 1.5): {}",
        a.as_secs_f64() * 1e3,
        b.as_secs_f64() * 1e3,
        if ratio <= 1.5 && extra_requests == 0 {
            "PASS"
        } else {
            "MISS"
        }
    );

    // 2. 10,000 grants onto an empty list.
    for concurrency in [1usize, 4] {
        sim.reset().map_err(|e| e.to_string())?;
        let cfg = config(&sim, ca.clone(), concurrency);
        let client = RouterClient::new(&cfg).map_err(|e| e.to_string())?;
        let mut rec = Reconciler::new(
            client,
            cfg.plan_config(),
            concurrency,
            std::sync::Arc::new(SystemClock),
        );
        let now = clock.now();
        let grants: Vec<Grant> = (0..BIG)
            .map(|i| Grant {
                address: host(i),
                user: "u".into(),
                expires: now.plus(Duration::from_secs(3600)),
            })
            .collect();
        let mark = sim.journal_mark();
        let t = Instant::now();
        let report = rec.sync(&grants).await.map_err(|e| e.to_string())?;
        let took = t.elapsed();
        if !report.errors.is_empty() || report.added.len() != BIG as usize {
            return Err(format!(
                "reconcile: {} errors, {} added",
                report.errors.len(),
                report.added.len()
            ));
        }
        let requests = sim.journal(&JournalFilter {
            since: Some(mark),
            ..Default::default()
        });
        println!(
            "reconcile {BIG} grants onto an empty list, concurrency {concurrency}: {:.2} s, {} requests \
             (journal: {}, dropped {}), {:.0} requests/s",
            took.as_secs_f64(),
            report.requests,
            requests.entries.len(),
            requests.dropped,
            report.requests as f64 / took.as_secs_f64()
        );
    }
    let _ = std::fs::remove_file(&ca);
    Ok(())
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
