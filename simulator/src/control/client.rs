//! [`ControlClient`]: the typed client of a running simulator's control API.
//!
//! It sends and reads the bodies of [`super::types`] and the simulator's own state, journal, fault
//! and limit types, so it speaks exactly what the server answers. It is reqwest with the workspace's
//! one rustls provider, `ring`, passed explicitly; the bearer token, when there is one, is sent on
//! every call and never shown. Failures say what to do: start the simulator or set `--control`, set
//! the token, or point `--control` at the control API rather than the router's services.

use std::fmt;
use std::time::Duration;

use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::local::Refusal;
use super::types::{
    Advance, ClockReading, ErrorBody, FaultAdded, FaultRemoved, FaultsCleared, Health,
    JournalCleared, Loaded, Mark, Reboot, Rebooted, Reset, Restored, Rotated, RuleStatus, TlsInfo,
    VerdictReply, VerdictRequest,
};
use super::{Control, ControlError, ControlFuture};
use crate::faults::FaultRule;
use crate::journal::{JournalFilter, JournalPage};
use crate::seed::{Seed, Snapshot};
use crate::shared::Limits;

/// How long one control call may take; the control API answers at once, so this only bounds a
/// simulator that stopped answering.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A client of a running simulator's control API.
#[derive(Clone)]
pub struct ControlClient {
    http: reqwest::Client,
    /// The control API's URL without a trailing `/`.
    base: String,
    token: Option<String>,
    timeout: Duration,
}

impl fmt::Debug for ControlClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ControlClient")
            .field("base", &self.base)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl ControlClient {
    /// A client of the control API at `url` (such as `http://127.0.0.1:7090`), sending `token` as
    /// `Authorization: Bearer` when the simulator was started with `--control-token`.
    pub fn new(url: &str, token: Option<String>) -> Result<ControlClient, ControlError> {
        let base = url.trim_end_matches('/').to_owned();
        let parsed = reqwest::Url::parse(&base).map_err(|e| ControlError::Url {
            url: url.to_owned(),
            reason: e.to_string(),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(ControlError::Url {
                url: url.to_owned(),
                reason: format!("the scheme is `{}`, not http", parsed.scheme()),
            });
        }
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(client_tls()?)
            .build()
            .map_err(|e| ControlError::Client(e.to_string()))?;
        Ok(ControlClient {
            http,
            base,
            token: token.filter(|t| !t.is_empty()),
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// The same client with another bound on each call.
    pub fn with_timeout(mut self, timeout: Duration) -> ControlClient {
        self.timeout = timeout;
        self
    }

    /// The control API's URL.
    pub fn url(&self) -> &str {
        &self.base
    }

    /// One call: `method path`, with a JSON body and a query when given, read as `R`.
    async fn call<B: Serialize + Sync + ?Sized, R: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: Option<&JournalFilter>,
        body: Option<&B>,
    ) -> Result<R, ControlError> {
        let what = format!("{method} {path}");
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .timeout(self.timeout);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(q) = query {
            req = req.query(q);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.map_err(|e| self.unreachable(&e))?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| self.unreachable(&e))?;
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|e| self.reply(&what, e.to_string()));
        }
        let message = match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(b) => b.error,
            Err(_) => {
                return Err(self.reply(&what, format!("HTTP {status} without an explanation")));
            }
        };
        if status == reqwest::StatusCode::UNAUTHORIZED {
            return Err(ControlError::Unauthorized {
                url: self.base.clone(),
                message,
            });
        }
        Err(ControlError::Refused(Refusal {
            status: status.as_u16(),
            message,
        }))
    }

    /// A transport failure. reqwest's own message does not say why ("error sending request"), so
    /// the innermost cause ("Connection refused") is added.
    fn unreachable(&self, e: &reqwest::Error) -> ControlError {
        let root = std::iter::successors(Some(e as &dyn std::error::Error), |e| e.source())
            .last()
            .map(ToString::to_string)
            .filter(|r| *r != e.to_string());
        ControlError::Unreachable {
            url: self.base.clone(),
            reason: match root {
                Some(root) => format!("{e}: {root}"),
                None => e.to_string(),
            },
        }
    }

    fn reply(&self, what: &str, reason: String) -> ControlError {
        ControlError::Reply {
            url: self.base.clone(),
            what: what.to_owned(),
            reason,
        }
    }

    async fn get<R: DeserializeOwned>(&self, path: &str) -> Result<R, ControlError> {
        self.bare(Method::GET, path).await
    }

    /// A call without a body.
    async fn bare<R: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
    ) -> Result<R, ControlError> {
        self.call::<(), R>(method, path, None, None).await
    }

    /// A call with a JSON body.
    async fn send<B: Serialize + Sync, R: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: &B,
    ) -> Result<R, ControlError> {
        self.call(method, path, None, Some(body)).await
    }
}

