//! Ward's JSON report.

use std::io::Write;

use serde::Serialize;
use ward_core::finding::Finding;

use super::Summary;
use crate::scanner::{Skipped, Warning};
use crate::walk::ScanOutcome;

#[derive(Serialize)]
struct JsonReport<'a> {
    tool: &'static str,
    version: &'static str,
    summary: &'a Summary,
    findings: &'a [Finding],
    warnings: &'a [Warning],
    skipped: &'a [Skipped],
}

/// Writes `{"tool", "version", "summary", "findings", "warnings", "skipped"}`.
pub fn write_json(
    outcome: &ScanOutcome,
    summary: &Summary,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let report = JsonReport {
        tool: "ward-scan",
        version: env!("CARGO_PKG_VERSION"),
        summary,
        findings: &outcome.findings,
        warnings: &outcome.warnings,
        skipped: &outcome.skipped,
    };
    serde_json::to_writer_pretty(&mut *out, &report)?;
    writeln!(out)
}
