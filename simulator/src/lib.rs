//! A fake MikroTik RouterOS v7 REST server, faithful to real routers down to their odd answers.
//!
//! The simulator serves `/rest` over HTTPS (the router's `www-ssl` service) with a certificate from
//! its own CA, and over plain HTTP (`www`), with the state model and replies of a real router: users,
//! groups and policies, services whose changes act on the listeners, `/system/resource`,
//! `/system/identity`, and IPv4/IPv6 firewall address-lists whose timed entries count down on a clock
//! the simulator owns.
//!
//! Rust tests start it in-process on port 0:
//!
//! ```no_run
//! # async fn demo() -> Result<(), simulator::StartError> {
//! let sim = simulator::Simulator::builder().start().await?;
//! let url = sim.https_url(); // https://127.0.0.1:<port>
//! let ca = sim.ca_pem();     // trust this, and only this
//! // user `admin`, password `admin`, group `full`
//! # let _ = (url, ca); Ok(()) }
//! ```
//!
//! A separate control API (see [`control`]) seeds and inspects the router, moves its clock, reboots
//! it, reads the request journal and injects faults; the handle offers the same operations directly,
//! and [`control::Control`] is both, so code written against it drives an in-process simulator or a
//! running one through [`control::ControlClient`].
//!
//! The `routeros-sim` binary ([`cli`]) runs the same server for people and other languages, and
//! drives a running one with the same client.

pub mod cli;
pub mod clock;
pub mod control;
pub mod costs;
pub mod faults;
pub mod firewall;
pub mod io;
pub mod journal;
pub mod meter;
pub mod model;
pub mod rest;
pub mod script;
pub mod scripting;
pub mod seed;
pub mod server;
pub mod shared;
pub mod tls;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use clock::Clock;
pub use control::{Control, ControlClient, ControlError};
pub use faults::{Action, FaultRule, Firing, Matcher};
pub use journal::{JournalEntry, JournalFilter, JournalPage};
pub use model::Router;
pub use model::address::Family;
pub use model::args::Args;
pub use model::services::Listener;
pub use model::version::Version;
pub use seed::{Seed, Snapshot};
pub use shared::Limits;
pub use tls::Identity;

use seed::LivePorts;
use shared::Shared;

/// The user every simulator has unless told otherwise.
pub const DEFAULT_USER: &str = "admin";
/// That user's password.
pub const DEFAULT_PASSWORD: &str = "admin";

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A port could not be bound.
    #[error(
        "cannot listen on {addr}: {source} (is another program using the port? choose another with --https-port/--http-port, or 0 for any free port)"
    )]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The certificate could not be made or loaded.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    /// The control API would listen beyond loopback without a token.
    #[error(
        "the control API would listen on {0} without a token: anyone who reaches it can read every password and change the router; set --control-token-file (or ROUTEROS_SIM_TOKEN), or keep --control-bind on loopback"
    )]
    ControlWithoutToken(IpAddr),
    /// The seed (or a user or group given to the builder) was refused by the router's own rules.
    #[error("the seed was refused: {0}")]
    Seed(String),
}

/// Builds and starts a simulator.
#[derive(Debug, Clone)]
pub struct SimulatorBuilder {
    version: Version,
    bind: IpAddr,
    https_port: u16,
    http_port: Option<u16>,
    names: Vec<String>,
    identity: Option<Identity>,
    tls13: bool,
    limits: Limits,
    admin_password: Option<String>,
    groups: Vec<(String, String)>,
    users: Vec<(String, String, String)>,
    seed: Option<Seed>,
    control_port: Option<u16>,
    control_bind: IpAddr,
    control_token: Option<String>,
}

impl Default for SimulatorBuilder {
    fn default() -> Self {
        Self {
            version: Version::default(),
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            https_port: 0,
            http_port: Some(0),
            names: Vec::new(),
            identity: None,
            tls13: false,
            limits: Limits::default(),
            admin_password: Some(DEFAULT_PASSWORD.to_owned()),
            groups: Vec::new(),
            users: Vec::new(),
            seed: None,
            control_port: Some(0),
            control_bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            control_token: None,
        }
    }
}

impl SimulatorBuilder {
    /// The RouterOS version to follow (default `7.23.7`).
    pub fn version(mut self, version: Version) -> Self {
        self.version = version;
        self
    }

    /// The address the router's services listen on (default `127.0.0.1`). The control API stays on
    /// [`SimulatorBuilder::control_bind`]'s address whatever this is.
    pub fn bind(mut self, ip: IpAddr) -> Self {
        self.bind = ip;
        self
    }

    /// The `www-ssl` port (default 0: any free port).
    pub fn https_port(mut self, port: u16) -> Self {
        self.https_port = port;
        self
    }

