//! The REST API: from an HTTP request to the router's answer.
//!
//! [`handle`] is the whole of the router's `/rest` behaviour (ROUTEROS-REST.md sections 2 and 5): it
//! authenticates every request against the current users and groups, checks the policies each
//! operation needs, resolves the path to a menu, item or command, runs the operation on the
//! [`Router`](crate::model::Router) under its lock, and renders the reply. Requests of one user are
//! executed one at a time in arrival order, and a request that cannot finish within the session limit
//! is answered `400 Session closed`, as a real router does after 60 seconds.
//!
//! Nothing in here does socket I/O; the server hands in a request with its body already read.

pub mod body;
pub mod error;
pub mod json;
pub mod query;

use std::net::SocketAddr;
use std::sync::Arc;

use base64::Engine;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};

use crate::model::args::{Args, format_id, parse_id};
use crate::model::services::Listener;
use crate::model::users::Policies;
use crate::model::{Menu, Router, Target};
use crate::shared::Shared;
use body::Body;
use error::RosError;
use json::Proplist;
use query::Query;

/// A reply, and who made the request (for the journal).
#[derive(Debug)]
pub struct Outcome {
    /// The HTTP response.
    pub response: Response<Body>,
    /// The authenticated user, or the name presented when authentication failed.
    pub user: Option<String>,
}

/// What the operation is, once the request has been understood.
#[derive(Debug)]
enum Op {
    Print {
        menu: Menu,
        query: Query,
        proplist: Option<Proplist>,
        count_only: bool,
        bare_singleton: bool,
    },
    Get {
        menu: Menu,
        id: u32,
        proplist: Option<Proplist>,
    },
    GetValue {
        menu: Menu,
        id: u32,
        key: String,
    },
    /// `put` carries the scheme and host for the `Location` header of a PUT.
    Add {
        menu: Menu,
        args: Args,
        put: Option<String>,
    },
    Set {
        menu: Menu,
        ids: Vec<u32>,
        args: Args,
        patch: bool,
    },
    SetSingleton {
        menu: Menu,
        args: Args,
    },
    Remove {
        menu: Menu,
        ids: Vec<u32>,
        delete: bool,
    },
}

impl Op {
    fn needs_write(&self) -> bool {
        !matches!(
            self,
            Op::Print { .. } | Op::Get { .. } | Op::GetValue { .. }
        )
    }

    fn menu(&self) -> Menu {
        match self {
            Op::Print { menu, .. }
            | Op::Get { menu, .. }
            | Op::GetValue { menu, .. }
            | Op::Add { menu, .. }
            | Op::Set { menu, .. }
            | Op::SetSingleton { menu, .. }
            | Op::Remove { menu, .. } => *menu,
        }
    }

    fn is_patch(&self) -> bool {
        matches!(self, Op::Set { patch: true, .. })
    }
}

/// Version-dependent reply shapes the request needs, read once per request.
#[derive(Debug, Clone, Copy)]
struct Shapes {
    keep_id: bool,
    singleton_object: bool,
}

/// The reply of a successful operation.
struct Reply {
    status: StatusCode,
    body: Option<Body>,
    location: Option<String>,
    /// Rows read or written, for the performance profile's cost per row.
    rows: usize,
}

impl Reply {
    fn json(status: StatusCode, body: Vec<u8>, rows: usize) -> Self {
        Self {
            status,
            body: Some(Body::from(body)),
            location: None,
            rows,
        }
    }
}

