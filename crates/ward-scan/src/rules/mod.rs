//! Detection rules: Ward's built-in set and gitleaks configuration files.

mod allowlist;
pub mod config;

use std::path::Path;

use regex::Regex;
use ward_core::finding::Confidence;

pub use allowlist::{AllowInput, AllowTarget, Allowlist};
use config::{ConfigFile, RuleConfig};

use crate::error::ScanError;

/// Ward's built-in rules, in the gitleaks schema plus examples.
const BUILTIN_RULES: &str = include_str!("builtin.toml");

/// Regexes from third-party configs can be large (gitleaks' generic rule is); this
/// raises the compiled-size cap from the `regex` default of 10 MiB.
const REGEX_SIZE_LIMIT: usize = 64 * 1024 * 1024;

/// One compiled regex rule.
#[derive(Debug)]
pub struct Rule {
    /// Rule id.
    pub id: String,
    /// Description of what the rule detects.
    pub description: String,
    /// Content regex; `None` for a path-only rule.
    pub regex: Option<Regex>,
    /// Capture group holding the secret.
    pub secret_group: Option<usize>,
    /// Minimum Shannon entropy of the secret.
    pub entropy: Option<f64>,
    /// Lower-case keywords; the rule runs only when one occurs in the content.
    pub keywords: Vec<String>,
    /// Path regex.
    pub path: Option<Regex>,
    /// Per-rule allowlists.
    pub allowlists: Vec<Allowlist>,
    /// Confidence given to matches.
    pub confidence: Confidence,
    /// Strings the rule must match.
    pub examples: Vec<String>,
    /// Strings the rule must not match.
    pub negative_examples: Vec<String>,
}

/// A compiled set of rules and global allowlists.
#[derive(Debug, Default)]
pub struct RuleSet {
    /// Regex rules, in file order.
    pub rules: Vec<Rule>,
    /// Global allowlists.
    pub allowlists: Vec<Allowlist>,
}

impl RuleSet {
    /// Compiles the built-in rules.
    pub fn builtin() -> Result<RuleSet, ScanError> {
        RuleSet::from_toml(BUILTIN_RULES, "built-in rules")
    }

    /// Loads a gitleaks-style TOML file; `[extend] useDefault = true` adds the built-in rules.
    pub fn from_file(path: &Path) -> Result<RuleSet, ScanError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScanError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let origin = path.display().to_string();
        let file: ConfigFile = toml::from_str(&text).map_err(|err| ScanError::Config {
            origin: origin.clone(),
            message: err.to_string(),
        })?;
        let use_default = file.extend.as_ref().is_some_and(|e| e.use_default);
        let mut set = RuleSet::from_config(file, &origin)?;
        if use_default {
            let builtin = RuleSet::builtin()?;
            set.rules.extend(builtin.rules);
            set.allowlists.extend(builtin.allowlists);
        }
        Ok(set)
    }

    /// Compiles rules from TOML text; `origin` names the source in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<RuleSet, ScanError> {
        let file: ConfigFile = toml::from_str(text).map_err(|err| ScanError::Config {
            origin: origin.to_string(),
            message: err.to_string(),
        })?;
        RuleSet::from_config(file, origin)
    }

    fn from_config(file: ConfigFile, origin: &str) -> Result<RuleSet, ScanError> {
        let mut allowlists = Vec::new();
        for config in file.allowlist.into_iter().chain(file.allowlists) {
            allowlists.push(Allowlist::compile(&config, origin)?);
        }
        let mut rules = Vec::with_capacity(file.rules.len());
        for config in file.rules {
            rules.push(compile_rule(config, origin)?);
        }
        Ok(RuleSet { rules, allowlists })
    }
}

/// Compiles a regex with the raised size limit, naming the rule on failure.
pub(crate) fn compile_regex(pattern: &str, origin: &str, what: &str) -> Result<Regex, ScanError> {
    let pattern = escape_literal_braces(pattern);
    regex::RegexBuilder::new(&pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|err| ScanError::Config {
            origin: origin.to_string(),
            message: format!("invalid regex in {what}: {err}"),
        })
}

