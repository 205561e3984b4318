//! Finding candidate secrets in decoded text.
//!
//! [`TextDetector`] runs the regex rules (each gated by its keywords through one
//! Aho-Corasick pass) and the generic detectors over a whole file's text.
//! Format readers in `formats/` add candidates that need document structure.

pub mod generic;
pub mod names;
pub mod value;

use aho_corasick::AhoCorasick;
use ward_core::finding::{Confidence, RpaContext};

use crate::error::ScanError;
use crate::rules::RuleSet;
use generic::{ASSIGNMENT_KEYWORDS, GenericDetector};

/// Rule id of the built-in PEM private key rule, whose secret is normalised.
pub const PRIVATE_KEY_RULE: &str = "private-key";

/// Rank of a detector, deciding the winner when two candidates cover the same characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    /// A credential name with a value.
    Generic,
    /// A value known from document structure (RPA property, XML element, connection URL).
    Structured,
    /// A provider token format or private key.
    Specific,
}

/// Position of a candidate in its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// Byte range of the secret in the decoded text.
    Span {
        /// First byte.
        start: usize,
        /// One past the last byte.
        end: usize,
    },
    /// A spreadsheet cell, 0-based.
    Cell {
        /// Row index.
        row: u32,
        /// Column index.
        col: u32,
    },
}

/// A possible secret, before allowlists, baseline and fingerprinting.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Rule id.
    pub rule_id: String,
    /// Position in the file.
    pub location: Location,
    /// The secret as it will be reported.
    pub secret: String,
    /// Confidence given by the detector.
    pub confidence: Confidence,
    /// Overlap tie-breaker.
    pub priority: Priority,
    /// Context known to the detector.
    pub context: RpaContext,
    /// Index into the rule set, for per-rule allowlists.
    pub rule_index: Option<usize>,
    /// Byte range of the whole regex match, for `regexTarget = "match"` allowlists.
    pub matched: Option<(usize, usize)>,
}

impl Candidate {
    /// Creates a candidate at a byte range.
    pub fn span(
        rule_id: &str,
        start: usize,
        end: usize,
        secret: &str,
        confidence: Confidence,
        priority: Priority,
        context: RpaContext,
    ) -> Candidate {
        Candidate {
            rule_id: rule_id.to_string(),
            location: Location::Span { start, end },
            secret: secret.to_string(),
            confidence,
            priority,
            context,
            rule_index: None,
            matched: None,
        }
    }
}

/// Regex rules and generic detectors, compiled once and shared by all threads.
#[derive(Debug)]
pub struct TextDetector {
    rules: RuleSet,
    keywords: Option<AhoCorasick>,
    /// For each keyword pattern: the rules it unlocks, or `None` for the assignment detector.
    keyword_owner: Vec<Option<usize>>,
    always: Vec<usize>,
    generic: GenericDetector,
}

impl TextDetector {
    /// Builds the detector over `rules`.
    pub fn new(rules: RuleSet) -> Result<TextDetector, ScanError> {
        let mut patterns = Vec::new();
        let mut keyword_owner = Vec::new();
        let mut always = Vec::new();
        for (index, rule) in rules.rules.iter().enumerate() {
            if rule.regex.is_none() {
                continue;
            }
            if rule.keywords.is_empty() {
                always.push(index);
            }
            for keyword in &rule.keywords {
                patterns.push(keyword.clone());
                keyword_owner.push(Some(index));
            }
        }
        for keyword in ASSIGNMENT_KEYWORDS {
            patterns.push((*keyword).to_string());
            keyword_owner.push(None);
        }
        let keywords = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&patterns)
            .map_err(|err| ScanError::Config {
                origin: "rule keywords".to_string(),
                message: err.to_string(),
            })?;
        Ok(TextDetector {
            rules,
            keywords: Some(keywords),
            keyword_owner,
            always,
            generic: GenericDetector::new(),
        })
    }

    /// Returns the rule set in use.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// Returns every candidate in `text`; `path` is matched by path-only rules.
    pub fn scan(&self, text: &str, path: &str) -> Vec<Candidate> {
        let mut out = Vec::new();
        let mut active = vec![false; self.rules.rules.len()];
        let mut assignments = false;
        for &index in &self.always {
            active[index] = true;
        }
        if let Some(keywords) = &self.keywords {
            for hit in keywords.find_overlapping_iter(text) {
                match self.keyword_owner.get(hit.pattern().as_usize()) {
                    Some(Some(index)) => active[*index] = true,
                    Some(None) => assignments = true,
                    None => {}
                }
            }
        }
        for (index, rule) in self.rules.rules.iter().enumerate() {
            if !active[index] {
                continue;
            }
            if let Some(path_regex) = &rule.path
                && !path_regex.is_match(path)
            {
                continue;
            }
            self.scan_rule(index, text, &mut out);
        }
        self.generic.scan(text, assignments, &mut out);
        out
    }

    /// Returns the candidates of path-only rules (a rule with `path` and no `regex`).
    pub fn scan_path(&self, path: &str) -> Vec<Candidate> {
        let mut out = Vec::new();
        for (index, rule) in self.rules.rules.iter().enumerate() {
            if rule.regex.is_none() && rule.path.as_ref().is_some_and(|p| p.is_match(path)) {
                let mut candidate = Candidate::span(
                    &rule.id,
                    0,
                    0,
                    path,
                    rule.confidence,
                    Priority::Specific,
                    RpaContext::default(),
                );
                candidate.rule_index = Some(index);
                out.push(candidate);
            }
        }
        out
    }

    fn scan_rule(&self, index: usize, text: &str, out: &mut Vec<Candidate>) {
        let Some(rule) = self.rules.rules.get(index) else {
            return;
        };
        let Some(regex) = &rule.regex else { return };
        for caps in regex.captures_iter(text) {
            let Some(whole) = caps.get(0) else { continue };
            let secret_match = match rule.secret_group {
                Some(group) if group > 0 => caps.get(group),
                _ => caps
                    .iter()
                    .skip(1)
                    .flatten()
                    .find(|m| !m.as_str().is_empty()),
            }
            .unwrap_or(whole);
            if secret_match.as_str().is_empty() {
                continue;
            }
            let mut secret = secret_match.as_str().to_string();
            if let Some(min) = rule.entropy
                && value::shannon_entropy(&secret) < min
            {
                continue;
            }
            if rule.id == PRIVATE_KEY_RULE {
                match normalize_private_key(&secret) {
                    Some(key) => secret = key,
                    None => continue,
                }
            }
            out.push(Candidate {
                rule_id: rule.id.clone(),
                location: Location::Span {
                    start: secret_match.start(),
                    end: secret_match.end(),
                },
                secret,
                confidence: rule.confidence,
                priority: Priority::Specific,
                context: RpaContext::default(),
                rule_index: Some(index),
                matched: Some((whole.start(), whole.end())),
            });
        }
    }
}

