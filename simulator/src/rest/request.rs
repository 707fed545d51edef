//! Turning an HTTP request into an operation: a model [`Call`] and the form its reply takes.
//!
//! REST spells the router's commands as methods on paths (ROUTEROS-REST.md section 2): `GET` of a
//! menu is a `print`, `GET` of an item prints that item, `PUT` is an `add` answered with the new row,
//! `PATCH` a `set` answered with the changed row, `DELETE` a `remove`, and `POST <menu>/<command>`
//! runs the command with the body's members as its arguments. This module maps each onto
//! [`Call::prepare`] and remembers how the reply is to be shaped ([`Form`]); it decides nothing the
//! model decides.

use bytes::Bytes;
use http::{Method, Request, StatusCode, header};

use super::error::ErrorReply;
use crate::model::args::Args;
use crate::model::failure::Failure;
use crate::model::menus::Target;
use crate::model::query::Query;
use crate::model::row::Proplist;
use crate::model::run::Call;
use crate::model::services::Listener;
use crate::model::spec::Shape;
use crate::model::version::Version;
use crate::shared::Shared;

/// How the reply to an operation is shaped.
#[derive(Debug)]
pub enum Form {
    /// `GET <menu>`: an array, or for a singleton on 7.19 and later a bare object.
    List {
        /// A GET's `.proplist`.
        proplist: Option<Proplist>,
        /// Whether a singleton answers with a bare object.
        bare: bool,
    },
    /// `GET <menu>/<id>`: a bare object.
    Item {
        /// A GET's `.proplist`.
        proplist: Option<Proplist>,
    },
    /// `PUT`: `201` with the new row and a `Location` of `<base>/rest<menu>/<id>`.
    Created {
        /// Scheme and host.
        base: String,
    },
    /// `PATCH`: `200` with the changed row.
    Patched {
        /// The item.
        id: u32,
        /// A refusal to answer once the change is applied (a `/user` password change).
        applied_then_refused: Option<&'static str>,
    },
    /// `DELETE`: `204`, no body.
    Deleted,
    /// `POST <menu>/<command>`: rows, `{"ret":...}` or `[]`.
    Command,
}

/// An understood request.
#[derive(Debug)]
pub struct Operation {
    /// What to run.
    pub call: Call,
    /// How to answer.
    pub form: Form,
}

/// Facts about the router a request needs before it runs, read once with the login.
#[derive(Debug, Clone)]
pub struct Facts {
    /// The version followed.
    pub version: Version,
}

impl Operation {
    /// Checks the caller's policies; a PATCH is refused differently from every other write
    /// (ROUTEROS-REST.md section 5).
    pub fn authorize(&self, policies: crate::model::users::Policies) -> Result<(), ErrorReply> {
        self.call.authorize(policies).map_err(|e| match self.form {
            Form::Patched { .. } => {
                Failure::bad_request("missing or invalid resource identifier").into()
            }
            _ => e.into(),
        })
    }
}

/// The detail of the 400 that answers an applied `PATCH` of a user's password. A real router's text
/// is not published; this one says what happened.
pub const PASSWORD_PATCH_DETAIL: &str = "failure: password changed, log in again";

