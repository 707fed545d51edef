//! What every connection and request of one simulator shares.
//!
//! [`Shared`] owns the router state behind its single lock, the clock, the TLS state, the runtime
//! limits (the router performance profile), the per-user request queues, the fault rules and the
//! journal. It also carries out the whole-router operations of the control API (reset, seed,
//! snapshot, reboot), so that the HTTP control API, the CLI and the in-process handle share one
//! implementation. Listeners follow two watch channels: the published `/ip/service` rows, and an
//! availability counter bumped whenever a reboot or a `refuse` fault opens or closes them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use tokio::sync::watch;

use crate::clock::Clock;
use crate::faults::{FaultRule, Faults};
use crate::journal::Journal;
use crate::meter::{Meter, UserQueue};
use crate::model::Router;
use crate::model::services::{Listener, ListenerConfig, Services};
use crate::model::users::Policies;
use crate::seed::{LivePorts, Seed, Snapshot};
use crate::tls::{Authority, TlsState};

/// The longest reboot downtime the simulator accepts: a day is far beyond any real reboot, and a
/// bound keeps a typo (or `u64::MAX`) from closing the listeners for good.
pub const MAX_DOWNTIME: Duration = Duration::from_secs(24 * 3600);

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
    #[serde(with = "cost_ms")]
    pub request_cost: Duration,
    /// Time added per row read or written (a print's rows also cost their fields and scan; see
    /// [`crate::costs`]).
    #[serde(with = "cost_ms")]
    pub row_cost: Duration,
    /// Time added per row a print or count examines: every row of the table when it has a
    /// filter, since a router checks each row against it (router-speed profile; default 0).
    #[serde(with = "cost_ms")]
    pub scan_cost: Duration,
    /// Time added per field of each row a print returns, so that `.proplist` makes a read
    /// cheaper (router-speed profile; default 0).
    #[serde(with = "cost_ms")]
    pub field_cost: Duration,
    /// How long a user's policies are remembered after a login (router: 10 minutes; default 0:
    /// every request sees the current groups). A group's policy change reaches a user whose
    /// policies are remembered only when the memory expires.
    #[serde(with = "millis")]
    pub login_cache: Duration,
    /// Modelled time each command run inside a script costs (router-speed profile; default 0,
    /// like the REST costs). See [`Limits::realistic`] for the calibration.
    #[serde(with = "cost_ms")]
    pub script_command_cost: Duration,
    /// Modelled time a `/tool/fetch` costs besides its real transfer (router-speed profile).
    #[serde(with = "cost_ms")]
    pub fetch_cost: Duration,
    /// Time a client has to finish the TLS handshake, to send a request's head once it starts, and
    /// to send the body its head announced; past it the connection is closed without an answer, so
    /// that a silent client cannot keep a `max-sessions` slot (router: not published; 10 s, a common
    /// web-server default).
    #[serde(with = "millis")]
    pub read_timeout: Duration,
    /// Bytes the request journal may hold before its oldest entries are dropped (default 64 MiB;
    /// user names and paths are kept up to 1 KiB each).
    pub journal_bytes: usize,
    /// Run the costs above on the simulator's clock instead of waiting for them (default false).
    ///
    /// When on, the clock is frozen (only costs and explicit clock moves move it) and every cost
    /// advances it while the user's queue turn is held, so a router-speed scenario of minutes of
    /// modelled time takes a moment of real time and the journal's `cost_us` adds up to the clock.
    /// Per-user order is kept; with several users at once the modelled time is the sum of their
    /// costs, an upper bound of what a router that serves users in parallel would take. A request
    /// whose modelled cost passes `session_limit` moves the clock by the limit and is answered
    /// `400 Session closed`.
    pub modelled_time: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            session_limit: Duration::from_secs(60),
            serialize_per_user: true,
            request_cost: Duration::ZERO,
            row_cost: Duration::ZERO,
            scan_cost: Duration::ZERO,
            field_cost: Duration::ZERO,
            login_cache: Duration::ZERO,
            script_command_cost: Duration::ZERO,
            fetch_cost: Duration::ZERO,
            read_timeout: Duration::from_secs(10),
            journal_bytes: crate::journal::DEFAULT_BYTES,
            modelled_time: false,
        }
    }
}

