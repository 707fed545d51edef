//! Fault rules: what goes wrong, for which requests, and how often.
//!
//! A rule is a [`Matcher`] (method, path pattern, user, listener), a [`Firing`] (every time, the next
//! N times, after M matching requests, with a probability from a seeded generator) and an [`Action`]
//! at one of three layers: HTTP (a status with a RouterOS error body, any raw body, a delay),
//! connection (refuse, reset, close early, stall, dribble) or TLS (a wrong certificate, none at all,
//! plain HTTP on the TLS port).
//!
//! Rules are ordered; the first rule that matches *and fires* wins, so a rule whose probability draw
//! misses lets the next rule have its turn. Each rule has its own generator seeded from the rule, so
//! the same seed gives the same sequence of hits whatever other rules do.
//!
//! Faults are looked up at two moments. When a connection is accepted only the listener is known, so
//! rules with no method, path or user and a connection or TLS action apply there ("the connection
//! phase"). When a request has arrived, every other rule applies ("the request phase"). TLS actions
//! only make sense at the connection phase; `refuse` closes the listener itself for as long as the rule
//! exists, because a refused connection never reaches the simulator to be counted.

use std::sync::Mutex;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::model::services::Listener;

/// Which requests a rule applies to; empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Matcher {
    /// HTTP method, case-insensitive (`GET`, `PUT`, ...).
    pub method: Option<String>,
    /// Path pattern where `*` matches any run of characters, e.g. `/rest/ip/firewall/address-list*`.
    pub path: Option<String>,
    /// User name presented in `Authorization` (whether or not the password is right).
    pub user: Option<String>,
    /// `www` or `www-ssl`.
    pub listener: Option<Listener>,
}

impl Matcher {
    /// Whether the matcher names anything only a request can tell.
    pub fn needs_request(&self) -> bool {
        self.method.is_some() || self.path.is_some() || self.user.is_some()
    }

    fn matches_listener(&self, l: Listener) -> bool {
        self.listener.is_none_or(|x| x == l)
    }

    fn matches_request(&self, r: &RequestInfo<'_>) -> bool {
        self.matches_listener(r.listener)
            && self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(r.method))
            && self.path.as_deref().is_none_or(|p| glob(p, r.path))
            && self.user.as_deref().is_none_or(|u| Some(u) == r.user)
    }
}

/// How often a matching rule fires. The defaults fire on every match.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Firing {
    /// Let this many matching requests through before firing.
    pub after: u64,
    /// Fire at most this many times, then stay inert (still listed, as exhausted).
    pub times: Option<u64>,
    /// Fire with this probability (0 to 1) on each match past `after`.
    pub probability: Option<f64>,
    /// Seed of the rule's generator (probability draws, delay ranges). Default 0.
    pub seed: u64,
}

/// What happens when a rule fires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Action {
    /// Answer this status with a RouterOS error body (`detail` left out when absent).
    Status {
        /// HTTP status.
        status: u16,
        /// The router text.
        #[serde(default)]
        detail: Option<String>,
    },
    /// Answer with exactly this body: an HTML page, invalid or truncated JSON, JSON of the wrong shape.
    Body {
        /// HTTP status.
        #[serde(default = "ok_status")]
        status: u16,
        /// `Content-Type` header.
        #[serde(default = "json_type")]
        content_type: String,
        /// The body.
        body: String,
    },
    /// Wait before answering normally: `ms`, or a time drawn between `ms` and `max_ms`.
    Delay {
        /// Milliseconds (the lower bound when `max_ms` is given).
        ms: u64,
        /// Upper bound of a range.
        #[serde(default)]
        max_ms: Option<u64>,
    },
    /// Close the listener: connections are refused while the rule exists.
    Refuse,
    /// Reset the connection (TCP RST) without a response.
    Reset,
    /// Send the response headers, then close the connection.
    CloseAfterHeaders,
    /// Send the headers and this many body bytes, then close the connection.
    CloseAfterBytes {
        /// Body bytes to send.
        bytes: usize,
    },
    /// Accept and never answer (until the rule's stall time, one hour, or a reboot).
    Stall,
    /// Send the response slowly: `bytes` at a time, every `interval_ms`.
    Dribble {
        /// Bytes per write.
        bytes: usize,
        /// Pause between writes.
        interval_ms: u64,
    },
    /// Serve a certificate from the simulator's CA that expired yesterday.
    TlsExpired,
    /// Serve a certificate from the simulator's CA for another name (`wrong-name.invalid`).
    TlsWrongName,
    /// Serve a certificate from a CA other than the exported one.
    TlsUntrusted,
    /// Serve no certificate: the handshake fails with `handshake_failure`.
    TlsNoCertificate,
    /// Answer plain HTTP on the TLS port.
    TlsPlaintext,
}

