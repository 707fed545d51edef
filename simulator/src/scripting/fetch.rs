//! `/tool/fetch` over HTTP and HTTPS: a real request from the simulator, answered and failing as
//! a router's fetch does (MikroTik manual, "Fetch", 2026; texts and limits in
//! `fixtures/README.md`).
//!
//! - `check-certificate` is `no` by default (anything is accepted); `yes` and `yes-without-crl`
//!   trust only the router's certificate store ([`Certificates`]), which a test fills as
//!   `/certificate import` would (`Simulator::trust_ca`).
//! - `output=user` returns at most 64,512 bytes in `data`, cut silently; `output=file` (the
//!   default) writes `dst-path` (or the URL's last segment) into `/file`; `output=none` keeps
//!   nothing.
//! - `idle-timeout` (default 10 s) bounds connecting and every wait for data; `duration` the whole
//!   transfer. These are real time: the request is a real socket's.
//! - Basic credentials are sent with the first request; `User-Agent: RouterOS <version>`.

use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct};

use crate::model::args::Args;
use crate::model::failure::Failure;
use crate::model::row::Row;
use crate::model::scripting::{Certificates, FILE_SIZE_LIMIT, Files};
use crate::model::version::Version;
use crate::script::{Array, Value};
use crate::shared::Shared;

/// The most `output=user` returns: "at most 64512 bytes (63 KiB)", a longer body is cut without
/// an error (MikroTik manual, Fetch).
pub const USER_OUTPUT_LIMIT: usize = 64_512;

/// The default `idle-timeout` (MikroTik manual, Fetch).
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest `idle-timeout` or `duration` the simulator waits: a bound of its own, so that no
/// fetch can hold a script past the REST session limit by much.
pub const MAX_WAIT: Duration = Duration::from_secs(120);

/// A finished fetch.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// Bytes received.
    pub downloaded: usize,
    /// The body's announced length, or what was received.
    pub total: usize,
    /// How long it took.
    pub duration: Duration,
    /// The body, for `output=user`.
    pub data: Option<String>,
}

fn kib(bytes: usize) -> usize {
    // Sizes are KiB rounded down, at least 1 once data arrived (MikroTik manual, Fetch).
    match bytes {
        0 => 0,
        b => (b / 1024).max(1),
    }
}

impl Fetched {
    /// The row `POST /rest/tool/fetch` answers with: the last progress section
    /// (`{".section":...,"status":"finished",...}` [likely: by analogy with other commands that
    /// report progress; a fetch reply was not captured]).
    pub fn rest_row(&self) -> Row<'static> {
        let mut row = Row::with_capacity(6);
        row.push(".section", "0");
        row.push_opt("data", self.data.clone());
        row.push("downloaded", kib(self.downloaded).to_string());
        row.push(
            "duration",
            crate::model::duration::format_ms(self.duration.as_millis() as u64),
        );
        row.push("status", "finished");
        row.push("total", kib(self.total).to_string());
        row
    }

    /// What a script gets: with `as-value`, an array `{data=...; downloaded=N; duration=...;
    /// status=finished; total=N}` (eworm-de/routeros-scripts reads `->"data"` and `->"status"`);
    /// without it nothing.
    pub fn script_value(&self, args: &Args) -> Value {
        if args.get("as-value").is_none() {
            return Value::Nothing;
        }
        let mut a = Array::new();
        if let Some(d) = &self.data {
            a.insert("data".into(), Value::str(d.clone()));
        }
        a.insert("downloaded".into(), Value::Num(kib(self.downloaded) as i64));
        a.insert(
            "duration".into(),
            Value::from_word(&crate::model::duration::format_ms(
                self.duration.as_millis() as u64,
            )),
        );
        a.insert("status".into(), Value::str("finished"));
        a.insert("total".into(), Value::Num(kib(self.total) as i64));
        Value::Array(a)
    }
}

fn failure(text: impl Into<String>) -> Failure {
    Failure::bad_request(text.into())
}

fn wait_arg(args: &Args, key: &str) -> Result<Option<Duration>, Failure> {
    match args.get(key) {
        None => Ok(None),
        Some("none") => Ok(Some(MAX_WAIT)),
        Some(t) => crate::model::duration::parse_ms(t)
            .map(|ms| Some(Duration::from_millis(ms).min(MAX_WAIT)))
            .ok_or_else(|| failure(format!("invalid time value for argument {key}"))),
    }
}