impl Limits {
    /// A small real router: about 8 single requests a second (1,868 GETs took 3 m 42 s) and
    /// reads that cost a scan of every row examined and each row and field returned, about
    /// 0.9 ms for a whole address-list row (3,000 rows took 2.7 s on a CHR); the model and the
    /// sources of its figures are in [`crate::costs`].
    pub fn realistic() -> Self {
        Self {
            request_cost: Duration::from_millis(120),
            row_cost: Duration::from_micros(100),
            scan_cost: Duration::from_micros(125),
            field_cost: Duration::from_micros(80),
            login_cache: Duration::from_secs(600),
            // Scripted address-list adds on an RB5009 (RouterOS 7.22.1, one API session, chunks
            // of 100 added, run and removed as scripts): about 168 entries a second including
            // each chunk's overhead (cs-routeros-bouncer CHANGELOG; `internal/routeros/bulk.go`),
            // so 6 ms a scripted command.
            script_command_cost: Duration::from_millis(6),
            // No fetch timing of a router was published; a TLS handshake on an RB5009-class CPU
            // is of the order of 60 ms [likely; research estimate, see README].
            fetch_cost: Duration::from_millis(60),
            ..Self::default()
        }
    }

    /// These limits with their costs run on the simulator's clock ([`Limits::modelled_time`]):
    /// `Limits::realistic().modelled()` is the router-speed profile for tests and benchmarks that
    /// must not wait in real time.
    pub fn modelled(self) -> Self {
        Self {
            modelled_time: true,
            ..self
        }
    }
}

/// A cost in milliseconds, which may have a fraction (a row costs 0.9 ms, a scripted command a
/// few): written as a whole number when it is one, read from a number or from RouterOS duration
/// text such as `"500ms"`.
mod cost_ms {
    use std::time::Duration;

    /// The largest cost accepted: an hour, far past any session limit.
    const MAX_MS: f64 = 3_600_000.0;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        match d.subsec_nanos() % 1_000_000 {
            0 => s.serialize_u64(d.as_millis() as u64),
            _ => s.serialize_f64(d.as_secs_f64() * 1000.0),
        }
    }

    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Cost {
        Number(f64),
        Text(String),
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let ms = match <Cost as serde::Deserialize>::deserialize(d)? {
            Cost::Number(ms) => ms,
            Cost::Text(t) => {
                crate::control::types::Span::Text(t)
                    .to_duration("a cost")
                    .map_err(serde::de::Error::custom)?
                    .as_secs_f64()
                    * 1000.0
            }
        };
        if !ms.is_finite() || !(0.0..=MAX_MS).contains(&ms) {
            return Err(serde::de::Error::custom(
                "a cost is between 0 and 3600000 ms (a number, or RouterOS duration text)",
            ));
        }
        // Whole microseconds: the clock's resolution.
        Ok(Duration::from_micros((ms * 1000.0).round() as u64))
    }
}

mod millis {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }

    /// Milliseconds, or RouterOS duration text such as `"1m"` or `"500ms"`.
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let span = <crate::control::types::Span as serde::Deserialize>::deserialize(d)?;
        span.to_duration("a duration")
            .map_err(serde::de::Error::custom)
    }
}

/// The reboot in progress, if any.
#[derive(Debug, Default)]
struct Downtime {
    /// Bumped by every reboot and reset; a wake-up of an older generation does nothing.
    generation: u64,
    /// When the listeners open again.
    until: Option<tokio::time::Instant>,
}

