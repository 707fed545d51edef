//! The one place that turns what came back from the router into a verdict or an error code.
//!
//! Real RouterOS answers in ways a person would not guess: a group without `rest-api` gets 401 (like a
//! wrong password), a group without `read` or `write` gets 500 `not enough permissions (9)`, one
//! without `api` gets 500 `std failure: not allowed (9)`, and a command cut at 60 seconds gets 400
//! `Session closed`. So classification looks at the status **and** the `detail` of the error body,
//! and at which operation was attempted (a 404 on DELETE means "already gone", on
//! `/rest/system/resource` it means "this is not a RouterOS REST API"). Both functions here are pure
//! and exhaustive; the network module only gathers the facts ([`Reply`], and the transport errors that
//! [`transport`] names and classifies).
//!
//! RouterOS itself answers every error with a JSON envelope (`{"error":N,"message":..,"detail":..}`),
//! so an HTML page is never the router's REST API talking: it is a proxy, some other web server, or
//! (on 7.24, with REST switched off in `/ip/service/webserver`) the router's web server refusing with
//! an HTML 403. That is why HTML on the first request (`/rest/system/resource`) is 208008 whatever the
//! status, including a proxy's 502/503 page: the contract's 208008 row names "an HTML page for
//! `/rest/system/resource`", while 208011 is for 5xx "from the router". After the probe has proved
//! the API, a 5xx on a list operation stays 208011 (retried), HTML or not: a proxy in front of a
//! working router that hiccups once is better retried than reported as a misconfiguration.
//! A permission `detail` means 208002 only on the statuses where RouterOS uses it (403 and 500); on a
//! 400 it is the operation's own failure code.

use crate::error::{Code, Error};

pub mod transport;

pub use transport::{Transport, classify_transport};

/// What the agent was doing, which decides what some statuses mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `GET /rest/system/resource`: the first request, which proves this is RouterOS REST.
    Probe,
    /// Reading the managed address-list.
    ReadList,
    /// Reading a whole filter table (`/ip/firewall/filter`, `/ipv6/firewall/filter`).
    ReadFilter,
    /// `PUT` of a new entry.
    AddEntry,
    /// `PATCH` of an entry's timeout or comment.
    UpdateEntry,
    /// `DELETE` of an entry.
    RemoveEntry,
    /// Passive mode: reading or changing the agent's script, scheduler entry, CA file or
    /// certificate, and reading the log.
    Passive,
    /// `POST /execute` of a batch of writes (the reply's `ret` is read by `batch::parse`).
    Execute,
}

/// A complete HTTP reply.
#[derive(Debug, Clone, Copy)]
pub struct Reply<'a> {
    /// The HTTP status.
    pub status: u16,
    /// The `Content-Type` header, if any.
    pub content_type: Option<&'a str>,
    /// The whole body.
    pub body: &'a [u8],
}

/// What a reply means for the operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The operation did what was asked; the body still has to be parsed.
    Success,
    /// DELETE or PATCH of an entry that no longer exists (404 with a RouterOS error body).
    AlreadyGone,
    /// PUT of an address the list already has (`failure: already have such entry`).
    Duplicate,
    /// A failure with this code.
    Failure(Code),
}

/// The `detail` of a RouterOS error body, when the body is one.
pub fn router_detail(body: &[u8]) -> Option<String> {
    match serde_json::from_slice::<serde_json::Value>(body).ok()? {
        serde_json::Value::Object(map) => map
            .get("detail")
            .and_then(|d| d.as_str())
            .map(str::to_owned),
        _ => None,
    }
}

/// What the body of an error reply turned out to be.
enum ErrorBody {
    /// An HTML page (a proxy, a login page, REST switched off).
    Html,
    /// Not JSON at all, or empty.
    NotJson,
    /// JSON, but not an object with a numeric `error`.
    WrongShape,
    /// A RouterOS error envelope, with its `detail` (absent on 401 and 404).
    Envelope(Option<String>),
}

