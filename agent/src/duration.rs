//! RouterOS durations: `1d`, `4m59s`, `1w2d3h4m5s`, `1s500ms`.
//!
//! RouterOS prints a duration as weeks, days, hours, minutes, seconds and milliseconds, leaving out
//! the parts that are zero; zero itself is `0s`. The agent sends entry timeouts in this form and reads
//! the remaining time of entries back in it. Older releases and people also write the clock form
//! `hh:mm:ss` and a bare number of seconds, so those are read too.

use std::time::Duration;

/// Milliseconds in each unit, largest first, with its suffix.
const UNITS: [(&str, u64); 6] = [
    ("w", 604_800_000),
    ("d", 86_400_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1000),
    ("ms", 1),
];

/// The longest entry timeout RouterOS accepts, `35w3d13h13m56s` (2^31-1 hundredths of a second,
/// whole seconds): the schema's range `0s..35w3d13h13m56s` of `/ip/firewall/address-list add
/// timeout`, and the router's refusal `value of timeout is out of range (00:00:00 ..
/// 35w3d13:13:56)` past it (`fixtures/routeros/durations.json`).
pub const MAX_TIMEOUT: Duration = Duration::from_secs(21_474_836);

/// Formats a duration the way RouterOS prints one (to the millisecond).
pub fn format(d: Duration) -> String {
    let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    if ms == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    let mut rest = ms;
    for (suffix, unit) in UNITS {
        let n = rest / unit;
        if n > 0 {
            out.push_str(&n.to_string());
            out.push_str(suffix);
            rest -= n * unit;
        }
    }
    out
}

/// Parses a RouterOS duration; `None` when the text is not one.
pub fn parse(text: &str) -> Option<Duration> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    if t.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(t.parse().ok()?));
    }
    if t.contains(':') {
        return parse_clock(t);
    }
    let bytes = t.as_bytes();
    let (mut i, mut total, mut last_unit) = (0, 0u64, u64::MAX);
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if start == i {
            return None;
        }
        let n: u64 = t[start..i].parse().ok()?;
        let suffix_start = i;
        while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
            i += 1;
        }
        let unit = UNITS.iter().find(|(s, _)| *s == &t[suffix_start..i])?.1;
        // Units come largest first, each at most once, as RouterOS prints them.
        if unit >= last_unit {
            return None;
        }
        last_unit = unit;
        total = total.checked_add(n.checked_mul(unit)?)?;
    }
    Some(Duration::from_millis(total))
}

/// `hh:mm:ss` with an optional `.fff`, and an optional leading `<n>d` on some releases.
fn parse_clock(t: &str) -> Option<Duration> {
    let (days, clock) = match t.split_once('d') {
        Some((d, rest)) => (d.parse::<u64>().ok()?, rest),
        None => (0, t),
    };
    let parts: Vec<&str> = clock.split(':').collect();
    let [h, m, s] = parts.as_slice() else {
        return None;
    };
    let (s, frac) = s.split_once('.').unwrap_or((s, ""));
    let field = |x: &str| -> Option<u64> {
        (!x.is_empty() && x.bytes().all(|b| b.is_ascii_digit())).then(|| x.parse().ok())?
    };
    let (h, m, s) = (field(h)?, field(m)?, field(s)?);
    if m > 59 || s > 59 {
        return None;
    }
    let ms = if frac.is_empty() {
        0
    } else {
        let digits: String = frac.chars().chain("000".chars()).take(3).collect();
        field(&digits)?
    };
    Some(Duration::from_millis(
        (((days * 24 + h) * 60 + m) * 60 + s) * 1000 + ms,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, ms: Option<u64>) {
        assert_eq!(parse(text), ms.map(Duration::from_millis), "{text:?}");
    }

    #[test]
    fn parses_router_forms() {
        check("1d", Some(86_400_000));
        check("4m59s", Some(299_000));
        check(
            "1w2d3h4m5s",
            Some(((((7 + 2) * 24 + 3) * 60 + 4) * 60 + 5) * 1000),
        );
        check("1s500ms", Some(1500));
        check("500ms", Some(500));
        check("0s", Some(0));
        check("23h59m55s", Some(86_395_000));
        check("300", Some(300_000));
        check("01:00:00", Some(3_600_000));
        check("00:04:59", Some(299_000));
        check("00:00:01.5", Some(1500));
        check("1d02:00:00", Some(26 * 3_600_000));
    }

    #[test]
    fn refuses_other_text() {
        for bad in [
            "", "1x", "s", "1s1m", "1m1m", "1h 2m", "-1s", "1:2", "00:60:00", "1.5s", "h1",
        ] {
            check(bad, None);
        }
    }

    #[test]
    fn formats_like_the_router() {
        for (ms, text) in [
            (0, "0s"),
            (1000, "1s"),
            (86_400_000, "1d"),
            (299_000, "4m59s"),
            (1500, "1s500ms"),
            (
                ((((7 + 2) * 24 + 3) * 60 + 4) * 60 + 5) * 1000,
                "1w2d3h4m5s",
            ),
            (3 * 604_800_000, "3w"),
        ] {
            assert_eq!(format(Duration::from_millis(ms)), text);
            assert_eq!(parse(text), Some(Duration::from_millis(ms)));
        }
    }

    /// The table of real-router durations in `fixtures/routeros/durations.json`, shared with the
    /// simulator's own parser: every `printed` form parses and is formatted back the same, every
    /// `accepted` form parses, every `rejected` text is refused.
    #[test]
    fn the_real_router_table() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fixtures/routeros/durations.json"
        );
        let text = std::fs::read_to_string(path).expect("the durations fixture");
        let table: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        let cases = |key: &str| -> Vec<(String, u64)> {
            table[key]
                .as_array()
                .unwrap_or_else(|| panic!("`{key}` is a list"))
                .iter()
                .map(|c| {
                    let text = c["text"].as_str().expect("text").to_owned();
                    (text, c["millis"].as_u64().expect("millis"))
                })
                .collect()
        };
        let printed = cases("printed");
        let accepted = cases("accepted");
        assert!(!printed.is_empty() && !accepted.is_empty());
        for (text, ms) in &printed {
            check(text, Some(*ms));
            assert_eq!(format(Duration::from_millis(*ms)), *text, "{ms} ms");
        }
        for (text, ms) in &accepted {
            check(text, Some(*ms));
        }
        let rejected = table["rejected"].as_array().expect("`rejected` is a list");
        assert!(!rejected.is_empty());
        for bad in rejected {
            check(bad.as_str().expect("a string"), None);
        }
    }
}
