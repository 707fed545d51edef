//! The commands that work on the grant store: `grant`, `revoke` and `sync` (which hold the store's
//! lock for the whole command, reconcile included) and `list` (which only reads it).
//!
//! Each returns its own output type ([`Granted`], [`Revoked`], [`Synced`], [`Listing`]), rendered
//! as text and JSON by [`Render`].

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::address::Address;
use crate::clock::{Clock, Time};
use crate::config::{Config, Mode};
use crate::duration;
use crate::error::Error;
use crate::net::RouterClient;
use crate::plan::{self, Grant, Row};
use crate::reconcile::{Reconciler, Report};
use crate::request::{self, Refusal, grant_json};
use crate::store::{GrantStore, Holder, StoreError};

use super::exit;
use super::forward::{Forwarded, forward};
use super::output::{Failure, Reconciled, Render};

/// What `grant` did: the grant stored, then the reconcile.
#[derive(Debug, Clone)]
pub struct Granted {
    /// The grant as stored.
    pub grant: Grant,
    /// Its duration as asked.
    pub duration: Duration,
    /// When it was given.
    pub now: Time,
    /// What the reconcile did.
    pub router: Reconciled,
}

impl Render for Granted {
    fn text(&self) -> String {
        let g = &self.grant;
        let mut text = format!(
            "granted {} to {} until {} ({})\n",
            g.address,
            g.user,
            g.expires.rfc3339(),
            duration::format(self.duration)
        );
        self.router.write_text(&mut text);
        text
    }

    fn json(&self) -> Value {
        let mut doc = json!({ "grant": grant_json(&self.grant, self.now) });
        self.router.write_json(&mut doc);
        doc
    }

    fn status(&self) -> u8 {
        self.router.status()
    }
}

/// What `revoke` did: whether the grant existed, then the reconcile.
#[derive(Debug, Clone)]
pub struct Revoked {
    /// The address of the grant.
    pub address: Address,
    /// Whose grant.
    pub user: String,
    /// Whether there was such a grant.
    pub existed: bool,
    /// What the reconcile did.
    pub router: Reconciled,
}

impl Render for Revoked {
    fn text(&self) -> String {
        let (user, address) = (&self.user, &self.address);
        let mut text = if self.existed {
            format!("revoked {user}'s grant for {address}\n")
        } else {
            format!("{user} had no grant for {address}; reconciling anyway\n")
        };
        self.router.write_text(&mut text);
        text
    }

    fn json(&self) -> Value {
        let mut doc =
            json!({ "revoked": self.existed, "address": self.address, "user": self.user });
        self.router.write_json(&mut doc);
        doc
    }

    fn status(&self) -> u8 {
        self.router.status()
    }
}

/// What `sync` did: how many grants are live, then the reconcile.
#[derive(Debug, Clone)]
pub struct Synced {
    /// Live grants.
    pub live: usize,
    /// What the reconcile did.
    pub router: Reconciled,
}

impl Render for Synced {
    fn text(&self) -> String {
        let mut text = format!("{}\n", plural(self.live, "live grant", "live grants"));
        self.router.write_text(&mut text);
        text
    }

    fn json(&self) -> Value {
        let mut doc = json!({});
        self.router.write_json(&mut doc);
        doc
    }

    fn status(&self) -> u8 {
        self.router.status()
    }
}

/// The entries the agent owns with the conflicts as errors, or why the router could not be read.
pub type OwnedEntries = Result<(Vec<Row>, Vec<Error>), Error>;

/// What `list` found: the live grants, and the entries the agent owns with the conflicts (208105),
/// or why the router could not be read.
#[derive(Debug, Clone)]
pub struct Listing {
    /// When the list was taken.
    pub now: Time,
    /// The live grants.
    pub grants: Vec<Grant>,
    /// The owned entries and the conflicts as errors, or the read's failure; `None` when no router
    /// is configured (passive mode without a URL), so that nothing was read.
    pub router: Option<OwnedEntries>,
    /// The filter rule check of both families, as `validate` makes it (empty with
    /// `check_rules = false`). It informs and does not change the exit status: `validate` is the
    /// command that fails on it.
    pub rules: Vec<super::validate::Step>,
}

