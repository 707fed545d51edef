//! The only module that talks to the router: TLS set-up, the REST client, retries.
//!
//! Everything else in the agent is pure and works on the types this module returns. Each request
//! goes through [`RouterClient::send`], which gathers the facts of the outcome (a complete reply, or
//! which transport failure happened, found by walking the error's source chain for I/O, rustls and
//! hyper errors) and hands them to the one classification in `classify.rs`. TLS is rustls with the
//! `ring` provider passed explicitly (the workspace never compiles aws-lc-rs): verified against the
//! system trust store by default, or a CA file, or a pinned SHA-256 fingerprint of the router's
//! certificate; unverified only with `--insecure`. Ids like `*1A` are written into paths literally,
//! because RouterOS answers a percent-encoded `%2A1A` with 400. An optional [`Observer`] (from
//! [`Config::observer`]) is shown every attempt as an [`Exchange`], without credentials; the
//! conformance suite records the agent's traffic with it.

use std::error::Error as StdError;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::address::{Address, Family};
use crate::classify::{self, Operation, Reply, Transport, Verdict};
use crate::config::{Config, ConfigError, Secret, TlsMode};
use crate::duration;
use crate::error::{Code, Error, Result};
use crate::plan::Row;
use crate::wire::{self, Resource};

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A certificate check for the two modes without a CA: `pin` accepts exactly one certificate, by
/// the SHA-256 of its DER encoding; `None` (`--insecure`) accepts any. Both still check that the
/// handshake was signed by the presented certificate's key, so a pin cannot be replayed by someone
/// without the key. Names and dates are not checked: a pin says "this very certificate", which is
/// how people trust a router's self-signed certificate.
#[derive(Debug)]
struct KeyVerifier {
    pin: Option<[u8; 32]>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

/// The SHA-256 fingerprint of a DER certificate, as lower-case hex with colons.
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

impl ServerCertVerifier for KeyVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self
            .pin
            .is_none_or(|pin| Sha256::digest(end_entity.as_ref()).as_slice() == pin)
        {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            m,
            c,
            d,
            &self.provider.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            m,
            c,
            d,
            &self.provider.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The rustls client configuration for a TLS mode.
pub fn tls_config(mode: &TlsMode) -> Result<rustls::ClientConfig, ConfigError> {
    let provider = provider();
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| ConfigError(format!("TLS set-up: {e}")))?;
    let config = match mode {
        TlsMode::SystemRoots => {
            let verifier = rustls_platform_verifier::Verifier::new(provider).map_err(|e| {
                ConfigError(format!(
                    "cannot load the system's trusted certificates: {e}"
                ))
            })?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verifier))
                .with_no_client_auth()
        }
        TlsMode::CaFile(path) => {
            let pem = std::fs::read(path).map_err(|e| {
                ConfigError(format!("cannot read the CA file {}: {e}", path.display()))
            })?;
            let mut roots = rustls::RootCertStore::empty();
            for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
                let cert = cert.map_err(|e| {
                    ConfigError(format!("the CA file {} is not PEM: {e}", path.display()))
                })?;
                roots.add(cert).map_err(|e| {
                    ConfigError(format!(
                        "the CA file {} holds an unusable certificate: {e}",
                        path.display()
                    ))
                })?;
            }
            if roots.is_empty() {
                return Err(ConfigError(format!(
                    "the CA file {} holds no certificate",
                    path.display()
                )));
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        TlsMode::Pin(pin) => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(KeyVerifier {
                pin: Some(*pin),
                provider,
            }))
            .with_no_client_auth(),
        TlsMode::Insecure => {
            tracing::warn!(
                "TLS certificate verification is OFF (--insecure): anyone on the path can read the router password"
            );
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(KeyVerifier {
                    pin: None,
                    provider,
                }))
                .with_no_client_auth()
        }
    };
    Ok(config)
}

