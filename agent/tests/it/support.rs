//! Helpers: a simulator on loopback port 0, an agent configuration that trusts the simulator's CA,
//! and a view of the simulator's lists taken from its own model (not through the agent's parser, so
//! the agent's wire code is checked rather than trusted).
//!
//! The simulator's clock is frozen and the agent gets a manual clock set to the same wall time, so
//! expiry tests move both clocks together instead of sleeping.

use std::sync::Arc;
use std::time::Duration;

use agent::clock::{Clock, ManualClock, Time};
use agent::commands::{Command, Output, run_observed};
use agent::config::{Config, RouterConfig, Secret, TlsMode};
use agent::net::{Observer, RouterClient};
use simulator::{Family, JournalFilter, Simulator};

pub const LIST: &str = "agent-test";
pub const LIST6: &str = "agent-test6";
pub const TAG: &str = "routeros-agent";

/// The agent's clock read from the in-process simulator's clock (its wall time, in milliseconds),
/// so that whatever moves the simulator's time (a test's advance, the router-speed profile's costs)
/// moves the agent's in step: timeouts the agent computes when a write goes out are then exact
/// against the router's own countdown.
#[derive(Debug, Clone)]
pub struct SimClock(pub Arc<simulator::shared::Shared>);

impl Clock for SimClock {
    fn now(&self) -> Time {
        Time(u64::try_from(self.0.clock.reading().wall_ms).unwrap_or(0))
    }
}

/// A running simulator and an agent configured for it.
pub struct Harness {
    pub sim: Simulator,
    /// Holds the grant store and the CA file until the test ends.
    pub _dir: tempfile::TempDir,
    pub config: Config,
    pub clock: ManualClock,
    /// Shown every request of the agent's client, when a test sets it.
    pub observer: Option<Observer>,
}

/// An entry as the simulator holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: String,
    pub address: String,
    pub comment: Option<String>,
    /// Remaining time in whole seconds (rounded up), `None` for static entries.
    pub remaining_s: Option<u64>,
    pub disabled: bool,
}

impl Harness {
    pub async fn start() -> Harness {
        let sim = Simulator::builder()
            .start()
            .await
            .expect("simulator starts");
        sim.clock().freeze();
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, sim.ca_pem()).unwrap();
        let wall = sim.clock().reading().wall_ms;
        let config = Config {
            router: Some(RouterConfig {
                url: sim.https_url().parse().unwrap(),
                username: simulator::DEFAULT_USER.into(),
                password: Secret::new(simulator::DEFAULT_PASSWORD),
                tls: TlsMode::CaFile(ca),
            }),
            list_v4: LIST.into(),
            list_v6: LIST6.into(),
            tag: TAG.into(),
            state: dir.path().join("grants.json"),
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
            concurrency: 1,
            write_mode: Default::default(),
            interval: Duration::from_secs(60),
            control: "127.0.0.1:0".parse().unwrap(),
            allow_plain_http: false,
            prefix_limits: Default::default(),
            control_token_file: None,
            control_token: None,
            // The harness's lists have no filter rule; the rule tests ask for the check.
            check_rules: false,
            mode: Default::default(),
            feed: Default::default(),
        };
        Harness {
            sim,
            _dir: dir,
            config,
            clock: ManualClock::new(Time(wall as u64)),
            observer: None,
        }
    }

    /// Moves the simulator's clock and the agent's together.
    pub fn advance(&self, d: Duration) {
        self.sim.clock().advance(d);
        self.clock.advance(d);
    }

    pub fn clock(&self) -> Arc<dyn Clock> {
        Arc::new(self.clock.clone())
    }

    /// The simulator's own clock as the agent's.
    pub fn sim_clock(&self) -> Arc<dyn Clock> {
        Arc::new(SimClock(self.sim.shared().clone()))
    }

    pub fn client(&self) -> RouterClient {
        RouterClient::new(&self.config)
            .expect("client")
            .with_observer(self.observer.clone())
    }

    /// Runs a command as the binary would, with the manual clock.
    pub async fn run(&self, command: Command) -> Output {
        run_observed(command, &self.config, self.clock(), self.observer.clone()).await
    }

    pub async fn grant(&self, address: &str, user: &str, duration: &str) -> Output {
        self.run(Command::Grant {
            address: address.into(),
            user: user.into(),
            duration: duration.into(),
        })
        .await
    }

    pub async fn revoke(&self, address: &str, user: &str) -> Output {
        self.run(Command::Revoke {
            address: address.into(),
            user: user.into(),
        })
        .await
    }

    /// The entries of the managed list of `family`, from the simulator's model.
    pub fn entries(&self, family: Family) -> Vec<Entry> {
        let list = if family == Family::V4 { LIST } else { LIST6 };
        let now = self.sim.clock().now();
        self.sim.with_router(|r| {
            r.list(family)
                .views()
                .into_iter()
                .filter(|v| v.list == list)
                .map(|v| Entry {
                    id: format!("*{:X}", v.id),
                    address: v.address,
                    comment: v.comment,
                    remaining_s: v
                        .expires_at_ms
                        .map(|e| e.saturating_sub(now).div_ceil(1000)),
                    disabled: v.disabled,
                })
                .collect()
        })
    }

    /// Addresses and remaining seconds of the managed IPv4 list.
    pub fn v4(&self) -> Vec<(String, Option<u64>)> {
        self.entries(Family::V4)
            .into_iter()
            .map(|e| (e.address, e.remaining_s))
            .collect()
    }

    /// Adds an entry the agent does not own, through the router's REST API as an administrator would.
    pub async fn put_foreign(
        &self,
        family: Family,
        address: &str,
        comment: Option<&str>,
        timeout: Option<&str>,
    ) -> String {
        let list = if family == Family::V4 { LIST } else { LIST6 };
        let menu = if family == Family::V4 { "ip" } else { "ipv6" };
        let mut body = serde_json::json!({ "list": list, "address": address });
        if let Some(c) = comment {
            body["comment"] = c.into();
        }
        if let Some(t) = timeout {
            body["timeout"] = t.into();
        }
        let resp = self
            .http()
            .put(format!(
                "{}/rest/{menu}/firewall/address-list",
                self.sim.https_url()
            ))
            .basic_auth(simulator::DEFAULT_USER, Some(simulator::DEFAULT_PASSWORD))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 201, "seeding {address}");
        let v: serde_json::Value = resp.json().await.unwrap();
        v[".id"].as_str().unwrap().to_owned()
    }

    /// A plain HTTPS client that trusts the simulator's CA.
    pub fn http(&self) -> reqwest::Client {
        let tls = agent::net::tls_config(&self.config.router().unwrap().tls).unwrap();
        reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .build()
            .unwrap()
    }

    /// Requests the simulator saw since `mark`, as `METHOD path` lines.
    pub fn requests_since(&self, mark: u64) -> Vec<String> {
        let page = self.sim.journal(&JournalFilter {
            since: Some(mark),
            ..Default::default()
        });
        page.entries
            .into_iter()
            .filter_map(|e| Some(format!("{} {}", e.method?, e.path?)))
            .collect()
    }
}

/// Asserts an output's exit status and prints it when it differs.
#[track_caller]
pub fn assert_status(out: &Output, status: u8) {
    assert_eq!(
        out.status, status,
        "output:\n{}\njson: {}",
        out.text, out.json
    );
}
