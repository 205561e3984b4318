//! Errors of the vault.
//!
//! Messages never contain a secret value, a token, a secret id or a share.

use std::net::IpAddr;

/// A failure of the cipher or of the key material.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// Key material of the wrong size.
    #[error("invalid key length: expected {expected} bytes, found {found}")]
    KeyLength { expected: usize, found: usize },
    /// Encryption failed (only possible for oversized messages).
    #[error("encryption failed")]
    Encrypt,
    /// Authentication failed: wrong key, wrong associated data or tampered bytes.
    #[error("decryption failed: wrong key, record moved or modified")]
    Decrypt,
    /// The ciphertext is shorter than a nonce and a tag.
    #[error("ciphertext too short ({len} bytes)")]
    Truncated { len: usize },
    /// The decrypted keyring does not parse.
    #[error("keyring is malformed: {0}")]
    Keyring(&'static str),
}

/// A failure of a vault operation.
///
/// The HTTP layer maps each variant to Vault's status code and message; the
/// variants that mirror a Vault error carry Vault's text in their `Display`.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The barrier is sealed, so no key material is in memory.
    #[error("Vault is sealed")]
    Sealed,
    /// The vault has never been initialised.
    #[error("Vault is not initialized")]
    NotInitialized,
    /// `init` was called on an initialised vault.
    #[error("Vault is already initialized")]
    AlreadyInitialized,
    /// `unseal` or `seal` was called on an unsealed vault with `reset`.
    #[error("vault is unsealed")]
    AlreadyUnsealed,
    /// Invalid share count or threshold.
    #[error("invalid seal configuration: {0}")]
    InvalidSealConfig(&'static str),
    /// An unseal key that is neither hex nor base64 of the right length.
    #[error("'key' must be a valid hex or base64 string")]
    InvalidShareEncoding,
    /// The shares combined into a key that does not open the root key.
    #[error("unseal failed, invalid key")]
    UnsealFailed,
    /// A stored record failed to decrypt or parse.
    #[error("stored vault record `{record}` is unreadable: {source}")]
    Corrupt {
        record: String,
        #[source]
        source: CryptoError,
    },
    /// A key rotation raced with another one; retry it.
    #[error("the keyring changed while the rotation was prepared; run the rotation again")]
    KeyringChanged,
    /// A cipher failure outside a stored record.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The database failed.
    #[error("vault storage failed: {0}")]
    Storage(#[from] sqlx::Error),
    /// A stored JSON column does not parse.
    #[error("vault storage holds malformed JSON in `{column}`: {source}")]
    StoredJson {
        column: &'static str,
        #[source]
        source: serde_json::Error,
    },

    // KV version 2
    /// An empty path or one with `.`/`..`/empty segments.
    #[error("invalid path `{path}`: {reason}")]
    InvalidPath { path: String, reason: &'static str },
    /// A write without `data`, or `data` that is not a JSON object.
    #[error("no data provided")]
    NoData,
    /// `cas` differs from the current version.
    #[error("check-and-set parameter did not match the current version")]
    CasMismatch,
    /// `cas` is required by the key or the mount and was absent.
    #[error("check-and-set parameter required for this call")]
    CasRequired,
    /// A version list without versions; the text differs per endpoint as in Vault.
    #[error("{0}")]
    NoVersions(&'static str),
    /// The key does not exist.
    #[error("secret `{0}` not found")]
    KeyNotFound(String),
    /// Custom metadata breaks a limit; every problem is listed.
    #[error("{}", .0.join("; "))]
    InvalidMetadata(Vec<String>),
    /// A staged rotation value that does not exist (already promoted or discarded).
    #[error("pending rotation `{id}` for `{path}` not found")]
    PendingNotFound { path: String, id: String },

    // Tokens and AppRole
    /// The token is unknown, expired, used up or revoked.
    #[error("permission denied")]
    InvalidToken,
    /// The token may not be renewed.
    #[error("lease is not renewable")]
    NotRenewable,
    /// Unknown role id, or unknown, expired or used-up secret id.
    #[error("invalid role or secret ID")]
    InvalidLogin { bot_id: Option<String> },
    /// The login came from outside the secret id's CIDR blocks.
    #[error("source address \"{address}\" unauthorized through CIDR restrictions on the secret ID")]
    CidrMismatch { address: String, bot_id: String },
    /// The token was used from outside its bound CIDR blocks.
    #[error("permission denied")]
    TokenCidrMismatch { address: IpAddr },
    /// No AppRole role of that name.
    #[error("role \"{0}\" does not exist")]
    RoleNotFound(String),
    /// A secret-id request asks for more than the role allows, or is malformed.
    #[error("{0}")]
    InvalidSecretIdRequest(String),
    /// A CIDR block that does not parse, or is outside the role's blocks.
    #[error("failed to validate CIDR blocks: {0}")]
    InvalidCidr(String),

    // Grants
    /// A grant pattern that is not a valid path pattern.
    #[error("invalid grant path pattern `{pattern}`: {reason}")]
    InvalidPattern {
        pattern: String,
        reason: &'static str,
    },
    /// An unknown capability name.
    #[error("unknown capability `{0}`: expected read, create, update, delete or list")]
    UnknownCapability(String),
}

/// Result of a vault operation.
pub type Result<T, E = VaultError> = std::result::Result<T, E>;

pub(crate) fn stored_json(column: &'static str) -> impl FnOnce(serde_json::Error) -> VaultError {
    move |source| VaultError::StoredJson { column, source }
}
