//! The suite's own REST client: raw requests for the wire scenarios, set-up and clean-up.
//!
//! Wire scenarios must see exactly what the router sent (status, headers, bytes), so this client
//! does no interpretation: it returns a [`Reply`] and leaves the judging to the scenario. It is
//! deliberately independent of the agent's client (the agent is what is under test), except for the
//! rustls configuration, which it borrows from `agent::net::tls_config` so that both trust the router
//! the same way (one provider, `ring`).
//!
//! Every write goes through a [`WriteGuard`] first. On a real router this is what keeps the suite
//! from touching anything it does not own: a create must name a list, user or group that starts with
//! the run's prefix, and a change or delete must address an `.id` this run created. The guard is
//! active on every target, so a scenario that would be unsafe on a router already fails on the
//! simulator. In `--read-only` mode it refuses every create and change, and once the run is
//! interrupted ([`crate::stop::Stop`]) it refuses them on every client, so that the safety sweep is not
//! racing a scenario that is still creating users. With `--record` each exchange is written to a file with credentials and passwords
//! removed (see [`Recorder`]); the agent's own exchanges go to the same recorder through its client's
//! observer ([`Recorder::agent_observer`]), in files marked `agent`.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::Failure;
use crate::stop::Stop;

/// One complete HTTP reply, unjudged.
#[derive(Debug, Clone)]
pub struct Reply {
    /// What was asked, e.g. `PUT /rest/ip/firewall/address-list`, for failure messages.
    pub what: String,
    /// The status.
    pub status: u16,
    /// Headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body bytes.
    pub body: Vec<u8>,
}

impl Reply {
    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON.
    pub fn json(&self) -> Result<Value, Failure> {
        serde_json::from_slice(&self.body).map_err(|e| {
            Failure::new(format!(
                "{}: body is not JSON ({e}): {}",
                self.what,
                self.text()
            ))
        })
    }

    /// Fails unless the status is `status`.
    pub fn expect_status(&self, status: u16) -> Result<&Self, Failure> {
        if self.status == status {
            Ok(self)
        } else {
            Err(Failure::new(format!(
                "{}: expected HTTP {status}, got {} with {}",
                self.what,
                self.status,
                self.text()
            )))
        }
    }
}

/// Decides which writes the suite may send (see the module docs).
#[derive(Debug)]
pub struct WriteGuard {
    prefix: String,
    read_only: bool,
    created: Mutex<HashSet<String>>,
    static_entries: AtomicUsize,
    stop: Arc<Stop>,
}

impl WriteGuard {
    /// A guard for names starting with `prefix`.
    pub fn new(prefix: impl Into<String>) -> Self {
        WriteGuard {
            prefix: prefix.into(),
            read_only: false,
            created: Mutex::new(HashSet::new()),
            static_entries: AtomicUsize::new(0),
            stop: Arc::default(),
        }
    }

    /// The same guard obeying the run's stop switch: once stopped, creates and changes are refused
    /// and every one still in the air is a flight the sweep waits for.
    pub fn with_stop(mut self, stop: Arc<Stop>) -> Self {
        self.stop = stop;
        self
    }

    /// The same guard refusing every create and change (`--read-only`). Deletes of adopted rows
    /// still pass: only an explicit `--sweep-leftovers` adopts anything in that mode.
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// How many address-list entries without a `timeout` (static: they never expire) this guard
    /// let through. The runner allows them only in the scenarios that test static entries.
    pub fn static_entries(&self) -> usize {
        self.static_entries.load(Ordering::SeqCst)
    }

    /// The prefix every created name must carry.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn created(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.created.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Allows later writes to this `menu/*id` (a row of the run's own list found during clean-up).
    pub fn adopt(&self, menu: &str, id: &str) {
        self.created().insert(format!("{menu}/{id}"));
    }

