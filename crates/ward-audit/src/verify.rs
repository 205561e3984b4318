//! Offline verification of the chain and its checkpoints.

use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use serde::Serialize;
use sqlx::SqlitePool;

use crate::checkpoint::{checkpoint_message, key_id};
use crate::{AuditRecord, GENESIS_HASH, entry_hash};

/// What a successful verification covered.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub entries: i64,
    pub head_seq: i64,
    pub head_hash: String,
    pub checkpoints: i64,
    pub last_checkpoint_seq: Option<i64>,
}

/// Why the chain failed, at which sequence number.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct VerifyFailure {
    /// First sequence number that fails.
    pub seq: i64,
    pub reason: String,
}

/// Verification could not run, or found a break.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("audit chain broken at sequence {}: {}", .0.seq, .0.reason)]
    Broken(VerifyFailure),
    #[error("cannot read the audit log: {0}")]
    Database(#[from] sqlx::Error),
}

/// Walks the whole chain in sequence order, then checks every checkpoint's
/// signature and that the chain still reaches and matches it.
pub async fn verify(
    pool: &SqlitePool,
    public_key: &VerifyingKey,
) -> Result<VerifyReport, VerifyError> {
    let broken = |seq, reason: String| VerifyError::Broken(VerifyFailure { seq, reason });
    // Both reads run in one transaction, so they see the same snapshot: read
    // separately, a checkpoint signed by a running server between them would
    // cover entries the first read never saw and look like a truncation.
    let mut snapshot = pool.begin().await?;
    let mut rows = sqlx::query_as::<_, AuditRecord>(
        "SELECT seq, at, actor, action, bot, target, outcome, details, prev_hash, hash FROM audit_log ORDER BY seq",
    )
    .fetch_all(&mut *snapshot)
    .await?
    .into_iter();

    let mut expected_seq = 1;
    let mut prev_hash = GENESIS_HASH.to_string();
    let mut hashes = std::collections::HashMap::new();
    for record in rows.by_ref() {
        if record.seq != expected_seq {
            return Err(broken(
                expected_seq,
                format!("entry missing: the next stored entry is {}", record.seq),
            ));
        }
        if record.prev_hash != prev_hash {
            return Err(broken(
                record.seq,
                "previous-hash link does not match the entry before it".to_string(),
            ));
        }
        if entry_hash(&record) != record.hash {
            return Err(broken(
                record.seq,
                "content does not match its hash: the entry was edited".to_string(),
            ));
        }
        prev_hash = record.hash.clone();
        hashes.insert(record.seq, record.hash);
        expected_seq += 1;
    }
    let head_seq = expected_seq - 1;

    let checkpoints: Vec<(i64, String, String, String, String)> = sqlx::query_as(
        "SELECT seq, head_hash, at, key_id, signature FROM audit_checkpoints ORDER BY seq",
    )
    .fetch_all(&mut *snapshot)
    .await?;
    let expected_key = key_id(public_key);
    for (seq, head_hash, at, kid, signature) in &checkpoints {
        let signature = hex::decode(signature)
            .ok()
            .and_then(|bytes| Signature::from_slice(&bytes).ok());
        let signed = kid == &expected_key
            && signature.is_some_and(|sig| {
                public_key
                    .verify(checkpoint_message(*seq, head_hash, at).as_bytes(), &sig)
                    .is_ok()
            });
        if !signed {
            return Err(broken(
                *seq,
                "checkpoint signature is invalid for this public key".to_string(),
            ));
        }
        match hashes.get(seq) {
            None => {
                return Err(broken(
                    head_seq + 1,
                    format!(
                        "entries after {head_seq} are missing, but a signed checkpoint covers {seq}: the log was truncated"
                    ),
                ));
            }
            Some(hash) if hash != head_hash => {
                return Err(broken(
                    *seq,
                    "entry differs from the signed checkpoint".to_string(),
                ));
            }
            Some(_) => {}
        }
    }
    Ok(VerifyReport {
        entries: head_seq,
        head_seq,
        head_hash: prev_hash,
        checkpoints: i64::try_from(checkpoints.len()).unwrap_or(i64::MAX),
        last_checkpoint_seq: checkpoints.last().map(|c| c.0),
    })
}