fn looks_html(reply: &Reply<'_>) -> bool {
    if reply
        .content_type
        .is_some_and(|ct| ct.to_ascii_lowercase().contains("text/html"))
    {
        return true;
    }
    let head = String::from_utf8_lossy(&reply.body[..reply.body.len().min(64)])
        .trim_start()
        .to_ascii_lowercase();
    head.starts_with("<!doctype html") || head.starts_with("<html")
}

fn error_body(reply: &Reply<'_>) -> ErrorBody {
    if looks_html(reply) {
        return ErrorBody::Html;
    }
    match serde_json::from_slice::<serde_json::Value>(reply.body) {
        Err(_) => ErrorBody::NotJson,
        Ok(serde_json::Value::Object(map)) if map.get("error").is_some_and(|e| e.is_number()) => {
            ErrorBody::Envelope(
                map.get("detail")
                    .and_then(|d| d.as_str())
                    .map(str::to_owned),
            )
        }
        Ok(_) => ErrorBody::WrongShape,
    }
}

/// Whether a `detail` is RouterOS's way of saying a policy is missing.
fn is_permission_detail(detail: &str) -> bool {
    let d = detail.to_ascii_lowercase();
    d.contains("not enough permissions") || d.contains("not allowed")
}

/// The code of a failed operation that the rules above do not single out.
fn operation_failure(op: Operation) -> Code {
    match op {
        Operation::Probe => Code::RestApiUnavailable,
        Operation::ReadList => Code::ListReadFailed,
        Operation::ReadFilter => Code::FilterRulesUnreadable,
        Operation::AddEntry => Code::EntryAddFailed,
        Operation::UpdateEntry => Code::EntryUpdateFailed,
        Operation::RemoveEntry => Code::EntryRemoveFailed,
        Operation::Passive => Code::PassiveSetupFailed,
        // A batch is mostly adds; the entries it did not write are written one by one, each with
        // its own code.
        Operation::Execute => Code::EntryAddFailed,
    }
}

/// Which 2xx statuses the operation produces on a real router.
fn expected_success(op: Operation, status: u16) -> bool {
    match op {
        Operation::Probe
        | Operation::ReadList
        | Operation::ReadFilter
        | Operation::UpdateEntry
        | Operation::Execute => status == 200,
        // PUT answers 201 Created; 200 is accepted too, as from a proxy that rewrites it.
        Operation::AddEntry => status == 201 || status == 200,
        Operation::RemoveEntry => status == 204 || status == 200,
        // GET, PATCH and POST answer 200, PUT 201, DELETE 204.
        Operation::Passive => matches!(status, 200 | 201 | 204),
    }
}