/// How transient failures are retried: exponential backoff with full jitter.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all, at least 1.
    pub attempts: u32,
    /// The first backoff's upper bound.
    pub base: Duration,
    /// The largest backoff.
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            base: Duration::from_millis(250),
            max: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// No retries.
    pub fn none() -> Self {
        RetryPolicy {
            attempts: 1,
            ..Self::default()
        }
    }

    /// The pause before retry number `n` (1-based): uniformly random up to `base * 2^(n-1)`,
    /// capped at `max`, so that many agents hitting one router after an outage spread out.
    pub fn backoff(&self, n: u32, rng: &mut impl rand::Rng) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(1u32 << (n.saturating_sub(1)).min(16))
            .min(self.max);
        let ms = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(if ms == 0 { 0 } else { rng.random_range(0..=ms) })
    }
}

/// What a PUT of a new entry did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Added {
    /// Created; the router's copy of the row.
    Created(Row),
    /// The list already has an enabled entry for this address.
    Duplicate,
}

/// What a PATCH or DELETE found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changed {
    /// Done; for PATCH, the router's copy of the row.
    Done(Option<Row>),
    /// The entry no longer exists.
    Gone,
}

/// One attempt of one request as it went over the wire, for an [`Observer`]. It never holds the
/// `Authorization` header or the password: only what the request and the reply said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// The HTTP method, e.g. `GET`.
    pub method: String,
    /// The request's path from `/rest` on, with its query, e.g. `/rest/ip/firewall/address-list?list=x`.
    pub path: String,
    /// The request's JSON body, if it had one.
    pub request_body: Option<String>,
    /// The reply's status, when one arrived.
    pub status: Option<u16>,
    /// The reply's body (lossily UTF-8), when it was read in full.
    pub response_body: Option<String>,
    /// The transport failure (connect, TLS, timeout, a body cut off), if there was one.
    pub error: Option<String>,
}

/// Shown every attempt of every request, after its reply or its transport failure.
pub type Observer = Arc<dyn Fn(&Exchange) + Send + Sync>;

/// A REST client bound to one router and user.
#[derive(Clone)]
pub struct RouterClient {
    http: reqwest::Client,
    base: String,
    username: String,
    password: Secret,
    retry: RetryPolicy,
    tls: Option<Arc<rustls::ClientConfig>>,
    connect_timeout: Duration,
    observer: Option<Observer>,
}

impl std::fmt::Debug for RouterClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouterClient")
            .field("http", &self.http)
            .field("base", &self.base)
            .field("username", &self.username)
            .field("password", &self.password)
            .field("retry", &self.retry)
            .field("tls", &self.tls)
            .field("connect_timeout", &self.connect_timeout)
            .field("observer", &self.observer.as_ref().map(|_| ".."))
            .finish()
    }
}

impl RouterClient {
    /// A client for the configured router. Fails only on local problems (an unreadable CA file).
    pub fn new(config: &Config) -> Result<RouterClient, ConfigError> {
        let tls = Arc::new(tls_config(&config.tls)?);
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured((*tls).clone())
            .http1_only()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .pool_max_idle_per_host(config.concurrency.max(1))
            .build()
            .map_err(|e| ConfigError(format!("HTTP client set-up: {e}")))?;
        let https = config.url.starts_with("https://");
        Ok(RouterClient {
            http,
            base: format!("{}/rest", config.url),
            username: config.username.clone(),
            password: config.password.clone(),
            retry: RetryPolicy::default(),
            tls: https.then_some(tls),
            connect_timeout: config.connect_timeout,
            observer: config.observer.clone(),
        })
    }

    /// The same client with another retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// One request with retries of transient failures; returns the verdict and the body.
    async fn send(
        &self,
        op: Operation,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<(Verdict, Vec<u8>)> {
        let mut rng: rand::rngs::StdRng = rand::SeedableRng::seed_from_u64(seed());
        let mut attempt = 1;
        loop {
            match self.send_once(op, method.clone(), path, body).await {
                Err(f) if f.retry && attempt < self.retry.attempts => {
                    let pause = self.retry.backoff(attempt, &mut rng);
                    tracing::debug!(error = %f.error, ?pause, attempt, "transient failure; retrying");
                    tokio::time::sleep(pause).await;
                    attempt += 1;
                }
                Err(f) => return Err(f.error),
                Ok(v) => return Ok(v),
            }
        }
    }

    /// Sends one request and reads its reply in full: status, content type and body, or the
    /// transport failure (with the status, when the headers had arrived before it).
    async fn transfer(
        &self,
        what: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<(u16, Option<String>, Vec<u8>), (Option<u16>, Error)> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .basic_auth(&self.username, Some(self.password.expose()));
        if let Some(body) = body {
            req = req.json(body);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| (None, transport_error(what, &e)))?;
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| (Some(status), transport_error(what, &e)))?;
        Ok((status, content_type, bytes.to_vec()))
    }

