//! The REST calls the agent makes: `/system/resource`, reading a list, and adding, changing and
//! removing entries, each with the operation `classify` judges its reply by.
//!
//! Paths are built here, and only here. Ids like `*1A` are written into paths literally, because
//! RouterOS answers a percent-encoded `%2A1A` with 400 (`no such command prefix`); query values are
//! percent-encoded with the same exception for `*`.

use std::time::Duration;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::json;

use crate::address::{Address, Family};
use crate::classify::{Operation, Verdict};
use crate::duration;
use crate::error::{Code, Error, Result};
use crate::plan::Row;
use crate::rules::{self, FilterRow};
use crate::wire::{self, Resource};

use super::client::RouterClient;

/// What a PUT of a new entry did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Added {
    /// Created; the router's copy of the row.
    Created(Row),
    /// The list already has an enabled entry for this address.
    Duplicate,
}

/// What a PATCH or DELETE found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changed {
    /// Done; for PATCH, the router's copy of the row.
    Done(Option<Row>),
    /// The entry no longer exists.
    Gone,
}

impl RouterClient {
    /// `GET /rest/system/resource`: proves this is RouterOS REST and gives version and uptime.
    pub async fn resource(&self) -> Result<Resource> {
        let (_, body) = self
            .send(
                Operation::Probe,
                reqwest::Method::GET,
                "/system/resource",
                None,
            )
            .await?;
        wire::resource(&body, "GET /rest/system/resource")
    }

    /// All rows of one list, with only the fields the agent reads.
    pub async fn rows(&self, family: Family, list: &str) -> Result<Vec<Row>> {
        let path = format!(
            "{}?list={}&.proplist={PROPLIST}",
            family.menu(),
            encode_query(list)
        );
        let (_, body) = self
            .send(Operation::ReadList, reqwest::Method::GET, &path, None)
            .await?;
        wire::rows(family, &body, &format!("GET /rest{}", family.menu()))
    }

    /// The rows of one list whose comment is `tag`: the agent's own (and static entries someone
    /// tagged, which the planner leaves alone). A list shared with other tools may hold many more
    /// entries than the agent's; a router filters them out before printing, which is what makes a
    /// print of a large list slow (ROUTEROS-REST.md section 6: about 1 ms a printed row).
    pub async fn tagged_rows(&self, family: Family, list: &str, tag: &str) -> Result<Vec<Row>> {
        let path = format!(
            "{}?list={}&comment={}&.proplist={TAGGED_PROPLIST}",
            family.menu(),
            encode_query(list),
            encode_query(tag)
        );
        let (_, body) = self
            .send(Operation::ReadList, reqwest::Method::GET, &path, None)
            .await?;
        wire::tagged_rows(
            family,
            &body,
            &format!("GET /rest{}", family.menu()),
            list,
            tag,
        )
    }

    /// The whole filter table of `family` in console order, for the rule check; reading only.
    pub async fn filter_rows(&self, family: Family) -> Result<Vec<FilterRow>> {
        let menu = match family {
            Family::V4 => "/ip/firewall/filter",
            Family::V6 => "/ipv6/firewall/filter",
        };
        let (_, body) = self
            .send(Operation::ReadFilter, reqwest::Method::GET, menu, None)
            .await?;
        rules::parse_rows(&body, &format!("GET /rest{menu}"))
    }

    /// The rows of one list that hold `address`.
    pub async fn find(&self, list: &str, address: &Address) -> Result<Vec<Row>> {
        let family = address.family();
        let path = format!(
            "{}?list={}&address={}",
            family.menu(),
            encode_query(list),
            encode_query(address.as_str())
        );
        let (_, body) = self
            .send(Operation::ReadList, reqwest::Method::GET, &path, None)
            .await?;
        wire::rows(family, &body, &format!("GET /rest{}", family.menu()))
    }

    /// The rows of one list whose address is one of `addresses`, in one request: `POST .../print`
    /// with the API query stack (`list=L`, then the addresses or-ed together with one `#|...|`
    /// word, then `#&`; ROUTEROS-REST.md section 2) and only the fields the agent reads. Foreign
    /// entries at those addresses come back too, which is what the 208105 decisions need.
    pub async fn rows_at(
        &self,
        family: Family,
        list: &str,
        addresses: &[&str],
    ) -> Result<Vec<Row>> {
        if addresses.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = vec![format!("list={list}")];
        query.extend(addresses.iter().map(|a| format!("address={a}")));
        if addresses.len() > 1 {
            query.push(format!("#{}", "|".repeat(addresses.len() - 1)));
        }
        query.push("#&".to_owned());
        let body = json!({ ".proplist": PROPLIST, ".query": query });
        let path = format!("{}/print", family.menu());
        let (_, bytes) = self
            .send(
                Operation::ReadList,
                reqwest::Method::POST,
                &path,
                Some(&body),
            )
            .await?;
        wire::rows(family, &bytes, &format!("POST /rest{path}"))
    }

