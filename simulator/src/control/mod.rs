//! Controlling a simulator: seed, inspect and reset the router, move its clock, reboot it, read the
//! journal, inject faults, rotate its certificate and change its limits.
//!
//! There is one set of operations and one trait for it, [`Control`], with two implementations: the
//! in-process [`Simulator`] handle, which calls the operations directly, and [`ControlClient`], which
//! reaches a simulator running elsewhere through its control API ([`api`], JSON over HTTP on its own
//! loopback listener). Both return the same reply types ([`types`]) and the same refusals, because the
//! HTTP server is itself a thin layer over the operations the handle calls. Code that drives "a
//! simulator", such as the conformance suite, holds a `dyn Control` and does not care which.
//!
//! The trait's methods return boxed futures ([`ControlFuture`]) rather than being `async fn`s:
//! callers keep a `Box<dyn Control>`/`Arc<dyn Control>` chosen at run time, and a trait with
//! `async fn` methods cannot be used as a trait object. One allocation per control call is nothing
//! next to the request it usually makes.

pub(crate) mod api;
mod client;
pub(crate) mod local;
pub mod types;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

pub use client::ControlClient;
pub use local::Refusal;

use crate::Simulator;
use crate::faults::{FaultRule, RuleStatus};
use crate::journal::{JournalFilter, JournalPage};
use crate::seed::{Seed, Snapshot};
use crate::shared::Limits;
use types::{
    ClockReading, FaultAdded, FaultRemoved, FaultsCleared, Health, JournalCleared, Loaded, Mark,
    Rebooted, Reset, Restored, Rotated, TlsInfo, VerdictReply, VerdictRequest,
};

/// What a control call returns: a boxed future, so that [`Control`] can be a trait object.
pub type ControlFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, ControlError>> + Send + 'a>>;

/// Why a control call failed, with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// The simulator refused the call (bad input, an unknown fault rule): in process and over HTTP
    /// alike.
    #[error("the control API answered {}: {}", status_text(.0.status), .0.message)]
    Refused(#[from] Refusal),
    /// The control API wants a bearer token, and none or another was sent.
    #[error(
        "the control API at {url} refused the token: {message} (set ROUTEROS_SIM_TOKEN, or --token, to the simulator's --control-token)"
    )]
    Unauthorized {
        /// The control API's URL.
        url: String,
        /// What the control API said.
        message: String,
    },
    /// Nothing answered at the control URL, or the connection failed.
    #[error(
        "cannot reach the control API at {url}: {reason} (is `routeros-sim` running? set --control or ROUTEROS_SIM_CONTROL)"
    )]
    Unreachable {
        /// The control API's URL.
        url: String,
        /// The transport failure, with its causes.
        reason: String,
    },
    /// Something answered, but not with a reply of the control API.
    #[error(
        "the reply of {url} to {what} is not the control API's: {reason} (is --control the control API of a routeros-sim, not its www or www-ssl service?)"
    )]
    Reply {
        /// The control API's URL.
        url: String,
        /// The call, such as `GET /state`.
        what: String,
        /// What was wrong with the reply.
        reason: String,
    },
    /// The control URL cannot be used.
    #[error(
        "`{url}` is not a control API URL: {reason} (set --control to the URL routeros-sim prints, such as http://127.0.0.1:7090)"
    )]
    Url {
        /// The URL given.
        url: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// The HTTP client could not be built.
    #[error("cannot set up the control API's HTTP client: {0}")]
    Client(String),
}

impl ControlError {
    /// Whether the simulator answered that the thing asked for (a fault rule) does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, ControlError::Refused(r) if r.status == 404)
    }
}

fn status_text(status: u16) -> String {
    match http::StatusCode::from_u16(status) {
        Ok(s) => s.to_string(),
        Err(_) => status.to_string(),
    }
}

