//! Splitting a decompressed file into JSON or CSV records.

use std::collections::VecDeque;

use serde_json::Value;
use ward_core::event::Event;

use super::csv_log::{CsvMapping, CsvRows};
use super::{Format, ParseError, event_from_json};

/// Marker that CloudWatch appends to a message it cut at its size limit.
const TRUNCATION_MARKER: &str = "[Truncated...]";

/// The records of one file, parsed lazily into events.
pub struct Records<'a> {
    format: Format,
    source: Source<'a>,
    pending: VecDeque<Pending>,
    digest: bool,
}

/// A record waiting to be mapped: its line, its position inside a whole
/// document (for error messages), and the JSON value or why it is invalid.
type Pending = (usize, Option<usize>, Result<Value, String>);

/// Lines of a byte buffer with their 0-based index.
type NumberedLines<'a> = std::iter::Enumerate<std::slice::Split<'a, u8, fn(&u8) -> bool>>;

enum Source<'a> {
    /// One JSON object per line.
    Lines { lines: NumberedLines<'a> },
    /// Everything was split up front into `pending`.
    Done,
    /// CSV rows.
    Csv(Box<CsvRows<'a>>),
}

fn is_newline(byte: &u8) -> bool {
    *byte == b'\n'
}

impl<'a> Records<'a> {
    pub(crate) fn csv(mapping: &'a CsvMapping, bytes: &'a [u8]) -> Self {
        Records {
            format: Format::Csv,
            source: Source::Csv(Box::new(CsvRows::new(mapping, bytes))),
            pending: VecDeque::new(),
            digest: false,
        }
    }

    pub(crate) fn json(format: Format, bytes: &'a [u8]) -> Self {
        let mut records = Records {
            format,
            source: Source::Done,
            pending: VecDeque::new(),
            digest: false,
        };
        let text = String::from_utf8_lossy(bytes);
        if text.trim().is_empty() {
            return records;
        }
        match serde_json::from_str::<Value>(&text) {
            Ok(value) => records.push_value(1, value, true),
            Err(_) => {
                let first_line_is_value = text
                    .trim_start()
                    .lines()
                    .next()
                    .is_some_and(|line| serde_json::from_str::<Value>(line).is_ok());
                if first_line_is_value || !text.trim_start().starts_with(['{', '[']) {
                    let split: fn(&u8) -> bool = is_newline;
                    records.source = Source::Lines {
                        lines: bytes.split(split).enumerate(),
                    };
                } else {
                    salvage(&text, &mut records.pending);
                }
            }
        }
        records.digest = format == Format::CloudTrail && records.first_is_digest();
        records
    }

    /// True when the file is a CloudTrail digest file rather than a log file.
    pub fn is_cloudtrail_digest(&self) -> bool {
        self.digest
    }

    fn first_is_digest(&mut self) -> bool {
        if self.pending.is_empty() {
            self.fill();
        }
        match self.pending.front() {
            Some((_, _, Ok(value))) => is_digest(value),
            _ => false,
        }
    }

    /// Queues `value`, unwrapping the record arrays that logs put records in.
    fn push_value(&mut self, line: usize, value: Value, whole_document: bool) {
        if is_digest(&value) {
            self.pending.push_back((line, None, Ok(value)));
            return;
        }
        match container_items(value) {
            Ok(items) => {
                for (index, item) in items.into_iter().enumerate() {
                    let record = whole_document.then_some(index + 1);
                    self.pending.push_back((line, record, Ok(item)));
                }
            }
            Err(value) => self.pending.push_back((line, None, Ok(value))),
        }
    }

    /// Moves at least one record into `pending` unless the source is done.
    fn fill(&mut self) {
        while self.pending.is_empty() {
            let Source::Lines { lines } = &mut self.source else {
                return;
            };
            let Some((index, raw)) = lines.next() else {
                self.source = Source::Done;
                return;
            };
            let line = String::from_utf8_lossy(raw);
            let trimmed = line.trim();
            if trimmed.is_empty() {
                continue;
            }
            match parse_line(trimmed) {
                Ok(value) => self.push_value(index + 1, value, false),
                Err(reason) => self.pending.push_back((index + 1, None, Err(reason))),
            }
        }
    }
}

impl Records<'_> {
    /// The next record with the line it starts on.
    pub fn next_numbered(&mut self) -> Option<(usize, Result<Event, ParseError>)> {
        if let Source::Csv(rows) = &mut self.source {
            return rows.next_numbered();
        }
        if self.pending.is_empty() {
            self.fill();
        }
        let (line, record, value) = self.pending.pop_front()?;
        let result = value.and_then(|value| {
            if is_digest(&value) {
                return Err("cloudtrail digest record, no events".to_string());
            }
            event_from_json(self.format, &value)
        });
        let result = result.map_err(|reason| match record {
            Some(record) => ParseError {
                line,
                reason: format!("record {record}: {reason}"),
            },
            None => ParseError { line, reason },
        });
        Some((line, result))
    }
}

