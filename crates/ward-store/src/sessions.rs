//! The `sessions` table: bearer tokens of signed-in operators and the root
//! token. Only a keyed hash of each token is stored.

use sqlx::SqliteConnection;

use crate::StoreError;

/// A session found by its token hash.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Session {
    pub operator_id: Option<String>,
    pub subject: String,
    /// Comma-separated role names.
    pub roles: String,
    pub expires_at: String,
}

pub async fn insert(
    conn: &mut SqliteConnection,
    token_hash: &[u8],
    operator_id: Option<&str>,
    subject: &str,
    roles: &str,
    created_at: &str,
    expires_at: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sessions (token_hash, operator_id, subject, roles, created_at, expires_at) \
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(token_hash) DO UPDATE SET expires_at = excluded.expires_at",
    )
    .bind(token_hash)
    .bind(operator_id)
    .bind(subject)
    .bind(roles)
    .bind(created_at)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Finds an unexpired session. The lookup is by hash, so comparing the token
/// itself never happens and its timing reveals nothing about stored tokens.
pub async fn find_valid(
    conn: &mut SqliteConnection,
    token_hash: &[u8],
    now: &str,
) -> Result<Option<Session>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT operator_id, subject, roles, expires_at FROM sessions WHERE token_hash = ? AND expires_at > ?",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(conn)
    .await?)
}

pub async fn delete(conn: &mut SqliteConnection, token_hash: &[u8]) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM sessions WHERE token_hash = ?")
        .bind(token_hash)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes sessions that expired before `now`; returns how many.
pub async fn delete_expired(conn: &mut SqliteConnection, now: &str) -> Result<u64, StoreError> {
    let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= ?")
        .bind(now)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// Deletes every session of the operator accounts of `person_id`, as when the
/// person leaves; returns how many.
pub async fn delete_for_person(
    conn: &mut SqliteConnection,
    person_id: &str,
) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "DELETE FROM sessions WHERE operator_id IN (SELECT id FROM operators WHERE person_id = ?)",
    )
    .bind(person_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}
