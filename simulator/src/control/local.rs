//! The control operations on a simulator's shared state, as the control API defines them.
//!
//! Both the HTTP control API ([`super::api`]) and the in-process handle's [`super::Control`]
//! implementation call these, so a reply or a refusal is the same whichever way a test reaches the
//! simulator. Each operation is a thin call on [`Shared`] that builds the reply type of
//! [`super::types`]; a refusal carries the HTTP status the control API answers it with.

use std::sync::Arc;
use std::time::Duration;

use crate::faults::{FaultRule, RuleStatus};
use crate::journal::{JournalFilter, JournalPage};
use crate::seed::{Seed, Snapshot};
use crate::shared::{Limits, Shared};
use crate::tls::sha256_hex;

use super::types::{
    ClockReading, FaultAdded, FaultRemoved, FaultsCleared, Health, JournalCleared, Loaded, Mark,
    Rebooted, Reset, Restored, Rotated, TlsInfo, Urls, VerdictReply, VerdictRequest,
};

/// A control operation the simulator refused: the HTTP status the control API answers with, and a
/// sentence saying what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Refusal {
    /// The control API's status for it (400 for bad input, 401, 404 for an unknown fault rule).
    pub status: u16,
    /// What went wrong and what to do.
    pub message: String,
}

impl Refusal {
    /// A `400 Bad Request`: the input cannot be used.
    pub fn bad(message: impl Into<String>) -> Refusal {
        Refusal {
            status: 400,
            message: message.into(),
        }
    }
}

/// The control operations over one simulator's shared state.
#[derive(Debug, Clone)]
pub(crate) struct Local {
    shared: Arc<Shared>,
    urls: Arc<Urls>,
}

impl Local {
    /// The operations on `shared`, whose services listen at `urls`.
    pub(crate) fn new(shared: Arc<Shared>, urls: Urls) -> Local {
        Local {
            shared,
            urls: Arc::new(urls),
        }
    }

    pub(crate) fn health(&self) -> Health {
        Health {
            down: self.shared.is_down(),
            http_url: self.urls.http_url.clone(),
            https_url: self.urls.https_url.clone(),
            ok: true,
            version: self.shared.router().version.resource_string(),
        }
    }

    pub(crate) fn snapshot(&self) -> Snapshot {
        self.shared.snapshot()
    }

    pub(crate) fn restore(&self, snapshot: &Snapshot) -> Result<Restored, Refusal> {
        self.shared.restore(snapshot).map_err(Refusal::bad)?;
        Ok(Restored { restored: true })
    }

    pub(crate) fn reset(&self) -> Result<Reset, Refusal> {
        self.shared.reset().map_err(Refusal::bad)?;
        Ok(Reset { reset: true })
    }

    pub(crate) fn seed(&self) -> Seed {
        self.shared.seed()
    }

    pub(crate) fn load_seed(&self, seed: Seed) -> Result<Loaded, Refusal> {
        self.shared.load_seed(seed).map_err(Refusal::bad)?;
        Ok(Loaded { loaded: true })
    }

    pub(crate) fn clock(&self) -> ClockReading {
        self.shared.clock.reading()
    }

    pub(crate) fn freeze_clock(&self) -> ClockReading {
        self.shared.clock.freeze()
    }

    /// Lets the clock run again, unless the limits model time on it: then only costs and
    /// explicit moves may move it, and a running clock would add real time to every cost.
    pub(crate) fn resume_clock(&self) -> Result<ClockReading, Refusal> {
        if self.shared.limits().modelled_time {
            return Err(Refusal::bad(
                "the clock runs on modelled time (limits.modelled_time): only costs and clock \
                 moves move it; set modelled_time to false first",
            ));
        }
        Ok(self.shared.clock.resume())
    }

    pub(crate) fn advance_clock(&self, by: Duration) -> Result<ClockReading, Refusal> {
        self.shared.clock.check_advance(by).map_err(Refusal::bad)?;
        let reading = self.shared.clock.advance(by);
        // Scheduler entries that became due run now, each at its own time; the next REST
        // request waits for them.
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            let shared = self.shared.clone();
            handle.spawn(async move { crate::scripting::schedule::catch_up(&shared).await });
        }
        Ok(reading)
    }

    pub(crate) fn reboot(&self, downtime: Duration) -> Result<Rebooted, Refusal> {
        if downtime > crate::shared::MAX_DOWNTIME {
            return Err(Refusal::bad(format!(
                "a reboot's downtime is at most {}h (asked {}s)",
                crate::shared::MAX_DOWNTIME.as_secs() / 3600,
                downtime.as_secs()
            )));
        }
        self.shared.reboot(downtime);
        Ok(Rebooted {
            downtime_ms: downtime.as_millis() as u64,
            rebooting: true,
        })
    }

    pub(crate) fn journal(&self, filter: &JournalFilter) -> JournalPage {
        self.shared.journal.query(filter)
    }

    pub(crate) fn journal_mark(&self) -> Mark {
        Mark {
            mark: self.shared.journal.mark(),
        }
    }

    pub(crate) fn clear_journal(&self) -> JournalCleared {
        self.shared.journal.clear();
        JournalCleared {
            cleared: true,
            next_mark: self.shared.journal.mark(),
        }
    }

    pub(crate) fn faults(&self) -> Vec<RuleStatus> {
        self.shared.faults.list()
    }

    pub(crate) fn add_fault(&self, rule: FaultRule) -> Result<FaultAdded, Refusal> {
        let id = self.shared.add_fault(rule).map_err(Refusal::bad)?;
        Ok(FaultAdded { id })
    }

    pub(crate) fn remove_fault(&self, id: u64) -> Result<FaultRemoved, Refusal> {
        if self.shared.remove_fault(id) {
            Ok(FaultRemoved { removed: id })
        } else {
            Err(Refusal {
                status: 404,
                message: format!("no fault rule {id}; GET /faults lists them"),
            })
        }
    }

    pub(crate) fn clear_faults(&self) -> FaultsCleared {
        self.shared.clear_faults();
        FaultsCleared { cleared: true }
    }

    pub(crate) fn tls(&self) -> TlsInfo {
        TlsInfo {
            ca_pem: self.shared.authority.ca_pem.clone(),
            leaf_sha256: sha256_hex(&self.shared.tls.leaf_der()),
        }
    }

    pub(crate) fn rotate_certificate(&self) -> Result<Rotated, Refusal> {
        let leaf_sha256 = self
            .shared
            .rotate_certificate()
            .map_err(|e| Refusal::bad(e.to_string()))?;
        Ok(Rotated { leaf_sha256 })
    }

    pub(crate) fn limits(&self) -> Limits {
        self.shared.limits()
    }

    pub(crate) fn set_limits(&self, limits: Limits) -> Limits {
        self.shared.set_limits(limits);
        limits
    }

    /// Evaluates a packet against the filter rules of its family, with the address lists as they
    /// are now on the simulator's clock; the counters of the rules it matched advance, as on a
    /// router, so the hit shows over REST.
    pub(crate) fn verdict(&self, request: &VerdictRequest) -> Result<VerdictReply, Refusal> {
        let (family, packet) = request.packet().map_err(Refusal::bad)?;
        let now = self.shared.clock.now();
        let mut router = self.shared.router();
        router.purge(now);
        let verdict = crate::model::menus::filter::verdict(&mut router, family, &packet, now);
        Ok(VerdictReply::new(family, &verdict))
    }
}
