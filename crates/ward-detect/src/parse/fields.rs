//! Helpers for reading fields out of JSON log records.

use serde_json::Value;
use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

/// The string at `path`, or `None` when missing, null or empty.
pub(crate) fn str_at<'v>(value: &'v Value, path: &[&str]) -> Option<&'v str> {
    let mut current = value;
    for key in path {
        current = current.get(key)?;
    }
    current.as_str().filter(|text| !text.is_empty())
}

/// The value of `key` in an object, matching the key without regard to case,
/// because Azure exports the same record in camelCase and in PascalCase.
pub(crate) fn get_ci<'v>(value: &'v Value, key: &str) -> Option<&'v Value> {
    let object = value.as_object()?;
    if let Some(found) = object.get(key) {
        return Some(found);
    }
    object
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(key))
        .map(|(_, found)| found)
}

/// A string or number at `key` (case-insensitive), as text.
pub(crate) fn text_ci(value: &Value, key: &str) -> Option<String> {
    match get_ci(value, key)? {
        Value::String(text) if !text.is_empty() => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

/// An unsigned number given as a JSON number or a numeric string.
pub(crate) fn number(value: Option<&Value>) -> Option<u64> {
    match value? {
        Value::Number(number) => number
            .as_u64()
            .or_else(|| number.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// Parses the timestamp spellings found in activity logs: RFC 3339 with any
/// number of fraction digits, ISO 8601 without an offset (read as UTC), the
/// US form `11/14/2025 1:48:53 AM` (UTC), and Unix seconds or milliseconds.
pub(crate) fn parse_time(text: &str) -> Option<OffsetDateTime> {
    let text = text.trim();
    if let Ok(time) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(time);
    }
    let iso_local = format_description!(
        version = 2,
        "[year]-[month]-[day][first [T] [ ]][hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    if let Ok(time) = PrimitiveDateTime::parse(text, &iso_local) {
        return Some(time.assume_utc());
    }
    let us = format_description!(
        version = 2,
        "[month padding:none]/[day padding:none]/[year] [hour repr:12 padding:none]:[minute]:[second] [period case_sensitive:false]"
    );
    if let Ok(time) = PrimitiveDateTime::parse(text, &us) {
        return Some(time.assume_utc());
    }
    let number: i64 = text.parse().ok()?;
    // Values past the year 2286 in seconds are milliseconds.
    if number > 9_999_999_999 {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(number) * 1_000_000).ok()
    } else {
        OffsetDateTime::from_unix_timestamp(number).ok()
    }
}

/// Reads a required timestamp from the first of `keys` present, with an
/// error naming the field and value when it is missing or unparseable.
pub(crate) fn required_time(value: &Value, keys: &[&str]) -> Result<OffsetDateTime, String> {
    for key in keys {
        if let Some(found) = get_ci(value, key) {
            let text = match found {
                Value::String(text) => text.clone(),
                Value::Number(number) => number.to_string(),
                _ => continue,
            };
            return parse_time(&text)
                .ok_or_else(|| format!("invalid timestamp in `{key}`: `{text}`"));
        }
    }
    Err(format!(
        "missing timestamp: expected one of {}",
        keys.join(", ")
    ))
}

/// A stable event id for records without one: SHA-256 of the record text.
pub(crate) fn derived_uid(source: &str, value: &Value) -> String {
    let mut hasher = Sha256::new();
    hasher.update(source.as_bytes());
    hasher.update(value.to_string().as_bytes());
    let digest = hasher.finalize();
    format!("{source}-{}", hex::encode(&digest[..16]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_time_spellings() {
        let expected = OffsetDateTime::from_unix_timestamp(1_763_084_933).unwrap();
        assert_eq!(parse_time("2025-11-14T01:48:53Z"), Some(expected));
        assert_eq!(parse_time("11/14/2025 1:48:53 AM"), Some(expected));
        assert_eq!(parse_time("2025-11-14T01:48:53"), Some(expected));
        assert_eq!(parse_time("1763084933"), Some(expected));
        assert_eq!(parse_time("1763084933000"), Some(expected));
        let fraction = parse_time("2025-11-14T01:48:53.1234567Z").unwrap();
        assert_eq!(fraction.unix_timestamp(), 1_763_084_933);
        assert_eq!(parse_time("yesterday"), None);
    }
}
