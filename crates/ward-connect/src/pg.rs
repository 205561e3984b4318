//! Connections to a PostgreSQL server as the admin role, and checks of a
//! role's password. Shared by the rotation connector and dynamic credentials.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection};

use crate::connector::Verification;
use crate::error::{ConfigError, ConnectorError, scrub};
use crate::scram;

/// Maximum role name length PostgreSQL keeps, in bytes (NAMEDATALEN - 1); longer
/// names are silently truncated by the server, so Ward rejects them.
pub const MAX_ROLE_NAME_BYTES: usize = 63;

/// SQLSTATE `undefined_object`, returned when a role does not exist.
pub(crate) const UNDEFINED_OBJECT: &str = "42704";

/// A PostgreSQL server reached with an admin connection URL.
///
/// `Debug` and `Display` show the URL without its password.
#[derive(Clone)]
pub struct PgAdmin {
    options: PgConnectOptions,
    url_password: Option<SecretString>,
    redacted: String,
    connect_timeout: Duration,
    login_database: Option<String>,
}

impl fmt::Debug for PgAdmin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgAdmin")
            .field("target", &self.redacted)
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}

impl fmt::Display for PgAdmin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted)
    }
}

impl PgAdmin {
    /// Parses an admin URL such as `postgres://ward_admin:…@db:5432/app`.
    ///
    /// `field` names the configuration field in errors; the URL itself never
    /// appears in them, because it may hold a password.
    pub fn from_url(
        field: &str,
        url: &SecretString,
        connect_timeout: Duration,
    ) -> Result<Self, ConfigError> {
        let text = url.expose_secret();
        let parsed = url::Url::parse(text).map_err(|err| {
            ConfigError::new(field, format!("is not a valid URL ({err}); expected postgres://USER:PASSWORD@HOST:PORT/DATABASE"))
        })?;
        if parsed.scheme() != "postgres" && parsed.scheme() != "postgresql" {
            return Err(ConfigError::new(
                field,
                format!(
                    "has the scheme `{}`; expected postgres:// or postgresql://",
                    parsed.scheme()
                ),
            ));
        }
        let options = PgConnectOptions::from_str(text).map_err(|err| {
            ConfigError::new(
                field,
                scrub(format!("is not a usable PostgreSQL URL: {err}"), &[url]),
            )
        })?;
        if options.get_database().is_none_or(str::is_empty) {
            return Err(ConfigError::new(
                field,
                "names no database; add /DATABASE to the URL",
            ));
        }
        let url_password = parsed
            .password()
            .map(|password| SecretString::from(password.to_string()));
        let redacted = redact_url(&parsed);
        let options = options.application_name("ward").disable_statement_logging();
        Ok(PgAdmin {
            options,
            url_password,
            redacted,
            connect_timeout,
            login_database: None,
        })
    }

    /// Sets the database that logins as a checked role connect to, in place
    /// of the admin URL's database.
    pub fn with_login_database(mut self, database: Option<String>) -> Self {
        self.login_database = database;
        self
    }

    /// Returns the URL without its password.
    pub fn redacted(&self) -> &str {
        &self.redacted
    }

    /// Opens a connection as the admin role.
    pub(crate) async fn connect(&self) -> Result<PgConnection, ConnectorError> {
        self.connect_with(&self.options, &[]).await
    }

    /// Opens a connection to the same server and database as `role`.
    pub(crate) async fn connect_as(
        &self,
        role: &str,
        password: &SecretString,
    ) -> Result<PgConnection, ConnectorError> {
        let mut options = self
            .options
            .clone()
            .username(role)
            .password(password.expose_secret());
        if let Some(database) = &self.login_database {
            options = options.database(database);
        }
        self.connect_with(&options, &[password]).await
    }

    async fn connect_with(
        &self,
        options: &PgConnectOptions,
        secrets: &[&SecretString],
    ) -> Result<PgConnection, ConnectorError> {
        let attempt =
            tokio::time::timeout(self.connect_timeout, PgConnection::connect_with(options));
        match attempt.await {
            Ok(Ok(connection)) => Ok(connection),
            Ok(Err(err)) => Err(ConnectorError::Connect {
                target: self.redacted.clone(),
                detail: self.scrub(err.to_string(), secrets),
            }),
            Err(_) => Err(ConnectorError::Connect {
                target: self.redacted.clone(),
                detail: format!("timed out after {} ms", self.connect_timeout.as_millis()),
            }),
        }
    }

