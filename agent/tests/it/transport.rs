//! Transport failures that need no simulator fault: raw loopback sockets that close, stall or cut a
//! reply short, to prove the network module finds the right cause in reqwest's error chain; and which
//! of those failures are retried (a JSON body cut short) and which are not (a web page, a TLS port).

use std::time::Duration;

use agent::address::Family;
use agent::net::{RetryPolicy, RouterClient};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::support::Harness;

/// The IPv4 address-list menu as faults match it.
const LIST: &str = "/rest/ip/firewall/address-list";

/// A listener on loopback port 0 whose every connection is handled by `behave`.
async fn raw_server<F, Fut>(behave: F) -> String
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(behave(stream));
        }
    });
    addr.to_string()
}

fn client(h: &Harness, url: String) -> RouterClient {
    let mut config = h.config.clone();
    config.router.as_mut().unwrap().url = url.parse().unwrap();
    config.connect_timeout = Duration::from_millis(300);
    config.request_timeout = Duration::from_millis(300);
    RouterClient::new(&config)
        .unwrap()
        .with_retry(RetryPolicy::none())
}

async fn code_of(client: &RouterClient) -> u32 {
    client.resource().await.unwrap_err().code.number()
}

#[tokio::test]
async fn accepted_then_closed_is_208007() {
    let h = Harness::start().await;
    let addr = raw_server(|s| async move { drop(s) }).await;
    assert_eq!(
        code_of(&client(&h, format!("https://{addr}"))).await,
        208007
    );
    assert_eq!(code_of(&client(&h, format!("http://{addr}"))).await, 208007);
}

#[tokio::test]
async fn a_silent_server_is_208004() {
    let h = Harness::start().await;
    let addr = raw_server(|mut s| async move {
        let mut buf = [0u8; 1024];
        // Read and never answer; hold the connection until the client gives up.
        while let Ok(n) = s.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
    assert_eq!(
        code_of(&client(&h, format!("https://{addr}"))).await,
        208004
    );
    assert_eq!(code_of(&client(&h, format!("http://{addr}"))).await, 208004);
}

#[tokio::test]
async fn a_reply_cut_short_is_208007() {
    let h = Harness::start().await;
    let addr = raw_server(|mut s| async move {
        let mut buf = [0u8; 4096];
        let _ = s.read(&mut buf).await;
        let _ = s
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"version\":")
            .await;
    })
    .await;
    assert_eq!(code_of(&client(&h, format!("http://{addr}"))).await, 208007);
}

#[tokio::test]
async fn a_web_page_or_a_redirect_is_not_the_rest_api() {
    let h = Harness::start().await;
    let page = raw_server(|mut s| async move {
        let mut buf = [0u8; 4096];
        let _ = s.read(&mut buf).await;
        let body = "<!DOCTYPE html><html><body>RouterOS router configuration page</body></html>";
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let _ = s.write_all(format!("{head}{body}").as_bytes()).await;
    })
    .await;
    assert_eq!(code_of(&client(&h, format!("http://{page}"))).await, 208008);
    let redirect = raw_server(|mut s| async move {
        let mut buf = [0u8; 4096];
        let _ = s.read(&mut buf).await;
        let _ = s.write_all(b"HTTP/1.1 301 Moved Permanently\r\nLocation: https://example.invalid/\r\nContent-Length: 0\r\n\r\n").await;
    })
    .await;
    assert_eq!(
        code_of(&client(&h, format!("http://{redirect}"))).await,
        208008
    );
}

/// A TLS 1.2 `protocol_version` alert record: what a TLS server sends back to a plain HTTP request.
const TLS_ALERT: &[u8] = b"\x15\x03\x03\x00\x02\x02\x46";

#[tokio::test]
async fn an_http_url_at_a_tls_port_is_208006_suggesting_https_and_not_retried() {
    let h = Harness::start().await;
    let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = connections.clone();
    let addr = raw_server(move |mut s| {
        seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        async move {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            let _ = s.write_all(TLS_ALERT).await;
        }
    })
    .await;
    let mut config = h.config.clone();
    config.router.as_mut().unwrap().url = format!("http://{addr}").parse().unwrap();
    // The default policy: a transient failure would be attempted four times.
    let client = RouterClient::new(&config).unwrap().with_retry(RetryPolicy {
        attempts: 4,
        base: Duration::from_millis(1),
        max: Duration::from_millis(1),
    });
    let e = client.resource().await.unwrap_err();
    assert_eq!(e.code.number(), 208006, "{e}");
    assert!(e.context.contains("https://"), "{e}");
    assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 1);
    // The simulator's real TLS port says the same.
    config.router.as_mut().unwrap().url = h
        .sim
        .https_url()
        .replacen("https://", "http://", 1)
        .parse()
        .unwrap();
    let e = RouterClient::new(&config)
        .unwrap()
        .with_retry(RetryPolicy::none())
        .resource()
        .await
        .unwrap_err();
    assert_eq!(e.code.number(), 208006, "{e}");
    assert!(e.context.contains("https://"), "{e}");
}

fn quick_retries(h: &Harness) -> RouterClient {
    h.client().with_retry(RetryPolicy {
        attempts: 4,
        base: Duration::from_millis(1),
        max: Duration::from_millis(1),
    })
}

fn list_reads(h: &Harness, mark: u64) -> usize {
    h.requests_since(mark)
        .iter()
        .filter(|r| r.starts_with("GET /rest/ip/firewall/address-list"))
        .count()
}

#[tokio::test]
async fn a_web_page_where_json_belongs_is_fetched_once() {
    let h = Harness::start().await;
    let _fault = h
        .sim
        .fault(simulator::FaultRule::always(simulator::Action::html_page()).path(LIST))
        .unwrap();
    let mark = h.sim.journal_mark();
    let e = quick_retries(&h)
        .rows(Family::V4, crate::support::LIST)
        .await
        .unwrap_err();
    assert_eq!(e.code.number(), 208400, "{e}");
    assert_eq!(list_reads(&h, mark), 1);
}

#[tokio::test]
async fn a_json_body_cut_short_is_retried() {
    let h = Harness::start().await;
    let cut = simulator::Action::Body {
        status: 200,
        content_type: "application/json".into(),
        body: r#"[{".id":"*1","list":"#.into(),
    };
    let once = h
        .sim
        .fault(
            simulator::FaultRule::always(cut.clone())
                .path(LIST)
                .times(1),
        )
        .unwrap();
    let mark = h.sim.journal_mark();
    let rows = quick_retries(&h)
        .rows(Family::V4, crate::support::LIST)
        .await
        .unwrap();
    assert!(rows.is_empty(), "{rows:?}");
    assert_eq!(list_reads(&h, mark), 2);
    drop(once);
    // Cut short every time: every attempt is made, then 208400.
    let _always = h
        .sim
        .fault(simulator::FaultRule::always(cut).path(LIST))
        .unwrap();
    let mark = h.sim.journal_mark();
    let e = quick_retries(&h)
        .rows(Family::V4, crate::support::LIST)
        .await
        .unwrap_err();
    assert_eq!(e.code.number(), 208400, "{e}");
    assert_eq!(list_reads(&h, mark), 4);
}
