//! The gitleaks TOML configuration schema, which Ward's own rule file also uses.
//!
//! Field names follow gitleaks 8.x: `[[rules]]` with `regex`, `secretGroup`,
//! `entropy`, `keywords`, `path`, and allowlists written either as the older
//! single `[allowlist]` table or as `[[allowlists]]` arrays. Ward adds
//! `examples`, `negative_examples` and `confidence`, which gitleaks ignores.

use serde::Deserialize;

/// A whole configuration file.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigFile {
    /// Free text.
    #[serde(default)]
    pub title: Option<String>,
    /// `[extend] useDefault = true` adds Ward's built-in rules to the file's.
    #[serde(default)]
    pub extend: Option<Extend>,
    /// The rules.
    #[serde(default)]
    pub rules: Vec<RuleConfig>,
    /// Older single global allowlist.
    #[serde(default)]
    pub allowlist: Option<AllowlistConfig>,
    /// Newer list of global allowlists.
    #[serde(default)]
    pub allowlists: Vec<AllowlistConfig>,
}

/// The `[extend]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Extend {
    /// Keep the built-in rules next to the file's own.
    #[serde(default)]
    pub use_default: bool,
}

/// One `[[rules]]` entry.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleConfig {
    /// Rule id, such as `github-pat`.
    pub id: String,
    /// What the rule detects.
    #[serde(default)]
    pub description: Option<String>,
    /// Regular expression over file content (RE2 syntax; Rust's `regex` accepts nearly all of it).
    #[serde(default)]
    pub regex: Option<String>,
    /// Capture group holding the secret; 0 or absent picks the first non-empty group, else the whole match.
    #[serde(default)]
    pub secret_group: Option<usize>,
    /// Minimum Shannon entropy of the secret, in bits per character.
    #[serde(default)]
    pub entropy: Option<f64>,
    /// Lower-case words of which at least one must occur in the content for the rule to run.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Regular expression over the file path; alone, it reports the file itself.
    #[serde(default)]
    pub path: Option<String>,
    /// Free-form tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Older single per-rule allowlist.
    #[serde(default)]
    pub allowlist: Option<AllowlistConfig>,
    /// Newer list of per-rule allowlists.
    #[serde(default)]
    pub allowlists: Vec<AllowlistConfig>,
    /// Strings the rule must match (Ward extension, checked by a test).
    #[serde(default)]
    pub examples: Vec<String>,
    /// Strings the rule must not match (Ward extension, checked by a test).
    #[serde(default, rename = "negative_examples")]
    pub negative_examples: Vec<String>,
    /// `low`, `medium` or `high` (Ward extension; defaults to `high`).
    #[serde(default)]
    pub confidence: Option<String>,
}

/// One allowlist: a finding matching it is dropped.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AllowlistConfig {
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// `OR` (default) or `AND` between the kinds of criteria given.
    #[serde(default)]
    pub condition: Option<String>,
    /// Commit ids whose findings are allowed.
    #[serde(default)]
    pub commits: Vec<String>,
    /// Regular expressions over the file path.
    #[serde(default)]
    pub paths: Vec<String>,
    /// What `regexes` test: `secret` (default), `match` or `line`.
    #[serde(default)]
    pub regex_target: Option<String>,
    /// Regular expressions over the target.
    #[serde(default)]
    pub regexes: Vec<String>,
    /// Substrings that, found in the secret, allow it.
    #[serde(default)]
    pub stopwords: Vec<String>,
    /// Rule ids this global allowlist applies to (all when empty).
    #[serde(default)]
    pub target_rules: Vec<String>,
}
