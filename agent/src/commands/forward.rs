//! `grant`, `revoke` and `sync` while the daemon runs: sent to its control API, with its token.
//!
//! The daemon holds the grant store for its whole life, so a command that finds it there cannot
//! change the store itself (the daemon would write its own copy over the change). Instead the command
//! sends the same request to the daemon's control API, whose address the daemon wrote into the lock
//! file, with the bearer token from `ROUTEROS_AGENT_TOKEN` or the token file (`<state>.token` by
//! default), and shows the daemon's answer. The control API speaks plain HTTP on loopback only.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{Value, json};

use crate::config::Config;
use crate::daemon::token;

use super::exit;
use super::output::{Failure, Render};

/// What the daemon answered to a forwarded command.
#[derive(Debug, Clone)]
pub struct Forwarded {
    /// The control API's address, `127.0.0.1:7878`.
    pub control: String,
    /// The HTTP status of the answer.
    pub http_status: u16,
    /// The answer.
    pub body: Value,
}

impl Render for Forwarded {
    fn text(&self) -> String {
        let b = &self.body;
        let mut text = String::new();
        if let Some(e) = b.get("error").filter(|e| e.is_object()) {
            let message = e["message"]
                .as_str()
                .unwrap_or("the daemon refused the request");
            let _ = writeln!(text, "{message}");
            return text;
        }
        let _ = writeln!(
            text,
            "sent to the running daemon at http://{}",
            self.control
        );
        if let Some(g) = b.get("grant") {
            let _ = writeln!(
                text,
                "granted {} to {} until {} ({} left)",
                g["address"].as_str().unwrap_or("?"),
                g["user"].as_str().unwrap_or("?").escape_debug(),
                g["expires"].as_str().unwrap_or("?"),
                g["remaining"].as_str().unwrap_or("?"),
            );
        }
        if let Some(revoked) = b.get("revoked").and_then(Value::as_bool) {
            let _ = writeln!(
                text,
                "{}",
                if revoked {
                    "revoked"
                } else {
                    "there was no such grant"
                }
            );
        }
        let report = &b["report"];
        for (key, word) in [
            ("added", "added"),
            ("refreshed", "refreshed"),
            ("removed", "removed"),
        ] {
            for a in report[key].as_array().into_iter().flatten() {
                let _ = writeln!(text, "{word} {}", a.as_str().unwrap_or("?"));
            }
        }
        for e in report["errors"].as_array().into_iter().flatten() {
            let _ = writeln!(text, "{}", e["message"].as_str().unwrap_or("?"));
        }
        text
    }

    fn json(&self) -> Value {
        let mut doc = self.body.clone();
        if let Some(o) = doc.as_object_mut() {
            o.insert("daemon".into(), json!(format!("http://{}", self.control)));
        }
        doc
    }

    fn status(&self) -> u8 {
        let kind = self.body["error"]["kind"].as_str();
        match (self.http_status, kind) {
            (200, _) if self.body["ok"] == json!(true) => exit::OK,
            (200, _) => exit::FAILED,
            (_, Some("request" | "unauthorized" | "host")) => exit::CONFIG,
            (_, Some("store")) => exit::STORE,
            _ => exit::FAILED,
        }
    }
}

/// Sends `body` to `path` of the daemon at `control` with the configured token.
pub async fn forward(
    config: &Config,
    control: &str,
    path: &str,
    body: Value,
) -> Result<Forwarded, Failure> {
    let token = token::for_client(config).map_err(|e| {
        Failure::config(format!(
            "the running daemon holds the grant store, and its control API needs its token: {e}; \
             set ROUTEROS_AGENT_TOKEN or --control-token-file"
        ))
    })?;
    let http = reqwest::Client::builder()
        .tls_backend_preconfigured(crate::net::no_trust_config())
        .no_proxy()
        // A forwarded grant waits for the daemon's router call, with its retries.
        .timeout(config.request_timeout.saturating_mul(5) + Duration::from_secs(10))
        .build()
        .map_err(|e| Failure::config(format!("HTTP client set-up: {e}")))?;
    let url = format!("http://{control}{path}");
    let resp = http
        .post(&url)
        .bearer_auth(token.expose())
        .json(&body)
        .send()
        .await
        .map_err(|e| {
            Failure::config(format!(
                "the running daemon holds the grant store, but its control API at {url} did not \
                 answer: {e}"
            ))
        })?;
    let http_status = resp.status().as_u16();
    let body: Value = resp.json().await.map_err(|e| {
        Failure::config(format!(
            "the daemon's control API at {url} answered HTTP {http_status} without JSON: {e}"
        ))
    })?;
    Ok(Forwarded {
        control: control.to_owned(),
        http_status,
        body,
    })
}
