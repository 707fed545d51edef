//! Transport failures that need no simulator fault: raw loopback sockets that close, stall or cut a
//! reply short, to prove the network module finds the right cause in reqwest's error chain.

use std::time::Duration;

use agent::net::{RetryPolicy, RouterClient};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::support::Harness;

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
    config.url = url;
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
