//! The per-file pipeline: classify, decode, detect, resolve into findings.

use std::io::{Cursor, Read};

use serde::Serialize;
use sha2::{Digest, Sha256};
use ward_core::finding::{Confidence, Finding, GitOrigin};

use crate::describe::describe;
use crate::detect::{Candidate, Location, TextDetector};
use crate::error::ScanError;
use crate::formats::decode::{Decoded, decode};
use crate::formats::pad::PadDetector;
use crate::formats::{self, FileKind};
use crate::resolve::{LineIndex, dedupe_overlaps};
use crate::rules::{AllowInput, RuleSet};

/// Default largest file read, in bytes (50 MiB).
pub const DEFAULT_MAX_FILE_SIZE: u64 = 50 * 1024 * 1024;

/// Settings of a [`Scanner`].
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Files (and archive members) larger than this many bytes are skipped with a warning.
    pub max_file_size: u64,
    /// Findings below this confidence are dropped.
    pub min_confidence: Confidence,
    /// How many archives deep members are opened (a zip in a zip is depth 2).
    pub max_archive_depth: u8,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            min_confidence: Confidence::Low,
            max_archive_depth: 3,
        }
    }
}

/// One file to scan.
#[derive(Debug, Clone, Copy)]
pub struct FileInput<'a> {
    /// Path as shown in reports.
    pub display_path: &'a str,
    /// Path relative to the scan root with `/` separators; used in fingerprints and allowlists.
    pub rel_path: &'a str,
    /// The content.
    pub bytes: &'a [u8],
    /// Commit where the content first appeared, for history scans.
    pub git: Option<&'a GitOrigin>,
}

/// A problem with one input that did not stop the scan.
#[derive(Debug, Clone, Serialize)]
pub struct Warning {
    /// The file.
    pub path: String,
    /// Description of the problem.
    pub message: String,
}

/// A file that was not searched, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    /// The file.
    pub path: String,
    /// Why, such as `binary`.
    pub reason: String,
}

/// Results for one file (and its archive members).
#[derive(Debug, Default)]
pub struct FileReport {
    /// Findings after allowlists and the confidence filter.
    pub findings: Vec<Finding>,
    /// Problems that did not stop the scan.
    pub warnings: Vec<Warning>,
    /// Files not searched.
    pub skipped: Vec<Skipped>,
}

/// Detectors and settings, built once and shared by all scanning threads.
#[derive(Debug)]
pub struct Scanner {
    detector: TextDetector,
    pad: PadDetector,
    options: ScanOptions,
}

impl Scanner {
    /// Builds a scanner from compiled rules.
    pub fn new(rules: RuleSet, options: ScanOptions) -> Result<Scanner, ScanError> {
        Ok(Scanner {
            detector: TextDetector::new(rules)?,
            pad: PadDetector::new(),
            options,
        })
    }

    /// Returns the settings in use.
    pub fn options(&self) -> &ScanOptions {
        &self.options
    }

    /// Returns true when a global allowlist allows `rel_path` outright.
    pub fn path_allowed(&self, rel_path: &str) -> bool {
        self.detector
            .rules()
            .allowlists
            .iter()
            .any(|a| a.allows_path(rel_path))
    }

    /// Scans one file's bytes, opening archives and workbooks.
    pub fn scan_file(&self, input: &FileInput<'_>, report: &mut FileReport) {
        self.scan_at_depth(input, 0, report);
    }

    fn scan_at_depth(&self, input: &FileInput<'_>, depth: u8, report: &mut FileReport) {
        if self.path_allowed(input.rel_path) {
            return;
        }
        let mut candidates = self.detector.scan_path(input.rel_path);
        match formats::classify(input.display_path, input.bytes) {
            FileKind::Workbook => {
                if let Err(message) = formats::xlsx::scan(
                    input.bytes,
                    input.rel_path,
                    &self.detector,
                    &mut candidates,
                ) {
                    report.warnings.push(Warning {
                        path: input.display_path.to_string(),
                        message,
                    });
                }
                self.resolve(input, None, candidates, report);
            }
            FileKind::Zip => {
                self.resolve(input, None, candidates, report);
                if depth < self.options.max_archive_depth {
                    self.scan_zip(input, depth, report);
                } else {
                    report.skipped.push(Skipped {
                        path: input.display_path.to_string(),
                        reason: format!(
                            "archive nested deeper than {}",
                            self.options.max_archive_depth
                        ),
                    });
                }
            }
            FileKind::Text => match decode(input.bytes) {
                Decoded::Text(text) => {
                    self.scan_text(input, &text, &mut candidates, report);
                    self.resolve(input, Some(&text), candidates, report);
                }
                Decoded::Binary => {
                    self.resolve(input, None, candidates, report);
                    report.skipped.push(Skipped {
                        path: input.display_path.to_string(),
                        reason: "binary".to_string(),
                    });
                }
            },
        }
    }

