//! `routeros-agent validate`: checks the connection layer by layer, stopping at the first failure.
//!
//! The steps are a closed list ([`Check`]) run in order: TCP, TLS, authentication (which reads
//! `/system/resource`), the RouterOS version, reading both lists, and with `--write-check` adding and
//! removing a probe entry (`probe.rs`). Steps after a failure are shown as skipped.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::address::Family;
use crate::config::{Config, TlsMode};
use crate::error::{Code, Error};
use crate::net::RouterClient;
use crate::plan::Row;
use crate::wire::Resource;

use super::exit;
use super::output::Render;
use super::probe::write_probe;

/// One step of `validate`, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Check {
    /// A bare TCP connect to the router's port.
    #[serde(rename = "tcp")]
    Tcp,
    /// A TLS handshake with the configured verification.
    #[serde(rename = "tls")]
    Tls,
    /// `GET /rest/system/resource` with the credentials.
    #[serde(rename = "authentication")]
    Authentication,
    /// RouterOS 7.1 or newer.
    #[serde(rename = "version")]
    Version,
    /// Reading the IPv4 list.
    #[serde(rename = "read list")]
    ReadList,
    /// Reading the IPv6 list.
    #[serde(rename = "read list6")]
    ReadList6,
    /// Adding and removing a probe entry (`--write-check`).
    #[serde(rename = "write check")]
    WriteCheck,
}

impl Check {
    /// The steps without the write check.
    pub const READ_ONLY: [Check; 6] = [
        Check::Tcp,
        Check::Tls,
        Check::Authentication,
        Check::Version,
        Check::ReadList,
        Check::ReadList6,
    ];

    /// The step's short name, as shown and as `step` in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Check::Tcp => "tcp",
            Check::Tls => "tls",
            Check::Authentication => "authentication",
            Check::Version => "version",
            Check::ReadList => "read list",
            Check::ReadList6 => "read list6",
            Check::WriteCheck => "write check",
        }
    }
}

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StepResult {
    /// It passed.
    Ok,
    /// It failed; the steps after it are skipped.
    Failed,
    /// It did not run, because an earlier step failed.
    Skipped,
}

/// One step of `validate` as reported.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Step {
    /// Which step.
    pub step: Check,
    /// How it ended.
    pub result: StepResult,
    /// What was found.
    pub detail: String,
    /// The error, when it failed.
    pub error: Option<Value>,
}

/// What `validate` found: every step, and the failure that stopped it.
#[derive(Debug, Clone)]
pub struct Validation {
    /// The steps in order.
    pub steps: Vec<Step>,
    /// The first failure, if any.
    pub failure: Option<Error>,
}

impl Render for Validation {
    fn text(&self) -> String {
        let mut text = String::new();
        for s in &self.steps {
            let mark = match s.result {
                StepResult::Ok => "ok  ",
                StepResult::Failed => "FAIL",
                StepResult::Skipped => "skip",
            };
            let _ = writeln!(text, "{mark} {:<15} {}", s.step.name(), s.detail);
        }
        let _ = writeln!(
            text,
            "{}",
            if self.failure.is_none() {
                "validation passed"
            } else {
                "validation failed"
            }
        );
        text
    }

    fn json(&self) -> Value {
        json!({
            "ok": self.failure.is_none(),
            "steps": self.steps,
            "error": self.failure.as_ref().map(Error::to_json),
        })
    }

    fn status(&self) -> u8 {
        if self.failure.is_none() {
            exit::OK
        } else {
            exit::FAILED
        }
    }
}

/// Checks the connection step by step; stops at the first failure.
pub async fn validate(config: &Config, client: &RouterClient, write_check: bool) -> Validation {
    let checks = Check::READ_ONLY
        .into_iter()
        .chain(write_check.then_some(Check::WriteCheck));
    let mut done = Validation {
        steps: Vec::new(),
        failure: None,
    };
    // What the authentication step read, for the version step.
    let mut resource = None;
    for check in checks {
        if done.failure.is_some() {
            done.steps.push(Step {
                step: check,
                result: StepResult::Skipped,
                detail: String::new(),
                error: None,
            });
            continue;
        }
        match run(check, config, client, &mut resource).await {
            Ok(detail) => done.steps.push(Step {
                step: check,
                result: StepResult::Ok,
                detail,
                error: None,
            }),
            Err(e) => {
                done.steps.push(Step {
                    step: check,
                    result: StepResult::Failed,
                    detail: e.to_string(),
                    error: Some(e.to_json()),
                });
                done.failure = Some(e);
            }
        }
    }
    done
}