/// Turns method, path, query string and body into an operation, or the router's refusal.
pub fn understand(
    req: &Request<Bytes>,
    rest_path: &str,
    shared: &Shared,
    listener: Listener,
    facts: &Facts,
) -> Result<Operation, ErrorReply> {
    let version = &facts.version;
    let segments: Vec<&str> = rest_path.split('/').collect();
    let target = match Target::resolve(&segments)? {
        Target::Named(menu, name) => match shared.router().id_by_name(menu, &name) {
            Some(id) => Target::Item(menu, id),
            None => return Err(Failure::not_found().into()),
        },
        t => t,
    };
    let keep_id = version.proplist_keeps_id();
    let op = |call: Result<Call, Failure>, form: Form| -> Result<Operation, ErrorReply> {
        Ok(Operation { call: call?, form })
    };
    match (req.method(), target) {
        // `/rest/execute`, `/rest/tool/fetch`, `/rest/import` are commands, not menus: a GET of one
        // is a GET of a command path, answered `no such command` (ROUTEROS-REST.md section 5).
        (&Method::GET, Target::Menu(menu)) if menu.spec().shape == Shape::Commands => {
            Err(Failure::no_such_command().into())
        }
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
            let bare = menu.is_singleton() && version.singleton_as_object();
            // A bare singleton is the object itself: query-string filters do not apply to it.
            let query = match bare {
                true => Query::default(),
                false => Query::from_pairs(pairs),
            };
            let args = Args::default().with_query(query);
            op(
                Call::prepare(menu, "print", args, version),
                Form::List { proplist, bare },
            )
        }
        (&Method::GET, Target::Item(menu, id)) => {
            let proplist = query_pairs(req.uri().query())
                .into_iter()
                .find(|(k, _)| k == ".proplist")
                .map(|(_, v)| Proplist::new([v.as_str()], keep_id));
            op(Call::item(menu, id, version), Form::Item { proplist })
        }
        (&Method::GET, Target::Command(..)) => Err(Failure::no_such_command().into()),
        (&Method::PUT, Target::Menu(menu)) if !menu.is_singleton() => {
            let mut args = body_args(req)?;
            args.take(".id");
            let scheme = match listener {
                Listener::WwwSsl => "https",
                Listener::Www => "http",
            };
            let host = req
                .headers()
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("router");
            op(
                Call::prepare(menu, "add", args, version),
                Form::Created {
                    base: format!("{scheme}://{host}"),
                },
            )
        }
        (&Method::PATCH, Target::Item(menu, id)) => {
            let mut args = body_args(req)?;
            args.take(".id");
            // A CHR answered a PATCH of a user's `password` with 400 while applying it (lab
            // contract, CHR 7.23.7); its detail text was not recorded (fixtures/README.md).
            let applied_then_refused = (menu.path() == "/user" && args.get("password").is_some())
                .then_some(PASSWORD_PATCH_DETAIL);
            op(
                Call::prepare_on(menu, "set", Some(vec![id]), args, version),
                Form::Patched {
                    id,
                    applied_then_refused,
                },
            )
        }
        // A singleton has no item to PATCH (set it with `POST .../set`), and an item of a menu
        // without `remove` (a service) cannot be deleted: a real router answers both this way
        // (fixtures/README.md).
        // The same for a PATCH on a table's URL without an id (laravel-mikrotik notes on a 7.10.2
        // router; FreeSDN regression notes on CHR 7.21.3).
        (&Method::PATCH, Target::Menu(_)) => {
            Err(Failure::bad_request("missing or invalid resource identifier").into())
        }
        (&Method::DELETE, Target::Item(menu, _))
            if menu.spec().command("remove", version).is_none() =>
        {
            Err(Failure::bad_request("missing or invalid resource identifier").into())
        }
        (&Method::DELETE, Target::Item(menu, id)) => op(
            Call::prepare_on(menu, "remove", Some(vec![id]), Args::default(), version),
            Form::Deleted,
        ),
        // `/execute`, `/import`, `/tool/fetch`: the path names the command itself.
        (&Method::POST, Target::Menu(menu)) if menu.spec().shape == Shape::Commands => {
            let args = Args::from_json(&body_json(req)?)?;
            let word = menu.path().rsplit('/').next().unwrap_or_default();
            op(Call::prepare(menu, word, args, version), Form::Command)
        }
        (&Method::POST, Target::Command(menu, cmd)) => {
            let body = body_json(req)?;
            let args = match cmd.as_str() {
                "print" => print_args(body)?,
                _ => Args::from_json(&body)?,
            };
            op(Call::prepare(menu, &cmd, args, version), Form::Command)
        }
        _ => Err(Failure::no_such_command().into()),
    }
}

/// The arguments of `POST .../print`: `.proplist` (an array or a comma-separated string) and
/// `.query` (the API query stack) become the model's proplist and row filter; every other member is
/// a flag whose value does not matter, passed on by name so that the declaration judges it.
fn print_args(body: serde_json::Map<String, serde_json::Value>) -> Result<Args, Failure> {
    let mut args = Args::default();
    let mut query = Query::default();
    for (key, value) in &body {
        match key.as_str() {
            ".proplist" => args.push(key.as_str(), words(key, value)?.join(",")),
            ".query" => query = Query::parse(words(key, value)?.iter().map(String::as_str))?,
            _ => args.push(key.as_str(), ""),
        }
    }
    Ok(args.with_query(query))
}