    async fn send_once(
        &self,
        op: Operation,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<(Verdict, Vec<u8>), Attempt> {
        let what = format!("{method} /rest{path}");
        let outcome = self.transfer(&what, method.clone(), path, body).await;
        if let Some(observe) = &self.observer {
            let (status, response_body, error) = match &outcome {
                Ok((status, _, bytes)) => (
                    Some(*status),
                    Some(String::from_utf8_lossy(bytes).into_owned()),
                    None,
                ),
                Err((status, e)) => (*status, None, Some(e.to_string())),
            };
            observe(&Exchange {
                method: method.to_string(),
                path: format!("/rest{path}"),
                request_body: body.map(serde_json::Value::to_string),
                status,
                response_body,
                error,
            });
        }
        let (status, content_type, bytes) = outcome.map_err(|(_, e)| Attempt::of(e))?;
        let reply = Reply {
            status,
            content_type: content_type.as_deref(),
            body: &bytes,
        };
        let cut = cut_short(&bytes);
        match classify::classify_reply(op, &reply) {
            Verdict::Failure(code) => {
                let detail = classify::router_detail(&bytes)
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default();
                let error = Error::new(code, format!("{what}: HTTP {status}{detail}"));
                Err(Attempt {
                    retry: code.is_transient() || (code == Code::NotJson && cut),
                    error,
                })
            }
            // Complete by HTTP's framing, yet its JSON stops early: something on the way cut it
            // (a proxy, a router under memory pressure); the next attempt may get all of it.
            _ if cut => Err(Attempt {
                error: Error::new(
                    Code::NotJson,
                    format!(
                        "{what}: HTTP {status}: the JSON body ends after {} bytes, before its value is complete",
                        bytes.len()
                    ),
                ),
                retry: true,
            }),
            v => Ok((v, bytes)),
        }
    }

    /// `GET /rest/system/resource`: proves this is RouterOS REST and gives version and uptime.
    pub async fn resource(&self) -> Result<Resource> {
        let (_, body) = self
            .send(
                Operation::Probe,
                reqwest::Method::GET,
                "/system/resource",
                None,
            )
            .await?;
        wire::resource(&body, "GET /rest/system/resource")
    }

    /// All rows of one list.
    pub async fn rows(&self, family: Family, list: &str) -> Result<Vec<Row>> {
        let path = format!("{}?list={}", family.menu(), encode_query(list));
        let (_, body) = self
            .send(Operation::ReadList, reqwest::Method::GET, &path, None)
            .await?;
        wire::rows(family, &body, &format!("GET /rest{}", family.menu()))
    }

    /// The rows of one list that hold `address`.
    pub async fn find(&self, list: &str, address: &Address) -> Result<Vec<Row>> {
        let family = address.family();
        let path = format!(
            "{}?list={}&address={}",
            family.menu(),
            encode_query(list),
            encode_query(address.as_str())
        );
        let (_, body) = self
            .send(Operation::ReadList, reqwest::Method::GET, &path, None)
            .await?;
        wire::rows(family, &body, &format!("GET /rest{}", family.menu()))
    }

    /// `PUT` of a new dynamic entry with a comment.
    pub async fn add(
        &self,
        list: &str,
        address: &Address,
        timeout: Duration,
        comment: &str,
    ) -> Result<Added> {
        let family = address.family();
        let body = json!({
            "list": list,
            "address": address.as_str(),
            "timeout": duration::format(timeout),
            "comment": comment,
        });
        let (verdict, bytes) = self
            .send(
                Operation::AddEntry,
                reqwest::Method::PUT,
                family.menu(),
                Some(&body),
            )
            .await?;
        match verdict {
            Verdict::Duplicate => Ok(Added::Duplicate),
            _ => Ok(Added::Created(wire::single_row(
                family,
                &bytes,
                &format!("PUT /rest{}", family.menu()),
            )?)),
        }
    }

    /// `PATCH` of an entry's timeout.
    pub async fn set_timeout(
        &self,
        family: Family,
        id: &str,
        timeout: Duration,
    ) -> Result<Changed> {
        let path = format!("{}/{}", family.menu(), id_segment(id)?);
        let body = json!({ "timeout": duration::format(timeout) });
        let (verdict, bytes) = self
            .send(
                Operation::UpdateEntry,
                reqwest::Method::PATCH,
                &path,
                Some(&body),
            )
            .await?;
        match verdict {
            Verdict::AlreadyGone => Ok(Changed::Gone),
            _ => Ok(Changed::Done(Some(wire::single_row(
                family,
                &bytes,
                &format!("PATCH /rest{path}"),
            )?))),
        }
    }

    /// `DELETE` of an entry; 404 means it is already gone.
    pub async fn remove(&self, family: Family, id: &str) -> Result<Changed> {
        let path = format!("{}/{}", family.menu(), id_segment(id)?);
        let (verdict, _) = self
            .send(Operation::RemoveEntry, reqwest::Method::DELETE, &path, None)
            .await?;
        Ok(if verdict == Verdict::AlreadyGone {
            Changed::Gone
        } else {
            Changed::Done(None)
        })
    }

    /// Opens a TCP connection to the router's port and closes it (the first step of `validate`).
    pub async fn probe_tcp(&self) -> Result<String> {
        let (host, port) = self.host_port()?;
        let what = format!("TCP connect to {host}:{port}");
        let stream = tokio::time::timeout(
            self.connect_timeout,
            tokio::net::TcpStream::connect((host.as_str(), port)),
        )
        .await
        .map_err(|_| {
            Error::new(
                Code::TimedOut,
                format!(
                    "{what}: no answer within {}",
                    duration::format(self.connect_timeout)
                ),
            )
        })?
        .map_err(|e| {
            Error::new(
                classify::classify_transport(transport_of_io(&e, true)),
                format!("{what}: {e}"),
            )
        })?;
        let peer = stream
            .peer_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        Ok(peer)
    }

    /// Completes a TLS handshake with the configured verification and returns the certificate's
    /// SHA-256 fingerprint (for `--pin-sha256`); `None` for plain HTTP.
    pub async fn probe_tls(&self) -> Result<Option<String>> {
        let Some(tls) = &self.tls else {
            return Ok(None);
        };
        let (host, port) = self.host_port()?;
        let what = format!("TLS handshake with {host}:{port}");
        let name = ServerName::try_from(host.clone()).map_err(|e| {
            Error::new(
                Code::CertificateNotTrusted,
                format!("{what}: `{host}` is not a valid server name: {e}"),
            )
        })?;
        let connector = tokio_rustls::TlsConnector::from(tls.clone());
        let handshake = async {
            let tcp = tokio::net::TcpStream::connect((host.as_str(), port))
                .await
                .map_err(|e| (e, true))?;
            connector.connect(name, tcp).await.map_err(|e| (e, false))
        };
        let stream = tokio::time::timeout(self.connect_timeout, handshake)
            .await
            .map_err(|_| {
                Error::new(
                    Code::TimedOut,
                    format!(
                        "{what}: not done within {}",
                        duration::format(self.connect_timeout)
                    ),
                )
            })?
            .map_err(|(e, connecting)| {
                Error::new(
                    classify::classify_transport(transport_of_io(&e, connecting)),
                    format!("{what}: {e}"),
                )
            })?;
        let (_, conn) = stream.get_ref();
        Ok(conn
            .peer_certificates()
            .and_then(|c| c.first())
            .map(|c| fingerprint(c.as_ref())))
    }

    fn host_port(&self) -> Result<(String, u16)> {
        let url = reqwest::Url::parse(&self.base)
            .map_err(|e| Error::new(Code::ConnectionRefused, format!("URL {}: {e}", self.base)))?;
        let host = url
            .host_str()
            .unwrap_or_default()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = url.port_or_known_default().unwrap_or(443);
        Ok((host, port))
    }
}

/// A failed attempt, and whether another attempt may do better. Most of that follows from the
/// code ([`Code::is_transient`]); a 208400 is retried only when its body is JSON cut short, never
/// for a well-formed HTML or text page, which would come back the same every time.
struct Attempt {
    error: Error,
    retry: bool,
}

impl Attempt {
    fn of(error: Error) -> Attempt {
        Attempt {
            retry: error.code.is_transient(),
            error,
        }
    }
}

/// Whether a body starts as JSON and ends before its value is complete. An empty body does not
/// count: a server that meant to send nothing will send nothing again.
fn cut_short(body: &[u8]) -> bool {
    let starts_as_json = body
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| matches!(b, b'{' | b'['));
    starts_as_json && serde_json::from_slice::<serde_json::Value>(body).is_err_and(|e| e.is_eof())
}