/// Runs one step; `resource` is what the authentication step read.
async fn run(
    check: Check,
    config: &Config,
    client: &RouterClient,
    resource: &mut Option<Resource>,
) -> Result<String, Error> {
    match check {
        Check::Tcp => client
            .probe_tcp()
            .await
            .map(|peer| format!("connected to {peer}")),
        Check::Tls => client.probe_tls().await.map(|fp| match fp {
            Some(fp) if config.tls == TlsMode::Insecure => {
                format!("certificate NOT verified (--insecure); its SHA-256 is {fp}")
            }
            Some(fp) => format!("certificate verified; its SHA-256 is {fp}"),
            None if config.url.is_loopback() => {
                "plain HTTP to this machine: no TLS (use https:// for a real router)".into()
            }
            None => "plain HTTP, no TLS: the router password travels IN CLEAR on the network \
                     (allowed by --allow-plain-http); use https://"
                .into(),
        }),
        Check::Authentication => client.resource().await.map(|r| {
            let text = format!("logged in as `{}`; RouterOS {}", config.username, r.version);
            *resource = Some(r);
            text
        }),
        Check::Version => {
            let r = resource.as_ref().expect("authentication step passed");
            if r.major_minor >= (7, 1) {
                Ok(format!("{} is 7.1 or newer", r.version))
            } else {
                Err(Error::new(
                    Code::UnsupportedVersion,
                    format!("the router runs RouterOS {}", r.version),
                ))
            }
        }
        Check::ReadList => client
            .rows(Family::V4, &config.list_v4)
            .await
            .map(|rows| read_detail(&config.list_v4, &rows, &config.tag)),
        Check::ReadList6 => client
            .rows(Family::V6, &config.list_v6)
            .await
            .map(|rows| read_detail(&config.list_v6, &rows, &config.tag)),
        Check::WriteCheck => write_probe(config, client).await,
    }
}

fn read_detail(list: &str, rows: &[Row], tag: &str) -> String {
    let owned = rows.iter().filter(|r| r.is_owned(tag)).count();
    format!(
        "list `{list}` has {}, {owned} owned by this agent",
        super::grants::plural(rows.len(), "entry", "entries")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_render_as_before() {
        let failure = Error::new(
            Code::AuthenticationFailed,
            "GET /rest/system/resource: HTTP 401",
        );
        let v = Validation {
            steps: vec![
                Step {
                    step: Check::Tcp,
                    result: StepResult::Ok,
                    detail: "connected to 127.0.0.1:1".into(),
                    error: None,
                },
                Step {
                    step: Check::ReadList6,
                    result: StepResult::Skipped,
                    detail: String::new(),
                    error: None,
                },
            ],
            failure: Some(failure),
        };
        assert_eq!(
            v.text(),
            "ok   tcp             connected to 127.0.0.1:1\nskip read list6      \nvalidation failed\n"
        );
        let j = v.json();
        assert_eq!(j["steps"][1]["step"], "read list6");
        assert_eq!(j["steps"][1]["result"], "skipped");
        assert_eq!(j["ok"], false);
        assert_eq!(j["error"]["code"], 208001);
        assert_eq!(v.status(), exit::FAILED);
        let names: Vec<&str> = Check::READ_ONLY.iter().map(|c| c.name()).collect();
        assert_eq!(
            names,
            [
                "tcp",
                "tls",
                "authentication",
                "version",
                "read list",
                "read list6"
            ]
        );
        assert_eq!(
            serde_json::to_value(Check::WriteCheck).unwrap(),
            "write check"
        );
    }
}
