//! Wall-clock time for grants, injected so that tests move it instead of sleeping.
//!
//! Grants expire at a wall-clock time that must survive a restart, so they are stored as
//! milliseconds since the Unix epoch. Everything that needs "now" asks a [`Clock`]: the daemon and
//! the commands use [`SystemClock`]; tests use a [`ManualClock`] they move by hand, in step with the
//! simulator's own clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A point in wall-clock time, in milliseconds since the Unix epoch.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Time(pub u64);

impl Time {
    /// `self + d`, saturating.
    pub fn plus(self, d: Duration) -> Time {
        Time(
            self.0
                .saturating_add(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        )
    }

    /// The time as RFC 3339 in UTC, e.g. `2025-01-02T03:04:05.678Z` (the milliseconds as a number
    /// when the time is beyond what RFC 3339 can show).
    pub fn rfc3339(self) -> String {
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000)
            .ok()
            .and_then(|d| {
                d.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_else(|| self.0.to_string())
    }

    /// How long from `earlier` to `self`; zero when `earlier` is later.
    pub fn since(self, earlier: Time) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }
}

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Now.
    fn now(&self) -> Time;
}

/// The system's real-time clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Time {
        let d = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Time(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}

/// A clock that moves only when told to; clones share the same time.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    /// A clock showing `start`.
    pub fn new(start: Time) -> Self {
        ManualClock(Arc::new(AtomicU64::new(start.0)))
    }

    /// Moves the clock forward.
    pub fn advance(&self, d: Duration) {
        self.0.fetch_add(
            u64::try_from(d.as_millis()).unwrap_or(u64::MAX),
            Ordering::SeqCst,
        );
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Time {
        Time(self.0.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(Time(1_000));
        let shared = c.clone();
        assert_eq!(c.now(), Time(1_000));
        shared.advance(Duration::from_secs(2));
        assert_eq!(c.now(), Time(3_000));
        assert_eq!(Time(3_000).since(Time(1_000)), Duration::from_secs(2));
        assert_eq!(Time(1_000).since(Time(3_000)), Duration::ZERO);
        assert_eq!(Time(1).plus(Duration::from_millis(5)), Time(6));
        assert_eq!(
            Time(1_735_787_045_678).rfc3339(),
            "2025-01-02T03:04:05.678Z"
        );
        assert_eq!(Time(0).rfc3339(), "1970-01-01T00:00:00Z");
    }
}
