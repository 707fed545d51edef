//! Paying the router-speed profile's costs on the simulator's clock ("modelled time").
//!
//! With [`Limits::modelled_time`](crate::Limits::modelled_time) on, nothing waits for a cost: a
//! [`Meter`] advances the simulator's (frozen) clock by each cost as it is spent, so a scenario
//! of minutes at router speed runs in a moment of real time and reports the minutes. One meter
//! follows one piece of work: a REST request (bounded by the session limit, counted from when the
//! request reached its user's queue), or a background job or scheduled run (unbounded). The
//! meter never lets a bounded request spend past its limit: the cost that would cross it moves the
//! clock to the limit exactly and the request is answered `400 Session closed`, as a router cuts
//! a command at 60 seconds while what it already did stays done.
//!
//! Without modelled time the costs are waited for on Tokio's clock as before, and a meter only
//! adds them up for the journal.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use crate::clock::Clock;

/// A user's request queue: one turn at a time, and the modelled time spent in its turns so far
/// (a request that waited in the queue has that much less of its session left, as on a router
/// where "requests queued behind it fail the same way", ROUTEROS-REST.md section 6).
#[derive(Debug, Default)]
pub struct UserQueue {
    /// Held by the request whose turn it is.
    pub turn: tokio::sync::Mutex<()>,
    /// Microseconds of modelled time charged in this user's turns.
    spent_us: AtomicU64,
}

impl UserQueue {
    /// The modelled time this queue's turns have spent so far, in microseconds.
    pub fn spent_us(&self) -> u64 {
        self.spent_us.load(Ordering::Relaxed)
    }
}

/// The work was cut off at its session limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionClosed;

