//! The `people` table: humans who can own bots.

use serde::Serialize;
use sqlx::SqliteConnection;

use crate::StoreError;

/// A person record.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Person {
    pub id: String,
    pub name: String,
    pub email: String,
    pub status: String,
    pub created_at: String,
    pub left_at: Option<String>,
}

const COLUMNS: &str = "id, name, email, status, created_at, left_at";

pub async fn insert(conn: &mut SqliteConnection, person: &Person) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO people (id, name, email, status, created_at, left_at) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(&person.id)
    .bind(&person.name)
    .bind(&person.email)
    .bind(&person.status)
    .bind(&person.created_at)
    .bind(&person.left_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Finds a person by id (`per_…`) or by email, case-insensitively.
pub async fn find(
    conn: &mut SqliteConnection,
    id_or_email: &str,
) -> Result<Option<Person>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM people WHERE id = ?1 OR email = ?1 COLLATE NOCASE");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id_or_email)
        .fetch_optional(conn)
        .await?)
}

pub async fn list(conn: &mut SqliteConnection) -> Result<Vec<Person>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM people ORDER BY email");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(conn)
        .await?)
}

/// Marks a person as left at `at`. Returns false when they had already left.
pub async fn mark_left(
    conn: &mut SqliteConnection,
    id: &str,
    at: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE people SET status = 'left', left_at = ? WHERE id = ? AND status = 'active'",
    )
    .bind(at)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
