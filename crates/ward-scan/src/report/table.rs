//! The terminal table.

use std::io::Write;

use ward_core::finding::Finding;

use super::{Summary, context_line, shown_secret};

/// Writes one block per finding and a closing summary line.
pub fn write_table(
    findings: &[Finding],
    summary: &Summary,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    for finding in findings {
        writeln!(
            out,
            "{:<6} {}  {}:{}:{}",
            finding.confidence.as_str().to_uppercase(),
            finding.rule_id,
            finding.file,
            finding.line,
            finding.column
        )?;
        writeln!(out, "       {}", finding.description)?;
        let context = context_line(finding);
        if !context.is_empty() {
            writeln!(out, "       context: {context}")?;
        }
        if let Some(git) = &finding.git {
            writeln!(out, "       commit: {} ({})", git.commit, git.author_date)?;
        }
        writeln!(out, "       secret: {}", shown_secret(finding))?;
        writeln!(out, "       fingerprint: {}", finding.fingerprint)?;
        writeln!(out)?;
    }
    writeln!(
        out,
        "{} finding(s) in {} file(s), {} bytes scanned{}",
        summary.findings,
        summary.files,
        summary.bytes,
        if summary.baseline_suppressed > 0 {
            format!(
                "; {} suppressed by the baseline",
                summary.baseline_suppressed
            )
        } else {
            String::new()
        }
    )
}
