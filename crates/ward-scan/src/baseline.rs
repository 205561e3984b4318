//! Baselines: fingerprints of accepted findings, which later scans suppress.
//!
//! A baseline file is either a JSON report written by `ward scan --format json`
//! (an object with `findings`, or a bare array of findings), or plain text with
//! one fingerprint per line (`#` starts a comment).

use std::collections::HashSet;
use std::path::Path;

use serde_json::Value;
use ward_core::finding::Finding;

use crate::error::ScanError;

/// A set of accepted fingerprints.
#[derive(Debug, Default)]
pub struct Baseline {
    fingerprints: HashSet<String>,
}

impl Baseline {
    /// Loads a baseline file.
    pub fn load(path: &Path) -> Result<Baseline, ScanError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScanError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Baseline::parse(&text).map_err(|message| ScanError::Baseline {
            path: path.display().to_string(),
            message,
        })
    }

    /// Parses baseline text.
    pub fn parse(text: &str) -> Result<Baseline, String> {
        let trimmed = text.trim_start();
        let mut fingerprints = HashSet::new();
        if trimmed.starts_with('{') || trimmed.starts_with('[') {
            let value: Value =
                serde_json::from_str(text).map_err(|err| format!("not valid JSON: {err}"))?;
            let findings = match &value {
                Value::Array(items) => items,
                Value::Object(map) => match map.get("findings") {
                    Some(Value::Array(items)) => items,
                    _ => return Err("JSON object has no `findings` array".to_string()),
                },
                _ => return Err("JSON is neither an object nor an array".to_string()),
            };
            for finding in findings {
                let fingerprint = finding
                    .get("fingerprint")
                    .and_then(Value::as_str)
                    .ok_or_else(|| "a finding has no `fingerprint` string".to_string())?;
                fingerprints.insert(fingerprint.to_string());
            }
        } else {
            for line in text.lines() {
                let line = line.split('#').next().unwrap_or("").trim();
                if !line.is_empty() {
                    fingerprints.insert(line.to_string());
                }
            }
        }
        Ok(Baseline { fingerprints })
    }

    /// Number of accepted fingerprints.
    pub fn len(&self) -> usize {
        self.fingerprints.len()
    }

    /// Returns true when the baseline accepts nothing.
    pub fn is_empty(&self) -> bool {
        self.fingerprints.is_empty()
    }

    /// Removes accepted findings and returns how many were removed.
    pub fn filter(&self, findings: &mut Vec<Finding>) -> usize {
        let before = findings.len();
        findings.retain(|f| !self.fingerprints.contains(&f.fingerprint));
        before - findings.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_report_and_lines() {
        let report =
            Baseline::parse(r#"{"findings":[{"fingerprint":"abc"},{"fingerprint":"def"}]}"#)
                .unwrap();
        assert_eq!(report.len(), 2);
        let lines = Baseline::parse("abc\n# note\n\ndef # old key\n").unwrap();
        assert_eq!(lines.len(), 2);
        assert!(Baseline::parse(r#"{"other":1}"#).is_err());
    }
}