/// Answers one request that arrived on `listener` from `peer`.
pub async fn handle(
    shared: &Arc<Shared>,
    req: Request<Bytes>,
    peer: SocketAddr,
    listener: Listener,
) -> Outcome {
    let path = req.uri().path().to_owned();
    let rest_path = match path.strip_prefix("/rest") {
        Some(p) if p.is_empty() || p.starts_with('/') => Some(p.to_owned()),
        _ => None,
    };
    // One look at the router for everything decided before the operation runs.
    let credentials = basic_credentials(req.headers());
    let (rest_served, login, shapes) = {
        let router = shared.router();
        let login = credentials
            .as_ref()
            .map(|(name, password)| router.users.credentials(name, password, peer.ip()));
        let shapes = Shapes {
            keep_id: router.version.proplist_keeps_id(),
            singleton_object: router.version.singleton_as_object(),
        };
        (
            listener == Listener::WwwSsl || router.version.rest_on_www(),
            login,
            shapes,
        )
    };
    let Some(rest_path) = rest_path.filter(|_| rest_served) else {
        return Outcome {
            response: webfig(&path),
            user: None,
        };
    };
    match req.method() {
        &Method::HEAD => {
            return error_outcome(
                RosError::with_status(StatusCode::NOT_IMPLEMENTED, None),
                None,
            );
        }
        &Method::OPTIONS => {
            return error_outcome(
                RosError::with_status(StatusCode::SERVICE_UNAVAILABLE, None),
                None,
            );
        }
        &Method::GET | &Method::PUT | &Method::PATCH | &Method::DELETE | &Method::POST => {}
        _ => {
            return error_outcome(
                RosError::with_status(StatusCode::NOT_IMPLEMENTED, None),
                None,
            );
        }
    }

    let (Some((name, _)), Some(login)) = (credentials, login) else {
        let mut out = error_outcome(RosError::unauthorized(), None);
        out.response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"RouterOS\""),
        );
        return out;
    };
    let policies = match login {
        Ok(p) => shared.session_policies(&name, p),
        Err(why) => {
            tracing::debug!(user = %name, ?why, "login refused");
            return error_outcome(RosError::unauthorized(), Some(name));
        }
    };
    // A group without `rest-api` is refused like bad credentials (ROUTEROS-REST.md section 5).
    if !policies.has("rest-api") {
        tracing::debug!(user = %name, "group lacks rest-api: 401");
        return error_outcome(RosError::unauthorized(), Some(name));
    }
    if !policies.has("api") {
        return error_outcome(
            RosError::internal("std failure: not allowed (9)"),
            Some(name),
        );
    }

    let op = match understand(&req, &rest_path, shared, listener, shapes) {
        Ok(op) => op,
        Err(e) => return error_outcome(e, Some(name)),
    };
    if let Err(e) = authorize(&op, policies) {
        return error_outcome(e, Some(name));
    }

    let response = match run_queued(shared, &name, op).await {
        Ok(reply) => {
            let mut b = Response::builder().status(reply.status);
            if let Some(loc) = reply.location {
                b = b.header(header::LOCATION, loc);
            }
            match reply.body {
                Some(body) => b
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(body),
                None => b.body(Body::default()),
            }
            .unwrap_or_else(|_| error_response(&RosError::internal("reply could not be built")))
        }
        Err(e) => error_response(&e),
    };
    Outcome {
        response,
        user: Some(name),
    }
}

/// Policies each operation needs, answered the way a real router answers their absence.
fn authorize(op: &Op, policies: Policies) -> Result<(), RosError> {
    if op.needs_write() {
        let user_admin = matches!(op.menu(), Menu::User | Menu::Group);
        if !policies.has("write") || (user_admin && !policies.has("policy")) {
            // A PATCH is refused differently from every other write (ROUTEROS-REST.md section 5).
            return Err(match op.is_patch() {
                true => RosError::bad_request("missing or invalid resource identifier"),
                false => RosError::not_enough_permissions(),
            });
        }
    } else if !policies.has("read") {
        return Err(RosError::not_enough_permissions());
    }
    Ok(())
}

/// Runs `op` in `user`'s queue, within the session limit.
async fn run_queued(shared: &Arc<Shared>, user: &str, op: Op) -> Result<Reply, RosError> {
    let limits = shared.limits();
    let work = async {
        let queue = limits.serialize_per_user.then(|| shared.user_queue(user));
        let _turn = match &queue {
            Some(q) => Some(q.lock().await),
            None => None,
        };
        if !limits.request_cost.is_zero() {
            tokio::time::sleep(limits.request_cost).await;
        }
        let reply = execute(shared, op)?;
        let cost = limits
            .row_cost
            .saturating_mul(reply.rows.min(u32::MAX as usize) as u32);
        if !cost.is_zero() {
            tokio::time::sleep(cost).await;
        }
        Ok(reply)
    };
    match tokio::time::timeout(limits.session_limit, work).await {
        Ok(result) => result,
        Err(_) => Err(RosError::bad_request("Session closed")),
    }
}

