//! The `routeros-agent` commands: `validate`, `grant`, `revoke`, `list`, `sync` and `run`.
//!
//! Each command returns an [`Output`]: a text for people, a JSON document for `--json`, and an exit
//! status. Codes are printed, never used as exit statuses (they do not fit in 8 bits); the statuses
//! are the small documented set in [`exit`]. The binary only parses arguments, sets up logging, calls
//! [`execute`] and prints.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::address::{Address, Family};
use crate::clock::{Clock, SystemClock, Time};
use crate::config::{self, Config, DaemonArgs, FileConfig, GlobalArgs};
use crate::error::{Code, Error};
use crate::net::RouterClient;
use crate::net::{Added, RetryPolicy};
use crate::plan::Grant;
use crate::reconcile::{Reconciler, Report};
use crate::store::{GrantStore, Holder};
use crate::{daemon, duration};

/// Exit statuses.
pub mod exit {
    /// Everything worked.
    pub const OK: u8 = 0;
    /// The router or the network failed; the code is printed. Grants are kept.
    pub const FAILED: u8 = 1;
    /// Bad usage or configuration; nothing was sent.
    pub const CONFIG: u8 = 2;
    /// The grant store could not be read or written.
    pub const STORE: u8 = 3;
    /// Done, but a granted address is held by an entry the agent does not own (208105).
    pub const CONFLICT: u8 = 4;
}

/// Shown after the options of `--help`: what scripts need and cannot guess from the flags.
const AFTER_HELP: &str = "\
The password never comes from a flag (it would show in `ps`): set the ROUTEROS_PASSWORD environment
variable or give --password-file (or `password_file` in the --config file).

Exit statuses (error codes such as 208001 are printed, never used as statuses):
  0  done
  1  the router or the network failed; the code was printed; grants are kept for the next attempt
  2  bad usage or configuration, including an address refused before sending (208104); nothing was sent
  3  the grant store could not be read, written or locked (while `run` is running, send grants to its
     control API: POST http://<control>/v1/grants)
  4  done, but a granted address is held by an entry the agent does not own (208105)";

/// The command line.
#[derive(Debug, clap::Parser)]
#[command(
    name = "routeros-agent",
    version,
    about = "Keeps a MikroTik firewall address-list in step with expiring grants",
    after_help = AFTER_HELP
)]
pub struct Cli {
    /// Connection and behaviour settings.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// Print one JSON document instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Check TCP, TLS, credentials, RouterOS version and list access, step by step.
    Validate {
        /// Also add and remove a probe entry (192.0.2.254, timeout 1m) in the IPv4 list.
        #[arg(long)]
        write_check: bool,
    },
    /// Grant a user access from an address for a while, and update the router.
    Grant {
        /// IPv4 or IPv6 host or prefix.
        address: String,
        /// Who the grant is for.
        #[arg(long)]
        user: String,
        /// How long, as a RouterOS duration (`30m`, `8h`, `1d`).
        #[arg(long = "for", value_name = "DURATION")]
        duration: String,
    },
    /// Revoke a user's grant for an address, and update the router.
    Revoke {
        /// The address of the grant.
        address: String,
        /// Whose grant.
        #[arg(long)]
        user: String,
    },
    /// Show grants with their remaining time and the entries the agent owns.
    List,
    /// Reconcile the router's lists with the grants once.
    Sync,
    /// Run the daemon: reconcile periodically and serve the loopback control API.
    Run {
        /// How often to reconcile (default 1m).
        #[arg(long, value_name = "DURATION")]
        interval: Option<String>,
        /// Control API address (loopback only; default 127.0.0.1:7878).
        #[arg(long, value_name = "ADDR")]
        control: Option<SocketAddr>,
    },
}

/// What a command produced.
#[derive(Debug, Clone)]
pub struct Output {
    /// For people.
    pub text: String,
    /// For `--json`.
    pub json: Value,
    /// The exit status.
    pub status: u8,
}

impl Output {
    fn config_error(e: impl std::fmt::Display) -> Output {
        Output {
            text: format!("{e}\n"),
            json: json!({ "ok": false, "config_error": e.to_string() }),
            status: exit::CONFIG,
        }
    }

