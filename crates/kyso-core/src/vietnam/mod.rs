//! Time as kyso shows it to people in Vietnam, in one place: the clock (UTC+07:00; Vietnam
//! keeps no daylight saving time, so a fixed offset is exact and needs no time-zone database),
//! dates and times in figures as administrative documents write them, and in words (`words`).

pub mod words;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, Utc};

/// UTC+07:00.
pub const OFFSET: FixedOffset = match FixedOffset::east_opt(7 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+07:00 is a valid offset"),
};

/// `t` on a clock in Vietnam.
pub fn vietnam_time(t: DateTime<Utc>) -> DateTime<FixedOffset> {
    t.with_timezone(&OFFSET)
}

/// The day it is in Vietnam at `t`.
pub fn day(t: DateTime<Utc>) -> NaiveDate {
    vietnam_time(t).date_naive()
}

/// The moment a clock in Vietnam shows `local` (`None` at the very end of chrono's range).
pub fn from_local(local: NaiveDateTime) -> Option<DateTime<Utc>> {
    local.checked_sub_offset(OFFSET).map(|t| t.and_utc())
}

/// `14:05:09 25/11/2026 +07:00`.
pub fn date_time(t: DateTime<Utc>) -> String {
    vietnam_time(t).format("%H:%M:%S %d/%m/%Y %:z").to_string()
}

/// `14:05 25/11/2026 +07:00`, where seconds would be noise.
pub fn date_time_minutes(t: DateTime<Utc>) -> String {
    vietnam_time(t).format("%H:%M %d/%m/%Y %:z").to_string()
}

/// A stored RFC 3339 time as [`date_time`] writes it; the text as it is when it is not one.
pub fn rfc3339(text: &str) -> String {
    DateTime::parse_from_rfc3339(text).map_or_else(|_| text.to_owned(), |t| date_time(t.to_utc()))
}

/// `25/11/2026`.
pub fn date(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// `ngày 25 tháng 11 năm 2026`, as the place-and-date line of a document writes it.
pub fn date_in_text(d: NaiveDate) -> String {
    format!(
        "ngày {:02} tháng {:02} năm {}",
        d.day(),
        d.month(),
        d.year()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnam_is_seven_hours_ahead() {
        let local = NaiveDate::from_ymd_opt(2026, 11, 25)
            .and_then(|d| d.and_hms_opt(0, 30, 0))
            .unwrap();
        let utc = from_local(local).unwrap();
        assert_eq!(utc.to_rfc3339(), "2026-11-24T17:30:00+00:00");
        assert_eq!(day(utc), local.date());
        assert_eq!(date_time(utc), "00:30:00 25/11/2026 +07:00");
        assert_eq!(date_time_minutes(utc), "00:30 25/11/2026 +07:00");
        assert_eq!(
            rfc3339("2026-11-24T17:30:00Z"),
            "00:30:00 25/11/2026 +07:00"
        );
        assert_eq!(rfc3339("not a time"), "not a time");
        assert_eq!(date(local.date()), "25/11/2026");
        assert_eq!(date_in_text(local.date()), "ngày 25 tháng 11 năm 2026");
        assert_eq!(from_local(NaiveDateTime::MIN), None);
    }
}
