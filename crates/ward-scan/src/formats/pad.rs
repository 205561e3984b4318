//! Power Automate Desktop flows in their text ("Robin") form.

use regex::Regex;
use ward_core::finding::RpaContext;

use crate::detect::names::is_secret_name;
use crate::detect::value::{generic_confidence, is_plausible_secret};
use crate::detect::{Candidate, Priority};

/// A literal typed into a UI field whose control name is credential-like.
pub const PAD_FIELD_LITERAL: &str = "pad-password-field-literal";
/// A literal passed to an action parameter or variable with a credential-like name.
pub const PAD_CREDENTIAL_LITERAL: &str = "pad-credential-literal";

/// The compiled Robin patterns.
#[derive(Debug)]
pub struct PadDetector {
    field: Regex,
    parameter: Regex,
}

impl Default for PadDetector {
    fn default() -> Self {
        Self::new()
    }
}

impl PadDetector {
    /// Compiles the patterns.
    #[expect(
        clippy::expect_used,
        reason = "the patterns are constants covered by unit tests"
    )]
    pub fn new() -> PadDetector {
        PadDetector {
            field: Regex::new(
                r"Control:\s*appmask\[[^\]\r\n]*\]\['(?P<control>[^'\r\n]*)'\][^\r\n]*?\bText:\s*\$'''(?P<value>[^\r\n]*?)'''",
            )
            .expect("field regex compiles"),
            parameter: Regex::new(
                r"(?:\bSET\s+(?P<var>[A-Za-z_][A-Za-z0-9_]*)\s+TO|\b(?P<param>[A-Za-z_][A-Za-z0-9_]*):)\s*\$'''(?P<value>[^\r\n]*?)'''",
            )
            .expect("parameter regex compiles"),
        }
    }

    /// Appends candidates from a flow's text; `flow` names the flow for the context.
    pub fn scan(&self, text: &str, flow: &str, out: &mut Vec<Candidate>) {
        for caps in self.field.captures_iter(text) {
            let (Some(control), Some(value)) = (caps.name("control"), caps.name("value")) else {
                continue;
            };
            if is_secret_name(control.as_str()) && is_plausible_secret(value.as_str(), 3) {
                out.push(candidate(PAD_FIELD_LITERAL, value, flow, control.as_str()));
            }
        }
        for caps in self.parameter.captures_iter(text) {
            let Some(name) = caps.name("var").or_else(|| caps.name("param")) else {
                continue;
            };
            let Some(value) = caps.name("value") else {
                continue;
            };
            if name.as_str() != "Text"
                && is_secret_name(name.as_str())
                && is_plausible_secret(value.as_str(), 3)
            {
                out.push(candidate(
                    PAD_CREDENTIAL_LITERAL,
                    value,
                    flow,
                    name.as_str(),
                ));
            }
        }
    }
}

fn candidate(rule: &str, value: regex::Match<'_>, flow: &str, name: &str) -> Candidate {
    Candidate::span(
        rule,
        value.start(),
        value.end(),
        value.as_str(),
        generic_confidence(value.as_str()).raised(),
        Priority::Structured,
        RpaContext {
            platform: Some("power-automate-desktop".to_string()),
            workflow: Some(flow.to_string()),
            argument: Some(name.to_string()),
            ..RpaContext::default()
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_field_literal_found_username_ignored() {
        let flow = "WebAutomation.PopulateTextField.PopulateTextField BrowserInstance: Browser Control: appmask['Login']['Txt_Username'] Text: $'''demo''' EmulateTyping: False\n\
                    WebAutomation.PopulateTextField.PopulateTextField BrowserInstance: Browser Control: appmask['Login']['Txt_Password'] Text: $'''demo''' EmulateTyping: False\n\
                    SET DbPassword TO $'''Pad-Var-Pw1'''\n\
                    SET Pw2 TO $'''%Secret%'''\n";
        let mut out = Vec::new();
        PadDetector::new().scan(flow, "flow", &mut out);
        let secrets: Vec<(&str, &str)> = out
            .iter()
            .map(|c| (c.rule_id.as_str(), c.secret.as_str()))
            .collect();
        assert_eq!(
            secrets,
            vec![
                (PAD_FIELD_LITERAL, "demo"),
                (PAD_CREDENTIAL_LITERAL, "Pad-Var-Pw1")
            ]
        );
        assert_eq!(out[0].context.argument.as_deref(), Some("Txt_Password"));
    }
}
