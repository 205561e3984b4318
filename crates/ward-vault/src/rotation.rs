//! The vault side of secret rotation.
//!
//! A rotation runs in three steps so that no version is ever lost:
//! 1. [`stage`] stores the new value as pending (encrypted, not readable);
//! 2. the server calls the connector that changes the credential on the
//!    target system, holding the value only in memory;
//! 3. on success [`promote`] turns the pending value into the next version
//!    and starts the previous version's grace window; on failure
//!    [`discard`] drops it and the current version stays as it was.
//!
//! [`due`] lists keys whose rotation interval has passed.

use serde_json::Value;
use sqlx::{Row, SqliteConnection};
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use crate::barrier::{Barrier, RecordId};
use crate::error::{Result, VaultError};
use crate::kv::{self, VersionMeta};
use crate::timefmt::{from_nanos, to_nanos};
use crate::token::random_text;

/// Table holding staged values; part of their associated data.
pub(crate) const PENDING_TABLE: &str = "vault_kv_pending";

/// A staged value waiting for its connector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// The staged value's id (`pnd_…`).
    pub id: String,
    /// The key it belongs to.
    pub path: String,
    /// When it was staged.
    pub created_at: OffsetDateTime,
}

/// A key whose rotation is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueRotation {
    /// The key.
    pub path: String,
    /// Its rotation interval.
    pub interval: Duration,
    /// When it was last rotated (`None`: never, counted from creation).
    pub last_rotated: Option<OffsetDateTime>,
}

/// Stages `data` (a JSON object) as the pending next value of an existing key.
pub async fn stage(
    conn: &mut SqliteConnection,
    barrier: &Barrier,
    path: &str,
    data: &Value,
    now: OffsetDateTime,
) -> Result<Pending> {
    kv::check_path(path)?;
    if !data.is_object() {
        return Err(VaultError::NoData);
    }
    let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM vault_kv_keys WHERE path = ?")
        .bind(path)
        .fetch_optional(&mut *conn)
        .await?;
    if exists.is_none() {
        return Err(VaultError::KeyNotFound(path.to_string()));
    }
    let id = format!("pnd_{}", random_text(26).to_ascii_lowercase());
    let plaintext = Zeroizing::new(serde_json::to_vec(data).map_err(|_| VaultError::NoData)?);
    let record_key = pending_record_key(path, &id);
    let (term, ciphertext) = barrier.encrypt(
        &RecordId {
            table: PENDING_TABLE,
            key: &record_key,
            version: 0,
        },
        &plaintext,
    )?;
    sqlx::query("INSERT INTO vault_kv_pending (id, path, created_at, key_term, ciphertext) VALUES (?, ?, ?, ?, ?)")
        .bind(&id)
        .bind(path)
        .bind(to_nanos(now))
        .bind(i64::from(term))
        .bind(&ciphertext)
        .execute(conn)
        .await?;
    Ok(Pending {
        id,
        path: path.to_string(),
        created_at: now,
    })
}

/// Decrypts a staged value, for the connector call.
pub async fn pending_value(
    conn: &mut SqliteConnection,
    barrier: &Barrier,
    path: &str,
    id: &str,
) -> Result<kv::SecretValue> {
    let (term, ciphertext) = fetch_pending(conn, path, id).await?;
    let record_key = pending_record_key(path, id);
    let plaintext = barrier.decrypt(
        &RecordId {
            table: PENDING_TABLE,
            key: &record_key,
            version: 0,
        },
        term,
        &ciphertext,
    )?;
    Ok(kv::SecretValue(plaintext))
}

