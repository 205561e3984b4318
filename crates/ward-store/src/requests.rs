//! The `access_requests` table: requests for privilege that need an approver.

use serde::Serialize;
use sqlx::SqliteConnection;

use crate::StoreError;

/// A request for privilege on a bot.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AccessRequest {
    pub id: String,
    pub bot_id: String,
    pub privilege: String,
    pub justification: String,
    pub requested_by: String,
    pub status: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub decision_note: Option<String>,
    pub created_at: String,
}

const COLUMNS: &str = "id, bot_id, privilege, justification, requested_by, status, decided_by, decided_at, \
                       decision_note, created_at";

pub async fn insert(conn: &mut SqliteConnection, row: &AccessRequest) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO access_requests (id, bot_id, privilege, justification, requested_by, status, decided_by, \
         decided_at, decision_note, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&row.id)
    .bind(&row.bot_id)
    .bind(&row.privilege)
    .bind(&row.justification)
    .bind(&row.requested_by)
    .bind(&row.status)
    .bind(&row.decided_by)
    .bind(&row.decided_at)
    .bind(&row.decision_note)
    .bind(&row.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn find(
    conn: &mut SqliteConnection,
    id: &str,
) -> Result<Option<AccessRequest>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM access_requests WHERE id = ?");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

pub async fn list(
    conn: &mut SqliteConnection,
    status: Option<&str>,
) -> Result<Vec<AccessRequest>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM access_requests WHERE ?1 IS NULL OR status = ?1 ORDER BY created_at"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(status)
        .fetch_all(conn)
        .await?)
}

/// Records the decision on a pending request. Returns false when it was no
/// longer pending.
pub async fn decide(
    conn: &mut SqliteConnection,
    id: &str,
    status: &str,
    decided_by: &str,
    at: &str,
    note: Option<&str>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE access_requests SET status = ?, decided_by = ?, decided_at = ?, decision_note = ? \
         WHERE id = ? AND status = 'pending'",
    )
    .bind(status)
    .bind(decided_by)
    .bind(at)
    .bind(note)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