    fn store_error(e: impl std::fmt::Display) -> Output {
        Output {
            text: format!("{e}\n"),
            json: json!({ "ok": false, "store_error": e.to_string() }),
            status: exit::STORE,
        }
    }

    /// Input refused before anything was sent (an address that is not one, 208104): bad usage, with
    /// the code printed as for any failure.
    fn refused(e: &Error) -> Output {
        Output {
            text: format!("{e}\n"),
            json: json!({ "ok": false, "error": e.to_json() }),
            status: exit::CONFIG,
        }
    }
}

/// Formats a wall-clock time as RFC 3339 (UTC).
pub fn rfc3339(t: Time) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(t.0) * 1_000_000)
        .ok()
        .and_then(|d| {
            d.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| t.0.to_string())
}

/// A grant for JSON output, with its remaining time.
pub fn grant_json(g: &Grant, now: Time) -> Value {
    json!({
        "address": g.address,
        "user": g.user,
        "expires": rfc3339(g.expires),
        "expires_unix_ms": g.expires.0,
        "remaining": duration::format(Duration::from_secs(g.expires.since(now).as_secs())),
    })
}

/// Merges file and flags into a configuration.
pub fn load_config(
    global: &GlobalArgs,
    daemon: &DaemonArgs,
    env_password: Option<String>,
) -> Result<Config, config::ConfigError> {
    let file = match &global.config {
        Some(path) => config::read_file(path)?,
        None => FileConfig::default(),
    };
    Config::resolve(global, daemon, &file, env_password)
}

/// Runs a parsed command line. `env_password` is `ROUTEROS_PASSWORD`, read by the caller.
pub async fn execute(cli: Cli, env_password: Option<String>) -> Output {
    let daemon_args = match &cli.command {
        Command::Run { interval, control } => DaemonArgs {
            interval: interval.clone(),
            control: *control,
        },
        _ => DaemonArgs::default(),
    };
    let config = match load_config(&cli.global, &daemon_args, env_password) {
        Ok(c) => c,
        Err(e) => return Output::config_error(e),
    };
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    run_command(cli.command, &config, clock).await
}

/// Runs a command with a configuration and a clock (tests pass a manual clock).
pub async fn run_command(command: Command, config: &Config, clock: Arc<dyn Clock>) -> Output {
    let client = match RouterClient::new(config) {
        Ok(c) => c,
        Err(e) => return Output::config_error(e),
    };
    match command {
        Command::Validate { write_check } => validate(config, &client, write_check).await,
        Command::Grant {
            address,
            user,
            duration,
        } => grant(config, client, clock.now(), &address, &user, &duration).await,
        Command::Revoke { address, user } => {
            revoke(config, client, clock.now(), &address, &user).await
        }
        Command::List => list(config, client, clock.now()).await,
        Command::Sync => sync(config, client, clock.now()).await,
        Command::Run { .. } => {
            let listener = match tokio::net::TcpListener::bind(config.control).await {
                Ok(l) => l,
                Err(e) => {
                    return Output::config_error(format!(
                        "cannot listen on {} for the control API: {e}",
                        config.control
                    ));
                }
            };
            let shutdown = shutdown_signal();
            match daemon::serve(config.clone(), client, clock, listener, shutdown).await {
                Ok(()) => Output {
                    text: "stopped\n".into(),
                    json: json!({ "ok": true }),
                    status: exit::OK,
                },
                Err(daemon::DaemonError::Store(e)) => Output::store_error(e),
                Err(e) => Output::config_error(e),
            }
        }
    }
}

/// Completes on Ctrl-C, or on SIGTERM (what service managers send) where there is one.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// One step of `validate`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Step {
    /// Short name.
    pub step: &'static str,
    /// `ok`, `failed` or `skipped`.
    pub result: &'static str,
    /// What was found.
    pub detail: String,
    /// The error, when it failed.
    pub error: Option<Value>,
}

