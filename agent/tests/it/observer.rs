//! The client's observer (`RouterClient::with_observer`): it is shown every attempt of every request
//! the agent sends, with method, path, bodies and status or transport failure, and never the
//! credentials; a command run as the binary runs it (`run_observed`) gives it to its client.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use agent::address::Family;
use agent::net::{Exchange, Observer, RetryPolicy, RouterClient};

use crate::support::{Harness, LIST};

/// An observer that keeps what it is shown.
fn keeper() -> (Observer, Arc<Mutex<Vec<Exchange>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&seen);
    let observer: Observer = Arc::new(move |x: &Exchange| kept.lock().unwrap().push(x.clone()));
    (observer, seen)
}

#[tokio::test]
async fn a_command_shows_every_request_to_the_observer_without_the_password() {
    let mut h = Harness::start().await;
    let (observer, seen) = keeper();
    h.observer = Some(observer);
    assert!(
        format!("{:?}", h.client()).contains("observer: Some(\"..\")"),
        "{:?}",
        h.client()
    );
    let mark = h.sim.journal_mark();
    let out = h.grant("192.0.2.10", "alice", "1h").await;
    assert_eq!(out.status, agent::commands::exit::OK, "{}", out.text);

    let seen = seen.lock().unwrap().clone();
    let sent: Vec<String> = seen
        .iter()
        .map(|x| format!("{} {}", x.method, x.path))
        .collect();
    // Exactly the requests the router received, in order (the journal keeps paths with queries).
    assert_eq!(sent, h.requests_since(mark));
    assert!(sent.iter().any(|s| s.starts_with("GET /rest/")), "{sent:?}");
    let put = seen
        .iter()
        .find(|x| x.method == "PUT")
        .unwrap_or_else(|| panic!("no PUT in {sent:?}"));
    assert_eq!(put.path, "/rest/ip/firewall/address-list");
    assert!(
        put.request_body
            .as_deref()
            .is_some_and(|b| b.contains("192.0.2.10")),
        "{put:?}"
    );
    assert_eq!(put.status, Some(201));
    for x in &seen {
        assert!(x.status.is_some() && x.error.is_none(), "{x:?}");
        assert!(x.response_body.is_some(), "{x:?}");
        let all = format!("{x:?}");
        assert!(!all.contains(simulator::DEFAULT_PASSWORD), "{all}");
        assert!(
            !all.contains("Authorization") && !all.contains("Basic "),
            "{all}"
        );
    }
}

#[tokio::test]
async fn every_attempt_and_every_transport_failure_is_shown() {
    let mut h = Harness::start().await;
    let (observer, seen) = keeper();
    h.observer = Some(observer);
    let retries = RetryPolicy {
        attempts: 3,
        base: Duration::from_millis(1),
        max: Duration::from_millis(1),
    };
    // A reply whose JSON is cut short is retried: each attempt is shown with its status.
    let _cut = h
        .sim
        .fault(simulator::FaultRule::always(simulator::Action::Body {
            status: 200,
            content_type: "application/json".into(),
            body: r#"[{".id":"*1","list":"#.into(),
        }))
        .unwrap();
    let e = h
        .client()
        .with_retry(retries)
        .rows(Family::V4, LIST)
        .await
        .unwrap_err();
    assert_eq!(e.code.number(), 208400, "{e}");
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 3, "{seen:?}");
        for x in seen.iter() {
            assert_eq!(x.method, "GET");
            assert!(
                x.path.starts_with("/rest/ip/firewall/address-list?"),
                "{x:?}"
            );
            assert_eq!(x.status, Some(200));
            assert_eq!(x.response_body.as_deref(), Some(r#"[{".id":"*1","list":"#));
        }
    }
    seen.lock().unwrap().clear();

    // Nothing listens: no status, the failure instead.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let mut config = h.config.clone();
    config.router.as_mut().unwrap().url = format!("https://{addr}").parse().unwrap();
    let e = RouterClient::new(&config)
        .unwrap()
        .with_observer(h.observer.clone())
        .with_retry(RetryPolicy::none())
        .resource()
        .await
        .unwrap_err();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let x = &seen[0];
    assert_eq!(
        (x.method.as_str(), x.path.as_str()),
        ("GET", "/rest/system/resource")
    );
    assert_eq!(x.status, None);
    assert_eq!(x.response_body, None);
    assert_eq!(x.error.as_deref(), Some(e.to_string().as_str()));
    assert!(!format!("{x:?}").contains(simulator::DEFAULT_PASSWORD));
}
