//! Lease records of dynamic PostgreSQL credentials, and the reaper that
//! drops the roles of expired and revoked leases.
//!
//! A lease row holds no password. A lease ends in two steps: a revocation
//! request (`revoke_requested_at`, set in the transaction that suspends a
//! bot) and the role drop at the database, after which `revoked_at` is set.
//! The drop is a network call, so it never runs inside a store transaction.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::json;
use sqlx::{Row, SqliteConnection};
use time::OffsetDateTime;
use ward_audit::{AuditEntry, Outcome};
use ward_connect::{Lease, LeaseId, RevokeOutcome};
use ward_core::clock::{format_timestamp, parse_timestamp};
use ward_core::id::BotId;

use super::SYSTEM;
use super::database::load_dynamic;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// A stored lease.
#[derive(Debug, Clone)]
pub(crate) struct LeaseRow {
    pub id: String,
    pub bot_id: String,
    pub config: String,
    pub username: String,
    pub target: String,
    pub issued_at: String,
    pub expires_at: String,
    pub revoke_requested_at: Option<String>,
    pub revoked_at: Option<String>,
}

impl LeaseRow {
    /// Converts the row to the connector's lease type, for renewal.
    pub(crate) fn to_lease(&self) -> ApiResult<Lease> {
        let internal =
            |what: &str, err: &dyn std::fmt::Display| ApiError::internal(what, err.to_string());
        Ok(Lease {
            id: LeaseId::parse(&self.id).map_err(|err| internal("reading a lease id", &err))?,
            bot: BotId::parse(&self.bot_id)
                .map_err(|err| internal("reading a lease's bot id", &err))?,
            username: self.username.clone(),
            target: self.target.clone(),
            issued_at: parse_timestamp(&self.issued_at)
                .map_err(|err| internal("reading issued_at", &err))?,
            expires_at: parse_timestamp(&self.expires_at)
                .map_err(|err| internal("reading expires_at", &err))?,
        })
    }
}

/// Held while a role of a lease is being dropped, by a reaper pass or a
/// revoke request, so two drops of the same role never overlap.
static REAPER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Waits until no role drop is running and blocks new ones until dropped.
pub(crate) async fn drop_lock() -> tokio::sync::MutexGuard<'static, ()> {
    REAPER.lock().await
}

const COLUMNS: &str =
    "id, bot_id, config, username, target, issued_at, expires_at, revoke_requested_at, revoked_at";

