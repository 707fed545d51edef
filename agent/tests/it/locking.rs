//! The grant store's lock: parallel CLI commands queue and every grant they acknowledged survives, in
//! the store and on the router; a CLI command that finds the daemon holding the store sends its
//! request to the daemon's control API with the daemon's token, instead of writing a store the
//! daemon would overwrite.

use std::sync::Arc;
use std::time::{Duration, Instant};

use agent::commands::exit;
use agent::store::GrantStore;
use serde_json::Value;
use tokio::sync::oneshot;

use crate::support::{Harness, assert_status};

/// Addresses and users of the grants on disk, read without taking the lock.
fn stored(h: &Harness) -> Vec<(String, String)> {
    let mut v: Vec<_> = GrantStore::load(&h.config.state)
        .unwrap()
        .iter()
        .map(|g| (g.address.to_string(), g.user.clone()))
        .collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_cli_grants_all_end_up_in_the_store_and_on_the_router() {
    let h = Arc::new(Harness::start().await);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..8 {
        let h = h.clone();
        tasks.spawn(async move {
            h.grant(&format!("192.0.2.{}", 10 + i), &format!("user{i}"), "1h")
                .await
        });
    }
    while let Some(out) = tasks.join_next().await {
        assert_status(&out.unwrap(), exit::OK);
    }
    let want: Vec<(String, String)> = (0..8)
        .map(|i| (format!("192.0.2.{}", 10 + i), format!("user{i}")))
        .collect();
    assert_eq!(stored(&h), want);
    let mut on_router = h.v4();
    on_router.sort();
    let want_router: Vec<(String, Option<u64>)> = (0..8)
        .map(|i| (format!("192.0.2.{}", 10 + i), Some(3600)))
        .collect();
    assert_eq!(on_router, want_router);
}

#[tokio::test]
async fn a_cli_grant_while_the_daemon_holds_the_store_goes_through_its_api_with_the_token() {
    let h = Harness::start().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let control = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let daemon = tokio::spawn(agent::daemon::serve(
        h.config.clone(),
        Some(h.client()),
        h.clock(),
        listener,
        async move {
            let _ = stopped.await;
        },
    ));
    // Wait (bounded) for the daemon's first reconcile: by then it holds the store.
    let http = h.http();
    let mut up = false;
    for _ in 0..500 {
        // The daemon writes its token beside the store at start.
        let Ok(token) = std::fs::read_to_string(h.config.token_path()) else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        if let Ok(resp) = http
            .get(format!("http://{control}/v1/status"))
            .bearer_auth(token.trim())
            .send()
            .await
        {
            let v: Value = resp.json().await.unwrap();
            if v["reconciles"].as_u64().unwrap_or(0) >= 1 {
                up = true;
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(up, "the daemon did not start");

    let started = Instant::now();
    let out = h.grant("192.0.2.50", "ann", "1h").await;
    assert_status(&out, exit::OK);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "it must not wait for the daemon's lock: {:?}",
        started.elapsed()
    );
    assert!(
        out.text
            .contains(&format!("sent to the running daemon at http://{control}")),
        "{}",
        out.text
    );
    assert_eq!(
        out.json["daemon"],
        format!("http://{control}"),
        "{}",
        out.json
    );
    // The daemon stored it and wrote the router.
    assert_eq!(stored(&h), vec![("192.0.2.50".into(), "ann".into())]);
    assert_eq!(h.v4(), vec![("192.0.2.50".into(), Some(3600))]);
    // `list` reads without the lock and still works.
    assert_status(&h.run(agent::commands::Command::List).await, exit::OK);
    // Without the daemon's token the command is refused, and nothing changes.
    let mut wrong = h.config.clone();
    wrong.control_token = Some(agent::config::Secret::new("not-the-token"));
    let out = agent::commands::run_command(
        agent::commands::Command::Revoke {
            address: "192.0.2.50".into(),
            user: "ann".into(),
        },
        &wrong,
        h.clock(),
    )
    .await;
    assert_status(&out, exit::CONFIG);
    assert_eq!(out.json["error"]["kind"], "unauthorized", "{}", out.json);
    assert_eq!(stored(&h).len(), 1);

    // Once the daemon stops, its lock is gone and the CLI works on the store again.
    stop.send(()).unwrap();
    daemon.await.unwrap().unwrap();
    assert_status(&h.revoke("192.0.2.50", "ann").await, exit::OK);
    assert!(stored(&h).is_empty());
}
