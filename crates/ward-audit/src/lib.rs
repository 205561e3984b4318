//! Ward's tamper-evident audit log.
//!
//! Every entry contains the hash of the entry before it, computed over a canonical
//! encoding (see [`chain`]), so editing, deleting or reordering a row breaks the
//! chain at that row. Periodically the chain head is signed with Ed25519 and
//! stored as a checkpoint, so cutting off the tail after a checkpoint is found
//! too. [`verify`] checks a database offline and names the first sequence
//! number that fails.
//!
//! Entries are appended with [`append`] on the caller's write transaction, so a
//! state change and its audit entry commit together or not at all.

mod chain;
mod checkpoint;
mod entry;
mod query;
mod verify;

pub use chain::{GENESIS_HASH, append, entry_hash};
pub use checkpoint::{
    CheckpointSigner, SignerError, checkpoint_message, read_public_key, write_checkpoint,
};
pub use entry::{AuditEntry, AuditRecord, Outcome};
pub use query::{AuditFilter, query};
pub use verify::{VerifyError, VerifyFailure, VerifyReport, verify};

use ward_store::Schema;

/// The audit tables.
pub const SCHEMA: Schema = Schema {
    component: "audit",
    migrations: &[include_str!("../migrations/audit_001_initial.sql")],
};

/// A failure to append to or read the audit log.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("audit log database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("cannot encode audit details: {0}")]
    Encode(#[from] serde_json::Error),
}
