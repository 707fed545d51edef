//! Arguments of a write, as the router reads them from a JSON body.
//!
//! A real router takes strings, numbers and booleans for any argument and stores their text
//! (ROUTEROS-REST.md section 3): `true`, `"yes"` and `"true"` all mean yes. Objects, arrays and
//! `null` are not argument values and are refused as `invalid value for argument <key>`.

use super::failure::Failure;
use super::query::Query;

/// The arguments of one command, in the order the client sent them, and the filter that selects
/// the rows a `print` shows (`.query` or a GET's query string over REST).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Args {
    items: Vec<(String, String)>,
    query: Query,
}

impl Args {
    /// Reads a JSON object's members as arguments.
    pub fn from_json(map: &serde_json::Map<String, serde_json::Value>) -> Result<Self, Failure> {
        let mut items = Vec::with_capacity(map.len());
        for (key, value) in map {
            items.push((key.clone(), Self::text(key, value)?));
        }
        Ok(Self {
            items,
            query: Query::default(),
        })
    }

    /// The text the router stores for a JSON value.
    pub fn text(key: &str, value: &serde_json::Value) -> Result<String, Failure> {
        use serde_json::Value;
        match value {
            Value::String(s) => Ok(s.clone()),
            // The router's JSON parser refuses numbers with an exponent (`Failed to parse json`,
            // MikroTik manual, REST API troubleshooting). serde_json, without arbitrary precision,
            // cannot tell `1e3` from `1000.0`, so every number that is not an integer is refused;
            // whether a real router takes plain fractions is unknown.
            Value::Number(n) if n.is_f64() => Err(Failure::bad_request("Failed to parse json")),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            Value::Null | Value::Array(_) | Value::Object(_) => Err(Failure::invalid_value(key)),
        }
    }

    /// Arguments from `(key, value)` pairs, for seeds and tests.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            items: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            query: Query::default(),
        }
    }

    /// The same arguments with a row filter.
    pub fn with_query(mut self, query: Query) -> Self {
        self.query = query;
        self
    }

    /// The row filter (empty: every row).
    pub fn query(&self) -> &Query {
        &self.query
    }

    /// Adds an argument.
    pub fn push(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.items.push((key.into(), value.into()));
    }

    /// Every `(key, value)` pair in the order given.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.items.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The keys, in the order given.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.items.iter().map(|(k, _)| k.as_str())
    }

    /// Refuses the first argument whose key is not in `allowed`.
    pub fn only(&self, allowed: &[&str]) -> Result<(), Failure> {
        match self
            .items
            .iter()
            .find(|(k, _)| !allowed.contains(&k.as_str()))
        {
            Some((k, _)) => Err(Failure::unknown_parameter(k)),
            None => Ok(()),
        }
    }

    /// The value of `key`, the last one when sent twice.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.items
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A yes/no argument: `true`/`false`/`yes`/`no`.
    pub fn get_bool(&self, key: &str) -> Result<Option<bool>, Failure> {
        self.get(key)
            .map(|v| parse_bool(v).ok_or_else(|| Failure::invalid_value(key)))
            .transpose()
    }

    /// Removes and returns `key` (used for `.id` and `numbers`, which are not properties).
    pub fn take(&mut self, key: &str) -> Option<String> {
        let pos = self.items.iter().rposition(|(k, _)| k == key)?;
        let value = self.items.remove(pos).1;
        self.items.retain(|(k, _)| k != key);
        Some(value)
    }

    /// Whether no arguments were given.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// RouterOS's yes/no words.
pub fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "true" | "yes" => Some(true),
        "false" | "no" => Some(false),
        _ => None,
    }
}

/// An `.id` such as `*1A`; `None` for anything else.
pub fn parse_id(text: &str) -> Option<u32> {
    let hex = text.strip_prefix('*')?;
    if hex.is_empty() || hex.len() > 8 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(hex, 16).ok()
}

/// The `.id` text of a numeric id: `*` and upper-case hex.
pub fn format_id(id: u32) -> String {
    format!("*{id:X}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_become_text() {
        let v = json!({"a": "x", "b": 5, "c": true, "d": "no"});
        let args = Args::from_json(v.as_object().unwrap()).unwrap();
        assert_eq!(args.get("a"), Some("x"));
        assert_eq!(args.get("b"), Some("5"));
        assert_eq!(args.get_bool("c").unwrap(), Some(true));
        assert_eq!(args.get_bool("d").unwrap(), Some(false));
        assert_eq!(args.get_bool("a").unwrap_err(), Failure::invalid_value("a"));
        assert_eq!(
            args.only(&["a", "b", "c"]).unwrap_err(),
            Failure::unknown_parameter("d")
        );
        let exponent: serde_json::Value = serde_json::from_str(r#"{"k": 1e3}"#).unwrap();
        assert_eq!(
            Args::from_json(exponent.as_object().unwrap()).unwrap_err(),
            Failure::bad_request("Failed to parse json")
        );
        let big = json!({"k": u64::MAX});
        assert_eq!(
            Args::from_json(big.as_object().unwrap()).unwrap().get("k"),
            Some("18446744073709551615")
        );
        for bad in [json!({"k": null}), json!({"k": [1]}), json!({"k": {}})] {
            assert_eq!(
                Args::from_json(bad.as_object().unwrap()).unwrap_err(),
                Failure::invalid_value("k")
            );
        }
    }

    #[test]
    fn ids() {
        assert_eq!(parse_id("*1A"), Some(0x1a));
        assert_eq!(parse_id("*1a"), Some(0x1a));
        assert_eq!(parse_id("1A"), None);
        assert_eq!(parse_id("*"), None);
        assert_eq!(parse_id("*G"), None);
        assert_eq!(parse_id("*123456789"), None);
        assert_eq!(format_id(0x3c), "*3C");
    }
}
