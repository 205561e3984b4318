//! Reading and writing versions (`secret/data/:path`).

use std::collections::BTreeMap;

use serde_json::Value;
use sqlx::SqliteConnection;
use time::OffsetDateTime;
use zeroize::Zeroizing;

use super::metadata::{KeyRow, fetch_key_row, insert_key_row, read_config};
use super::versions::{VersionRow, fetch_version_row};
use super::{
    DEFAULT_MAX_VERSIONS, SecretValue, VERSIONS_TABLE, VersionMeta, check_path,
    effective_delete_after,
};
use crate::barrier::{Barrier, RecordId};
use crate::error::{Result, VaultError};
use crate::timefmt::to_nanos;

/// The outcome of a read.
#[derive(Debug)]
pub enum ReadResult {
    /// The version is live.
    Value {
        /// The decrypted JSON object.
        value: SecretValue,
        /// The version's metadata.
        meta: VersionMeta,
        /// The key's custom metadata.
        custom_metadata: Option<BTreeMap<String, String>>,
    },
    /// The version exists but is soft-deleted or destroyed.
    Deleted {
        /// The version's metadata.
        meta: VersionMeta,
        /// The key's custom metadata.
        custom_metadata: Option<BTreeMap<String, String>>,
    },
    /// No such key or version (never written, or trimmed).
    Missing,
}

/// The outcome of a patch.
#[derive(Debug)]
pub enum PatchResult {
    /// The merged value was stored as a new version.
    Written(VersionMeta),
    /// The key does not exist or has no versions.
    Missing,
    /// The current version is deleted or destroyed, so there is nothing to patch.
    CurrentDeleted(VersionMeta),
}

/// Reads `version` of `path` (`None` or 0: the current version, with no
/// fallback to older ones when it is deleted). A successful read records
/// the time in the key's `last_read`.
pub async fn read(
    conn: &mut SqliteConnection,
    barrier: &Barrier,
    path: &str,
    version: Option<u64>,
    now: OffsetDateTime,
) -> Result<ReadResult> {
    check_path(path)?;
    let Some(key) = fetch_key_row(conn, path).await? else {
        return Ok(ReadResult::Missing);
    };
    let wanted = version.filter(|v| *v > 0).unwrap_or(key.current_version);
    if wanted == 0 {
        return Ok(ReadResult::Missing);
    }
    let Some(row) = fetch_version_row(conn, path, wanted).await? else {
        return Ok(ReadResult::Missing);
    };
    if !row.meta.is_live(now) {
        return Ok(ReadResult::Deleted {
            meta: row.meta,
            custom_metadata: key.custom_metadata,
        });
    }
    let value = decrypt_version(barrier, path, &row)?;
    sqlx::query("UPDATE vault_kv_keys SET last_read_at = ? WHERE path = ?")
        .bind(to_nanos(now))
        .bind(path)
        .execute(conn)
        .await?;
    Ok(ReadResult::Value {
        value,
        meta: row.meta,
        custom_metadata: key.custom_metadata,
    })
}

/// Writes `data` (a JSON object) as the next version of `path`.
///
/// With `cas`, the write happens only if `cas` equals the current version
/// (0: the key must not exist). Versions past the key's (else the mount's,
/// else 10) limit are removed, oldest first.
pub async fn write(
    conn: &mut SqliteConnection,
    barrier: &Barrier,
    path: &str,
    data: &Value,
    cas: Option<u64>,
    now: OffsetDateTime,
) -> Result<VersionMeta> {
    check_path(path)?;
    if !data.is_object() {
        return Err(VaultError::NoData);
    }
    let key = fetch_key_row(conn, path).await?;
    let config = read_config(conn).await?;
    let current = key.as_ref().map_or(0, |k| k.current_version);
    let cas_required = config.cas_required || key.as_ref().is_some_and(|k| k.cas_required);
    match cas {
        None if cas_required => return Err(VaultError::CasRequired),
        Some(expected) if expected != current => return Err(VaultError::CasMismatch),
        _ => {}
    }
    let plaintext = Zeroizing::new(serde_json::to_vec(data).map_err(|_| VaultError::NoData)?);
    append_version(conn, barrier, path, key, &plaintext, now).await
}