/// Runs an operation on the router under its lock.
fn execute(shared: &Shared, op: Op) -> Result<Reply, RosError> {
    let now = shared.clock.now();
    let wall_s = shared.clock.wall_ms(now).div_euclid(1000);
    let touches_services = op.menu() == Menu::Service && op.needs_write();
    let mut router = shared.router();
    router.purge(now);
    let reply = execute_on(&mut router, op, now, wall_s);
    drop(router);
    if touches_services && reply.is_ok() {
        shared.publish_services();
    }
    reply
}

fn execute_on(router: &mut Router, op: Op, now: u64, wall_s: i64) -> Result<Reply, RosError> {
    match op {
        Op::Print {
            menu,
            query,
            proplist,
            count_only,
            bare_singleton,
        } => {
            // A plain print of an address list is the hot path: write it without rendering rows.
            if let (Menu::AddressList(f), true, None, false) =
                (menu, query.is_empty(), &proplist, count_only)
            {
                let list = router.list(f);
                let parts = list.json_parts(now, router.version.iso_timestamps());
                return Ok(Reply {
                    status: StatusCode::OK,
                    body: Some(Body::from_parts(parts.into_iter().map(Bytes::from))),
                    location: None,
                    rows: list.len(),
                });
            }
            let rows = router.rows(menu, now).filter(|r| query.matches(r));
            if count_only {
                let n = rows.count();
                return Ok(Reply::json(StatusCode::OK, ret_body(&n.to_string()), n));
            }
            if bare_singleton {
                let row = router.rows(menu, now).next().unwrap_or_default();
                let mut out = Vec::with_capacity(1024);
                row.write(&mut out, proplist.as_ref());
                return Ok(Reply::json(StatusCode::OK, out, 1));
            }
            let mut out = Vec::with_capacity(256);
            let mut n = 0;
            json::write_rows(&mut out, rows.inspect(|_| n += 1), proplist.as_ref());
            Ok(Reply::json(StatusCode::OK, out, n))
        }
        Op::Get { menu, id, proplist } => {
            let row = router.row(menu, id, now)?;
            let mut out = Vec::with_capacity(256);
            row.write(&mut out, proplist.as_ref());
            Ok(Reply::json(StatusCode::OK, out, 1))
        }
        Op::GetValue { menu, id, key } => {
            let row = router.row(menu, id, now)?;
            let value = row
                .get(&key)
                .ok_or_else(|| RosError::invalid_value("value-name"))?
                .to_owned();
            Ok(Reply::json(StatusCode::OK, ret_body(&value), 1))
        }
        Op::Add { menu, args, put } => {
            let id = router.add(menu, &args, now, wall_s)?;
            if let Some(base) = put {
                let mut out = Vec::with_capacity(256);
                router.row(menu, id, now)?.write(&mut out, None);
                let mut reply = Reply::json(StatusCode::CREATED, out, 1);
                reply.location = Some(format!("{base}/rest{}/{}", menu.path(), format_id(id)));
                Ok(reply)
            } else {
                Ok(Reply::json(StatusCode::OK, ret_body(&format_id(id)), 1))
            }
        }
        Op::Set {
            menu,
            ids,
            args,
            patch,
        } => {
            // An unknown id is a 404 for PATCH and for `set` alike (captures show 404 for commands
            // naming unknown ids; see fixtures/README.md).
            if !ids.iter().all(|id| router.exists(menu, *id)) {
                return Err(RosError::not_found());
            }
            for id in &ids {
                router.set(menu, *id, &args, now)?;
            }
            if patch {
                let mut out = Vec::with_capacity(256);
                router.row(menu, ids[0], now)?.write(&mut out, None);
                Ok(Reply::json(StatusCode::OK, out, 1))
            } else {
                Ok(Reply::json(StatusCode::OK, b"[]".to_vec(), ids.len()))
            }
        }
        Op::SetSingleton { menu, args } => {
            router.set_singleton(menu, &args)?;
            Ok(Reply::json(StatusCode::OK, b"[]".to_vec(), 1))
        }
        Op::Remove { menu, ids, delete } => {
            if !ids.iter().all(|id| router.exists(menu, *id)) {
                return Err(RosError::not_found());
            }
            for id in &ids {
                router.remove(menu, *id)?;
            }
            if delete {
                Ok(Reply {
                    status: StatusCode::NO_CONTENT,
                    body: None,
                    location: None,
                    rows: 1,
                })
            } else {
                Ok(Reply::json(StatusCode::OK, b"[]".to_vec(), ids.len()))
            }
        }
    }
}

