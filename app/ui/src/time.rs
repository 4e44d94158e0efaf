//! Day separators and times, computed from UTC milliseconds without a clock
//! of its own (the window passes "now").

use koine_api::Timestamp;

const DAY_MS: i64 = 86_400_000;

/// The day number (days since 1970-01-01, UTC).
pub fn day(ts: Timestamp) -> i64 {
    ts.0.div_euclid(DAY_MS)
}

/// `HH:MM` (UTC).
pub fn clock(ts: Timestamp) -> String {
    let minutes = ts.0.rem_euclid(DAY_MS) / 60_000;
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// The label of a day separator: today, yesterday, or the ISO date.
pub fn day_label(ts: Timestamp, now: Timestamp) -> String {
    let (d, today) = (day(ts), day(now));
    if d == today {
        crate::fl!("day-today")
    } else if d == today - 1 {
        crate::fl!("day-yesterday")
    } else {
        iso_date(d)
    }
}

/// Last activity in a list: the time today, the date otherwise.
pub fn activity(ts: Timestamp, now: Timestamp) -> String {
    if day(ts) == day(now) {
        clock(ts)
    } else {
        iso_date(day(ts))
    }
}

/// `YYYY-MM-DD` of a day number (proleptic Gregorian calendar).
pub fn iso_date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_clock() {
        assert_eq!(iso_date(0), "1970-01-01");
        assert_eq!(iso_date(19_723), "2024-01-01");
        assert_eq!(iso_date(11_016), "2000-02-29");
        assert_eq!(
            clock(Timestamp(DAY_MS + 3_600_000 * 13 + 60_000 * 7)),
            "13:07"
        );
    }
}