/// Makes the request `args` describe.
pub async fn fetch(
    shared: &Arc<Shared>,
    args: &Args,
    version: &Version,
) -> Result<Fetched, Failure> {
    let url = args.get("url").ok_or_else(|| Failure::missing("url"))?;
    let parsed = reqwest::Url::parse(url).map_err(|_| Failure::invalid_value("url"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        // FTP, SFTP and TFTP are not simulated.
        return Err(failure(format!(
            "failure: {} is not supported by the simulator",
            parsed.scheme()
        )));
    }
    let check = match args.get("check-certificate").unwrap_or("no") {
        "no" => false,
        "yes" | "yes-without-crl" => true,
        _ => {
            return Err(failure(
                "input does not match any value of check-certificate",
            ));
        }
    };
    let output = args.get("output").unwrap_or("file");
    if !matches!(output, "user" | "file" | "none" | "user-with-headers") {
        return Err(failure("input does not match any value of output"));
    }
    let idle = wait_arg(args, "idle-timeout")?.unwrap_or(DEFAULT_IDLE_TIMEOUT);
    let total_limit = wait_arg(args, "duration")?;
    let method = args
        .get("http-method")
        .unwrap_or("get")
        .to_ascii_uppercase();
    let method = reqwest::Method::from_bytes(method.as_bytes())
        .map_err(|_| failure("input does not match any value of http-method"))?;
    let trusted = shared
        .router()
        .state_ref::<Certificates>()
        .map(Certificates::trusted_ders)
        .unwrap_or_default();
    let tls = tls_config(check, &trusted)?;
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .connect_timeout(idle)
        .read_timeout(idle)
        // Redirects are followed up to `http-max-redirect-count`, default 2 (MikroTik manual).
        .redirect(reqwest::redirect::Policy::limited(2))
        .user_agent(format!(
            "RouterOS {}.{}.{}",
            version.numbers.0, version.numbers.1, version.numbers.2
        ))
        .no_proxy()
        .build()
        .map_err(|e| failure(format!("failure: {e}")))?;
    let mut req = client.request(method, parsed.clone());
    if let Some(user) = args.get("user") {
        req = req.basic_auth(user, args.get("password"));
    }
    let mut has_type = false;
    if let Some(fields) = args.get("http-header-field") {
        for field in fields.split(',').filter(|f| !f.is_empty()) {
            let (k, v) = field
                .split_once(':')
                .ok_or_else(|| Failure::invalid_value("http-header-field"))?;
            has_type |= k.trim().eq_ignore_ascii_case("content-type");
            req = req.header(k.trim(), v.trim());
        }
    }
    if let Some(data) = args.get("http-data") {
        // Without a Content-Type the body goes as a form (MikroTik manual, Fetch).
        if !has_type {
            req = req.header("content-type", "application/x-www-form-urlencoded");
        }
        req = req.body(data.to_owned());
    }
    let started = tokio::time::Instant::now();
    let transfer = async {
        let mut resp = req.send().await.map_err(|e| classify(&e))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(failure(format!(
                "failure: Status {}, {}",
                status.as_u16(),
                status.canonical_reason().unwrap_or("")
            )));
        }
        let announced = resp.content_length().map(|n| n as usize);
        let keep = match output {
            "user" => USER_OUTPUT_LIMIT,
            // `user-with-headers` keeps at most 20,480 bytes (MikroTik manual, Fetch).
            "user-with-headers" => 20_480,
            _ => FILE_SIZE_LIMIT,
        };
        let mut body = Vec::new();
        let mut downloaded = 0usize;
        while let Some(chunk) = resp.chunk().await.map_err(|e| classify(&e))? {
            downloaded += chunk.len();
            let room = keep.saturating_sub(body.len());
            body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if output.starts_with("user") && body.len() >= keep {
                break;
            }
            if downloaded > FILE_SIZE_LIMIT {
                return Err(failure("failure: not enough space"));
            }
        }
        Ok::<_, Failure>((body, downloaded, announced))
    };
    let (body, downloaded, announced) = match total_limit {
        Some(limit) => tokio::time::timeout(limit, transfer)
            .await
            .map_err(|_| failure("failure: timeout waiting data"))??,
        None => transfer.await?,
    };
    let duration = started.elapsed();
    let mut fetched = Fetched {
        downloaded,
        total: announced.unwrap_or(downloaded),
        duration,
        data: None,
    };
    match output {
        "user" | "user-with-headers" => {
            fetched.data = Some(String::from_utf8_lossy(&body).into_owned());
        }
        "file" => {
            let name = match args.get("dst-path") {
                Some(p) if !p.is_empty() => p.trim_start_matches('/').to_owned(),
                _ => parsed
                    .path_segments()
                    .and_then(|mut s| s.next_back().map(str::to_owned))
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| "fetch-result".into()),
            };
            let now = shared.clock.now();
            let wall = shared.clock.wall_ms(now).div_euclid(1000);
            shared.router().state::<Files>().write(&name, body, wall)?;
        }
        _ => {}
    }
    Ok(fetched)
}

