//! Dynamic PostgreSQL credentials: a login role created for one lease and
//! dropped when the lease expires or is revoked.

mod config;
mod lease;

use secrecy::SecretString;
use sqlx::Connection;
use sqlx::postgres::PgConnection;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

pub use config::{DynamicPostgresConfig, NAME_PLACEHOLDER};
pub use lease::{DynamicCredential, Lease, LeaseId, LeaseRequest, ReapReport, RevokeOutcome};

use crate::error::ConnectorError;
use crate::password::{PasswordPolicy, random_base32};
use crate::pg::{self, PgAdmin};
use crate::scram;

/// Maximum length of the bot part of a role name, in characters.
const BOT_PART_MAX: usize = 24;
/// Random characters at the end of a role name (50 bits).
const SUFFIX_LEN: usize = 10;
/// Time PostgreSQL may take to end one session of a revoked role, in
/// milliseconds.
const TERMINATE_WAIT_MS: i64 = 5000;

/// Issues and revokes dynamic PostgreSQL login roles.
#[derive(Debug, Clone)]
pub struct DynamicPostgres {
    admin: PgAdmin,
    role_prefix: String,
    default_ttl: Duration,
    max_ttl: Duration,
    grants: Vec<String>,
    password: PasswordPolicy,
}

impl DynamicPostgres {
    /// Returns the server that roles are created on, without the admin password.
    pub fn admin(&self) -> &PgAdmin {
        &self.admin
    }

    /// Creates a login role for `request`, valid until `now` plus the TTL.
    ///
    /// The role, its password (as a SCRAM verifier) and its grants are
    /// created in one transaction, so a failing grant leaves no role behind.
    pub async fn issue(
        &self,
        request: &LeaseRequest,
        now: OffsetDateTime,
    ) -> Result<DynamicCredential, ConnectorError> {
        let ttl = request.ttl.unwrap_or(self.default_ttl);
        self.check_ttl(ttl)?;
        let expires_at = now + ttl;
        let valid_until = rfc3339(expires_at)?;
        let username = role_name(&self.role_prefix, &request.bot_name)?;
        let password = self.password.generate()?;
        let verifier = scram::verifier(&password)?;

        let mut connection = self.admin.connect().await?;
        let created = self
            .create_role(
                &mut connection,
                &username,
                &verifier,
                &valid_until,
                &password,
            )
            .await;
        let _ = connection.close().await;
        created?;

        let lease = Lease {
            id: LeaseId::generate(),
            bot: request.bot.clone(),
            username: username.clone(),
            target: self.admin.redacted().to_string(),
            issued_at: now,
            expires_at,
        };
        tracing::info!(lease_id = %lease.id, bot = %lease.bot, role = %username, expires_at = %valid_until, target = %self.admin, "dynamic role created");
        Ok(DynamicCredential {
            lease,
            username,
            password,
        })
    }

    async fn create_role(
        &self,
        connection: &mut PgConnection,
        username: &str,
        verifier: &str,
        valid_until: &str,
        password: &SecretString,
    ) -> Result<(), ConnectorError> {
        let db_error =
            |action, err: sqlx::Error| self.admin.database_error(action, &err, &[password]);
        let mut tx = connection
            .begin()
            .await
            .map_err(|err| db_error("begin transaction", err))?;
        pg::execute_format(
            &mut tx,
            "CREATE ROLE %I WITH LOGIN PASSWORD %L VALID UNTIL %L",
            &[username, verifier, valid_until],
        )
        .await
        .map_err(|err| db_error("create role", err))?;

        // Generated names contain only a-z, 0-9 and _, so double quotes
        // make a correct identifier without escaping.
        let quoted = format!("\"{username}\"");
        for grant in &self.grants {
            let statement = grant.replace(NAME_PLACEHOLDER, &quoted);
            sqlx::query(sqlx::AssertSqlSafe(statement))
                .persistent(false)
                .execute(&mut *tx)
                .await
                .map_err(|err| db_error("grant", err))?;
        }
        tx.commit().await.map_err(|err| db_error("commit", err))
    }

