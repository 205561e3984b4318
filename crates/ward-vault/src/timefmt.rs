//! Time conversions: unix nanoseconds in the store, RFC 3339 and Go duration
//! strings on the wire.

use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};

/// Unix nanoseconds of `at`, saturated to the `i64` range (years 1677 to 2262).
pub fn to_nanos(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos()).unwrap_or(i64::MAX)
}

/// The instant `nanos` nanoseconds after the unix epoch, in UTC.
pub fn from_nanos(nanos: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// RFC 3339 in UTC with nanoseconds, trailing zeros trimmed, as Vault prints
/// times (`2025-01-02T03:04:05.1234Z`).
pub fn rfc3339(at: OffsetDateTime) -> String {
    at.to_offset(UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

/// A duration as Go's `time.Duration.String` prints it (`0s`, `15m0s`,
/// `768h0m0s`, `1.5s`), as KV metadata reports `delete_version_after`.
pub fn go_duration(duration: Duration) -> String {
    let total_nanos = duration.whole_nanoseconds();
    if total_nanos == 0 {
        return "0s".to_string();
    }
    let sign = if total_nanos < 0 { "-" } else { "" };
    let nanos = total_nanos.unsigned_abs();
    let hours = nanos / 3_600_000_000_000;
    let minutes = (nanos / 60_000_000_000) % 60;
    let second_nanos = nanos % 60_000_000_000;
    let seconds = format_seconds(second_nanos);
    if hours > 0 {
        format!("{sign}{hours}h{minutes}m{seconds}s")
    } else if minutes > 0 {
        format!("{sign}{minutes}m{seconds}s")
    } else {
        format!("{sign}{seconds}s")
    }
}

/// A duration the way Vault's warnings print it: Go's form without zero
/// units (`1h`, `12m30s`, `768h`).
pub fn short_duration(duration: Duration) -> String {
    let text = go_duration(duration);
    let text = text
        .strip_suffix("m0s")
        .map(|rest| format!("{rest}m"))
        .unwrap_or(text);
    text.strip_suffix("h0m")
        .map(|rest| format!("{rest}h"))
        .unwrap_or(text)
}

fn format_seconds(nanos: u128) -> String {
    let whole = nanos / 1_000_000_000;
    let fraction = nanos % 1_000_000_000;
    if fraction == 0 {
        return whole.to_string();
    }
    let digits = format!("{fraction:09}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_duration_matches_go() {
        assert_eq!(go_duration(Duration::ZERO), "0s");
        assert_eq!(go_duration(Duration::seconds(90)), "1m30s");
        assert_eq!(go_duration(Duration::minutes(15)), "15m0s");
        assert_eq!(go_duration(Duration::hours(768)), "768h0m0s");
        assert_eq!(go_duration(Duration::milliseconds(1500)), "1.5s");
    }

    #[test]
    fn short_duration_drops_zero_units() {
        assert_eq!(short_duration(Duration::hours(1)), "1h");
        assert_eq!(short_duration(Duration::seconds(750)), "12m30s");
        assert_eq!(short_duration(Duration::hours(768)), "768h");
        assert_eq!(short_duration(Duration::minutes(5)), "5m");
    }

    #[test]
    fn rfc3339_trims_trailing_zeros() {
        let at = from_nanos(1_735_787_045_123_400_000);
        assert_eq!(rfc3339(at), "2025-01-02T03:04:05.1234Z");
        assert_eq!(
            rfc3339(from_nanos(1_735_787_045_000_000_000)),
            "2025-01-02T03:04:05Z"
        );
    }

    #[test]
    fn nanos_round_trip() {
        let at = from_nanos(1_735_787_045_123_456_789);
        assert_eq!(to_nanos(at), 1_735_787_045_123_456_789);
    }
}
