//! Connector configuration, tagged by `kind`.

use std::sync::Arc;

use serde::Deserialize;

use crate::connector::{Connector, ConnectorKind};
use crate::error::ConfigError;
use crate::postgres::PostgresConfig;
use crate::webhook::WebhookConfig;

/// Configuration of one rotation connector, chosen by its `kind` field.
///
/// ```toml
/// [connectors.erp-db]
/// kind = "postgres"
/// admin_url = "postgres://ward_admin:PASSWORD@db.internal:5432/erp"
///
/// [connectors.erp-app]
/// kind = "webhook"
/// url = "https://erp.internal/ward/rotate"
/// signing_key = "…"
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ConnectorConfig {
    /// A PostgreSQL login role.
    Postgres(PostgresConfig),
    /// An HTTP receiver.
    Webhook(WebhookConfig),
}

impl ConnectorConfig {
    /// The kind this configuration builds.
    pub fn kind(&self) -> ConnectorKind {
        match self {
            ConnectorConfig::Postgres(_) => ConnectorKind::Postgres,
            ConnectorConfig::Webhook(_) => ConnectorKind::Webhook,
        }
    }

    /// Validates the configuration and builds the connector, ready to be
    /// shared between tasks.
    pub fn build(&self) -> Result<Arc<dyn Connector>, ConfigError> {
        Ok(match self {
            ConnectorConfig::Postgres(config) => Arc::new(config.build()?),
            ConnectorConfig::Webhook(config) => Arc::new(config.build()?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_config_from_toml() {
        let config: ConnectorConfig = toml::from_str(
            r#"
            kind = "postgres"
            admin_url = "postgres://ward_admin:T0mlSecret@127.0.0.1:5432/test"
            "#,
        )
        .unwrap();
        assert_eq!(config.kind(), ConnectorKind::Postgres);
        let connector = config.build().unwrap();
        assert_eq!(connector.kind(), ConnectorKind::Postgres);
        assert!(!format!("{config:?} {connector:?}").contains("T0mlSecret"));
    }

    #[test]
    fn webhook_config_from_toml() {
        let config: ConnectorConfig = toml::from_str(
            r#"
            kind = "webhook"
            url = "https://hooks.example/rotate"
            signing_key = "0123456789abcdef0123456789abcdef-KeyValue"
            max_attempts = 3
            "#,
        )
        .unwrap();
        let ConnectorConfig::Webhook(webhook) = &config else {
            panic!("expected a webhook config, got {config:?}");
        };
        assert_eq!(webhook.max_attempts, 3);
        assert_eq!(webhook.timeout_ms, 10_000);
        let connector = config.build().unwrap();
        assert!(!format!("{config:?} {connector:?}").contains("KeyValue"));
    }

    #[test]
    fn unknown_kind_rejected() {
        let err = toml::from_str::<ConnectorConfig>("kind = \"ldap\"\n").unwrap_err();
        assert!(err.to_string().contains("ldap"), "{err}");
    }

    #[test]
    fn unknown_field_named() {
        let err = toml::from_str::<ConnectorConfig>(
            "kind = \"postgres\"\nadmin_url = \"postgres://a@b/c\"\nadmin_pasword = \"x\"\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("admin_pasword"), "{err}");
    }

    #[test]
    fn invalid_value_names_field() {
        let config: ConnectorConfig = toml::from_str(
            "kind = \"webhook\"\nurl = \"ftp://hooks.example/\"\nsigning_key = \"0123456789abcdef0123456789abcdef\"\n",
        )
        .unwrap();
        let err = config.build().unwrap_err();
        assert_eq!(err.field, "url");
        assert!(
            err.to_string()
                .starts_with("invalid connector config field `url`"),
            "{err}"
        );
    }
}
