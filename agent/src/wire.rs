//! The agent's own reading of RouterOS REST bodies, strict enough to give 208400-208403.
//!
//! Every value RouterOS sends is a JSON string (`"true"`, `"7.23.7 (long-term)"`, `"4m59s"`), so this
//! module reads bodies as untyped JSON and checks each field by hand: a missing key is 208402, a
//! non-string or unparsable value is 208403, the wrong kind of document is 208401 and no JSON at all is
//! 208400. It deliberately does not share types with the simulator: the two sides must agree through
//! the wire, not by construction.

use std::time::Duration;

use serde_json::{Map, Value};

use crate::address::Family;
use crate::duration;
use crate::error::{Code, Error};
use crate::plan::Row;

fn json(body: &[u8], what: &str) -> Result<Value, Error> {
    serde_json::from_slice(body).map_err(|e| Error::new(Code::NotJson, format!("{what}: {e}")))
}

fn string<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    what: &str,
) -> Result<Option<&'a str>, Error> {
    match obj.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(Error::new(
            Code::InvalidValue,
            format!("{what}: `{key}` is {other}, not a string"),
        )),
    }
}

fn required<'a>(obj: &'a Map<String, Value>, key: &str, what: &str) -> Result<&'a str, Error> {
    string(obj, key, what)?
        .ok_or_else(|| Error::new(Code::MissingField, format!("{what}: no `{key}`")))
}

fn boolean(obj: &Map<String, Value>, key: &str, what: &str) -> Result<bool, Error> {
    match string(obj, key, what)? {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(Error::new(
            Code::InvalidValue,
            format!("{what}: `{key}` is `{other}`, not true/false"),
        )),
    }
}

/// Whether `id` has the `*HEX` form RouterOS uses (upper-case hex after a star).
pub fn is_router_id(id: &str) -> bool {
    id.strip_prefix('*').is_some_and(|hex| {
        !hex.is_empty()
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
    })
}

fn row(family: Family, value: &Value, what: &str) -> Result<Row, Error> {
    let Value::Object(obj) = value else {
        return Err(Error::new(
            Code::WrongShape,
            format!("{what}: a row is {value}, not an object"),
        ));
    };
    let id = required(obj, ".id", what)?;
    if !is_router_id(id) {
        return Err(Error::new(
            Code::InvalidValue,
            format!("{what}: `.id` is `{id}`, not of the *HEX form"),
        ));
    }
    let timeout = match string(obj, "timeout", what)? {
        None => None,
        Some(t) => Some(duration::parse(t).ok_or_else(|| {
            Error::new(
                Code::InvalidValue,
                format!("{what}: `timeout` is `{t}`, not a duration"),
            )
        })?),
    };
    Ok(Row {
        family,
        id: id.to_owned(),
        list: required(obj, "list", what)?.to_owned(),
        address: required(obj, "address", what)?.to_owned(),
        comment: string(obj, "comment", what)?.map(str::to_owned),
        timeout,
        dynamic: boolean(obj, "dynamic", what)?,
        disabled: boolean(obj, "disabled", what)?,
    })
}

/// The rows of an address-list print (a JSON array of objects).
pub fn rows(family: Family, body: &[u8], what: &str) -> Result<Vec<Row>, Error> {
    match json(body, what)? {
        Value::Array(items) => items.iter().map(|v| row(family, v, what)).collect(),
        other => Err(Error::new(
            Code::WrongShape,
            format!("{what}: {} where an array belongs", kind(&other)),
        )),
    }
}

/// The rows of a print filtered by `list` and `comment` whose `.proplist` left those two fields out
/// (the filter already says what they are, and every field a router prints costs time): they are
/// filled in from the filter; a row that does show them is read as it is.
pub fn tagged_rows(
    family: Family,
    body: &[u8],
    what: &str,
    list: &str,
    tag: &str,
) -> Result<Vec<Row>, Error> {
    match json(body, what)? {
        Value::Array(items) => items
            .into_iter()
            .map(|mut v| {
                if let Value::Object(obj) = &mut v {
                    obj.entry("list")
                        .or_insert_with(|| Value::String(list.to_owned()));
                    obj.entry("comment")
                        .or_insert_with(|| Value::String(tag.to_owned()));
                }
                row(family, &v, what)
            })
            .collect(),
        other => Err(Error::new(
            Code::WrongShape,
            format!("{what}: {} where an array belongs", kind(&other)),
        )),
    }
}

