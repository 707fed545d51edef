//! `creation-time` and similar timestamps in the router's two historical forms.
//!
//! RouterOS 7.10 and later print `2024-01-31 13:05:09`; earlier versions print `jan/31/2024 13:05:09`
//! with a lower-case month (ROUTEROS-REST.md section 3). The simulator's router runs in UTC.
//!
//! A print of a large address list formats one timestamp per row, so this writes digits straight into
//! the output with the civil-from-days algorithm (H. Hinnant, "chrono-Compatible Low-Level Date
//! Algorithms") instead of going through a date library and `format!`.

const MONTHS: [&[u8; 3]; 12] = [
    b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov", b"dec",
];

/// Year, month (1-12) and day of a count of days since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn two(out: &mut Vec<u8>, n: u32) {
    out.extend_from_slice(&[b'0' + (n / 10) as u8, b'0' + (n % 10) as u8]);
}

fn four(out: &mut Vec<u8>, n: i64) {
    let n = n.clamp(0, 9999) as u32;
    two(out, n / 100);
    two(out, n % 100);
}

/// Appends Unix seconds in the ISO-like form (`iso`) or the pre-7.10 form.
pub fn write(out: &mut Vec<u8>, unix_s: i64, iso: bool) {
    let (year, month, day) = civil_from_days(unix_s.div_euclid(86_400));
    let secs = unix_s.rem_euclid(86_400) as u32;
    if iso {
        four(out, year);
        out.push(b'-');
        two(out, month);
        out.push(b'-');
        two(out, day);
    } else {
        out.extend_from_slice(MONTHS[month as usize - 1]);
        out.push(b'/');
        two(out, day);
        out.push(b'/');
        four(out, year);
    }
    out.push(b' ');
    two(out, secs / 3600);
    out.push(b':');
    two(out, secs / 60 % 60);
    out.push(b':');
    two(out, secs % 60);
}

/// Formats Unix seconds in the ISO-like form (`iso`) or the pre-7.10 form.
pub fn format(unix_s: i64, iso: bool) -> String {
    let mut out = Vec::with_capacity(20);
    write(&mut out, unix_s, iso);
    // Only ASCII digits, letters and punctuation were written.
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;

    #[test]
    fn both_forms() {
        // 2022-09-29 07:09:24 UTC
        assert_eq!(super::format(1_664_435_364, true), "2022-09-29 07:09:24");
        assert_eq!(super::format(1_664_435_364, false), "sep/29/2022 07:09:24");
        assert_eq!(super::format(0, true), "1970-01-01 00:00:00");
    }

    #[test]
    fn agrees_with_a_date_library() {
        // Every ~9.7 days over a century and a half, leap years and month ends included.
        for s in (0..5_000_000_000_i64).step_by(838_861) {
            let t = OffsetDateTime::from_unix_timestamp(s).unwrap();
            let expected = format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            );
            assert_eq!(super::format(s, true), expected, "{s}");
        }
    }

    #[test]
    fn both_eras_agree_with_the_time_crate() {
        // Before 1970 as well, every ~11 days and every odd second across a day, in both forms.
        let instants = (-2_208_988_800_i64..4_102_444_800)
            .step_by(949_993)
            .chain((1_700_000_000..1_700_086_400).step_by(7_777));
        for s in instants {
            let t = OffsetDateTime::from_unix_timestamp(s).unwrap();
            let time = format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second());
            let iso = format!(
                "{:04}-{:02}-{:02} {time}",
                t.year(),
                u8::from(t.month()),
                t.day()
            );
            let month = t.month().to_string().to_lowercase();
            let old = format!("{}/{:02}/{:04} {time}", &month[..3], t.day(), t.year());
            assert_eq!(super::format(s, true), iso, "{s}");
            assert_eq!(super::format(s, false), old, "{s}");
        }
    }
}