/// `{"ret":"..."}`.
fn ret_body(value: &str) -> Vec<u8> {
    let mut out = b"{\"ret\":".to_vec();
    json::write_str(&mut out, value);
    out.push(b'}');
    out
}

/// Turns method, path, query string and body into an operation, or the router's refusal.
fn understand(
    req: &Request<Bytes>,
    rest_path: &str,
    shared: &Shared,
    listener: Listener,
    shapes: Shapes,
) -> Result<Op, RosError> {
    let segments: Vec<&str> = rest_path.split('/').collect();
    let target = match Menu::resolve(&segments)? {
        Target::Named(menu, name) => match shared.router().id_by_name(menu, &name) {
            Some(id) => Target::Item(menu, id),
            None => return Err(RosError::not_found()),
        },
        t => t,
    };
    let Shapes {
        keep_id,
        singleton_object,
    } = shapes;
    let method = req.method();
    match (method, target) {
        (&Method::GET, Target::Menu(menu)) => {
            let mut pairs = Vec::new();
            let mut proplist = None;
            for (k, v) in query_pairs(req.uri().query()) {
                if k == ".proplist" {
                    proplist = Some(Proplist::new([v.as_str()], keep_id));
                } else {
                    pairs.push((k, v));
                }
            }
            let bare_singleton = menu.is_singleton() && singleton_object;
            Ok(Op::Print {
                menu,
                query: Query::from_pairs(pairs),
                proplist,
                count_only: false,
                bare_singleton,
            })
        }
        (&Method::GET, Target::Item(menu, id)) => {
            let proplist = query_pairs(req.uri().query())
                .into_iter()
                .find(|(k, _)| k == ".proplist")
                .map(|(_, v)| Proplist::new([v.as_str()], keep_id));
            Ok(Op::Get { menu, id, proplist })
        }
        (&Method::GET, Target::Command(..)) => Err(RosError::no_such_command()),
        (&Method::PUT, Target::Menu(menu)) if !menu.is_singleton() => {
            let mut args = body_args(req)?;
            args.take(".id");
            let scheme = if listener == Listener::WwwSsl {
                "https"
            } else {
                "http"
            };
            let host = req
                .headers()
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("router");
            Ok(Op::Add {
                menu,
                args,
                put: Some(format!("{scheme}://{host}")),
            })
        }
        (&Method::PATCH, Target::Item(menu, id)) => {
            let mut args = body_args(req)?;
            args.take(".id");
            Ok(Op::Set {
                menu,
                ids: vec![id],
                args,
                patch: true,
            })
        }
        // A singleton has no item to PATCH (set it with `POST .../set`), and a service cannot be
        // deleted: a real router answers both this way (fixtures/README.md).
        (&Method::PATCH, Target::Menu(menu)) if menu.is_singleton() => Err(RosError::bad_request(
            "missing or invalid resource identifier",
        )),
        (&Method::DELETE, Target::Item(Menu::Service, _)) => Err(RosError::bad_request(
            "missing or invalid resource identifier",
        )),
        (&Method::DELETE, Target::Item(menu, id)) => Ok(Op::Remove {
            menu,
            ids: vec![id],
            delete: true,
        }),
        (&Method::POST, Target::Command(menu, cmd)) => command(menu, &cmd, body_json(req)?),
        _ => Err(RosError::no_such_command()),
    }
}