    /// Whether this write may be sent; the reason when not.
    fn check(&self, method: &str, path: &str, body: Option<&Value>) -> Result<(), String> {
        let path = path.split('?').next().unwrap_or(path);
        let changes = !matches!(method, "GET" | "HEAD" | "OPTIONS" | "DELETE");
        if changes && self.read_only {
            return Err(format!("{method} {path}: read-only mode"));
        }
        if changes && self.stop.is_stopping() {
            return Err(format!(
                "{method} {path}: the run was interrupted, only clean-up goes out"
            ));
        }
        match method {
            "GET" | "HEAD" | "OPTIONS" => Ok(()),
            "PUT" => {
                // Address-list entries are named by their list, users and groups by their name, and
                // firewall filter rules (written on simulators only) by their comment.
                let name = body
                    .and_then(|b| {
                        b.get("list").or_else(|| b.get("name")).or_else(|| {
                            b.get("comment")
                                .filter(|_| path.ends_with("/firewall/filter"))
                        })
                    })
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if name.starts_with(&self.prefix) {
                    if path.ends_with("/firewall/address-list")
                        && body.is_some_and(|b| b.get("timeout").is_none())
                    {
                        self.static_entries.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok(())
                } else {
                    Err(format!(
                        "PUT {path} names `{name}`, which does not start with the run prefix `{}`",
                        self.prefix
                    ))
                }
            }
            _ => {
                if self.created().contains(path) {
                    Ok(())
                } else {
                    Err(format!(
                        "{method} {path} addresses a row this run did not create"
                    ))
                }
            }
        }
    }

    fn note_created(&self, menu_path: &str, reply: &Reply) {
        if reply.status == 201
            && let Ok(v) = serde_json::from_slice::<Value>(&reply.body)
            && let Some(id) = v.get(".id").and_then(Value::as_str)
        {
            self.adopt(menu_path, id);
        }
    }
}

/// Saves exchanges as JSON files, secrets removed, in a form close to a fixture.
#[derive(Debug)]
pub struct Recorder {
    dir: PathBuf,
    next: AtomicUsize,
}

impl Recorder {
    /// Records into `dir` (created on first use).
    pub fn new(dir: PathBuf) -> Self {
        Recorder {
            dir,
            next: AtomicUsize::new(1),
        }
    }

    fn save(&self, method: &str, path: &str, body: Option<&Value>, reply: &Reply) {
        let response_body = serde_json::from_slice::<Value>(&reply.body)
            .map(redact)
            .unwrap_or_else(|_| Value::String(reply.text()));
        // Only headers that matter to a client; nothing that could identify a session or a secret.
        let headers: serde_json::Map<String, Value> = reply
            .headers
            .iter()
            .filter(|(n, _)| matches!(n.as_str(), "content-type" | "location" | "www-authenticate"))
            .map(|(n, v)| (n.clone(), Value::String(redact_location(v))))
            .collect();
        let doc = json!({
            "request": { "method": method, "path": format!("/rest{path}"), "body": body.cloned().map(redact) },
            "response": { "status": reply.status, "headers": headers, "body": response_body },
        });
        self.write("", &format!("{method}{path}"), &doc);
    }

    /// Saves one attempt of the agent's client, in the same form as the suite's own exchanges
    /// (without response headers, which the agent's client does not report), in a file whose name
    /// carries `agent-` after its number and with `"client": "agent"`. A transport failure is
    /// saved as `"error"` in place of the response, the router's address removed.
    pub fn save_agent(&self, x: &agent::net::Exchange) {
        let json_or_text = |s: &str| {
            serde_json::from_str::<Value>(s)
                .map(redact)
                .unwrap_or_else(|_| Value::String(s.to_owned()))
        };
        let request_body = x.request_body.as_deref().map(json_or_text);
        let response = match (&x.status, &x.response_body) {
            (Some(status), Some(body)) => json!({ "status": status, "body": json_or_text(body) }),
            (status, _) => json!({ "status": status }),
        };
        let mut doc = json!({
            "client": "agent",
            "request": { "method": x.method, "path": x.path, "body": request_body },
            "response": response,
        });
        if let Some(e) = &x.error {
            doc["error"] = Value::String(redact_urls(e));
        }
        let below_rest = x.path.strip_prefix("/rest").unwrap_or(&x.path);
        self.write("agent-", &format!("{}{below_rest}", x.method), &doc);
    }