/// Checks the connection step by step; stops at the first failure.
pub async fn validate(config: &Config, client: &RouterClient, write_check: bool) -> Output {
    let names: &[&'static str] = if write_check {
        &[
            "tcp",
            "tls",
            "authentication",
            "version",
            "read list",
            "read list6",
            "write check",
        ]
    } else {
        &[
            "tcp",
            "tls",
            "authentication",
            "version",
            "read list",
            "read list6",
        ]
    };
    let mut steps: Vec<Step> = Vec::new();
    let mut failure: Option<Error> = None;
    let mut resource = None;
    for &name in names {
        if failure.is_some() {
            steps.push(Step {
                step: name,
                result: "skipped",
                detail: String::new(),
                error: None,
            });
            continue;
        }
        let outcome: Result<String, Error> = match name {
            "tcp" => client
                .probe_tcp()
                .await
                .map(|peer| format!("connected to {peer}")),
            "tls" => client.probe_tls().await.map(|fp| match fp {
                Some(fp) if config.tls == crate::config::TlsMode::Insecure => {
                    format!("certificate NOT verified (--insecure); its SHA-256 is {fp}")
                }
                Some(fp) => format!("certificate verified; its SHA-256 is {fp}"),
                None => "plain HTTP: no TLS (use https:// for a real router)".into(),
            }),
            "authentication" => client.resource().await.map(|r| {
                let text = format!("logged in as `{}`; RouterOS {}", config.username, r.version);
                resource = Some(r);
                text
            }),
            "version" => {
                let r = resource.as_ref().expect("authentication step passed");
                if r.major_minor >= (7, 1) {
                    Ok(format!("{} is 7.1 or newer", r.version))
                } else {
                    Err(Error::new(
                        Code::UnsupportedVersion,
                        format!("the router runs RouterOS {}", r.version),
                    ))
                }
            }
            "read list" => client
                .rows(Family::V4, &config.list_v4)
                .await
                .map(|rows| read_detail(&config.list_v4, &rows, &config.tag)),
            "read list6" => client
                .rows(Family::V6, &config.list_v6)
                .await
                .map(|rows| read_detail(&config.list_v6, &rows, &config.tag)),
            _ => write_probe(config, client).await,
        };
        match outcome {
            Ok(detail) => steps.push(Step {
                step: name,
                result: "ok",
                detail,
                error: None,
            }),
            Err(e) => {
                steps.push(Step {
                    step: name,
                    result: "failed",
                    detail: e.to_string(),
                    error: Some(e.to_json()),
                });
                failure = Some(e);
            }
        }
    }
    let mut text = String::new();
    for s in &steps {
        let mark = match s.result {
            "ok" => "ok  ",
            "failed" => "FAIL",
            _ => "skip",
        };
        let _ = writeln!(text, "{mark} {:<15} {}", s.step, s.detail);
    }
    let ok = failure.is_none();
    let _ = writeln!(
        text,
        "{}",
        if ok {
            "validation passed"
        } else {
            "validation failed"
        }
    );
    Output {
        text,
        json: json!({ "ok": ok, "steps": steps, "error": failure.as_ref().map(Error::to_json) }),
        status: if ok { exit::OK } else { exit::FAILED },
    }
}

fn read_detail(list: &str, rows: &[crate::plan::Row], tag: &str) -> String {
    let owned = rows.iter().filter(|r| r.is_owned(tag)).count();
    format!(
        "list `{list}` has {} entries, {owned} owned by this agent",
        rows.len()
    )
}

/// The write check's probe: a documentation address (RFC 5737) that no real client uses.
const PROBE_ADDRESS: &str = "192.0.2.254";
/// The probe's RouterOS timeout: it vanishes by itself even if its removal fails.
const PROBE_TIMEOUT: Duration = Duration::from_secs(60);

