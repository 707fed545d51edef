//! Retries of transient failures: exponential backoff with full jitter.
//!
//! Which failures are transient is decided with their code (`classify`); this module only says how
//! often and after how long to try again. The jitter comes from the thread's random generator,
//! seeded by the operating system, so that many agents hitting one router after an outage spread out
//! instead of retrying in step.

use std::time::Duration;

/// How transient failures are retried: exponential backoff with full jitter.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all, at least 1.
    pub attempts: u32,
    /// The first backoff's upper bound.
    pub base: Duration,
    /// The largest backoff.
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            base: Duration::from_millis(250),
            max: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// No retries.
    pub fn none() -> Self {
        RetryPolicy {
            attempts: 1,
            ..Self::default()
        }
    }

    /// The pause before retry number `n` (1-based): uniformly random up to `base * 2^(n-1)`,
    /// capped at `max`, so that many agents hitting one router after an outage spread out.
    pub fn backoff(&self, n: u32, rng: &mut impl rand::Rng) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(1u32 << (n.saturating_sub(1)).min(16))
            .min(self.max);
        let ms = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(if ms == 0 { 0 } else { rng.random_range(0..=ms) })
    }

    /// [`RetryPolicy::backoff`] drawn from the thread's generator. The generator is not kept
    /// between calls: it cannot cross an `await`, and the client's futures must stay `Send`.
    pub fn pause(&self, n: u32) -> Duration {
        self.backoff(n, &mut rand::rng())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy {
            attempts: 5,
            base: Duration::from_millis(100),
            max: Duration::from_millis(300),
        };
        let mut rng: rand::rngs::StdRng = rand::SeedableRng::seed_from_u64(7);
        for _ in 0..100 {
            assert!(p.backoff(1, &mut rng) <= Duration::from_millis(100));
            assert!(p.backoff(2, &mut rng) <= Duration::from_millis(200));
            assert!(p.backoff(9, &mut rng) <= Duration::from_millis(300));
            assert!(p.pause(2) <= Duration::from_millis(200));
        }
    }
}
