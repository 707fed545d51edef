//! The value built-ins: `:pick`, `:find`, `:len`, `:typeof` and the conversions.
//!
//! Semantics follow the manual's "Global commands" table and the way scripts in the wild rely on
//! them:
//! - strings are counted in bytes (`:len`, `:pick`, `:find` positions);
//! - `:pick s b e` takes bytes `b` up to (not including) `e`, `:pick s b` the one byte at `b`;
//!   positions out of range are clamped (an empty result, never an error);
//! - `:find s k` returns the first position of `k` or `nil`; with a third argument the search
//!   starts *after* that position, which is what makes the common loop
//!   `:while ([:typeof [:find $m " from " $at]] = "num") do={:set at [:find $m " from " $at]}`
//!   terminate (MikroTik manual, "Log" page example of collecting failed logins);
//! - conversions return `nil` when the value does not convert.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::ast::Func;
use super::value::{Array, Value};

/// Applies a value built-in to its evaluated arguments (`None` where one was not given).
/// `:jobname` is answered by the caller, which has the host.
pub fn call(f: Func, args: &[Option<Value>]) -> Value {
    let arg = |i: usize| args.get(i).cloned().flatten();
    let first = arg(0).unwrap_or_default();
    match f {
        Func::Pick => pick(&first, arg(1), arg(2)),
        Func::Find => find(&first, &arg(1).unwrap_or_default(), arg(2)),
        Func::Len => Value::Num(len(&first)),
        Func::TypeOf => Value::str(first.type_name()),
        Func::ToStr => Value::Str(first.to_string()),
        Func::ToNum => first.to_num().map_or(Value::Nil, Value::Num),
        Func::ToTime => first.to_time().map_or(Value::Nil, Value::Time),
        Func::ToBool => first.to_bool().map_or(Value::Nil, Value::Bool),
        Func::ToIp => match first {
            Value::Ip(ip) => Value::Ip(ip),
            Value::Str(s) => s.trim().parse::<Ipv4Addr>().map_or(Value::Nil, Value::Ip),
            Value::Num(n) => u32::try_from(n).map_or(Value::Nil, |n| Value::Ip(Ipv4Addr::from(n))),
            _ => Value::Nil,
        },
        Func::ToIp6 => match first {
            Value::Ip6(ip) => Value::Ip6(ip),
            Value::Str(s) => s.trim().parse::<Ipv6Addr>().map_or(Value::Nil, Value::Ip6),
            _ => Value::Nil,
        },
        Func::ToId => match first {
            Value::Id(id) => Value::Id(id),
            Value::Str(s) => match Value::from_word(s.trim()) {
                v @ Value::Id(_) => v,
                _ => Value::Nil,
            },
            _ => Value::Nil,
        },
        Func::ToArray => to_array(first, arg(1)),
        Func::Nothing | Func::JobName => Value::Nothing,
    }
}