    fn scan_text(
        &self,
        input: &FileInput<'_>,
        text: &str,
        out: &mut Vec<Candidate>,
        report: &mut FileReport,
    ) {
        out.extend(self.detector.scan(text, input.rel_path));
        let stem = workflow_name(input.display_path);
        if let Some(kind) = formats::xml_kind(input.display_path, text) {
            if let Err(message) = formats::xml::scan(text, kind, &stem, out) {
                report.warnings.push(Warning {
                    path: input.display_path.to_string(),
                    message: format!("{message}; searched as plain text"),
                });
            }
        } else if text
            .trim_start_matches('\u{feff}')
            .trim_start()
            .starts_with('<')
        {
            // Markup under another extension (a `.txt` export, HTML): read the structure
            // when it parses and stay quiet when it does not, as the text detectors ran.
            let _ = formats::xml::scan(text, formats::xml::XmlKind::Other, &stem, out);
        } else if formats::is_json(input.display_path, text) {
            // Invalid JSON is common (comments, templates); the text detectors already ran.
            let _ = formats::json::scan(text, out);
        }
        if formats::is_pad_flow(input.display_path, text) {
            self.pad.scan(text, &stem, out);
        }
    }

    fn scan_zip(&self, input: &FileInput<'_>, depth: u8, report: &mut FileReport) {
        let mut archive = match zip::ZipArchive::new(Cursor::new(input.bytes)) {
            Ok(archive) => archive,
            Err(err) => {
                report.warnings.push(Warning {
                    path: input.display_path.to_string(),
                    message: format!("invalid or truncated zip archive: {err}"),
                });
                return;
            }
        };
        for index in 0..archive.len() {
            let mut entry = match archive.by_index(index) {
                Ok(entry) => entry,
                Err(err) => {
                    report.warnings.push(Warning {
                        path: input.display_path.to_string(),
                        message: format!("failed to read archive member {index}: {err}"),
                    });
                    continue;
                }
            };
            if entry.is_dir() {
                continue;
            }
            let name = match entry.name() {
                Ok(name) => name.into_owned(),
                Err(_) => String::from_utf8_lossy(entry.name_raw()).into_owned(),
            };
            let display = format!("{}!{}", input.display_path, name);
            if entry.size() > self.options.max_file_size {
                report.warnings.push(Warning {
                    path: display,
                    message: format!(
                        "skipped: {} bytes is over the size limit of {} bytes",
                        entry.size(),
                        self.options.max_file_size
                    ),
                });
                continue;
            }
            let mut bytes = Vec::new();
            if let Err(err) = (&mut entry)
                .take(self.options.max_file_size)
                .read_to_end(&mut bytes)
            {
                report.warnings.push(Warning {
                    path: display,
                    message: format!("failed to unpack: {err}"),
                });
                continue;
            }
            drop(entry);
            let rel = format!("{}!{}", input.rel_path, name);
            let member = FileInput {
                display_path: &display,
                rel_path: &rel,
                bytes: &bytes,
                git: input.git,
            };
            self.scan_at_depth(&member, depth + 1, report);
        }
    }