fn seed() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    t.as_nanos() as u64 ^ u64::from(std::process::id())
}

/// An id as a path segment: only the `*HEX` form is sent, written literally (never `%2A`).
fn id_segment(id: &str) -> Result<&str> {
    if wire::is_router_id(id) {
        Ok(id)
    } else {
        Err(Error::new(
            Code::InvalidValue,
            format!("`{id}` is not a RouterOS id"),
        ))
    }
}

/// Percent-encodes a query value, leaving RFC 3986 unreserved characters (and `*`, `:`, `/`) as they
/// are: RouterOS compares the decoded value exactly, and addresses must stay readable in its log.
pub fn encode_query(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'*' | b':' | b'/')
        {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn transport_error(what: &str, e: &reqwest::Error) -> Error {
    let t = transport_of(e);
    // The bare hyper message ("invalid HTTP version parsed") does not tell anyone what to change.
    let hint = if t == Transport::NotHttp {
        "; the server did not answer in HTTP: this port may be the TLS (www-ssl) port, so use an https:// URL"
    } else {
        ""
    };
    // reqwest's message names the URL, which holds no credentials (they are refused in the URL).
    Error::new(
        classify::classify_transport(t),
        format!("{what}: {}{hint}", chain(e)),
    )
}

/// The messages of an error and its sources, joined, for people.
fn chain(e: &dyn StdError) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = s.source();
    }
    parts.join(": ")
}

