//! The passive feed: the live grants over HTTPS, one address per line, for a router's scheduled
//! `/tool/fetch` (see `crate::passive` for the router's side).
//!
//! - `GET /feed/v1/lists/<list>.txt` answers the whole feed of a configured list (IPv4 and IPv6
//!   lists by their names; one path when both have the same name), `?after=<address>` the
//!   [`PAGE_LINES`] addresses that follow that address in the feed's order (`?after=` empty: the
//!   first page; what the router's script fetches, since fetch keeps at most 64,512 bytes of a
//!   body, and a cursor skips nothing when a grant before it goes between two pages), and
//!   `?page=N` the N-th page by position (what scripts installed by earlier versions fetch). `text/plain`, `Cache-Control: no-store`. Expired grants never appear:
//!   the store is pruned at every request.
//! - Authentication is HTTP Basic with user `apikey` and the feed key as password, the way the
//!   vendor's EDLs are fetched ("Allowlist (EDLs)": `curl ... -u apikey:secrettoken`). The
//!   credentials are compared as SHA-256 digests with `subtle`, in constant time whatever their
//!   length. Authentication is checked before the path, so nobody without the key learns which
//!   lists exist.
//! - A wrong key gets `401 unauthorized` (with `WWW-Authenticate: Basic`), a wrong path
//!   `404 not found`, a bad page number or cursor `400 bad request`: plain text without detail.
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

use crate::address::Address;
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

/// What a request asks of a feed.
#[derive(Debug, PartialEq, Eq)]
enum Ask {
    /// No query: the whole feed.
    Whole,
    /// `page=N`: the N-th page by position, as scripts installed by earlier versions fetch it.
    Page(usize),
    /// `after=<address>`: the page after that address in the feed's order (`after=` empty: the
    /// first page), as the script fetches it.
    After(Option<Address>),
}

/// The longest cursor read: an IPv6 prefix is at most 43 characters, percent-encoded at most
/// three times as long.
const MAX_CURSOR: usize = 3 * 43;

