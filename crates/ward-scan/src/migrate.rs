//! `--plan-migration`: where each secret should live in the vault and how the
//! workflow or script should read it instead of the literal.

use std::collections::BTreeMap;
use std::io::Write;

use serde::Serialize;
use ward_core::finding::Finding;

/// KV version 2 mount that plans write to.
pub const MOUNT: &str = "secret";

/// One vault entry to create and the places that must read it.
#[derive(Debug, Clone, Serialize)]
pub struct PlanEntry {
    /// Path under the mount, such as `payroll-bot/db-password`.
    pub path: String,
    /// Field of the KV entry holding the value.
    pub field: String,
    /// Command that creates the entry, reading the value from standard input.
    pub create_command: String,
    /// Places that hold the literal today, with the change each needs.
    pub locations: Vec<PlanLocation>,
}

/// One place to change.
#[derive(Debug, Clone, Serialize)]
pub struct PlanLocation {
    /// `file:line:column`.
    pub location: String,
    /// Finding fingerprint.
    pub fingerprint: String,
    /// What to change, in one or two sentences.
    pub instruction: String,
}

/// Builds the plan. Findings must still hold their secrets: two findings share an
/// entry only when project, name and value are equal, and entries whose names
/// collide with different values get numbered suffixes. Secrets are not copied into the plan.
pub fn plan(findings: &[Finding]) -> Vec<PlanEntry> {
    let mut groups: BTreeMap<(String, String), Vec<(&Finding, String)>> = BTreeMap::new();
    for finding in findings {
        let project = slug(finding.rpa.project.as_deref().unwrap_or("default"));
        let name = entry_name(finding);
        let value_key = crate::scanner::fingerprint(
            "",
            "",
            finding.secret.as_deref().unwrap_or(&finding.fingerprint),
        );
        groups
            .entry((project, name))
            .or_default()
            .push((finding, value_key));
    }
    let mut entries = Vec::new();
    for ((project, name), members) in groups {
        let mut by_value: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
        let mut order = Vec::new();
        for (finding, value_key) in &members {
            if !by_value.contains_key(value_key.as_str()) {
                order.push(value_key.as_str());
            }
            by_value
                .entry(value_key.as_str())
                .or_default()
                .push(finding);
        }
        for (n, value_key) in order.iter().enumerate() {
            let path = if n == 0 {
                format!("{project}/{name}")
            } else {
                format!("{project}/{name}-{}", n + 1)
            };
            let field = if name.contains("password") || name.contains("pwd") {
                "password"
            } else {
                "value"
            };
            let locations = by_value[value_key]
                .iter()
                .map(|f| PlanLocation {
                    location: format!("{}:{}:{}", f.file, f.line, f.column),
                    fingerprint: f.fingerprint.clone(),
                    instruction: instruction(f, &path, field),
                })
                .collect();
            entries.push(PlanEntry {
                create_command: format!("vault kv put -mount={MOUNT} {path} {field}=-   # paste the value on standard input"),
                path: format!("{MOUNT}/{path}"),
                field: field.to_string(),
                locations,
            });
        }
    }
    entries
}

/// Names the entry after the RPA argument or key, else after the rule.
fn entry_name(finding: &Finding) -> String {
    let raw = finding.rpa.argument.as_deref().unwrap_or(&finding.rule_id);
    let trimmed = ["in_", "out_", "io_", "In_", "Out_", "IO_"]
        .iter()
        .find_map(|p| raw.strip_prefix(p))
        .unwrap_or(raw);
    let name = slug(trimmed);
    if name.is_empty() {
        slug(&finding.rule_id)
    } else {
        name
    }
}

/// Lower-cases and keeps `[a-z0-9-]`, turning runs of other characters and camelCase humps into `-`.
pub fn slug(value: &str) -> String {
    let words = crate::detect::names::split_words(value);
    let digits_kept: String = value
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
        .collect();
    if words.is_empty() {
        return digits_kept
            .split_whitespace()
            .collect::<Vec<_>>()
            .join("-")
            .to_ascii_lowercase();
    }
    let mut out = String::new();
    for part in digits_kept.split_whitespace() {
        for word in crate::detect::names::split_words(part) {
            if !out.is_empty() {
                out.push('-');
            }
            out.push_str(&word);
        }
        if part.chars().last().is_some_and(|c| c.is_ascii_digit()) {
            let digits: String = part
                .chars()
                .rev()
                .take_while(char::is_ascii_digit)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            out.push_str(&digits);
        }
    }
    out
}

fn instruction(finding: &Finding, path: &str, field: &str) -> String {
    let rpa = &finding.rpa;
    let at = rpa
        .activity
        .as_deref()
        .or(rpa.argument.as_deref())
        .unwrap_or("the value");
    let workflow = rpa.workflow.as_deref().unwrap_or("the workflow");
    match rpa.platform.as_deref() {
        Some("uipath") => format!(
            "UiPath: create an Orchestrator credential asset in a credential store of type HashiCorp Vault (KV v2 mount `{MOUNT}`, key `{path}`), \
             then in {workflow} replace the literal at {at} with a Get Credential activity reading that asset and pass its SecurePassword."
        ),
        Some("excel-config") => format!(
            "Config sheet: delete the value in {}!{}; add the name to the Assets sheet as an Orchestrator credential asset backed by the HashiCorp Vault store (key `{path}`) and read it with Get Credential.",
            rpa.sheet.as_deref().unwrap_or("?"),
            rpa.cell.as_deref().unwrap_or("?")
        ),
        Some("blueprism") => format!(
            "Blue Prism: clear the initial value of data item {at} in {workflow}; fetch the credential at run time from Credential Manager, or from Vault (`GET $VAULT_ADDR/v1/{MOUNT}/data/{path}`, field `{field}`) in a code stage with an AppRole token."
        ),
        Some("power-automate-desktop") => format!(
            "Power Automate Desktop: replace the literal in {workflow} with a sensitive variable filled by an HTTP action `GET $VAULT_ADDR/v1/{MOUNT}/data/{path}` (header X-Vault-Token from an AppRole login), field `{field}`."
        ),
        Some("automation-anywhere") => format!(
            "Automation Anywhere: move the value to a Control Room credential locker synchronised from Vault key `{path}` and change the attribute {at} to the Credential type."
        ),
        _ => format!(
            "Script or config: read the value at run time: log in with AppRole (`POST $VAULT_ADDR/v1/auth/approle/login`), then `GET $VAULT_ADDR/v1/{MOUNT}/data/{path}` with header X-Vault-Token and use `.data.data.{field}`."
        ),
    }
}

/// Writes the plan as text.
pub fn write_text(plan: &[PlanEntry], out: &mut dyn Write) -> std::io::Result<()> {
    if plan.is_empty() {
        return writeln!(out, "Nothing to migrate.");
    }
    for entry in plan {
        writeln!(out, "{} (field `{}`)", entry.path, entry.field)?;
        writeln!(out, "  create: {}", entry.create_command)?;
        for location in &entry.locations {
            writeln!(out, "  - {} [{}]", location.location, location.fingerprint)?;
            writeln!(out, "    {}", location.instruction)?;
        }
        writeln!(out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slug("in_Password"), "in-password");
        assert_eq!(slug("OrchestratorApiKey"), "orchestrator-api-key");
        assert_eq!(slug("Payroll Bot 2"), "payroll-bot2");
        assert_eq!(slug("PayrollDb"), "payroll-db");
    }
}
