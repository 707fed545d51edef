//! One scenario's view of its target, [`Ctx`]: the scenario API.
//!
//! A context reaches the router ([`super::connect`]), gives the scenario REST clients with the
//! agent's and the admin's credentials, a scratch directory, and the simulator's [`Control`] when
//! the target is a simulator; it records the fault rules, users and groups the scenario creates and
//! removes them afterwards ([`Ctx::cleanup`]).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use serde_json::{Value, json};
use simulator::{Control, FaultRule};
use tempfile::TempDir;

use super::{Creds, Live, Settings, TargetKind, Trust, connect};
use crate::Failure;
use crate::rest::{Recorder, Rest, WriteGuard};

/// A password for an account the suite creates: 32 letters and digits (rand's `Alphanumeric`, 62
/// symbols, about 190 bits) from a cryptographic generator seeded by the OS; a failure of the OS's
/// generator is a failed scenario, not a panic.
pub fn random_password() -> Result<String, Failure> {
    use rand::SeedableRng;
    let mut rng = rand::rngs::StdRng::try_from_os_rng()
        .map_err(|e| Failure::new(format!("the OS's random generator failed: {e}")))?;
    Ok((&mut rng)
        .sample_iter(rand::distr::Alphanumeric)
        .take(32)
        .map(char::from)
        .collect())
}

/// A new, empty directory under the system's temporary directory, removed on drop (grant stores,
/// CA files); its name carries `hint` so that a left-over directory says whose it was.
pub fn scratch_dir(hint: &str) -> Result<TempDir, Failure> {
    let slug: String = hint
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    tempfile::Builder::new()
        .prefix(&format!("conformance-{slug}-"))
        .tempdir()
        .map_err(|e| Failure::new(format!("temp dir: {e}")))
}

/// One scenario's view of its target: the scenario API.
#[derive(Debug)]
pub struct Ctx {
    /// The run's settings.
    pub settings: Arc<Settings>,
    /// Where the router is.
    pub live: Live,
    /// This scenario's list name (IPv4 and IPv6).
    pub list: String,
    /// This scenario's ownership tag for the agent.
    pub tag: String,
    /// A scratch directory (grant stores, the CA file), removed with the context.
    pub dir: TempDir,
    /// The agent's trust setting for this target.
    pub tls: agent::config::TlsMode,
    /// A raw client with the agent's credentials.
    pub rest: Rest,
    /// A raw client with admin credentials, when there are some.
    pub admin: Option<Rest>,
    faults: Mutex<Vec<u64>>,
    users: Mutex<Vec<String>>,
    groups: Mutex<Vec<String>>,
    /// On the in-process simulator, its journal mark when the scenario started.
    journal_mark: Option<u64>,
    /// How the scenario's agent writes entries (the scenario's declaration).
    pub write_mode: agent::batch::WriteMode,
}

impl Ctx {
    /// Opens a scenario's context: reaches the router and prepares clients.
    pub async fn open(
        settings: Arc<Settings>,
        index: usize,
        name: &str,
        shared_ca: Option<&str>,
    ) -> Result<Ctx, Failure> {
        let live = connect(&settings, shared_ca).await?;
        let dir = scratch_dir(name)?;
        let tls = match (&settings.trust, &live.ca_pem) {
            (Trust::SimulatorCa, Some(pem)) => {
                let path = dir.path().join("ca.pem");
                std::fs::write(&path, pem).map_err(|e| Failure::new(e.to_string()))?;
                agent::config::TlsMode::CaFile(path)
            }
            (Trust::SimulatorCa, None) | (Trust::System, _) => agent::config::TlsMode::SystemRoots,
            (Trust::CaFile(p), _) => agent::config::TlsMode::CaFile(p.clone()),
            (Trust::Insecure, _) => agent::config::TlsMode::Insecure,
        };
        let guard = Arc::new(
            WriteGuard::new(settings.run_prefix.clone())
                .read_only(settings.read_only)
                .with_stop(settings.stop.clone()),
        );
        let recorder = settings.record.as_ref().map(|d| {
            let slug: String = name
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            Arc::new(Recorder::new(d.join(slug)))
        });
        let rest = Rest::new(&live.url, &tls, live.agent.pair(), guard, recorder)?;
        let admin = live.admin.as_ref().map(|a| rest.with_credentials(a.pair()));
        let journal_mark = match (&settings.kind, &live.control) {
            (TargetKind::InProcess, Some(sim)) => Some(sim.journal_mark().await?.mark),
            _ => None,
        };
        Ok(Ctx {
            journal_mark,
            write_mode: Default::default(),
            list: format!("{}-{index:02}", settings.run_prefix),
            tag: format!("{}-agent", settings.run_prefix),
            settings,
            live,
            dir,
            tls,
            rest,
            admin,
            faults: Mutex::new(Vec::new()),
            users: Mutex::new(Vec::new()),
            groups: Mutex::new(Vec::new()),
        })
    }