impl Render for Listing {
    fn text(&self) -> String {
        let mut text = String::new();
        let _ = writeln!(text, "grants ({}):", self.grants.len());
        for g in &self.grants {
            let left = duration::format(Duration::from_secs(g.expires.since(self.now).as_secs()));
            // A store written by an older agent may hold names this one refuses: show them
            // escaped, so that no name can forge a line of this output.
            let user = g.user.escape_debug().to_string();
            let _ = writeln!(text, "  {:<40} {user:<20} {left} left", g.address.as_str());
        }
        match &self.router {
            None => {
                let _ = writeln!(text, "owned entries: not read (no router URL configured)");
            }
            Some(Ok((owned, errors))) => {
                let _ = writeln!(text, "owned entries ({}):", owned.len());
                for r in owned {
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
                for e in errors {
                    let _ = writeln!(text, "{e}");
                }
            }
            Some(Err(e)) => {
                let _ = writeln!(text, "owned entries: unknown: {e}");
            }
        }
        if !self.rules.is_empty() {
            let _ = writeln!(text, "filter rules:");
            for s in &self.rules {
                let _ = writeln!(text, "  {}", s.line());
            }
        }
        text
    }

    fn json(&self) -> Value {
        let grants: Vec<Value> = self
            .grants
            .iter()
            .map(|g| grant_json(g, self.now))
            .collect();
        let mut doc = json!({ "grants": grants });
        match &self.router {
            None => {
                doc["ok"] = json!(true);
            }
            Some(Ok((owned, errors))) => {
                doc["entries"] = owned
                    .iter()
                    .map(|r| json!({ "id": r.id, "list": r.list, "address": r.address, "timeout": r.timeout.map(duration::format) }))
                    .collect();
                doc["conflict_errors"] = errors.iter().map(Error::to_json).collect();
                doc["ok"] = json!(errors.is_empty());
            }
            Some(Err(e)) => {
                doc["ok"] = json!(false);
                doc["error"] = e.to_json();
            }
        }
        if !self.rules.is_empty() {
            doc["rules"] = json!(self.rules);
        }
        doc
    }

    fn status(&self) -> u8 {
        match &self.router {
            None => exit::OK,
            Some(Ok((_, errors))) if errors.is_empty() => exit::OK,
            Some(Ok(_)) => exit::CONFLICT,
            Some(Err(_)) => exit::FAILED,
        }
    }
}

/// `1 live grant`, `2 live grants`.
pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A refused grant or revoke, as the command line says it: the flags by their names.
fn refused(r: Refusal) -> Failure {
    match r {
        Refusal::Address(e) => Failure::Refused(e),
        other => Failure::config(other.message("--for", "--user")),
    }
}

/// A command's result: done here, or by the running daemon through its control API.
#[derive(Debug, Clone)]
pub enum Done<T> {
    /// Done by this process.
    Here(T),
    /// The daemon holds the store: done by it.
    Daemon(Forwarded),
}

impl<T: Render> Render for Done<T> {
    fn text(&self) -> String {
        match self {
            Done::Here(t) => t.text(),
            Done::Daemon(f) => f.text(),
        }
    }

    fn json(&self) -> Value {
        match self {
            Done::Here(t) => t.json(),
            Done::Daemon(f) => f.json(),
        }
    }