/// Adds and removes a probe entry in the IPv4 list, and never leaves it behind unannounced.
///
/// A lost reply to the PUT (the router created the probe, the agent never heard) makes the retried
/// PUT meet the agent's own probe as a duplicate: that probe, recognised by its comment, is removed
/// and the check done again. A duplicate that is not the agent's probe is left alone (208105).
/// Whenever the check fails after the probe may exist, the agent still tries to remove it, and the
/// error says precisely what is left on the router.
async fn write_probe(config: &Config, client: &RouterClient) -> Result<String, Error> {
    let probe = Address::parse(PROBE_ADDRESS).expect("valid");
    let list = config.list_v4.as_str();
    let comment = probe_comment(config);
    // Probes of this agent found in the way and removed, for the report.
    let mut cleared: Vec<String> = Vec::new();
    // Two rounds: the second only after removing a probe of the agent's own that was in the way.
    for round in 0..2 {
        let added = match client.add(list, &probe, PROBE_TIMEOUT, &comment).await {
            Ok(a) => a,
            Err(e) => return Err(clean_up_after_failed_add(config, client, e).await),
        };
        match added {
            Added::Created(row) => {
                let removed = client.remove(Family::V4, &row.id).await;
                let error = if row.address != probe.as_str() || row.list != list {
                    Some(Error::new(
                        Code::WriteNotConfirmed,
                        format!(
                            "probe entry {} reads back as {} in `{}`",
                            row.id, row.address, row.list
                        ),
                    ))
                } else {
                    None
                };
                return match (removed, error) {
                    (Ok(_), None) => {
                        let mut detail = format!(
                            "added and removed probe entry {} ({probe}) in `{list}`",
                            row.id
                        );
                        if !cleared.is_empty() {
                            let _ = write!(
                                detail,
                                " (after removing this agent's earlier probe {})",
                                cleared.join(", ")
                            );
                        }
                        Ok(detail)
                    }
                    (Ok(_), Some(e)) => Err(e),
                    (Err(e), None) | (Err(_), Some(e)) => Err(left_behind(e, &row.id, list)),
                };
            }
            Added::Duplicate => {
                let rows = client.find(list, &probe).await?;
                if let Some(other) = rows.iter().find(|r| !is_probe(r, &comment)) {
                    return Err(Error::new(
                        Code::EntryNotOwned,
                        format!(
                            "the probe address {probe} is already in `{list}` as entry {} ({}), which \
                             is not this agent's probe; it was left untouched. Remove it, or run \
                             validate without --write-check",
                            other.id,
                            describe(other)
                        ),
                    ));
                }
                if rows.is_empty() {
                    return Err(Error::new(
                        Code::WriteNotConfirmed,
                        format!(
                            "the router called the probe {probe} a duplicate in `{list}`, but no \
                             such entry reads back"
                        ),
                    ));
                }
                for r in &rows {
                    client
                        .remove(Family::V4, &r.id)
                        .await
                        .map_err(|e| left_behind(e, &r.id, list))?;
                    cleared.push(r.id.clone());
                }
                if round == 1 {
                    return Err(Error::new(
                        Code::WriteNotConfirmed,
                        format!(
                            "the probe {probe} was back in `{list}` right after this agent removed \
                             it ({}); something else adds it",
                            cleared.join(", ")
                        ),
                    ));
                }
            }
        }
    }
    unreachable!("the second round always returns")
}

/// The probe's comment: the agent's tag, so an administrator sees whose it is, and a suffix, so the
/// reconcile never takes it for a grant's entry.
fn probe_comment(config: &Config) -> String {
    format!("{} validate probe", config.tag)
}

fn is_probe(row: &crate::plan::Row, comment: &str) -> bool {
    row.comment.as_deref() == Some(comment) && row.dynamic
}

fn describe(row: &crate::plan::Row) -> String {
    let kind = if row.dynamic { "dynamic" } else { "static" };
    match &row.comment {
        Some(c) => format!("{kind}, comment {c:?}"),
        None => format!("{kind}, no comment"),
    }
}

/// `e`, saying that the probe `id` is still on the router.
fn left_behind(e: Error, id: &str, list: &str) -> Error {
    Error::new(
        e.code,
        format!(
            "{}; probe {id} ({PROBE_ADDRESS}) left in `{list}`; it expires by itself within {}",
            e.context,
            duration::format(PROBE_TIMEOUT)
        ),
    )
}