fn tls_kind(e: &rustls::Error) -> Transport {
    match e {
        rustls::Error::InvalidCertificate(_) => Transport::Certificate,
        _ => Transport::Handshake,
    }
}

/// The transport failure behind an I/O error from a connect or a TLS stream.
pub fn transport_of_io(e: &io::Error, connecting: bool) -> Transport {
    io_specific(e).unwrap_or(if connecting {
        Transport::ConnectOther
    } else {
        Transport::Reset
    })
}

/// What an I/O error says for sure, looking through nested I/O errors (hyper-util wraps the TLS
/// stream's `InvalidData` error, which carries the rustls error, in another `Other` error, and
/// `io::Error::source` skips the wrapped error itself, so it must be unwrapped by hand).
fn io_specific(e: &io::Error) -> Option<Transport> {
    if let Some(inner) = e.get_ref() {
        if let Some(r) = inner.downcast_ref::<rustls::Error>() {
            return Some(tls_kind(r));
        }
        if let Some(nested) = inner.downcast_ref::<io::Error>()
            && let Some(t) = io_specific(nested)
        {
            return Some(t);
        }
    }
    match e.kind() {
        io::ErrorKind::ConnectionRefused => Some(Transport::Refused),
        io::ErrorKind::HostUnreachable
        | io::ErrorKind::NetworkUnreachable
        | io::ErrorKind::AddrNotAvailable => Some(Transport::Unreachable),
        io::ErrorKind::TimedOut => Some(Transport::Timeout),
        io::ErrorKind::InvalidData => Some(Transport::Handshake),
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe
        | io::ErrorKind::UnexpectedEof => Some(Transport::Reset),
        _ if e.to_string().contains("failed to lookup address") => Some(Transport::NameResolution),
        _ => None,
    }
}

