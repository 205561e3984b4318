//! The `operators` table: people who sign in to Ward.

use serde::Serialize;
use sqlx::SqliteConnection;

use crate::StoreError;

/// An operator account. `password_hash` is an Argon2id PHC string and
/// `totp_secret` is encrypted by the server key; neither is ever serialised.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Operator {
    pub id: String,
    pub person_id: String,
    pub username: String,
    #[serde(skip)]
    pub password_hash: String,
    #[serde(skip)]
    pub totp_secret: Option<Vec<u8>>,
    /// Comma-separated role names.
    pub roles: String,
    pub failed_logins: i64,
    pub locked_until: Option<String>,
    pub created_at: String,
}

const COLUMNS: &str = "id, person_id, username, password_hash, totp_secret, roles, failed_logins, locked_until, created_at";

pub async fn insert(conn: &mut SqliteConnection, op: &Operator) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO operators (id, person_id, username, password_hash, totp_secret, roles, failed_logins, \
         locked_until, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&op.id)
    .bind(&op.person_id)
    .bind(&op.username)
    .bind(&op.password_hash)
    .bind(&op.totp_secret)
    .bind(&op.roles)
    .bind(op.failed_logins)
    .bind(&op.locked_until)
    .bind(&op.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Finds an operator by id (`op_…`) or username.
pub async fn find(
    conn: &mut SqliteConnection,
    id_or_username: &str,
) -> Result<Option<Operator>, StoreError> {
    let sql =
        format!("SELECT {COLUMNS} FROM operators WHERE id = ?1 OR username = ?1 COLLATE NOCASE");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id_or_username)
        .fetch_optional(conn)
        .await?)
}

pub async fn list(conn: &mut SqliteConnection) -> Result<Vec<Operator>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM operators ORDER BY username");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(conn)
        .await?)
}

/// Records a failed sign-in, and locks the account until `lock_until` when
/// the count reaches `lock_after`. Returns the new count.
pub async fn record_failure(
    conn: &mut SqliteConnection,
    id: &str,
    lock_after: i64,
    lock_until: &str,
) -> Result<i64, StoreError> {
    let count: i64 = sqlx::query_scalar(
        "UPDATE operators SET failed_logins = failed_logins + 1, \
         locked_until = CASE WHEN failed_logins + 1 >= ?1 THEN ?2 ELSE locked_until END \
         WHERE id = ?3 RETURNING failed_logins",
    )
    .bind(lock_after)
    .bind(lock_until)
    .bind(id)
    .fetch_one(conn)
    .await?;
    Ok(count)
}

/// Clears the failure count and lock after a successful sign-in.
pub async fn record_success(conn: &mut SqliteConnection, id: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE operators SET failed_logins = 0, locked_until = NULL WHERE id = ?")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records `step`, the TOTP time step of a code just accepted, as the
/// operator's last one. Returns false, changing nothing, when that step or a
/// later one was already used: the code is a replay.
pub async fn claim_totp_step(
    conn: &mut SqliteConnection,
    id: &str,
    step: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE operators SET totp_last_step = ?1 \
         WHERE id = ?2 AND (totp_last_step IS NULL OR totp_last_step < ?1)",
    )
    .bind(step)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