fn ok_status() -> u16 {
    200
}

fn json_type() -> String {
    "application/json".into()
}

impl Action {
    /// Whether the action happens before any request is read.
    pub fn is_tls(&self) -> bool {
        matches!(
            self,
            Action::TlsExpired
                | Action::TlsWrongName
                | Action::TlsUntrusted
                | Action::TlsNoCertificate
                | Action::TlsPlaintext
        )
    }

    /// Whether the action can happen at accept time.
    fn at_connection(&self) -> bool {
        self.is_tls() || matches!(self, Action::Reset | Action::Stall)
    }

    /// A short name for journals and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Status { .. } => "status",
            Action::Body { .. } => "body",
            Action::Delay { .. } => "delay",
            Action::Refuse => "refuse",
            Action::Reset => "reset",
            Action::CloseAfterHeaders => "close-after-headers",
            Action::CloseAfterBytes { .. } => "close-after-bytes",
            Action::Stall => "stall",
            Action::Dribble { .. } => "dribble",
            Action::TlsExpired => "tls-expired",
            Action::TlsWrongName => "tls-wrong-name",
            Action::TlsUntrusted => "tls-untrusted",
            Action::TlsNoCertificate => "tls-no-certificate",
            Action::TlsPlaintext => "tls-plaintext",
        }
    }

    /// An HTML page with status 200, as a web server that is not RouterOS REST would send.
    pub fn html_page() -> Action {
        Action::Body {
            status: 200,
            content_type: "text/html".into(),
            body: "<html><body><h1>Welcome</h1></body></html>".into(),
        }
    }

    /// A body that is not JSON at all.
    pub fn invalid_json() -> Action {
        Action::Body {
            status: 200,
            content_type: json_type(),
            body: "{not json".into(),
        }
    }
}

/// A rule as given by a client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// Which requests.
    #[serde(default, rename = "match")]
    pub matcher: Matcher,
    /// How often.
    #[serde(default)]
    pub firing: Firing,
    /// What happens.
    pub action: Action,
}

impl FaultRule {
    /// A rule that fires on every request or connection.
    pub fn always(action: Action) -> Self {
        Self {
            matcher: Matcher::default(),
            firing: Firing::default(),
            action,
        }
    }

    /// Restricts the rule to a path pattern.
    pub fn path(mut self, pattern: &str) -> Self {
        self.matcher.path = Some(pattern.to_owned());
        self
    }

    /// Restricts the rule to a method.
    pub fn method(mut self, method: &str) -> Self {
        self.matcher.method = Some(method.to_owned());
        self
    }

    /// Restricts the rule to a user.
    pub fn user(mut self, user: &str) -> Self {
        self.matcher.user = Some(user.to_owned());
        self
    }

    /// Restricts the rule to a listener.
    pub fn listener(mut self, l: Listener) -> Self {
        self.matcher.listener = Some(l);
        self
    }

    /// Fires only the next `n` times.
    pub fn times(mut self, n: u64) -> Self {
        self.firing.times = Some(n);
        self
    }

    /// Lets `m` matching requests through first.
    pub fn after(mut self, m: u64) -> Self {
        self.firing.after = m;
        self
    }

    /// Fires with probability `p` from a generator seeded with `seed`.
    pub fn probability(mut self, p: f64, seed: u64) -> Self {
        self.firing.probability = Some(p);
        self.firing.seed = seed;
        self
    }