    /// Moves a lease's expiry to `now` plus `ttl`, within `max_ttl` of its
    /// issue, and updates the role's VALID UNTIL.
    pub async fn renew(
        &self,
        lease: &Lease,
        ttl: Duration,
        now: OffsetDateTime,
    ) -> Result<Lease, ConnectorError> {
        if lease.is_expired(now) {
            return Err(ConnectorError::InvalidInput {
                field: "lease",
                reason: format!(
                    "lease {} expired at {}; request a new lease",
                    lease.id,
                    rfc3339(lease.expires_at)?
                ),
            });
        }
        self.check_ttl(ttl)?;
        let expires_at = now + ttl;
        let total = expires_at - lease.issued_at;
        if total > self.max_ttl {
            return Err(ConnectorError::TtlTooLong {
                requested_seconds: total.whole_seconds(),
                max_seconds: self.max_ttl.whole_seconds(),
            });
        }
        self.check_owned_name(&lease.username)?;
        let valid_until = rfc3339(expires_at)?;
        let mut connection = self.admin.connect().await?;
        let result = pg::execute_format(
            &mut connection,
            "ALTER ROLE %I VALID UNTIL %L",
            &[&lease.username, &valid_until],
        )
        .await;
        let _ = connection.close().await;
        match result {
            Ok(()) => Ok(Lease {
                expires_at,
                ..lease.clone()
            }),
            Err(err) if pg::has_sqlstate(&err, pg::UNDEFINED_OBJECT) => {
                Err(ConnectorError::RoleNotFound {
                    role: lease.username.clone(),
                    target: self.admin.redacted().to_string(),
                })
            }
            Err(err) => Err(self.admin.database_error("renew role", &err, &[])),
        }
    }

    /// Ends a dynamic role: blocks new logins, terminates its sessions,
    /// hands objects it owns to the admin role, and drops it.
    ///
    /// Revoking a role that no longer exists succeeds with
    /// [`RevokeOutcome::AlreadyGone`], so a repeated revoke is harmless.
    /// `REASSIGN OWNED` and `DROP OWNED` act on the admin URL's database only;
    /// privileges the role has in another database make `DROP ROLE` fail.
    pub async fn revoke(&self, username: &str) -> Result<RevokeOutcome, ConnectorError> {
        self.check_owned_name(username)?;
        let mut connection = self.admin.connect().await?;
        let outcome = self.drop_role(&mut connection, username).await;
        let _ = connection.close().await;
        if let Ok(outcome) = &outcome {
            tracing::info!(role = username, target = %self.admin, ?outcome, "dynamic role revoked");
        }
        outcome
    }

    async fn drop_role(
        &self,
        connection: &mut PgConnection,
        username: &str,
    ) -> Result<RevokeOutcome, ConnectorError> {
        if self
            .admin
            .role_can_login(connection, username)
            .await?
            .is_none()
        {
            return Ok(RevokeOutcome::AlreadyGone);
        }
        let db_error = |action, err: sqlx::Error| self.admin.database_error(action, &err, &[]);

        // NOLOGIN first, so no new session starts between the terminate and
        // the drop.
        pg::execute_format(connection, "ALTER ROLE %I NOLOGIN", &[username])
            .await
            .map_err(|err| db_error("alter role nologin", err))?;
        let sessions_terminated: i64 = sqlx::query_scalar(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, $2::bigint)) \
             FROM pg_catalog.pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()",
        )
        .bind(username)
        .bind(TERMINATE_WAIT_MS)
        .fetch_one(&mut *connection)
        .await
        .map_err(|err| db_error("terminate sessions", err))?;

        let mut tx = connection
            .begin()
            .await
            .map_err(|err| db_error("begin transaction", err))?;
        pg::execute_format(&mut tx, "REASSIGN OWNED BY %I TO CURRENT_USER", &[username])
            .await
            .map_err(|err| db_error("reassign owned", err))?;
        pg::execute_format(&mut tx, "DROP OWNED BY %I", &[username])
            .await
            .map_err(|err| db_error("drop owned", err))?;
        pg::execute_format(&mut tx, "DROP ROLE %I", &[username])
            .await
            .map_err(|err| db_error("drop role", err))?;
        tx.commit().await.map_err(|err| db_error("commit", err))?;
        Ok(RevokeOutcome::Dropped {
            sessions_terminated,
        })
    }

    /// Revokes every lease in `leases` that has expired at `now`, and leaves
    /// the rest alone. One failure does not stop the pass.
    pub async fn reap_expired(&self, now: OffsetDateTime, leases: &[Lease]) -> ReapReport {
        let mut report = ReapReport::default();
        for lease in leases.iter().filter(|lease| lease.is_expired(now)) {
            match self.revoke(&lease.username).await {
                Ok(_) => report.revoked.push(lease.id.clone()),
                Err(err) => {
                    tracing::warn!(lease_id = %lease.id, role = %lease.username, code = err.code(), error = %err, "revoking expired lease failed; will retry");
                    report.failed.push((lease.id.clone(), err));
                }
            }
        }
        report
    }

    fn check_ttl(&self, ttl: Duration) -> Result<(), ConnectorError> {
        if ttl < Duration::seconds(1) {
            return Err(ConnectorError::InvalidInput {
                field: "ttl",
                reason: format!("{} s is shorter than 1 second", ttl.whole_seconds()),
            });
        }
        if ttl > self.max_ttl {
            return Err(ConnectorError::TtlTooLong {
                requested_seconds: ttl.whole_seconds(),
                max_seconds: self.max_ttl.whole_seconds(),
            });
        }
        Ok(())
    }

    /// Rejects names that Ward cannot have created, so a bad lease record
    /// never drops a role Ward does not manage.
    fn check_owned_name(&self, username: &str) -> Result<(), ConnectorError> {
        let has_prefix = username
            .strip_prefix(&self.role_prefix)
            .is_some_and(|rest| rest.starts_with('_'));
        let safe_chars = username
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !has_prefix || !safe_chars || username.len() > pg::MAX_ROLE_NAME_BYTES {
            return Err(ConnectorError::InvalidInput {
                field: "role name",
                reason: format!(
                    "`{username}` is not a dynamic role name with the prefix `{}_`; refusing to change a role Ward did not create",
                    self.role_prefix
                ),
            });
        }
        Ok(())
    }
}