    /// An observer for the agent's client that saves every attempt here ([`Recorder::save_agent`]).
    pub fn agent_observer(self: &Arc<Self>) -> agent::net::Observer {
        let me = Arc::clone(self);
        Arc::new(move |x: &agent::net::Exchange| me.save_agent(x))
    }

    /// Writes `doc` as the next numbered file, `NNN-{mark}{slug}.json`.
    fn write(&self, mark: &str, what: &str, doc: &Value) {
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        let slug: String = what
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .take(60)
            .collect();
        if std::fs::create_dir_all(&self.dir).is_ok() {
            let file = self.dir.join(format!("{n:03}-{mark}{slug}.json"));
            let text = serde_json::to_string_pretty(doc).unwrap_or_default();
            if let Err(e) = std::fs::write(&file, text) {
                eprintln!("cannot record to {}: {e}", file.display());
            }
        }
    }
}

/// Replaces every `password` value in a JSON document.
fn redact(mut v: Value) -> Value {
    match &mut v {
        Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                if k.contains("password") {
                    *val = Value::String("***".into());
                } else {
                    *val = redact(val.take());
                }
            }
        }
        Value::Array(items) => {
            for item in items.iter_mut() {
                *item = redact(item.take());
            }
        }
        _ => {}
    }
    v
}

/// A `Location` header names the router's address; keep only the path.
fn redact_location(v: &str) -> String {
    match v.find("/rest/") {
        Some(i) if v.starts_with("http") => format!("https://<router>{}", &v[i..]),
        _ => v.to_owned(),
    }
}