    /// On the in-process simulator, every request that would change a router (`PUT`, `PATCH`,
    /// `DELETE`, `POST`) sent since the scenario started, by anyone: the suite's client and the
    /// agent alike, refused or not. `None` on other targets. This is how the runner proves that a
    /// scenario which does not declare [`Cap::Write`] really writes nothing (`--read-only` trusts it).
    pub async fn writes_sent(&self) -> Result<Option<Vec<String>>, Failure> {
        let (Some(sim), Some(mark)) = (&self.live.control, self.journal_mark) else {
            return Ok(None);
        };
        let filter = simulator::JournalFilter {
            since: Some(mark),
            ..Default::default()
        };
        let page = sim.journal(&filter).await?;
        Ok(Some(
            page.entries
                .iter()
                .filter_map(|e| match (&e.method, &e.path) {
                    (Some(m), Some(p)) if !matches!(m.as_str(), "GET" | "HEAD" | "OPTIONS") => {
                        Some(format!("{m} {p}"))
                    }
                    _ => None,
                })
                .collect(),
        ))
    }

    /// The admin client, or a failure naming the missing capability.
    pub fn admin(&self) -> Result<&Rest, Failure> {
        self.admin
            .as_ref()
            .ok_or_else(|| Failure::new("this scenario needs admin credentials"))
    }

    /// The simulator's control, or a failure saying what this target cannot do.
    fn control(&self, cannot: &str) -> Result<&dyn Control, Failure> {
        self.live
            .control
            .as_deref()
            .ok_or_else(|| Failure::new(format!("this target {cannot}")))
    }

    /// Adds a fault rule until [`Ctx::remove_fault`] or the end of the scenario; returns its id.
    pub async fn fault(&self, rule: FaultRule) -> Result<u64, Failure> {
        // A flight (see `crate::stop`): a scenario stopped by Ctrl-C is never dropped between the
        // simulator adding the rule and the rule's id being kept here for the clean-up, which would
        // leave the rule on a running simulator. None starts once the run is stopping.
        let Some(_flight) = self.settings.stop.begin() else {
            return std::future::pending().await;
        };
        let id = self
            .control("cannot inject faults")?
            .add_fault(rule)
            .await?
            .id;
        self.faults
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(id);
        Ok(id)
    }

