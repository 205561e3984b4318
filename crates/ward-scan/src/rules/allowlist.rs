//! Allowlists: criteria under which a match is not reported.

use regex::Regex;

use super::compile_regex;
use super::config::AllowlistConfig;
use crate::error::ScanError;

/// What an allowlist's regexes are tested against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllowTarget {
    /// The secret only.
    Secret,
    /// The whole regex match.
    Match,
    /// The whole line.
    Line,
}

/// A compiled allowlist.
#[derive(Debug)]
pub struct Allowlist {
    require_all: bool,
    commits: Vec<String>,
    paths: Vec<Regex>,
    target: AllowTarget,
    regexes: Vec<Regex>,
    stopwords: Vec<String>,
    target_rules: Vec<String>,
}

/// The facts about one candidate that allowlists test.
#[derive(Debug)]
pub struct AllowInput<'a> {
    /// Rule id.
    pub rule_id: &'a str,
    /// Path relative to the scan root, with `/` separators.
    pub path: &'a str,
    /// Commit id, for history scans.
    pub commit: Option<&'a str>,
    /// The secret.
    pub secret: &'a str,
    /// The whole match.
    pub matched: &'a str,
    /// The line holding the match.
    pub line: &'a str,
}

impl Allowlist {
    /// Compiles one allowlist table.
    pub fn compile(config: &AllowlistConfig, origin: &str) -> Result<Allowlist, ScanError> {
        let what = "allowlist";
        let paths = config
            .paths
            .iter()
            .map(|p| compile_regex(p, origin, what))
            .collect::<Result<Vec<_>, _>>()?;
        let regexes = config
            .regexes
            .iter()
            .map(|p| compile_regex(p, origin, what))
            .collect::<Result<Vec<_>, _>>()?;
        let target = match config.regex_target.as_deref() {
            None | Some("secret") => AllowTarget::Secret,
            Some("match") => AllowTarget::Match,
            Some("line") => AllowTarget::Line,
            Some(other) => {
                return Err(ScanError::Config {
                    origin: origin.to_string(),
                    message: format!(
                        "allowlist regexTarget `{other}` is not secret, match or line"
                    ),
                });
            }
        };
        Ok(Allowlist {
            require_all: config
                .condition
                .as_deref()
                .is_some_and(|c| c.eq_ignore_ascii_case("and")),
            commits: config.commits.clone(),
            paths,
            target,
            regexes,
            stopwords: config.stopwords.iter().map(|s| s.to_lowercase()).collect(),
            target_rules: config.target_rules.clone(),
        })
    }

    /// Returns true when the path alone is allowed, so the file need not be read.
    pub fn allows_path(&self, path: &str) -> bool {
        let only_paths =
            self.commits.is_empty() && self.regexes.is_empty() && self.stopwords.is_empty();
        self.target_rules.is_empty()
            && (only_paths || !self.require_all)
            && self.paths.iter().any(|p| p.is_match(path))
    }

    /// Returns true when the candidate is allowed.
    pub fn allows(&self, input: &AllowInput<'_>) -> bool {
        if !self.target_rules.is_empty() && !self.target_rules.iter().any(|r| r == input.rule_id) {
            return false;
        }
        let mut checks: Vec<bool> = Vec::with_capacity(4);
        if !self.commits.is_empty() {
            checks.push(
                input
                    .commit
                    .is_some_and(|c| self.commits.iter().any(|a| a == c)),
            );
        }
        if !self.paths.is_empty() {
            checks.push(self.paths.iter().any(|p| p.is_match(input.path)));
        }
        if !self.regexes.is_empty() {
            let target = match self.target {
                AllowTarget::Secret => input.secret,
                AllowTarget::Match => input.matched,
                AllowTarget::Line => input.line,
            };
            checks.push(self.regexes.iter().any(|r| r.is_match(target)));
        }
        if !self.stopwords.is_empty() {
            let secret = input.secret.to_lowercase();
            checks.push(self.stopwords.iter().any(|w| secret.contains(w.as_str())));
        }
        if checks.is_empty() {
            return false;
        }
        if self.require_all {
            checks.iter().all(|c| *c)
        } else {
            checks.iter().any(|c| *c)
        }
    }
}