    /// Checks the rule makes sense; the message says what to change.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(p) = self.firing.probability
            && !(0.0..=1.0).contains(&p)
        {
            return Err(format!("probability must be between 0 and 1, not {p}"));
        }
        match &self.action {
            Action::Status { status, .. } | Action::Body { status, .. }
                if !(100..=999).contains(status) =>
            {
                return Err(format!(
                    "status must be an HTTP status (100-999), not {status}"
                ));
            }
            Action::Delay {
                ms,
                max_ms: Some(max),
            } if max < ms => {
                return Err(format!("max_ms ({max}) must not be below ms ({ms})"));
            }
            Action::Dribble { bytes: 0, .. } => {
                return Err("dribble needs at least 1 byte per write".into());
            }
            a if a.is_tls() && self.matcher.needs_request() => {
                return Err(format!(
                    "{} acts during the TLS handshake, before any method, path or user is known: match on the listener only",
                    a.name()
                ));
            }
            a if a.is_tls() && self.matcher.listener == Some(Listener::Www) => {
                return Err(format!(
                    "{} applies to the TLS listener (www-ssl), not www",
                    a.name()
                ));
            }
            Action::Refuse if self.matcher.needs_request() || self.firing != Firing::default() => {
                return Err("refuse closes the listener while the rule exists: it takes no method, path, user or firing options; remove the rule to open the listener again".into());
            }
            _ => {}
        }
        Ok(())
    }
}

/// A rule in the table, with its counters.
#[derive(Debug)]
struct Entry {
    id: u64,
    rule: FaultRule,
    seen: u64,
    fired: u64,
    rng: StdRng,
}

impl Entry {
    /// Counts a match and decides whether the rule fires.
    fn fire(&mut self) -> bool {
        self.seen += 1;
        if self.seen <= self.rule.firing.after {
            return false;
        }
        if self.rule.firing.times.is_some_and(|t| self.fired >= t) {
            return false;
        }
        if let Some(p) = self.rule.firing.probability
            && self.rng.random::<f64>() >= p
        {
            return false;
        }
        self.fired += 1;
        true
    }
}

/// A rule as listed by the control API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleStatus {
    /// Handle to remove it by.
    pub id: u64,
    /// The rule.
    #[serde(flatten)]
    pub rule: FaultRule,
    /// Matching requests or connections seen.
    pub seen: u64,
    /// Times it fired.
    pub fired: u64,
    /// Whether a `times` limit has been used up.
    pub exhausted: bool,
}

/// A fault chosen for a request or connection.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// The rule's id.
    pub rule: u64,
    /// The action, with any delay range already drawn.
    pub action: Action,
    /// A drawn delay, for [`Action::Delay`].
    pub delay: Option<Duration>,
}

/// What the request phase knows about a request.
#[derive(Debug, Clone, Copy)]
pub struct RequestInfo<'a> {
    /// Listener it arrived on.
    pub listener: Listener,
    /// HTTP method.
    pub method: &'a str,
    /// URI path.
    pub path: &'a str,
    /// User name presented, if any.
    pub user: Option<&'a str>,
}

/// The ordered rule table.
#[derive(Debug, Default)]
pub struct Faults {
    inner: Mutex<Table>,
}

#[derive(Debug, Default)]
struct Table {
    next_id: u64,
    rules: Vec<Entry>,
}

impl Faults {
    fn table(&self) -> std::sync::MutexGuard<'_, Table> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends a rule and returns its id.
    pub fn add(&self, rule: FaultRule) -> Result<u64, String> {
        rule.validate()?;
        let mut t = self.table();
        t.next_id += 1;
        let id = t.next_id;
        let rng = StdRng::seed_from_u64(rule.firing.seed);
        t.rules.push(Entry {
            id,
            rule,
            seen: 0,
            fired: 0,
            rng,
        });
        Ok(id)
    }

    /// Removes a rule; `false` when there was none with that id.
    pub fn remove(&self, id: u64) -> bool {
        let mut t = self.table();
        let before = t.rules.len();
        t.rules.retain(|e| e.id != id);
        t.rules.len() != before
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.table().rules.clear();
    }