/// The one row a PUT or PATCH answers with (a bare object).
pub fn single_row(family: Family, body: &[u8], what: &str) -> Result<Row, Error> {
    match json(body, what)? {
        v @ Value::Object(_) => row(family, &v, what),
        other => Err(Error::new(
            Code::WrongShape,
            format!("{what}: {} where an object belongs", kind(&other)),
        )),
    }
}

/// The `ret` of a command's reply: `{"ret":"<text>"}`, or `[]` when the command printed nothing.
pub fn ret(body: &[u8], what: &str) -> Result<String, Error> {
    match json(body, what)? {
        Value::Object(obj) => Ok(required(&obj, "ret", what)?.to_owned()),
        Value::Array(items) if items.is_empty() => Ok(String::new()),
        other => Err(Error::new(
            Code::WrongShape,
            format!("{what}: {} where `{{\"ret\":...}}` belongs", kind(&other)),
        )),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// What the agent needs from `/system/resource`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Resource {
    /// The version text, e.g. `7.23.7 (long-term)`.
    pub version: String,
    /// Major and minor version numbers.
    pub major_minor: (u32, u32),
    /// Time since boot; going back means the router rebooted.
    #[serde(serialize_with = "ser_duration")]
    pub uptime: Option<Duration>,
    /// `board-name`, for people.
    pub board: Option<String>,
}

fn ser_duration<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_str(&duration::format(*d)),
        None => s.serialize_none(),
    }
}

/// The `major.minor` of a RouterOS version text: `7.23.7 (long-term)`, `7.24rc1 (testing)`, `7.1beta4`.
pub fn parse_version(text: &str) -> Option<(u32, u32)> {
    let word = text.split_whitespace().next()?;
    let mut parts = word.splitn(3, '.');
    let major = parts.next()?.parse().ok()?;
    let minor_text = parts.next()?;
    let digits: String = minor_text
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let rest = &minor_text[digits.len()..];
    if !(rest.is_empty()
        || rest.starts_with("rc")
        || rest.starts_with("beta")
        || rest.starts_with("alpha"))
    {
        return None;
    }
    Some((major, digits.parse().ok()?))
}

