//! Report writers: a terminal table, JSON and SARIF 2.1.0.

mod json;
mod sarif;
mod table;

use std::io::Write;

use ward_core::finding::Finding;

use crate::walk::ScanOutcome;

pub use json::write_json;
pub use sarif::write_sarif;
pub use table::write_table;

/// Output formats of `ward scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Aligned text for people.
    Table,
    /// Ward's JSON report.
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF consumers.
    Sarif,
}

/// Counts shown in every report.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Summary {
    /// Files searched.
    pub files: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Findings reported.
    pub findings: usize,
    /// Findings suppressed by the baseline.
    pub baseline_suppressed: usize,
}

/// Writes `outcome` in `format`; findings must already be redacted unless the user
/// asked to see secrets.
pub fn write(
    format: Format,
    outcome: &ScanOutcome,
    summary: &Summary,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        Format::Table => write_table(&outcome.findings, summary, out),
        Format::Json => write_json(outcome, summary, out),
        Format::Sarif => write_sarif(&outcome.findings, out),
    }
}

/// Returns the text shown for a secret: the value when present, else a mask.
pub fn shown_secret(finding: &Finding) -> String {
    match &finding.secret {
        Some(secret) => secret.replace('\n', "\\n"),
        None => format!("REDACTED ({} chars)", finding.secret_length),
    }
}

/// Returns a one-line description of a finding's RPA context.
pub fn context_line(finding: &Finding) -> String {
    let rpa = &finding.rpa;
    let mut parts = Vec::new();
    if let Some(p) = &rpa.platform {
        parts.push(p.clone());
    }
    if let Some(p) = &rpa.project {
        parts.push(format!("project={p}"));
    }
    if let Some(w) = &rpa.workflow {
        parts.push(format!("workflow={w}"));
    }
    if let Some(a) = &rpa.activity {
        parts.push(format!("activity={a}"));
    }
    if let Some(a) = &rpa.argument {
        parts.push(format!("name={a}"));
    }
    if let (Some(s), Some(c)) = (&rpa.sheet, &rpa.cell) {
        parts.push(format!("cell={s}!{c}"));
    }
    parts.join(" ")
}
