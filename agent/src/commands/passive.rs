//! `passive install`, `passive uninstall` and `passive status`: the router's side of passive mode,
//! over REST.
//!
//! `install` creates exactly one `/system/script` and one `/system/scheduler` entry, both named and
//! commented with the agent's tag, and imports the feed's CA so that `/tool/fetch
//! check-certificate=yes` trusts the feed: the CA goes up as a file (`PUT /rest/file` with
//! `contents`, RouterOS 7.15+) and `/certificate/import file-name=... passphrase=""` trusts it
//! (MikroTik manual, "Certificates"; eworm-de/routeros-scripts imports its CAs the same way); the
//! file is removed afterwards. `--no-ca-import` leaves the CA to the operator (for a feed
//! certificate from a CA the router already trusts, or a router whose certificate menu the
//! operator manages by hand). A second install changes nothing; a changed URL, interval, multiple
//! or key updates the script and the entry in place. A script or entry of the same name without the
//! agent's tag in its comment is never touched (208123).
//!
//! `uninstall` removes the script, the scheduler entry and the CA certificate install imported,
//! and nothing else. `status` reads the scheduler entry, the script's runs and the router's log,
//! then compares the agent's entries in the list with the feed (fetched here, as the router does):
//! `in step`, or the code that says what is wrong.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{Value, json};

use crate::address::Family;
use crate::config::{Config, TlsMode};
use crate::daemon::feed;
use crate::duration;
use crate::error::{Code, Error};
use crate::net::RouterClient;
use crate::net::passive::{Fields, field};
use crate::passive::{self, LastRun, ScriptParams};

use super::exit;
use super::output::{Failure, Render};

/// The script's and scheduler entry's `policy`: `read` and `write` for the address lists, `test`
/// for `/tool/fetch` (importer schedulers in the wild run fetch with `read,write,test`,
/// multiduplikator/mikrotik_blocklist; research notes §2 and §8). No `ftp`: the feed is read into
/// memory page by page, never written to a file. A script's policy must not exceed its
/// scheduler's, nor the scheduler's its owner's (MikroTik manual, Scripting, "Script permissions").
pub const POLICY: &str = "read,write,test";

const SCRIPT_MENU: &str = "/system/script";
const SCHEDULER_MENU: &str = "/system/scheduler";

/// What `passive install` asked for.
#[derive(Debug, Clone)]
pub struct InstallArgs {
    /// The feed URL of the IPv4 list (as the daemon printed it).
    pub feed_url: String,
    /// The scheduler interval.
    pub interval: Option<String>,
    /// Entries live this many intervals.
    pub fail_closed_multiple: Option<u32>,
    /// Do not upload and import the feed's CA.
    pub no_ca_import: bool,
    /// The CA file (default `<state>.feed-ca.pem`).
    pub feed_ca: Option<std::path::PathBuf>,
}

/// What happened to one thing on the router.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// It did not exist and was made.
    Created,
    /// It existed and was changed.
    Updated,
    /// It was already as wanted.
    Unchanged,
    /// It was removed.
    Removed,
    /// There was nothing to remove.
    Absent,
    /// Left to the operator.
    Skipped,
}

impl Change {
    fn word(self) -> &'static str {
        match self {
            Change::Created => "created",
            Change::Updated => "updated",
            Change::Unchanged => "unchanged",
            Change::Removed => "removed",
            Change::Absent => "absent",
            Change::Skipped => "skipped",
        }
    }
}

/// The outcome of a `passive` command: what it did or found, or the error that stopped it.
#[derive(Debug, Clone)]
pub struct Passive {
    /// `install`, `uninstall` or `status`.
    pub action: &'static str,
    /// What happened to the script, the scheduler entry and the CA, in that order.
    pub changes: Vec<(&'static str, Change)>,
    /// Lines of findings (`status`).
    pub notes: Vec<String>,
    /// The failure, if any.
    pub error: Option<Error>,
}

impl Render for Passive {
    fn text(&self) -> String {
        let mut t = String::new();
        for (what, change) in &self.changes {
            let _ = writeln!(t, "{what}: {}", change.word());
        }
        for n in &self.notes {
            let _ = writeln!(t, "{n}");
        }
        match &self.error {
            Some(e) => {
                let _ = writeln!(t, "{e}");
            }
            None if self.action == "status" => {
                let _ = writeln!(t, "in step");
            }
            None => {}
        }
        t
    }