    /// The `www` port, or `None` for no plain-HTTP service (default: any free port).
    pub fn http_port(mut self, port: Option<u16>) -> Self {
        self.http_port = port;
        self
    }

    /// Extra names for the generated certificate (localhost, 127.0.0.1 and ::1 are always there).
    pub fn tls_names(mut self, names: impl IntoIterator<Item = String>) -> Self {
        self.names.extend(names);
        self
    }

    /// Serve this certificate instead of generating one.
    pub fn certificate(mut self, identity: Identity) -> Self {
        self.identity = Some(identity);
        self
    }

    /// Offer TLS 1.3 as well as 1.2 (RouterOS documents 1.2 only).
    pub fn tls13(mut self, yes: bool) -> Self {
        self.tls13 = yes;
        self
    }

    /// The router performance profile and session limit.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The built-in `admin` user's password, or `None` for no `admin` user.
    pub fn admin_password(mut self, password: Option<&str>) -> Self {
        self.admin_password = password.map(str::to_owned);
        self
    }

    /// Adds a group with a policy list such as `api,rest-api,read,write,policy`.
    pub fn group(mut self, name: &str, policy: &str) -> Self {
        self.groups.push((name.to_owned(), policy.to_owned()));
        self
    }

    /// Adds a user.
    pub fn user(mut self, name: &str, password: &str, group: &str) -> Self {
        self.users
            .push((name.to_owned(), password.to_owned(), group.to_owned()));
        self
    }

    /// Start from this seed instead of a bare router with `admin` (the builder's version, users and
    /// groups are added to it; its `version`, when set, wins).
    pub fn seed(mut self, seed: Seed) -> Self {
        self.seed = Some(seed);
        self
    }

    /// The control API's port (default 0: any free port), or `None` for no control listener.
    pub fn control_port(mut self, port: Option<u16>) -> Self {
        self.control_port = port;
        self
    }

    /// The address of the control API (default `127.0.0.1`, whatever [`SimulatorBuilder::bind`]
    /// says). An address beyond loopback needs a [`SimulatorBuilder::control_token`]: the control
    /// API hands out every user's password.
    pub fn control_bind(mut self, ip: IpAddr) -> Self {
        self.control_bind = ip;
        self
    }

    /// Require `Authorization: Bearer <token>` on the control API (compared in constant time).
    pub fn control_token(mut self, token: Option<String>) -> Self {
        self.control_token = token;
        self
    }

    /// The seed the builder describes.
    fn build_seed(&self) -> Seed {
        let mut seed = match &self.seed {
            Some(s) => s.clone(),
            None => match &self.admin_password {
                Some(pw) => Seed::bare(pw),
                None => Seed::default(),
            },
        };
        if seed.version.is_none() {
            seed.version = Some(self.version.resource_string());
        }
        for (name, policy) in &self.groups {
            seed.groups.push(seed::SeedGroup {
                name: name.clone(),
                policy: policy.clone(),
                comment: None,
            });
        }
        for (name, password, group) in &self.users {
            seed.users.push(seed::SeedUser {
                name: name.clone(),
                password: password.clone(),
                group: group.clone(),
                address: String::new(),
                disabled: false,
                comment: None,
            });
        }
        seed
    }

