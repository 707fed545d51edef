//! Replies: an outcome rendered in the form its request asked for.
//!
//! Everything here runs after the router's lock is released. A print of many rows is rendered on
//! the blocking pool rather than on a Tokio worker, and one of a large address list in two halves
//! on two threads, sent as two chunks of one `Content-Length` body so the halves are never copied
//! together.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};

use super::body::Body;
use super::error::ErrorReply;
use super::json;
use super::request::Form;
use crate::model::args::format_id;
use crate::model::failure::Failure;
use crate::model::menus::Menu;
use crate::model::row::Proplist;
use crate::model::run::{Outcome, Rows};

/// What ran, with the row a PUT or PATCH answers with.
#[derive(Debug)]
pub struct Executed {
    /// The model's outcome.
    pub outcome: Outcome,
    /// The item as it is after a PUT or PATCH, read under the same lock.
    pub item: Option<Rows>,
    /// The caller's `/user` id.
    pub user: Option<u32>,
}

/// From this many rows a reply is rendered on the blocking pool, and address-list entries on two
/// threads when the machine has more than one core.
const LARGE: usize = 16_384;

/// Renders what ran, off the Tokio workers when it is large.
pub async fn render(done: Executed, form: Form, menu: Menu) -> Result<Response<Body>, ErrorReply> {
    let large = match &done.outcome {
        Outcome::Rows { rows, .. } => rows.len() >= LARGE,
        _ => false,
    };
    if large {
        return tokio::task::spawn_blocking(move || build(done, form, menu))
            .await
            .unwrap_or_else(|_| Err(Failure::internal("reply could not be built").into()));
    }
    build(done, form, menu)
}

fn build(done: Executed, form: Form, menu: Menu) -> Result<Response<Body>, ErrorReply> {
    let Executed { outcome, item, .. } = done;
    let item_object = |proplist: Option<&Proplist>| object(item.as_ref(), proplist);
    let (status, body, location) = match (form, outcome) {
        (Form::Deleted, _) => (StatusCode::NO_CONTENT, None, None),
        (Form::Created { base }, Outcome::Added(id)) => (
            StatusCode::CREATED,
            Some(Body::from(item_object(None))),
            Some(format!("{base}/rest{}/{}", menu.path(), format_id(id))),
        ),
        (Form::Patched { .. }, _) => (StatusCode::OK, Some(Body::from(item_object(None))), None),
        (Form::List { proplist, bare }, Outcome::Rows { rows, .. }) => {
            let body = match bare {
                true => Body::from(object(Some(&rows), proplist.as_ref())),
                false => rows_body(&rows, proplist.as_ref()),
            };
            (StatusCode::OK, Some(body), None)
        }
        (Form::Item { proplist }, Outcome::Rows { rows, .. }) => (
            StatusCode::OK,
            Some(Body::from(object(Some(&rows), proplist.as_ref()))),
            None,
        ),
        (_, Outcome::Rows { rows, proplist, .. }) => (
            StatusCode::OK,
            Some(rows_body(&rows, proplist.as_ref())),
            None,
        ),
        (_, Outcome::Added(id)) => (StatusCode::OK, Some(ret(&format_id(id))), None),
        (_, Outcome::Value { text, .. }) => (StatusCode::OK, Some(ret(&text)), None),
        (_, Outcome::Done { .. }) => (StatusCode::OK, Some(Body::from("[]")), None),
        // The REST layer carries deferred work out before rendering.
        (_, Outcome::Deferred(_)) => return Err(Failure::internal("command did not finish").into()),
    };
    let mut b = Response::builder().status(status);
    if let Some(loc) = location {
        b = b.header(header::LOCATION, loc);
    }
    match body {
        Some(body) => b
            .header(header::CONTENT_TYPE, "application/json")
            .body(body),
        None => b.body(Body::default()),
    }
    .map_err(|_| Failure::internal("reply could not be built").into())
}

/// The first row as a bare object (`{}` when there is none).
fn object(rows: Option<&Rows>, proplist: Option<&Proplist>) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    let row = rows.and_then(Rows::first).unwrap_or_default();
    json::write_row(&mut out, &row, proplist);
    out
}

/// The rows as a JSON array.
pub fn rows_body(rows: &Rows, proplist: Option<&Proplist>) -> Body {
    match (rows, proplist) {
        // A plain print of an address list is the hot path: written field by field.
        (Rows::Entries(snap), None) => {
            let n = snap.len();
            let mut first = Vec::with_capacity(n.min(LARGE * 2) * 160 + 2);
            first.push(b'[');
            if n >= LARGE && cores() > 1 {
                let mid = n / 2;
                let second = std::thread::scope(|scope| {
                    let handle = scope.spawn(|| {
                        let mut part = Vec::with_capacity((n - mid) * 160 + 1);
                        json::write_entries(&mut part, snap, mid, n, false);
                        part
                    });
                    first.reserve(mid * 160);
                    json::write_entries(&mut first, snap, 0, mid, true);
                    handle.join()
                });
                let mut second = second.unwrap_or_else(|_| {
                    // Rendering does not panic; if it ever did, render the half here instead.
                    let mut part = Vec::new();
                    json::write_entries(&mut part, snap, mid, n, false);
                    part
                });
                second.push(b']');
                return Body::from_parts([Bytes::from(first), Bytes::from(second)]);
            }
            json::write_entries(&mut first, snap, 0, n, true);
            first.push(b']');
            Body::from(first)
        }
        _ => {
            let mut out = Vec::with_capacity(256);
            json::write_rows(&mut out, rows.iter(), proplist);
            Body::from(out)
        }
    }
}

/// `{"ret":"..."}`.
fn ret(value: &str) -> Body {
    let mut out = b"{\"ret\":".to_vec();
    json::write_str(&mut out, value);
    out.push(b'}');
    Body::from(out)
}

/// The machine's cores, asked once: the question reads cgroup files on Linux, too slow per request.
fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// What the router's web server answers outside `/rest`: WebFig at `/`, a 404 page elsewhere.
pub fn webfig(path: &str) -> Response<Body> {
    let (status, body) = if path == "/" {
        (
            StatusCode::OK,
            "<html><head><title>RouterOS</title></head><body>WebFig</body></html>",
        )
    } else {
        (
            StatusCode::NOT_FOUND,
            "<html><head><title>Error 404 : Not Found</title></head><body><h1>Error 404 : Not Found</h1></body></html>",
        )
    };
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    r
}