    fn json(&self) -> Value {
        let changes: serde_json::Map<String, Value> = self
            .changes
            .iter()
            .map(|(k, c)| ((*k).to_owned(), json!(c.word())))
            .collect();
        let mut doc = json!({
            "ok": self.error.is_none(),
            "action": self.action,
            "changes": changes,
            "notes": self.notes,
        });
        if let Some(e) = &self.error {
            doc["error"] = e.to_json();
        } else if self.action == "status" {
            doc["in_step"] = json!(true);
        }
        doc
    }

    fn status(&self) -> u8 {
        match &self.error {
            None => exit::OK,
            Some(_) => exit::FAILED,
        }
    }
}

impl Passive {
    fn new(action: &'static str) -> Self {
        Passive {
            action,
            changes: Vec::new(),
            notes: Vec::new(),
            error: None,
        }
    }

    fn failed(mut self, e: Error) -> Self {
        self.error = Some(e);
        self
    }
}

/// The feed URL of each list: the IPv4 list's as given; the IPv6 list's, when it has another
/// name, at the same place with its own file name (the daemon's paths are `feed_path(list)`).
fn feeds(config: &Config, url: &str) -> Result<Vec<(String, String)>, Failure> {
    let parsed = url::Url::parse(url)
        .map_err(|e| Failure::config(format!("--feed-url `{url}` is not a URL: {e}")))?;
    if parsed.scheme() != "https" {
        return Err(Failure::config(format!(
            "--feed-url `{url}` must be https://: the router checks the feed's certificate"
        )));
    }
    if parsed.query().is_some() || parsed.username() != "" || parsed.password().is_some() {
        return Err(Failure::config(format!(
            "--feed-url `{url}` must have no query and no credentials (the key is sent as Basic authentication)"
        )));
    }
    let v4_path = passive::feed_path(&config.list_v4);
    let Some(base) = url.strip_suffix(&v4_path) else {
        return Err(Failure::config(format!(
            "--feed-url `{url}` must end in {v4_path}, the feed of the list `{}` (the daemon prints it at start)",
            config.list_v4
        )));
    };
    let mut out = vec![(url.to_owned(), config.list_v4.clone())];
    if config.list_v6 != config.list_v4 {
        out.push((
            format!("{base}{}", passive::feed_path(&config.list_v6)),
            config.list_v6.clone(),
        ));
    }
    Ok(out)
}

/// The script's source with the CR LF a router may store turned back into LF, for comparison.
fn normalised(source: &str) -> String {
    source.replace("\r\n", "\n").trim_end().to_owned()
}

fn policy_set(p: &str) -> BTreeSet<&str> {
    p.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// The agent's row of `menu` by name, refusing one the agent does not own.
async fn own_row(
    client: &RouterClient,
    menu: &str,
    tag: &str,
    what: &str,
) -> Result<Option<Fields>, Error> {
    let rows = client.menu_rows(menu, Some(("name", tag))).await?;
    let Some(row) = rows.into_iter().next() else {
        return Ok(None);
    };
    if field(&row, "comment") != tag {
        return Err(Error::new(
            Code::PassiveNotOwned,
            format!(
                "{what} `{tag}` ({}) has the comment `{}`, not the agent's tag",
                field(&row, ".id"),
                field(&row, "comment").escape_debug()
            ),
        ));
    }
    Ok(Some(row))
}

/// `passive install`.
/// A bad URL, interval, multiple or a missing key file is a configuration failure (nothing is
/// sent); what the router says is in the returned [`Passive`].
pub async fn install(
    config: &Config,
    client: &RouterClient,
    args: &InstallArgs,
) -> Result<Passive, Failure> {
    let params = install_params(config, args)?;
    let out = Passive::new("install");
    Ok(
        match install_on_router(config, client, args, &params, out).await {
            Ok(done) => done,
            Err((done, e)) => done.failed(e),
        },
    )
}

/// The script's parameters, checked before anything is sent.
fn install_params(config: &Config, args: &InstallArgs) -> Result<ScriptParams, Failure> {
    let feeds = feeds(config, &args.feed_url)?;
    let interval_text = args.interval.as_deref().unwrap_or("1m");
    let interval = duration::parse(interval_text)
        .filter(|d| *d >= Duration::from_secs(10))
        .ok_or_else(|| {
            Failure::config(format!(
                "--interval `{interval_text}` is not a RouterOS duration of at least 10s"
            ))
        })?;
    let multiple = args
        .fail_closed_multiple
        .or(config.feed.fail_closed_multiple)
        .unwrap_or(passive::DEFAULT_FAIL_CLOSED_MULTIPLE);
    if multiple < 2 {
        return Err(Failure::config(
            "--fail-closed-multiple must be at least 2: with 1 an entry would expire before the next run refreshes it",
        ));
    }
    let params = ScriptParams {
        tag: config.tag.clone(),
        feeds,
        interval,
        multiple,
        key: feed::read_key(config)
            .map_err(Failure::config)?
            .expose()
            .to_owned(),
    };
    if params.timeout() > duration::MAX_TIMEOUT {
        return Err(Failure::config(format!(
            "interval × multiple = {} is longer than RouterOS's longest timeout (35w3d13h13m56s)",
            duration::format(params.timeout())
        )));
    }
    Ok(params)
}

async fn install_on_router(
    config: &Config,
    client: &RouterClient,
    args: &InstallArgs,
    params: &ScriptParams,
    mut out: Passive,
) -> Result<Passive, (Passive, Error)> {
    let tag = &config.tag;
    // Both rows are checked before either is written, so a foreign one stops the install whole.
    let script = match own_row(client, SCRIPT_MENU, tag, "script").await {
        Ok(r) => r,
        Err(e) => return Err((out, e)),
    };
    let schedule = match own_row(client, SCHEDULER_MENU, tag, "scheduler entry").await {
        Ok(r) => r,
        Err(e) => return Err((out, e)),
    };
    let source = passive::script_source(params);
    let change = match script {
        None => {
            let body = json!({
                "name": tag, "comment": tag, "source": source, "policy": POLICY,
                "dont-require-permissions": "no",
            });
            match client.menu_add(SCRIPT_MENU, &body).await {
                Ok(_) => Change::Created,
                Err(e) => return Err((out, e)),
            }
        }
        Some(row) => {
            let same = normalised(field(&row, "source")) == normalised(&source)
                && policy_set(field(&row, "policy")) == policy_set(POLICY)
                && field(&row, "dont-require-permissions") != "true";
            if same {
                Change::Unchanged
            } else {
                let body =
                    json!({ "source": source, "policy": POLICY, "dont-require-permissions": "no" });
                match client
                    .menu_set(SCRIPT_MENU, field(&row, ".id"), &body)
                    .await
                {
                    Ok(()) => Change::Updated,
                    Err(e) => return Err((out, e)),
                }
            }
        }
    };
    out.changes.push(("script", change));
    let interval = duration::format(params.interval);
    let change = match schedule {
        None => {
            let body = json!({
                "name": tag, "comment": tag, "on-event": tag, "interval": interval,
                "policy": POLICY,
            });
            match client.menu_add(SCHEDULER_MENU, &body).await {
                Ok(_) => Change::Created,
                Err(e) => return Err((out, e)),
            }
        }
        Some(row) => {
            let same = field(&row, "on-event") == tag.as_str()
                && duration::parse(field(&row, "interval")) == Some(params.interval)
                && policy_set(field(&row, "policy")) == policy_set(POLICY)
                && field(&row, "disabled") != "true";
            if same {
                Change::Unchanged
            } else {
                let body = json!({
                    "on-event": tag, "interval": interval, "policy": POLICY, "disabled": "no",
                });
                match client
                    .menu_set(SCHEDULER_MENU, field(&row, ".id"), &body)
                    .await
                {
                    Ok(()) => Change::Updated,
                    Err(e) => return Err((out, e)),
                }
            }
        }
    };
    out.changes.push(("scheduler", change));
    let change = match args.no_ca_import {
        true => Change::Skipped,
        false => match import_ca(config, client, args).await {
            Ok(c) => c,
            Err(e) => return Err((out, e)),
        },
    };
    out.changes.push(("ca", change));
    out.notes.push(format!(
        "the router fetches {} every {interval}; entries live {} (fail closed)",
        params
            .feeds
            .iter()
            .map(|(u, _)| u.as_str())
            .collect::<Vec<_>>()
            .join(" and "),
        duration::format(params.timeout())
    ));
    Ok(out)
}

/// The name of the CA file uploaded to the router, and the prefix of the certificate's name there
/// (RouterOS names an imported certificate after its file: `<file>_0`).
fn ca_file_name(tag: &str) -> String {
    format!("{tag}-feed-ca.pem")
}

fn ca_path(config: &Config, given: Option<&std::path::Path>) -> std::path::PathBuf {
    given
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(|| config.beside_state(".feed-ca.pem"))
}

/// The certificates install imported: named after its file, or with its CA's fingerprint.
fn our_certificates<'a>(
    rows: &'a [Fields],
    tag: &str,
    fingerprint: Option<&str>,
) -> Vec<&'a Fields> {
    let prefix = ca_file_name(tag);
    rows.iter()
        .filter(|r| {
            field(r, "name").starts_with(&prefix)
                || fingerprint.is_some_and(|f| !f.is_empty() && field(r, "fingerprint") == f)
        })
        .collect()
}

