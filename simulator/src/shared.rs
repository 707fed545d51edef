//! What every connection and request of one simulator shares.
//!
//! [`Shared`] owns the router state behind its single lock, the clock, the TLS state, the runtime
//! limits (the router performance profile) and the per-user request queues. Service changes made
//! through REST are published on a watch channel that the listeners follow.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use tokio::sync::watch;

use crate::clock::Clock;
use crate::model::Router;
use crate::model::services::{Listener, ListenerConfig, Service};
use crate::tls::{Authority, TlsState};

/// How the router paces requests (ROUTEROS-REST.md section 6).
///
/// The defaults are as fast as the machine allows while keeping the real router's ordering and
/// session limit; [`Limits::realistic`] adds the slowness of a small real router.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Limits {
    /// A command still running after this long is answered `400 Session closed` (router: 60 s).
    #[serde(with = "millis")]
    pub session_limit: Duration,
    /// Run one user's requests one at a time, in arrival order (router: yes).
    pub serialize_per_user: bool,
    /// Time added to every request.
    #[serde(with = "millis")]
    pub request_cost: Duration,
    /// Time added per row read or written.
    #[serde(with = "millis")]
    pub row_cost: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            session_limit: Duration::from_secs(60),
            serialize_per_user: true,
            request_cost: Duration::ZERO,
            row_cost: Duration::ZERO,
        }
    }
}

impl Limits {
    /// A small real router: about 8 single requests a second and about 1 ms per printed row
    /// (1,868 GETs took 3 m 42 s; 3,000 rows took 2.7 s on a CHR).
    pub fn realistic() -> Self {
        Self { request_cost: Duration::from_millis(120), row_cost: Duration::from_micros(900), ..Self::default() }
    }
}

mod millis {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        <u64 as serde::Deserialize>::deserialize(d).map(Duration::from_millis)
    }
}

/// State shared by all listeners, connections and requests.
#[derive(Debug)]
pub struct Shared {
    router: Mutex<Router>,
    /// The simulator's clock.
    pub clock: Arc<Clock>,
    limits: RwLock<Limits>,
    queues: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    services: watch::Sender<Vec<Service>>,
    /// TLS settings of `www-ssl`.
    pub tls: TlsState,
    /// The CA that issued the served certificate (also issues fault certificates).
    pub authority: Authority,
    /// Names the served certificate carries.
    pub names: Vec<String>,
    /// Open connections per listener (`www`, `www-ssl`), for `max-sessions`.
    sessions: [AtomicUsize; 2],
    /// Bumped to drop every open connection (reboot).
    epoch: watch::Sender<u64>,
}

impl Shared {
    /// Wraps a router and its surroundings.
    pub fn new(router: Router, clock: Arc<Clock>, limits: Limits, tls: TlsState, authority: Authority, names: Vec<String>) -> Self {
        let services = watch::Sender::new(router.services.rows.clone());
        Self {
            router: Mutex::new(router),
            clock,
            limits: RwLock::new(limits),
            queues: Mutex::new(HashMap::new()),
            services,
            tls,
            authority,
            names,
            sessions: [AtomicUsize::new(0), AtomicUsize::new(0)],
            epoch: watch::Sender::new(0),
        }
    }

    /// The router, locked. Hold it briefly: every request needs it.
    pub fn router(&self) -> MutexGuard<'_, Router> {
        // Router methods validate before they mutate, so a panic cannot leave it half-changed.
        self.router.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The current limits.
    pub fn limits(&self) -> Limits {
        *self.limits.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Replaces the limits.
    pub fn set_limits(&self, limits: Limits) {
        *self.limits.write().unwrap_or_else(|e| e.into_inner()) = limits;
    }

    /// The queue that serialises `user`'s requests.
    pub fn user_queue(&self, user: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut queues = self.queues.lock().unwrap_or_else(|e| e.into_inner());
        queues.entry(user.to_owned()).or_default().clone()
    }

    /// Tells the listeners about the router's current services.
    pub fn publish_services(&self) {
        let rows = self.router().services.rows.clone();
        self.services.send_if_modified(|current| {
            let changed = *current != rows;
            *current = rows;
            changed
        });
    }

    /// Follows service changes.
    pub fn watch_services(&self) -> watch::Receiver<Vec<Service>> {
        self.services.subscribe()
    }

    /// The settings of a listener as last published.
    pub fn listener_config(&self, l: Listener) -> ListenerConfig {
        let rows = self.services.borrow();
        crate::model::services::Services { rows: rows.clone() }.listener_config(l)
    }

    /// Open-connection counter of a listener.
    pub fn sessions(&self, l: Listener) -> &AtomicUsize {
        &self.sessions[l as usize]
    }

    /// Number of open connections on a listener.
    pub fn open_sessions(&self, l: Listener) -> usize {
        self.sessions(l).load(Ordering::Relaxed)
    }

    /// Drops every open connection.
    pub fn drop_connections(&self) {
        self.epoch.send_modify(|e| *e += 1);
    }

    /// Follows connection drops.
    pub fn watch_epoch(&self) -> watch::Receiver<u64> {
        self.epoch.subscribe()
    }
}