/// `:len`: bytes of a string, items of an array, 0 for nothing.
pub fn len(v: &Value) -> i64 {
    let n = match v {
        Value::Nothing | Value::Nil => 0,
        Value::Array(a) => a.len(),
        Value::Str(s) => s.len(),
        other => other.to_string().len(),
    };
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A position argument as an index, clamped at 0.
fn index(v: Option<Value>) -> Option<usize> {
    let n = v?.to_num()?;
    Some(usize::try_from(n.max(0)).unwrap_or(usize::MAX))
}

fn pick(v: &Value, begin: Option<Value>, end: Option<Value>) -> Value {
    let begin = index(begin).unwrap_or(0);
    let end = index(end);
    match v {
        Value::Array(a) => match end {
            None => a.values().nth(begin).cloned().unwrap_or_default(),
            Some(end) => Value::Array(a.slice(begin, end)),
        },
        Value::Nothing | Value::Nil => Value::Nothing,
        other => {
            let s = match other {
                Value::Str(s) => s.clone(),
                x => x.to_string(),
            };
            let bytes = s.as_bytes();
            let end = end.unwrap_or(begin.saturating_add(1)).min(bytes.len());
            let begin = begin.min(end);
            Value::Str(String::from_utf8_lossy(&bytes[begin..end]).into_owned())
        }
    }
}

fn find(haystack: &Value, key: &Value, from: Option<Value>) -> Value {
    // With a start position the search begins after it.
    let start = match from.and_then(|f| f.to_num()) {
        None => 0,
        Some(n) => usize::try_from(n.saturating_add(1).max(0)).unwrap_or(usize::MAX),
    };
    match haystack {
        Value::Array(a) => {
            let wanted = key.to_string();
            for (pos, (k, v)) in a.iter().enumerate() {
                if pos >= start && (v == key || v.to_string() == wanted) {
                    return k.to_value();
                }
            }
            Value::Nil
        }
        Value::Nothing | Value::Nil => Value::Nil,
        other => {
            let h = match other {
                Value::Str(s) => s.clone(),
                x => x.to_string(),
            };
            let k = key.to_string();
            if k.is_empty() || start > h.len() {
                return Value::Nil;
            }
            match memfind(&h.as_bytes()[start..], k.as_bytes()) {
                Some(p) => Value::Num(i64::try_from(start + p).unwrap_or(i64::MAX)),
                None => Value::Nil,
            }
        }
    }
}

/// The first position of `needle` in `hay`, bytewise.
fn memfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.len() > hay.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

fn to_array(v: Value, delimiter: Option<Value>) -> Value {
    match v {
        Value::Array(a) => Value::Array(a),
        Value::Nothing | Value::Nil => Value::Array(Array::new()),
        Value::Str(s) => {
            if s.is_empty() {
                return Value::Array(Array::new());
            }
            let d = delimiter.map(|d| d.to_string()).filter(|d| !d.is_empty());
            let d = d.as_deref().unwrap_or(",");
            Value::Array(Array::from_values(
                s.split(d).map(Value::from_word).collect(),
            ))
        }
        other => Value::Array(Array::from_values(vec![other])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Option<Value> {
        Some(Value::str(x))
    }

    fn n(x: i64) -> Option<Value> {
        Some(Value::Num(x))
    }

    #[test]
    fn pick_and_find_on_strings() {
        assert_eq!(
            call(Func::Pick, &[s("abcde"), n(1), n(3)]),
            Value::str("bc")
        );
        assert_eq!(call(Func::Pick, &[s("abcde"), n(1)]), Value::str("b"));
        assert_eq!(call(Func::Pick, &[s("abc"), n(2), n(99)]), Value::str("c"));
        assert_eq!(call(Func::Pick, &[s("abc"), n(5), n(9)]), Value::str(""));
        assert_eq!(call(Func::Find, &[s("abcabc"), s("b")]), Value::Num(1));
        assert_eq!(
            call(Func::Find, &[s("abcabc"), s("b"), n(1)]),
            Value::Num(4)
        );
        assert_eq!(
            call(Func::Find, &[s("abcabc"), s("a"), n(-1)]),
            Value::Num(0)
        );
        assert_eq!(call(Func::Find, &[s("abc"), s("z")]), Value::Nil);
    }

    #[test]
    fn conversions_give_nil_when_they_fail() {
        assert_eq!(call(Func::ToNum, &[s("42")]), Value::Num(42));
        assert_eq!(call(Func::ToNum, &[s("4x")]), Value::Nil);
        assert_eq!(
            call(Func::ToIp, &[s("10.0.0.1")]),
            Value::Ip(Ipv4Addr::new(10, 0, 0, 1))
        );
        assert_eq!(call(Func::ToIp, &[s("host")]), Value::Nil);
        assert_eq!(call(Func::ToTime, &[s("90")]), Value::Time(90_000_000_000));
        assert_eq!(call(Func::ToBool, &[s("yes")]), Value::Bool(true));
        assert_eq!(
            call(Func::ToStr, &[Some(Value::Time(3_600_000_000_000))]),
            Value::str("01:00:00")
        );
        let arr = call(Func::ToArray, &[s("1,b,10.0.0.1")]);
        assert_eq!(arr.to_string(), "1;b;10.0.0.1");
        assert_eq!(call(Func::Len, &[Some(arr)]), Value::Num(3));
        assert_eq!(call(Func::TypeOf, &[None]), Value::str("nothing"));
    }
}
