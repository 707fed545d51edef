//! The daemon's state, shared by the schedule and the control API, and the steps both take: a full
//! reconcile with reboot detection, an incremental step, and the backoff after a failure.
//!
//! The locks are described in the module documentation of `daemon`: the grant store, the status and
//! the schedule's times each sit behind a short-held lock (no `await` inside); router I/O is
//! serialised by an async lock held across the network calls.

use std::sync::{Arc, Mutex as StdMutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{Mutex, Notify};

use crate::address::Address;
use crate::clock::{Clock, Time};
use crate::duration;
use crate::error::Error;
use crate::plan::Grant;
use crate::reconcile::{Reconciler, Report};
use crate::store::GrantStore;

/// What `GET /v1/status` shows.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Status {
    /// The last failure, if the last reconcile or write failed.
    pub last_error: Option<Value>,
    /// When the last full reconcile succeeded.
    pub last_success: Option<String>,
    /// Full reconciles that succeeded.
    pub reconciles: u64,
    /// Reboots noticed (uptime went back, or owned entries vanished).
    pub reboots_detected: u64,
    /// The router's version at the last look.
    pub router_version: Option<String>,
    /// The last reconcile's report.
    pub last_report: Option<Report>,
    /// Whether the last full reconcile succeeded (`/readyz`).
    pub ready: bool,
}

/// What only the holder of the router lock touches: the reconciler (and its memory of the router's
/// rows) and the last uptime seen. There is no reconciler in passive mode: the router pulls the
/// feed and the daemon never writes to it.
pub(super) struct RouterSide {
    pub(super) rec: Option<Reconciler>,
    pub(super) uptime: Option<Duration>,
}

/// When the next full reconcile is due, and how many attempts in a row have failed.
pub(super) struct Due {
    pub(super) next_full: tokio::time::Instant,
    pub(super) failures: u32,
}

/// Daemon timings: the base of the retry delay after failures (an embedding program may change it;
/// the tests keep the default and move Tokio's paused clock instead).
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// The retry delay after `n` failures in a row is `retry_base * 2^n`, capped at the interval.
    pub retry_base: Duration,
    /// The control API's connection bounds.
    pub control: super::Limits,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            retry_base: Duration::from_secs(1),
            control: super::Limits::default(),
        }
    }
}

/// The delay before the next full reconcile after `failures` failed attempts in a row: 2 s, 4 s,
/// 8 s, ... with the default base, never later than the normal interval.
pub fn retry_delay(failures: u32, base: Duration, interval: Duration) -> Duration {
    base.saturating_mul(1u32 << failures.clamp(1, 6))
        .min(interval)
}

/// State shared by the schedule and the control API (see the module documentation for the locks).
#[derive(Clone)]
pub(super) struct Shared {
    pub(super) store: Arc<StdMutex<GrantStore>>,
    pub(super) status: Arc<StdMutex<Status>>,
    pub(super) router: Arc<Mutex<RouterSide>>,
    pub(super) due: Arc<StdMutex<Due>>,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) wake: Arc<Notify>,
    pub(super) interval: Duration,
    pub(super) timing: Timing,
    pub(super) metrics: Arc<super::metrics::Metrics>,
    pub(super) prefix_limits: crate::request::PrefixLimits,
}