/// A `.proplist`/`.query` value: an array of strings or one comma-separated string.
fn words(key: &str, value: &serde_json::Value) -> Result<Vec<String>, Failure> {
    match value {
        serde_json::Value::Array(items) => items.iter().map(|v| Args::text(key, v)).collect(),
        other => Ok(vec![Args::text(key, other)?]),
    }
}

/// The body as a JSON object; an empty body is an empty object.
fn body_json(
    req: &Request<Bytes>,
) -> Result<serde_json::Map<String, serde_json::Value>, ErrorReply> {
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
        return Err(ErrorReply::with_status(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            None,
        ));
    }
    let body = radix_numbers(body);
    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(_) | Err(_) => Err(Failure::bad_request("Failed to parse json").into()),
    }
}

/// Rewrites the number tokens a router reads in octal (`012`, a leading zero) or hexadecimal
/// (`0x1A`) as decimal, leaving strings and every other byte alone: "JSON format ... accepts numbers
/// in octal format (begins with 0) and hexadecimal format (begins with 0x). If the numbers are sent
/// in a string format, they are assumed to be in decimal format" (MikroTik manual, REST API, the
/// same from 7.1 to the current page). A token that is neither stays as it is for the JSON parser to
/// judge (`09`, `1e3`: `Failed to parse json`).
fn radix_numbers(body: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let mut out: Option<Vec<u8>> = None;
    let (mut i, mut in_string, mut escaped) = (0, false, false);
    while i < body.len() {
        let b = body[i];
        if in_string {
            (escaped, in_string) = match (escaped, b) {
                (true, _) => (false, true),
                (false, b'\\') => (true, true),
                (false, b'"') => (false, false),
                _ => (false, true),
            };
        } else if b == b'"' {
            in_string = true;
        } else if b.is_ascii_digit() || b == b'-' {
            let end = body[i..]
                .iter()
                .position(|c| !(c.is_ascii_alphanumeric() || matches!(c, b'-' | b'+' | b'.')))
                .map_or(body.len(), |n| i + n);
            if let Some(value) = radix_token(&body[i..end]) {
                let out = out.get_or_insert_with(|| body[..i].to_vec());
                out.extend_from_slice(value.to_string().as_bytes());
            } else if let Some(out) = out.as_mut() {
                out.extend_from_slice(&body[i..end]);
            }
            i = end;
            continue;
        }
        if let Some(out) = out.as_mut() {
            out.push(b);
        }
        i += 1;
    }
    match out {
        Some(out) => std::borrow::Cow::Owned(out),
        None => std::borrow::Cow::Borrowed(body),
    }
}

/// The value of an octal (`017`) or hexadecimal (`0x1f`) number token, optionally negative.
fn radix_token(token: &[u8]) -> Option<i128> {
    let text = std::str::from_utf8(token).ok()?;
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let value = if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        i128::from(u64::from_str_radix(hex, 16).ok()?)
    } else if digits.len() > 1 && digits.starts_with('0') {
        i128::from(u64::from_str_radix(&digits[1..], 8).ok()?)
    } else {
        return None;
    };
    Some(if negative { -value } else { value })
}

fn body_args(req: &Request<Bytes>) -> Result<Args, ErrorReply> {
    Ok(Args::from_json(&body_json(req)?)?)
}

/// Decoded `key=value` pairs of a query string.
fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewrite(body: &str) -> String {
        String::from_utf8(radix_numbers(body.as_bytes()).into_owned()).unwrap()
    }

    #[test]
    fn octal_and_hex_numbers_are_read_as_the_manual_says() {
        assert_eq!(rewrite(r#"{"port":012}"#), r#"{"port":10}"#);
        assert_eq!(
            rewrite(r#"{"port":0x1A, "n":[0X10,-017]}"#),
            r#"{"port":26, "n":[16,-15]}"#
        );
        // Strings are decimal text and stay as they are, escapes included.
        assert_eq!(
            rewrite(r#"{"a":"012","b\"":"0x1"}"#),
            r#"{"a":"012","b\"":"0x1"}"#
        );
        // Plain numbers, zero, and tokens that are no number are left to the JSON parser.
        for same in [
            r#"{"a":0,"b":10,"c":1.5}"#,
            r#"{"a":09}"#,
            r#"{"a":1e3}"#,
            r#"{"a":0x}"#,
        ] {
            assert_eq!(rewrite(same), same);
        }
    }
}