    /// The rules with their counters.
    pub fn list(&self) -> Vec<RuleStatus> {
        self.table()
            .rules
            .iter()
            .map(|e| RuleStatus {
                id: e.id,
                rule: e.rule.clone(),
                seen: e.seen,
                fired: e.fired,
                exhausted: e.rule.firing.times.is_some_and(|t| e.fired >= t),
            })
            .collect()
    }

    /// Whether a `refuse` rule closes listener `l`.
    pub fn refusing(&self, l: Listener) -> bool {
        self.table()
            .rules
            .iter()
            .any(|e| e.rule.action == Action::Refuse && e.rule.matcher.matches_listener(l))
    }

    /// The fault for a new connection on `l`, if any.
    pub fn on_connection(&self, l: Listener) -> Option<Hit> {
        self.pick(|rule| {
            rule.action.at_connection()
                && !rule.matcher.needs_request()
                && rule.matcher.matches_listener(l)
                && (!rule.action.is_tls() || l == Listener::WwwSsl)
        })
    }

    /// The fault for a request, if any.
    pub fn on_request(&self, r: &RequestInfo<'_>) -> Option<Hit> {
        self.pick(|rule| {
            // Connection-level actions without request fields already acted at accept time.
            let request_phase = rule.matcher.needs_request() || !rule.action.at_connection();
            request_phase
                && !rule.action.is_tls()
                && rule.action != Action::Refuse
                && rule.matcher.matches_request(r)
        })
    }

    fn pick(&self, applies: impl Fn(&FaultRule) -> bool) -> Option<Hit> {
        let mut t = self.table();
        for e in t.rules.iter_mut() {
            if applies(&e.rule) && e.fire() {
                let delay = match e.rule.action {
                    Action::Delay { ms, max_ms } => {
                        let ms = match max_ms {
                            Some(max) if max > ms => e.rng.random_range(ms..=max),
                            _ => ms,
                        };
                        Some(Duration::from_millis(ms))
                    }
                    _ => None,
                };
                return Some(Hit {
                    rule: e.id,
                    action: e.rule.action.clone(),
                    delay,
                });
            }
        }
        None
    }
}