/// Applies `patch` to the current version as a JSON merge patch (RFC 7396:
/// `null` removes a field) and stores the result as a new version. Same
/// `cas` rules as [`write`].
pub async fn patch(
    conn: &mut SqliteConnection,
    barrier: &Barrier,
    path: &str,
    patch: &Value,
    cas: Option<u64>,
    now: OffsetDateTime,
) -> Result<PatchResult> {
    check_path(path)?;
    if !patch.is_object() {
        return Err(VaultError::NoData);
    }
    let Some(key) = fetch_key_row(conn, path).await? else {
        return Ok(PatchResult::Missing);
    };
    let config = read_config(conn).await?;
    if key.current_version == 0 {
        return Ok(PatchResult::Missing);
    }
    match cas {
        None if config.cas_required || key.cas_required => return Err(VaultError::CasRequired),
        Some(expected) if expected != key.current_version => return Err(VaultError::CasMismatch),
        _ => {}
    }
    let Some(row) = fetch_version_row(conn, path, key.current_version).await? else {
        return Ok(PatchResult::Missing);
    };
    if !row.meta.is_live(now) {
        return Ok(PatchResult::CurrentDeleted(row.meta));
    }
    let current = decrypt_version(barrier, path, &row)?;
    let mut merged: Value =
        serde_json::from_slice(current.as_bytes()).map_err(|source| VaultError::StoredJson {
            column: "vault_kv_versions.ciphertext",
            source,
        })?;
    merge_patch(&mut merged, patch);
    let plaintext = Zeroizing::new(serde_json::to_vec(&merged).map_err(|_| VaultError::NoData)?);
    drop(merged);
    let meta = append_version(conn, barrier, path, Some(key), &plaintext, now).await?;
    Ok(PatchResult::Written(meta))
}

/// Stores `plaintext` as the next version, creating the key if needed, and
/// trims old versions. Used by writes, patches and rotations.
pub(crate) async fn append_version(
    conn: &mut SqliteConnection,
    barrier: &Barrier,
    path: &str,
    key: Option<KeyRow>,
    plaintext: &[u8],
    now: OffsetDateTime,
) -> Result<VersionMeta> {
    let config = read_config(conn).await?;
    let key = match key {
        Some(key) => key,
        None => insert_key_row(conn, path, now).await?,
    };
    let version = key.current_version + 1;
    let (term, ciphertext) = barrier.encrypt(
        &RecordId {
            table: VERSIONS_TABLE,
            key: path,
            version,
        },
        plaintext,
    )?;
    let delete_after =
        effective_delete_after(key.delete_version_after, config.delete_version_after);
    let meta = VersionMeta {
        version,
        created_time: now,
        deletion_time: delete_after.is_positive().then(|| now + delete_after),
        destroyed: false,
    };
    sqlx::query(
        "INSERT INTO vault_kv_versions (path, version, created_at, deletion_at, destroyed, key_term, ciphertext) \
         VALUES (?, ?, ?, ?, 0, ?, ?)",
    )
    .bind(path)
    .bind(to_i64(version))
    .bind(to_nanos(now))
    .bind(meta.deletion_time.map(to_nanos))
    .bind(i64::from(term))
    .bind(&ciphertext)
    .execute(&mut *conn)
    .await?;

    let limit = if key.max_versions > 0 {
        key.max_versions
    } else if config.max_versions > 0 {
        config.max_versions
    } else {
        DEFAULT_MAX_VERSIONS
    };
    let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM vault_kv_versions WHERE path = ?")
        .bind(path)
        .fetch_one(&mut *conn)
        .await?;
    let mut oldest = key.oldest_version;
    if kept > i64::from(limit) {
        let last_to_delete = version - u64::from(limit);
        sqlx::query("DELETE FROM vault_kv_versions WHERE path = ? AND version <= ?")
            .bind(path)
            .bind(to_i64(last_to_delete))
            .execute(&mut *conn)
            .await?;
        oldest = last_to_delete + 1;
    }
    sqlx::query("UPDATE vault_kv_keys SET current_version = ?, oldest_version = ?, updated_at = ? WHERE path = ?")
        .bind(to_i64(version))
        .bind(to_i64(oldest))
        .bind(to_nanos(now))
        .bind(path)
        .execute(conn)
        .await?;
    Ok(meta)
}

pub(crate) fn decrypt_version(
    barrier: &Barrier,
    path: &str,
    row: &VersionRow,
) -> Result<SecretValue> {
    let (Some(term), Some(ciphertext)) = (row.term, row.ciphertext.as_deref()) else {
        return Err(VaultError::Corrupt {
            record: format!("{VERSIONS_TABLE}:{path}@{}", row.meta.version),
            source: crate::error::CryptoError::Truncated { len: 0 },
        });
    };
    let record = RecordId {
        table: VERSIONS_TABLE,
        key: path,
        version: row.meta.version,
    };
    Ok(SecretValue(barrier.decrypt(&record, term, ciphertext)?))
}

pub(crate) fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

// RFC 7396 JSON merge patch.
fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch_map) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    if let Value::Object(target_map) = target {
        for (name, value) in patch_map {
            if value.is_null() {
                target_map.remove(name);
            } else {
                merge_patch(target_map.entry(name.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut target = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut target, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(target, json!({"a": "z", "c": {"d": "e"}}));
        let mut target = json!({"a": ["b"]});
        merge_patch(&mut target, &json!({"a": "c", "n": 1}));
        assert_eq!(target, json!({"a": "c", "n": 1}));
    }
}
