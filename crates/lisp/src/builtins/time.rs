//! Time through the host's clocks: universal time (seconds since 1900-01-01 UTC), internal
//! time in microseconds, and calendar conversion (`decode-universal-time`,
//! `encode-universal-time`, `get-decoded-time`) with time zones as Common Lisp counts them
//! (hours west of Greenwich).

use super::arity;
use crate::error::{fail, Flow};
use crate::interp::Interp;
use crate::value::BuiltinFn;
use crate::value::Value;
use whistler_syntax::Span;

/// Universal time of 1970-01-01 00:00 UTC.
pub const UNIX_EPOCH_UNIVERSAL: i64 = 2_208_988_800;

/// The latest universal time decoded (the year 100000), keeping calendar arithmetic exact.
const MAX_UNIVERSAL: i64 = 3_093_527_980_800;

/// Internal time units per second, as SBCL: microseconds.
const UNITS_PER_SECOND: i64 = 1_000_000;

/// The builtins of this module that need nothing but a name and a function: found when their
/// symbol is first interned (`builtins::builtin`).
pub(super) const BUILTINS: &[(&str, BuiltinFn)] = &[
    ("get-universal-time", |i, a, s| {
        arity(a, 0, 0, "get-universal-time", s)?;
        let now = i.host.wall_clock().map_err(|e| e.at(s))?;
        Ok(Value::int(now.as_secs() as i64 + UNIX_EPOCH_UNIVERSAL))
    }),
    ("get-internal-real-time", |i, a, s| {
        arity(a, 0, 0, "get-internal-real-time", s)?;
        let now = i.host.monotonic_clock().map_err(|e| e.at(s))?;
        Ok(Value::int(now.as_micros() as i64))
    }),
    ("get-internal-run-time", |i, a, s| {
        arity(a, 0, 0, "get-internal-run-time", s)?;
        let used = i.host.run_time().map_err(|e| e.at(s))?;
        Ok(Value::int(used.as_micros() as i64))
    }),
    ("decode-universal-time", |i, a, s| {
        arity(a, 1, 2, "decode-universal-time", s)?;
        let universal = super::int(&a[0], s)?;
        decode(i, universal, a.get(1), s)
    }),
    ("get-decoded-time", |i, a, s| {
        arity(a, 0, 0, "get-decoded-time", s)?;
        let now = i.host.wall_clock().map_err(|e| e.at(s))?;
        decode(i, now.as_secs() as i64 + UNIX_EPOCH_UNIVERSAL, None, s)
    }),
    ("encode-universal-time", encode),
];

pub fn install(interp: &mut Interp) {
    let units = interp.symbol("internal-time-units-per-second");
    units.value.replace(Some(Value::int(UNITS_PER_SECOND)));
    units.constant.set(true);
}

/// The nine values of `decode-universal-time`: second, minute, hour, date, month, year,
/// day of week (0 = Monday), daylight-p, zone.
fn decode(
    interp: &mut Interp,
    universal: i64,
    zone: Option<&Value>,
    span: Span,
) -> Result<Value, Flow> {
    if !(0..=MAX_UNIVERSAL).contains(&universal) {
        return fail(
            "type-error",
            format!("{universal} is not a universal time this Lisp can decode"),
            span,
        );
    }
    let unix = universal - UNIX_EPOCH_UNIVERSAL;
    let (offset, daylight, zone_value) = match zone {
        Some(z) if z.truthy() => {
            let hours_west = zone_hours(z, span)?;
            (-(hours_west * 3600.0) as i64, false, z.clone())
        }
        _ => {
            let (east, dst) = interp.host.local_offset(unix);
            let standard_east = east - if dst { 3600 } else { 0 };
            (east, dst, zone_number(-standard_east))
        }
    };
    let local = unix + offset;
    let days = local.div_euclid(86_400);
    let seconds = local.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let weekday = (days + 3).rem_euclid(7); // 1970-01-01 was a Thursday (3 when Monday is 0)
    let values = vec![
        Value::int(seconds % 60),
        Value::int(seconds / 60 % 60),
        Value::int(seconds / 3600),
        Value::int(day),
        Value::int(month),
        Value::int(year),
        Value::int(weekday),
        interp.bool(daylight),
        zone_value,
    ];
    let first = values[0].clone();
    interp.values = Some(values);
    Ok(first)
}

/// A zone as Lisp shows it: hours west, an integer when whole, else a ratio.
fn zone_number(seconds_west: i64) -> Value {
    if seconds_west % 3600 == 0 {
        Value::int(seconds_west / 3600)
    } else {
        crate::number::ratio_value(seconds_west.into(), 3600.into())
    }
}

fn zone_hours(zone: &Value, span: Span) -> Result<f64, Flow> {
    match crate::number::real(zone) {
        Some(h) if (-24.0..=24.0).contains(&h) => Ok(h),
        _ => fail(
            "type-error",
            format!(
                "{} is not a time zone (hours west of Greenwich, -24 to 24)",
                crate::printer::prin1(zone)
            ),
            span,
        ),
    }
}

/// `(encode-universal-time second minute hour date month year &optional zone)`.
fn encode(interp: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 6, 7, "encode-universal-time", span)?;
    let mut f = [0i64; 6];
    for (slot, v) in f.iter_mut().zip(args) {
        *slot = super::int(v, span)?;
    }
    let [second, minute, hour, day, month, year] = f;
    let in_range =
        (0..60).contains(&second) && (0..60).contains(&minute) && (0..24).contains(&hour);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || !in_range
        || !(0..100_000).contains(&year)
    {
        return fail("type-error", "encode-universal-time: no such date", span);
    }
    let year = if year < 100 { year + 2000 } else { year };
    let local = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    let unix = match args.get(6) {
        Some(z) if z.truthy() => local + (zone_hours(z, span)? * 3600.0) as i64,
        _ => {
            let (east, _) = interp.host.local_offset(local);
            local - east
        }
    };
    Ok(Value::int(unix + UNIX_EPOCH_UNIVERSAL))
}

/// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian calendar.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// (year, month, day) → days since 1970-01-01.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = year - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let shifted_month = (month + 9) % 12;
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_round_trips() {
        for days in [-800_000, -1, 0, 59, 60, 11_016, 19_000, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }
}
