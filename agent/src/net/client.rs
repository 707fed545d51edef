//! The HTTP side of [`RouterClient`]: one reqwest client per router and user, each request sent with
//! retries of transient failures, read in full, shown to the observer and handed to `classify`.
//!
//! Each request goes through [`RouterClient::send`], which gathers the facts of the outcome (a
//! complete reply, or the transport error) and lets `classify` decide what they mean; this file
//! decides no code. An optional [`Observer`] (given with [`RouterClient::with_observer`]) is shown
//! every attempt as an [`Exchange`], without credentials; the conformance suite records the agent's
//! traffic with it.

use std::sync::Arc;
use std::time::Duration;

use crate::classify::{self, Operation, Reply, Verdict, transport};
use crate::config::{Config, ConfigError, RouterUrl, Secret};
use crate::error::{Error, Result};

use super::retry::RetryPolicy;
use super::tls::tls_config;

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

/// The largest response body the agent reads: 256 MiB. A print of 100,000 address-list entries is
/// about 15-20 MB, so this leaves room for lists far larger than any router holds, while a server
/// that sends an endless body (a broken proxy, a hostile host) stops at a bounded cost. Over it is
/// 208400, naming the limit.
pub const MAX_BODY: usize = 256 * 1024 * 1024;

/// Shown every attempt of every request, after its reply or its transport failure.
pub type Observer = Arc<dyn Fn(&Exchange) + Send + Sync>;

/// A REST client bound to one router and user.
#[derive(Clone)]
pub struct RouterClient {
    http: reqwest::Client,
    /// The router's URL as configured, for the probes' own connections.
    pub(super) url: RouterUrl,
    /// `<url>/rest`, which every request path is appended to.
    base: String,
    username: String,
    password: Secret,
    retry: RetryPolicy,
    /// The TLS settings, for `https://` URLs only.
    pub(super) tls: Option<Arc<rustls::ClientConfig>>,
    pub(super) connect_timeout: Duration,
    observer: Option<Observer>,
    /// The largest body read ([`MAX_BODY`] unless changed for a test).
    max_body: usize,
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

/// A failed attempt, and whether another attempt may do better (decided by `classify`).
struct Attempt {
    error: Error,
    retry: bool,
}

impl Attempt {
    /// A transport failure: retried when its code is transient.
    fn of(error: Error) -> Attempt {
        Attempt {
            retry: error.code.is_transient(),
            error,
        }
    }
}

impl RouterClient {
    /// A client for the configured router. Fails on local problems (an unreadable CA file) and
    /// when no router is configured (passive mode without a URL).
    pub fn new(config: &Config) -> Result<RouterClient, ConfigError> {
        let router = config.router()?;
        let tls = Arc::new(tls_config(&router.tls)?);
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured((*tls).clone())
            .http1_only()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .pool_max_idle_per_host(config.concurrency.max(1))
            .build()
            .map_err(|e| ConfigError(format!("HTTP client set-up: {e}")))?;
        Ok(RouterClient {
            http,
            url: router.url.clone(),
            base: format!("{}/rest", router.url),
            username: router.username.clone(),
            password: router.password.clone(),
            retry: RetryPolicy::default(),
            tls: router.url.is_https().then_some(tls),
            connect_timeout: config.connect_timeout,
            observer: None,
            max_body: MAX_BODY,
        })
    }

    /// The router's URL.
    pub fn url(&self) -> &RouterUrl {
        &self.url
    }

    /// The user name the client logs in as.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The same client reading bodies of at most `bytes` (the default is [`MAX_BODY`]).
    pub fn with_body_limit(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// The same client with another retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The same client showing every attempt to `observer` (a program embedding the agent sets it;
    /// the conformance suite's `--record` does). `None` shows nothing.
    pub fn with_observer(mut self, observer: Option<Observer>) -> Self {
        self.observer = observer;
        self
    }

    /// One request with retries of transient failures; returns the verdict and the body.
    pub(super) async fn send(
        &self,
        op: Operation,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<(Verdict, Vec<u8>)> {
        let mut attempt = 1;
        let started = tokio::time::Instant::now();
        loop {
            match self.send_once(op, method.clone(), path, body).await {
                Err(f) if f.retry && attempt < self.retry.attempts => {
                    let pause = self.retry.pause(attempt);
                    tracing::debug!(error = %f.error, ?pause, attempt, "transient failure; retrying");
                    tokio::time::sleep(pause).await;
                    attempt += 1;
                }
                // After retries, say how many attempts over how long: a failure that took a minute
                // to report otherwise looks like a hang.
                Err(mut f) if attempt > 1 => {
                    f.error.context.push_str(&format!(
                        " (gave up after {attempt} attempts over {})",
                        crate::duration::format(Duration::from_millis(
                            u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
                        ))
                    ));
                    return Err(f.error);
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
            .map_err(|e| (None, transport::request_error(what, &e)))?;
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let too_large = || {
            (
                Some(status),
                classify::body_too_large(what, status, self.max_body),
            )
        };
        if resp
            .content_length()
            .is_some_and(|n| n > self.max_body as u64)
        {
            return Err(too_large());
        }
        // Read chunk by chunk so that an endless body stops at the limit, not at the memory's end.
        let mut bytes = Vec::new();
        let mut resp = resp;
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    if bytes.len() + chunk.len() > self.max_body {
                        return Err(too_large());
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => return Err((Some(status), transport::request_error(what, &e))),
            }
        }
        Ok((status, content_type, bytes))
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
            // Passive mode's scripts hold the feed key, in the request that writes them and in the
            // reply that reads them back: those bodies are never shown.
            let withheld = op == Operation::Passive;
            let (status, response_body, error) = match &outcome {
                Ok((status, _, _)) if withheld => (Some(*status), None, None),
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
                request_body: body.filter(|_| !withheld).map(serde_json::Value::to_string),
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
        match classify::judge(op, &reply) {
            Ok(verdict) => Ok((verdict, bytes)),
            // Complete by HTTP's framing, yet its JSON stops early: something on the way cut it
            // (a proxy, a router under memory pressure); the next attempt may get all of it.
            Err(r) if r.cut_short => Err(Attempt {
                error: Error::new(
                    r.code,
                    format!(
                        "{what}: HTTP {status}: the JSON body ends after {} bytes, before its value is complete",
                        bytes.len()
                    ),
                ),
                retry: r.retry,
            }),
            Err(r) => {
                let detail = classify::router_detail(&bytes)
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default();
                Err(Attempt {
                    error: Error::new(r.code, format!("{what}: HTTP {status}{detail}")),
                    retry: r.retry,
                })
            }
        }
    }
}
