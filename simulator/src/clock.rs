//! The simulator's own clock.
//!
//! Every time the router shows or acts on (entry timeouts, `uptime`, `creation-time`) comes from this
//! clock, never from the system directly, so that tests and people can freeze it, move it forward and
//! resume it. It runs on Tokio's clock, so a test under `tokio::time::pause()` drives it as well.
//!
//! The clock reads as *simulated time since the simulator started* ([`SimTime`], milliseconds). The wall
//! clock shown in `creation-time` is the real wall time at start plus that simulated time, so moving the
//! clock moves both in step.

use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

/// Milliseconds of simulated time since the simulator started.
pub type SimTime = u64;

/// A clock that can be frozen, advanced and resumed; cheap to read.
#[derive(Debug)]
pub struct Clock {
    inner: Mutex<ClockState>,
    /// Unix time in milliseconds at simulated time zero.
    wall_at_zero_ms: i64,
}

#[derive(Debug)]
struct ClockState {
    /// Real instant at which `virtual_at_anchor` was last true.
    anchor: Instant,
    /// Simulated microseconds at `anchor`: the clock keeps microseconds so that the router-speed
    /// profile's sub-millisecond costs (a row's, a scripted command's) add up exactly on a
    /// modelled clock, while it reads in milliseconds like the router.
    virtual_at_anchor: u64,
    /// When frozen, the clock reads `virtual_at_anchor` until resumed.
    frozen: bool,
}

/// What the clock reads, for the control API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClockReading {
    /// Simulated milliseconds since start.
    pub now_ms: u64,
    /// Unix time in milliseconds shown by the router.
    pub wall_ms: i64,
    /// Whether the clock is frozen.
    pub frozen: bool,
}

/// The largest single move of the clock: ten years, beyond any RouterOS timeout (35w3d13:13:56).
pub const MAX_ADVANCE: Duration = Duration::from_secs(10 * 366 * 86_400);

/// The clock's end: a thousand years of simulated time, far from any integer's limit.
pub const MAX_TIME_MS: SimTime = 1000 * 366 * 86_400_000;

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock {
    /// A running clock starting at zero, with the wall clock set to the real time now.
    pub fn new() -> Self {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        Self::starting_at_wall(wall)
    }

    /// A running clock whose wall time at zero is `wall_ms` (Unix milliseconds).
    pub fn starting_at_wall(wall_ms: i64) -> Self {
        Self {
            inner: Mutex::new(ClockState {
                anchor: Instant::now(),
                virtual_at_anchor: 0,
                frozen: false,
            }),
            wall_at_zero_ms: wall_ms,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, ClockState> {
        // The state is two integers and a flag; a panic while holding it cannot leave it half-written.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Simulated milliseconds since start.
    pub fn now(&self) -> SimTime {
        self.now_us() / 1000
    }

    /// Simulated microseconds since start: what modelled costs are measured against.
    pub fn now_us(&self) -> u64 {
        let s = self.state();
        Self::read_us(&s)
    }

    fn read_us(s: &ClockState) -> u64 {
        if s.frozen {
            s.virtual_at_anchor
        } else {
            s.virtual_at_anchor + s.anchor.elapsed().as_micros() as u64
        }
    }

    /// Whether the clock is frozen (only moves move it).
    pub fn is_frozen(&self) -> bool {
        self.state().frozen
    }

    /// Unix milliseconds that the router shows at simulated time `t`.
    pub fn wall_ms(&self, t: SimTime) -> i64 {
        self.wall_at_zero_ms
            .saturating_add(i64::try_from(t).unwrap_or(i64::MAX))
    }

    /// Whether moving the clock by `by` stays within its bounds; a sentence saying why not.
    pub fn check_advance(&self, by: Duration) -> Result<(), String> {
        if by > MAX_ADVANCE {
            return Err(format!(
                "a clock move is at most {} days (asked {} days); move it in steps",
                MAX_ADVANCE.as_secs() / 86_400,
                by.as_secs() / 86_400
            ));
        }
        let by = by.as_millis() as u64;
        if self.now().saturating_add(by) > MAX_TIME_MS {
            return Err(format!(
                "the clock would pass {} days since start, its end; reset or restart the simulator",
                MAX_TIME_MS / 86_400_000
            ));
        }
        Ok(())
    }

    /// Moves the clock forward (frozen or not), by at most [`MAX_ADVANCE`] at a time; the clock
    /// stops at [`MAX_TIME_MS`] rather than wrap.
    pub fn advance(&self, by: Duration) -> ClockReading {
        let by = u64::try_from(by.min(MAX_ADVANCE).as_micros()).unwrap_or(u64::MAX);
        let mut s = self.state();
        let now = Self::read_us(&s);
        s.anchor = Instant::now();
        s.virtual_at_anchor = now.saturating_add(by).min(MAX_TIME_MS * 1000);
        drop(s);
        self.reading()
    }

    /// Stops the clock where it is.
    pub fn freeze(&self) -> ClockReading {
        let mut s = self.state();
        s.virtual_at_anchor = Self::read_us(&s);
        s.anchor = Instant::now();
        s.frozen = true;
        drop(s);
        self.reading()
    }

    /// Lets a frozen clock run again from where it stopped.
    pub fn resume(&self) -> ClockReading {
        let mut s = self.state();
        s.virtual_at_anchor = Self::read_us(&s);
        s.anchor = Instant::now();
        s.frozen = false;
        drop(s);
        self.reading()
    }

    /// The current reading.
    pub fn reading(&self) -> ClockReading {
        let s = self.state();
        let now = Self::read_us(&s) / 1000;
        ClockReading {
            now_ms: now,
            wall_ms: self.wall_ms(now),
            frozen: s.frozen,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn follows_tokio_time_and_can_be_moved() {
        let c = Clock::starting_at_wall(1_000_000);
        assert_eq!(c.now(), 0);
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(c.now(), 2000);
        c.advance(Duration::from_secs(60));
        assert_eq!(c.now(), 62_000);
        assert_eq!(c.wall_ms(c.now()), 1_062_000);
        c.freeze();
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(c.now(), 62_000);
        c.advance(Duration::from_millis(1));
        assert_eq!(c.now(), 62_001);
        c.resume();
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(c.now(), 63_001);
    }

    #[test]
    fn sub_millisecond_moves_add_up_exactly() {
        let c = Clock::starting_at_wall(0);
        c.freeze();
        // A few microseconds may have passed between the start and the freeze.
        let start = c.now_us();
        for _ in 0..1000 {
            c.advance(Duration::from_micros(900));
        }
        assert_eq!(c.now_us() - start, 900_000);
        assert_eq!(
            c.now(),
            (start + 900_000) / 1000,
            "the millisecond reading floors"
        );
    }
}