/// Rewrites a PEM private key found with real, escaped (`\n`, `\r\n`) or flattened
/// (spaces) line breaks into one canonical form, so that the same key reads the same
/// wherever it was found. Returns `None` when the body is too short to be a key.
pub fn normalize_private_key(raw: &str) -> Option<String> {
    let unescaped = raw
        .replace("\\r", "\n")
        .replace("\\n", "\n")
        .replace("\\\\", "");
    let begin_end = unescaped.find("-----")?;
    let header_end = unescaped[begin_end + 5..].find("-----")? + begin_end + 10;
    let footer_start = unescaped.rfind("-----END")?;
    let header = unescaped[begin_end..header_end].trim();
    let footer = unescaped[footer_start..].trim();
    let body: String = unescaped[header_end..footer_start]
        .lines()
        .map(str::trim)
        .filter(|line| !line.contains(':'))
        .collect::<Vec<_>>()
        .join("")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '+' || *c == '/' || *c == '=')
        .collect();
    if body.len() < 64 {
        return None;
    }

    let mut out = String::with_capacity(body.len() + 80);
    out.push_str(header);
    out.push('\n');
    for chunk in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }

    out.push_str(footer);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rule_examples() {
        let detector = TextDetector::new(RuleSet::builtin().unwrap()).unwrap();
        let rules = &detector.rules().rules;
        assert!(
            rules.len() >= 40,
            "expected the full built-in set, got {}",
            rules.len()
        );
        for rule in rules {
            assert!(
                !rule.examples.is_empty(),
                "rule {} has no examples",
                rule.id
            );
            assert!(
                !rule.negative_examples.is_empty(),
                "rule {} has no negative examples",
                rule.id
            );
            for example in &rule.examples {
                let found = detector.scan(example, "example.txt");
                assert!(
                    found
                        .iter()
                        .any(|c| c.rule_id == rule.id && !allowed(rule, c)),
                    "rule {} missed its example {example:?}",
                    rule.id
                );
            }
            for example in &rule.negative_examples {
                let found = detector.scan(example, "example.txt");
                assert!(
                    !found
                        .iter()
                        .any(|c| c.rule_id == rule.id && !allowed(rule, c)),
                    "rule {} matched its negative example {example:?}",
                    rule.id
                );
            }
        }
    }

    fn allowed(rule: &crate::rules::Rule, candidate: &Candidate) -> bool {
        let input = crate::rules::AllowInput {
            rule_id: &rule.id,
            path: "example.txt",
            commit: None,
            secret: &candidate.secret,
            matched: &candidate.secret,
            line: &candidate.secret,
        };
        rule.allowlists.iter().any(|a| a.allows(&input))
    }

    #[test]
    fn private_key_forms_normalise_alike() {
        let body: String = (0..130).map(|i| (b'A' + (i % 26) as u8) as char).collect();
        let (a, b) = body.split_at(64);
        let real = format!("-----BEGIN PRIVATE KEY-----\n{a}\n{b}\n-----END PRIVATE KEY-----");
        let escaped =
            format!("-----BEGIN PRIVATE KEY-----\\n{a}\\n{b}\\n-----END PRIVATE KEY-----");
        let crlf =
            format!("-----BEGIN PRIVATE KEY-----\\r\\n{a}\\r\\n{b}\\r\\n-----END PRIVATE KEY-----");
        let flat = format!("-----BEGIN PRIVATE KEY----- {a} {b} -----END PRIVATE KEY-----");
        let canonical = normalize_private_key(&real).unwrap();
        assert_eq!(normalize_private_key(&escaped).unwrap(), canonical);
        assert_eq!(normalize_private_key(&crlf).unwrap(), canonical);
        assert_eq!(normalize_private_key(&flat).unwrap(), canonical);
    }
}
