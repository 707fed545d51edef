//! Targets and their capabilities: what the suite runs against and what it may do there.
//!
//! This is the suite's `DB` trait in the sqllogictest-rs sense: every scenario is written once
//! against [`Ctx`], and [`Ctx`] hides whether the router is an in-process simulator, a simulator
//! running elsewhere (driven through its control API) or a real router. What differs between targets
//! is expressed as [`Cap`]abilities, decided from the command line alone (no I/O), so that building
//! and listing the trials stays cheap and side-effect free. A scenario that needs a capability the
//! target lacks is never run; it is listed as ignored with the reason [`Settings::missing`] gives.
//!
//! The in-process target starts a fresh simulator for every scenario (on port 0, in the scenario's
//! own runtime), so scenarios are isolated and can run in parallel. The other targets are shared:
//! scenarios run one at a time, each in its own list named from the run's prefix, and each cleans up
//! the users, groups, entries and fault rules it created.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use simulator::{FaultRule, Simulator};

use crate::Failure;
use crate::rest::{Recorder, Rest, WriteGuard};

/// Something a scenario may need from its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cap {
    /// Injecting faults (statuses, bodies, connection and TLS failures).
    Faults,
    /// Moving the router's clock.
    Clock,
    /// Rebooting the router.
    Reboot,
    /// Admin credentials, to create restricted users and groups.
    Admin,
    /// A second router account besides the agent's (created with the admin credentials).
    SecondUser,
    /// Writing to the router at all (absent in `--read-only`).
    Write,
    /// A TLS (`https://`) target URL.
    Https,
}

impl Cap {
    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Cap::Faults => "fault injection",
            Cap::Clock => "clock control",
            Cap::Reboot => "reboot",
            Cap::Admin => "admin credentials",
            Cap::SecondUser => "a second user",
            Cap::Write => "writes",
            Cap::Https => "https",
        }
    }
}

/// What the suite runs against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetKind {
    /// A fresh in-process simulator per scenario.
    InProcess,
    /// A simulator running elsewhere: its REST URL and its control API URL.
    RunningSim {
        /// `https://host:port` of `www-ssl` (or `http://` of `www`).
        url: String,
        /// `http://host:port` of the control API.
        control: String,
    },
    /// A real router.
    Router {
        /// `https://host[:port]`.
        url: String,
    },
}

impl TargetKind {
    /// `simulator` or `router`, as used in `divergences.toml`.
    pub fn class(&self) -> &'static str {
        match self {
            TargetKind::Router { .. } => "router",
            _ => "simulator",
        }
    }

    /// For people.
    pub fn describe(&self) -> String {
        match self {
            TargetKind::InProcess => "in-process simulator (a fresh one per scenario)".into(),
            TargetKind::RunningSim { url, control } => {
                format!("running simulator {url} (control {control})")
            }
            TargetKind::Router { url } => format!("real router {url}"),
        }
    }

    /// Whether scenarios share one router (and must run one at a time).
    pub fn is_shared(&self) -> bool {
        !matches!(self, TargetKind::InProcess)
    }
}

/// A user name and password.
#[derive(Clone, PartialEq, Eq)]
pub struct Creds {
    /// The user.
    pub user: String,
    /// The password.
    pub password: String,
}

impl std::fmt::Debug for Creds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Creds({}, ***)", self.user)
    }
}

impl Creds {
    /// A pair.
    pub fn new(user: &str, password: &str) -> Self {
        Creds {
            user: user.into(),
            password: password.into(),
        }
    }

    fn pair(&self) -> Option<(String, String)> {
        Some((self.user.clone(), self.password.clone()))
    }
}

/// How the router's certificate is trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// The simulator's CA (in-process: the simulator's; running: fetched from the control API).
    SimulatorCa,
    /// A CA file.
    CaFile(PathBuf),
    /// No verification.
    Insecure,
    /// The system's trust store.
    System,
}

/// What to do with rows an earlier run left on a shared target (see [`crate::safety::leftovers`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leftovers {
    /// Report them and refuse to start (the default).
    Refuse,
    /// Report them and remove them before the run (`--sweep-leftovers`).
    Sweep,
    /// Report them and run anyway (`--ignore-leftovers`).
    Ignore,
}