/// A poisoned lock only means another task panicked while holding it; the data is still the best
/// there is (the store writes atomically), so keep serving.
pub(super) fn lock<T>(m: &StdMutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    /// Prunes expired grants and returns a copy of the live ones, holding the store lock briefly.
    pub(super) fn live_grants(&self, now: Time) -> Vec<Grant> {
        let mut store = lock(&self.store);
        if let Err(e) = store.prune(now) {
            tracing::error!("{e}");
        }
        self.metrics.set_grants(store.grants().len());
        store.grants().to_vec()
    }

    /// A full reconcile succeeded: the next one is an interval away.
    pub(super) fn succeeded(&self) {
        let mut due = lock(&self.due);
        due.failures = 0;
        due.next_full = tokio::time::Instant::now() + self.interval;
    }

    /// A reconcile or an incremental step failed: the next full reconcile is due after the backoff,
    /// or sooner if it already was. The schedule is woken to see the new time.
    pub(super) fn failed_attempt(&self) -> Duration {
        let now = tokio::time::Instant::now();
        let delay = {
            let mut due = lock(&self.due);
            due.failures = due.failures.saturating_add(1);
            let delay = retry_delay(due.failures, self.timing.retry_base, self.interval);
            due.next_full = if due.next_full <= now {
                now + delay
            } else {
                due.next_full.min(now + delay)
            };
            delay
        };
        self.wake.notify_one();
        delay
    }

    /// Prunes expired grants and runs a full reconcile with reboot detection; counts it in the
    /// metrics and the readiness.
    pub(super) async fn full(&self, router: &mut RouterSide, now: Time) -> Result<(), Error> {
        let started = tokio::time::Instant::now();
        let result = self.full_once(router, now).await;
        let took = started.elapsed();
        match &result {
            Ok(()) => self.metrics.reconciled(took, now.0),
            Err(_) => self.metrics.reconcile_took(took),
        }
        lock(&self.status).ready = result.is_ok();
        result
    }

    async fn full_once(&self, router: &mut RouterSide, now: Time) -> Result<(), Error> {
        let grants = self.live_grants(now);
        let RouterSide {
            rec: Some(rec),
            uptime,
        } = router
        else {
            // Passive mode: the router pulls the feed; pruning the store is all there is to do.
            let mut status = lock(&self.status);
            status.reconciles += 1;
            status.last_success = Some(now.rfc3339());
            return Ok(());
        };
        let resource = match rec.resource().await {
            Ok(r) => r,
            Err(e) => return Err(self.failed(rec, e)),
        };
        let mut rebooted = false;
        if let (Some(before), Some(now_up)) = (*uptime, resource.uptime)
            && now_up < before
        {
            tracing::warn!(before = %duration::format(before), now = %duration::format(now_up), "router uptime went back: it rebooted; restoring the list");
            rebooted = true;
        }
        *uptime = resource.uptime;
        lock(&self.status).router_version = Some(resource.version.clone());
        let report = match rec.sync(&grants).await {
            Ok(r) => r,
            Err(e) => return Err(self.failed(rec, e)),
        };
        if !report.vanished.is_empty() {
            tracing::warn!(entries = ?report.vanished, "owned entries vanished from the router (reboot or manual deletion); restored");
            rebooted = true;
        }
        let error = report.errors.last().cloned();
        self.record(rec, report);
        let mut status = lock(&self.status);
        if rebooted {
            status.reboots_detected += 1;
        }
        match error {
            None => {
                status.reconciles += 1;
                status.last_success = Some(now.rfc3339());
                Ok(())
            }
            Some(e) => Err(e),
        }
    }

    /// An incremental step after a grant or revoke for `address`, or after an expiry (`None`). A
    /// failure brings the next full reconcile forward to the retry delay.
    pub(super) async fn step(
        &self,
        router: &mut RouterSide,
        now: Time,
        address: Option<&Address>,
    ) -> Report {
        let grants = self.live_grants(now);
        let Some(rec) = router.rec.as_mut() else {
            // Passive mode: the router pulls the feed; nothing is written here.
            return Report::default();
        };
        let result = match address {
            Some(a) => rec.step_address(a, &grants).await,
            None => rec.step(&grants).await,
        };
        let report = match result {
            Ok(report) => {
                self.record(rec, report.clone());
                report
            }
            Err(e) => {
                self.failed(rec, e.clone());
                Report {
                    errors: vec![e],
                    ..Report::default()
                }
            }
        };
        if !report.errors.is_empty() {
            // The errors were logged where they happened (`record`, `failed`): once each.
            let delay = self.failed_attempt();
            tracing::info!(retry_in = %duration::format(delay), "write failed; full reconcile scheduled");
        }
        report
    }

    pub(super) fn record(&self, rec: &mut Reconciler, report: Report) {
        for e in report
            .errors
            .iter()
            .chain(report.conflict_errors(rec.plan_config()).iter())
        {
            tracing::warn!("{e}");
        }
        for e in &report.errors {
            self.metrics.failed(e.code.number());
        }
        if !report.errors.is_empty() {
            // The memory may be wrong after a failed write; read the router next time.
            rec.forget();
        }
        let mut status = lock(&self.status);
        status.last_error = report.errors.last().map(Error::to_json);
        status.last_report = Some(report);
    }

    pub(super) fn failed(&self, rec: &mut Reconciler, e: Error) -> Error {
        tracing::warn!("{e}");
        self.metrics.failed(e.code.number());
        lock(&self.status).last_error = Some(e.to_json());
        rec.forget();
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_double_from_two_seconds_up_to_the_interval() {
        let base = Duration::from_secs(1);
        let interval = Duration::from_secs(60);
        let delays: Vec<u64> = (1..=8)
            .map(|n| retry_delay(n, base, interval).as_secs())
            .collect();
        assert_eq!(delays, vec![2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(
            retry_delay(1, base, Duration::from_secs(1)),
            Duration::from_secs(1)
        );
    }
}
