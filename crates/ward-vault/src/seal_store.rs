//! Storage of the seal record (table `vault_seal`).

use sqlx::{Row, SqliteConnection};
use time::OffsetDateTime;

use crate::error::Result;
use crate::timefmt::to_nanos;

/// The persisted seal configuration and encrypted keys.
pub(crate) struct SealRecord {
    pub shares: u8,
    pub threshold: u8,
    pub root_key_ciphertext: Vec<u8>,
    pub keyring_ciphertext: Vec<u8>,
    pub keyring_generation: u64,
    pub now: OffsetDateTime,
}

pub(crate) async fn read(conn: &mut SqliteConnection) -> Result<Option<SealRecord>> {
    let row = sqlx::query(
        "SELECT secret_shares, secret_threshold, root_key_ciphertext, keyring_ciphertext, \
         keyring_generation, updated_at FROM vault_seal WHERE id = 1",
    )
    .fetch_optional(conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(SealRecord {
        shares: u8::try_from(row.try_get::<i64, _>(0)?).unwrap_or(0),
        threshold: u8::try_from(row.try_get::<i64, _>(1)?).unwrap_or(0),
        root_key_ciphertext: row.try_get(2)?,
        keyring_ciphertext: row.try_get(3)?,
        keyring_generation: u64::try_from(row.try_get::<i64, _>(4)?).unwrap_or(0),
        now: crate::timefmt::from_nanos(row.try_get(5)?),
    }))
}

pub(crate) async fn insert(conn: &mut SqliteConnection, record: &SealRecord) -> Result<()> {
    let now = to_nanos(record.now);
    sqlx::query(
        "INSERT INTO vault_seal (id, secret_shares, secret_threshold, root_key_ciphertext, \
         keyring_ciphertext, keyring_generation, created_at, updated_at) VALUES (1, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(i64::from(record.shares))
    .bind(i64::from(record.threshold))
    .bind(&record.root_key_ciphertext)
    .bind(&record.keyring_ciphertext)
    .bind(i64::try_from(record.keyring_generation).unwrap_or(i64::MAX))
    .bind(now)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Replaces the keyring (and root key) ciphertext if the stored generation
/// is still `base_generation`; returns whether it did.
pub(crate) async fn update_keyring(
    conn: &mut SqliteConnection,
    base_generation: u64,
    generation: u64,
    keyring_ciphertext: &[u8],
    root_key_ciphertext: Option<&[u8]>,
    now: OffsetDateTime,
) -> Result<bool> {
    let result = sqlx::query(
        "UPDATE vault_seal SET keyring_ciphertext = ?, keyring_generation = ?, \
         root_key_ciphertext = COALESCE(?, root_key_ciphertext), updated_at = ? \
         WHERE id = 1 AND keyring_generation = ?",
    )
    .bind(keyring_ciphertext)
    .bind(i64::try_from(generation).unwrap_or(i64::MAX))
    .bind(root_key_ciphertext)
    .bind(to_nanos(now))
    .bind(i64::try_from(base_generation).unwrap_or(i64::MAX))
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}