async fn import_ca(
    config: &Config,
    client: &RouterClient,
    args: &InstallArgs,
) -> Result<Change, Error> {
    let path = ca_path(config, args.feed_ca.as_deref());
    let pem = std::fs::read_to_string(&path).map_err(|e| {
        Error::new(
            Code::PassiveSetupFailed,
            format!(
                "cannot read the feed's CA {}: {e} (start the daemon in passive mode once, give --feed-ca, or --no-ca-import)",
                path.display()
            ),
        )
    })?;
    let der = rustls_pemfile::certs(&mut pem.as_bytes())
        .find_map(Result::ok)
        .ok_or_else(|| {
            Error::new(
                Code::PassiveSetupFailed,
                format!("{} holds no PEM certificate", path.display()),
            )
        })?;
    // RouterOS prints `fingerprint` as SHA-256 in lower-case hex without colons.
    let fp = crate::net::fingerprint(&der).replace(':', "");
    let rows = client.menu_rows("/certificate", None).await?;
    if !our_certificates(&rows, &config.tag, Some(&fp)).is_empty() {
        return Ok(Change::Unchanged);
    }
    let file = ca_file_name(&config.tag);
    client
        .menu_add("/file", &json!({ "name": file, "contents": pem }))
        .await?;
    let imported = client
        .menu_command(
            "/certificate/import",
            &json!({ "file-name": file, "passphrase": "" }),
        )
        .await;
    // The uploaded file has served its purpose whatever the import said.
    if let Ok(files) = client.menu_rows("/file", Some(("name", &file))).await {
        for f in files {
            let _ = client.menu_remove("/file", field(&f, ".id")).await;
        }
    }
    imported?;
    Ok(Change::Created)
}

