//! The `workflow_versions` table: each upload of a bot's RPA file or script.

use serde::Serialize;
use sqlx::SqliteConnection;

use crate::StoreError;

/// One version of one workflow of a bot.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct WorkflowVersion {
    pub id: String,
    pub bot_id: String,
    pub name: String,
    pub version: i64,
    pub content_sha256: String,
    pub size_bytes: i64,
    pub summary: String,
    pub changed_by: String,
    pub changed_at: String,
    pub outside_working_hours: bool,
}

const COLUMNS: &str = "id, bot_id, name, version, content_sha256, size_bytes, summary, changed_by, \
                       changed_at, outside_working_hours";

/// Latest version number of a bot's workflow, or 0 when none exists.
pub async fn latest_version(
    conn: &mut SqliteConnection,
    bot_id: &str,
    name: &str,
) -> Result<i64, StoreError> {
    let latest: Option<i64> = sqlx::query_scalar(
        "SELECT MAX(version) FROM workflow_versions WHERE bot_id = ? AND name = ?",
    )
    .bind(bot_id)
    .bind(name)
    .fetch_one(conn)
    .await?;
    Ok(latest.unwrap_or(0))
}

/// The latest version of a bot's workflow, if any.
pub async fn latest(
    conn: &mut SqliteConnection,
    bot_id: &str,
    name: &str,
) -> Result<Option<WorkflowVersion>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM workflow_versions WHERE bot_id = ? AND name = ? ORDER BY version DESC LIMIT 1"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(bot_id)
        .bind(name)
        .fetch_optional(conn)
        .await?)
}

pub async fn insert(conn: &mut SqliteConnection, row: &WorkflowVersion) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO workflow_versions (id, bot_id, name, version, content_sha256, size_bytes, summary, \
         changed_by, changed_at, outside_working_hours) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&row.id)
    .bind(&row.bot_id)
    .bind(&row.name)
    .bind(row.version)
    .bind(&row.content_sha256)
    .bind(row.size_bytes)
    .bind(&row.summary)
    .bind(&row.changed_by)
    .bind(&row.changed_at)
    .bind(row.outside_working_hours)
    .execute(conn)
    .await?;
    Ok(())
}

/// Every version of every workflow of a bot, newest first.
pub async fn list_for_bot(
    conn: &mut SqliteConnection,
    bot_id: &str,
) -> Result<Vec<WorkflowVersion>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM workflow_versions WHERE bot_id = ? ORDER BY name, version DESC"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(bot_id)
        .fetch_all(conn)
        .await?)
}

/// Workflow versions whose content hash is `sha256` or whose name is `name`,
/// used to link scanner findings to bots.
pub async fn find_by_content_or_name(
    conn: &mut SqliteConnection,
    sha256: &str,
    name: &str,
) -> Result<Vec<WorkflowVersion>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM workflow_versions WHERE content_sha256 = ? OR name = ? ORDER BY changed_at DESC"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(sha256)
        .bind(name)
        .fetch_all(conn)
        .await?)
}
