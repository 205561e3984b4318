//! Human durations such as `90m`, `7d` or `3600` (seconds), as Vault and Ward's
//! CLI accept them.

use time::Duration;

/// Failure to parse a duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid duration `{value}`: expected a number of seconds or a number with a unit s, m, h, d or w (for example 90m, 7d)"
)]
pub struct DurationError {
    /// The text that failed to parse.
    pub value: String,
}

/// Parses `3600`, `45s`, `90m`, `12h`, `7d`, `2w`, or a sum such as `1h30m`.
pub fn parse_duration(value: &str) -> Result<Duration, DurationError> {
    let err = || DurationError {
        value: value.to_string(),
    };
    let text = value.trim();
    if text.is_empty() {
        return Err(err());
    }
    if let Ok(seconds) = text.parse::<i64>() {
        return if seconds >= 0 {
            Ok(Duration::seconds(seconds))
        } else {
            Err(err())
        };
    }
    let mut total = Duration::ZERO;
    let mut digits = String::new();
    for ch in text.chars() {
        if ch.is_ascii_digit() {
            digits.push(ch);
            continue;
        }
        let amount: i64 = digits.parse().map_err(|_| err())?;
        digits.clear();
        let part = match ch {
            's' => Duration::seconds(amount),
            'm' => Duration::minutes(amount),
            'h' => Duration::hours(amount),
            'd' => Duration::days(amount),
            'w' => Duration::weeks(amount),
            _ => return Err(err()),
        };
        total = total.checked_add(part).ok_or_else(err)?;
    }
    if !digits.is_empty() {
        return Err(err());
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_sums() {
        assert_eq!(parse_duration("3600").unwrap(), Duration::hours(1));
        assert_eq!(parse_duration("90m").unwrap(), Duration::minutes(90));
        assert_eq!(parse_duration("7d").unwrap(), Duration::days(7));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::minutes(90));
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["", "x", "5y", "-3", "h", "10m5"] {
            assert!(parse_duration(bad).is_err(), "{bad} should fail");
        }
    }
}
