//! The hash chain.
//!
//! An entry's hash is the lowercase hex SHA-256 of
//! `prev_hash "\n" canonical` where `canonical` is the JSON array
//! `[seq, at, actor, action, bot, target, outcome, details]` with `details`
//! included as its stored text. The first entry's previous hash is 64 zeros.

use sha2::{Digest, Sha256};
use sqlx::SqliteConnection;
use time::OffsetDateTime;

use crate::{AuditEntry, AuditError, AuditRecord};

/// Previous hash of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Computes the hash of a record from its fields and its previous hash.
pub fn entry_hash(record: &AuditRecord) -> String {
    let canonical = serde_json::json!([
        record.seq,
        record.at,
        record.actor,
        record.action,
        record.bot,
        record.target,
        record.outcome,
        record.details,
    ]);
    let mut hasher = Sha256::new();
    hasher.update(record.prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(canonical.to_string().as_bytes());
    hex::encode(hasher.finalize())
}

/// Appends `entry` at `at` on the caller's connection and returns its
/// sequence number. Call it inside the write transaction of the change it
/// records; the writer connection is single, so the head read here cannot
/// race another append.
pub async fn append(
    conn: &mut SqliteConnection,
    at: OffsetDateTime,
    entry: &AuditEntry,
) -> Result<i64, AuditError> {
    let head: Option<(i64, String)> =
        sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?;
    let (seq, prev_hash) = match head {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, GENESIS_HASH.to_string()),
    };
    let mut record = AuditRecord {
        seq,
        at: ward_core::clock::format_timestamp(at),
        actor: entry.actor.clone(),
        action: entry.action.clone(),
        bot: entry.bot.clone(),
        target: entry.target.clone(),
        outcome: entry.outcome.as_str().to_string(),
        details: serde_json::to_string(&entry.details)?,
        prev_hash,
        hash: String::new(),
    };
    record.hash = entry_hash(&record);
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor, action, bot, target, outcome, details, prev_hash, hash) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(record.seq)
    .bind(&record.at)
    .bind(&record.actor)
    .bind(&record.action)
    .bind(&record.bot)
    .bind(&record.target)
    .bind(&record.outcome)
    .bind(&record.details)
    .bind(&record.prev_hash)
    .bind(&record.hash)
    .execute(&mut *conn)
    .await?;
    metrics::counter!("ward_audit_appends_total", "outcome" => entry.outcome.as_str()).increment(1);
    Ok(seq)
}
