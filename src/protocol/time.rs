//! IRCv3 `server-time`: times on the wire as RFC 3339 UTC with milliseconds
//! (`2026-11-29T02:45:58.123Z`), in the program as milliseconds since the
//! Unix epoch.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now, in milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
        })
}

/// `ms` as a `time=` tag value; the epoch for a time out of range.
pub fn format_ms(ms: i64) -> String {
    let at = jiff::Timestamp::from_millisecond(ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    format!("{at:.3}")
}

/// `ms` as this machine's local time of day, `HH:MM`.
pub fn local_clock(ms: i64) -> String {
    let at = jiff::Timestamp::from_millisecond(ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let local = at.to_zoned_datetime(jiff::tz::TimeZone::system());
    format!("{:02}:{:02}", local.hour(), local.minute())
}

/// A `time=` or `timestamp=` value, as sent by servers and clients.
pub fn parse_ms(text: &str) -> Option<i64> {
    let at: jiff::Timestamp = text.parse().ok()?;
    Some(at.as_millisecond())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_milliseconds() {
        let ms = 1_795_920_358_123;
        let text = format_ms(ms);
        assert_eq!(text, "2026-11-29T02:45:58.123Z");
        assert_eq!(parse_ms(&text), Some(ms));
        assert_eq!(format_ms(0), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn reads_other_servers_forms_and_refuses_junk() {
        assert_eq!(parse_ms("2026-11-29T02:45:58Z"), Some(1_795_920_358_000));
        assert_eq!(
            parse_ms("2026-11-29T03:45:58.5+01:00"),
            Some(1_795_920_358_500)
        );
        assert_eq!(parse_ms("yesterday"), None);
        assert_eq!(parse_ms(""), None);
    }
}
