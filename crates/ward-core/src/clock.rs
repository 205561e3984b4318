//! The injected clock.
//!
//! Every TTL, expiry, review date and baseline reads time through [`Clock`], so
//! tests move time forward instead of sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use time::OffsetDateTime;

/// A source of the current time.
pub trait Clock: Send + Sync + 'static {
    /// The current time in UTC.
    fn now(&self) -> OffsetDateTime;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// The wall clock shifted by an offset that tests can advance.
///
/// The server uses this clock only when started with the test clock enabled;
/// then `POST /v1/sys/clock` moves it forward.
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    offset_ms: Arc<AtomicI64>,
}

impl ManualClock {
    /// A clock equal to the wall clock until advanced.
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the clock forward by `by`; a negative duration moves it back.
    pub fn advance(&self, by: time::Duration) {
        let millis = i64::try_from(by.whole_milliseconds()).unwrap_or(i64::MAX);
        self.offset_ms.fetch_add(millis, Ordering::SeqCst);
    }

    /// Total offset from the wall clock.
    pub fn offset(&self) -> time::Duration {
        time::Duration::milliseconds(self.offset_ms.load(Ordering::SeqCst))
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + self.offset()
    }
}

/// A clock shared between tasks.
pub type SharedClock = Arc<dyn Clock>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_advances() {
        let clock = ManualClock::new();
        let before = clock.now();
        clock.advance(time::Duration::days(2));
        let after = clock.now();
        assert!(after - before >= time::Duration::days(2));
        assert!(after - before < time::Duration::days(2) + time::Duration::minutes(1));
    }
}

/// Formats `at` as fixed-width RFC 3339 UTC with microseconds, such as
/// `2026-01-02T03:04:05.000006Z`. Stored timestamps use this form so that
/// comparing the text compares the times.
pub fn format_timestamp(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.microsecond()
    )
}

/// Parses an RFC 3339 timestamp, such as one written by [`format_timestamp`].
pub fn parse_timestamp(text: &str) -> Result<OffsetDateTime, time::error::Parse> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
}

#[cfg(test)]
mod timestamp_tests {
    use super::*;

    #[test]
    fn timestamp_round_trips_and_sorts() {
        let a = time::macros::datetime!(2026-01-02 03:04:05.000006 UTC);
        let b = a + time::Duration::seconds(10);
        let text = format_timestamp(a);
        assert_eq!(text, "2026-01-02T03:04:05.000006Z");
        assert_eq!(parse_timestamp(&text).unwrap(), a);
        assert!(format_timestamp(a) < format_timestamp(b));
    }
}
