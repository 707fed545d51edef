//! Test support: a simulator with an HTTPS client that trusts only its CA, and raw-socket helpers.
//!
//! Every test talks to the simulator the way a client talks to a real router: over TLS, with Basic
//! authentication, through [`reqwest`] built on a rustls configuration whose root store holds the
//! simulator's CA and nothing else. Where reqwest is in the way (HEAD, a body without a content type,
//! watching for a TCP reset or a failed handshake) the raw helpers speak HTTP/1.1 over a
//! `tokio-rustls` or plain TCP stream. Client construction lives here and nowhere else, because
//! reqwest's TLS builder methods change between releases.
//!
//! Rules that do not depend on the connection can skip the socket: [`Sim::oneshot`] hands a request
//! straight to the REST handler, as axum's testing example drives an app with `oneshot`.
//!
//! Nothing here sleeps: every wait is bounded by [`BOUND`] and fails the test when exceeded.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::Value;
use simulator::{Listener, Simulator, SimulatorBuilder};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// The longest any single reply may take; a reply later than this is a hang.
pub const BOUND: Duration = Duration::from_secs(10);

/// The built-in administrator.
pub const ADMIN: (&str, &str) = ("admin", "admin");

/// The address-list menus.
pub const V4: &str = "/rest/ip/firewall/address-list";
pub const V6: &str = "/rest/ipv6/firewall/address-list";

/// A rustls client configuration (ring provider) whose only trusted root is `ca_pem`.
pub fn client_config(ca_pem: &str) -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    let certs: Vec<CertificateDer<'static>> = rustls_pemfile::certs(&mut ca_pem.as_bytes())
        .collect::<Result<_, _>>()
        .expect("the CA PEM parses");
    assert_eq!(
        certs.len(),
        1,
        "the simulator hands out exactly one CA certificate"
    );
    for c in certs {
        roots.add(c).expect("the CA is a valid trust anchor");
    }
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("ring supports the default versions")
        .with_root_certificates(roots)
        .with_no_client_auth()
}

/// An HTTPS client trusting only `ca_pem`; a new client has no pooled connections.
pub fn https_client(ca_pem: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_backend_preconfigured(client_config(ca_pem))
        .timeout(BOUND)
        .build()
        .expect("reqwest accepts the rustls configuration")
}

/// A reply as the client saw it.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body, as text.
    pub text: String,
}

impl Reply {
    /// The body as JSON; fails the test when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("reply is not JSON ({e}): {:?}", self.text))
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().expect("header is text").to_owned())
    }

    /// Asserts an error envelope: `status` and the exact body a router sends.
    #[track_caller]
    pub fn assert_error(&self, status: u16, detail: Option<&str>) {
        assert_eq!(
            (self.status, self.text.as_str()),
            (status, envelope(status, detail).as_str())
        );
    }
}

/// The exact RouterOS error body for `status` with an optional `detail`.
pub fn envelope(status: u16, detail: Option<&str>) -> String {
    let reason = http::StatusCode::from_u16(status)
        .expect("a status")
        .canonical_reason()
        .expect("a reason");
    let mut out = String::from("{");
    if let Some(d) = detail {
        out.push_str(&format!("\"detail\":{},", Value::from(d)));
    }
    out.push_str(&format!("\"error\":{status},\"message\":\"{reason}\"}}"));
    out
}

/// Asserts the wire rules of section 3: compact JSON with sorted keys (`.id` first) and only string
/// values, except the numeric `error` of an error envelope.
#[track_caller]
pub fn assert_router_json(text: &str) {
    let v: Value =
        serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text:?}"));
    // serde_json's map is ordered by key, so re-serialising gives the sorted compact form; `.id`
    // sorts before every lower-case key.
    assert_eq!(
        serde_json::to_string(&v).unwrap(),
        text,
        "keys not sorted or not compact"
    );
    fn walk(v: &Value, text: &str) {
        match v {
            Value::Array(items) => items.iter().for_each(|i| walk(i, text)),
            Value::Object(map) => {
                for (k, val) in map {
                    match val {
                        Value::String(_) => {}
                        Value::Number(_) if k == "error" && map.contains_key("message") => {}
                        Value::Array(_) | Value::Object(_) if !map.contains_key("message") => {
                            walk(val, text)
                        }
                        other => panic!("non-string value {k}={other} in {text}"),
                    }
                }
            }
            Value::String(_) => {}
            other => panic!("bare non-string value {other} in {text}"),
        }
    }
    walk(&v, text);
}

