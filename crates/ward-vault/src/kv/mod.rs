//! Key/value secrets with versions, as Vault's KV version 2 engine keeps
//! them (mount `secret`).
//!
//! Each key has metadata (current and oldest version, limits, custom
//! metadata, owners, rotation policy) and numbered versions. Values are
//! JSON objects encrypted by the barrier, bound to their path and version.
//! All functions run on the caller's connection, so the caller can append
//! the audit entry in the same transaction.

mod data;
mod metadata;
mod path;
mod versions;

use std::collections::BTreeMap;

use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

pub(crate) use data::append_version;
pub use data::{PatchResult, ReadResult, patch, read, write};
pub(crate) use metadata::fetch_key_row as metadata_key_row;
pub use metadata::{
    MetadataUpdate, delete_key, exists, list, read_config, read_metadata, set_owners,
    set_rotation_policy, write_config, write_metadata,
};
pub use path::check_path;
pub use versions::{delete_latest, delete_versions, destroy_versions, undelete_versions};

/// Versions kept per key when neither the key nor the mount sets a limit.
pub const DEFAULT_MAX_VERSIONS: u32 = 10;

/// Table holding version ciphertexts; part of each version's associated data.
pub(crate) const VERSIONS_TABLE: &str = "vault_kv_versions";

/// Mount-wide settings (`secret/config`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MountConfig {
    /// Versions kept per key; 0 means [`DEFAULT_MAX_VERSIONS`].
    pub max_versions: u32,
    /// Whether every write needs `cas`.
    pub cas_required: bool,
    /// Versions are soft-deleted this long after being written; zero is off.
    pub delete_version_after: Duration,
}

/// Metadata of one version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionMeta {
    /// Version number, from 1.
    pub version: u64,
    /// When it was written.
    pub created_time: OffsetDateTime,
    /// When it was (or will be) soft-deleted.
    pub deletion_time: Option<OffsetDateTime>,
    /// Whether its value was erased.
    pub destroyed: bool,
}

impl VersionMeta {
    /// Whether the version is soft-deleted at `now` (a future deletion time
    /// does not count yet).
    pub fn is_deleted(&self, now: OffsetDateTime) -> bool {
        self.deletion_time.is_some_and(|at| at <= now)
    }

    /// Whether the value can be read at `now`.
    pub fn is_live(&self, now: OffsetDateTime) -> bool {
        !self.destroyed && !self.is_deleted(now)
    }
}

/// How and when a secret is rotated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RotationPolicy {
    /// Time between rotations; `None` means rotate only on request.
    pub interval: Option<Duration>,
    /// How long the previous version stays readable after a rotation;
    /// zero keeps it until someone deletes it.
    pub grace: Duration,
}

/// Metadata of a key, as `secret/metadata/:path` reports it, plus Ward's
/// ownership and rotation fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyMetadata {
    /// The key's path inside the mount.
    pub path: String,
    /// Highest version written; never moves back.
    pub current_version: u64,
    /// Lowest version kept; 0 until versions are trimmed.
    pub oldest_version: u64,
    /// Versions kept; 0 means the mount's value.
    pub max_versions: u32,
    /// Whether writes need `cas`.
    pub cas_required: bool,
    /// Soft-delete delay for new versions; zero is off.
    pub delete_version_after: Duration,
    /// Free-form string pairs.
    pub custom_metadata: Option<BTreeMap<String, String>>,
    /// When the key was created.
    pub created_time: OffsetDateTime,
    /// When the key last changed.
    pub updated_time: OffsetDateTime,
    /// Every kept version.
    pub versions: BTreeMap<u64, VersionMeta>,
    /// Bots that own (use) the secret.
    pub owners: Vec<String>,
    /// Rotation settings.
    pub rotation: RotationPolicy,
    /// When the value was last rotated.
    pub last_rotated: Option<OffsetDateTime>,
    /// When a value was last read.
    pub last_read: Option<OffsetDateTime>,
}

/// A decrypted secret value: the JSON object text, zeroed on drop.
pub struct SecretValue(pub(crate) Zeroizing<Vec<u8>>);

impl SecretValue {
    /// The JSON object as text.
    pub fn as_json(&self) -> &str {
        // Values are serialised from JSON before encryption, so they are UTF-8.
        std::str::from_utf8(&self.0).unwrap_or("{}")
    }

    /// The raw bytes of the JSON object.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretValue(<redacted>)")
    }
}

/// Picks the soft-delete delay for a new version: the smaller of the key's
/// and the mount's when both are set.
pub(crate) fn effective_delete_after(key: Duration, mount: Duration) -> Duration {
    match (key.is_positive(), mount.is_positive()) {
        (true, true) => key.min(mount),
        (true, false) => key,
        (false, true) => mount,
        (false, false) => Duration::ZERO,
    }
}
