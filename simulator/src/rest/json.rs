//! Writing replies: rows of string values with sorted keys, straight into the response buffer.
//!
//! Every value a real router sends is a JSON string and keys come out sorted with `.id` first
//! (ROUTEROS-REST.md section 3). The model hands out [`Row`]s, whose fields are sorted by
//! construction, and address-list entries as a compact [`Snapshot`]; both are written here without
//! an intermediate `serde_json::Value`. A plain print of a large address list is the simulator's
//! hot path, so its entries are written field by field ([`write_entries`]) rather than through a
//! `Row`; tests hold both ways, and this writer's escaping, equal to what `serde_json` writes.

use crate::model::address_list::{EntryRef, Snapshot};
use crate::model::row::{Proplist, Row};
use crate::model::{duration, timestamp};

/// Writes a row as a JSON object, keeping only the keys in `proplist` when one is given.
pub fn write_row(out: &mut Vec<u8>, row: &Row<'_>, proplist: Option<&Proplist>) {
    out.push(b'{');
    let mut first = true;
    for (key, value) in row.fields() {
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
        write_row(out, &row, proplist);
    }
    out.push(b']');
}

/// Writes entries `from..to` of a snapshot as comma-separated JSON objects (`first`: no comma
/// before the first one), exactly as [`write_row`] writes [`EntryRef::row`].
pub fn write_entries(out: &mut Vec<u8>, snap: &Snapshot, from: usize, to: usize, mut first: bool) {
    let iso = snap.iso_time();
    for e in snap.entries(from, to) {
        if !first {
            out.push(b',');
        }
        first = false;
        write_entry(out, &e, iso);
    }
}

fn write_entry(out: &mut Vec<u8>, e: &EntryRef<'_>, iso: bool) {
    out.extend_from_slice(b"{\".id\":\"*");
    write_hex(out, e.id);
    out.extend_from_slice(b"\",\"address\":");
    write_str(out, e.address);
    if let Some(c) = e.comment {
        out.extend_from_slice(b",\"comment\":");
        write_str(out, c);
    }
    out.extend_from_slice(b",\"creation-time\":\"");
    timestamp::write(out, e.created_s, iso);
    out.extend_from_slice(if e.disabled {
        b"\",\"disabled\":\"true\""
    } else {
        b"\",\"disabled\":\"false\""
    });
    out.extend_from_slice(if e.dynamic {
        b",\"dynamic\":\"true\""
    } else {
        b",\"dynamic\":\"false\""
    });
    out.extend_from_slice(b",\"list\":");
    write_str(out, e.list);
    if let Some(ms) = e.timeout_ms {
        out.extend_from_slice(b",\"timeout\":\"");
        duration::write_ms(out, ms);
        out.push(b'"');
    }
    out.push(b'}');
}

/// Appends `id` as upper-case hex without leading zeros.
fn write_hex(out: &mut Vec<u8>, id: u32) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let digits = (32 - id.leading_zeros()).div_ceil(4).max(1);
    for i in (0..digits).rev() {
        out.push(HEX[((id >> (i * 4)) & 0xF) as usize]);
    }
}