    /// Binds the listeners and starts serving.
    pub async fn start(self) -> Result<Simulator, StartError> {
        let token = self.control_token.as_ref().filter(|t| !t.is_empty());
        if self.control_port.is_some() && !self.control_bind.is_loopback() && token.is_none() {
            return Err(StartError::ControlWithoutToken(self.control_bind));
        }
        let bind = |port: u16| async move {
            let addr = SocketAddr::new(self.bind, port);
            TcpListener::bind(addr)
                .await
                .map_err(|source| StartError::Bind { addr, source })
        };
        let https = bind(self.https_port).await?;
        let http = match self.http_port {
            Some(p) => Some(bind(p).await?),
            None => None,
        };
        let https_addr = https.local_addr().map_err(|source| StartError::Bind {
            addr: SocketAddr::new(self.bind, self.https_port),
            source,
        })?;
        let http_addr = http.as_ref().and_then(|l| l.local_addr().ok());

        let names = tls::leaf_names(&self.names);
        let authority = tls::Authority::new("RouterOS simulator CA")?;
        let identity = match self.identity.clone() {
            Some(id) => id,
            None => authority.issue_current(&names)?,
        };
        let tls_state = tls::TlsState::new(identity, self.tls13)?;

        let clock = Arc::new(Clock::new());
        if self.limits.modelled_time {
            // Modelled time: the clock moves only by costs and explicit moves.
            clock.freeze();
        }
        let ports = LivePorts {
            www: http_addr.map(|a| a.port()),
            www_ssl: https_addr.port(),
        };
        let seed = self.build_seed();
        let now = clock.now();
        let router = seed
            .build(now, clock.wall_ms(now).div_euclid(1000), ports)
            .map_err(StartError::Seed)?;
        let shared = Arc::new(Shared::new(
            router,
            seed,
            ports,
            clock,
            self.limits,
            tls_state,
            authority,
            names,
        ));
        let (shutdown, shutdown_rx) = watch::channel(false);

        let local = control::local::Local::new(
            shared.clone(),
            control::types::Urls {
                https_url: format!("https://{https_addr}"),
                http_url: http_addr.map(|a| format!("http://{a}")),
            },
        );
        let mut control_addr = None;
        if let Some(port) = self.control_port {
            let addr = SocketAddr::new(self.control_bind, port);
            let listener = TcpListener::bind(addr)
                .await
                .map_err(|source| StartError::Bind { addr, source })?;
            control_addr = listener.local_addr().ok();
            let app = control::api::app(
                local.clone(),
                self.control_token.clone().filter(|t| !t.is_empty()),
            );
            let mut stop = shutdown_rx.clone();
            tokio::spawn(async move {
                let result = axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = stop.changed().await;
                    })
                    .await;
                if let Err(e) = result {
                    tracing::error!(error = %e, "control API stopped");
                }
            });
        }
        let mut tasks = vec![tokio::spawn(scripting::schedule::pump(
            shared.clone(),
            shutdown_rx.clone(),
        ))];
        tasks.push(tokio::spawn(server::supervise(
            shared.clone(),
            Listener::WwwSsl,
            self.bind,
            Some(https),
            shutdown_rx.clone(),
        )));
        if let Some(http) = http {
            tasks.push(tokio::spawn(server::supervise(
                shared.clone(),
                Listener::Www,
                self.bind,
                Some(http),
                shutdown_rx.clone(),
            )));
        } else {
            tasks.push(tokio::spawn(server::supervise(
                shared.clone(),
                Listener::Www,
                self.bind,
                None,
                shutdown_rx,
            )));
        }
        Ok(Simulator {
            shared,
            local,
            https_addr,
            http_addr,
            control_addr,
            shutdown,
            tasks,
        })
    }
}

/// A running simulator. Dropping it stops the listeners.
#[derive(Debug)]
pub struct Simulator {
    shared: Arc<Shared>,
    /// The control operations, for [`control::Control`].
    local: control::local::Local,
    https_addr: SocketAddr,
    http_addr: Option<SocketAddr>,
    control_addr: Option<SocketAddr>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

/// Removes its fault rule when dropped, so a test's fault cannot outlive the test.
#[derive(Debug)]
#[must_use = "the fault is removed as soon as the guard is dropped"]
pub struct FaultGuard {
    shared: Arc<Shared>,
    id: u64,
}

impl FaultGuard {
    /// The rule's id in the control API.
    pub fn id(&self) -> u64 {
        self.id
    }
}

impl Drop for FaultGuard {
    fn drop(&mut self) {
        self.shared.remove_fault(self.id);
    }
}

impl Simulator {
    /// A builder with the defaults: version 7.23.7, `admin`/`admin`, loopback, any free ports.
    pub fn builder() -> SimulatorBuilder {
        SimulatorBuilder::default()
    }

    /// `https://127.0.0.1:<port>` (the `www-ssl` service as started).
    pub fn https_url(&self) -> String {
        format!("https://{}", self.https_addr)
    }

    /// `http://127.0.0.1:<port>` (the `www` service as started), if there is one.
    pub fn http_url(&self) -> Option<String> {
        self.http_addr.map(|a| format!("http://{a}"))
    }

    /// The `www-ssl` address as started.
    pub fn https_addr(&self) -> SocketAddr {
        self.https_addr
    }

    /// The `www` address as started.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http_addr
    }

    /// `http://127.0.0.1:<port>` of the control API, if it was started.
    pub fn control_url(&self) -> Option<String> {
        self.control_addr.map(|a| format!("http://{a}"))
    }

    /// Adds a fault rule that lasts until the returned guard is dropped.
    pub fn fault(&self, rule: FaultRule) -> Result<FaultGuard, String> {
        let id = self.shared.add_fault(rule)?;
        Ok(FaultGuard {
            shared: self.shared.clone(),
            id,
        })
    }

    /// Adds a fault rule that lasts until removed; returns its id.
    pub fn add_fault(&self, rule: FaultRule) -> Result<u64, String> {
        self.shared.add_fault(rule)
    }

    /// Removes a fault rule.
    pub fn remove_fault(&self, id: u64) -> bool {
        self.shared.remove_fault(id)
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.shared.clear_faults();
    }

