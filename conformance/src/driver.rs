//! Driving the agent under test the way its binary does, with a clock the suite moves.
//!
//! Every call goes through `agent::commands::run_observed`, the same function the `routeros-agent`
//! binary calls, so the scenarios exercise the agent's real configuration, TLS set-up, retries,
//! classification, grant store on disk and reconcile; only the clock is a `ManualClock` that the
//! suite moves in step with the simulator's clock. With `--record`, the agent's client is given the
//! scenario's recorder as its observer, so its exchanges are saved next to the suite's own (in files
//! marked `agent`). The outcome is kept whole ([`Run`]) and the scenarios judge it by its codes:
//! "that exact code" means the run reported at least one error and every error it reported carries
//! that code.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use agent::clock::{Clock, ManualClock, SystemClock};
use agent::commands::{Command, Output};
use agent::config::{Config, RouterConfig, Secret, TlsMode};
use serde_json::Value;

use crate::Failure;
use crate::rest::Recorder;
use crate::stop::Stop;
use crate::target::{Creds, Ctx};

/// An agent installation: configuration, grant store and clock. Dropping it and opening another
/// on the same store is a restart.
#[derive(Debug, Clone)]
pub struct Agent {
    /// The configuration every command runs with.
    pub config: Config,
    /// The agent's clock.
    pub clock: ManualClock,
    /// With `--record`, the recorder its client shows every exchange to.
    pub recorder: Option<Arc<Recorder>>,
    /// The run's stop switch: each command is one flight (see [`crate::stop`]).
    pub stop: Arc<Stop>,
}

/// The outcome of one command.
#[derive(Debug, Clone)]
pub struct Run {
    /// What was run, for messages.
    pub what: String,
    /// The command's output.
    pub output: Output,
}

impl Run {
    /// Every error code the run reported (errors, then conflicts).
    pub fn codes(&self) -> Vec<u32> {
        let j = &self.output.json;
        let mut out = Vec::new();
        let mut take = |v: &Value| {
            if let Some(c) = v.get("code").and_then(Value::as_u64) {
                out.push(c as u32);
            }
        };
        take(&j["error"]);
        for key in ["errors", "conflict_errors"] {
            if let Some(items) = j["report"][key].as_array() {
                items.iter().for_each(&mut take);
            }
        }
        if let Some(items) = j["conflict_errors"].as_array() {
            items.iter().for_each(&mut take);
        }
        out
    }

    /// Fails unless the run reported errors, all with `code`.
    pub fn expect_code(&self, code: u32) -> Result<&Self, Failure> {
        let codes = self.codes();
        if !codes.is_empty() && codes.iter().all(|c| *c == code) {
            Ok(self)
        } else {
            Err(Failure::new(format!(
                "{}: expected error {code}, got {} (exit status {}):\n{}",
                self.what,
                if codes.is_empty() {
                    "no error".to_owned()
                } else {
                    format!("{codes:?}")
                },
                self.output.status,
                self.output.text.trim_end()
            )))
        }
    }

    /// Fails unless the run succeeded without any error.
    pub fn expect_ok(&self) -> Result<&Self, Failure> {
        if self.output.status == agent::commands::exit::OK && self.codes().is_empty() {
            Ok(self)
        } else {
            Err(Failure::new(format!(
                "{}: expected success, got exit status {} with codes {:?}:\n{}",
                self.what,
                self.output.status,
                self.codes(),
                self.output.text.trim_end()
            )))
        }
    }

