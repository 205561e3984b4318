//! The `bots` table: the inventory.

use serde::Serialize;
use sqlx::SqliteConnection;

use crate::StoreError;

/// A bot record.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Bot {
    pub id: String,
    pub name: String,
    pub purpose: String,
    pub owner_id: String,
    pub backup_owner_id: String,
    pub platform: String,
    pub state: String,
    pub state_reason: Option<String>,
    pub review_by: String,
    pub review_overdue_since: Option<String>,
    pub owner_flag: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
}

const COLUMNS: &str = "id, name, purpose, owner_id, backup_owner_id, platform, state, state_reason, \
                       review_by, review_overdue_since, owner_flag, created_by, created_at, updated_at";

pub async fn insert(conn: &mut SqliteConnection, bot: &Bot) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO bots (id, name, purpose, owner_id, backup_owner_id, platform, state, state_reason, \
         review_by, review_overdue_since, owner_flag, created_by, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&bot.id)
    .bind(&bot.name)
    .bind(&bot.purpose)
    .bind(&bot.owner_id)
    .bind(&bot.backup_owner_id)
    .bind(&bot.platform)
    .bind(&bot.state)
    .bind(&bot.state_reason)
    .bind(&bot.review_by)
    .bind(&bot.review_overdue_since)
    .bind(&bot.owner_flag)
    .bind(&bot.created_by)
    .bind(&bot.created_at)
    .bind(&bot.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Finds a bot by id (`bot_…`) or by name.
pub async fn find(
    conn: &mut SqliteConnection,
    id_or_name: &str,
) -> Result<Option<Bot>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM bots WHERE id = ?1 OR name = ?1");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id_or_name)
        .fetch_optional(conn)
        .await?)
}

/// Filters for [`list`]; `None` matches everything.
#[derive(Debug, Default, Clone)]
pub struct BotFilter {
    pub state: Option<String>,
    pub owner_id: Option<String>,
}

pub async fn list(conn: &mut SqliteConnection, filter: &BotFilter) -> Result<Vec<Bot>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM bots WHERE (?1 IS NULL OR state = ?1) \
         AND (?2 IS NULL OR owner_id = ?2 OR backup_owner_id = ?2) ORDER BY name"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(&filter.state)
        .bind(&filter.owner_id)
        .fetch_all(conn)
        .await?)
}

/// Sets a bot's state and the reason, if it is still in `from`. Returns false
/// when another writer changed the state first.
pub async fn set_state(
    conn: &mut SqliteConnection,
    id: &str,
    from: &str,
    to: &str,
    reason: &str,
    at: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE bots SET state = ?, state_reason = ?, updated_at = ? WHERE id = ? AND state = ?",
    )
    .bind(to)
    .bind(reason)
    .bind(at)
    .bind(id)
    .bind(from)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Moves the review date and clears the overdue mark.
pub async fn set_review(
    conn: &mut SqliteConnection,
    id: &str,
    review_by: &str,
    at: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE bots SET review_by = ?, review_overdue_since = NULL, updated_at = ? WHERE id = ?",
    )
    .bind(review_by)
    .bind(at)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks a bot's review as overdue since `since`.
pub async fn mark_review_overdue(
    conn: &mut SqliteConnection,
    id: &str,
    since: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE bots SET review_overdue_since = ?, updated_at = ? WHERE id = ?")
        .bind(since)
        .bind(since)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Replaces the owners and sets the ownership flag.
pub async fn set_owners(
    conn: &mut SqliteConnection,
    id: &str,
    owner_id: &str,
    backup_owner_id: &str,
    owner_flag: Option<&str>,
    at: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE bots SET owner_id = ?, backup_owner_id = ?, owner_flag = ?, updated_at = ? WHERE id = ?",
    )
    .bind(owner_id)
    .bind(backup_owner_id)
    .bind(owner_flag)
    .bind(at)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}