/// Everything decided from the command line, before anything is sent.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The target.
    pub kind: TargetKind,
    /// The agent's service user (in-process: created by the suite).
    pub agent: Option<Creds>,
    /// Admin credentials, if given (in-process and running simulators: `admin`/`admin`).
    pub admin: Option<Creds>,
    /// Certificate trust.
    pub trust: Trust,
    /// `--list-prefix` alone: what every run's names start with (for finding earlier runs' rows).
    pub list_prefix: String,
    /// The prefix of every list, user and group this run creates, including the run id.
    pub run_prefix: String,
    /// Only read.
    pub read_only: bool,
    /// `--record` directory.
    pub record: Option<PathBuf>,
    /// A running simulator's control token.
    pub control_token: Option<String>,
    /// What to do with an earlier run's rows.
    pub leftovers: Leftovers,
}

/// The in-process simulator's service user, as the vendor's guide sets it up.
pub const SIM_AGENT: (&str, &str) = ("conformance-agent", "conformance-agent-password");
/// The group it belongs to.
pub const SIM_AGENT_GROUP: (&str, &str) = ("conformance-agent", "api,rest-api,read,write,policy");

impl Settings {
    /// Whether the target offers `cap`, and if not, why.
    pub fn missing(&self, cap: Cap) -> Option<String> {
        let sim = !matches!(self.kind, TargetKind::Router { .. });
        let https = match &self.kind {
            TargetKind::InProcess => true,
            TargetKind::RunningSim { url, .. } | TargetKind::Router { url } => {
                url.starts_with("https://")
            }
        };
        match cap {
            Cap::Faults if !sim => Some("a real router cannot be made to fail on demand (needs fault injection: run it against the simulator)".into()),
            Cap::Clock if !sim => Some("needs control of the router's clock (simulator only; the suite never waits out real timeouts)".into()),
            Cap::Reboot if !sim => Some("would reboot the router (simulator only)".into()),
            Cap::Admin | Cap::SecondUser if self.admin.is_none() => Some(
                "needs admin credentials to create a restricted user and group (--admin-user and CONFORMANCE_ADMIN_PASSWORD or --admin-password-file)".into(),
            ),
            Cap::Write if self.read_only => Some("read-only mode: this scenario writes".into()),
            Cap::Https if !https => Some("the target URL is plain http://, not https://".into()),
            _ => None,
        }
    }

    /// The first missing capability's reason among `needs`, with what the scenario would have done.
    pub fn missing_any(&self, needs: &[Cap]) -> Option<String> {
        needs.iter().find_map(|c| self.missing(*c))
    }
}

/// Where the router is, once a scenario has started.
#[derive(Debug)]
pub struct Live {
    /// `https://host:port` (or `http://`).
    pub url: String,
    /// `http://host:port` of plain `www`, when known.
    pub http_url: Option<String>,
    /// The simulator's CA in PEM, when the target is a simulator.
    pub ca_pem: Option<String>,
    /// The agent's credentials.
    pub agent: Creds,
    /// Admin credentials.
    pub admin: Option<Creds>,
    /// How to drive a simulator.
    pub control: Control,
}

/// How a simulator target is driven.
#[derive(Debug)]
pub enum Control {
    /// The in-process handle.
    InProcess(Box<Simulator>),
    /// The control API of a running simulator.
    Remote {
        /// The control URL.
        url: String,
        /// A plain HTTP client.
        http: reqwest::Client,
        /// Sent as `Authorization: Bearer` when the simulator was started with `--control-token`.
        token: Option<String>,
    },
    /// A real router: nothing to drive.
    None,
}

impl Control {
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, Failure> {
        let Control::Remote { url, http, token } = self else {
            return Err(Failure::new("no control API on this target"));
        };
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("valid method");
        let mut req = http.request(m, format!("{url}{path}"));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| Failure::new(format!("control API {method} {path}: {e}")))?;
        let status = resp.status();
        let v: Value = resp.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(Failure::new(format!(
                "control API {method} {path}: {status}: {v}"
            )));
        }
        Ok(v)
    }
}