/// State shared by all listeners, connections and requests.
#[derive(Debug)]
pub struct Shared {
    router: Mutex<Router>,
    /// The simulator's clock.
    pub clock: Arc<Clock>,
    limits: RwLock<Limits>,
    queues: Mutex<HashMap<String, Arc<UserQueue>>>,
    services: watch::Sender<Services>,
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
    /// Fault rules.
    pub faults: Faults,
    /// Request journal.
    pub journal: Journal,
    /// What `reset` returns to.
    seed: Mutex<Seed>,
    /// Where the live services listen.
    pub ports: LivePorts,
    /// Bumped when listeners must re-check whether they may listen (reboot, `refuse` faults).
    availability: watch::Sender<u64>,
    /// The router is rebooting: listeners are closed.
    down: AtomicBool,
    /// When the current downtime ends, and which reboot set it: only the task of the latest reboot
    /// brings the router back, so overlapping reboots compose into one downtime.
    downtime: Mutex<Downtime>,
    /// Remembered logins: policies and when they were remembered (see [`Limits::login_cache`]).
    sessions_cache: Mutex<HashMap<String, (Policies, crate::clock::SimTime)>>,
    /// Background jobs, globals and the scheduler's catch-up.
    pub scripting: crate::scripting::Runtime,
}

impl Shared {
    /// Wraps a router and its surroundings.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        router: Router,
        seed: Seed,
        ports: LivePorts,
        clock: Arc<Clock>,
        limits: Limits,
        tls: TlsState,
        authority: Authority,
        names: Vec<String>,
    ) -> Self {
        let services = watch::Sender::new(router.services.clone());
        Self {
            faults: Faults::default(),
            journal: Journal::with_capacity_bytes(limits.journal_bytes),
            seed: Mutex::new(seed),
            ports,
            availability: watch::Sender::new(0),
            down: AtomicBool::new(false),
            downtime: Mutex::new(Downtime::default()),
            sessions_cache: Mutex::new(HashMap::new()),
            scripting: crate::scripting::Runtime::default(),
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

    /// Replaces the limits. Turning `modelled_time` on freezes the clock (only costs and clock
    /// moves move it from then on); turning it off leaves the clock frozen where it is, for
    /// `clock resume` to let it run.
    pub fn set_limits(&self, limits: Limits) {
        self.journal.set_max_bytes(limits.journal_bytes);
        if limits.modelled_time {
            self.clock.freeze();
        }
        *self.limits.write().unwrap_or_else(|e| e.into_inner()) = limits;
    }

    /// The policies a request of `user` runs with: `current` (the group's policies now), or those
    /// remembered from an earlier login while the login cache holds them. Credentials, the disabled
    /// flag and the allowed address are always checked afresh; only policies are cached.
    pub fn session_policies(&self, user: &str, current: Policies) -> Policies {
        let ttl = self.limits().login_cache;
        if ttl.is_zero() {
            return current;
        }
        let now = self.clock.now();
        let mut sessions = self
            .sessions_cache
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        match sessions.get(user) {
            Some(&(policies, since)) if now.saturating_sub(since) < ttl.as_millis() as u64 => {
                policies
            }
            _ => {
                sessions.insert(user.to_owned(), (current, now));
                current
            }
        }
    }

    /// Forgets remembered logins (a reboot, a reset).
    pub fn forget_sessions(&self) {
        self.sessions_cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// A meter for work that runs outside any request (a background job, a scheduled run): no
    /// session limit; with modelled time its costs move the clock.
    pub fn background_meter(&self) -> Arc<Meter> {
        Arc::new(Meter::new(
            self.clock.clone(),
            self.limits().modelled_time,
            None,
        ))
    }

    /// The queue that serialises `user`'s requests.
    pub fn user_queue(&self, user: &str) -> Arc<UserQueue> {
        let mut queues = self.queues.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(q) = queues.get(user) {
            return q.clone();
        }
        queues.entry(user.to_owned()).or_default().clone()
    }

    /// Tells the listeners about the router's current services.
    pub fn publish_services(&self) {
        let services = self.router().services.clone();
        self.services.send_if_modified(|current| {
            let changed = *current != services;
            *current = services;
            changed
        });
    }

    /// Follows service changes.
    pub fn watch_services(&self) -> watch::Receiver<Services> {
        self.services.subscribe()
    }

    /// The settings of a listener as last published.
    pub fn listener_config(&self, l: Listener) -> ListenerConfig {
        self.services.borrow().listener_config(l)
    }

    /// Open-connection counter of a listener.
    pub fn sessions(&self, l: Listener) -> &AtomicUsize {
        &self.sessions[l as usize]
    }

    /// Drops every open connection.
    pub fn drop_connections(&self) {
        self.epoch.send_modify(|e| *e += 1);
    }

    /// Follows connection drops.
    pub fn watch_epoch(&self) -> watch::Receiver<u64> {
        self.epoch.subscribe()
    }

    /// Follows changes in whether listeners may listen.
    pub fn watch_availability(&self) -> watch::Receiver<u64> {
        self.availability.subscribe()
    }

    fn availability_changed(&self) {
        self.availability.send_modify(|n| *n += 1);
    }

    /// Whether `l` should be listening now: its service is enabled, the router is up, and no
    /// `refuse` fault closes it.
    pub fn may_listen(&self, l: Listener) -> Option<u16> {
        let config = self.listener_config(l);
        let open = config.enabled && !self.down.load(Ordering::SeqCst) && !self.faults.refusing(l);
        open.then_some(config.port)
    }

    /// Adds a fault rule.
    pub fn add_fault(&self, rule: FaultRule) -> Result<u64, String> {
        let id = self.faults.add(rule)?;
        self.availability_changed();
        Ok(id)
    }

    /// Removes a fault rule.
    pub fn remove_fault(&self, id: u64) -> bool {
        let removed = self.faults.remove(id);
        self.availability_changed();
        removed
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.faults.clear();
        self.availability_changed();
    }

    /// Replaces the router, keeping listeners in step.
    fn replace_router(&self, router: Router) {
        *self.router() = router;
        self.forget_sessions();
        self.publish_services();
    }

    /// Returns the router to its seed. A downtime in progress ends: a reset always leaves a router
    /// that answers.
    pub fn reset(&self) -> Result<(), String> {
        let seed = self.seed.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let now = self.clock.now();
        let router = seed.build(now, self.clock.wall_ms(now).div_euclid(1000), self.ports)?;
        self.replace_router(router);
        self.end_downtime();
        Ok(())
    }

    /// Makes `seed` the router's state and the state `reset` returns to.
    ///
    /// A seed without an enabled user is refused: the router it makes could never be reached
    /// through REST again, and `state reset` would return to it.
    pub fn load_seed(&self, seed: Seed) -> Result<(), String> {
        if !seed.users.iter().any(|u| !u.disabled) {
            return Err(
                "the seed has no enabled user, so no client could log in to the router it \
                 makes; add one (`[[user]]` with a name, password and group, as in \
                 fixtures/seeds/vendor-guide.toml)"
                    .into(),
            );
        }
        let now = self.clock.now();
        let router = seed.build(now, self.clock.wall_ms(now).div_euclid(1000), self.ports)?;
        *self.seed.lock().unwrap_or_else(|e| e.into_inner()) = seed;
        self.replace_router(router);
        Ok(())
    }

    /// The seed `reset` returns to.
    pub fn seed(&self) -> Seed {
        self.seed.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The router's exact state.
    pub fn snapshot(&self) -> Snapshot {
        let now = self.clock.now();
        let mut router = self.router();
        router.purge(now);
        Snapshot::capture(&router, now)
    }

    /// Makes a snapshot the router's state.
    pub fn restore(&self, snapshot: &Snapshot) -> Result<(), String> {
        let router = snapshot.restore(self.clock.now(), self.ports)?;
        self.replace_router(router);
        Ok(())
    }

    /// A reboot: dynamic entries vanish, open connections drop, the listeners stay closed for
    /// `downtime` (at most [`MAX_DOWNTIME`]), and `uptime` counts from when the router is back.
    ///
    /// Reboots compose: one during another's downtime keeps the listeners closed until the later of
    /// the two ends, and the router comes back once, then. A reboot without downtime is a restart
    /// that ends any downtime in progress.
    pub fn reboot(self: &Arc<Self>, downtime: Duration) {
        let downtime = downtime.min(MAX_DOWNTIME);
        let now = self.clock.now();
        self.router().reboot(now);
        self.forget_sessions();
        if downtime.is_zero() {
            self.end_downtime();
            self.drop_connections();
            return;
        }
        let (generation, until) = {
            let mut d = self.downtime.lock().unwrap_or_else(|e| e.into_inner());
            let end = tokio::time::Instant::now() + downtime;
            let until = d.until.map_or(end, |u| u.max(end));
            d.generation += 1;
            d.until = Some(until);
            (d.generation, until)
        };
        self.down.store(true, Ordering::SeqCst);
        self.availability_changed();
        self.drop_connections();
        let me = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep_until(until).await;
            {
                let mut d = me.downtime.lock().unwrap_or_else(|e| e.into_inner());
                if d.generation != generation {
                    // A later reboot or a reset took over this downtime.
                    return;
                }
                d.until = None;
            }
            let now = me.clock.now();
            me.router().booted_at = now;
            me.down.store(false, Ordering::SeqCst);
            me.availability_changed();
        });
    }

    /// Opens the listeners now, whatever reboot closed them.
    fn end_downtime(&self) {
        {
            let mut d = self.downtime.lock().unwrap_or_else(|e| e.into_inner());
            d.generation += 1;
            d.until = None;
        }
        if self.down.swap(false, Ordering::SeqCst) {
            self.availability_changed();
        }
    }

    /// Serves a new certificate from the same CA from the next handshake on; returns its SHA-256.
    pub fn rotate_certificate(&self) -> Result<String, crate::tls::TlsError> {
        let identity = self.authority.issue_current(&self.names)?;
        self.tls.replace(identity)?;
        Ok(crate::tls::sha256_hex(&self.tls.leaf_der()))
    }

    /// Whether the router is in a reboot's downtime.
    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_take_durations_as_milliseconds_or_text() {
        let l: Limits = serde_json::from_str(
            r#"{"request_cost":"120ms","row_cost":1,"session_limit":"1m","journal_bytes":1024}"#,
        )
        .expect("parses");
        assert_eq!(l.request_cost, Duration::from_millis(120));
        assert_eq!(l.row_cost, Duration::from_millis(1));
        assert_eq!(l.session_limit, Duration::from_secs(60));
        assert_eq!(l.journal_bytes, 1024);
        assert_eq!(l.read_timeout, Limits::default().read_timeout);
        let e = serde_json::from_str::<Limits>(r#"{"row_cost":"soon"}"#).expect_err("refused");
        assert!(e.to_string().contains("RouterOS duration"), "{e}");
    }

    #[test]
    fn costs_keep_their_fractions_both_ways() {
        let l = Limits::realistic().modelled();
        let json = serde_json::to_value(l).expect("serialises");
        assert_eq!(json["row_cost"], serde_json::json!(0.1));
        assert_eq!(json["scan_cost"], serde_json::json!(0.125));
        assert_eq!(json["request_cost"], serde_json::json!(120));
        assert_eq!(json["modelled_time"], serde_json::json!(true));
        let back: Limits = serde_json::from_value(json).expect("parses");
        assert_eq!(back, l);
        let l: Limits = serde_json::from_str(r#"{"script_command_cost":"6ms","row_cost":0.25}"#)
            .expect("parses");
        assert_eq!(l.script_command_cost, Duration::from_millis(6));
        assert_eq!(l.row_cost, Duration::from_micros(250));
        assert!(!l.modelled_time, "off unless asked");
        for bad in [r#"{"row_cost":-1}"#, r#"{"fetch_cost":1e12}"#] {
            assert!(serde_json::from_str::<Limits>(bad).is_err(), "{bad}");
        }
    }
}