/// Every `http://` or `https://` URL in a message (a transport error names the URL it was
/// sending to) with its scheme, host and port replaced by `https://<router>`.
fn redact_urls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("http") {
        let tail = &rest[i..];
        let after = tail
            .strip_prefix("https://")
            .or_else(|| tail.strip_prefix("http://"));
        match after {
            Some(after) => {
                out.push_str(&rest[..i]);
                out.push_str("https://<router>");
                let end = after
                    .find(|c: char| c == '/' || c == ')' || c.is_whitespace())
                    .unwrap_or(after.len());
                rest = &after[end..];
            }
            None => {
                out.push_str(&rest[..i + 4]);
                rest = &rest[i + 4..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// A REST client bound to one target and one set of credentials.
#[derive(Debug, Clone)]
pub struct Rest {
    http: reqwest::Client,
    base: String,
    credentials: Option<(String, String)>,
    guard: Arc<WriteGuard>,
    recorder: Option<Arc<Recorder>>,
}

impl Rest {
    /// A client for `base` (`https://host:port`, without `/rest`).
    pub fn new(
        base: &str,
        tls: &agent::config::TlsMode,
        credentials: Option<(String, String)>,
        guard: Arc<WriteGuard>,
        recorder: Option<Arc<Recorder>>,
    ) -> Result<Rest, Failure> {
        let tls = agent::net::tls_config(tls).map_err(|e| Failure::new(e.to_string()))?;
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .http1_only()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(20))
            .build()
            .map_err(|e| Failure::new(format!("HTTP client set-up: {e}")))?;
        Ok(Rest {
            http,
            base: base.trim_end_matches('/').to_owned(),
            credentials,
            guard,
            recorder,
        })
    }

    /// The same client with other credentials (`None`: send no `Authorization` at all).
    pub fn with_credentials(&self, credentials: Option<(String, String)>) -> Rest {
        Rest {
            credentials,
            ..self.clone()
        }
    }

    /// The recorder (`--record`), if there is one.
    pub fn recorder(&self) -> Option<&Arc<Recorder>> {
        self.recorder.as_ref()
    }

    /// The guard, for clean-up.
    pub fn guard(&self) -> &Arc<WriteGuard> {
        &self.guard
    }

    /// Sends one request; `path` is below `/rest` and written into the URL as is (ids like `*1A`
    /// must not be percent-encoded).
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Reply, Failure> {
        let what = format!("{method} /rest{path}");
        self.guard
            .check(method, path, body)
            .map_err(|e| Failure::new(format!("safety: refused to send: {e}")))?;
        // A create or change is a flight from here until its reply is read, so that an interrupted
        // run sweeps only after it landed (deletes are the sweep's own, reads change nothing).
        let _flight = if matches!(method, "PUT" | "PATCH" | "POST") {
            Some(self.guard.stop.begin().ok_or_else(|| {
                Failure::new(format!(
                    "safety: refused to send: {method} {path}: the run was interrupted, only clean-up goes out"
                ))
            })?)
        } else {
            None
        };
        let m = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|e| Failure::new(format!("{what}: {e}")))?;
        let mut req = self.http.request(m, format!("{}/rest{path}", self.base));
        if let Some((user, password)) = &self.credentials {
            req = req.basic_auth(user, Some(password));
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| Failure::new(format!("{what}: {}", chain(&e))))?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body_bytes = resp
            .bytes()
            .await
            .map_err(|e| Failure::new(format!("{what}: reading the body: {}", chain(&e))))?;
        let reply = Reply {
            what,
            status,
            headers,
            body: body_bytes.to_vec(),
        };
        if method == "PUT" {
            self.guard
                .note_created(path.split('?').next().unwrap_or(path), &reply);
        }
        if let Some(r) = &self.recorder {
            r.save(method, path, body, &reply);
        }
        Ok(reply)
    }

    /// `GET`.
    pub async fn get(&self, path: &str) -> Result<Reply, Failure> {
        self.send("GET", path, None).await
    }

    /// `PUT` with a JSON body.
    pub async fn put(&self, path: &str, body: &Value) -> Result<Reply, Failure> {
        self.send("PUT", path, Some(body)).await
    }

    /// `PATCH` with a JSON body.
    pub async fn patch(&self, path: &str, body: &Value) -> Result<Reply, Failure> {
        self.send("PATCH", path, Some(body)).await
    }

    /// `DELETE`.
    pub async fn delete(&self, path: &str) -> Result<Reply, Failure> {
        self.send("DELETE", path, None).await
    }

    /// `GET` of a menu, expecting `200` and an array of objects.
    pub async fn rows(&self, path: &str) -> Result<Vec<serde_json::Map<String, Value>>, Failure> {
        let reply = self.get(path).await?;
        reply.expect_status(200)?;
        match reply.json()? {
            Value::Array(items) => items
                .into_iter()
                .map(|v| match v {
                    Value::Object(m) => Ok(m),
                    other => Err(Failure::new(format!(
                        "{}: a row is not an object: {other}",
                        reply.what
                    ))),
                })
                .collect(),
            other => Err(Failure::new(format!(
                "{}: expected an array, got {other}",
                reply.what
            ))),
        }
    }
}

/// The characters a query value keeps as they are: RFC 3986's unreserved ones, and `*`, `:` and
/// `/`, so that ids (`*1A`), addresses and prefixes stay readable in the router's log. RouterOS
/// compares the decoded value exactly, so either form finds the same rows.
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'*')
    .remove(b':')
    .remove(b'/');

/// Percent-encodes a query value (a list name, an address) for a `?name=value` filter.
pub fn encode_query(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, QUERY_VALUE).to_string()
}