    /// `POST /execute` of `script` with `as-string`: the script runs as this user and the reply's
    /// `ret` is what it printed (`[]` when it printed nothing). A script error is also a `200`
    /// with the error's text in `ret` (7.23.3 capture, tikoci/routeros-skills PR #20), which the
    /// caller's strict reading of `ret` catches.
    pub async fn execute_script(&self, script: &str) -> Result<String> {
        let body = json!({ "script": script, "as-string": "" });
        let (_, bytes) = self
            .send(
                Operation::Execute,
                reqwest::Method::POST,
                "/execute",
                Some(&body),
            )
            .await?;
        wire::ret(&bytes, "POST /rest/execute")
    }

    /// `PUT` of a new dynamic entry with a comment.
    pub async fn add(
        &self,
        list: &str,
        address: &Address,
        timeout: Duration,
        comment: &str,
    ) -> Result<Added> {
        let family = address.family();
        let body = json!({
            "list": list,
            "address": address.as_str(),
            "timeout": duration::format(timeout),
            "comment": comment,
        });
        let (verdict, bytes) = self
            .send(
                Operation::AddEntry,
                reqwest::Method::PUT,
                family.menu(),
                Some(&body),
            )
            .await?;
        match verdict {
            Verdict::Duplicate => Ok(Added::Duplicate),
            _ => Ok(Added::Created(wire::single_row(
                family,
                &bytes,
                &format!("PUT /rest{}", family.menu()),
            )?)),
        }
    }

    /// `PATCH` of an entry's timeout.
    pub async fn set_timeout(
        &self,
        family: Family,
        id: &str,
        timeout: Duration,
    ) -> Result<Changed> {
        let path = format!("{}/{}", family.menu(), id_segment(id)?);
        let body = json!({ "timeout": duration::format(timeout) });
        let (verdict, bytes) = self
            .send(
                Operation::UpdateEntry,
                reqwest::Method::PATCH,
                &path,
                Some(&body),
            )
            .await?;
        match verdict {
            Verdict::AlreadyGone => Ok(Changed::Gone),
            _ => Ok(Changed::Done(Some(wire::single_row(
                family,
                &bytes,
                &format!("PATCH /rest{path}"),
            )?))),
        }
    }

    /// `DELETE` of an entry; 404 means it is already gone.
    pub async fn remove(&self, family: Family, id: &str) -> Result<Changed> {
        let path = format!("{}/{}", family.menu(), id_segment(id)?);
        let (verdict, _) = self
            .send(Operation::RemoveEntry, reqwest::Method::DELETE, &path, None)
            .await?;
        Ok(if verdict == Verdict::AlreadyGone {
            Changed::Gone
        } else {
            Changed::Done(None)
        })
    }
}

/// The fields the agent reads from an address-list row (`.id` always comes along).
const PROPLIST: &str = ".id,list,address,comment,timeout,dynamic,disabled";

/// The fields of a read filtered by list and tag: the two the filter fixes are left out, because
/// a router's print costs time per field shown (the simulator's router-speed profile charges
/// 0.08 ms a field against 0.1 ms a row, `simulator/src/costs.rs`).
const TAGGED_PROPLIST: &str = ".id,address,timeout,dynamic,disabled";

/// An id as a path segment: only the `*HEX` form is sent, written literally (never `%2A`).
fn id_segment(id: &str) -> Result<&str> {
    if wire::is_router_id(id) {
        Ok(id)
    } else {
        Err(Error::new(
            Code::InvalidValue,
            format!("`{id}` is not a RouterOS id"),
        ))
    }
}

/// What a query value keeps as it is: RFC 3986's unreserved characters, and `*`, `:` and `/`.
/// RouterOS compares the decoded value exactly, and addresses must stay readable in its log; `*`
/// must never become `%2A`, which RouterOS refuses.
const QUERY_KEEPS: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'*')
    .remove(b':')
    .remove(b'/');

/// Percent-encodes a query value, leaving RFC 3986 unreserved characters (and `*`, `:`, `/`) as they
/// are: RouterOS compares the decoded value exactly, and addresses must stay readable in its log.
pub fn encode_query(value: &str) -> String {
    utf8_percent_encode(value, QUERY_KEEPS).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_keep_star_and_addresses_readable() {
        assert_eq!(encode_query("my list"), "my%20list");
        assert_eq!(encode_query("2001:db8::/64"), "2001:db8::/64");
        assert_eq!(encode_query("a&b=c"), "a%26b%3Dc");
        assert_eq!(encode_query("*1A"), "*1A");
        // Everything else is encoded byte by byte, in upper-case hex, UTF-8 included.
        assert_eq!(encode_query("*1A?x#y+z%"), "*1A%3Fx%23y%2Bz%25");
        assert_eq!(encode_query("liste-é"), "liste-%C3%A9");
        assert_eq!(encode_query("a_b.c~d"), "a_b.c~d");
    }

    #[test]
    fn ids_are_sent_literally_or_not_at_all() {
        assert_eq!(id_segment("*1A").unwrap(), "*1A");
        assert_eq!(id_segment("1A").unwrap_err().code, Code::InvalidValue);
        assert_eq!(id_segment("*1A/../x").unwrap_err().code, Code::InvalidValue);
    }
}