/// Parses the query: none, `page=N` or `after=<address>` (percent-encoding allowed, `:` and `/`
/// taken as they are); `Err` for anything else.
fn ask_of(query: Option<&str>) -> Result<Ask, ()> {
    let Some(q) = query.filter(|q| !q.is_empty()) else {
        return Ok(Ask::Whole);
    };
    let mut ask = None;
    for pair in q.split('&') {
        ask = match (pair.split_once('='), ask) {
            (Some(("page", n)), None) if n.len() <= 9 => {
                Some(Ask::Page(n.parse::<usize>().map_err(|_| ())?))
            }
            (Some(("after", "")), None) => Some(Ask::After(None)),
            (Some(("after", a)), None) if a.len() <= MAX_CURSOR => {
                let a = percent_encoding::percent_decode_str(a)
                    .decode_utf8()
                    .map_err(|_| ())?;
                // Only the text of an address: `Address::parse` would also accept spaces around it.
                if a.trim() != a {
                    return Err(());
                }
                Some(Ask::After(Some(Address::parse(&a).map_err(|_| ())?)))
            }
            _ => return Err(()),
        };
    }
    ask.ok_or(())
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
    let Ok(ask) = ask_of(req.uri().query()) else {
        return refuse(StatusCode::BAD_REQUEST, "bad request\n");
    };
    let now = feed.shared.clock.now();
    let grants = feed.shared.live_grants(now);
    let lines = passive::feed_lines(&grants, list, (v4, v6), now);
    let (text, sent) = match &ask {
        Ask::Whole => (passive::page(&lines, None), lines.len()),
        Ask::Page(n) => {
            let text = passive::page(&lines, Some(*n));
            let sent = text.lines().count().min(PAGE_LINES);
            (text, sent)
        }
        Ask::After(after) => {
            let text = passive::page_after(&lines, after.as_ref());
            let sent = text.lines().count().min(PAGE_LINES);
            (text, sent)
        }
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
    fn page_numbers_and_cursors_are_checked() {
        let addr = |a: &str| Ask::After(Some(Address::parse(a).unwrap()));
        assert_eq!(ask_of(None), Ok(Ask::Whole));
        assert_eq!(ask_of(Some("")), Ok(Ask::Whole));
        assert_eq!(ask_of(Some("page=0")), Ok(Ask::Page(0)));
        assert_eq!(ask_of(Some("page=12")), Ok(Ask::Page(12)));
        assert_eq!(ask_of(Some("after=")), Ok(Ask::After(None)));
        assert_eq!(ask_of(Some("after=192.0.2.1")), Ok(addr("192.0.2.1")));
        assert_eq!(
            ask_of(Some("after=198.51.100.0/24")),
            Ok(addr("198.51.100.0/24"))
        );
        assert_eq!(
            ask_of(Some("after=2001:db8::1/128")),
            Ok(addr("2001:db8::1"))
        );
        assert_eq!(
            ask_of(Some("after=2001%3Adb8%3A%3A%2F64")),
            Ok(addr("2001:db8::/64"))
        );
        for bad in [
            "page=x",
            "page=-1",
            "x=1",
            "page=1&page=2",
            "page=9999999999",
            "after=x",
            "after=192.0.2.300",
            "after=%20192.0.2.1",
            "after=%FF",
            "after=1.2.3.4&after=1.2.3.5",
            "after=1.2.3.4&page=1",
            "page=1&after=",
            "after",
        ] {
            assert_eq!(ask_of(Some(bad)), Err(()), "{bad}");
        }
        assert_eq!(ask_of(Some(&format!("after={}", "1".repeat(200)))), Err(()));
    }
}

#[cfg(test)]
mod paging {
    use crate::address::Address;
    use crate::clock::Time;
    use crate::passive::{self, PAGE_LINES};
    use crate::plan::Grant;

    fn grants(n: usize) -> Vec<Grant> {
        (0..n)
            .map(|i| Grant {
                address: Address::parse(&format!("10.0.{}.{}", i / 256, i % 256)).unwrap(),
                user: "u".into(),
                expires: Time(100),
            })
            .collect()
    }

    #[test]
    fn a_grant_gone_between_two_pages_skips_no_other_address() {
        let mut live = grants(PAGE_LINES + 10);
        let lines = |g: &[Grant]| passive::feed_lines(g, "l", ("l", "l"), Time(10));
        let p0 = passive::page_after(&lines(&live), None);
        // A grant on the first page is revoked before the second page is fetched: by position
        // (`?page=1`) the address that moves up onto the first page would never be fetched.
        live.remove(3);
        let last = Address::parse(p0.lines().last().unwrap()).unwrap();
        let p1 = passive::page_after(&lines(&live), Some(&last));
        let got: Vec<&str> = p0.lines().chain(p1.lines()).collect();
        for l in lines(&live) {
            assert!(got.contains(&l.as_str()), "{l} was never fetched");
        }
        assert_eq!(got.len(), PAGE_LINES + 10);
        // Both families, in the feed's order: IPv4 first, then numeric order, so `10.0.0.9`
        // comes before `10.0.0.10` and a cursor in either family finds its place.
        let mut mixed = grants(12);
        for a in ["2001:db8::10", "2001:db8::9", "2001:db8::/64"] {
            mixed.push(Grant {
                address: Address::parse(a).unwrap(),
                user: "u".into(),
                expires: Time(100),
            });
        }
        let lines = lines(&mixed);
        assert_eq!(lines[9], "10.0.0.9");
        assert_eq!(lines[10], "10.0.0.10");
        assert_eq!(
            lines[12..],
            ["2001:db8::/64", "2001:db8::9/128", "2001:db8::10/128"]
        );
        let after = |a: &str| passive::page_after(&lines, Some(&Address::parse(a).unwrap()));
        assert_eq!(
            after("10.0.0.10"),
            "10.0.0.11\n2001:db8::/64\n2001:db8::9/128\n2001:db8::10/128\n"
        );
        assert_eq!(after("2001:db8::9"), "2001:db8::10/128\n");
        // A cursor that is not in the feed (its grant went) still finds its place.
        assert_eq!(after("2001:db8::a"), "2001:db8::10/128\n");
        assert_eq!(after("2001:db8::10"), "");
    }
}