    /// The reconcile report's list under `key` (`added`, `refreshed`, `removed`, `vanished`).
    pub fn report(&self, key: &str) -> Vec<String> {
        self.output.json["report"][key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Agent {
    /// An agent for the scenario's target, list and tag, with its grant store in the scenario's
    /// directory and short time limits (a scenario never waits long for a failure). With
    /// `--record`, its exchanges are recorded with the suite's own.
    pub fn new(ctx: &Ctx) -> Agent {
        let now = SystemClock.now();
        Agent {
            config: Config {
                router: Some(RouterConfig {
                    url: ctx.live.url.parse().expect("the target's URL was checked"),
                    username: ctx.live.agent.user.clone(),
                    password: Secret::new(ctx.live.agent.password.clone()),
                    tls: ctx.tls.clone(),
                }),
                list_v4: ctx.list.clone(),
                list_v6: ctx.list.clone(),
                tag: ctx.tag.clone(),
                state: ctx.dir.path().join("grants.json"),
                connect_timeout: Duration::from_secs(3),
                request_timeout: Duration::from_secs(10),
                concurrency: 1,
                write_mode: ctx.write_mode,
                interval: Duration::from_secs(60),
                control: "127.0.0.1:0".parse().expect("valid address"),
                allow_plain_http: false,
                prefix_limits: Default::default(),
                control_token_file: None,
                control_token: None,
                // The suite's lists have no filter rule: `list` skips the check, and only the
                // filter scenarios ask `validate` for it.
                check_rules: false,
                mode: Default::default(),
                feed: Default::default(),
            },
            clock: ManualClock::new(now),
            recorder: ctx.rest.recorder().cloned(),
            stop: ctx.settings.stop.clone(),
        }
    }

    /// The same agent writing in `mode`.
    pub fn with_write_mode(mut self, mode: agent::batch::WriteMode) -> Agent {
        self.config.write_mode = mode;
        self
    }

    /// The router settings, which [`Agent::new`] always gives.
    fn router(&mut self) -> &mut RouterConfig {
        self.config
            .router
            .as_mut()
            .expect("Agent::new names the router")
    }

    /// The same agent with other credentials.
    pub fn with_creds(mut self, creds: &Creds) -> Agent {
        self.router().username = creds.user.clone();
        self.router().password = Secret::new(creds.password.clone());
        self
    }

    /// The same agent with another URL.
    pub fn with_url(mut self, url: &str) -> Agent {
        self.router().url = url.parse().expect("a valid URL");
        self
    }

    /// The same agent with another trust setting.
    pub fn with_tls(mut self, tls: TlsMode) -> Agent {
        self.router().tls = tls;
        self
    }

    /// The same agent with a short request limit (for stalls); the connect limit follows.
    pub fn with_timeouts(mut self, connect: Duration, request: Duration) -> Agent {
        self.config.connect_timeout = connect;
        self.config.request_timeout = request;
        self
    }

    /// The grant store's path.
    pub fn state(&self) -> PathBuf {
        self.config.state.clone()
    }

    /// Moves the agent's clock (use [`crate::scenarios::advance`] to move both clocks).
    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    async fn run(&self, what: String, command: Command) -> Run {
        // The agent's requests cannot be refused one by one from here, so a whole command is one
        // flight: it lands before the sweep reads, and none starts once the run is stopping (the
        // scenario waits here until the trial drops it at the next safe point).
        let Some(_flight) = self.stop.begin() else {
            return std::future::pending().await;
        };
        let clock: Arc<dyn Clock> = Arc::new(self.clock.clone());
        let observer = self.recorder.as_ref().map(Recorder::agent_observer);
        let output = agent::commands::run_observed(command, &self.config, clock, observer).await;
        Run { what, output }
    }

    /// `routeros-agent validate [--write-check]`.
    pub async fn validate(&self, write_check: bool) -> Run {
        self.run(
            format!("validate (write check: {write_check})"),
            Command::Validate {
                write_check,
                rules: false,
                strict_rules: false,
            },
        )
        .await
    }

    /// `routeros-agent validate [--strict-rules]`, with the filter rule check.
    pub async fn validate_rules(&self, strict: bool) -> Run {
        self.run(
            format!("validate with the rule check (strict: {strict})"),
            Command::Validate {
                write_check: false,
                rules: true,
                strict_rules: strict,
            },
        )
        .await
    }

    /// `routeros-agent grant ADDRESS --user USER --for DURATION`.
    pub async fn grant(&self, address: &str, user: &str, duration: &str) -> Run {
        self.run(
            format!("grant {address} to {user} for {duration}"),
            Command::Grant {
                address: address.into(),
                user: user.into(),
                duration: duration.into(),
            },
        )
        .await
    }

    /// `routeros-agent revoke ADDRESS --user USER`.
    pub async fn revoke(&self, address: &str, user: &str) -> Run {
        self.run(
            format!("revoke {address} of {user}"),
            Command::Revoke {
                address: address.into(),
                user: user.into(),
            },
        )
        .await
    }

    /// `routeros-agent passive install --feed-url URL --interval 1m [--no-ca-import]`.
    pub async fn passive_install(&self, feed_url: &str, no_ca_import: bool) -> Run {
        self.run(
            format!("passive install --feed-url {feed_url}"),
            Command::Passive {
                action: agent::commands::PassiveAction::Install {
                    feed_url: feed_url.into(),
                    interval: Some("1m".into()),
                    fail_closed_multiple: None,
                    feed_ca: None,
                    no_ca_import,
                },
            },
        )
        .await
    }

    /// `routeros-agent passive status`.
    pub async fn passive_status(&self) -> Run {
        self.run(
            "passive status".into(),
            Command::Passive {
                action: agent::commands::PassiveAction::Status { feed_ca: None },
            },
        )
        .await
    }

    /// `routeros-agent passive uninstall`.
    pub async fn passive_uninstall(&self) -> Run {
        self.run(
            "passive uninstall".into(),
            Command::Passive {
                action: agent::commands::PassiveAction::Uninstall,
            },
        )
        .await
    }

    /// `routeros-agent sync`.
    pub async fn sync(&self) -> Run {
        self.run("sync".into(), Command::Sync).await
    }

    /// The grants in the store, as `(address, user)` pairs.
    pub fn grants(&self) -> Result<Vec<(String, String)>, Failure> {
        // Read without the lock: this only looks, and must not wait for a command or daemon.
        let grants = agent::store::GrantStore::load(self.state())
            .map_err(|e| Failure::new(format!("the grant store cannot be read: {e}")))?;
        Ok(grants
            .iter()
            .map(|g| (g.address.as_str().to_owned(), g.user.clone()))
            .collect())
    }

    /// Fails unless the store still holds this grant (a failure must never lose a grant).
    pub fn expect_grant(&self, address: &str, user: &str) -> Result<(), Failure> {
        let grants = self.grants()?;
        if grants.iter().any(|(a, u)| a == address && u == user) {
            Ok(())
        } else {
            Err(Failure::new(format!(
                "the grant of {address} to {user} was lost; the store holds {grants:?}"
            )))
        }
    }
}
