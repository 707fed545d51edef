//! RouterOS durations: `1w2d3h4m5s`, `4m59s`, `500ms`.
//!
//! RouterOS prints a duration as weeks, days, hours, minutes, seconds and milliseconds, leaving out the
//! parts that are zero (`1d`, `4m59s`, `1s500ms`); zero itself is `0s`. It reads the same form, a bare
//! number of seconds (`300`), and the clock form `hh:mm:ss` (`01:00:00`), which RouterOS accepts in
//! its own CLI and REST. Anything else is answered `invalid time value for argument <key>`.

/// Milliseconds in each unit, largest first, with its suffix.
const UNITS: [(&str, u64); 6] = [
    ("w", 604_800_000),
    ("d", 86_400_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1000),
    ("ms", 1),
];

/// Formats milliseconds the way RouterOS prints a duration.
pub fn format_ms(ms: u64) -> String {
    if ms == 0 {
        return "0s".to_owned();
    }
    let mut out = String::with_capacity(12);
    let mut rest = ms;
    for (suffix, unit) in UNITS {
        let n = rest / unit;
        if n > 0 {
            use std::fmt::Write;
            let _ = write!(out, "{n}{suffix}");
            rest -= n * unit;
        }
    }
    out
}

/// Appends milliseconds the way RouterOS prints a duration, without allocating (the print path).
pub fn write_ms(out: &mut Vec<u8>, ms: u64) {
    if ms == 0 {
        out.extend_from_slice(b"0s");
        return;
    }
    let mut rest = ms;
    for (suffix, unit) in UNITS {
        let n = rest / unit;
        if n > 0 {
            write_u64(out, n);
            out.extend_from_slice(suffix.as_bytes());
            rest -= n * unit;
        }
    }
}

fn write_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// Parses a RouterOS duration into milliseconds; `None` when it is not one.
pub fn parse_ms(text: &str) -> Option<u64> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    if t.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse::<u64>().ok()?.checked_mul(1000);
    }
    if let Some(colon) = t.find(':') {
        // `hh:mm:ss`, optionally after whole days or weeks (`1d02:00:00`, as RouterOS prints a
        // long interval in its clock form).
        let clock = t[..colon]
            .rfind(|c: char| !c.is_ascii_digit())
            .map_or(0, |i| i + 1);
        let days = match &t[..clock] {
            "" => 0,
            prefix => parse_units(prefix, 3_600_000)?,
        };
        return days.checked_add(parse_clock_form(&t[clock..])?);
    }
    parse_units(t, 0)
}

/// `1w2d3h4m5s500ms`: units in decreasing order, each at most once, each larger than `above` ms.
fn parse_units(t: &str, above: u64) -> Option<u64> {
    let bytes = t.as_bytes();
    let mut i = 0;
    let mut total: u64 = 0;
    // Units must come in decreasing order, each at most once, as RouterOS prints them.
    let mut last_unit = u64::MAX;
    if t.is_empty() {
        return None;
    }
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
        let unit = match &t[suffix_start..i] {
            "w" => 604_800_000,
            "d" => 86_400_000,
            "h" => 3_600_000,
            "m" => 60_000,
            "s" => 1000,
            "ms" => 1,
            _ => return None,
        };
        if unit >= last_unit || unit <= above {
            return None;
        }
        last_unit = unit;
        total = total.checked_add(n.checked_mul(unit)?)?;
    }
    Some(total)
}

/// `hh:mm:ss` with an optional fractional second, as RouterOS also accepts.
fn parse_clock_form(t: &str) -> Option<u64> {
    let parts: Vec<&str> = t.split(':').collect();
    if parts.len() != 3 {
        return None;
    }
    let h: u64 = parts[0].parse().ok()?;
    let m: u64 = parts[1].parse().ok()?;
    let (s, frac) = match parts[2].split_once('.') {
        Some((s, f)) => (s, f),
        None => (parts[2], ""),
    };
    let s: u64 = s.parse().ok()?;
    if m >= 60 || s >= 60 || frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let ms = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<3}").parse::<u64>().ok()?
    };
    Some(h * 3_600_000 + m * 60_000 + s * 1000 + ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_format(ms: u64, expected: &str) {
        assert_eq!(format_ms(ms), expected, "format {ms}");
        let mut out = Vec::new();
        write_ms(&mut out, ms);
        assert_eq!(out, expected.as_bytes(), "write {ms}");
        assert_eq!(parse_ms(expected), Some(ms), "parse {expected}");
    }

    #[test]
    fn formats_like_routeros() {
        check_format(0, "0s");
        check_format(1000, "1s");
        check_format(86_400_000, "1d");
        check_format(299_000, "4m59s");
        check_format(
            604_800_000 + 2 * 86_400_000 + 3 * 3_600_000 + 4 * 60_000 + 5000,
            "1w2d3h4m5s",
        );
        check_format(1500, "1s500ms");
        check_format(7, "7ms");
        check_format(3_600_000, "1h");
    }

    #[test]
    fn parses_other_accepted_forms() {
        assert_eq!(parse_ms("300"), Some(300_000));
        assert_eq!(parse_ms("01:00:00"), Some(3_600_000));
        assert_eq!(parse_ms("00:00:01.5"), Some(1500));
        assert_eq!(parse_ms("1h1h"), None);
        assert_eq!(parse_ms("1s1h"), None);
        assert_eq!(parse_ms("abc"), None);
        assert_eq!(parse_ms(""), None);
        assert_eq!(parse_ms("5x"), None);
        assert_eq!(parse_ms("-5s"), None);
        assert_eq!(parse_ms("99999999999999999999w"), None);
    }

    /// The table of real-router durations shared with the agent (`fixtures/routeros/durations.json`).
    #[test]
    fn real_router_durations() {
        let table: serde_json::Value =
            serde_json::from_str(include_str!("../../../fixtures/routeros/durations.json"))
                .unwrap();
        let cases = |key: &str| table[key].as_array().unwrap().clone();
        for case in cases("printed") {
            let (text, ms) = (
                case["text"].as_str().unwrap(),
                case["millis"].as_u64().unwrap(),
            );
            check_format(ms, text);
        }
        for case in cases("accepted") {
            let (text, ms) = (
                case["text"].as_str().unwrap(),
                case["millis"].as_u64().unwrap(),
            );
            assert_eq!(parse_ms(text), Some(ms), "accepted {text:?}");
        }
        for case in cases("rejected") {
            let text = case.as_str().unwrap();
            assert_eq!(parse_ms(text), None, "rejected {text:?}");
        }
        assert_eq!(parse_ms("1w2d03:04:05"), Some(788_645_000));
        assert_eq!(parse_ms("1h02:00:00"), None);
        assert_eq!(parse_ms("d02:00:00"), None);
    }
}
