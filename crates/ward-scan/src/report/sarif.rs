//! SARIF 2.1.0 output, in the subset GitHub code scanning reads: one run, rules
//! under `tool.driver.rules`, results with a physical location and a
//! `partialFingerprints` entry.

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::{Value, json};
use ward_core::finding::{Confidence, Finding};

use super::{context_line, shown_secret};

const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Writes a SARIF log with one run.
pub fn write_sarif(findings: &[Finding], out: &mut dyn Write) -> std::io::Result<()> {
    let mut rules = BTreeMap::new();
    for finding in findings {
        rules.entry(finding.rule_id.clone()).or_insert_with(|| {
            json!({
                "id": finding.rule_id,
                "name": finding.rule_id,
                "shortDescription": {"text": finding.description},
                "fullDescription": {"text": finding.description},
                "defaultConfiguration": {"level": "error"},
                "properties": {"tags": ["security", "secret"], "security-severity": "8.0"},
            })
        });
    }
    let results: Vec<Value> = findings.iter().map(result).collect();
    let log = json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "ward-scan",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules.into_values().collect::<Vec<_>>(),
            }},
            "results": results,
        }],
    });
    serde_json::to_writer_pretty(&mut *out, &log)?;
    writeln!(out)
}

/// Returns a relative path as is and an absolute one as a `file://` URI, with
/// spaces and `%` percent-encoded, since SARIF locations are URI references.
fn artifact_uri(path: &str) -> String {
    let encoded = path.replace('%', "%25").replace(' ', "%20");
    if encoded.starts_with('/') {
        format!("file://{encoded}")
    } else {
        encoded
    }
}

fn result(finding: &Finding) -> Value {
    let level = match finding.confidence {
        Confidence::High | Confidence::Medium => "error",
        Confidence::Low => "warning",
    };
    let context = context_line(finding);
    let mut message = format!("{}: {}", finding.description, shown_secret(finding));
    if !context.is_empty() {
        message.push_str(&format!(" ({context})"));
    }
    // An archive member is reported at its archive; SARIF has no member syntax GitHub reads.
    let uri = finding
        .file
        .split('!')
        .next()
        .unwrap_or(&finding.file)
        .replace('\\', "/");
    let uri = artifact_uri(uri.trim_start_matches("./"));
    let mut properties = json!({"confidence": finding.confidence.as_str()});
    if let Some(git) = &finding.git {
        properties["commit"] = json!(git.commit);
        properties["authorDate"] = json!(git.author_date);
    }
    json!({
        "ruleId": finding.rule_id,
        "level": level,
        "message": {"text": message},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": uri},
            "region": {
                "startLine": finding.line,
                "startColumn": finding.column,
                "endLine": finding.end_line,
                "endColumn": finding.end_column.max(finding.column + 1),
            },
        }}],
        "partialFingerprints": {"wardFingerprint/v1": finding.fingerprint},
        "properties": properties,
    })
}

#[cfg(test)]
mod tests {
    use super::artifact_uri;

    #[test]
    fn artifact_uris() {
        assert_eq!(artifact_uri("src/app.config"), "src/app.config");
        assert_eq!(
            artifact_uri("/srv/rpa/Main Flow.xaml"),
            "file:///srv/rpa/Main%20Flow.xaml"
        );
    }
}
