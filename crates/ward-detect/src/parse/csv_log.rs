//! CSV activity exports with a header row and a column mapping.

use std::collections::HashMap;
use std::str::FromStr;

use ward_core::event::{Actor, Event, FailureClass, IdentityKind, Status};

use super::ParseError;
use super::cloudtrail::failure_class;
use super::fields::parse_time;

/// The CSV column of each event field, written on the command line as
/// `time=Timestamp,identity=User,operation=Action,service=System`.
///
/// `time`, `identity` and `operation` are required. The optional fields are
/// `service`, `resource`, `status` (success when empty, `success`, `ok`,
/// `true` or `0`), `error_code`, `src_ip`, `user_agent`, `records`, `bytes`,
/// `session` and `id`. A row without an `id` column gets a hash of its text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CsvMapping {
    columns: HashMap<String, String>,
}

const FIELDS: [&str; 14] = [
    "time",
    "identity",
    "operation",
    "service",
    "resource",
    "status",
    "error_code",
    "src_ip",
    "user_agent",
    "records",
    "bytes",
    "session",
    "id",
    "kind",
];

/// An invalid CSV column mapping.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid csv mapping `{value}`: {reason}")]
pub struct CsvMappingError {
    value: String,
    reason: String,
}

impl FromStr for CsvMapping {
    type Err = CsvMappingError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let error = |reason: String| CsvMappingError {
            value: value.to_string(),
            reason,
        };
        let mut columns = HashMap::new();
        for pair in value.split(',').filter(|pair| !pair.trim().is_empty()) {
            let (field, column) = pair
                .split_once('=')
                .ok_or_else(|| error(format!("`{pair}` is not field=column")))?;
            let field = field.trim();
            if !FIELDS.contains(&field) {
                return Err(error(format!(
                    "unknown field `{field}`, expected one of {}",
                    FIELDS.join(", ")
                )));
            }
            columns.insert(field.to_string(), column.trim().to_string());
        }
        for required in ["time", "identity", "operation"] {
            if !columns.contains_key(required) {
                return Err(error(format!("missing required field `{required}`")));
            }
        }
        Ok(CsvMapping { columns })
    }
}

pub(crate) struct CsvRows<'a> {
    mapping: &'a CsvMapping,
    reader: csv::Reader<&'a [u8]>,
    positions: Option<Result<HashMap<String, usize>, String>>,
    record: csv::StringRecord,
    done: bool,
}

impl<'a> CsvRows<'a> {
    pub(crate) fn new(mapping: &'a CsvMapping, bytes: &'a [u8]) -> Self {
        let reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
        CsvRows {
            mapping,
            reader,
            positions: None,
            record: csv::StringRecord::new(),
            done: false,
        }
    }

    fn positions(&mut self) -> Result<HashMap<String, usize>, String> {
        if let Some(positions) = &self.positions {
            return positions.clone();
        }
        let headers = self
            .reader
            .headers()
            .map_err(|err| format!("invalid csv header: {err}"))?
            .clone();
        let result = self
            .mapping
            .columns
            .iter()
            .map(|(field, column)| {
                headers
                    .iter()
                    .position(|header| header.trim() == column)
                    .map(|index| (field.clone(), index))
                    .ok_or_else(|| {
                        format!("csv header has no column `{column}` (mapped to `{field}`)")
                    })
            })
            .collect::<Result<HashMap<_, _>, _>>();
        self.positions = Some(result.clone());
        result
    }
}

impl CsvRows<'_> {
    pub(crate) fn next_numbered(&mut self) -> Option<(usize, Result<Event, ParseError>)> {
        if self.done {
            return None;
        }
        let positions = match self.positions() {
            Ok(positions) => positions,
            Err(reason) => {
                self.done = true;
                return Some((1, Err(ParseError { line: 1, reason })));
            }
        };
        match self.reader.read_record(&mut self.record) {
            Ok(false) => {
                self.done = true;
                None
            }
            Ok(true) => {
                let line = self.record.position().map_or(0, |p| p.line() as usize);
                Some((
                    line,
                    row_event(&positions, &self.record)
                        .map_err(|reason| ParseError { line, reason }),
                ))
            }
            Err(err) => {
                let line = err.position().map_or(0, |p| p.line() as usize);
                Some((
                    line,
                    Err(ParseError {
                        line,
                        reason: format!("invalid csv row: {err}"),
                    }),
                ))
            }
        }
    }
}

fn row_event(positions: &HashMap<String, usize>, row: &csv::StringRecord) -> Result<Event, String> {
    let get = |field: &str| {
        positions
            .get(field)
            .and_then(|index| row.get(*index))
            .map(str::trim)
            .filter(|text| !text.is_empty())
    };
    let time_text = get("time").ok_or("empty `time` column")?;
    let time = parse_time(time_text)
        .ok_or_else(|| format!("invalid timestamp in `time`: `{time_text}`"))?;
    let identity = get("identity").ok_or("empty `identity` column")?;
    let operation = get("operation").ok_or("empty `operation` column")?;
    let kind = match get("kind") {
        Some(kind) => serde_json::from_value(serde_json::Value::String(kind.to_string()))
            .map_err(|_| format!("unknown identity kind `{kind}`"))?,
        None => IdentityKind::Other,
    };
    let uid = match get("id") {
        Some(id) => id.to_string(),
        None => {
            let text: Vec<&str> = row.iter().collect();
            super::fields::derived_uid("csv", &serde_json::Value::from(text.join("\u{1f}")))
        }
    };
    let mut event = Event::new(
        uid,
        time,
        Actor::new(identity, kind).with_name(identity),
        operation,
        get("service").unwrap_or("unknown"),
    );
    event.source = "csv".to_string();
    event.resource = get("resource").map(str::to_string);
    event.src_ip = get("src_ip").map(str::to_string);
    event.user_agent = get("user_agent").map(str::to_string);
    event.session_uid = get("session").map(str::to_string);
    event.volume.records = get("records").and_then(|n| n.parse().ok());
    event.volume.bytes = get("bytes").and_then(|n| n.parse().ok());
    event.status_code = get("error_code").map(str::to_string);
    let success = match get("status").map(str::to_ascii_lowercase).as_deref() {
        None => event.status_code.is_none(),
        Some("success" | "ok" | "true" | "0" | "succeeded" | "allowed") => true,
        Some(_) => false,
    };
    if !success {
        event.status = Status::Failure;
        event.failure = Some(match (event.status_code.as_deref(), get("status")) {
            (Some(code), _) => failure_class(code),
            (None, Some(status)) => named_failure(status),
            (None, None) => FailureClass::Error,
        });
    }
    Ok(event)
}

fn named_failure(status: &str) -> FailureClass {
    match status.to_ascii_lowercase().as_str() {
        "auth_failed" | "unauthenticated" | "401" => FailureClass::AuthFailed,
        "permission_denied" | "denied" | "forbidden" | "403" => FailureClass::PermissionDenied,
        "throttled" | "429" => FailureClass::Throttled,
        other => failure_class(other),
    }
}
