//! Ward's vault: the barrier and seal, key shares, KV version 2 secrets,
//! tokens, AppRole logins and grants.
//!
//! Everything here is a library over the caller's SQLite connection, so the
//! server can run a vault operation and its audit append in one
//! transaction. Secret material only passes through [`Barrier`]: values are
//! encrypted with AES-256-GCM under the keyring's active data key, tokens
//! and secret ids are stored as HMAC-SHA-256 hashes, and nothing here reads
//! the wall clock (every function that needs the time takes `now`).
//!
//! The HTTP shapes (Vault's envelopes and error texts) live in the server;
//! the error variants of [`VaultError`] carry Vault's messages.

pub mod approle;
pub mod barrier;
pub mod cidr;
pub mod cipher;
pub mod error;
pub mod grant;
pub mod keyring;
pub mod kv;
pub mod rewrap;
pub mod rotation;
mod seal_store;
pub mod shamir;
pub mod timefmt;
pub mod token;

pub use barrier::{Barrier, InitOutput, KeyringChange, PreparedInit, RecordId, SealStatus};
pub use error::{CryptoError, Result, VaultError};

/// Name under which the store tracks this crate's migrations.
pub const COMPONENT: &str = "vault";

/// The vault's SQL migrations, applied in order. Every table starts with `vault_`.
pub const MIGRATIONS: &[&str] = &[include_str!("../migrations/0001_vault.sql")];

/// The vault's tables, for `ward_store::Store::open`.
pub const SCHEMA: ward_store::Schema = ward_store::Schema {
    component: COMPONENT,
    migrations: MIGRATIONS,
};