/// After a failed PUT: when the router may have created the probe anyway (a transient failure or a
/// reply the agent did not understand), looks for it once and removes it, and says what is left.
async fn clean_up_after_failed_add(config: &Config, client: &RouterClient, e: Error) -> Error {
    let maybe_created = e.code.is_transient() || e.code.number() >= 208400;
    if !maybe_created {
        return e;
    }
    let list = config.list_v4.as_str();
    let probe = Address::parse(PROBE_ADDRESS).expect("valid");
    let comment = probe_comment(config);
    // One attempt each: the router just failed, and the probe's timeout is the safety net anyway.
    let once = client.clone().with_retry(RetryPolicy::none());
    let rows = match once.find(list, &probe).await {
        Ok(rows) => rows,
        Err(_) => {
            return Error::new(
                e.code,
                format!(
                    "{}; the probe {PROBE_ADDRESS} may have been created in `{list}` and could not \
                     be looked up; it expires by itself within {}",
                    e.context,
                    duration::format(PROBE_TIMEOUT)
                ),
            );
        }
    };
    let mut e = e;
    for r in rows.iter().filter(|r| is_probe(r, &comment)) {
        match once.remove(Family::V4, &r.id).await {
            Ok(_) => {
                e.context = format!(
                    "{}; the probe {} the router had created anyway was removed",
                    e.context, r.id
                );
            }
            Err(_) => e = left_behind(e, &r.id, list),
        }
    }
    e
}

/// Opens the store for this command: the returned handle holds the store's lock until it is dropped,
/// so callers keep it for the whole command, reconcile included. Otherwise a command running beside
/// this one could reconcile with a store missing this command's grant and remove its entry.
async fn open_store(config: &Config) -> Result<GrantStore, Output> {
    GrantStore::open_async(config.state.clone(), Holder::Cli)
        .await
        .map_err(Output::store_error)
}

fn reconciler(config: &Config, client: RouterClient) -> Reconciler {
    Reconciler::new(client, config.plan_config(), config.concurrency)
}

/// Text and status of a reconcile report.
fn report_output(config: &Config, report: &Report, text: &mut String) -> u8 {
    for a in &report.added {
        let _ = writeln!(text, "added {a}");
    }
    for a in &report.refreshed {
        let _ = writeln!(text, "refreshed {a}");
    }
    for a in &report.removed {
        let _ = writeln!(text, "removed {a}");
    }
    for e in report
        .errors
        .iter()
        .chain(report.conflict_errors(&config.plan_config()).iter())
    {
        let _ = writeln!(text, "{e}");
    }
    if !report.errors.is_empty() {
        exit::FAILED
    } else if !report.conflicts.is_empty() {
        exit::CONFLICT
    } else {
        exit::OK
    }
}

fn report_json(config: &Config, report: &Report) -> Value {
    let mut v = serde_json::to_value(report).expect("report serialises");
    v["conflict_errors"] = report
        .conflict_errors(&config.plan_config())
        .iter()
        .map(Error::to_json)
        .collect();
    v
}

async fn reconcile_and_report(
    config: &Config,
    client: RouterClient,
    grants: &[Grant],
    now: Time,
    mut text: String,
    mut doc: Value,
) -> Output {
    let mut rec = reconciler(config, client);
    match rec.sync(grants, now).await {
        Ok(report) => {
            let status = report_output(config, &report, &mut text);
            doc["ok"] = json!(status == exit::OK);
            doc["report"] = report_json(config, &report);
            Output {
                text,
                json: doc,
                status,
            }
        }
        Err(e) => {
            let _ = writeln!(text, "the router was not updated: {e}");
            doc["ok"] = json!(false);
            doc["error"] = e.to_json();
            Output {
                text,
                json: doc,
                status: exit::FAILED,
            }
        }
    }
}

async fn grant(
    config: &Config,
    client: RouterClient,
    now: Time,
    address: &str,
    user: &str,
    for_: &str,
) -> Output {
    let address = match Address::parse(address) {
        Ok(a) => a,
        Err(e) => return Output::refused(&e),
    };
    let Some(d) = duration::parse(for_).filter(|d| !d.is_zero()) else {
        return Output::config_error(format!(
            "--for `{for_}` is not a positive duration such as 30m, 8h or 1d"
        ));
    };
    if user.trim().is_empty() {
        return Output::config_error("--user must not be empty");
    }
    let mut store = match open_store(config).await {
        Ok(s) => s,
        Err(o) => return o,
    };
    let g = Grant {
        address,
        user: user.to_owned(),
        expires: now.plus(d),
    };
    if let Err(e) = store.grant(g.clone()) {
        return Output::store_error(e);
    }
    if let Err(e) = store.prune(now) {
        return Output::store_error(e);
    }
    let text = format!(
        "granted {} to {} until {} ({})\n",
        g.address,
        g.user,
        rfc3339(g.expires),
        duration::format(d)
    );
    let doc = json!({ "grant": grant_json(&g, now) });
    reconcile_and_report(config, client, store.grants(), now, text, doc).await
}