/// Escapes each `{` that does not open a repetition (`{n}`, `{n,}`, `{n,m}`).
///
/// Go's RE2, which gitleaks configurations are written for, reads such a brace
/// as a literal, as in `^\$(?:\d+|{\d+})$`; Rust's `regex` rejects it.
fn escape_literal_braces(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 4);
    let mut in_class = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            out.push(c);
            if let Some(next) = chars.get(i + 1) {
                out.push(*next);
            }
            i += 2;
            continue;
        }
        if in_class {
            in_class = c != ']';
        } else if c == '[' {
            in_class = true;
            // A `]` right after `[` or `[^` is a literal member of the class.
            out.push(c);
            i += 1;
            if chars.get(i) == Some(&'^') {
                out.push('^');
                i += 1;
            }
            if chars.get(i) == Some(&']') {
                out.push(']');
                i += 1;
            }
            continue;
        } else if c == '{' {
            let previous = out.chars().last();
            let repeatable = previous.is_some_and(|p| p != '(' && p != '|');
            if !repeatable || !is_repetition(&chars[i + 1..]) {
                out.push_str("\\{");
                i += 1;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

/// Returns true when `rest` (the text after a `{`) reads `n}`, `n,}` or `n,m}`.
fn is_repetition(rest: &[char]) -> bool {
    let close = match rest.iter().position(|c| *c == '}') {
        Some(close) => close,
        None => return false,
    };
    let body: String = rest[..close].iter().collect();
    let mut parts = body.splitn(2, ',');
    let min = parts.next().unwrap_or("");
    let max = parts.next();
    !min.is_empty()
        && min.chars().all(|c| c.is_ascii_digit())
        && max.is_none_or(|m| m.chars().all(|c| c.is_ascii_digit()))
}

fn compile_rule(config: RuleConfig, origin: &str) -> Result<Rule, ScanError> {
    let what = format!("rule `{}`", config.id);
    let regex = match &config.regex {
        Some(pattern) => Some(compile_regex(pattern, origin, &what)?),
        None => None,
    };
    let path = match &config.path {
        Some(pattern) => Some(compile_regex(pattern, origin, &what)?),
        None => None,
    };
    if regex.is_none() && path.is_none() {
        return Err(ScanError::Config {
            origin: origin.to_string(),
            message: format!("{what} has neither `regex` nor `path`; give at least one"),
        });
    }
    let mut allowlists = Vec::new();
    for allow in config.allowlist.iter().chain(config.allowlists.iter()) {
        allowlists.push(Allowlist::compile(allow, origin)?);
    }
    let confidence = match config.confidence.as_deref() {
        None | Some("high") => Confidence::High,
        Some("medium") => Confidence::Medium,
        Some("low") => Confidence::Low,
        Some(other) => {
            return Err(ScanError::Config {
                origin: origin.to_string(),
                message: format!("{what} has confidence `{other}`; use low, medium or high"),
            });
        }
    };
    Ok(Rule {
        description: config.description.unwrap_or_else(|| config.id.clone()),
        id: config.id,
        regex,
        secret_group: config.secret_group,
        entropy: config.entropy,
        keywords: config.keywords.iter().map(|k| k.to_lowercase()).collect(),
        path,
        allowlists,
        confidence,
        examples: config.examples,
        negative_examples: config.negative_examples,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_literal_braces_escaped() {
        assert_eq!(
            escape_literal_braces(r"^\$(?:\d+|{\d+})$"),
            r"^\$(?:\d+|\{\d+})$"
        );
        assert_eq!(escape_literal_braces(r"a{2,3}b{4}"), r"a{2,3}b{4}");
        assert_eq!(
            escape_literal_braces(r"^\${(?:[A-Z_]+)}$"),
            r"^\$\{(?:[A-Z_]+)}$"
        );
        assert_eq!(escape_literal_braces(r"[{}]x{"), r"[{}]x\{");
        assert!(compile_regex(r"^\{\{[ \t]*[\w ().|]+[ \t]*}}$", "t", "t").is_ok());
    }
}
