//! Posture findings, such as a hardcoded secret found by `ward scan`.
//!
//! A [`Finding`] is what the scanner prints and what a Ward server stores.
//! The secret itself travels only inside the scanning process: every copy
//! that leaves it (a report, an upload) goes through [`Finding::redact`]
//! unless the user asked to see secrets.

use serde::{Deserialize, Serialize};

/// How sure the scanner is that a match is a live secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// A value with weak evidence: short, low entropy, or only a generic key name.
    Low,
    /// A value under a secret-like name with a credible shape.
    Medium,
    /// A provider token format, a private key, or a strong value in a credential field.
    High,
}

impl Confidence {
    /// Returns the lower-case name used on the command line and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }

    /// Returns the next level up, or `High` when already high.
    pub fn raised(self) -> Confidence {
        match self {
            Confidence::Low => Confidence::Medium,
            Confidence::Medium | Confidence::High => Confidence::High,
        }
    }
}

/// Where in an RPA project a secret sits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RpaContext {
    /// `uipath`, `blueprism`, `power-automate-desktop`, `automation-anywhere` or `excel-config`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// Project name: the folder holding `project.json`, or the scanned folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// Workflow, process or flow name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<String>,
    /// Activity, stage or action that carries the value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<String>,
    /// Argument, variable, property, data item or config key name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub argument: Option<String>,
    /// Worksheet name, for spreadsheet cells.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    /// Cell reference such as `B4`, for spreadsheet cells.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cell: Option<String>,
}

impl RpaContext {
    /// Returns true when no field is set.
    pub fn is_empty(&self) -> bool {
        *self == RpaContext::default()
    }
}

/// The commit in which a secret first appeared, for git history scans.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitOrigin {
    /// Full commit id.
    pub commit: String,
    /// Author date in RFC 3339.
    pub author_date: String,
}

/// A hardcoded secret found by the scanner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Rule that matched, such as `generic-password` or `github-pat`.
    pub rule_id: String,
    /// What the rule detects, in a few words.
    pub description: String,
    /// Path as scanned; an archive member is written `archive.zip!inner/path`.
    pub file: String,
    /// 1-based line of the secret's first character (row for spreadsheet cells).
    pub line: u32,
    /// 1-based column of the secret's first character, counted in characters.
    pub column: u32,
    /// 1-based line of the secret's last character.
    pub end_line: u32,
    /// 1-based column just after the secret's last character.
    pub end_column: u32,
    /// The secret; `None` once redacted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Length of the secret in characters, kept after redaction.
    pub secret_length: usize,
    /// Shannon entropy of the secret in bits per character.
    pub entropy: f64,
    /// Stable id: hex SHA-256 of rule id, root-relative path and secret, first 32 digits.
    pub fingerprint: String,
    /// How sure the scanner is.
    pub confidence: Confidence,
    /// Git commit where the secret first appeared, for `--git` scans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git: Option<GitOrigin>,
    /// RPA context of the value, when the file is an RPA artefact.
    #[serde(default, skip_serializing_if = "RpaContext::is_empty")]
    pub rpa: RpaContext,
    /// Hex SHA-256 of the bytes of the file (or archive member, or git blob) holding the secret.
    pub file_sha256: String,
}

impl Finding {
    /// Drops the secret value, keeping its length and entropy.
    pub fn redact(&mut self) {
        self.secret = None;
    }
}
