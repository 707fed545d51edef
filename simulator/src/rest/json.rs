//! Writing replies: rows of string values with sorted keys, straight into the response buffer.
//!
//! Every value a real router sends is a JSON string and keys come out sorted with `.id` first
//! (ROUTEROS-REST.md section 3). Rows are rendered as [`Row`]s, whose fields are kept sorted by
//! construction, and written here without an intermediate `serde_json::Value`: a print of a large
//! address list is the simulator's hot path.

use std::borrow::Cow;

/// One field of a row: a key and its string value.
pub type Field<'a> = (&'static str, Cow<'a, str>);

/// A row as the router shows it: fields sorted by key.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Row<'a> {
    fields: Vec<Field<'a>>,
}

impl<'a> Row<'a> {
    /// An empty row with room for `n` fields.
    pub fn with_capacity(n: usize) -> Self {
        Self {
            fields: Vec::with_capacity(n),
        }
    }

    /// Adds a field. Callers add fields in sorted key order; debug builds check it.
    pub fn push(&mut self, key: &'static str, value: impl Into<Cow<'a, str>>) {
        debug_assert!(
            self.fields.last().is_none_or(|(k, _)| *k < key),
            "row keys out of order at {key}"
        );
        self.fields.push((key, value.into()));
    }

    /// Adds a field only when it has a value.
    pub fn push_opt(&mut self, key: &'static str, value: Option<impl Into<Cow<'a, str>>>) {
        if let Some(v) = value {
            self.push(key, v);
        }
    }

    /// The value of `key`, if the row has it.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_ref())
    }

    /// The fields in key order.
    pub fn fields(&self) -> &[Field<'a>] {
        &self.fields
    }

    /// Writes the row as a JSON object, keeping only the keys in `proplist` when one is given.
    pub fn write(&self, out: &mut Vec<u8>, proplist: Option<&Proplist>) {
        out.push(b'{');
        let mut first = true;
        for (key, value) in &self.fields {
            if let Some(p) = proplist
                && !p.keeps(key)
            {
                continue;
            }
            if !first {
                out.push(b',');
            }
            first = false;
            write_str(out, key);
            out.push(b':');
            write_str(out, value);
        }
        out.push(b'}');
    }
}

/// A `.proplist`: the keys a client asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proplist {
    keys: Vec<String>,
    /// Whether `.id` comes back even when not asked for (RouterOS 7.x does this; 7.1-era did not).
    keep_id: bool,
}

impl Proplist {
    /// A proplist from a comma-separated list or several words.
    pub fn new<'s>(words: impl IntoIterator<Item = &'s str>, keep_id: bool) -> Self {
        let keys = words
            .into_iter()
            .flat_map(|w| w.split(','))
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect();
        Self { keys, keep_id }
    }

    fn keeps(&self, key: &str) -> bool {
        (self.keep_id && key == ".id") || self.keys.iter().any(|k| k == key)
    }
}

/// Writes a JSON array of rows.
pub fn write_rows<'a>(
    out: &mut Vec<u8>,
    rows: impl IntoIterator<Item = Row<'a>>,
    proplist: Option<&Proplist>,
) {
    out.push(b'[');
    let mut first = true;
    for row in rows {
        if !first {
            out.push(b',');
        }
        first = false;
        row.write(out, proplist);
    }
    out.push(b']');
}

/// Writes `s` as a JSON string literal.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let bytes = s.as_bytes();
    // Almost every value (ids, addresses, times, list names) needs no escaping: copy it whole.
    if !bytes.iter().any(|&b| b == b'"' || b == b'\\' || b < 0x20) {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => {
                out.extend_from_slice(&bytes[start..i]);
                out.extend_from_slice(&[
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[(b >> 4) as usize],
                    HEX[(b & 15) as usize],
                ]);
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(escape);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> Row<'static> {
        let mut r = Row::with_capacity(3);
        r.push(".id", "*1");
        r.push("address", "10.0.0.1");
        r.push("list", "a\"b\u{1}");
        r
    }

    #[test]
    fn writes_valid_sorted_json() {
        let mut out = Vec::new();
        write_rows(&mut out, [row(), row()], None);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            r#"[{".id":"*1","address":"10.0.0.1","list":"a\"b\u0001"},{".id":"*1","address":"10.0.0.1","list":"a\"b\u0001"}]"#
        );
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed[0]["list"], "a\"b\u{1}");
    }

    #[test]
    fn proplist_keeps_id_only_when_asked() {
        let mut out = Vec::new();
        row().write(&mut out, Some(&Proplist::new(["address"], true)));
        assert_eq!(out, br#"{".id":"*1","address":"10.0.0.1"}"#);
        out.clear();
        row().write(&mut out, Some(&Proplist::new(["address,list"], false)));
        assert_eq!(out, br#"{"address":"10.0.0.1","list":"a\"b\u0001"}"#);
        out.clear();
        write_rows(&mut out, Vec::<Row>::new(), None);
        assert_eq!(out, b"[]");
    }
}