impl Iterator for Records<'_> {
    type Item = Result<Event, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_numbered().map(|(_, result)| result)
    }
}

fn parse_line(line: &str) -> Result<Value, String> {
    if line.ends_with(TRUNCATION_MARKER) {
        return Err(format!(
            "truncated JSON: the record ends with `{TRUNCATION_MARKER}`"
        ));
    }
    serde_json::from_str(line).map_err(|err| describe_json_error(&err))
}

fn describe_json_error(err: &serde_json::Error) -> String {
    if err.is_eof() {
        format!("truncated JSON: {err}")
    } else {
        format!("invalid JSON: {err}")
    }
}

/// True for a CloudTrail digest record: integrity data, no `Records`.
fn is_digest(value: &Value) -> bool {
    value.get("Records").is_none()
        && (value.get("digestStartTime").is_some() || value.get("logFiles").is_some())
}

/// Returns the records inside a container value, or the value itself.
fn container_items(value: Value) -> Result<Vec<Value>, Value> {
    match value {
        Value::Array(items) => Ok(items),
        Value::Object(mut map) => {
            let key = ["Records", "records", "value", "items"]
                .into_iter()
                .find(|key| map.get(*key).is_some_and(Value::is_array));
            match key.and_then(|key| map.remove(key)) {
                Some(Value::Array(items)) => Ok(items),
                Some(other) => Err(other),
                None => Err(Value::Object(map)),
            }
        }
        other => Err(other),
    }
}

/// Walks the record array of an invalid document one element at a time, so
/// the records before the first broken one are kept.
fn salvage(text: &str, out: &mut VecDeque<Pending>) {
    let Some(start) = array_start(text) else {
        let reason = match serde_json::from_str::<Value>(text) {
            Err(err) => describe_json_error(&err),
            Ok(_) => "invalid JSON document".to_string(),
        };
        out.push_back((1, None, Err(reason)));
        return;
    };
    let bytes = text.as_bytes();
    let mut pos = start;
    loop {
        while pos < bytes.len() && (bytes[pos].is_ascii_whitespace() || bytes[pos] == b',') {
            pos += 1;
        }
        let line = line_of(text, pos);
        match bytes.get(pos) {
            None => {
                out.push_back((
                    line,
                    None,
                    Err("truncated JSON: the record array is not closed".into()),
                ));
                return;
            }
            Some(b']') => return,
            Some(_) => {}
        }
        let Some(rest) = text.get(pos..) else { return };
        let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
        match stream.next() {
            Some(Ok(value)) => {
                out.push_back((line, None, Ok(value)));
                pos += stream.byte_offset();
            }
            Some(Err(err)) => {
                let at = line + err.line().saturating_sub(1);
                out.push_back((
                    at,
                    None,
                    Err(format!(
                        "{}; the records after it in this file were skipped",
                        describe_json_error(&err)
                    )),
                ));
                return;
            }
            None => return,
        }
    }
}

/// Byte offset just after the `[` of the record array of a document.
fn array_start(text: &str) -> Option<usize> {
    let trimmed = text.trim_start();
    let offset = text.len() - trimmed.len();
    if trimmed.starts_with('[') {
        return Some(offset + 1);
    }
    for key in ["\"Records\"", "\"records\"", "\"value\"", "\"items\""] {
        if let Some(found) = text.find(key) {
            let after = &text[found + key.len()..];
            let after_colon = after.trim_start().strip_prefix(':')?.trim_start();
            if after_colon.starts_with('[') {
                return Some(text.len() - after_colon.len() + 1);
            }
        }
    }
    None
}

fn line_of(text: &str, pos: usize) -> usize {
    text.as_bytes()[..pos.min(text.len())]
        .iter()
        .filter(|byte| **byte == b'\n')
        .count()
        + 1
}