/// `validate` in passive mode: the agent's user's group has `read`, `write` and `test`, which the
/// scheduler entry and script it installs run with (a scheduler's policies are bounded by its
/// owner's, MikroTik manual, Scripting, "Script permissions"); the vendor guide's group
/// (`api,rest-api,read,write,policy`) lacks `test`, without which the router refuses to start the
/// script (`not enough permissions`, 208120 from `passive status`).
pub async fn check_policies(client: &RouterClient) -> Result<String, Error> {
    let users = client
        .menu_rows("/user", Some(("name", client.username())))
        .await?;
    let group = users
        .first()
        .map(|u| field(u, "group").to_owned())
        .ok_or_else(|| {
            Error::new(
                Code::PassiveSetupFailed,
                format!("`/user` shows no user `{}`", client.username()),
            )
        })?;
    let groups = client
        .menu_rows("/user/group", Some(("name", &group)))
        .await?;
    let policy = groups
        .first()
        .map(|g| field(g, "policy").to_owned())
        .unwrap_or_default();
    // A group's `policy` lists what it has; a `!name` is one it lacks (console form).
    let has = policy_set(&policy);
    let missing: Vec<&str> = policy_set(POLICY)
        .into_iter()
        .filter(|p| !has.contains(p))
        .collect();
    if missing.is_empty() {
        Ok(format!(
            "group `{group}` has {POLICY}, which the feed script runs with"
        ))
    } else {
        Err(Error::new(
            Code::AuthorizationFailed,
            format!(
                "group `{group}` lacks {}: the feed script runs `/tool/fetch` (`test`) and edits the list (`read`, `write`); add them: /user group set {group} policy={policy},{}",
                missing.join(", "),
                missing.join(",")
            ),
        ))
    }
}