/// A running simulator and a client for it.
#[derive(Debug)]
pub struct Sim {
    /// The simulator.
    pub sim: Simulator,
    client: reqwest::Client,
}

/// Starts a default simulator (7.23.7, `admin`/`admin`).
pub async fn start() -> Sim {
    start_with(Simulator::builder()).await
}

/// Starts a simulator from `builder`.
pub async fn start_with(builder: SimulatorBuilder) -> Sim {
    let sim = builder.start().await.expect("the simulator starts");
    let client = https_client(sim.ca_pem());
    Sim { sim, client }
}

/// Basic credentials as a header value.
pub fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

impl Sim {
    /// Replaces the client, dropping its pooled connections (after a reboot drops them server-side).
    pub fn reconnect(&mut self) {
        self.client = https_client(self.sim.ca_pem());
    }

    /// A request as `admin`.
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        self.call_as(Some(ADMIN), method, path, body).await
    }

    /// `GET` as `admin`.
    pub async fn get(&self, path: &str) -> Reply {
        self.call("GET", path, None).await
    }

    /// A request with the given credentials (or none), over HTTPS.
    pub async fn call_as(
        &self,
        auth: Option<(&str, &str)>,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        let url = format!("{}{path}", self.sim.https_url());
        call_on(&self.client, auth, method, &url, body).await
    }

    /// Creates an address-list entry with PUT and returns its `.id`.
    pub async fn put(&self, menu: &str, body: Value) -> String {
        let r = self.call("PUT", menu, Some(body)).await;
        assert_eq!(r.status, 201, "PUT failed: {}", r.text);
        r.json()[".id"].as_str().expect("an id").to_owned()
    }

    /// The rows of a GET, as JSON.
    pub async fn rows(&self, path: &str) -> Vec<Value> {
        let r = self.get(path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        r.json().as_array().expect("an array").clone()
    }

    /// The `address` values of an address-list GET, in order.
    pub async fn addresses(&self, path: &str) -> Vec<String> {
        self.rows(path)
            .await
            .iter()
            .map(|r| r["address"].as_str().expect("address").to_owned())
            .collect()
    }

    /// A request as `admin`, handed straight to the REST handler as the `www-ssl` listener hands it
    /// over, without a socket or TLS (the `oneshot` style of axum's testing example): for rules of
    /// ROUTEROS-REST.md that do not depend on the connection.
    pub async fn oneshot(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let content_type = (!body.is_empty()).then_some("application/json");
        self.oneshot_raw(Some(ADMIN), method, path, content_type, body.as_bytes())
            .await
    }

    /// Like [`Sim::oneshot`], with the given credentials (or none), content type and body bytes.
    pub async fn oneshot_raw(
        &self,
        auth: Option<(&str, &str)>,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Reply {
        let mut req = http::Request::builder()
            .method(method)
            .uri(path)
            .header("host", "127.0.0.1");
        if let Some((user, password)) = auth {
            req = req.header("authorization", basic(user, password));
        }
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let req = req
            .body(bytes::Bytes::copy_from_slice(body))
            .expect("a valid request");
        let peer = std::net::SocketAddr::from(([127, 0, 0, 1], 40000));
        let out = simulator::rest::handle(self.sim.shared(), req, peer, Listener::WwwSsl).await;
        let (parts, body) = out.response.into_parts();
        Reply {
            status: parts.status.as_u16(),
            headers: parts.headers,
            text: String::from_utf8(body.to_bytes().to_vec()).expect("a text body"),
        }
    }

    /// A raw HTTP/1.1 exchange over TLS with the `www-ssl` listener.
    pub async fn raw_https(&self, request: &[u8]) -> RawReply {
        raw_https(self.sim.https_addr(), self.sim.ca_pem(), request)
            .await
            .expect("a raw HTTPS reply")
    }
}

/// Sends one request with `client`.
pub async fn call_on(
    client: &reqwest::Client,
    auth: Option<(&str, &str)>,
    method: &str,
    url: &str,
    body: Option<Value>,
) -> Reply {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
    let mut req = client.request(method, url);
    if let Some((u, p)) = auth {
        req = req.header("authorization", basic(u, p));
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap_or_else(|e| panic!("{url}: {e:?}"));
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.expect("a body");
    Reply {
        status,
        headers,
        text,
    }
}

/// A reply read off a raw socket.
#[derive(Debug)]
pub struct RawReply {
    /// Status code.
    pub status: u16,
    /// Header lines, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body bytes.
    pub body: Vec<u8>,
}

impl RawReply {
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A request with admin credentials and `Connection: close`, for the raw helpers.
pub fn raw_request(
    method: &str,
    path: &str,
    extra_headers: &[(&str, &str)],
    body: &[u8],
) -> Vec<u8> {
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: {}\r\nConnection: close\r\n",
        basic(ADMIN.0, ADMIN.1)
    );
    for (k, v) in extra_headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    out
}

/// Opens a TLS connection to `addr` trusting only `ca_pem`.
pub async fn tls_connect(
    addr: SocketAddr,
    ca_pem: &str,
) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client_config(ca_pem)));
    connector
        .connect(ServerName::try_from("localhost").expect("a name"), tcp)
        .await
}