async fn revoke(
    config: &Config,
    client: RouterClient,
    now: Time,
    address: &str,
    user: &str,
) -> Output {
    let address = match Address::parse(address) {
        Ok(a) => a,
        Err(e) => return Output::refused(&e),
    };
    let mut store = match open_store(config).await {
        Ok(s) => s,
        Err(o) => return o,
    };
    let existed = match store.revoke(&address, user) {
        Ok(x) => x,
        Err(e) => return Output::store_error(e),
    };
    if let Err(e) = store.prune(now) {
        return Output::store_error(e);
    }
    let text = if existed {
        format!("revoked {user}'s grant for {address}\n")
    } else {
        format!("{user} had no grant for {address}; reconciling anyway\n")
    };
    let doc = json!({ "revoked": existed, "address": address, "user": user });
    reconcile_and_report(config, client, store.grants(), now, text, doc).await
}

async fn sync(config: &Config, client: RouterClient, now: Time) -> Output {
    let mut store = match open_store(config).await {
        Ok(s) => s,
        Err(o) => return o,
    };
    if let Err(e) = store.prune(now) {
        return Output::store_error(e);
    }
    let text = format!("{} live grants\n", store.grants().len());
    reconcile_and_report(config, client, store.grants(), now, text, json!({})).await
}

async fn list(config: &Config, client: RouterClient, now: Time) -> Output {
    // Reading only: no lock, so `list` works beside a running daemon or a command in progress.
    let grants = match GrantStore::load(&config.state) {
        Ok(g) => g,
        Err(e) => return Output::store_error(e),
    };
    let live: Vec<&Grant> = grants.iter().filter(|g| g.expires > now).collect();
    let mut text = String::new();
    let _ = writeln!(text, "grants ({}):", live.len());
    for g in &live {
        let left = duration::format(Duration::from_secs(g.expires.since(now).as_secs()));
        let _ = writeln!(
            text,
            "  {:<40} {:<20} {left} left",
            g.address.as_str(),
            g.user
        );
    }
    let mut rec = reconciler(config, client);
    let mut doc = json!({ "grants": live.iter().map(|g| grant_json(g, now)).collect::<Vec<_>>() });
    match rec.read(now).await {
        Ok(rows) => {
            let owned: Vec<_> = rows.iter().filter(|r| r.is_owned(&config.tag)).collect();
            let _ = writeln!(text, "owned entries ({}):", owned.len());
            for r in &owned {
                let left = r
                    .timeout
                    .map(duration::format)
                    .unwrap_or_else(|| "-".into());
                let _ = writeln!(
                    text,
                    "  {:<40} {:<20} {:<6} {left} left",
                    r.address, r.list, r.id
                );
            }
            doc["entries"] = owned
                .iter()
                .map(|r| json!({ "id": r.id, "list": r.list, "address": r.address, "timeout": r.timeout.map(duration::format) }))
                .collect();
            let conflicts = crate::plan::plan(&config.plan_config(), &grants, &rows, now).conflicts;
            let report = Report {
                conflicts,
                ..Report::default()
            };
            let errors = report.conflict_errors(&config.plan_config());
            for e in &errors {
                let _ = writeln!(text, "{e}");
            }
            doc["conflict_errors"] = errors.iter().map(Error::to_json).collect();
            doc["ok"] = json!(errors.is_empty());
            Output {
                text,
                json: doc,
                status: if errors.is_empty() {
                    exit::OK
                } else {
                    exit::CONFLICT
                },
            }
        }
        Err(e) => {
            let _ = writeln!(text, "owned entries: unknown: {e}");
            doc["ok"] = json!(false);
            doc["error"] = e.to_json();
            Output {
                text,
                json: doc,
                status: exit::FAILED,
            }
        }
    }
}