    /// Removes a fault rule added by this scenario. A rule that is already gone is not an error.
    pub async fn remove_fault(&self, id: u64) -> Result<(), Failure> {
        self.faults
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|f| *f != id);
        let Some(control) = &self.live.control else {
            return Ok(());
        };
        match control.remove_fault(id).await {
            Err(e) if !e.is_not_found() => Err(e.into()),
            _ => Ok(()),
        }
    }

    /// Removes every fault rule this scenario added.
    pub async fn clear_faults(&self) -> Result<(), Failure> {
        let ids: Vec<u64> = self
            .faults
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        for id in ids {
            self.remove_fault(id).await?;
        }
        Ok(())
    }

    /// Moves the router's clock forward.
    pub async fn advance_router_clock(&self, by: Duration) -> Result<(), Failure> {
        self.control("'s clock cannot be moved")?
            .advance_clock(by)
            .await?;
        // In process, wait for the scheduled runs the move made due, so that what a scenario
        // reads next is what they did (the control API does not wait for them).
        if let Some(shared) = &self.live.internals {
            simulator::scripting::schedule::settle(shared).await;
        }
        Ok(())
    }

    /// What the simulator's filter rules do to a packet; the matched rules' counters advance.
    pub async fn verdict(
        &self,
        request: &simulator::control::types::VerdictRequest,
    ) -> Result<simulator::control::types::VerdictReply, Failure> {
        Ok(self
            .control("has no verdict (simulator only)")?
            .verdict(request)
            .await?)
    }

    /// Reboots the router (dynamic entries vanish).
    pub async fn reboot(&self) -> Result<(), Failure> {
        self.control("cannot be rebooted")?
            .reboot(Duration::ZERO)
            .await?;
        Ok(())
    }

    /// Makes the in-process simulator trust the CA in `pem` for `/tool/fetch
    /// check-certificate=yes`, as `/certificate import` of that file does on a router.
    pub fn trust_on_router(&self, pem: &str) -> Result<(), Failure> {
        let shared = self.live.internals.as_ref().ok_or_else(|| {
            Failure::new("trusting a CA needs the in-process simulator (Cap::FeedFetch)")
        })?;
        let mut router = shared.router();
        let store = router.state::<simulator::model::scripting::Certificates>();
        simulator::scripting::fetch::import_pem(store, pem).map_err(Failure::new)?;
        Ok(())
    }

    /// The IPv4 or IPv6 menu path.
    pub fn menu(v6: bool) -> &'static str {
        if v6 {
            "/ipv6/firewall/address-list"
        } else {
            "/ip/firewall/address-list"
        }
    }

    /// The rows of this scenario's list, read with the agent's credentials.
    pub async fn entries(&self, v6: bool) -> Result<Vec<serde_json::Map<String, Value>>, Failure> {
        let list = crate::rest::encode_query(&self.list);
        self.rest
            .rows(&format!("{}?list={list}", Ctx::menu(v6)))
            .await
    }

    /// The addresses in this scenario's list.
    pub async fn addresses(&self, v6: bool) -> Result<Vec<String>, Failure> {
        let mut out: Vec<String> = self
            .entries(v6)
            .await?
            .iter()
            .filter_map(|r| r.get("address").and_then(Value::as_str).map(str::to_owned))
            .collect();
        out.sort();
        Ok(out)
    }

    /// Creates a group with `policy` and a user in it (both named from the run prefix) with the
    /// admin credentials; both are removed at the end of the scenario. Returns the user's credentials.
    pub async fn restricted_user(&self, label: &str, policy: &str) -> Result<Creds, Failure> {
        let admin = self.admin()?;
        let name = format!("{}-{label}", self.list);
        let reply = admin
            .put("/user/group", &json!({ "name": name, "policy": policy }))
            .await?;
        reply.expect_status(201)?;
        let gid = reply.json()?[".id"].as_str().unwrap_or_default().to_owned();
        self.groups
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(gid);
        // The account has real policies on a customer's router and outlives the run if the process
        // is killed, so its password is unguessable (the OS's generator) and never printed or
        // recorded, and it may log in only from the address the suite itself connects from.
        let password = random_password()?;
        let address = self.source_address().await?;
        let reply = admin
            .put(
                "/user",
                &json!({ "name": name, "group": name, "password": password, "address": address }),
            )
            .await?;
        reply.expect_status(201)?;
        let uid = reply.json()?[".id"].as_str().unwrap_or_default().to_owned();
        self.users
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(uid);
        Ok(Creds::new(&name, &password))
    }

    /// The suite's own address as the router sees it, as a host prefix (`/32` or `/128`): the local
    /// address of a connection to the router's REST port. Behind NAT the router sees another
    /// address and the users created with it cannot log in (the scenario fails, nothing is opened).
    pub async fn source_address(&self) -> Result<String, Failure> {
        let url = reqwest::Url::parse(&self.live.url)
            .map_err(|e| Failure::new(format!("`{}`: {e}", self.live.url)))?;
        let host = url
            .host_str()
            .ok_or_else(|| Failure::new(format!("`{}` has no host", self.live.url)))?;
        let port = url.port_or_known_default().unwrap_or(443);
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let connect = tokio::net::TcpStream::connect((host, port));
        let stream = tokio::time::timeout(Duration::from_secs(5), connect)
            .await
            .map_err(|_| Failure::new(format!("connecting to {host}:{port} timed out")))?
            .map_err(|e| Failure::new(format!("connecting to {host}:{port}: {e}")))?;
        let ip = stream
            .local_addr()
            .map_err(|e| Failure::new(e.to_string()))?
            .ip()
            .to_canonical();
        Ok(match ip {
            std::net::IpAddr::V4(v4) => format!("{v4}/32"),
            std::net::IpAddr::V6(v6) => format!("{v6}/128"),
        })
    }

    /// Removes what the scenario created on a shared target: fault rules, entries of its list,
    /// users, then groups. Errors are collected, not stopped at, so one failure does not leave the rest.
    pub async fn cleanup(&self) -> Result<(), Failure> {
        let mut problems = Vec::new();
        if let Err(e) = self.clear_faults().await {
            problems.push(e.0);
        }
        if !self.settings.kind.is_shared() {
            return if problems.is_empty() {
                Ok(())
            } else {
                Err(Failure::new(problems.join("; ")))
            };
        }
        let writer = self.admin.as_ref().unwrap_or(&self.rest);
        for v6 in [false, true] {
            match self.entries(v6).await {
                Ok(rows) => {
                    for r in rows {
                        let Some(id) = r.get(".id").and_then(Value::as_str) else {
                            continue;
                        };
                        // Every row of this list is the run's own: the list name is unique to it.
                        writer.guard().adopt(Ctx::menu(v6), id);
                        match writer.delete(&format!("{}/{id}", Ctx::menu(v6))).await {
                            Ok(r) if r.status == 204 || r.status == 404 => {}
                            Ok(r) => problems.push(format!("{}: HTTP {}", r.what, r.status)),
                            Err(e) => problems.push(e.0),
                        }
                    }
                }
                Err(e) => problems.push(e.0),
            }
        }
        let users: Vec<String> = self
            .users
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
            .collect();
        let groups: Vec<String> = self
            .groups
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
            .collect();
        for (menu, id) in users
            .iter()
            .map(|i| ("/user", i))
            .chain(groups.iter().map(|i| ("/user/group", i)))
        {
            match writer.delete(&format!("{menu}/{id}")).await {
                Ok(r) if r.status == 204 || r.status == 404 => {}
                Ok(r) => problems.push(format!("{}: HTTP {}", r.what, r.status)),
                Err(e) => problems.push(e.0),
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Failure::new(format!("clean-up: {}", problems.join("; "))))
        }
    }
}