    /// The journal's entries matching `filter`.
    pub fn journal(&self, filter: &JournalFilter) -> JournalPage {
        self.shared.journal.query(filter)
    }

    /// A mark: pass it as `since` to see only the requests that come after this call.
    pub fn journal_mark(&self) -> u64 {
        self.shared.journal.mark()
    }

    /// Forgets the journal's entries.
    pub fn clear_journal(&self) {
        self.shared.journal.clear();
    }

    /// Returns the router to its seed.
    pub fn reset(&self) -> Result<(), String> {
        self.shared.reset()
    }

    /// Makes `seed` the router's state and what `reset` returns to.
    pub fn load_seed(&self, seed: Seed) -> Result<(), String> {
        self.shared.load_seed(seed)
    }

    /// The router's exact state.
    pub fn snapshot(&self) -> Snapshot {
        self.shared.snapshot()
    }

    /// Makes a snapshot the router's state.
    pub fn restore(&self, snapshot: &Snapshot) -> Result<(), String> {
        self.shared.restore(snapshot)
    }

    /// Serves a new certificate from the same CA from the next handshake on; returns its SHA-256.
    pub fn rotate_certificate(&self) -> Result<String, tls::TlsError> {
        self.shared.rotate_certificate()
    }

    /// SHA-256 fingerprint (lower-case hex) of the served leaf certificate.
    pub fn leaf_sha256(&self) -> String {
        tls::sha256_hex(&self.shared.tls.leaf_der())
    }

    /// The CA certificate (PEM) that issued the served certificate.
    pub fn ca_pem(&self) -> &str {
        &self.shared.authority.ca_pem
    }

    /// The simulator's clock: freeze, advance and resume it to test expiry without waiting.
    pub fn clock(&self) -> &Clock {
        &self.shared.clock
    }

    /// Reads or changes the router's state directly (expired entries are purged first).
    pub fn with_router<R>(&self, f: impl FnOnce(&mut Router) -> R) -> R {
        let now = self.shared.clock.now();
        let mut router = self.shared.router();
        router.purge(now);
        let out = f(&mut router);
        drop(router);
        self.shared.publish_services();
        out
    }

    /// Adds the CA certificates of a PEM text to the router's certificate store, as
    /// `/certificate import` of that file would (named `trusted-ca.pem_<n>`, trusted):
    /// `/tool/fetch check-certificate=yes` then trusts servers whose certificates they issued.
    /// Returns how many were added. Over REST the same is a `/file add contents=` and a
    /// `/certificate import file-name=`.
    pub fn trust_ca(&self, pem: &str) -> Result<usize, String> {
        let now = self.shared.clock.now();
        let wall_s = self.shared.clock.wall_ms(now).div_euclid(1000);
        let mut router = self.shared.router();
        let store = router.state::<model::scripting::Certificates>();
        store.set_wall(now, wall_s);
        scripting::fetch::import_pem(store, pem)
    }

    /// Moves the simulator's clock forward and runs the scheduler entries that became due,
    /// each at the time it was due. The control API's move (`Control::advance_clock`) refuses an
    /// out-of-range move with an error; this test convenience treats it as a bug in the test.
    ///
    /// # Panics
    /// When `by` is beyond the longest clock move the simulator accepts.
    pub async fn advance_clock(&self, by: Duration) {
        if let Err(e) = self.shared.clock.check_advance(by) {
            panic!("advance_clock: {e}");
        }
        self.shared.clock.advance(by);
        scripting::schedule::catch_up(&self.shared).await;
    }

    /// Waits until every background job (`/execute` without `as-string`) has finished.
    pub async fn scripts_idle(&self) {
        self.shared.scripting.idle().await;
    }

    /// The performance profile and session limit in force.
    pub fn limits(&self) -> Limits {
        self.shared.limits()
    }

    /// Changes the performance profile and session limit while running (turning
    /// [`Limits::modelled_time`] on freezes the clock).
    pub fn set_limits(&self, limits: Limits) {
        self.shared.set_limits(limits);
    }

    /// Simulates a reboot: dynamic entries vanish, `uptime` restarts, open connections drop.
    pub fn reboot(&self) {
        self.shared.reboot(Duration::ZERO);
    }

    /// A reboot during which connections are refused for `downtime`.
    pub fn reboot_with_downtime(&self, downtime: Duration) {
        self.shared.reboot(downtime);
    }

    /// The shared internals, for the control API.
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Stops listening and waits for the listeners to finish.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        self.shared.drop_connections();
        for t in self.tasks.drain(..) {
            let _ = tokio::time::timeout(Duration::from_secs(5), t).await;
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        self.shared.drop_connections();
    }
}