/// Starts or reaches the router for one scenario.
pub async fn connect(settings: &Settings, shared_ca: Option<&str>) -> Result<Live, Failure> {
    match &settings.kind {
        TargetKind::InProcess => {
            let sim = Simulator::builder()
                .group(SIM_AGENT_GROUP.0, SIM_AGENT_GROUP.1)
                .user(SIM_AGENT.0, SIM_AGENT.1, SIM_AGENT_GROUP.0)
                .start()
                .await
                .map_err(|e| Failure::new(format!("cannot start the simulator: {e}")))?;
            Ok(Live {
                url: sim.https_url(),
                http_url: sim.http_url(),
                ca_pem: Some(sim.ca_pem().to_owned()),
                agent: Creds::new(SIM_AGENT.0, SIM_AGENT.1),
                admin: Some(Creds::new(
                    simulator::DEFAULT_USER,
                    simulator::DEFAULT_PASSWORD,
                )),
                control: Control::InProcess(Box::new(sim)),
            })
        }
        TargetKind::RunningSim { url, control } => {
            let http = crate::rest::control_client()?;
            let control = Control::Remote {
                url: control.trim_end_matches('/').to_owned(),
                http,
                token: settings.control_token.clone(),
            };
            let health = control.call("GET", "/health", None).await?;
            Ok(Live {
                url: url.trim_end_matches('/').to_owned(),
                http_url: health["http_url"].as_str().map(str::to_owned),
                ca_pem: shared_ca.map(str::to_owned),
                agent: settings
                    .agent
                    .clone()
                    .unwrap_or_else(|| Creds::new("admin", "admin")),
                admin: settings.admin.clone(),
                control,
            })
        }
        TargetKind::Router { url } => Ok(Live {
            url: url.trim_end_matches('/').to_owned(),
            http_url: None,
            ca_pem: None,
            agent: settings
                .agent
                .clone()
                .ok_or_else(|| Failure::new("no agent credentials for the router"))?,
            admin: settings.admin.clone(),
            control: Control::None,
        }),
    }
}

/// Fetches a running simulator's CA from its control API (once per run).
pub async fn fetch_ca(control: &str, token: Option<&str>) -> Result<String, Failure> {
    let c = Control::Remote {
        url: control.trim_end_matches('/').to_owned(),
        http: crate::rest::control_client()?,
        token: token.map(str::to_owned),
    };
    let v = c.call("GET", "/tls", None).await?;
    v["ca_pem"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| Failure::new("the control API's /tls has no ca_pem"))
}

/// A password for an account the suite creates: 32 letters and digits from the OS's random
/// generator (about 190 bits).
pub fn random_password() -> Result<String, Failure> {
    use rand::TryRngCore;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(32);
    while out.len() < 32 {
        let mut bytes = [0u8; 64];
        rand::rngs::OsRng
            .try_fill_bytes(&mut bytes)
            .map_err(|e| Failure::new(format!("the OS's random generator failed: {e}")))?;
        // 248 = 4 * 62: dropping the bytes above it keeps every character equally likely.
        for b in bytes.into_iter().filter(|b| *b < 248) {
            if out.len() < 32 {
                out.push(ALPHABET[usize::from(b) % ALPHABET.len()] as char);
            }
        }
    }
    Ok(out)
}