impl Control for ControlClient {
    fn health(&self) -> ControlFuture<'_, Health> {
        Box::pin(self.get("/health"))
    }
    fn snapshot(&self) -> ControlFuture<'_, Snapshot> {
        Box::pin(self.get("/state"))
    }
    fn restore<'a>(&'a self, snapshot: &'a Snapshot) -> ControlFuture<'a, Restored> {
        Box::pin(self.send(Method::PUT, "/state", snapshot))
    }
    fn reset(&self) -> ControlFuture<'_, Reset> {
        Box::pin(self.bare(Method::POST, "/state/reset"))
    }
    fn seed(&self) -> ControlFuture<'_, Seed> {
        Box::pin(self.get("/seed"))
    }
    fn load_seed(&self, seed: Seed) -> ControlFuture<'_, Loaded> {
        Box::pin(async move { self.send(Method::PUT, "/seed", &seed).await })
    }
    fn clock(&self) -> ControlFuture<'_, ClockReading> {
        Box::pin(self.get("/clock"))
    }
    fn freeze_clock(&self) -> ControlFuture<'_, ClockReading> {
        Box::pin(self.bare(Method::POST, "/clock/freeze"))
    }
    fn resume_clock(&self) -> ControlFuture<'_, ClockReading> {
        Box::pin(self.bare(Method::POST, "/clock/resume"))
    }
    fn advance_clock(&self, by: Duration) -> ControlFuture<'_, ClockReading> {
        let body = Advance { by: by.into() };
        Box::pin(async move { self.send(Method::POST, "/clock/advance", &body).await })
    }
    fn reboot(&self, downtime: Duration) -> ControlFuture<'_, Rebooted> {
        let body = Reboot {
            downtime: Some(downtime.into()),
        };
        Box::pin(async move { self.send(Method::POST, "/reboot", &body).await })
    }
    fn journal<'a>(&'a self, filter: &'a JournalFilter) -> ControlFuture<'a, JournalPage> {
        Box::pin(self.call::<(), _>(Method::GET, "/journal", Some(filter), None))
    }
    fn journal_mark(&self) -> ControlFuture<'_, Mark> {
        Box::pin(self.bare(Method::POST, "/journal/mark"))
    }
    fn clear_journal(&self) -> ControlFuture<'_, JournalCleared> {
        Box::pin(self.bare(Method::DELETE, "/journal"))
    }
    fn faults(&self) -> ControlFuture<'_, Vec<RuleStatus>> {
        Box::pin(self.get("/faults"))
    }
    fn add_fault(&self, rule: FaultRule) -> ControlFuture<'_, FaultAdded> {
        Box::pin(async move { self.send(Method::POST, "/faults", &rule).await })
    }
    fn remove_fault(&self, id: u64) -> ControlFuture<'_, FaultRemoved> {
        Box::pin(async move { self.bare(Method::DELETE, &format!("/faults/{id}")).await })
    }
    fn clear_faults(&self) -> ControlFuture<'_, FaultsCleared> {
        Box::pin(self.bare(Method::DELETE, "/faults"))
    }
    fn tls(&self) -> ControlFuture<'_, TlsInfo> {
        Box::pin(self.get("/tls"))
    }
    fn rotate_certificate(&self) -> ControlFuture<'_, Rotated> {
        Box::pin(self.bare(Method::POST, "/tls/rotate"))
    }
    fn limits(&self) -> ControlFuture<'_, Limits> {
        Box::pin(self.get("/limits"))
    }
    fn set_limits(&self, limits: Limits) -> ControlFuture<'_, Limits> {
        Box::pin(async move { self.send(Method::PUT, "/limits", &limits).await })
    }
    fn verdict<'a>(&'a self, request: &'a VerdictRequest) -> ControlFuture<'a, VerdictReply> {
        Box::pin(self.send(Method::POST, "/verdict", request))
    }
}

/// The TLS configuration of the client: the workspace's one provider, `ring`, and no trust anchors.
/// The control API speaks plain HTTP, but reqwest is built without a default provider, so even a
/// client that never speaks TLS must be given a configuration.
fn client_tls() -> Result<rustls::ClientConfig, ControlError> {
    Ok(
        rustls::ClientConfig::builder_with_provider(crate::tls::provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| ControlError::Client(e.to_string()))?
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth(),
    )
}