/// What one piece of work has spent, and how it pays.
#[derive(Debug)]
pub struct Meter {
    clock: Arc<Clock>,
    modelled: bool,
    /// The session limit in microseconds, for work a client waits for.
    limit_us: Option<u64>,
    /// Microseconds of the session spent queued behind the same user's earlier requests.
    queued_us: AtomicU64,
    /// What the user's queue had spent when this work joined it.
    joined_us: u64,
    /// Microseconds charged to this work so far.
    spent_us: AtomicU64,
    /// Set once the limit was reached.
    closed: AtomicBool,
    /// The user's queue, which counts what its turns spend.
    queue: Option<Arc<UserQueue>>,
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl Meter {
    /// A meter for work on `clock`; `modelled` says whether costs move the clock or are waited
    /// for, `limit` bounds work a client waits for.
    pub fn new(clock: Arc<Clock>, modelled: bool, limit: Option<Duration>) -> Meter {
        Meter {
            clock,
            modelled,
            limit_us: limit.map(micros),
            queued_us: AtomicU64::new(0),
            joined_us: 0,
            spent_us: AtomicU64::new(0),
            closed: AtomicBool::new(false),
            queue: None,
        }
    }

    /// This meter for a request that joins `queue` now: its spending counts in the queue too.
    pub fn in_queue(mut self, queue: Arc<UserQueue>) -> Meter {
        self.joined_us = queue.spent_us();
        self.queue = Some(queue);
        self
    }

    /// The request's turn came: the modelled time the queue's earlier turns took while it
    /// waited counts against its session.
    pub fn turn_started(&self) {
        if let Some(q) = &self.queue {
            let queued = q.spent_us().saturating_sub(self.joined_us);
            self.queued_us.store(queued, Ordering::Relaxed);
        }
    }

    fn used_us(&self) -> u64 {
        self.queued_us.load(Ordering::Relaxed) + self.spent_us.load(Ordering::Relaxed)
    }

    /// Whether costs move the simulator's clock rather than being waited for.
    pub fn is_modelled(&self) -> bool {
        self.modelled
    }

    /// Whether the work reached its session limit.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }

    /// What has been charged to this work so far (not counting time queued: that was charged
    /// to the requests before it).
    pub fn spent(&self) -> Duration {
        Duration::from_micros(self.spent_us.load(Ordering::Relaxed))
    }

    fn add(&self, us: u64) {
        self.spent_us.fetch_add(us, Ordering::Relaxed);
        if let Some(q) = &self.queue {
            q.spent_us.fetch_add(us, Ordering::Relaxed);
        }
    }

    /// Charges `cost` on the simulator's clock (modelled time; callable from any thread): the
    /// clock moves by it, or, where it would cross the session limit, to the limit, and the work
    /// is closed. Without modelled time it only counts the cost; the caller waits for it.
    pub fn charge(&self, cost: Duration) -> Result<(), SessionClosed> {
        if self.is_closed() {
            return Err(SessionClosed);
        }
        let us = micros(cost);
        let spent = self.used_us();
        let allowed = match self.limit_us {
            Some(limit) => us.min(limit.saturating_sub(spent)),
            None => us,
        };
        if self.modelled && allowed > 0 {
            self.clock.advance(Duration::from_micros(allowed));
        }
        self.add(allowed);
        if allowed < us {
            self.closed.store(true, Ordering::Relaxed);
            return Err(SessionClosed);
        }
        Ok(())
    }

    /// Pays `cost`: on the simulator's clock with modelled time, otherwise by waiting for it on
    /// Tokio's clock (where the caller's session timeout cuts the wait).
    pub async fn pay(&self, cost: Duration) -> Result<(), SessionClosed> {
        if cost.is_zero() {
            return match self.is_closed() {
                true => Err(SessionClosed),
                false => Ok(()),
            };
        }
        if self.modelled {
            return self.charge(cost);
        }
        tokio::time::sleep(cost).await;
        self.add(micros(cost));
        Ok(())
    }

    /// Whether `extra` more time (a script's `:delay`, which moves only the script's own time)
    /// would pass the session limit; closes the work when it would.
    pub fn check(&self, extra: Duration) -> Result<(), SessionClosed> {
        if self.is_closed() {
            return Err(SessionClosed);
        }
        let Some(limit) = self.limit_us else {
            return Ok(());
        };
        if self.used_us() + micros(extra) > limit {
            self.closed.store(true, Ordering::Relaxed);
            return Err(SessionClosed);
        }
        Ok(())
    }

    /// The work ended at its session limit: with modelled time the clock moves to the limit (the
    /// session lasted exactly that long); the charge counts the whole limit either way.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
        let Some(limit) = self.limit_us else {
            return;
        };
        let rest = limit.saturating_sub(self.used_us());
        if rest > 0 {
            if self.modelled {
                self.clock.advance(Duration::from_micros(rest));
            }
            self.add(rest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frozen clock moved to a whole second, so that readings are exact.
    fn frozen() -> Arc<Clock> {
        let c = Arc::new(Clock::starting_at_wall(0));
        c.freeze();
        c.advance(Duration::from_micros(1_000_000 - c.now_us() % 1_000_000));
        c
    }

    #[test]
    fn modelled_costs_move_the_clock_up_to_the_limit_exactly() {
        let clock = frozen();
        let start = clock.now_us();
        let m = Meter::new(clock.clone(), true, Some(Duration::from_secs(60)));
        m.charge(Duration::from_millis(120)).expect("within");
        m.charge(Duration::from_micros(900)).expect("within");
        assert_eq!(clock.now_us() - start, 120_900);
        assert_eq!(m.spent(), Duration::from_micros(120_900));
        assert_eq!(m.charge(Duration::from_secs(90)), Err(SessionClosed));
        assert_eq!(
            clock.now_us() - start,
            60_000_000,
            "the clock stops at the limit"
        );
        assert!(m.is_closed());
        assert_eq!(m.charge(Duration::from_millis(1)), Err(SessionClosed));
        assert_eq!(clock.now_us() - start, 60_000_000);
    }

    #[test]
    fn a_delay_past_the_limit_closes_and_close_moves_to_the_limit() {
        let clock = frozen();
        let start = clock.now();
        let m = Meter::new(clock.clone(), true, Some(Duration::from_secs(10)));
        m.charge(Duration::from_secs(1)).expect("within");
        m.check(Duration::from_secs(9))
            .expect("exactly at the limit is within");
        assert_eq!(m.check(Duration::from_secs(10)), Err(SessionClosed));
        m.close();
        assert_eq!(clock.now() - start, 10_000);
        assert_eq!(m.spent(), Duration::from_secs(10));
    }

    #[test]
    fn queued_time_counts_against_the_session_and_the_queue_adds_up() {
        let clock = frozen();
        let start = clock.now();
        let q = Arc::new(UserQueue::default());
        let first =
            Meter::new(clock.clone(), true, Some(Duration::from_secs(60))).in_queue(q.clone());
        let second =
            Meter::new(clock.clone(), true, Some(Duration::from_secs(60))).in_queue(q.clone());
        first.turn_started();
        first.charge(Duration::from_secs(50)).expect("within");
        second.turn_started();
        assert_eq!(second.charge(Duration::from_secs(20)), Err(SessionClosed));
        assert_eq!(
            clock.now() - start,
            60_000,
            "10 s of its own after 50 s queued"
        );
        assert_eq!(second.spent(), Duration::from_secs(10));
        assert_eq!(q.spent_us(), 60_000_000);
    }

    #[test]
    fn background_work_has_no_limit_and_real_time_only_counts() {
        let clock = frozen();
        let start = clock.now();
        let m = Meter::new(clock.clone(), true, None);
        m.charge(Duration::from_secs(3600)).expect("no limit");
        assert_eq!(clock.now() - start, 3_600_000);
        let real = Meter::new(clock.clone(), false, Some(Duration::from_secs(1)));
        real.charge(Duration::from_millis(500)).expect("within");
        assert_eq!(
            clock.now() - start,
            3_600_000,
            "without modelled time the clock is not moved"
        );
        assert_eq!(real.spent(), Duration::from_millis(500));
    }
}
