//! Request bodies as Vault reads them: JSON objects where an empty body or
//! `null` means no fields, numbers and booleans may arrive as strings,
//! durations as seconds or text (`"1h"`), and lists as arrays or
//! comma-separated strings. Unknown fields are ignored.

use axum::body::Bytes;
use serde_json::{Map, Value};
use time::Duration;

use super::reply::VaultApiError;

/// The fields of a request body.
pub struct Fields(Map<String, Value>);

impl Fields {
    /// Parses a body; empty and `null` give no fields.
    pub fn parse(bytes: &Bytes) -> Result<Fields, VaultApiError> {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| {
                VaultApiError::bad_request("failed to parse JSON input: body is not UTF-8")
            })?
            .trim();
        if text.is_empty() {
            return Ok(Fields(Map::new()));
        }
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Null) => Ok(Fields(Map::new())),
            Ok(Value::Object(map)) => Ok(Fields(map)),
            Ok(_) => Err(VaultApiError::bad_request(
                "failed to parse JSON input: expected a JSON object",
            )),
            Err(err) => Err(VaultApiError::bad_request(format!(
                "failed to parse JSON input: {err}"
            ))),
        }
    }

    /// Fields from a query string (`?version=2&list=true`).
    pub fn from_query(query: Option<&str>) -> Fields {
        let mut map = Map::new();
        for pair in query
            .unwrap_or_default()
            .split('&')
            .filter(|p| !p.is_empty())
        {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            map.insert(
                decode_component(name),
                Value::String(decode_component(value)),
            );
        }
        Fields(map)
    }

    /// The raw value of `name`, with `null` counting as absent.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    /// An integer field (number or numeric string).
    pub fn int(&self, name: &str) -> Result<Option<i64>, VaultApiError> {
        let Some(value) = self.get(name) else {
            return Ok(None);
        };
        let parsed = match value {
            Value::Number(n) => n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        parsed.map(Some).ok_or_else(|| field_error(name))
    }

    /// A boolean field (bool, or Go's bool strings).
    pub fn bool(&self, name: &str) -> Result<Option<bool>, VaultApiError> {
        let Some(value) = self.get(name) else {
            return Ok(None);
        };
        match value {
            Value::Bool(b) => Ok(Some(*b)),
            Value::String(s) => parse_go_bool(s).map(Some).ok_or_else(|| field_error(name)),
            Value::Number(n) => Ok(Some(n.as_i64().unwrap_or(0) != 0)),
            _ => Err(field_error(name)),
        }
    }

    /// A string field.
    pub fn string(&self, name: &str) -> Result<Option<String>, VaultApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(_) => Err(field_error(name)),
        }
    }

    /// A duration: seconds as a number or string, or text such as `90m`.
    pub fn duration(&self, name: &str) -> Result<Option<Duration>, VaultApiError> {
        let Some(value) = self.get(name) else {
            return Ok(None);
        };
        let parsed = match value {
            Value::Number(n) => n.as_i64().map(Duration::seconds),
            Value::String(s) => parse_duration(s),
            _ => None,
        };
        parsed.map(Some).ok_or_else(|| field_error(name))
    }

    /// A list of strings: an array, or one comma-separated string.
    pub fn string_list(&self, name: &str) -> Result<Vec<String>, VaultApiError> {
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(Value::String(s)) => Ok(split_commas(s)),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::String(s) => Ok(s.trim().to_string()),
                    Value::Number(n) => Ok(n.to_string()),
                    _ => Err(field_error(name)),
                })
                .collect(),
            Some(_) => Err(field_error(name)),
        }
    }

    /// A list of version numbers: numbers or numeric strings, in an array or
    /// a comma-separated string.
    pub fn versions(&self, name: &str) -> Result<Vec<u64>, VaultApiError> {
        self.string_list(name)?
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<u64>().map_err(|_| field_error(name)))
            .collect()
    }

    /// A JSON object field.
    pub fn object(&self, name: &str) -> Option<&Value> {
        self.get(name).filter(|v| v.is_object())
    }
}

/// Parses a duration as Vault accepts it: seconds, or Go-style text such as
/// `1h30m`, `90m`, `768h0m0s`; negative values are rejected.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<i64>() {
        return Some(Duration::seconds(seconds));
    }
    ward_core::duration::parse_duration(text).ok()
}

fn parse_go_bool(text: &str) -> Option<bool> {
    match text.trim() {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" | "" => Some(false),
        _ => None,
    }
}

/// Parses the `list` query parameter as Go's `strconv.ParseBool`.
pub fn query_bool(fields: &Fields, name: &str) -> Result<bool, VaultApiError> {
    match fields.get(name) {
        None => Ok(false),
        Some(Value::String(s)) => parse_go_bool(s).ok_or(VaultApiError {
            status: axum::http::StatusCode::BAD_REQUEST,
            messages: Vec::new(),
        }),
        Some(_) => Ok(false),
    }
}

fn split_commas(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn field_error(name: &str) -> VaultApiError {
    VaultApiError::bad_request(format!(
        "Field validation failed: error converting input for field \"{name}\""
    ))
}

fn decode_component(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'+' => out.push(b' '),
            b'%' if index + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[index + 1..index + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        index += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: &str) -> Fields {
        Fields::parse(&Bytes::from(text.to_string())).unwrap()
    }

    #[test]
    fn empty_and_null_bodies_have_no_fields() {
        assert!(fields("").get("x").is_none());
        assert!(fields("null").get("x").is_none());
        assert!(Fields::parse(&Bytes::from("{bad")).is_err());
        assert!(Fields::parse(&Bytes::from("[1]")).is_err());
    }

    #[test]
    fn weak_typing_accepts_strings() {
        let f = fields(
            r#"{"a":"3","b":3,"c":"true","d":"1h","e":90,"f":"a, b","g":["1","2"],"n":null}"#,
        );
        assert_eq!(f.int("a").unwrap(), Some(3));
        assert_eq!(f.int("b").unwrap(), Some(3));
        assert_eq!(f.bool("c").unwrap(), Some(true));
        assert_eq!(f.duration("d").unwrap(), Some(Duration::hours(1)));
        assert_eq!(f.duration("e").unwrap(), Some(Duration::seconds(90)));
        assert_eq!(f.string_list("f").unwrap(), vec!["a", "b"]);
        assert_eq!(f.versions("g").unwrap(), vec![1, 2]);
        assert_eq!(f.int("n").unwrap(), None);
        assert!(f.int("c").is_err());
    }

    #[test]
    fn query_decoding() {
        let f = Fields::from_query(Some("version=2&list=true&x=a%2Fb"));
        assert_eq!(f.int("version").unwrap(), Some(2));
        assert!(query_bool(&f, "list").unwrap());
        assert_eq!(f.string("x").unwrap().as_deref(), Some("a/b"));
        assert!(query_bool(&Fields::from_query(Some("list=maybe")), "list").is_err());
    }
}