/// The meaning of a complete reply to `op`.
pub fn classify_reply(op: Operation, reply: &Reply<'_>) -> Verdict {
    use Verdict::Failure;
    let status = reply.status;
    match status {
        200..=299 => {
            if looks_html(reply) {
                // A web page where JSON belongs: on the first request this is not a REST API at all.
                return Failure(if op == Operation::Probe {
                    Code::RestApiUnavailable
                } else {
                    Code::NotJson
                });
            }
            if expected_success(op, status) {
                Verdict::Success
            } else {
                Failure(Code::UnexpectedStatus)
            }
        }
        // Redirects are not followed: RouterOS never sends one, so whatever did is not the router.
        300..=399 => Failure(Code::RestApiUnavailable),
        401 => Failure(Code::AuthenticationFailed),
        403 => match error_body(reply) {
            // RouterOS 7.24 answers every REST request with a 403 HTML page when REST is switched off.
            ErrorBody::Html => Failure(Code::RestApiUnavailable),
            // Any other 403 (an envelope, an empty or plain-text body) is the contract's 208002 row.
            _ => Failure(Code::AuthorizationFailed),
        },
        404 => match (error_body(reply), op) {
            // The probe's menu exists on every RouterOS 7: missing, this is not the router's REST API.
            (_, Operation::Probe) => Failure(Code::RestApiUnavailable),
            (
                ErrorBody::Envelope(_),
                Operation::RemoveEntry | Operation::UpdateEntry | Operation::Passive,
            ) => Verdict::AlreadyGone,
            // The router itself said 404 to a list operation: that operation failed (208100/208101).
            (ErrorBody::Envelope(_), _) => Failure(operation_failure(op)),
            // A 404 that is not RouterOS's envelope (HTML, empty) comes from some other web server.
            _ => Failure(Code::RestApiUnavailable),
        },
        400..=499 => match error_body(reply) {
            ErrorBody::Html | ErrorBody::NotJson if op == Operation::Probe => {
                Failure(Code::RestApiUnavailable)
            }
            ErrorBody::Html | ErrorBody::NotJson => Failure(Code::NotJson),
            ErrorBody::WrongShape => Failure(Code::WrongShape),
            ErrorBody::Envelope(detail) => {
                let detail = detail.unwrap_or_default();
                let lower = detail.to_ascii_lowercase();
                if status == 400 && lower.trim() == "session closed" {
                    Failure(Code::SessionClosed)
                } else if op == Operation::AddEntry && lower.contains("already have such entry") {
                    Verdict::Duplicate
                } else if op == Operation::AddEntry
                    && lower.contains("invalid value for argument address")
                {
                    Failure(Code::AddressRejected)
                } else {
                    Failure(operation_failure(op))
                }
            }
        },
        500..=599 => match error_body(reply) {
            // RouterOS's answer to a group without `read`, `write` or `api` (only ever a 500).
            ErrorBody::Envelope(Some(detail)) if status == 500 && is_permission_detail(&detail) => {
                Failure(Code::AuthorizationFailed)
            }
            // A proxy's error page in place of the first request: the URL is not the router's API.
            ErrorBody::Html if op == Operation::Probe => Failure(Code::RestApiUnavailable),
            _ => Failure(Code::RouterInternalError),
        },
        _ => Failure(Code::UnexpectedStatus),
    }
}

/// A reply the operation cannot use: its code, and whether another attempt may do better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rejected {
    /// The failure's code.
    pub code: Code,
    /// Whether to try again: for a transient code, and for JSON cut short (208400), which the next
    /// attempt may get whole; never for a well-formed HTML or text page, which would come back the
    /// same every time.
    pub retry: bool,
    /// The reply was a success by its status, complete by HTTP's framing, and yet its JSON stops
    /// before its value is complete (a proxy or a router under memory pressure cut it).
    pub cut_short: bool,
}

/// What the client does with a complete reply to `op`: use it ([`Verdict`]), or fail with a code.
pub fn judge(op: Operation, reply: &Reply<'_>) -> Result<Verdict, Rejected> {
    let cut = cut_short(reply.body);
    match classify_reply(op, reply) {
        Verdict::Failure(code) => Err(Rejected {
            code,
            retry: code.is_transient() || (code == Code::NotJson && cut),
            cut_short: false,
        }),
        _ if cut => Err(Rejected {
            code: Code::NotJson,
            retry: true,
            cut_short: true,
        }),
        verdict => Ok(verdict),
    }
}

/// Whether a body starts as JSON and ends before its value is complete. An empty body does not
/// count: a server that meant to send nothing will send nothing again.
fn cut_short(body: &[u8]) -> bool {
    let starts_as_json = body
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| matches!(b, b'{' | b'['));
    starts_as_json && serde_json::from_slice::<serde_json::Value>(body).is_err_and(|e| e.is_eof())
}

/// A body longer than the agent reads (`limit` bytes, `net::MAX_BODY` by default): 208400, naming
/// the limit. No router list comes near it, so what sent it is not a usable REST API reply.
pub fn body_too_large(what: &str, status: u16, limit: usize) -> Error {
    Error::new(
        Code::NotJson,
        format!(
            "{what}: HTTP {status}: the body is longer than {}, the most the agent reads; it \
             stopped reading there",
            limit_text(limit)
        ),
    )
}