/// The messages of an error and its sources, joined.
fn chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let t = s.to_string();
        if !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        cur = s.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_keep_ids_and_addresses_readable() {
        for (value, expected) in [
            ("my list", "my%20list"),
            ("2001:db8::/64", "2001:db8::/64"),
            ("a&b=c", "a%26b%3Dc"),
            ("*1A", "*1A"),
            ("conf-ab12_3.x~", "conf-ab12_3.x~"),
            ("l\u{e4}st", "l%C3%A4st"),
        ] {
            assert_eq!(encode_query(value), expected, "{value}");
        }
    }

    #[test]
    fn the_guard_allows_only_the_runs_own_names_and_rows() {
        let g = WriteGuard::new("conf-ab12");
        let list = json!({"list": "conf-ab12-03", "address": "192.0.2.1"});
        assert!(
            g.check("PUT", "/ip/firewall/address-list", Some(&list))
                .is_ok()
        );
        let foreign = json!({"list": "knocknoc-users", "address": "192.0.2.1"});
        assert!(
            g.check("PUT", "/ip/firewall/address-list", Some(&foreign))
                .is_err()
        );
        assert!(
            g.check("PUT", "/user", Some(&json!({"name": "admin2"})))
                .is_err()
        );
        assert!(
            g.check("DELETE", "/ip/firewall/address-list/*1", None)
                .is_err()
        );
        g.adopt("/ip/firewall/address-list", "*1");
        assert!(
            g.check("DELETE", "/ip/firewall/address-list/*1", None)
                .is_ok()
        );
        assert!(
            g.check("PATCH", "/ip/firewall/address-list/*2", None)
                .is_err()
        );
        assert!(g.check("GET", "/user", None).is_ok());
        assert_eq!(g.static_entries(), 1, "the list PUT above had no timeout");
        let timed = json!({"list": "conf-ab12-03", "address": "192.0.2.2", "timeout": "1h"});
        assert!(
            g.check("PUT", "/ipv6/firewall/address-list", Some(&timed))
                .is_ok()
        );
        assert_eq!(g.static_entries(), 1, "a timed entry is not static");
    }

    #[test]
    fn read_only_refuses_creates_and_changes_but_not_adopted_deletes() {
        let g = WriteGuard::new("conf-ab12").read_only(true);
        let list = json!({"list": "conf-ab12-03", "address": "192.0.2.1", "timeout": "1h"});
        assert!(
            g.check("PUT", "/ip/firewall/address-list", Some(&list))
                .is_err()
        );
        g.adopt("/user", "*5");
        assert!(g.check("PATCH", "/user/*5", Some(&json!({}))).is_err());
        assert!(g.check("DELETE", "/user/*5", None).is_ok());
        assert!(g.check("GET", "/user", None).is_ok());
    }

    #[test]
    fn passwords_and_router_addresses_are_removed() {
        let v = redact(json!({"name": "u", "password": "s3cret", "rows": [{"password": "x"}]}));
        assert!(!v.to_string().contains("s3cret") && !v.to_string().contains("\"x\""));
        assert_eq!(
            redact_location("https://10.1.2.3/rest/ip/firewall/address-list/*3C"),
            "https://<router>/rest/ip/firewall/address-list/*3C"
        );
    }

    #[test]
    fn agent_exchanges_are_saved_marked_and_without_secrets() {
        let dir = tempfile::tempdir().expect("temp dir");
        let r = Arc::new(Recorder::new(dir.path().join("s")));
        let observe = r.agent_observer();
        observe(&agent::net::Exchange {
            method: "PUT".into(),
            path: "/rest/user".into(),
            request_body: Some(r#"{"name":"u","password":"s3cret"}"#.into()),
            status: Some(201),
            response_body: Some(r#"{".id":"*1","name":"u"}"#.into()),
            error: None,
        });
        observe(&agent::net::Exchange {
            method: "GET".into(),
            path: "/rest/system/resource".into(),
            request_body: None,
            status: None,
            response_body: None,
            error: Some(
                "GET /rest/system/resource: error sending request for url (https://10.1.2.3:8443/rest/system/resource)".into(),
            ),
        });
        let first = std::fs::read_to_string(dir.path().join("s/001-agent-PUT-user.json")).unwrap();
        assert!(!first.contains("s3cret"), "{first}");
        let doc: Value = serde_json::from_str(&first).unwrap();
        assert_eq!(doc["client"], "agent");
        assert_eq!(doc["request"]["path"], "/rest/user");
        assert_eq!(doc["response"]["status"], 201);
        assert_eq!(doc["response"]["body"][".id"], "*1");
        let second =
            std::fs::read_to_string(dir.path().join("s/002-agent-GET-system-resource.json"))
                .unwrap();
        let doc: Value = serde_json::from_str(&second).unwrap();
        assert_eq!(doc["response"]["status"], Value::Null);
        assert_eq!(
            doc["error"],
            "GET /rest/system/resource: error sending request for url (https://<router>/rest/system/resource)"
        );
        assert_eq!(
            redact_urls("at http://[::1]:80) and httpx"),
            "at https://<router>) and httpx"
        );
    }
}
