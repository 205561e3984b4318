//! Ed25519-signed checkpoints of the chain head.
//!
//! A checkpoint signs `ward-audit-checkpoint\n{seq}\n{head_hash}\n{at}`. The
//! signing key lives in the data folder (`keys/audit-signing.key`, mode 0600)
//! and its public half beside it; publish the public key outside the data
//! folder, because someone who can rewrite the folder can also replace it.

use std::fs;
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use sqlx::SqliteConnection;
use time::OffsetDateTime;

use crate::AuditError;

const KEY_FILE: &str = "audit-signing.key";
const PUBLIC_KEY_FILE: &str = "audit-signing.pub";

/// A failure to load or create the signing key.
#[derive(Debug, thiserror::Error)]
pub enum SignerError {
    #[error("cannot read or write the audit signing key {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the audit signing key {path} is not 32 hex-encoded bytes: restore it from a backup")]
    Malformed { path: PathBuf },
}

/// The key that signs checkpoints.
pub struct CheckpointSigner {
    key: SigningKey,
    key_id: String,
}

impl std::fmt::Debug for CheckpointSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckpointSigner")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl CheckpointSigner {
    /// Loads the key from `keys_dir`, creating it on first use.
    pub fn load_or_create(keys_dir: &Path) -> Result<Self, SignerError> {
        let path = keys_dir.join(KEY_FILE);
        let io = |source| SignerError::Io {
            path: path.clone(),
            source,
        };
        let key = if path.exists() {
            let text = fs::read_to_string(&path).map_err(io)?;
            let bytes: [u8; 32] = hex::decode(text.trim())
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| SignerError::Malformed { path: path.clone() })?;
            SigningKey::from_bytes(&bytes)
        } else {
            fs::create_dir_all(keys_dir).map_err(io)?;
            let key = SigningKey::from_bytes(&rand::random::<[u8; 32]>());
            ward_store::files::write_private(&path, &hex::encode(key.to_bytes())).map_err(io)?;
            let public = keys_dir.join(PUBLIC_KEY_FILE);
            fs::write(&public, hex::encode(key.verifying_key().to_bytes())).map_err(|source| {
                SignerError::Io {
                    path: public,
                    source,
                }
            })?;
            tracing::info!(path = %path.display(), "audit signing key created");
            key
        };
        let key_id = key_id(&key.verifying_key());
        Ok(CheckpointSigner { key, key_id })
    }

    /// Short id of the public key, stored with each checkpoint.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }
}

/// Reads the public key written beside the signing key in `keys_dir`, or a
/// public key file given by path.
pub fn read_public_key(path: &Path) -> Result<VerifyingKey, SignerError> {
    let path = if path.is_dir() {
        path.join(PUBLIC_KEY_FILE)
    } else {
        path.to_path_buf()
    };
    let text = fs::read_to_string(&path).map_err(|source| SignerError::Io {
        path: path.clone(),
        source,
    })?;
    let bytes: [u8; 32] = hex::decode(text.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| SignerError::Malformed { path: path.clone() })?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| SignerError::Malformed { path })
}

pub(crate) fn key_id(key: &VerifyingKey) -> String {
    hex::encode(&Sha256::digest(key.as_bytes())[..8])
}

/// The exact bytes a checkpoint signs.
pub fn checkpoint_message(seq: i64, head_hash: &str, at: &str) -> String {
    format!("ward-audit-checkpoint\n{seq}\n{head_hash}\n{at}")
}

/// Signs the current chain head and stores the checkpoint, unless the head
/// is already checkpointed. Returns the sequence number signed, if any.
pub async fn write_checkpoint(
    conn: &mut SqliteConnection,
    signer: &CheckpointSigner,
    at: OffsetDateTime,
) -> Result<Option<i64>, AuditError> {
    let head: Option<(i64, String)> =
        sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?;
    let Some((seq, head_hash)) = head else {
        return Ok(None);
    };
    let last: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM audit_checkpoints")
        .fetch_one(&mut *conn)
        .await?;
    if last == Some(seq) {
        return Ok(None);
    }
    let at = ward_core::clock::format_timestamp(at);
    let signature = signer
        .key
        .sign(checkpoint_message(seq, &head_hash, &at).as_bytes());
    sqlx::query("INSERT INTO audit_checkpoints (seq, head_hash, at, key_id, signature) VALUES (?, ?, ?, ?, ?)")
        .bind(seq)
        .bind(&head_hash)
        .bind(&at)
        .bind(&signer.key_id)
        .bind(hex::encode(signature.to_bytes()))
        .execute(&mut *conn)
        .await?;
    tracing::debug!(seq, "audit checkpoint signed");
    Ok(Some(seq))
}
