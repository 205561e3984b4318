//! JSON documents read as structure, for name/value objects such as Automation
//! Anywhere bot variables and action attributes
//! (`{"name": "password", "value": {"type": "STRING", "string": "..."}}`).
//! Plain `"password": "..."` members are found by the text detectors.

use serde_json::Value;
use ward_core::finding::RpaContext;

use crate::detect::names::is_secret_name;
use crate::detect::value::{generic_confidence, is_plausible_secret};
use crate::detect::{Candidate, Priority};

/// A literal string under a name/value object whose name is credential-like.
pub const JSON_NAME_VALUE: &str = "json-credential-value";

const NAME_KEYS: &[&str] = &["name", "key", "Name", "Key", "variableName"];
const VALUE_KEYS: &[&str] = &["value", "defaultValue", "Value", "DefaultValue"];

/// Appends candidates from a JSON document. Returns an error message when it does not parse.
pub fn scan(text: &str, out: &mut Vec<Candidate>) -> Result<(), String> {
    let value: Value = serde_json::from_str(text).map_err(|err| format!("invalid JSON: {err}"))?;
    let automation_anywhere = text.contains("\"commandName\"") || text.contains("\"packageName\"");
    let mut search_from = 0usize;
    walk(&value, text, automation_anywhere, &mut search_from, out);
    Ok(())
}

fn walk(value: &Value, text: &str, aa: bool, search_from: &mut usize, out: &mut Vec<Candidate>) {
    match value {
        Value::Object(map) => {
            let name = NAME_KEYS
                .iter()
                .find_map(|k| map.get(*k).and_then(Value::as_str));
            if let Some(name) = name.filter(|n| is_secret_name(n)) {
                let literal = VALUE_KEYS
                    .iter()
                    .find_map(|k| map.get(*k).and_then(literal_string));
                if let Some(literal) = literal.filter(|l| is_plausible_secret(l, 4)) {
                    push(text, name, &literal, aa, search_from, out);
                }
            }
            for child in map.values() {
                walk(child, text, aa, search_from, out);
            }
        }
        Value::Array(items) => {
            for child in items {
                walk(child, text, aa, search_from, out);
            }
        }
        _ => {}
    }
}

/// Returns the string a value holds: a JSON string, or an Automation Anywhere typed
/// value `{"type": "STRING", "string": "..."}`; credential-vault references are not literals.
fn literal_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Object(map) => {
            let kind = map.get("type").and_then(Value::as_str)?;
            if kind.eq_ignore_ascii_case("STRING") {
                map.get("string")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            } else {
                None
            }
        }
        _ => None,
    }
}

fn push(
    text: &str,
    name: &str,
    literal: &str,
    aa: bool,
    search_from: &mut usize,
    out: &mut Vec<Candidate>,
) {
    let Ok(quoted_name) = serde_json::to_string(name) else {
        return;
    };
    let Ok(quoted_value) = serde_json::to_string(literal) else {
        return;
    };
    let name_at = text
        .get(*search_from..)
        .and_then(|t| t.find(&quoted_name))
        .map(|i| i + *search_from);
    let from = name_at.unwrap_or(0);
    let Some(value_at) = text
        .get(from..)
        .and_then(|t| t.find(&quoted_value))
        .map(|i| i + from)
    else {
        return;
    };
    *search_from = value_at + quoted_value.len();
    let start = value_at + 1;
    let end = value_at + quoted_value.len() - 1;
    out.push(Candidate::span(
        JSON_NAME_VALUE,
        start,
        end,
        literal,
        generic_confidence(literal).raised(),
        Priority::Structured,
        RpaContext {
            platform: aa.then(|| "automation-anywhere".to_string()),
            argument: Some(name.to_string()),
            ..RpaContext::default()
        },
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn automation_anywhere_variable() {
        let text = r#"{"nodes":[{"commandName":"login","attributes":[{"name":"password","value":{"type":"STRING","string":"Aa-Bot-Pw-31"}},{"name":"username","value":{"type":"STRING","string":"svc"}},{"name":"password2","value":{"type":"CREDENTIAL","credential":{"name":"locker"}}}]}]}"#;
        let mut out = Vec::new();
        scan(text, &mut out).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].secret, "Aa-Bot-Pw-31");
        let crate::detect::Location::Span { start, end } = out[0].location else {
            panic!("span expected")
        };
        assert_eq!(&text[start..end], "Aa-Bot-Pw-31");
    }
}