/// A temporary directory removed on drop (for grant stores and CA files).
#[derive(Debug)]
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A new, empty directory under the system's temporary directory.
    pub fn new(hint: &str) -> std::io::Result<TempDir> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let slug: String = hint
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let dir = std::env::temp_dir().join(format!(
            "conformance-{}-{}-{slug}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir)?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
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
    /// A scratch directory (grant stores, the CA file).
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
    /// The in-process simulator's journal mark when the scenario started.
    journal_mark: u64,
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
        let dir = TempDir::new(name).map_err(|e| Failure::new(format!("temp dir: {e}")))?;
        let tls = match (&settings.trust, &live.ca_pem) {
            (Trust::SimulatorCa, Some(pem)) => {
                let path = dir.0.join("ca.pem");
                std::fs::write(&path, pem).map_err(|e| Failure::new(e.to_string()))?;
                agent::config::TlsMode::CaFile(path)
            }
            (Trust::SimulatorCa, None) | (Trust::System, _) => agent::config::TlsMode::SystemRoots,
            (Trust::CaFile(p), _) => agent::config::TlsMode::CaFile(p.clone()),
            (Trust::Insecure, _) => agent::config::TlsMode::Insecure,
        };
        let guard =
            Arc::new(WriteGuard::new(settings.run_prefix.clone()).read_only(settings.read_only));
        let recorder = settings.record.as_ref().map(|d| {
            let slug: String = name
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            Arc::new(Recorder::new(d.join(slug)))
        });
        let rest = Rest::new(&live.url, &tls, live.agent.pair(), guard, recorder)?;
        let admin = live.admin.as_ref().map(|a| rest.with_credentials(a.pair()));
        let journal_mark = match &live.control {
            Control::InProcess(sim) => sim.journal_mark(),
            _ => 0,
        };
        Ok(Ctx {
            journal_mark,
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
    pub fn writes_sent(&self) -> Option<Vec<String>> {
        let Control::InProcess(sim) = &self.live.control else {
            return None;
        };
        let page = sim.journal(&simulator::JournalFilter {
            since: Some(self.journal_mark),
            ..Default::default()
        });
        Some(
            page.entries
                .iter()
                .filter_map(|e| match (&e.method, &e.path) {
                    (Some(m), Some(p)) if !matches!(m.as_str(), "GET" | "HEAD" | "OPTIONS") => {
                        Some(format!("{m} {p}"))
                    }
                    _ => None,
                })
                .collect(),
        )
    }

    /// The admin client, or a failure naming the missing capability.
    pub fn admin(&self) -> Result<&Rest, Failure> {
        self.admin
            .as_ref()
            .ok_or_else(|| Failure::new("this scenario needs admin credentials"))
    }

    /// Adds a fault rule until [`Ctx::remove_fault`] or the end of the scenario; returns its id.
    pub async fn fault(&self, rule: FaultRule) -> Result<u64, Failure> {
        let id = match &self.live.control {
            Control::InProcess(sim) => sim.add_fault(rule).map_err(Failure::new)?,
            Control::Remote { .. } => {
                let body = serde_json::to_value(&rule).map_err(|e| Failure::new(e.to_string()))?;
                let v = self
                    .live
                    .control
                    .call("POST", "/faults", Some(body))
                    .await?;
                v["id"]
                    .as_u64()
                    .ok_or_else(|| Failure::new(format!("control API: no fault id in {v}")))?
            }
            Control::None => return Err(Failure::new("this target cannot inject faults")),
        };
        self.faults
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(id);
        Ok(id)
    }

    /// Removes a fault rule added by this scenario.
    pub async fn remove_fault(&self, id: u64) -> Result<(), Failure> {
        self.faults
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|f| *f != id);
        match &self.live.control {
            Control::InProcess(sim) => {
                sim.remove_fault(id);
                Ok(())
            }
            Control::Remote { .. } => self
                .live
                .control
                .call("DELETE", &format!("/faults/{id}"), None)
                .await
                .map(|_| ()),
            Control::None => Ok(()),
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
        match &self.live.control {
            Control::InProcess(sim) => {
                sim.clock().advance(by);
                Ok(())
            }
            Control::Remote { .. } => self
                .live
                .control
                .call(
                    "POST",
                    "/clock/advance",
                    Some(json!({ "by": by.as_millis() as u64 })),
                )
                .await
                .map(|_| ()),
            Control::None => Err(Failure::new("this target's clock cannot be moved")),
        }
    }

    /// Reboots the router (dynamic entries vanish).
    pub async fn reboot(&self) -> Result<(), Failure> {
        match &self.live.control {
            Control::InProcess(sim) => {
                sim.reboot();
                Ok(())
            }
            Control::Remote { .. } => self
                .live
                .control
                .call("POST", "/reboot", Some(json!({})))
                .await
                .map(|_| ()),
            Control::None => Err(Failure::new("this target cannot be rebooted")),
        }
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
        let list = agent::net::encode_query(&self.list);
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