    /// Turns a driver error into a [`ConnectorError::Database`] with secrets
    /// removed from its text.
    pub(crate) fn database_error(
        &self,
        action: &'static str,
        err: &sqlx::Error,
        secrets: &[&SecretString],
    ) -> ConnectorError {
        ConnectorError::Database {
            action,
            target: self.redacted.clone(),
            detail: self.scrub(err.to_string(), secrets),
        }
    }

    fn scrub(&self, text: String, secrets: &[&SecretString]) -> String {
        let mut all: Vec<&SecretString> = secrets.to_vec();
        if let Some(password) = &self.url_password {
            all.push(password);
        }
        scrub(text, &all)
    }

    /// Looks up a role: `None` when it does not exist, else whether it may
    /// log in.
    pub(crate) async fn role_can_login(
        &self,
        connection: &mut PgConnection,
        role: &str,
    ) -> Result<Option<bool>, ConnectorError> {
        sqlx::query_scalar::<_, bool>(
            "SELECT rolcanlogin FROM pg_catalog.pg_roles WHERE rolname = $1",
        )
        .bind(role)
        .fetch_optional(&mut *connection)
        .await
        .map_err(|err| self.database_error("look up role", &err, &[]))
    }

    /// Checks that `password` works for `role`: logs in as the role, then,
    /// when the admin role may read `pg_authid` (superusers only), compares
    /// the stored SCRAM verifier as well.
    ///
    /// The second check matters on servers whose `pg_hba.conf` trusts the
    /// connection, where any password logs in.
    pub async fn check_password(
        &self,
        role: &str,
        password: &SecretString,
    ) -> Result<Verification, ConnectorError> {
        let verify_failed = |detail: String| ConnectorError::VerifyFailed {
            account: role.to_string(),
            after_change: false,
            target: self.redacted.clone(),
            detail,
        };

        let mut session = self
            .connect_as(role, password)
            .await
            .map_err(|err| verify_failed(format!("login as the role failed: {err}")))?;
        sqlx::query("SELECT 1")
            .execute(&mut session)
            .await
            .map_err(|err| verify_failed(self.scrub(err.to_string(), &[password])))?;
        let _ = session.close().await;

        let stored = self.stored_verifier(role).await?;
        let stored_verifier_checked = match stored
            .as_deref()
            .map(|stored| scram::matches(stored, password))
        {
            Some(Some(true)) => true,
            Some(Some(false)) => {
                return Err(verify_failed(
                    "the stored SCRAM verifier does not match the password".to_string(),
                ));
            }
            // Not readable, or not a SCRAM verifier: the login above is the
            // only check available.
            Some(None) | None => false,
        };
        Ok(Verification::Login {
            stored_verifier_checked,
        })
    }

    /// Reads the role's stored password verifier, or `None` when the admin
    /// role may not read `pg_authid` or the role has no password.
    async fn stored_verifier(&self, role: &str) -> Result<Option<String>, ConnectorError> {
        let mut connection = self.connect().await?;
        let result = sqlx::query_scalar::<_, Option<String>>(
            "SELECT rolpassword FROM pg_catalog.pg_authid WHERE rolname = $1",
        )
        .bind(role)
        .fetch_optional(&mut connection)
        .await;
        let _ = connection.close().await;
        match result {
            Ok(row) => Ok(row.flatten()),
            Err(err) => {
                tracing::debug!(target = %self.redacted, error = %self.scrub(err.to_string(), &[]), "stored verifier not readable; login check only");
                Ok(None)
            }
        }
    }
}

/// Runs the statement that PostgreSQL's `format(template, args…)` builds.
///
/// The server quotes every value: `%I` as an identifier and `%L` as a
/// literal. PostgreSQL cannot bind parameters in utility statements such as
/// `ALTER ROLE` or `GRANT`, so this is the parameterised route. The built text
/// runs as one prepared statement, so it cannot smuggle in a second one.
pub(crate) async fn execute_format(
    connection: &mut PgConnection,
    template: &'static str,
    args: &[&str],
) -> Result<(), sqlx::Error> {
    let args: Vec<String> = args.iter().map(|arg| (*arg).to_string()).collect();
    let statement: String = sqlx::query_scalar("SELECT format($1::text, VARIADIC $2::text[])")
        .bind(template)
        .bind(args)
        .fetch_one(&mut *connection)
        .await?;
    sqlx::query(sqlx::AssertSqlSafe(statement))
        .persistent(false)
        .execute(&mut *connection)
        .await?;
    Ok(())
}