/// `passive uninstall`.
pub async fn uninstall(config: &Config, client: &RouterClient) -> Passive {
    let mut out = Passive::new("uninstall");
    let tag = &config.tag;
    let script = match own_row(client, SCRIPT_MENU, tag, "script").await {
        Ok(r) => r,
        Err(e) => return out.failed(e),
    };
    let schedule = match own_row(client, SCHEDULER_MENU, tag, "scheduler entry").await {
        Ok(r) => r,
        Err(e) => return out.failed(e),
    };
    // The scheduler entry first, so that it never runs a script that is gone.
    for (what, menu, row) in [
        ("scheduler", SCHEDULER_MENU, schedule),
        ("script", SCRIPT_MENU, script),
    ] {
        let change = match row {
            None => Change::Absent,
            Some(r) => match client.menu_remove(menu, field(&r, ".id")).await {
                Ok(_) => Change::Removed,
                Err(e) => return out.failed(e),
            },
        };
        out.changes.push((what, change));
    }
    let change = match client.menu_rows("/certificate", None).await {
        Ok(rows) => {
            let ours = our_certificates(&rows, tag, None);
            if ours.is_empty() {
                Change::Absent
            } else {
                for r in ours {
                    if let Err(e) = client.menu_remove("/certificate", field(r, ".id")).await {
                        return out.failed(e);
                    }
                }
                Change::Removed
            }
        }
        // A router without the certificate menu has no certificate of ours to remove.
        Err(e) if e.code == Code::PassiveSetupFailed => Change::Absent,
        Err(e) => return out.failed(e),
    };
    out.changes.push(("ca", change));
    out
}

/// `passive status`.
pub async fn status(
    config: &Config,
    client: &RouterClient,
    feed_ca: Option<&std::path::Path>,
) -> Passive {
    let mut out = Passive::new("status");
    match status_checks(config, client, feed_ca, &mut out.notes).await {
        Ok(()) => out,
        Err(e) => out.failed(e),
    }
}

