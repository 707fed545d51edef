//! The run's stop switch: what lets an interrupted run sweep a shared target only once nothing of
//! the run can still change it.
//!
//! Sweeping while a scenario's request is on its way is a race the sweep loses: on a slow router
//! (about 120 ms a request, one user's requests one at a time) an agent `PUT` sent just before
//! Ctrl-C arrives after the sweep's final read, and the run reports a clean target that holds an
//! entry. So every request that can change the router is a *flight* ([`Stop::begin`]): the suite's
//! own writes and each agent command, from before its first byte until its reply is read. Stopping
//! ([`Stop::stop`]) refuses every later flight, and the sweep waits ([`Stop::idle`]) until the
//! flights in the air have landed and the running scenario has let go (its own clean-up included).
//! A scenario is cancelled at a safe point, [`Stop::stopped`]: once no flight of its own is in the
//! air, so nothing it sent is left half-way. What the sweep then reads is what the router holds.
//!
//! The switch belongs to the run's [`crate::target::Settings`], not to the process, so that tests
//! can stop one run without touching the others that share the test binary.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use tokio::sync::Notify;

/// The stop switch of one run (see the module docs).
#[derive(Debug, Default)]
pub struct Stop {
    stopping: AtomicBool,
    /// Requests and agent commands that may change the router, in the air.
    flights: AtomicUsize,
    /// Scenarios between their start and the end of their clean-up.
    scenarios: AtomicUsize,
    /// Woken whenever a count falls or the switch is thrown.
    changed: Notify,
}

/// A flight or a running scenario; ends when dropped.
#[derive(Debug)]
#[must_use = "the flight ends when this is dropped"]
pub struct Held<'a> {
    stop: &'a Stop,
    count: &'a AtomicUsize,
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.count.fetch_sub(1, Ordering::SeqCst);
        self.stop.changed.notify_waiters();
    }
}

impl Stop {
    /// Whether the run was stopped.
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Throws the switch: no later flight or scenario starts.
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.changed.notify_waiters();
    }

    /// Counts `count` up unless the run is stopping. The increment comes before the check and
    /// [`Stop::stop`] sets the flag before the waiters read the counts (all sequentially
    /// consistent), so a waiter that sees zero cannot miss one that is about to start.
    fn enter<'a>(&'a self, count: &'a AtomicUsize) -> Option<Held<'a>> {
        count.fetch_add(1, Ordering::SeqCst);
        let held = Held { stop: self, count };
        if self.is_stopping() {
            drop(held);
            None
        } else {
            Some(held)
        }
    }

    /// Starts a request or command that may change the router; `None` once the run is stopping.
    pub fn begin(&self) -> Option<Held<'_>> {
        self.enter(&self.flights)
    }

    /// Starts a scenario; `None` once the run is stopping.
    pub fn scenario(&self) -> Option<Held<'_>> {
        self.enter(&self.scenarios)
    }

    /// Waits until `done` holds, re-checking whenever something changes.
    async fn wait_until(&self, done: impl Fn(&Stop) -> bool) {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            // Registered before the check, so a change between the check and the wait is seen.
            changed.as_mut().enable();
            if done(self) {
                return;
            }
            changed.await;
        }
    }

    /// Resolves once the run is stopping and no flight is in the air: the point where a running
    /// scenario may be dropped without leaving a request half-way.
    pub async fn stopped(&self) {
        self.wait_until(|s| s.is_stopping() && s.flights.load(Ordering::SeqCst) == 0)
            .await;
    }

    /// Resolves once no flight is in the air and no scenario is running (call after [`Stop::stop`]:
    /// from then on the counts only fall).
    pub async fn idle(&self) {
        self.wait_until(|s| {
            s.flights.load(Ordering::SeqCst) == 0 && s.scenarios.load(Ordering::SeqCst) == 0
        })
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_starts_after_the_stop_and_idle_waits_for_what_is_in_the_air() {
        crate::trials::runtime().block_on(async {
            let stop = Stop::default();
            let flight = stop.begin().expect("not stopping yet");
            let scenario = stop.scenario().expect("not stopping yet");
            stop.stop();
            assert!(stop.begin().is_none() && stop.scenario().is_none());
            let idle = stop.idle();
            tokio::pin!(idle);
            // Still a flight and a scenario: not idle, and not yet a safe point to cancel.
            assert!(futures_poll(idle.as_mut()).is_pending());
            drop(flight);
            stop.stopped().await;
            assert!(futures_poll(idle.as_mut()).is_pending());
            drop(scenario);
            idle.await;
        });
    }

    /// Polls a future once with a no-op waker.
    fn futures_poll<F: std::future::Future>(
        f: std::pin::Pin<&mut F>,
    ) -> std::task::Poll<F::Output> {
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        f.poll(&mut cx)
    }
}