/// A `POST <menu>/<command>`.
fn command(
    menu: Menu,
    cmd: &str,
    body: serde_json::Map<String, serde_json::Value>,
) -> Result<Op, RosError> {
    match cmd {
        "print" => {
            let mut proplist = None;
            let mut query = Query::default();
            let mut count_only = false;
            for (key, value) in &body {
                match key.as_str() {
                    // A print's `.proplist` returns exactly the keys listed (MikroTik manual).
                    ".proplist" => {
                        proplist = Some(Proplist::new(
                            words(key, value)?.iter().map(String::as_str),
                            false,
                        ))
                    }
                    ".query" => {
                        query = Query::parse(words(key, value)?.iter().map(String::as_str))?
                    }
                    "count-only" => count_only = true,
                    // Accepted and without effect on a print over REST.
                    "detail" | "without-paging" | "terse" | "show-ids" => {}
                    other => return Err(RosError::unknown_parameter(other)),
                }
            }
            Ok(Op::Print {
                menu,
                query,
                proplist,
                count_only,
                bare_singleton: false,
            })
        }
        "add" if !menu.is_singleton() => Ok(Op::Add {
            menu,
            args: Args::from_json(&body)?,
            put: None,
        }),
        "set" if menu.is_singleton() => Ok(Op::SetSingleton {
            menu,
            args: Args::from_json(&body)?,
        }),
        "set" => {
            let mut args = Args::from_json(&body)?;
            let ids = take_ids(&mut args)?;
            Ok(Op::Set {
                menu,
                ids,
                args,
                patch: false,
            })
        }
        "enable" | "disable" if !menu.is_singleton() => {
            let mut args = Args::from_json(&body)?;
            let ids = take_ids(&mut args)?;
            args.only(&[])?;
            let args =
                Args::from_pairs([("disabled", if cmd == "disable" { "true" } else { "false" })]);
            Ok(Op::Set {
                menu,
                ids,
                args,
                patch: false,
            })
        }
        "remove" if !menu.is_singleton() => {
            let mut args = Args::from_json(&body)?;
            let ids = take_ids(&mut args)?;
            args.only(&[])?;
            Ok(Op::Remove {
                menu,
                ids,
                delete: false,
            })
        }
        "get" if !menu.is_singleton() => {
            let mut args = Args::from_json(&body)?;
            let ids = take_ids(&mut args)?;
            let key = args
                .take("value-name")
                .ok_or_else(|| RosError::missing("value-name"))?;
            args.only(&[])?;
            match ids.as_slice() {
                [id] => Ok(Op::GetValue { menu, id: *id, key }),
                _ => Err(RosError::not_found()),
            }
        }
        _ => Err(RosError::no_such_command()),
    }
}

/// `.id` or `numbers` (a comma list of ids) of a command.
fn take_ids(args: &mut Args) -> Result<Vec<u32>, RosError> {
    let text = match (args.take(".id"), args.take("numbers")) {
        (Some(id), _) => id,
        (None, Some(numbers)) => numbers,
        (None, None) => return Err(RosError::missing(".id")),
    };
    text.split(',')
        .map(|w| parse_id(w.trim()).ok_or_else(RosError::not_found))
        .collect()
}

/// A `.proplist`/`.query` value: an array of strings or one comma-separated string.
fn words(key: &str, value: &serde_json::Value) -> Result<Vec<String>, RosError> {
    match value {
        serde_json::Value::Array(items) => items.iter().map(|v| Args::text(key, v)).collect(),
        other => Ok(vec![Args::text(key, other)?]),
    }
}

/// The body as a JSON object; an empty body is an empty object.
fn body_json(req: &Request<Bytes>) -> Result<serde_json::Map<String, serde_json::Value>, RosError> {
    let body = req.body();
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Map::new());
    }
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(RosError::with_status(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            None,
        ));
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(_) | Err(_) => Err(RosError::bad_request("Failed to parse json")),
    }
}

fn body_args(req: &Request<Bytes>) -> Result<Args, RosError> {
    Args::from_json(&body_json(req)?)
}

/// Decoded `key=value` pairs of a query string.
fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default()
}

/// The user name a request presents, whether or not its password is right (for faults and journal).
pub fn presented_user(headers: &HeaderMap) -> Option<String> {
    basic_credentials(headers).map(|(user, _)| user)
}

/// User and password from `Authorization: Basic ...`.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

fn error_outcome(e: RosError, user: Option<String>) -> Outcome {
    Outcome {
        response: error_response(&e),
        user,
    }
}

/// The RouterOS error envelope as a response.
pub fn error_response(e: &RosError) -> Response<Body> {
    let mut r = Response::new(Body::from(e.body()));
    *r.status_mut() = e.status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// What the router's web server answers outside `/rest`: WebFig at `/`, a 404 page elsewhere.
fn webfig(path: &str) -> Response<Body> {
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
