//! Configuration of dynamic PostgreSQL credentials, and its validation.

use secrecy::SecretString;
use serde::Deserialize;
use time::Duration;
use ward_core::duration::parse_duration;

use super::DynamicPostgres;
use crate::error::ConfigError;
use crate::password::PasswordPolicy;
use crate::pg::PgAdmin;
use crate::postgres::{DEFAULT_CONNECT_TIMEOUT_MS, connect_timeout};

/// Placeholder in grant templates, replaced by the quoted role name.
pub const NAME_PLACEHOLDER: &str = "{{name}}";

/// Maximum length of a role prefix, in characters.
const PREFIX_MAX: usize = 16;

/// Configuration of dynamic PostgreSQL credentials.
///
/// ```toml
/// admin_url = "postgres://ward_admin:PASSWORD@db.internal:5432/erp"
/// role_prefix = "ward"
/// default_ttl = "1h"
/// max_ttl = "24h"
/// grants = ["GRANT SELECT ON ALL TABLES IN SCHEMA public TO {{name}}"]
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DynamicPostgresConfig {
    /// URL of a role with CREATEROLE that also has the privileges the
    /// grants hand out. Terminating sessions on revoke needs superuser or
    /// membership in `pg_signal_backend`.
    pub admin_url: SecretString,
    /// First part of every created role name; revoke refuses other names.
    #[serde(default = "default_role_prefix")]
    pub role_prefix: String,
    /// TTL of a lease when the request names none, such as `1h`.
    #[serde(default = "default_ttl")]
    pub default_ttl: String,
    /// Longest TTL a lease may have from issue to expiry, renewals included.
    #[serde(default = "default_max_ttl")]
    pub max_ttl: String,
    /// Statements run after the role is created, in the same transaction,
    /// with `{{name}}` replaced by the quoted role name.
    #[serde(default)]
    pub grants: Vec<String>,
    /// Shape of generated passwords.
    #[serde(default)]
    pub password: PasswordPolicy,
    /// Time allowed to open a connection, in milliseconds.
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
}

fn default_role_prefix() -> String {
    "ward".to_string()
}
fn default_ttl() -> String {
    "1h".to_string()
}
fn default_max_ttl() -> String {
    "24h".to_string()
}
fn default_connect_timeout_ms() -> u64 {
    DEFAULT_CONNECT_TIMEOUT_MS
}

impl DynamicPostgresConfig {
    /// Validates the configuration and builds the issuer.
    pub fn build(&self) -> Result<DynamicPostgres, ConfigError> {
        validate_prefix(&self.role_prefix)?;
        let default_ttl = parse_ttl("default_ttl", &self.default_ttl)?;
        let max_ttl = parse_ttl("max_ttl", &self.max_ttl)?;
        if default_ttl > max_ttl {
            return Err(ConfigError::new(
                "default_ttl",
                format!(
                    "`{}` is longer than max_ttl `{}`",
                    self.default_ttl, self.max_ttl
                ),
            ));
        }
        for (index, grant) in self.grants.iter().enumerate() {
            validate_grant(index, grant)?;
        }
        self.password.validate()?;
        let timeout = connect_timeout("connect_timeout_ms", self.connect_timeout_ms)?;
        let admin = PgAdmin::from_url("admin_url", &self.admin_url, timeout)?;
        Ok(DynamicPostgres {
            admin,
            role_prefix: self.role_prefix.clone(),
            default_ttl,
            max_ttl,
            grants: self.grants.clone(),
            password: self.password.clone(),
        })
    }
}

fn validate_prefix(prefix: &str) -> Result<(), ConfigError> {
    let mut chars = prefix.chars();
    let starts_with_letter = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !starts_with_letter || !rest_ok || prefix.len() > PREFIX_MAX {
        return Err(ConfigError::new(
            "role_prefix",
            format!(
                "`{prefix}` must be 1 to {PREFIX_MAX} characters a-z, 0-9 or _, starting with a letter"
            ),
        ));
    }
    Ok(())
}

fn parse_ttl(field: &str, text: &str) -> Result<Duration, ConfigError> {
    let ttl = parse_duration(text).map_err(|err| ConfigError::new(field, err.to_string()))?;
    if ttl < Duration::seconds(1) {
        return Err(ConfigError::new(
            field,
            format!("`{text}` is shorter than 1 second"),
        ));
    }
    Ok(ttl)
}

fn validate_grant(index: usize, grant: &str) -> Result<(), ConfigError> {
    let field = format!("grants[{index}]");
    if !grant.contains(NAME_PLACEHOLDER) {
        return Err(ConfigError::new(
            field,
            format!("does not contain {NAME_PLACEHOLDER}, so it would not apply to the new role"),
        ));
    }
    if grant.contains(';') {
        return Err(ConfigError::new(
            field,
            "contains `;`; write one statement per entry",
        ));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Returns a valid configuration whose admin URL has a recognisable
    /// password.
    pub(crate) fn config() -> DynamicPostgresConfig {
        DynamicPostgresConfig {
            admin_url: SecretString::from("postgres://ward_admin:AdminPw0rd@127.0.0.1:5432/test"),
            role_prefix: default_role_prefix(),
            default_ttl: default_ttl(),
            max_ttl: default_max_ttl(),
            grants: vec!["GRANT SELECT ON ALL TABLES IN SCHEMA public TO {{name}}".to_string()],
            password: PasswordPolicy::default(),
            connect_timeout_ms: 1000,
        }
    }

    #[test]
    fn grant_without_placeholder_rejected() {
        let mut cfg = config();
        cfg.grants = vec!["GRANT SELECT ON t TO someone".to_string()];
        assert_eq!(cfg.build().unwrap_err().field, "grants[0]");
        cfg.grants = vec!["GRANT SELECT ON t TO {{name}}; DROP TABLE t".to_string()];
        assert_eq!(cfg.build().unwrap_err().field, "grants[0]");
    }

    #[test]
    fn ttl_fields_validated() {
        let mut cfg = config();
        cfg.default_ttl = "48h".to_string();
        assert_eq!(cfg.build().unwrap_err().field, "default_ttl");
        let mut cfg = config();
        cfg.max_ttl = "forever".to_string();
        assert_eq!(cfg.build().unwrap_err().field, "max_ttl");
    }

    #[test]
    fn prefix_validated() {
        let mut cfg = config();
        cfg.role_prefix = "Ward\"x".to_string();
        assert_eq!(cfg.build().unwrap_err().field, "role_prefix");
    }

    #[test]
    fn config_debug_hides_admin_password() {
        let cfg = config();
        assert!(!format!("{cfg:?}").contains("AdminPw0rd"));
        assert!(!format!("{:?}", cfg.build().unwrap()).contains("AdminPw0rd"));
    }
}
