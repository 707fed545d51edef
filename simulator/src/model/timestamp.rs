//! `creation-time` and similar timestamps in the router's two historical forms.
//!
//! RouterOS 7.10 and later print `2024-01-31 13:05:09`; earlier versions print `jan/31/2024 13:05:09`
//! with a lower-case month (ROUTEROS-REST.md section 3). The simulator's router runs in UTC.

use time::OffsetDateTime;

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// Formats Unix seconds in the ISO-like form (`iso`) or the pre-7.10 form.
pub fn format(unix_s: i64, iso: bool) -> String {
    let t = OffsetDateTime::from_unix_timestamp(unix_s).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let (h, m, s) = (t.hour(), t.minute(), t.second());
    if iso {
        format!(
            "{:04}-{:02}-{:02} {h:02}:{m:02}:{s:02}",
            t.year(),
            u8::from(t.month()),
            t.day()
        )
    } else {
        let month = MONTHS[usize::from(u8::from(t.month())) - 1];
        format!(
            "{month}/{:02}/{:04} {h:02}:{m:02}:{s:02}",
            t.day(),
            t.year()
        )
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn both_forms() {
        // 2022-09-29 07:09:24 UTC
        assert_eq!(super::format(1_664_435_364, true), "2022-09-29 07:09:24");
        assert_eq!(super::format(1_664_435_364, false), "sep/29/2022 07:09:24");
    }
}