/// Control of a simulator, in process or through its control API.
///
/// Every method is one control API endpoint (`docs/control-api.md`) and returns its reply.
pub trait Control: Send + Sync + fmt::Debug {
    /// `GET /health`: where the services listen, the version, whether the router is down.
    fn health(&self) -> ControlFuture<'_, Health>;
    /// `GET /state`: the router's exact state.
    fn snapshot(&self) -> ControlFuture<'_, Snapshot>;
    /// `PUT /state`: makes a snapshot the router's state.
    fn restore<'a>(&'a self, snapshot: &'a Snapshot) -> ControlFuture<'a, Restored>;
    /// `POST /state/reset`: returns the router to its seed.
    fn reset(&self) -> ControlFuture<'_, Reset>;
    /// `GET /seed`: what `reset` returns to.
    fn seed(&self) -> ControlFuture<'_, Seed>;
    /// `PUT /seed`: makes `seed` the state and what `reset` returns to.
    fn load_seed(&self, seed: Seed) -> ControlFuture<'_, Loaded>;
    /// `GET /clock`.
    fn clock(&self) -> ControlFuture<'_, ClockReading>;
    /// `POST /clock/freeze`: stops the clock.
    fn freeze_clock(&self) -> ControlFuture<'_, ClockReading>;
    /// `POST /clock/resume`: lets a frozen clock run again (refused while the limits model time
    /// on the clock).
    fn resume_clock(&self) -> ControlFuture<'_, ClockReading>;
    /// `POST /clock/advance`: moves the clock forward.
    fn advance_clock(&self, by: Duration) -> ControlFuture<'_, ClockReading>;
    /// `POST /reboot`: dynamic entries vanish, connections drop and are refused for `downtime`.
    fn reboot(&self, downtime: Duration) -> ControlFuture<'_, Rebooted>;
    /// `GET /journal`: the requests matching `filter`.
    fn journal<'a>(&'a self, filter: &'a JournalFilter) -> ControlFuture<'a, JournalPage>;
    /// `POST /journal/mark`: pass the mark as `since` to see only what comes after.
    fn journal_mark(&self) -> ControlFuture<'_, Mark>;
    /// `DELETE /journal`: forgets the recorded requests.
    fn clear_journal(&self) -> ControlFuture<'_, JournalCleared>;
    /// `GET /faults`: the rules with their counters.
    fn faults(&self) -> ControlFuture<'_, Vec<RuleStatus>>;
    /// `POST /faults`: adds a rule until it is removed.
    fn add_fault(&self, rule: FaultRule) -> ControlFuture<'_, FaultAdded>;
    /// `DELETE /faults/{id}`: removes a rule (refused with 404 when there is none).
    fn remove_fault(&self, id: u64) -> ControlFuture<'_, FaultRemoved>;
    /// `DELETE /faults`: removes every rule.
    fn clear_faults(&self) -> ControlFuture<'_, FaultsCleared>;
    /// `GET /tls`: the CA and the served certificate's fingerprint.
    fn tls(&self) -> ControlFuture<'_, TlsInfo>;
    /// `POST /tls/rotate`: serves a new certificate from the same CA.
    fn rotate_certificate(&self) -> ControlFuture<'_, Rotated>;
    /// `GET /limits`: the performance profile.
    fn limits(&self) -> ControlFuture<'_, Limits>;
    /// `PUT /limits`: replaces the performance profile.
    fn set_limits(&self, limits: Limits) -> ControlFuture<'_, Limits>;
    /// `POST /verdict`: what the filter rules do to a packet, which rule decided and why; the
    /// counters of the rules it matched advance.
    fn verdict<'a>(&'a self, request: &'a VerdictRequest) -> ControlFuture<'a, VerdictReply>;
}

/// An answer that is already there, as a [`ControlFuture`].
fn ready<T: Send + 'static>(r: Result<T, Refusal>) -> ControlFuture<'static, T> {
    Box::pin(std::future::ready(r.map_err(ControlError::from)))
}

/// The in-process handle calls the operations directly; nothing can fail on the way.
impl Control for Simulator {
    fn health(&self) -> ControlFuture<'_, Health> {
        ready(Ok(self.local.health()))
    }
    fn snapshot(&self) -> ControlFuture<'_, Snapshot> {
        ready(Ok(self.local.snapshot()))
    }
    fn restore<'a>(&'a self, snapshot: &'a Snapshot) -> ControlFuture<'a, Restored> {
        ready(self.local.restore(snapshot))
    }
    fn reset(&self) -> ControlFuture<'_, Reset> {
        ready(self.local.reset())
    }
    fn seed(&self) -> ControlFuture<'_, Seed> {
        ready(Ok(self.local.seed()))
    }
    fn load_seed(&self, seed: Seed) -> ControlFuture<'_, Loaded> {
        ready(self.local.load_seed(seed))
    }
    fn clock(&self) -> ControlFuture<'_, ClockReading> {
        ready(Ok(self.local.clock()))
    }
    fn freeze_clock(&self) -> ControlFuture<'_, ClockReading> {
        ready(Ok(self.local.freeze_clock()))
    }
    fn resume_clock(&self) -> ControlFuture<'_, ClockReading> {
        ready(self.local.resume_clock())
    }
    fn advance_clock(&self, by: Duration) -> ControlFuture<'_, ClockReading> {
        ready(self.local.advance_clock(by))
    }
    fn reboot(&self, downtime: Duration) -> ControlFuture<'_, Rebooted> {
        ready(self.local.reboot(downtime))
    }
    fn journal<'a>(&'a self, filter: &'a JournalFilter) -> ControlFuture<'a, JournalPage> {
        ready(Ok(self.local.journal(filter)))
    }
    fn journal_mark(&self) -> ControlFuture<'_, Mark> {
        ready(Ok(self.local.journal_mark()))
    }
    fn clear_journal(&self) -> ControlFuture<'_, JournalCleared> {
        ready(Ok(self.local.clear_journal()))
    }
    fn faults(&self) -> ControlFuture<'_, Vec<RuleStatus>> {
        ready(Ok(self.local.faults()))
    }
    fn add_fault(&self, rule: FaultRule) -> ControlFuture<'_, FaultAdded> {
        ready(self.local.add_fault(rule))
    }
    fn remove_fault(&self, id: u64) -> ControlFuture<'_, FaultRemoved> {
        ready(self.local.remove_fault(id))
    }
    fn clear_faults(&self) -> ControlFuture<'_, FaultsCleared> {
        ready(Ok(self.local.clear_faults()))
    }
    fn tls(&self) -> ControlFuture<'_, TlsInfo> {
        ready(Ok(self.local.tls()))
    }
    fn rotate_certificate(&self) -> ControlFuture<'_, Rotated> {
        ready(self.local.rotate_certificate())
    }
    fn limits(&self) -> ControlFuture<'_, Limits> {
        ready(Ok(self.local.limits()))
    }
    fn set_limits(&self, limits: Limits) -> ControlFuture<'_, Limits> {
        ready(Ok(self.local.set_limits(limits)))
    }
    fn verdict<'a>(&'a self, request: &'a VerdictRequest) -> ControlFuture<'a, VerdictReply> {
        ready(self.local.verdict(request))
    }
}
