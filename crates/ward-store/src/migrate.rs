//! Per-component schema migrations, tracked in the `ward_schema` table.

use std::path::Path;

use sqlx::SqlitePool;

use crate::StoreError;

/// The tables one crate owns: migrations are applied in order, once each.
#[derive(Debug, Clone, Copy)]
pub struct Schema {
    /// Name under which the applied version is recorded, such as `vault`.
    pub component: &'static str,
    /// SQL scripts; migration N (1-based) is `migrations[N - 1]`.
    pub migrations: &'static [&'static str],
}

/// Applies the migrations of `schema` that the database lacks, each in its own
/// transaction together with the version bump.
pub(crate) async fn apply(
    pool: &SqlitePool,
    path: &Path,
    schema: &Schema,
) -> Result<(), StoreError> {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS ward_schema (component TEXT PRIMARY KEY, version INTEGER NOT NULL)",
    )
    .execute(pool)
    .await?;
    let found: Option<i64> =
        sqlx::query_scalar("SELECT version FROM ward_schema WHERE component = ?")
            .bind(schema.component)
            .fetch_optional(pool)
            .await?;
    let found = found.unwrap_or(0);
    let supported = i64::try_from(schema.migrations.len()).unwrap_or(i64::MAX);
    if found > supported {
        return Err(StoreError::SchemaTooNew {
            path: path.to_path_buf(),
            component: schema.component,
            found,
            supported,
        });
    }
    for (index, sql) in schema
        .migrations
        .iter()
        .enumerate()
        .skip(usize::try_from(found).unwrap_or(0))
    {
        let version = i64::try_from(index + 1).unwrap_or(i64::MAX);
        let fail = |source| StoreError::Migration {
            path: path.to_path_buf(),
            component: schema.component,
            version,
            source,
        };
        let mut tx = pool.begin().await.map_err(fail)?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(*sql))
            .execute(&mut *tx)
            .await
            .map_err(fail)?;
        sqlx::query(
            "INSERT INTO ward_schema (component, version) VALUES (?, ?) \
             ON CONFLICT(component) DO UPDATE SET version = excluded.version",
        )
        .bind(schema.component)
        .bind(version)
        .execute(&mut *tx)
        .await
        .map_err(fail)?;
        tx.commit().await.map_err(fail)?;
        tracing::info!(
            component = schema.component,
            version,
            "schema migration applied"
        );
    }
    Ok(())
}