/// The transport failure behind a reqwest error, found by walking its source chain.
pub fn transport_of(e: &reqwest::Error) -> Transport {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(r) = err.downcast_ref::<rustls::Error>() {
            return tls_kind(r);
        }
        if let Some(t) = err.downcast_ref::<io::Error>().and_then(io_specific) {
            return t;
        }
        if let Some(h) = err.downcast_ref::<hyper::Error>() {
            if h.is_timeout() {
                return Transport::Timeout;
            }
            // A reply that does not even start with `HTTP/1.x`: hyper has no finer test than its
            // message. With an `http://` URL this is a TLS server's alert record; retrying cannot help.
            if h.is_parse() && h.to_string().contains("invalid HTTP version") {
                return Transport::NotHttp;
            }
            if h.is_incomplete_message() || h.is_canceled() {
                return Transport::Reset;
            }
        }
        // hyper-util reports resolver failures as a ConnectError whose message is "dns error".
        if err.to_string().starts_with("dns error") {
            return Transport::NameResolution;
        }
        cur = err.source();
    }
    if e.is_timeout() {
        Transport::Timeout
    } else if e.is_connect() {
        Transport::ConnectOther
    } else {
        Transport::Reset
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_keep_star_and_addresses_readable() {
        assert_eq!(encode_query("my list"), "my%20list");
        assert_eq!(encode_query("2001:db8::/64"), "2001:db8::/64");
        assert_eq!(encode_query("a&b=c"), "a%26b%3Dc");
        assert_eq!(encode_query("*1A"), "*1A");
    }

    #[test]
    fn ids_are_sent_literally_or_not_at_all() {
        assert_eq!(id_segment("*1A").unwrap(), "*1A");
        assert_eq!(id_segment("1A").unwrap_err().code, Code::InvalidValue);
        assert_eq!(id_segment("*1A/../x").unwrap_err().code, Code::InvalidValue);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy {
            attempts: 5,
            base: Duration::from_millis(100),
            max: Duration::from_millis(300),
        };
        let mut rng: rand::rngs::StdRng = rand::SeedableRng::seed_from_u64(7);
        for _ in 0..100 {
            assert!(p.backoff(1, &mut rng) <= Duration::from_millis(100));
            assert!(p.backoff(2, &mut rng) <= Duration::from_millis(200));
            assert!(p.backoff(9, &mut rng) <= Duration::from_millis(300));
        }
    }

    #[test]
    fn io_errors() {
        use io::ErrorKind::*;
        for (kind, t) in [
            (ConnectionRefused, Transport::Refused),
            (HostUnreachable, Transport::Unreachable),
            (NetworkUnreachable, Transport::Unreachable),
            (TimedOut, Transport::Timeout),
            (ConnectionReset, Transport::Reset),
            (UnexpectedEof, Transport::Reset),
            (InvalidData, Transport::Handshake),
        ] {
            assert_eq!(transport_of_io(&io::Error::from(kind), true), t, "{kind:?}");
        }
        assert_eq!(
            transport_of_io(&io::Error::other("x"), true),
            Transport::ConnectOther
        );
        assert_eq!(
            transport_of_io(&io::Error::other("x"), false),
            Transport::Reset
        );
        let cert = io::Error::new(
            InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        assert_eq!(transport_of_io(&cert, false), Transport::Certificate);
        // As hyper-util hands it over: wrapped once more.
        let wrapped = io::Error::other(cert);
        assert_eq!(transport_of_io(&wrapped, true), Transport::Certificate);
        let alert = io::Error::new(
            InvalidData,
            rustls::Error::AlertReceived(rustls::AlertDescription::HandshakeFailure),
        );
        assert_eq!(transport_of_io(&alert, false), Transport::Handshake);
    }

    #[test]
    fn only_json_that_stops_early_is_cut_short() {
        for (body, cut) in [
            (&b"{\"version\":"[..], true),
            (b"  [{\".id\":\"*1\"", true),
            (b"[", true),
            (b"{\"a\":\"unterminated", true),
            (b"", false),
            (b"   ", false),
            (b"{not json", false),
            (b"[1,]", false),
            (b"{}", false),
            (b"<!DOCTYPE html><html><body>login</body></html>", false),
            (b"<html><body>login", false),
            (b"Forbidden", false),
        ] {
            assert_eq!(cut_short(body), cut, "{:?}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn fingerprints_are_hex_with_colons() {
        let f = fingerprint(b"abc");
        assert!(f.starts_with("ba:78:16:bf"), "{f}");
        assert_eq!(f.len(), 32 * 3 - 1);
    }
}
