//! The daemon's Prometheus metrics, served as OpenMetrics text on `GET /metrics`.
//!
//! The metrics are those an operator alerts on: reconciles and their failures by code, the number of
//! live grants, how long reconciles take, when the last one succeeded, and the control API's requests
//! by method and status. They are kept with `prometheus-client` (the Prometheus project's Rust
//! client), which also writes the exposition format, so that no text is assembled by hand.

use std::sync::Mutex;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// The label of a failure: its six-digit code.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabel {
    code: String,
}

/// The labels of a control API request.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    status: String,
}

/// Every metric of the daemon, and the registry that encodes them.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    reconciles: Counter,
    failures: Family<CodeLabel, Counter>,
    grants: Gauge,
    requests: Family<RequestLabels, Counter>,
    duration: Histogram,
    last_success: Gauge<f64, AtomicU64>,
    /// Serialises encoding (the registry is read-only once built, but `encode` takes `&Registry`
    /// and a scrape should see one consistent moment).
    encoding: Mutex<()>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// A registry with every metric at zero.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("routeros_agent");
        let reconciles = Counter::default();
        registry.register(
            "reconciles",
            "Full reconciles that succeeded",
            reconciles.clone(),
        );
        let failures = Family::<CodeLabel, Counter>::default();
        registry.register(
            "failures",
            "Failed reconciles and router writes, by error code",
            failures.clone(),
        );
        let grants = Gauge::default();
        registry.register("grants", "Live grants in the store", grants.clone());
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "control_requests",
            "Control API requests, by method and status",
            requests.clone(),
        );
        // 10 ms to about 160 s: one request on a fast router to a large list on a slow one.
        let duration = Histogram::new(exponential_buckets(0.01, 2.0, 15));
        registry.register(
            "reconcile_duration_seconds",
            "Time taken by full reconciles",
            duration.clone(),
        );
        let last_success = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "last_success_timestamp_seconds",
            "Unix time of the last successful full reconcile (0: none yet)",
            last_success.clone(),
        );
        Metrics {
            registry,
            reconciles,
            failures,
            grants,
            requests,
            duration,
            last_success,
            encoding: Mutex::new(()),
        }
    }

    /// A full reconcile succeeded at `unix_ms` after `took`.
    pub fn reconciled(&self, took: Duration, unix_ms: u64) {
        self.reconciles.inc();
        self.duration.observe(took.as_secs_f64());
        self.last_success.set(unix_ms as f64 / 1000.0);
    }

    /// A full reconcile failed after `took`.
    pub fn reconcile_took(&self, took: Duration) {
        self.duration.observe(took.as_secs_f64());
    }

    /// A reconcile or a write failed with `code`.
    pub fn failed(&self, code: u32) {
        self.failures
            .get_or_create(&CodeLabel {
                code: code.to_string(),
            })
            .inc();
    }

    /// The store now holds `n` live grants.
    pub fn set_grants(&self, n: usize) {
        self.grants.set(i64::try_from(n).unwrap_or(i64::MAX));
    }

    /// A control API request was answered.
    pub fn request(&self, method: &str, status: u16) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                status: status.to_string(),
            })
            .inc();
    }

    /// The OpenMetrics text of every metric.
    pub fn encode(&self) -> String {
        let _one = self.encoding.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String does not fail");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_is_exposed() {
        let m = Metrics::new();
        m.reconciled(Duration::from_millis(20), 1_700_000_000_000);
        m.failed(208011);
        m.failed(208011);
        m.set_grants(3);
        m.request("POST", 401);
        let text = m.encode();
        for line in [
            "routeros_agent_reconciles_total 1",
            "routeros_agent_failures_total{code=\"208011\"} 2",
            "routeros_agent_grants 3",
            "routeros_agent_control_requests_total{method=\"POST\",status=\"401\"} 1",
            "routeros_agent_reconcile_duration_seconds_count 1",
            "routeros_agent_last_success_timestamp_seconds 1700000000.0",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
    }
}
