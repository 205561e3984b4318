//! Rotation of a PostgreSQL login role's password.

use std::time::Duration;

use async_trait::async_trait;
use secrecy::SecretString;
use serde::Deserialize;
use sqlx::Connection;
use sqlx::postgres::PgConnection;

use crate::connector::{Connector, ConnectorKind, RotationReceipt, TargetSpec, Verification};
use crate::error::{ConfigError, ConnectorError};
use crate::pg::{self, PgAdmin};
use crate::scram;

/// Default time allowed to open a connection, in milliseconds.
pub const DEFAULT_CONNECT_TIMEOUT_MS: u64 = 10_000;

/// Configuration of a PostgreSQL login-role connector.
///
/// ```toml
/// kind = "postgres"
/// admin_url = "postgres://ward_admin:PASSWORD@db.internal:5432/erp"
/// connect_timeout_ms = 10000
/// verify_database = "erp_reports"
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostgresConfig {
    /// URL of a role with CREATEROLE (or superuser) that may alter the
    /// rotated roles. Its password never appears in logs or errors.
    pub admin_url: SecretString,
    /// Time allowed to open a connection, in milliseconds.
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    /// Database that the check login after a rotation connects to, for roles
    /// without CONNECT on the admin URL's database. Defaults to that database.
    #[serde(default)]
    pub verify_database: Option<String>,
}

fn default_connect_timeout_ms() -> u64 {
    DEFAULT_CONNECT_TIMEOUT_MS
}

/// Checks a connect timeout in milliseconds and converts it.
pub(crate) fn connect_timeout(field: &str, millis: u64) -> Result<Duration, ConfigError> {
    if !(100..=300_000).contains(&millis) {
        return Err(ConfigError::new(
            field,
            format!("{millis} ms is outside the allowed range of 100 to 300000 ms"),
        ));
    }
    Ok(Duration::from_millis(millis))
}

impl PostgresConfig {
    /// Validates the configuration and builds the connector.
    pub fn build(&self) -> Result<PostgresConnector, ConfigError> {
        let timeout = connect_timeout("connect_timeout_ms", self.connect_timeout_ms)?;
        if self.verify_database.as_deref().is_some_and(str::is_empty) {
            return Err(ConfigError::new(
                "verify_database",
                "is empty; remove it or name a database",
            ));
        }
        let admin = PgAdmin::from_url("admin_url", &self.admin_url, timeout)?
            .with_login_database(self.verify_database.clone());
        Ok(PostgresConnector { admin })
    }
}

/// Rotates the password of a PostgreSQL login role with
/// `ALTER ROLE … WITH PASSWORD`.
///
/// The statement carries a SCRAM-SHA-256 verifier computed by Ward, never the
/// plain password, and PostgreSQL's `format('%I', '%L')` quotes the role name
/// and the verifier on the server. Existing sessions of the role stay open:
/// PostgreSQL checks passwords only when a session starts, so a bot in the
/// middle of a run keeps working and its next connection needs the new value.
#[derive(Debug, Clone)]
pub struct PostgresConnector {
    admin: PgAdmin,
}

impl PostgresConnector {
    /// Returns the server this connector changes, without the admin password.
    pub fn admin(&self) -> &PgAdmin {
        &self.admin
    }

    async fn set_password(
        &self,
        connection: &mut PgConnection,
        role: &str,
        verifier: &str,
        new_secret: &SecretString,
    ) -> Result<(), ConnectorError> {
        let result = pg::execute_format(
            connection,
            "ALTER ROLE %I WITH PASSWORD %L",
            &[role, verifier],
        )
        .await;
        match result {
            Ok(()) => Ok(()),
            Err(err) if pg::has_sqlstate(&err, pg::UNDEFINED_OBJECT) => {
                Err(ConnectorError::RoleNotFound {
                    role: role.to_string(),
                    target: self.admin.redacted().to_string(),
                })
            }
            Err(err) => Err(self.admin.database_error("alter role", &err, &[new_secret])),
        }
    }
}

/// Marks a verification failure as following a change, so the caller knows
/// the role may already have the new password.
fn mark_after_change(err: ConnectorError) -> ConnectorError {
    match err {
        ConnectorError::VerifyFailed {
            account,
            target,
            detail,
            ..
        } => ConnectorError::VerifyFailed {
            account,
            after_change: true,
            target,
            detail,
        },
        other => other,
    }
}

#[async_trait]
impl Connector for PostgresConnector {
    fn kind(&self) -> ConnectorKind {
        ConnectorKind::Postgres
    }

    async fn rotate(
        &self,
        target: &TargetSpec,
        new_secret: &SecretString,
    ) -> Result<RotationReceipt, ConnectorError> {
        let role = target.account.as_str();
        pg::validate_role_name(role)?;
        pg::validate_password(new_secret)?;
        let verifier = scram::verifier(new_secret)?;

        let mut connection = self.admin.connect().await?;
        let changed = async {
            match self.admin.role_can_login(&mut connection, role).await? {
                None => Err(ConnectorError::RoleNotFound {
                    role: role.to_string(),
                    target: self.admin.redacted().to_string(),
                }),
                Some(false) => Err(ConnectorError::RoleCannotLogin {
                    role: role.to_string(),
                    target: self.admin.redacted().to_string(),
                }),
                Some(true) => {
                    self.set_password(&mut connection, role, &verifier, new_secret)
                        .await
                }
            }
        }
        .await;
        let _ = connection.close().await;
        changed?;

        tracing::info!(
            rotation_id = %target.rotation_id,
            secret_path = %target.secret_path,
            role,
            target = %self.admin,
            "password of role changed; verifying"
        );
        let verification = self
            .admin
            .check_password(role, new_secret)
            .await
            .map_err(mark_after_change)?;
        Ok(RotationReceipt {
            rotation_id: target.rotation_id.clone(),
            kind: ConnectorKind::Postgres,
            account: role.to_string(),
            target: self.admin.redacted().to_string(),
            verification,
            attempts: 1,
        })
    }

    async fn verify(
        &self,
        target: &TargetSpec,
        secret: &SecretString,
    ) -> Result<Verification, ConnectorError> {
        pg::validate_role_name(&target.account)?;
        pg::validate_password(secret)?;
        self.admin.check_password(&target.account, secret).await
    }
}