    fn status(&self) -> u8 {
        match self {
            Done::Here(t) => t.status(),
            Done::Daemon(f) => f.status(),
        }
    }
}

/// The store for this command, or the address of the running daemon that holds it. The returned
/// handle holds the store's lock until it is dropped, so callers keep it for the whole command,
/// reconcile included. Otherwise a command running beside this one could reconcile with a store
/// missing this command's grant and remove its entry.
async fn open_store(config: &Config) -> Result<Result<GrantStore, String>, Failure> {
    match GrantStore::open_async(config.state.clone(), Holder::Cli).await {
        Ok(store) => Ok(Ok(store)),
        Err(StoreError::HeldByDaemon { control, .. }) => Ok(Err(control)),
        Err(e) => Err(Failure::store(e)),
    }
}

fn reconciler(config: &Config, client: RouterClient, clock: &Arc<dyn Clock>) -> Reconciler {
    Reconciler::for_config(config, client, clock.clone())
}

/// The client that writes the list after a change of the store: none in passive mode, where the
/// router pulls the feed and no router need be configured; in active mode, always one.
fn writer(config: &Config, client: Option<RouterClient>) -> Result<Option<RouterClient>, Failure> {
    match config.mode {
        Mode::Passive => Ok(None),
        Mode::Active => super::needed(client).map(Some),
    }
}

/// Reconciles the router with `grants` through `client`, the [`writer`] (none: nothing to write).
async fn reconcile(
    config: &Config,
    client: Option<RouterClient>,
    grants: &[Grant],
    clock: &Arc<dyn Clock>,
) -> Reconciled {
    // In passive mode the router pulls the feed: the agent never writes the list.
    let Some(client) = client else {
        return Reconciled::new(Ok(Report::default()), &config.plan_config());
    };
    let result = reconciler(config, client, clock).sync(grants).await;
    Reconciled::new(result, &config.plan_config())
}

/// `grant`: stores the grant, then reconciles.
pub async fn grant(
    config: &Config,
    client: Option<RouterClient>,
    clock: &Arc<dyn Clock>,
    address: &str,
    user: &str,
    for_: &str,
) -> Result<Done<Granted>, Failure> {
    let client = writer(config, client)?;
    let now = clock.now();
    let (grant, duration) =
        request::grant(address, user, for_, now, config.prefix_limits).map_err(refused)?;
    let mut store = match open_store(config).await? {
        Ok(store) => store,
        Err(control) => {
            let body = json!({ "address": address, "user": user, "for": for_ });
            return forward(config, &control, "/v1/grants", body)
                .await
                .map(Done::Daemon);
        }
    };
    store.grant(grant.clone()).map_err(Failure::store)?;
    store.prune(now).map_err(Failure::store)?;
    let router = reconcile(config, client, store.grants(), clock).await;
    Ok(Done::Here(Granted {
        grant,
        duration,
        now,
        router,
    }))
}

/// `revoke`: removes the grant, then reconciles (even when there was none).
pub async fn revoke(
    config: &Config,
    client: Option<RouterClient>,
    clock: &Arc<dyn Clock>,
    address: &str,
    user: &str,
) -> Result<Done<Revoked>, Failure> {
    let client = writer(config, client)?;
    let now = clock.now();
    let address = request::address(address).map_err(refused)?;
    request::user(user).map_err(refused)?;
    let mut store = match open_store(config).await? {
        Ok(store) => store,
        Err(control) => {
            let body = json!({ "address": address, "user": user });
            return forward(config, &control, "/v1/revoke", body)
                .await
                .map(Done::Daemon);
        }
    };
    let existed = store.revoke(&address, user).map_err(Failure::store)?;
    store.prune(now).map_err(Failure::store)?;
    let router = reconcile(config, client, store.grants(), clock).await;
    Ok(Done::Here(Revoked {
        address,
        user: user.to_owned(),
        existed,
        router,
    }))
}

/// `sync`: prunes expired grants and reconciles.
pub async fn sync(
    config: &Config,
    client: Option<RouterClient>,
    clock: &Arc<dyn Clock>,
) -> Result<Done<Synced>, Failure> {
    let client = writer(config, client)?;
    let now = clock.now();
    let mut store = match open_store(config).await? {
        Ok(store) => store,
        Err(control) => {
            return forward(config, &control, "/v1/sync", json!({}))
                .await
                .map(Done::Daemon);
        }
    };
    store.prune(now).map_err(Failure::store)?;
    let live = store.grants().len();
    let router = reconcile(config, client, store.grants(), clock).await;
    Ok(Done::Here(Synced { live, router }))
}

/// `list`: the live grants and the entries the agent owns, with conflicts.
pub async fn list(
    config: &Config,
    client: Option<RouterClient>,
    clock: &Arc<dyn Clock>,
) -> Result<Listing, Failure> {
    let now = clock.now();
    // Reading only: no lock, so `list` works beside a running daemon or a command in progress.
    let grants = GrantStore::load(&config.state).map_err(Failure::store)?;
    let live: Vec<Grant> = grants.iter().filter(|g| g.expires > now).cloned().collect();
    let plan_config = config.plan_config();
    // In passive mode without a router URL only the store is read; in active mode the router is
    // always configured.
    let client = match config.mode {
        Mode::Passive => client,
        Mode::Active => Some(super::needed(client)?),
    };
    let Some(client) = client else {
        return Ok(Listing {
            now,
            grants: live,
            router: None,
            rules: Vec::new(),
        });
    };
    // Reading only, like the rest of `list`.
    let rules = if config.check_rules {
        super::validate::rule_steps(config, &client).await
    } else {
        Vec::new()
    };
    let router = reconciler(config, client, clock).read().await.map(|rows| {
        let conflicts = plan::plan(&plan_config, &grants, &rows, now).conflicts;
        let report = Report {
            conflicts,
            ..Report::default()
        };
        let errors = report.conflict_errors(&plan_config);
        let owned = rows
            .into_iter()
            .filter(|r| r.is_owned(&config.tag))
            .collect();
        (owned, errors)
    });
    Ok(Listing {
        now,
        grants: live,
        router: Some(router),
        rules,
    })
}