/// Builds `<prefix>_<bot>_<random>`.
///
/// The bot part is the lowercased bot name with each run of characters
/// outside a-z and 0-9 turned into one `_`. It is trimmed of `_` at both ends
/// and cut to [`BOT_PART_MAX`] characters. When nothing is left, it is `bot`.
fn role_name(prefix: &str, bot_name: &str) -> Result<String, ConnectorError> {
    let mut bot = String::new();
    for c in bot_name.chars().map(|c| c.to_ascii_lowercase()) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            bot.push(c);
        } else if !bot.is_empty() && !bot.ends_with('_') {
            bot.push('_');
        }
    }
    let cut: String = bot.chars().take(BOT_PART_MAX).collect();
    let mut bot = cut.trim_end_matches('_').to_string();
    if bot.is_empty() {
        bot = "bot".to_string();
    }
    Ok(format!("{prefix}_{bot}_{}", random_base32(SUFFIX_LEN)?))
}

fn rfc3339(at: OffsetDateTime) -> Result<String, ConnectorError> {
    at.format(&Rfc3339)
        .map_err(|err| ConnectorError::InvalidInput {
            field: "lease expiry",
            reason: format!("cannot be written as RFC 3339: {err}"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use config::tests::config;
    use ward_core::id::BotId;

    #[test]
    fn role_name_is_clean_and_bounded() {
        let name = role_name("ward", "Invoice Bot'; DROP ROLE postgres;--").unwrap();
        assert!(name.starts_with("ward_invoice_bot_drop_role_po_"), "{name}");
        assert!(name.len() <= pg::MAX_ROLE_NAME_BYTES);
        assert!(
            name.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        );
        assert!(role_name("ward", "ünï").unwrap().starts_with("ward_n_"));
        let empty = role_name("ward", "ü€ -").unwrap();
        assert!(empty.starts_with("ward_bot_"), "{empty}");
    }

    #[test]
    fn role_names_differ() {
        assert_ne!(
            role_name("ward", "a").unwrap(),
            role_name("ward", "a").unwrap()
        );
    }

    #[test]
    fn revoke_refuses_foreign_names() {
        let issuer = config().build().unwrap();
        for name in [
            "postgres",
            "ward",
            "wardx_bot_abc",
            "ward_Bot",
            "ward_x\"; DROP ROLE postgres",
        ] {
            let err = issuer.check_owned_name(name).unwrap_err();
            assert_eq!(err.code(), "invalid_input", "{name}");
        }
        assert!(issuer.check_owned_name("ward_invoice_abcdefghij").is_ok());
    }

    #[test]
    fn ttl_above_max_rejected() {
        let issuer = config().build().unwrap();
        let err = issuer.check_ttl(Duration::hours(25)).unwrap_err();
        assert!(matches!(
            err,
            ConnectorError::TtlTooLong {
                max_seconds: 86_400,
                ..
            }
        ));
        assert!(issuer.check_ttl(Duration::ZERO).is_err());
    }

    #[tokio::test]
    async fn renew_after_expiry_rejected() {
        let issuer = config().build().unwrap();
        let now = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
        let lease = Lease {
            id: LeaseId::generate(),
            bot: BotId::generate(),
            username: "ward_x_abcdefghij".to_string(),
            target: issuer.admin().redacted().to_string(),
            issued_at: now,
            expires_at: now + Duration::minutes(5),
        };
        let err = issuer
            .renew(&lease, Duration::minutes(5), now + Duration::minutes(6))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "invalid_input");
        assert!(err.to_string().contains("request a new lease"), "{err}");
    }
}
