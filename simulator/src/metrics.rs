//! The simulator's Prometheus metrics, served as OpenMetrics text on the control listener's
//! `GET /metrics` (with the control API's token rules).
//!
//! They say what a test run or a person watching a long run wants to know: the REST requests by
//! method, menu and status, the faults that fired, the sessions in use per service, the journal's
//! size and the simulator's clock. They are kept with `prometheus-client`, as the agent's are, so
//! that no exposition text is assembled by hand. Menus are the registered ones (or `other`), so a
//! client cannot grow the label set by inventing paths.

use std::sync::Mutex;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::model::menus::Menu;

/// The labels of a REST request.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    menu: String,
    /// The HTTP status, or `none` when the connection ended without an answer.
    status: String,
}

/// The label of a fired fault: its action.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FaultLabel {
    action: String,
}

/// The label of a service.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ServiceLabel {
    service: String,
}

/// Every metric of one simulator, and the registry that encodes them.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    faults: Family<FaultLabel, Counter>,
    sessions: Family<ServiceLabel, Gauge>,
    journal_entries: Gauge,
    journal_bytes: Gauge,
    clock_ms: Gauge,
    /// One scrape at a time, so that the gauges set for it are the ones it encodes.
    encoding: Mutex<()>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// What a scrape reads from the simulator at that moment.
#[derive(Debug, Clone, Copy)]
pub struct Moment {
    /// Open connections of `www` and `www-ssl`.
    pub sessions: [(&'static str, usize); 2],
    /// Entries the journal holds.
    pub journal_entries: usize,
    /// What they cost, roughly, in bytes.
    pub journal_bytes: usize,
    /// The simulator's clock, in milliseconds since it started.
    pub clock_ms: u64,
}

impl Metrics {
    /// A registry with every metric at zero.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("routeros_sim");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "requests",
            "REST requests, by method, menu and status",
            requests.clone(),
        );
        let faults = Family::<FaultLabel, Counter>::default();
        registry.register(
            "faults_fired",
            "Fault rules that acted on a connection or a request, by action",
            faults.clone(),
        );
        let sessions = Family::<ServiceLabel, Gauge>::default();
        registry.register(
            "sessions",
            "Open connections per service (counted against max-sessions)",
            sessions.clone(),
        );
        let journal_entries = Gauge::default();
        registry.register(
            "journal_entries",
            "Entries the request journal holds",
            journal_entries.clone(),
        );
        let journal_bytes = Gauge::default();
        registry.register(
            "journal_bytes",
            "What the journal's entries cost, roughly, in bytes",
            journal_bytes.clone(),
        );
        let clock_ms = Gauge::default();
        registry.register(
            "clock_milliseconds",
            "The simulator's clock: milliseconds of simulated time since it started",
            clock_ms.clone(),
        );
        Metrics {
            registry,
            requests,
            faults,
            sessions,
            journal_entries,
            journal_bytes,
            clock_ms,
            encoding: Mutex::new(()),
        }
    }

    /// Counts a REST request to `path` (with or without `/rest`), answered `status` (`None`: the
    /// connection ended without an answer).
    pub fn request(&self, method: &str, path: &str, status: Option<u16>) {
        self.requests
            .get_or_create(&RequestLabels {
                method: known_method(method).to_owned(),
                menu: menu_of(path).to_owned(),
                status: status.map_or_else(|| "none".to_owned(), |s| s.to_string()),
            })
            .inc();
    }

    /// Counts a fault that fired.
    pub fn fault(&self, action: &'static str) {
        self.faults
            .get_or_create(&FaultLabel {
                action: action.to_owned(),
            })
            .inc();
    }

    /// The metrics as OpenMetrics text, with the gauges read at `moment`.
    pub fn render(&self, moment: Moment) -> String {
        let _one = self.encoding.lock().unwrap_or_else(|e| e.into_inner());
        for (service, n) in moment.sessions {
            self.sessions
                .get_or_create(&ServiceLabel {
                    service: service.to_owned(),
                })
                .set(gauge(n as u64));
        }
        self.journal_entries
            .set(gauge(moment.journal_entries as u64));
        self.journal_bytes.set(gauge(moment.journal_bytes as u64));
        self.clock_ms.set(gauge(moment.clock_ms));
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// A gauge's value (an `i64`), saturating.
fn gauge(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The method as a label: the ones HTTP defines, anything else `other`.
fn known_method(method: &str) -> &str {
    match method {
        "GET" | "PUT" | "PATCH" | "DELETE" | "POST" | "HEAD" | "OPTIONS" | "CONNECT" | "TRACE" => {
            method
        }
        _ => "other",
    }
}

/// The registered menu a path names (the longest whose path is a prefix of it, at a `/`), or
/// `other`.
fn menu_of(path: &str) -> &'static str {
    let path = path.split('?').next().unwrap_or_default();
    let Some(below) = path.strip_prefix("/rest") else {
        return "other";
    };
    Menu::all()
        .map(Menu::path)
        .filter(|m| {
            below
                .strip_prefix(m)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
        .max_by_key(|m| m.len())
        .unwrap_or("other")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn menus_are_the_registered_ones_or_other() {
        for (path, menu) in [
            (
                "/rest/ip/firewall/address-list",
                "/ip/firewall/address-list",
            ),
            (
                "/rest/ip/firewall/address-list/*1A",
                "/ip/firewall/address-list",
            ),
            (
                "/rest/ip/firewall/address-list/print?x=1",
                "/ip/firewall/address-list",
            ),
            ("/rest/ipv6/firewall/filter/add", "/ipv6/firewall/filter"),
            ("/rest/user/group", "/user/group"),
            ("/rest/user/admin", "/user"),
            ("/rest/ip/firewall/address-listx", "other"),
            ("/rest/made/up/path", "other"),
            ("/webfig", "other"),
        ] {
            assert_eq!(menu_of(path), menu, "{path}");
        }
        assert_eq!(known_method("GET"), "GET");
        assert_eq!(known_method("BREW"), "other");
    }

    #[test]
    fn the_text_carries_every_metric() {
        let m = Metrics::new();
        m.request("GET", "/rest/system/identity", Some(200));
        m.request("GET", "/rest/system/identity", Some(200));
        m.request("PUT", "/rest/nothing", None);
        m.fault("reset");
        let text = m.render(Moment {
            sessions: [("www", 1), ("www-ssl", 2)],
            journal_entries: 3,
            journal_bytes: 300,
            clock_ms: 5000,
        });
        for line in [
            r#"routeros_sim_requests_total{method="GET",menu="/system/identity",status="200"} 2"#,
            r#"routeros_sim_requests_total{method="PUT",menu="other",status="none"} 1"#,
            r#"routeros_sim_faults_fired_total{action="reset"} 1"#,
            r#"routeros_sim_sessions{service="www-ssl"} 2"#,
            "routeros_sim_journal_entries 3",
            "routeros_sim_journal_bytes 300",
            "routeros_sim_clock_milliseconds 5000",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
    }
}
