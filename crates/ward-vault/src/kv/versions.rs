//! Soft delete, undelete and destroy of versions.

use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};
use time::OffsetDateTime;

use super::data::to_i64;
use super::metadata::{fetch_key_row, read_config};
use super::{VersionMeta, check_path, effective_delete_after};
use crate::error::{Result, VaultError};
use crate::timefmt::{from_nanos, to_nanos};

pub(crate) struct VersionRow {
    pub meta: VersionMeta,
    pub term: Option<u32>,
    pub ciphertext: Option<Vec<u8>>,
}

pub(crate) async fn fetch_version_row(
    conn: &mut SqliteConnection,
    path: &str,
    version: u64,
) -> Result<Option<VersionRow>> {
    let row = sqlx::query(
        "SELECT version, created_at, deletion_at, destroyed, key_term, ciphertext FROM vault_kv_versions \
         WHERE path = ? AND version = ?",
    )
    .bind(path)
    .bind(to_i64(version))
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(version_row).transpose()
}

pub(crate) fn version_meta(row: &SqliteRow) -> Result<VersionMeta> {
    Ok(VersionMeta {
        version: u64::try_from(row.try_get::<i64, _>("version")?).unwrap_or(0),
        created_time: from_nanos(row.try_get("created_at")?),
        deletion_time: row
            .try_get::<Option<i64>, _>("deletion_at")?
            .map(from_nanos),
        destroyed: row.try_get("destroyed")?,
    })
}

fn version_row(row: &SqliteRow) -> Result<VersionRow> {
    Ok(VersionRow {
        meta: version_meta(row)?,
        term: row
            .try_get::<Option<i64>, _>("key_term")?
            .and_then(|t| u32::try_from(t).ok()),
        ciphertext: row.try_get("ciphertext")?,
    })
}

/// Soft-deletes the current version of `path`. Nothing happens (and no
/// error is returned) for a missing key or an already deleted or destroyed
/// current version. Returns the version deleted, if any.
pub async fn delete_latest(
    conn: &mut SqliteConnection,
    path: &str,
    now: OffsetDateTime,
) -> Result<Option<u64>> {
    check_path(path)?;
    let Some(key) = fetch_key_row(conn, path).await? else {
        return Ok(None);
    };
    if key.current_version == 0 {
        return Ok(None);
    }
    let deleted = mark_deleted(conn, path, key.current_version, now).await?;
    Ok(deleted.then_some(key.current_version))
}

/// Soft-deletes the listed versions that are live; skips unknown,
/// destroyed and already deleted ones. Returns the versions deleted.
pub async fn delete_versions(
    conn: &mut SqliteConnection,
    path: &str,
    versions: &[u64],
    now: OffsetDateTime,
) -> Result<Vec<u64>> {
    check_path(path)?;
    if versions.is_empty() {
        return Err(VaultError::NoVersions("No version number provided"));
    }
    let mut deleted = Vec::new();
    for &version in versions {
        if mark_deleted(conn, path, version, now).await? {
            deleted.push(version);
        }
    }
    Ok(deleted)
}

/// Clears the deletion time of the listed versions (or re-arms the
/// soft-delete delay); destroyed versions stay destroyed. Returns the
/// versions restored.
pub async fn undelete_versions(
    conn: &mut SqliteConnection,
    path: &str,
    versions: &[u64],
    now: OffsetDateTime,
) -> Result<Vec<u64>> {
    check_path(path)?;
    if versions.is_empty() {
        return Err(VaultError::NoVersions("No version number provided"));
    }
    let Some(key) = fetch_key_row(conn, path).await? else {
        return Ok(Vec::new());
    };
    let config = read_config(conn).await?;
    let delete_after =
        effective_delete_after(key.delete_version_after, config.delete_version_after);
    let deletion_at = delete_after
        .is_positive()
        .then(|| to_nanos(now + delete_after));
    let mut restored = Vec::new();
    for &version in versions {
        let result = sqlx::query(
            "UPDATE vault_kv_versions SET deletion_at = ? WHERE path = ? AND version = ? AND destroyed = 0",
        )
        .bind(deletion_at)
        .bind(path)
        .bind(to_i64(version))
        .execute(&mut *conn)
        .await?;
        if result.rows_affected() > 0 {
            restored.push(version);
        }
    }
    Ok(restored)
}

/// Erases the value of the listed versions for good; the deletion time is
/// left as it was. Returns the versions destroyed.
pub async fn destroy_versions(
    conn: &mut SqliteConnection,
    path: &str,
    versions: &[u64],
) -> Result<Vec<u64>> {
    check_path(path)?;
    if versions.is_empty() {
        return Err(VaultError::NoVersions("no version number provided"));
    }
    let mut destroyed = Vec::new();
    for &version in versions {
        let result = sqlx::query(
            "UPDATE vault_kv_versions SET destroyed = 1, ciphertext = NULL, key_term = NULL \
             WHERE path = ? AND version = ? AND destroyed = 0",
        )
        .bind(path)
        .bind(to_i64(version))
        .execute(&mut *conn)
        .await?;
        if result.rows_affected() > 0 {
            destroyed.push(version);
        }
    }
    Ok(destroyed)
}

async fn mark_deleted(
    conn: &mut SqliteConnection,
    path: &str,
    version: u64,
    now: OffsetDateTime,
) -> Result<bool> {
    let at = to_nanos(now);
    let result = sqlx::query(
        "UPDATE vault_kv_versions SET deletion_at = ? WHERE path = ? AND version = ? AND destroyed = 0 \
         AND (deletion_at IS NULL OR deletion_at > ?)",
    )
    .bind(at)
    .bind(path)
    .bind(to_i64(version))
    .bind(at)
    .execute(conn)
    .await?;
    Ok(result.rows_affected() > 0)
}