    fn resolve(
        &self,
        input: &FileInput<'_>,
        text: Option<&str>,
        candidates: Vec<Candidate>,
        report: &mut FileReport,
    ) {
        if candidates.is_empty() {
            return;
        }
        let candidates = dedupe_overlaps(candidates);
        let lines = text.map(LineIndex::new);
        let file_sha256 = hex::encode(Sha256::digest(input.bytes));
        let rules = self.detector.rules();
        let mut reported = std::collections::HashSet::new();
        for candidate in candidates {
            if candidate.confidence < self.options.min_confidence {
                continue;
            }
            let (line, column, end_line, end_column, line_text, matched) =
                match (&candidate.location, text, &lines) {
                    (Location::Span { start, end }, Some(text), Some(index)) => {
                        let (line, column) = index.position(text, *start);
                        let (end_line, end_column) = index.position(text, *end);
                        let matched = candidate
                            .matched
                            .and_then(|(s, e)| text.get(s..e))
                            .unwrap_or("");
                        (
                            line,
                            column,
                            end_line,
                            end_column,
                            index.line_text(text, *start),
                            matched,
                        )
                    }
                    (Location::Cell { row, col }, _, _) => (
                        row + 1,
                        col + 1,
                        row + 1,
                        col + 2,
                        candidate.secret.as_str(),
                        "",
                    ),
                    _ => (1, 1, 1, 1, "", ""),
                };
            if line_text.contains("gitleaks:allow") || line_text.contains("ward:allow") {
                continue;
            }
            let allow_input = AllowInput {
                rule_id: &candidate.rule_id,
                path: input.rel_path,
                commit: input.git.map(|g| g.commit.as_str()),
                secret: &candidate.secret,
                matched: if matched.is_empty() {
                    &candidate.secret
                } else {
                    matched
                },
                line: line_text,
            };
            let rule = candidate.rule_index.and_then(|i| rules.rules.get(i));
            let rule_allows =
                rule.is_some_and(|r| r.allowlists.iter().any(|a| a.allows(&allow_input)));
            if rule_allows || rules.allowlists.iter().any(|a| a.allows(&allow_input)) {
                continue;
            }
            // One secret repeated on one line (a log record) is reported once.
            if !reported.insert((candidate.rule_id.clone(), candidate.secret.clone(), line)) {
                continue;
            }
            let description = rule.map_or_else(
                || describe(&candidate.rule_id).to_string(),
                |r| r.description.clone(),
            );
            report.findings.push(self.finding(
                input,
                candidate,
                description,
                (line, column, end_line, end_column),
                &file_sha256,
            ));
        }
    }

    fn finding(
        &self,
        input: &FileInput<'_>,
        candidate: Candidate,
        description: String,
        (line, column, end_line, end_column): (u32, u32, u32, u32),
        file_sha256: &str,
    ) -> Finding {
        let mut context = candidate.context;
        if context.platform.is_none() {
            context.platform = formats::platform(input.display_path).map(str::to_string);
        }
        if context.platform.is_some() && context.workflow.is_none() && context.sheet.is_none() {
            context.workflow = Some(workflow_name(input.display_path));
        }
        Finding {
            fingerprint: fingerprint(&candidate.rule_id, input.rel_path, &candidate.secret),
            rule_id: candidate.rule_id,
            description,
            file: input.display_path.to_string(),
            line,
            column,
            end_line,
            end_column,
            secret_length: candidate.secret.chars().count(),
            entropy: (crate::detect::value::shannon_entropy(&candidate.secret) * 100.0).round()
                / 100.0,
            secret: Some(candidate.secret),
            confidence: candidate.confidence,
            git: input.git.cloned(),
            rpa: context,
            file_sha256: file_sha256.to_string(),
        }
    }
}

/// Returns the stable fingerprint of a finding: the first 32 hex digits of
/// SHA-256 over rule id, root-relative path and secret, separated by NUL bytes.
/// It does not depend on line numbers or commits, so it survives edits above the
/// secret and history rewrites, and one secret repeated in a file shares one fingerprint.
pub fn fingerprint(rule_id: &str, rel_path: &str, secret: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(rule_id.as_bytes());
    hasher.update([0u8]);
    hasher.update(rel_path.as_bytes());
    hasher.update([0u8]);
    hasher.update(secret.as_bytes());
    let digest = hex::encode(hasher.finalize());
    digest[..32].to_string()
}

/// Returns a file's name without extension, used as the workflow name.
fn workflow_name(path: &str) -> String {
    let name = formats::file_name(path);
    name.rsplit_once('.')
        .map_or(name, |(stem, _)| stem)
        .to_string()
}