/// Makes a staged value the next version of its key. The previous current
/// version, if live, stays readable for the key's grace window and is then
/// soft-deleted; the key's `last_rotated` becomes `now`.
pub async fn promote(
    conn: &mut SqliteConnection,
    barrier: &Barrier,
    path: &str,
    id: &str,
    now: OffsetDateTime,
) -> Result<VersionMeta> {
    let value = pending_value(conn, barrier, path, id).await?;
    let metadata = kv::read_metadata(conn, path)
        .await?
        .ok_or_else(|| VaultError::KeyNotFound(path.to_string()))?;
    let previous = metadata.current_version;
    let key = crate::kv::metadata_key_row(conn, path).await?;
    let meta = crate::kv::append_version(conn, barrier, path, key, value.as_bytes(), now).await?;
    let grace = metadata.rotation.grace;
    if previous > 0 && grace.is_positive() {
        let until = to_nanos(now + grace);
        sqlx::query(
            "UPDATE vault_kv_versions SET deletion_at = ? WHERE path = ? AND version = ? AND destroyed = 0 \
             AND (deletion_at IS NULL OR deletion_at > ?)",
        )
        .bind(until)
        .bind(path)
        .bind(i64::try_from(previous).unwrap_or(i64::MAX))
        .bind(until)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query("UPDATE vault_kv_keys SET last_rotated_at = ? WHERE path = ?")
        .bind(to_nanos(now))
        .bind(path)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM vault_kv_pending WHERE id = ?")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(meta)
}

/// Drops a staged value after its connector failed; the key is unchanged.
pub async fn discard(conn: &mut SqliteConnection, path: &str, id: &str) -> Result<()> {
    let result = sqlx::query("DELETE FROM vault_kv_pending WHERE id = ? AND path = ?")
        .bind(id)
        .bind(path)
        .execute(conn)
        .await?;
    if result.rows_affected() == 0 {
        return Err(VaultError::PendingNotFound {
            path: path.to_string(),
            id: id.to_string(),
        });
    }
    Ok(())
}

/// Lists staged values of a key, oldest first (left behind when a server
/// stopped between staging and promotion).
pub async fn list_pending(conn: &mut SqliteConnection, path: &str) -> Result<Vec<Pending>> {
    let rows = sqlx::query(
        "SELECT id, created_at FROM vault_kv_pending WHERE path = ? ORDER BY created_at, id",
    )
    .bind(path)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Pending {
                id: row.try_get("id")?,
                path: path.to_string(),
                created_at: from_nanos(row.try_get("created_at")?),
            })
        })
        .collect()
}

/// Keys whose rotation interval has passed at `now`, most overdue first.
pub async fn due(
    conn: &mut SqliteConnection,
    now: OffsetDateTime,
    limit: u32,
) -> Result<Vec<DueRotation>> {
    let rows = sqlx::query(
        "SELECT path, rotation_interval_s, last_rotated_at, \
         COALESCE(last_rotated_at, created_at) + rotation_interval_s * 1000000000 AS due_at \
         FROM vault_kv_keys WHERE rotation_interval_s IS NOT NULL AND rotation_interval_s > 0 \
         AND COALESCE(last_rotated_at, created_at) + rotation_interval_s * 1000000000 <= ? \
         ORDER BY due_at, path LIMIT ?",
    )
    .bind(to_nanos(now))
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(DueRotation {
                path: row.try_get("path")?,
                interval: Duration::seconds(row.try_get("rotation_interval_s")?),
                last_rotated: row
                    .try_get::<Option<i64>, _>("last_rotated_at")?
                    .map(from_nanos),
            })
        })
        .collect()
}

async fn fetch_pending(
    conn: &mut SqliteConnection,
    path: &str,
    id: &str,
) -> Result<(u32, Vec<u8>)> {
    let row =
        sqlx::query("SELECT key_term, ciphertext FROM vault_kv_pending WHERE id = ? AND path = ?")
            .bind(id)
            .bind(path)
            .fetch_optional(conn)
            .await?;
    let Some(row) = row else {
        return Err(VaultError::PendingNotFound {
            path: path.to_string(),
            id: id.to_string(),
        });
    };
    let term = u32::try_from(row.try_get::<i64, _>("key_term")?).unwrap_or(0);
    Ok((term, row.try_get("ciphertext")?))
}

pub(crate) fn pending_record_key(path: &str, id: &str) -> String {
    format!("{path}\u{0}{id}")
}
