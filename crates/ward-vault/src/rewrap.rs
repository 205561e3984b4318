//! Re-encryption of stored records under the active data key, after a
//! data-key rotation.
//!
//! Each call handles one batch, so the caller can run it in short
//! transactions between requests until nothing older remains. Old terms
//! keep decrypting meanwhile, so the vault serves throughout.

use sqlx::{Row, SqliteConnection};

use crate::barrier::{Barrier, RecordId};
use crate::error::Result;
use crate::kv::VERSIONS_TABLE;
use crate::rotation::{PENDING_TABLE, pending_record_key};

/// Progress of a re-encrypt pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RewrapProgress {
    /// Records re-encrypted by this call.
    pub rewrapped: u64,
    /// Records still under an older term after this call.
    pub remaining: u64,
}

/// Re-encrypts up to `batch` records written under an older term.
pub async fn rewrap_batch(
    conn: &mut SqliteConnection,
    barrier: &Barrier,
    batch: u32,
) -> Result<RewrapProgress> {
    let active = i64::from(barrier.keyring()?.active_term());
    let mut rewrapped = rewrap_versions(conn, barrier, active, batch).await?;
    let left = u32::try_from(u64::from(batch).saturating_sub(rewrapped)).unwrap_or(0);
    if left > 0 {
        rewrapped += rewrap_pending(conn, barrier, active, left).await?;
    }
    let remaining: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM vault_kv_versions WHERE key_term IS NOT NULL AND key_term <> ?1) \
         + (SELECT COUNT(*) FROM vault_kv_pending WHERE key_term <> ?1)",
    )
    .bind(active)
    .fetch_one(conn)
    .await?;
    Ok(RewrapProgress {
        rewrapped,
        remaining: u64::try_from(remaining).unwrap_or(0),
    })
}

async fn rewrap_versions(
    conn: &mut SqliteConnection,
    barrier: &Barrier,
    active: i64,
    batch: u32,
) -> Result<u64> {
    let rows = sqlx::query(
        "SELECT path, version, key_term, ciphertext FROM vault_kv_versions \
         WHERE key_term IS NOT NULL AND key_term <> ? LIMIT ?",
    )
    .bind(active)
    .bind(i64::from(batch))
    .fetch_all(&mut *conn)
    .await?;
    let mut count = 0;
    for row in &rows {
        let path: String = row.try_get("path")?;
        let version = u64::try_from(row.try_get::<i64, _>("version")?).unwrap_or(0);
        let term = u32::try_from(row.try_get::<i64, _>("key_term")?).unwrap_or(0);
        let ciphertext: Vec<u8> = row.try_get("ciphertext")?;
        let record = RecordId {
            table: VERSIONS_TABLE,
            key: &path,
            version,
        };
        let plaintext = barrier.decrypt(&record, term, &ciphertext)?;
        let (new_term, new_ciphertext) = barrier.encrypt(&record, &plaintext)?;
        sqlx::query(
            "UPDATE vault_kv_versions SET key_term = ?, ciphertext = ? WHERE path = ? AND version = ? AND key_term = ?",
        )
        .bind(i64::from(new_term))
        .bind(&new_ciphertext)
        .bind(&path)
        .bind(i64::try_from(version).unwrap_or(i64::MAX))
        .bind(i64::from(term))
        .execute(&mut *conn)
        .await?;
        count += 1;
    }
    Ok(count)
}

async fn rewrap_pending(
    conn: &mut SqliteConnection,
    barrier: &Barrier,
    active: i64,
    batch: u32,
) -> Result<u64> {
    let rows = sqlx::query(
        "SELECT id, path, key_term, ciphertext FROM vault_kv_pending WHERE key_term <> ? LIMIT ?",
    )
    .bind(active)
    .bind(i64::from(batch))
    .fetch_all(&mut *conn)
    .await?;
    let mut count = 0;
    for row in &rows {
        let id: String = row.try_get("id")?;
        let path: String = row.try_get("path")?;
        let term = u32::try_from(row.try_get::<i64, _>("key_term")?).unwrap_or(0);
        let ciphertext: Vec<u8> = row.try_get("ciphertext")?;
        let record_key = pending_record_key(&path, &id);
        let record = RecordId {
            table: PENDING_TABLE,
            key: &record_key,
            version: 0,
        };
        let plaintext = barrier.decrypt(&record, term, &ciphertext)?;
        let (new_term, new_ciphertext) = barrier.encrypt(&record, &plaintext)?;
        sqlx::query("UPDATE vault_kv_pending SET key_term = ?, ciphertext = ? WHERE id = ? AND key_term = ?")
            .bind(i64::from(new_term))
            .bind(&new_ciphertext)
            .bind(&id)
            .bind(i64::from(term))
            .execute(&mut *conn)
            .await?;
        count += 1;
    }
    Ok(count)
}
