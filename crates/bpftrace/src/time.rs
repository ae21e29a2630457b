//! `time()` and `strftime()` output: the strftime conversions bpftrace scripts use, in the
//! local time zone as bpftrace prints them (`TZ`, else /etc/localtime, as `jiff` reads them).

use jiff::tz::TimeZone;
use jiff::Timestamp;

/// Formats `seconds` since the epoch as local time (see [`strftime_in`]).
pub fn strftime(format: &str, seconds: i64) -> String {
    strftime_in(format, seconds, &TimeZone::system())
}

/// Formats `seconds` since the epoch as the time in `zone` with `%H %M %S %Y %m %d %y %e %j %T
/// %F %D %R %z %Z %s %%`; other conversions are kept as written.
pub fn strftime_in(format: &str, seconds: i64, zone: &TimeZone) -> String {
    let instant = Timestamp::from_second(seconds).unwrap_or(Timestamp::UNIX_EPOCH);
    let info = zone.to_offset_info(instant);
    let offset = info.offset().seconds();
    let local = seconds + i64::from(offset);
    let days = local.div_euclid(86_400);
    let of_day = local.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let (h, m, s) = (of_day / 3600, of_day / 60 % 60, of_day % 60);
    let day_of_year = days - days_from_civil(year, 1, 1) + 1;
    let mut out = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('H') => out.push_str(&format!("{h:02}")),
            Some('M') => out.push_str(&format!("{m:02}")),
            Some('S') => out.push_str(&format!("{s:02}")),
            Some('Y') => out.push_str(&year.to_string()),
            Some('y') => out.push_str(&format!("{:02}", year % 100)),
            Some('m') => out.push_str(&format!("{month:02}")),
            Some('d') => out.push_str(&format!("{day:02}")),
            Some('e') => out.push_str(&format!("{day:2}")),
            Some('j') => out.push_str(&format!("{day_of_year:03}")),
            Some('T') => out.push_str(&format!("{h:02}:{m:02}:{s:02}")),
            Some('R') => out.push_str(&format!("{h:02}:{m:02}")),
            Some('F') => out.push_str(&format!("{year}-{month:02}-{day:02}")),
            Some('D') => out.push_str(&format!("{month:02}/{day:02}/{:02}", year % 100)),
            Some('s') => out.push_str(&seconds.to_string()),
            Some('z') => {
                let sign = if offset < 0 { '-' } else { '+' };
                let minutes = offset.unsigned_abs() / 60;
                out.push_str(&format!("{sign}{:02}{:02}", minutes / 60, minutes % 60));
            }
            Some('Z') => out.push_str(info.abbreviation()),
            Some('%') => out.push('%'),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    out
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strftime_utc(format: &str, seconds: i64) -> String {
        strftime_in(format, seconds, &TimeZone::UTC)
    }

    #[test]
    fn in_a_zone_with_a_known_offset() {
        let kolkata = TimeZone::get("Asia/Kolkata").expect("the system's time zone database");
        assert_eq!(
            strftime_in("%F %T %z %Z %s", 1_709_210_096, &kolkata),
            "2024-02-29 18:04:56 +0530 IST 1709210096"
        );
        let new_york = TimeZone::get("America/New_York").expect("the time zone database");
        assert_eq!(
            strftime_in("%F %T %z", 0, &new_york),
            "1969-12-31 19:00:00 -0500"
        );
    }

    #[test]
    fn known_instants() {
        assert_eq!(strftime_utc("%Y-%m-%d %H:%M:%S", 0), "1970-01-01 00:00:00");
        // 2024-02-29T12:34:56Z, a leap day.
        assert_eq!(
            strftime_utc("%F %T %j %%", 1_709_210_096),
            "2024-02-29 12:34:56 060 %"
        );
    }
}