/// Writes `s` as a JSON string literal, escaping as `serde_json` does (a test holds them equal).
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
            0x08 => b"\\b",
            0x0c => b"\\f",
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
    use crate::model::address::Family;
    use crate::model::address_list::AddressList;
    use crate::model::args::Args;

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
        write_row(&mut out, &row(), Some(&Proplist::new(["address"], true)));
        assert_eq!(out, br#"{".id":"*1","address":"10.0.0.1"}"#);
        out.clear();
        write_row(
            &mut out,
            &row(),
            Some(&Proplist::new(["address,list"], false)),
        );
        assert_eq!(out, br#"{"address":"10.0.0.1","list":"a\"b\u0001"}"#);
        out.clear();
        write_rows(&mut out, Vec::<Row>::new(), None);
        assert_eq!(out, b"[]");
    }

    /// One check per string: this writer's literal equals `serde_json`'s, byte for byte.
    fn check_escaping(s: &str) {
        let mut ours = Vec::new();
        write_str(&mut ours, s);
        let theirs = serde_json::to_vec(s).unwrap();
        assert_eq!(
            String::from_utf8(ours).unwrap(),
            String::from_utf8(theirs).unwrap(),
            "{s:?}"
        );
    }

    #[test]
    fn escaping_equals_serde_json() {
        for s in [
            "",
            "plain",
            "10.0.0.1",
            "quote \" inside",
            "back\\slash",
            "\\\"",
            "new\nline\r\ttab",
            "\u{8}\u{c}",
            "\u{0}\u{1}\u{1f}\u{7f}",
            "ünïcödé ✓ 日本",
            "emoji 😀",
            "line sep \u{2028} para sep \u{2029}",
            "</script>",
            "ends with \\",
        ] {
            check_escaping(s);
        }
        // Every character below 0x80 on its own, and inside text.
        for b in 0u8..0x80 {
            let c = char::from(b);
            check_escaping(&c.to_string());
            check_escaping(&format!("a{c}b"));
        }
    }

    #[test]
    fn rows_equal_serde_json() {
        let mut r = Row::with_capacity(3);
        r.push(".id", "*A1");
        r.push("comment", "tab\there \u{2028} \"q\" \\ \u{1}");
        r.push("list", "ünï");
        let mut ours = Vec::new();
        write_rows(&mut ours, [r.clone()], None);
        let map: serde_json::Map<String, serde_json::Value> = r
            .fields()
            .iter()
            .map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(v.as_ref())))
            .collect();
        assert_eq!(ours, serde_json::to_vec(&[map]).unwrap());
    }

    fn args(pairs: &[(&str, &str)]) -> Args {
        Args::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn direct_writer_equals_rendered_rows() {
        let mut t = AddressList::new(Family::V4);
        t.add(
            &args(&[("list", "l"), ("address", "10.0.0.1"), ("timeout", "1m")]),
            0,
            1_700_000_000,
        )
        .unwrap();
        t.add(
            &args(&[
                ("list", "k\"q"),
                ("address", "10.0.0.0/8"),
                ("comment", "a\\b"),
                ("disabled", "yes"),
            ]),
            0,
            5,
        )
        .unwrap();
        t.add(
            &args(&[
                ("list", "l"),
                ("address", "example.com"),
                ("timeout", "1s500ms"),
            ]),
            0,
            5,
        )
        .unwrap();
        // Dynamic without a countdown: shown as dynamic by both writers.
        t.add(
            &args(&[("list", "d"), ("address", "10.9.9.9"), ("dynamic", "yes")]),
            0,
            5,
        )
        .unwrap();
        for _ in 0..300 {
            t.add(
                &args(&[
                    ("list", "m"),
                    (
                        "address",
                        &format!("10.1.{}.{}", t.next_id() / 256, t.next_id() % 256),
                    ),
                ]),
                0,
                5,
            )
            .unwrap();
        }
        for (now, iso) in [(0, true), (700, false), (30_000, true)] {
            let snap = t.snapshot(now, iso, None);
            let mut direct = vec![b'['];
            write_entries(&mut direct, &snap, 0, snap.len(), true);
            direct.push(b']');
            let mut rendered = Vec::new();
            write_rows(&mut rendered, t.rows(now, iso), None);
            assert_eq!(
                String::from_utf8(direct).unwrap(),
                String::from_utf8(rendered.clone()).unwrap()
            );
            let mut via_snapshot = Vec::new();
            write_rows(&mut via_snapshot, snap.rows(), None);
            assert_eq!(via_snapshot, rendered);
        }
        let empty = AddressList::new(Family::V4).snapshot(0, true, None);
        let mut out = Vec::new();
        write_entries(&mut out, &empty, 0, empty.len(), true);
        assert!(out.is_empty());
        let mut hex = Vec::new();
        for id in [0, 1, 0xF, 0x10, 0x3C, 0xA1E6F, u32::MAX] {
            write_hex(&mut hex, id);
            hex.push(b' ');
        }
        assert_eq!(hex, b"0 1 F 10 3C A1E6F FFFFFFFF ");
    }
}