/// The router's text for a failed request: refused, timed out, certificate or TLS failures
/// (`fixtures/README.md`, "Fetch errors").
fn classify(e: &reqwest::Error) -> Failure {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut io_kind = None;
    while let Some(s) = source {
        if let Some(tls) = s.downcast_ref::<rustls::Error>() {
            return failure(tls_text(tls));
        }
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            if let Some(tls) = io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
                return failure(tls_text(tls));
            }
            io_kind.get_or_insert(io.kind());
        }
        source = s.source();
    }
    // Some layers carry the TLS failure only as text.
    let chain = format!("{e:?}");
    if chain.contains("UnknownIssuer") || chain.contains("BadSignature") {
        return failure(tls_text(&rustls::Error::InvalidCertificate(
            CertificateError::UnknownIssuer,
        )));
    }
    if chain.contains("InvalidCertificate") || chain.contains("Expired") {
        return failure(tls_text(&rustls::Error::InvalidCertificate(
            CertificateError::Expired,
        )));
    }
    if e.is_timeout() {
        // `failure: Idle timeout - connecting` [likely text; the behaviour is real: a stalled
        // server fails the fetch after `idle-timeout`].
        return failure("failure: Idle timeout - connecting");
    }
    match io_kind {
        Some(std::io::ErrorKind::ConnectionRefused) => failure("failure: Connection refused"),
        Some(std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::UnexpectedEof) => {
            failure("failure: connection closed")
        }
        _ if e.is_connect() => {
            let text = format!("{e:?}");
            if text.contains("dns") || text.contains("resolve") {
                // `:resolve`'s text for an unknown name (MikroTik manual, Scripting).
                failure("failure: dns name does not exist")
            } else {
                failure("failure: Connection refused")
            }
        }
        _ => failure("failure: connection closed"),
    }
}

/// A certificate or handshake failure in the router's words: an unknown CA is
/// `failure: SSL: ssl: no trusted CA certificate found (6)` (the text operators see, 7.18 and
/// 7.23 reports); an expired or wrong-name certificate `failure: SSL: ssl: cert not valid (6)`
/// (shortened: the router adds the dates and subject, M1).
fn tls_text(e: &rustls::Error) -> String {
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            CertificateError::UnknownIssuer | CertificateError::BadSignature => {
                "failure: SSL: ssl: no trusted CA certificate found (6)".into()
            }
            _ => "failure: SSL: ssl: cert not valid (6)".into(),
        },
        rustls::Error::AlertReceived(_) => "failure: SSL: ssl: handshake failed (6)".into(),
        other => format!("failure: SSL: ssl: {other} (6)"),
    }
}

/// The client's TLS: the store's CAs when checking, anything otherwise (`check-certificate=no`
/// "accepts expired/self-signed", MikroTik manual).
fn tls_config(check: bool, trusted: &[Vec<u8>]) -> Result<rustls::ClientConfig, Failure> {
    let provider = crate::tls::provider();
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Failure::internal(format!("TLS set-up: {e}")))?;
    Ok(match check {
        true => {
            let mut roots = rustls::RootCertStore::empty();
            for der in trusted {
                let _ = roots.add(CertificateDer::from(der.clone()));
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        false => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAny(provider)))
            .with_no_client_auth(),
    })
}

/// `check-certificate=no`: any certificate, but still a real handshake with valid signatures.
#[derive(Debug)]
struct AcceptAny(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Adds the certificates of a PEM text to the store, as `/certificate import` of a PEM file
/// does; returns how many (`certificates-imported`).
pub fn import_pem(store: &mut Certificates, pem: &str) -> Result<usize, String> {
    store
        .import_pem(pem.as_bytes(), "trusted-ca.pem", None, true)
        .map(|i| i.certificates)
        .map_err(|e| e.to_string())
}