fn limit_text(bytes: usize) -> String {
    if bytes >= 1024 * 1024 && bytes.is_multiple_of(1024 * 1024) {
        format!("{} MiB", bytes / (1024 * 1024))
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Operation::*;

    const JSON: Option<&str> = Some("application/json");
    const HTML: Option<&str> = Some("text/html; charset=utf-8");

    fn check(
        op: Operation,
        status: u16,
        content_type: Option<&str>,
        body: &str,
        expected: Verdict,
    ) {
        let reply = Reply {
            status,
            content_type,
            body: body.as_bytes(),
        };
        assert_eq!(
            classify_reply(op, &reply),
            expected,
            "{op:?} {status} {body:?}"
        );
    }

    fn fail(code: Code) -> Verdict {
        Verdict::Failure(code)
    }

    /// Passive mode's own requests: a router error is 208124, authentication and permissions keep
    /// their codes, a 404 of a row means it is gone.
    #[test]
    fn passive_requests() {
        let env = |status: u16, detail: &str| {
            format!(r#"{{"detail":"{detail}","error":{status},"message":"x"}}"#)
        };
        for status in [200, 201, 204] {
            check(Passive, status, JSON, "[]", Verdict::Success);
        }
        check(
            Passive,
            400,
            JSON,
            &env(400, "no such command or directory (certificate)"),
            fail(Code::PassiveSetupFailed),
        );
        check(
            Passive,
            400,
            JSON,
            &env(400, "failure: item with such name already exists"),
            fail(Code::PassiveSetupFailed),
        );
        check(
            Passive,
            500,
            JSON,
            &env(500, "not enough permissions (9)"),
            fail(Code::AuthorizationFailed),
        );
        check(
            Passive,
            401,
            JSON,
            r#"{"error":401,"message":"Unauthorized"}"#,
            fail(Code::AuthenticationFailed),
        );
        check(
            Passive,
            404,
            JSON,
            r#"{"error":404,"message":"Not Found"}"#,
            Verdict::AlreadyGone,
        );
        check(Passive, 202, JSON, "[]", fail(Code::UnexpectedStatus));
    }

    /// Reading a filter table: transport-level, authentication and permission answers keep their
    /// codes; any other router error is 208111.
    #[test]
    fn filter_reads() {
        let env = |status: u16, detail: &str| {
            format!(r#"{{"detail":"{detail}","error":{status},"message":"x"}}"#)
        };
        check(ReadFilter, 200, JSON, "[]", Verdict::Success);
        check(
            ReadFilter,
            401,
            JSON,
            r#"{"error":401,"message":"Unauthorized"}"#,
            fail(Code::AuthenticationFailed),
        );
        let denied = env(500, "not enough permissions (9)");
        check(
            ReadFilter,
            500,
            JSON,
            &denied,
            fail(Code::AuthorizationFailed),
        );
        let no_menu = env(400, "no such command or directory (filter)");
        check(
            ReadFilter,
            400,
            JSON,
            &no_menu,
            fail(Code::FilterRulesUnreadable),
        );
        check(
            ReadFilter,
            404,
            JSON,
            r#"{"error":404,"message":"Not Found"}"#,
            fail(Code::FilterRulesUnreadable),
        );
        check(ReadFilter, 204, None, "", fail(Code::UnexpectedStatus));
    }

    #[test]
    fn successes_of_the_right_kind() {
        check(
            Probe,
            200,
            JSON,
            r#"{"version":"7.23.7 (long-term)"}"#,
            Verdict::Success,
        );
        check(ReadList, 200, JSON, "[]", Verdict::Success);
        check(AddEntry, 201, JSON, "{}", Verdict::Success);
        check(AddEntry, 200, JSON, "{}", Verdict::Success);
        check(UpdateEntry, 200, JSON, "{}", Verdict::Success);
        check(RemoveEntry, 204, None, "", Verdict::Success);
        check(RemoveEntry, 200, None, "", Verdict::Success);
    }

    #[test]
    fn wrong_kind_of_success_and_odd_statuses() {
        check(ReadList, 204, None, "", fail(Code::UnexpectedStatus));
        check(Probe, 201, JSON, "{}", fail(Code::UnexpectedStatus));
        check(AddEntry, 202, JSON, "{}", fail(Code::UnexpectedStatus));
        check(ReadList, 102, None, "", fail(Code::UnexpectedStatus));
        check(ReadList, 600, None, "", fail(Code::UnexpectedStatus));
    }

    #[test]
    fn html_where_json_belongs() {
        let page = "<!DOCTYPE html><html><body>login</body></html>";
        check(Probe, 200, HTML, page, fail(Code::RestApiUnavailable));
        check(Probe, 200, None, page, fail(Code::RestApiUnavailable));
        check(ReadList, 200, HTML, page, fail(Code::NotJson));
        check(AddEntry, 201, None, "<html></html>", fail(Code::NotJson));
    }

    #[test]
    fn redirects_are_not_the_router() {
        check(Probe, 301, None, "", fail(Code::RestApiUnavailable));
        check(ReadList, 302, None, "", fail(Code::RestApiUnavailable));
        check(AddEntry, 307, None, "", fail(Code::RestApiUnavailable));
    }

    #[test]
    fn unauthorized_is_authentication_whatever_the_body() {
        for op in [Probe, ReadList, AddEntry, UpdateEntry, RemoveEntry] {
            check(
                op,
                401,
                JSON,
                r#"{"error":401,"message":"Unauthorized"}"#,
                fail(Code::AuthenticationFailed),
            );
        }
        check(Probe, 401, None, "", fail(Code::AuthenticationFailed));
    }

    #[test]
    fn forbidden() {
        check(
            ReadList,
            403,
            JSON,
            r#"{"error":403,"message":"Forbidden"}"#,
            fail(Code::AuthorizationFailed),
        );
        check(
            AddEntry,
            403,
            JSON,
            r#"{"detail":"x","error":403,"message":"Forbidden"}"#,
            fail(Code::AuthorizationFailed),
        );
        check(
            Probe,
            403,
            HTML,
            "<html>REST disabled</html>",
            fail(Code::RestApiUnavailable),
        );
        // Only an HTML page is "REST switched off"; any other 403 is the contract's 208002 row.
        for op in [Probe, ReadList, AddEntry, UpdateEntry, RemoveEntry] {
            check(op, 403, None, "", fail(Code::AuthorizationFailed));
            check(
                op,
                403,
                Some("text/plain"),
                "Forbidden",
                fail(Code::AuthorizationFailed),
            );
            check(
                op,
                403,
                HTML,
                "<html>off</html>",
                fail(Code::RestApiUnavailable),
            );
            check(
                op,
                403,
                None,
                "<!DOCTYPE html><html>",
                fail(Code::RestApiUnavailable),
            );
        }
    }

    #[test]
    fn not_found_depends_on_the_operation() {
        let nf = r#"{"error":404,"message":"Not Found"}"#;
        check(RemoveEntry, 404, JSON, nf, Verdict::AlreadyGone);
        check(UpdateEntry, 404, JSON, nf, Verdict::AlreadyGone);
        check(Probe, 404, JSON, nf, fail(Code::RestApiUnavailable));
        // RouterOS's own 404 on a list operation is that operation failing (208100, 208101).
        check(ReadList, 404, JSON, nf, fail(Code::ListReadFailed));
        check(AddEntry, 404, JSON, nf, fail(Code::EntryAddFailed));
        check(
            ReadList,
            404,
            JSON,
            r#"{"detail":"no such item","error":404,"message":"Not Found"}"#,
            fail(Code::ListReadFailed),
        );
        // A 404 that is not RouterOS's envelope is some other web server.
        check(ReadList, 404, None, "", fail(Code::RestApiUnavailable));
        check(
            AddEntry,
            404,
            Some("text/plain"),
            "nope",
            fail(Code::RestApiUnavailable),
        );
        check(Probe, 404, None, "", fail(Code::RestApiUnavailable));
        // An HTML 404 is some other web server, even on DELETE.
        check(
            RemoveEntry,
            404,
            HTML,
            "<html>Not Found</html>",
            fail(Code::RestApiUnavailable),
        );
        check(
            Probe,
            404,
            HTML,
            "<html>Not Found</html>",
            fail(Code::RestApiUnavailable),
        );
    }

    #[test]
    fn permission_details_are_authorization() {
        let nep = r#"{"detail":"not enough permissions (9)","error":500,"message":"Internal Server Error"}"#;
        let na = r#"{"detail":"std failure: not allowed (9)","error":500,"message":"Internal Server Error"}"#;
        for op in [Probe, ReadList, AddEntry, UpdateEntry, RemoveEntry] {
            check(op, 500, JSON, nep, fail(Code::AuthorizationFailed));
            check(op, 500, JSON, na, fail(Code::AuthorizationFailed));
        }
    }

    #[test]
    fn permission_details_count_only_on_403_and_500() {
        // The contract names 403 and 500; on other statuses the text is the operation's failure.
        let body = |status: u16| {
            format!(r#"{{"detail":"not enough permissions (9)","error":{status},"message":"x"}}"#)
        };
        check(ReadList, 400, JSON, &body(400), fail(Code::ListReadFailed));
        check(AddEntry, 400, JSON, &body(400), fail(Code::EntryAddFailed));
        check(
            UpdateEntry,
            400,
            JSON,
            &body(400),
            fail(Code::EntryUpdateFailed),
        );
        check(
            RemoveEntry,
            400,
            JSON,
            &body(400),
            fail(Code::EntryRemoveFailed),
        );
        check(Probe, 400, JSON, &body(400), fail(Code::RestApiUnavailable));
        check(AddEntry, 409, JSON, &body(409), fail(Code::EntryAddFailed));
        check(
            ReadList,
            403,
            JSON,
            &body(403),
            fail(Code::AuthorizationFailed),
        );
        check(
            ReadList,
            500,
            JSON,
            &body(500),
            fail(Code::AuthorizationFailed),
        );
        check(
            ReadList,
            503,
            JSON,
            &body(503),
            fail(Code::RouterInternalError),
        );
    }

    #[test]
    fn other_server_errors_are_internal() {
        check(
            ReadList,
            500,
            JSON,
            r#"{"detail":"something broke","error":500,"message":"Internal Server Error"}"#,
            fail(Code::RouterInternalError),
        );
        check(AddEntry, 503, None, "", fail(Code::RouterInternalError));
        check(
            ReadList,
            502,
            HTML,
            "<html>Bad Gateway</html>",
            fail(Code::RouterInternalError),
        );
        check(
            RemoveEntry,
            500,
            JSON,
            "{}",
            fail(Code::RouterInternalError),
        );
        check(
            UpdateEntry,
            501,
            JSON,
            r#"{"error":501,"message":"Not Implemented"}"#,
            fail(Code::RouterInternalError),
        );
    }

    #[test]
    fn a_proxy_error_page_for_the_probe_is_not_the_rest_api() {
        // 208008's row: "an HTML page for /rest/system/resource"; RouterOS never sends HTML errors.
        for status in [500, 502, 503, 504] {
            check(
                Probe,
                status,
                HTML,
                "<html>Bad Gateway</html>",
                fail(Code::RestApiUnavailable),
            );
            check(
                Probe,
                status,
                None,
                "<!DOCTYPE html><html><body>down</body></html>",
                fail(Code::RestApiUnavailable),
            );
            // Not HTML: still the router (or something we cannot tell from it) failing.
            check(Probe, status, None, "", fail(Code::RouterInternalError));
        }
    }

    #[test]
    fn session_closed() {
        let body = r#"{"detail":"Session closed","error":400,"message":"Bad Request"}"#;
        for op in [Probe, ReadList, AddEntry, UpdateEntry, RemoveEntry] {
            check(op, 400, JSON, body, fail(Code::SessionClosed));
        }
    }

    #[test]
    fn add_specific_details() {
        let dup =
            r#"{"detail":"failure: already have such entry","error":400,"message":"Bad Request"}"#;
        check(AddEntry, 400, JSON, dup, Verdict::Duplicate);
        let bad = r#"{"detail":"invalid value for argument address","error":400,"message":"Bad Request"}"#;
        check(AddEntry, 400, JSON, bad, fail(Code::AddressRejected));
        let other = r#"{"detail":"invalid time value for argument timeout","error":400,"message":"Bad Request"}"#;
        check(AddEntry, 400, JSON, other, fail(Code::EntryAddFailed));
        // The same details mean nothing special on other operations.
        check(UpdateEntry, 400, JSON, dup, fail(Code::EntryUpdateFailed));
    }

    #[test]
    fn other_client_errors_by_operation() {
        let body =
            r#"{"detail":"no such command or directory (x)","error":400,"message":"Bad Request"}"#;
        check(Probe, 400, JSON, body, fail(Code::RestApiUnavailable));
        check(ReadList, 400, JSON, body, fail(Code::ListReadFailed));
        check(AddEntry, 400, JSON, body, fail(Code::EntryAddFailed));
        check(
            UpdateEntry,
            400,
            JSON,
            r#"{"detail":"missing or invalid resource identifier","error":400,"message":"Bad Request"}"#,
            fail(Code::EntryUpdateFailed),
        );
        check(RemoveEntry, 400, JSON, body, fail(Code::EntryRemoveFailed));
        check(
            ReadList,
            415,
            JSON,
            r#"{"error":415,"message":"Unsupported Media Type"}"#,
            fail(Code::ListReadFailed),
        );
    }

    #[test]
    fn broken_error_bodies() {
        check(ReadList, 400, None, "", fail(Code::NotJson));
        check(ReadList, 400, JSON, r#"{"detail":"x""#, fail(Code::NotJson));
        check(
            AddEntry,
            400,
            HTML,
            "<html>Bad Request</html>",
            fail(Code::NotJson),
        );
        check(Probe, 400, None, "oops", fail(Code::RestApiUnavailable));
        check(
            ReadList,
            400,
            JSON,
            r#"{"detail":"x","message":"Bad Request"}"#,
            fail(Code::WrongShape),
        );
        check(ReadList, 400, JSON, r#"[]"#, fail(Code::WrongShape));
        check(
            ReadList,
            400,
            JSON,
            r#"{"error":"400"}"#,
            fail(Code::WrongShape),
        );
    }

    #[test]
    fn detail_extraction() {
        assert_eq!(
            router_detail(br#"{"detail":"Session closed","error":400}"#).as_deref(),
            Some("Session closed")
        );
        assert_eq!(router_detail(br#"{"error":401}"#), None);
        assert_eq!(router_detail(b"<html>"), None);
    }

    #[test]
    fn only_json_that_stops_early_is_cut_short() {
        for (body, cut) in [
            (&b"{\"version\":"[..], true),
            (b"  [{\".id\":\"*1\"", true),
            (b"[", true),
            (b"{\"a\":\"unterminated", true),
            (b"", false),
            (b"   ", false),
            (b"{not json", false),
            (b"[1,]", false),
            (b"{}", false),
            (b"<!DOCTYPE html><html><body>login</body></html>", false),
            (b"<html><body>login", false),
            (b"Forbidden", false),
        ] {
            assert_eq!(cut_short(body), cut, "{:?}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn judged_for_the_client() {
        let judged = |status, body: &str| {
            judge(
                ReadList,
                &Reply {
                    status,
                    content_type: JSON,
                    body: body.as_bytes(),
                },
            )
        };
        assert_eq!(judged(200, "[]"), Ok(Verdict::Success));
        let cut = Rejected {
            code: Code::NotJson,
            retry: true,
            cut_short: true,
        };
        assert_eq!(judged(200, r#"[{".id":"*1""#), Err(cut));
        let internal = judged(500, r#"{"error":500,"message":"Internal Server Error"}"#);
        assert_eq!(
            internal.map_err(|r| (r.code, r.retry, r.cut_short)),
            Err((Code::RouterInternalError, true, false))
        );
        let page = judged(400, "<html><body>no</body></html>").unwrap_err();
        assert!(!page.retry && !page.cut_short, "{page:?}");
    }
}