/// `/system/resource`: a bare object on 7.19+, a one-element array on early 7.x.
pub fn resource(body: &[u8], what: &str) -> Result<Resource, Error> {
    let value = json(body, what)?;
    let obj = match &value {
        Value::Object(o) => o,
        Value::Array(items) if items.len() == 1 && items[0].is_object() => {
            items[0].as_object().expect("checked")
        }
        other => {
            return Err(Error::new(
                Code::WrongShape,
                format!("{what}: {} where an object belongs", kind(other)),
            ));
        }
    };
    let version = required(obj, "version", what)?;
    let major_minor = parse_version(version).ok_or_else(|| {
        Error::new(
            Code::InvalidValue,
            format!("{what}: `version` is `{version}`, not a RouterOS version"),
        )
    })?;
    let uptime = match string(obj, "uptime", what)? {
        None => None,
        Some(t) => Some(duration::parse(t).ok_or_else(|| {
            Error::new(
                Code::InvalidValue,
                format!("{what}: `uptime` is `{t}`, not a duration"),
            )
        })?),
    };
    Ok(Resource {
        version: version.to_owned(),
        major_minor,
        uptime,
        board: string(obj, "board-name", what)?.map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!("{}/../fixtures/routeros/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn code_of<T: std::fmt::Debug>(r: Result<T, Error>) -> Code {
        r.expect_err("should fail").code
    }

    #[test]
    fn reads_recorded_prints() {
        let rows = rows(Family::V4, &fixture("address-list-print.json"), "print").unwrap();
        assert!(!rows.is_empty());
        let timed = rows
            .iter()
            .find(|r| r.timeout.is_some())
            .expect("a timed row");
        assert!(timed.dynamic);
        let v6 = super::rows(
            Family::V6,
            &fixture("ipv6-address-list-print.json"),
            "print",
        )
        .unwrap();
        assert!(v6.iter().all(|r| r.family == Family::V6));
        let old = single_row(
            Family::V4,
            &fixture("address-list-row-pre-7.10.json"),
            "row",
        )
        .unwrap();
        assert_eq!(old.timeout, Some(Duration::ZERO));
        let put = single_row(Family::V4, &fixture("address-list-put-201.json"), "put").unwrap();
        assert_eq!(put.timeout, Some(Duration::from_secs(86_400)));
        assert_eq!(put.comment.as_deref(), Some("reported by IDS"));
    }

    #[test]
    fn tagged_rows_take_list_and_comment_from_the_filter() {
        let body = br#"[{".id":"*1","address":"192.0.2.1","disabled":"false","dynamic":"true","timeout":"59m"},
            {".id":"*2","address":"192.0.2.2","comment":"other","disabled":"false","dynamic":"false","list":"x"}]"#;
        let rows = tagged_rows(Family::V4, body, "GET", "access", "tag").unwrap();
        assert_eq!(rows[0].list, "access");
        assert_eq!(rows[0].comment.as_deref(), Some("tag"));
        assert!(rows[0].is_owned("tag"));
        // Fields the router did show are read as shown.
        assert_eq!(rows[1].list, "x");
        assert_eq!(rows[1].comment.as_deref(), Some("other"));
        assert_eq!(
            tagged_rows(Family::V4, b"{}", "GET", "a", "t")
                .unwrap_err()
                .code,
            Code::WrongShape
        );
        assert_eq!(
            tagged_rows(Family::V4, br#"[{"address":"192.0.2.1"}]"#, "GET", "a", "t")
                .unwrap_err()
                .code,
            Code::MissingField
        );
    }

    #[test]
    fn row_errors() {
        let ok = r#"{".id":"*1A","address":"192.0.2.1","disabled":"false","dynamic":"true","list":"x","timeout":"4m59s"}"#;
        let r = single_row(Family::V4, ok.as_bytes(), "t").unwrap();
        assert_eq!(
            (r.id.as_str(), r.timeout),
            ("*1A", Some(Duration::from_secs(299)))
        );
        for (body, code) in [
            ("", Code::NotJson),
            ("[", Code::NotJson),
            ("<html></html>", Code::NotJson),
            ("{}", Code::WrongShape),
            ("[1]", Code::WrongShape),
            (
                r#"[{"address":"192.0.2.1","list":"x"}]"#,
                Code::MissingField,
            ),
            (r#"[{".id":"*1","list":"x"}]"#, Code::MissingField),
            (
                r#"[{".id":"*1","address":"192.0.2.1"}]"#,
                Code::MissingField,
            ),
            (
                r#"[{".id":"1","address":"192.0.2.1","list":"x"}]"#,
                Code::InvalidValue,
            ),
            (
                r#"[{".id":"*1a","address":"192.0.2.1","list":"x"}]"#,
                Code::InvalidValue,
            ),
            (
                r#"[{".id":"*1","address":"192.0.2.1","list":"x","timeout":"soon"}]"#,
                Code::InvalidValue,
            ),
            (
                r#"[{".id":"*1","address":"192.0.2.1","list":"x","dynamic":true}]"#,
                Code::InvalidValue,
            ),
            (
                r#"[{".id":"*1","address":"192.0.2.1","list":"x","dynamic":"yes"}]"#,
                Code::InvalidValue,
            ),
            (
                r#"[{".id":"*1","address":1,"list":"x"}]"#,
                Code::InvalidValue,
            ),
        ] {
            assert_eq!(
                code_of(rows(Family::V4, body.as_bytes(), "t")),
                code,
                "{body}"
            );
        }
        assert_eq!(
            code_of(single_row(Family::V4, b"[]", "t")),
            Code::WrongShape
        );
        assert_eq!(code_of(rows(Family::V4, &[0xff, 0xfe], "t")), Code::NotJson);
    }

    #[test]
    fn versions() {
        for (text, v) in [
            ("7.23.7 (long-term)", Some((7, 23))),
            ("7.19.4 (stable)", Some((7, 19))),
            ("7.24rc1 (testing)", Some((7, 24))),
            ("7.1beta4", Some((7, 1))),
            ("7.1", Some((7, 1))),
            ("6.49.10 (long-term)", Some((6, 49))),
            ("seven", None),
            ("7", None),
            ("7.x", None),
            ("", None),
        ] {
            assert_eq!(parse_version(text), v, "{text}");
        }
    }

    #[test]
    fn resources() {
        let r = resource(&fixture("system-resource.json"), "r").unwrap();
        assert_eq!(r.major_minor, (7, 19));
        assert!(r.uptime.is_some());
        let old = resource(&fixture("system-resource-7.1beta4-array.json"), "r").unwrap();
        assert_eq!(old.major_minor, (7, 1));
        assert_eq!(
            code_of(resource(br#"{"uptime":"1d"}"#, "r")),
            Code::MissingField
        );
        assert_eq!(
            code_of(resource(br#"{"version":"x"}"#, "r")),
            Code::InvalidValue
        );
        assert_eq!(
            code_of(resource(br#"{"version":"7.20","uptime":"later"}"#, "r")),
            Code::InvalidValue
        );
        assert_eq!(code_of(resource(br#"[]"#, "r")), Code::WrongShape);
        assert_eq!(code_of(resource(b"<html>", "r")), Code::NotJson);
    }
}