async fn status_checks(
    config: &Config,
    client: &RouterClient,
    feed_ca: Option<&std::path::Path>,
    notes: &mut Vec<String>,
) -> Result<(), Error> {
    let tag = &config.tag;
    let not_installed = |what: &str| {
        Error::new(
            Code::PassiveNotInstalled,
            format!("{what} `{tag}` {}", "is not on the router"),
        )
    };
    let schedule = own_row(client, SCHEDULER_MENU, tag, "scheduler entry")
        .await?
        .ok_or_else(|| not_installed("scheduler entry"))?;
    if field(&schedule, "disabled") == "true" {
        return Err(Error::new(
            Code::PassiveNotInstalled,
            format!("scheduler entry `{tag}` is disabled"),
        ));
    }
    notes.push(format!(
        "scheduler: every {}, next run {}",
        field(&schedule, "interval"),
        match field(&schedule, "next-run") {
            "" => "-",
            t => t,
        }
    ));
    let script = own_row(client, SCRIPT_MENU, tag, "script")
        .await?
        .ok_or_else(|| not_installed("script"))?;
    let runs = field(&script, "run-count").parse::<u64>().unwrap_or(0);
    let log: Vec<(String, String)> = client
        .menu_rows("/log", None)
        .await?
        .iter()
        .map(|r| {
            (
                field(r, "topics").to_owned(),
                field(r, "message").to_owned(),
            )
        })
        .collect();
    // The log first: a run the router refused to start (its policies exceed the owner's) leaves
    // `run-count` at 0 and the reason in the log.
    match passive::judge_log(&log, tag, tag) {
        LastRun::Failed(code, text) => {
            return Err(Error::new(
                code,
                format!("the script's last run on the router: {text}"),
            ));
        }
        LastRun::Ok(text) => notes.push(format!("last run: {text}")),
        LastRun::Unknown if runs == 0 => {
            return Err(Error::new(
                Code::PassiveNotInstalled,
                format!("script `{tag}` has not run yet (the scheduler runs it every interval)"),
            ));
        }
        LastRun::Unknown => {
            notes.push("last run: no line of the script in the router's log".into())
        }
    }
    notes.push(format!(
        "script: {runs} runs, last started {}",
        field(&script, "last-started")
    ));
    let urls = script_urls(field(&script, "source"));
    if urls.is_empty() {
        return Err(Error::new(
            Code::FeedScriptFailed,
            format!("script `{tag}` names no feed URL; run `passive install` again"),
        ));
    }
    let mut want = BTreeSet::new();
    for url in &urls {
        for line in fetch_feed(config, url, feed_ca).await?.lines() {
            if !line.is_empty() {
                want.insert(line.to_owned());
            }
        }
    }
    let mut have = BTreeSet::new();
    let mut families = vec![(Family::V4, &config.list_v4), (Family::V6, &config.list_v6)];
    families.dedup_by(|a, b| a.0 == b.0);
    for (family, list) in families {
        for row in client.rows(family, list).await? {
            if row.is_owned(tag) {
                have.insert(row.address.as_str().to_owned());
            }
        }
    }
    let missing: Vec<&String> = want.difference(&have).collect();
    let extra: Vec<&String> = have.difference(&want).collect();
    notes.push(format!(
        "feed: {} addresses; router: {} entries of the agent",
        want.len(),
        have.len()
    ));
    if missing.is_empty() && extra.is_empty() {
        return Ok(());
    }
    let sample = |v: &[&String]| {
        v.iter()
            .take(5)
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    Err(Error::new(
        Code::FeedOutOfStep,
        format!(
            "{} missing from the router ({}), {} on the router but not in the feed ({})",
            missing.len(),
            sample(&missing),
            extra.len(),
            sample(&extra)
        ),
    ))
}

/// The feed URLs in an installed script's source (`:local url "..."` lines).
fn script_urls(source: &str) -> Vec<String> {
    source
        .lines()
        .filter_map(|l| l.trim().strip_prefix(":local url \""))
        .filter_map(|rest| rest.strip_suffix('"'))
        .map(|u| {
            u.replace("\\\"", "\"")
                .replace("\\$", "$")
                .replace("\\\\", "\\")
        })
        .collect()
}

/// The whole feed at `url`, fetched from here with the key and the feed's CA, as the router would.
async fn fetch_feed(
    config: &Config,
    url: &str,
    feed_ca: Option<&std::path::Path>,
) -> Result<String, Error> {
    let key = feed::read_key(config).map_err(|e| Error::new(Code::FeedUnreachable, e))?;
    let ca = ca_path(config, feed_ca);
    let mode = match ca.exists() {
        true => TlsMode::CaFile(ca),
        false => TlsMode::SystemRoots,
    };
    let tls = crate::net::tls_config(&mode)
        .map_err(|e| Error::new(Code::FeedCertificateRefused, e.to_string()))?;
    let http = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .no_proxy()
        .timeout(config.request_timeout)
        .build()
        .map_err(|e| Error::new(Code::FeedUnreachable, format!("HTTP client set-up: {e}")))?;
    let resp = http
        .get(url)
        .basic_auth("apikey", Some(key.expose()))
        .send()
        .await
        .map_err(|e| {
            let text = format!("{e:?}");
            let code = match text.contains("Certificate") || text.contains("certificate") {
                true => Code::FeedCertificateRefused,
                false => Code::FeedUnreachable,
            };
            Error::new(code, format!("GET {url} from this host: {e}"))
        })?;
    match resp.status().as_u16() {
        200 => resp.text().await.map_err(|e| {
            Error::new(
                Code::FeedUnreachable,
                format!("GET {url} from this host: {e}"),
            )
        }),
        401 | 403 => Err(Error::new(
            Code::FeedKeyRefused,
            format!(
                "GET {url} from this host: HTTP {}: the feed refused the key in {}",
                resp.status().as_u16(),
                config.feed_key_path().display()
            ),
        )),
        s => Err(Error::new(
            Code::FeedUnreachable,
            format!("GET {url} from this host: HTTP {s}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_read_back_from_the_script() {
        let params = ScriptParams {
            tag: "t".into(),
            feeds: vec![
                (
                    "https://192.0.2.1:8443/feed/v1/lists/a.txt".into(),
                    "a".into(),
                ),
                (
                    "https://192.0.2.1:8443/feed/v1/lists/b.txt".into(),
                    "b".into(),
                ),
            ],
            interval: Duration::from_secs(60),
            multiple: 3,
            key: "k\"$x".into(),
        };
        let source = passive::script_source(&params);
        assert_eq!(
            script_urls(&source),
            vec![
                "https://192.0.2.1:8443/feed/v1/lists/a.txt",
                "https://192.0.2.1:8443/feed/v1/lists/b.txt"
            ]
        );
        assert!(source.contains(r#":local key "k\"\$x""#), "{source}");
        assert!(source.contains(":local tmo 3m"), "{source}");
    }

    #[test]
    fn policies_compare_as_sets() {
        assert_eq!(policy_set("test,read,write"), policy_set(POLICY));
        assert_ne!(policy_set("read,write"), policy_set(POLICY));
    }
}
