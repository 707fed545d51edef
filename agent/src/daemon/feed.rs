//! The passive feed: the live grants over HTTPS, one address per line, for a router's scheduled
//! `/tool/fetch` (see `crate::passive` for the router's side).
//!
//! - `GET /feed/v1/lists/<list>.txt` answers the whole feed of a configured list (IPv4 and IPv6
//!   lists by their names; one path when both have the same name), `?page=N` one page of
//!   [`PAGE_LINES`] addresses (what the router's script fetches, since fetch keeps at most
//!   64,512 bytes of a body). `text/plain`, `Cache-Control: no-store`. Expired grants never appear:
//!   the store is pruned at every request.
//! - Authentication is HTTP Basic with user `apikey` and the feed key as password, the way the
//!   vendor's EDLs are fetched ("Allowlist (EDLs)": `curl ... -u apikey:secrettoken`). The
//!   credentials are compared as SHA-256 digests with `subtle`, in constant time whatever their
//!   length. Authentication is checked before the path, so nobody without the key learns which
//!   lists exist.
//! - A wrong key gets `401 unauthorized` (with `WWW-Authenticate: Basic`), a wrong path
//!   `404 not found`, a bad page number `400 bad request`: plain text without detail.
//! - Every fetch leaves one access-log line (`feed:` target `routeros_agent::feed`): peer, path,
//!   status, and how many addresses were sent. Never the credentials.
//! - Connections, handshakes and heads are bounded as the control API's are (`server.rs`).
//!
//! The key comes from `feed_key_file`, or from `<state>.feed-key`, which the daemon makes at its
//! first start (mode 0600) and keeps: unlike the control token it is also stored on the router
//! (`passive install`), so it must outlive a restart.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::{Config, Secret};
use crate::passive::{self, PAGE_LINES};

use super::state::Shared;

/// The peer of a connection, put into each request by the accept loop.
#[derive(Debug, Clone, Copy)]
pub(super) struct Peer(pub(super) SocketAddr);

/// The feed key: the configured file's first line, or `<state>.feed-key`, made now if missing.
pub fn key(config: &Config) -> Result<Secret, String> {
    let path = config.feed_key_path();
    if config.feed.key_file.is_none() && !path.exists() {
        let key = Secret::new(super::token::random_hex());
        super::token::write_private(&path, key.expose())
            .map_err(|e| format!("cannot write the feed key to {}: {e}", path.display()))?;
        return Ok(key);
    }
    read_key(config)
}

/// The feed key as `passive install` reads it: the file must exist.
pub fn read_key(config: &Config) -> Result<Secret, String> {
    let path = config.feed_key_path();
    super::token::read(&path).map_err(|e| {
        format!(
            "{}; the feed key is read from {} (start `run --mode passive` once to make it, or give --feed-key-file)",
            e.replace("control API token", "feed key"),
            path.display()
        )
    })
}

#[derive(Clone)]
struct Feed {
    shared: Shared,
    /// SHA-256 of `apikey:<key>`.
    expected: Arc<[u8; 32]>,
    lists: Arc<(String, String)>,
}

/// The feed's routes.
pub(super) fn app(shared: Shared, key: &Secret, lists: (String, String)) -> Router {
    let expected: [u8; 32] = Sha256::digest(format!("apikey:{}", key.expose())).into();
    Router::new().fallback(serve).with_state(Feed {
        shared,
        expected: Arc::new(expected),
        lists: Arc::new(lists),
    })
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    let mut r = (status, text).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if status == StatusCode::UNAUTHORIZED {
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"routeros-agent feed\""),
        );
    }
    r
}

/// Whether the request carries `Basic base64(apikey:<key>)`.
fn authorized(req: &Request, expected: &[u8; 32]) -> bool {
    let Some(value) = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some(encoded) = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))
    else {
        return false;
    };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return false;
    };
    let got: [u8; 32] = Sha256::digest(&decoded).into();
    got.ct_eq(expected).into()
}

/// The page asked for: none, or `page=N`; `Err` for anything else.
fn page_of(query: Option<&str>) -> Result<Option<usize>, ()> {
    let Some(q) = query.filter(|q| !q.is_empty()) else {
        return Ok(None);
    };
    let mut page = None;
    for pair in q.split('&') {
        match pair.split_once('=') {
            Some(("page", n)) if n.len() <= 9 && page.is_none() => {
                page = Some(n.parse::<usize>().map_err(|_| ())?);
            }
            _ => return Err(()),
        }
    }
    Ok(page)
}

async fn serve(State(feed): State<Feed>, req: Request) -> Response {
    let peer = req
        .extensions()
        .get::<Peer>()
        .map(|p| p.0.to_string())
        .unwrap_or_else(|| "-".into());
    let path = req.uri().path().to_owned();
    let (status, response, sent) = answer(&feed, &req);
    // The access log: who fetched what, never the credentials or the addresses themselves.
    tracing::info!(target: "routeros_agent::feed", %peer, method = %req.method(), path = %path, status = status.as_u16(), addresses = sent, "feed");
    response
}

fn answer(feed: &Feed, req: &Request) -> (StatusCode, Response, usize) {
    let refuse = |status, text| (status, plain(status, text), 0);
    if !authorized(req, &feed.expected) {
        return refuse(StatusCode::UNAUTHORIZED, "unauthorized\n");
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return refuse(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
    }
    let (v4, v6) = (&feed.lists.0, &feed.lists.1);
    let Some(list) = [v4, v6]
        .into_iter()
        .find(|l| req.uri().path() == passive::feed_path(l))
    else {
        return refuse(StatusCode::NOT_FOUND, "not found\n");
    };
    let Ok(page) = page_of(req.uri().query()) else {
        return refuse(StatusCode::BAD_REQUEST, "bad request\n");
    };
    let now = feed.shared.clock.now();
    let grants = feed.shared.live_grants(now);
    let lines = passive::feed_lines(&grants, list, (v4, v6), now);
    let text = passive::page(&lines, page);
    let sent = match page {
        None => lines.len(),
        Some(_) => text.lines().count().min(PAGE_LINES),
    };
    let mut r = (StatusCode::OK, text).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    (StatusCode::OK, r, sent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_numbers_are_checked() {
        assert_eq!(page_of(None), Ok(None));
        assert_eq!(page_of(Some("")), Ok(None));
        assert_eq!(page_of(Some("page=0")), Ok(Some(0)));
        assert_eq!(page_of(Some("page=12")), Ok(Some(12)));
        for bad in [
            "page=x",
            "page=-1",
            "x=1",
            "page=1&page=2",
            "page=9999999999",
        ] {
            assert_eq!(page_of(Some(bad)), Err(()), "{bad}");
        }
    }
}