/// Checks a role name Ward is asked to change.
pub(crate) fn validate_role_name(role: &str) -> Result<(), ConnectorError> {
    let reason = if role.is_empty() {
        "is empty".to_string()
    } else if role.len() > MAX_ROLE_NAME_BYTES {
        format!(
            "`{role}` is {} bytes long; PostgreSQL keeps at most {MAX_ROLE_NAME_BYTES}",
            role.len()
        )
    } else if role.contains('\0') {
        "contains a NUL byte".to_string()
    } else {
        return Ok(());
    };
    Err(ConnectorError::InvalidInput {
        field: "role name",
        reason,
    })
}

/// Checks a password before it goes to PostgreSQL, which cannot store NUL.
pub(crate) fn validate_password(password: &SecretString) -> Result<(), ConnectorError> {
    let text = password.expose_secret();
    let reason = if text.is_empty() {
        "is empty"
    } else if text.contains('\0') {
        "contains a NUL byte, which PostgreSQL cannot store"
    } else {
        return Ok(());
    };
    Err(ConnectorError::InvalidInput {
        field: "new secret",
        reason: reason.to_string(),
    })
}

/// Reports whether a driver error carries the given SQLSTATE.
pub(crate) fn has_sqlstate(err: &sqlx::Error, code: &str) -> bool {
    err.as_database_error()
        .and_then(|db| db.code())
        .is_some_and(|found| found == code)
}

/// `postgres://user@host:port/db` with the password and query removed.
fn redact_url(url: &url::Url) -> String {
    let user = url.username();
    let host = url.host_str().unwrap_or("localhost");
    let port = url
        .port()
        .map(|port| format!(":{port}"))
        .unwrap_or_default();
    let at = if user.is_empty() {
        String::new()
    } else {
        format!("{user}@")
    };
    format!("{}://{at}{host}{port}{}", url.scheme(), url.path())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admin(url: &str) -> Result<PgAdmin, ConfigError> {
        PgAdmin::from_url(
            "admin_url",
            &SecretString::from(url.to_string()),
            Duration::from_secs(5),
        )
    }

    #[test]
    fn display_and_debug_hide_url_password() {
        let admin = admin("postgres://ward_admin:Sup3rS3cret@db.internal:5433/erp?sslmode=disable")
            .unwrap();
        assert_eq!(
            admin.to_string(),
            "postgres://ward_admin@db.internal:5433/erp"
        );
        assert!(!format!("{admin:?}").contains("Sup3rS3cret"));
    }

    #[test]
    fn wrong_scheme_names_field_not_value() {
        let err = admin("mysql://root:Sup3rS3cret@db/erp").unwrap_err();
        assert_eq!(err.field, "admin_url");
        assert!(err.reason.contains("mysql"));
        assert!(!err.to_string().contains("Sup3rS3cret"));
    }

    #[test]
    fn missing_database_rejected() {
        let err = admin("postgres://ward_admin:pw@db:5432").unwrap_err();
        assert!(err.reason.contains("database"), "{err}");
    }

    #[test]
    fn garbage_url_hides_value() {
        let err = admin("Sup3rS3cret not a url").unwrap_err();
        assert!(!err.to_string().contains("Sup3rS3cret"));
    }

    #[test]
    fn role_name_limits() {
        assert!(validate_role_name("svc_invoice").is_ok());
        assert!(validate_role_name("Robert'); DROP TABLE students;--").is_ok());
        assert!(validate_role_name("").is_err());
        assert!(validate_role_name(&"r".repeat(64)).is_err());
        assert!(validate_role_name("a\0b").is_err());
    }

    #[test]
    fn password_limits() {
        assert!(validate_password(&SecretString::from("x'; --")).is_ok());
        assert!(validate_password(&SecretString::from("")).is_err());
        let err = validate_password(&SecretString::from("ab\0cd")).unwrap_err();
        assert!(!err.to_string().contains("ab\0cd"));
    }
}
