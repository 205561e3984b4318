//! Queries over the audit log: "what did this bot do last week?".

use sqlx::SqliteConnection;

use crate::AuditRecord;

/// Filters for [`query`]; `None` matches everything. Times are RFC 3339 text
/// as stored.
#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub bot: Option<String>,
    pub actor: Option<String>,
    /// An exact action, or a prefix ending in `.` or `*` such as `bot.`.
    pub action: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub limit: i64,
}

/// Returns matching entries, oldest first, at most `filter.limit`.
pub async fn query(
    conn: &mut SqliteConnection,
    filter: &AuditFilter,
) -> Result<Vec<AuditRecord>, sqlx::Error> {
    let (action_exact, action_prefix) = match filter.action.as_deref() {
        Some(action) if action.ends_with('*') => {
            (None, Some(format!("{}%", action.trim_end_matches('*'))))
        }
        Some(action) if action.ends_with('.') => (None, Some(format!("{action}%"))),
        Some(action) => (Some(action.to_string()), None),
        None => (None, None),
    };
    sqlx::query_as(
        "SELECT seq, at, actor, action, bot, target, outcome, details, prev_hash, hash FROM audit_log \
         WHERE (?1 IS NULL OR bot = ?1) AND (?2 IS NULL OR actor = ?2) \
         AND (?3 IS NULL OR action = ?3) AND (?4 IS NULL OR action LIKE ?4) \
         AND (?5 IS NULL OR at >= ?5) AND (?6 IS NULL OR at < ?6) ORDER BY seq LIMIT ?7",
    )
    .bind(&filter.bot)
    .bind(&filter.actor)
    .bind(action_exact)
    .bind(action_prefix)
    .bind(&filter.since)
    .bind(&filter.until)
    .bind(filter.limit)
    .fetch_all(conn)
    .await
}
