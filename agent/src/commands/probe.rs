//! `validate --write-check`'s probe: a documentation address added to the IPv4 list and removed
//! again, proving that the service user may write, without ever leaving it behind unannounced.

use std::fmt::Write as _;
use std::time::Duration;

use crate::address::{Address, Family};
use crate::config::Config;
use crate::duration;
use crate::error::{Code, Error};
use crate::net::{Added, RetryPolicy, RouterClient};
use crate::plan::Row;

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
pub(super) async fn write_probe(config: &Config, client: &RouterClient) -> Result<String, Error> {
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

fn is_probe(row: &Row, comment: &str) -> bool {
    row.comment.as_deref() == Some(comment) && row.dynamic
}

fn describe(row: &Row) -> String {
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