/// `*` matches any run of characters; everything else matches itself.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req<'a>(method: &'a str, path: &'a str) -> RequestInfo<'a> {
        RequestInfo {
            listener: Listener::WwwSsl,
            method,
            path,
            user: Some("agent"),
        }
    }

    #[test]
    fn globs() {
        for (p, t, ok) in [
            ("/rest/*", "/rest/ip/firewall/address-list", true),
            ("*address-list*", "/rest/ip/firewall/address-list/*1", true),
            ("/rest/system/resource", "/rest/system/resource", true),
            ("/rest/system/resource", "/rest/system/resources", false),
            ("/rest/*/resource", "/rest/system/resource", true),
            ("", "", true),
            ("*", "", true),
            ("a*b", "ab", true),
            ("a*b", "acb", true),
            ("a*b", "acbd", false),
        ] {
            assert_eq!(glob(p, t), ok, "{p} ~ {t}");
        }
    }

    #[test]
    fn first_match_that_fires_wins() {
        let f = Faults::default();
        let a = f
            .add(
                FaultRule::always(Action::Status {
                    status: 500,
                    detail: None,
                })
                .path("/rest/user*")
                .times(1),
            )
            .unwrap();
        let b = f
            .add(
                FaultRule::always(Action::Status {
                    status: 503,
                    detail: None,
                })
                .method("get"),
            )
            .unwrap();
        assert_eq!(f.on_request(&req("GET", "/rest/user")).unwrap().rule, a);
        assert_eq!(
            f.on_request(&req("GET", "/rest/user")).unwrap().rule,
            b,
            "a is exhausted"
        );
        assert_eq!(f.on_request(&req("PUT", "/rest/user")), None);
        let listed = f.list();
        assert!(
            listed[0].exhausted && listed[0].fired == 1 && listed[0].seen == 3,
            "the PUT matched too"
        );
        assert!(f.remove(b));
        assert!(!f.remove(b));
        assert_eq!(f.on_request(&req("GET", "/rest/x")), None);
    }

    #[test]
    fn after_and_user() {
        let f = Faults::default();
        f.add(FaultRule::always(Action::Reset).user("agent").after(2))
            .unwrap();
        let hits: Vec<bool> = (0..4)
            .map(|_| f.on_request(&req("GET", "/")).is_some())
            .collect();
        assert_eq!(hits, [false, false, true, true]);
        let other = RequestInfo {
            user: Some("admin"),
            ..req("GET", "/")
        };
        assert_eq!(f.on_request(&other), None);
    }

    #[test]
    fn seeded_probability_is_reproducible() {
        let run = |seed| {
            let f = Faults::default();
            f.add(
                FaultRule::always(Action::Status {
                    status: 500,
                    detail: None,
                })
                .path("/*")
                .probability(0.3, seed),
            )
            .unwrap();
            (0..200)
                .map(|_| f.on_request(&req("GET", "/x")).is_some())
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        let hits = run(7).iter().filter(|h| **h).count();
        assert!((30..=90).contains(&hits), "about 30% of 200, got {hits}");
    }

    #[test]
    fn phases() {
        let f = Faults::default();
        f.add(FaultRule::always(Action::TlsExpired)).unwrap();
        f.add(FaultRule::always(Action::Reset).path("/rest/user"))
            .unwrap();
        assert_eq!(
            f.on_connection(Listener::WwwSsl).unwrap().action,
            Action::TlsExpired
        );
        assert_eq!(
            f.on_connection(Listener::Www),
            None,
            "TLS faults skip the plain listener"
        );
        assert_eq!(
            f.on_request(&req("GET", "/rest/user")).unwrap().action,
            Action::Reset
        );
        f.clear();
        f.add(FaultRule::always(Action::Stall)).unwrap();
        assert!(f.on_connection(Listener::Www).is_some());
        assert_eq!(
            f.on_request(&req("GET", "/")),
            None,
            "a bare stall acts at accept time"
        );
    }

    #[test]
    fn delay_ranges_are_drawn_and_rules_validated() {
        let f = Faults::default();
        f.add(
            FaultRule::always(Action::Delay {
                ms: 10,
                max_ms: Some(20),
            })
            .probability(1.0, 3),
        )
        .unwrap();
        for _ in 0..20 {
            let d = f.on_request(&req("GET", "/")).unwrap().delay.unwrap();
            assert!((10..=20).contains(&(d.as_millis() as u64)));
        }
        for bad in [
            FaultRule::always(Action::TlsExpired).path("/x"),
            FaultRule::always(Action::TlsExpired).listener(Listener::Www),
            FaultRule::always(Action::Refuse).times(1),
            FaultRule::always(Action::Status {
                status: 5,
                detail: None,
            }),
            FaultRule::always(Action::Delay {
                ms: 10,
                max_ms: Some(1),
            }),
            FaultRule::always(Action::Reset).probability(1.5, 0),
        ] {
            assert!(f.add(bad.clone()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn rules_read_from_json() {
        let rule: FaultRule = serde_json::from_str(
            r#"{"match":{"method":"PUT","path":"/rest/ip/firewall/address-list","listener":"www-ssl"},
                "firing":{"times":2},"action":{"kind":"status","status":500,"detail":"not enough permissions (9)"}}"#,
        )
        .unwrap();
        assert_eq!(rule.matcher.listener, Some(Listener::WwwSsl));
        assert_eq!(
            rule.action,
            Action::Status {
                status: 500,
                detail: Some("not enough permissions (9)".into())
            }
        );
        assert!(serde_json::from_str::<FaultRule>(r#"{"action":{"kind":"explode"}}"#).is_err());
        let dribble: FaultRule =
            serde_json::from_str(r#"{"action":{"kind":"dribble","bytes":4,"interval_ms":10}}"#)
                .unwrap();
        assert_eq!(
            dribble.action,
            Action::Dribble {
                bytes: 4,
                interval_ms: 10
            }
        );
    }
}