fn row_to_lease(row: &sqlx::sqlite::SqliteRow) -> Result<LeaseRow, sqlx::Error> {
    Ok(LeaseRow {
        id: row.try_get("id")?,
        bot_id: row.try_get("bot_id")?,
        config: row.try_get("config")?,
        username: row.try_get("username")?,
        target: row.try_get("target")?,
        issued_at: row.try_get("issued_at")?,
        expires_at: row.try_get("expires_at")?,
        revoke_requested_at: row.try_get("revoke_requested_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

/// Stores a newly issued lease.
pub(crate) async fn insert(
    conn: &mut SqliteConnection,
    lease: &Lease,
    config: &str,
) -> ApiResult<()> {
    sqlx::query(
        "INSERT INTO database_leases (id, bot_id, config, username, target, issued_at, expires_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(lease.id.as_str())
    .bind(lease.bot.as_str())
    .bind(config)
    .bind(&lease.username)
    .bind(&lease.target)
    .bind(format_timestamp(lease.issued_at))
    .bind(format_timestamp(lease.expires_at))
    .execute(conn)
    .await?;
    Ok(())
}

/// Reads one lease.
pub(crate) async fn find(conn: &mut SqliteConnection, id: &str) -> ApiResult<Option<LeaseRow>> {
    let statement = format!("SELECT {COLUMNS} FROM database_leases WHERE id = ?");
    let row = sqlx::query(sqlx::AssertSqlSafe(statement))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(row.as_ref().map(row_to_lease).transpose()?)
}

/// Moves a lease's expiry.
pub(crate) async fn set_expiry(
    conn: &mut SqliteConnection,
    id: &str,
    expires_at: OffsetDateTime,
) -> ApiResult<()> {
    sqlx::query("UPDATE database_leases SET expires_at = ? WHERE id = ?")
        .bind(format_timestamp(expires_at))
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Marks a lease as wanting revocation, so the reaper retries the drop if
/// the immediate one fails.
pub(crate) async fn request_revocation(
    conn: &mut SqliteConnection,
    id: &str,
    now: &str,
) -> ApiResult<()> {
    sqlx::query(
        "UPDATE database_leases SET revoke_requested_at = COALESCE(revoke_requested_at, ?) WHERE id = ?",
    )
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks every open lease of `bot_id` for revocation, on the caller's
/// transaction, and starts a reaper pass that drops their roles once that
/// transaction has committed. Returns the number of leases marked.
///
/// Called when a bot is suspended, quarantined or retired.
pub async fn request_bot_lease_revocation(
    state: &AppState,
    conn: &mut SqliteConnection,
    bot_id: &str,
) -> ApiResult<u64> {
    let marked = sqlx::query(
        "UPDATE database_leases SET revoke_requested_at = ? \
         WHERE bot_id = ? AND revoked_at IS NULL AND revoke_requested_at IS NULL",
    )
    .bind(state.now_text())
    .bind(bot_id)
    .execute(conn)
    .await?
    .rows_affected();
    if marked > 0 {
        // The pass opens its first transaction on the single writer
        // connection, so it starts after the caller's transaction ends.
        let state = state.clone();
        tokio::spawn(async move {
            if let Err(err) = reap_once(&state).await {
                tracing::error!(code = err.code, message = %err.message, "revoking a suspended bot's leases failed; the reaper retries");
            }
        });
    }
    Ok(marked)
}

/// Result of one reaper pass.
#[derive(Debug, Default, Serialize)]
pub struct ReapReport {
    /// Leases whose role was dropped or was already gone.
    pub revoked: Vec<String>,
    /// Leases whose role could not be dropped, with the error code; retried
    /// on the next pass.
    pub failed: Vec<(String, String)>,
}

/// Drops the roles of leases that have expired on the injected clock or
/// whose revocation was requested, and marks them revoked.
pub async fn reap_once(state: &AppState) -> ApiResult<ReapReport> {
    // One pass at a time, so two passes never drop the same role at once.
    let _pass = REAPER.lock().await;
    let now_text = state.now_text();
    // Read through the writer so that marks made by a transaction that was
    // open when this pass started are seen.
    let due = {
        let mut tx = state.store.begin_write().await?;
        let statement = format!(
            "SELECT {COLUMNS} FROM database_leases WHERE revoked_at IS NULL \
             AND (expires_at <= ? OR revoke_requested_at IS NOT NULL) ORDER BY expires_at, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(statement))
            .bind(&now_text)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        rows.iter()
            .map(row_to_lease)
            .collect::<Result<Vec<_>, _>>()?
    };

    let mut by_config: BTreeMap<String, Vec<LeaseRow>> = BTreeMap::new();
    for lease in due {
        by_config
            .entry(lease.config.clone())
            .or_default()
            .push(lease);
    }

    let mut report = ReapReport::default();
    for (config, leases) in by_config {
        let dynamic = {
            let mut conn = state.store.reader().acquire().await?;
            load_dynamic(state, &mut conn, &config).await
        };
        let dynamic = match dynamic {
            Ok(dynamic) => dynamic,
            Err(err) => {
                tracing::error!(config = %config, code = err.code, message = %err.message, "cannot load a dynamic database config to revoke its leases");
                for lease in leases {
                    report.failed.push((lease.id, err.code.to_string()));
                }
                continue;
            }
        };
        for lease in leases {
            match dynamic.revoke(&lease.username).await {
                Ok(outcome) => {
                    let reason = if lease.revoke_requested_at.is_some() {
                        "revoked"
                    } else {
                        "expired"
                    };
                    mark_revoked(state, &lease, reason, SYSTEM, outcome).await?;
                    report.revoked.push(lease.id);
                }
                Err(err) => {
                    tracing::warn!(lease_id = %lease.id, role = %lease.username, code = err.code(), error = %err, "dropping a lease's role failed; retrying on the next pass");
                    record_error(state, &lease.id, err.code()).await?;
                    report.failed.push((lease.id, err.code().to_string()));
                }
            }
        }
    }
    if !report.revoked.is_empty() || !report.failed.is_empty() {
        tracing::info!(
            revoked = report.revoked.len(),
            failed = report.failed.len(),
            "lease reaper finished"
        );
    }
    Ok(report)
}

/// Sets `revoked_at` on a lease whose role is gone and audits it.
pub(crate) async fn mark_revoked(
    state: &AppState,
    lease: &LeaseRow,
    reason: &str,
    actor: &str,
    outcome: RevokeOutcome,
) -> ApiResult<()> {
    let mut tx = state.store.begin_write().await?;
    let changed = sqlx::query("UPDATE database_leases SET revoked_at = ?, last_error_code = NULL WHERE id = ? AND revoked_at IS NULL")
        .bind(state.now_text())
        .bind(&lease.id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if changed == 0 {
        // Another revoke of the same lease finished first and audited it.
        return Ok(());
    }
    let entry = AuditEntry::new(actor, "database.lease.revoke", Outcome::Success)
        .bot(&lease.bot_id)
        .target(format!("database/creds/{}", lease.config))
        .details(json!({"lease": lease.id, "username": lease.username, "reason": reason, "result": outcome}));
    ward_audit::append(&mut tx, state.now(), &entry).await?;
    tx.commit().await?;
    Ok(())
}

async fn record_error(state: &AppState, id: &str, code: &str) -> ApiResult<()> {
    let mut tx = state.store.begin_write().await?;
    sqlx::query("UPDATE database_leases SET last_error_code = ? WHERE id = ?")
        .bind(code)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}