/// Sends `request` over TLS and reads the reply until the server closes the connection.
pub async fn raw_https(
    addr: SocketAddr,
    ca_pem: &str,
    request: &[u8],
) -> std::io::Result<RawReply> {
    let stream = tokio::time::timeout(BOUND, tls_connect(addr, ca_pem))
        .await
        .expect("TLS connect within the bound")?;
    exchange(stream, request).await
}

/// Sends `request` over plain TCP and reads the reply until the server closes the connection.
pub async fn raw_http(addr: SocketAddr, request: &[u8]) -> std::io::Result<RawReply> {
    let stream = TcpStream::connect(addr).await?;
    exchange(stream, request).await
}

async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    request: &[u8],
) -> std::io::Result<RawReply> {
    stream.write_all(request).await?;
    stream.flush().await?;
    let mut buf = Vec::new();
    let read = tokio::time::timeout(BOUND, stream.read_to_end(&mut buf))
        .await
        .expect("the server answers and closes within the bound");
    match read {
        Ok(_) => {}
        // A peer that closes without TLS close_notify after a complete reply is fine for these tests.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !buf.is_empty() => {}
        Err(e) => return Err(e),
    }
    parse_reply(&buf).ok_or_else(|| {
        std::io::Error::other(format!(
            "no HTTP reply in {:?}",
            String::from_utf8_lossy(&buf)
        ))
    })
}

/// Parses one HTTP/1.1 reply (status line, headers, body up to `Content-Length`).
pub fn parse_reply(buf: &[u8]) -> Option<RawReply> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&buf[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = buf[end + 4..].to_vec();
    if let Some(len) = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
    {
        body.truncate(len);
    }
    Some(RawReply {
        status,
        headers,
        body,
    })
}

/// A free loopback port (bound and released; good enough on loopback for a moved listener).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Waits, within [`BOUND`], until connecting to `addr` is refused.
pub async fn until_refused(addr: SocketAddr) {
    let wait = async {
        loop {
            match TcpStream::connect(addr).await {
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => return,
                _ => tokio::task::yield_now().await,
            }
        }
    };
    tokio::time::timeout(BOUND, wait)
        .await
        .unwrap_or_else(|_| panic!("{addr} still accepts connections"));
}

/// Waits, within [`BOUND`], until `addr` accepts TCP connections.
pub async fn until_listening(addr: SocketAddr) {
    let wait = async {
        loop {
            if TcpStream::connect(addr).await.is_ok() {
                return;
            }
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(BOUND, wait)
        .await
        .unwrap_or_else(|_| panic!("{addr} never listened"));
}

/// Drives futures together on the current task and returns their outputs in order (`join_all`
/// without the `futures` crate; no spawning, so a paused Tokio clock sees them all).
pub async fn join_all<F: std::future::Future>(futs: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let futs: Vec<_> = futs.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futs.iter().map(|_| None).collect();
    let mut futs: Vec<Option<_>> = futs.into_iter().map(Some).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, slot) in futs.iter_mut().enumerate() {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(out) => {
                        outputs[i] = Some(out);
                        *slot = None;
                    }
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs
        .into_iter()
        .map(|o| o.expect("every future finished"))
        .collect()
}
