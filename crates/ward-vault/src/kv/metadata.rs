//! Key metadata (`secret/metadata/:path`), listing and the mount config.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};
use time::{Duration, OffsetDateTime};

use super::path::folder_prefix;
use super::versions::version_meta;
use super::{KeyMetadata, MountConfig, RotationPolicy, check_path};
use crate::error::{Result, VaultError, stored_json};
use crate::timefmt::{from_nanos, to_nanos};

macro_rules! select_key {
    () => {
        "SELECT path, current_version, oldest_version, max_versions, cas_required, \
     delete_version_after_s, custom_metadata, created_at, updated_at, owners, rotation_interval_s, \
     rotation_grace_s, last_rotated_at, last_read_at FROM vault_kv_keys"
    };
}

/// Limits on custom metadata, as Vault's KV engine enforces them.
const MAX_CUSTOM_KEYS: usize = 64;
const MAX_CUSTOM_KEY_BYTES: usize = 128;
const MAX_CUSTOM_VALUE_BYTES: usize = 512;

/// Changes to a key's metadata; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct MetadataUpdate {
    /// Versions kept; 0 means the mount's value.
    pub max_versions: Option<u32>,
    /// Whether writes need `cas`.
    pub cas_required: Option<bool>,
    /// Soft-delete delay for new versions; zero is off.
    pub delete_version_after: Option<Duration>,
    /// Replaces the custom metadata.
    pub custom_metadata: Option<BTreeMap<String, String>>,
}

pub(crate) struct KeyRow {
    pub current_version: u64,
    pub oldest_version: u64,
    pub max_versions: u32,
    pub cas_required: bool,
    pub delete_version_after: Duration,
    pub custom_metadata: Option<BTreeMap<String, String>>,
}

pub(crate) async fn fetch_key_row(
    conn: &mut SqliteConnection,
    path: &str,
) -> Result<Option<KeyRow>> {
    let row = sqlx::query(concat!(select_key!(), " WHERE path = ?"))
        .bind(path)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(key_row).transpose()
}

fn key_row(row: &SqliteRow) -> Result<KeyRow> {
    let custom: Option<String> = row.try_get("custom_metadata")?;
    Ok(KeyRow {
        current_version: u64::try_from(row.try_get::<i64, _>("current_version")?).unwrap_or(0),
        oldest_version: u64::try_from(row.try_get::<i64, _>("oldest_version")?).unwrap_or(0),
        max_versions: u32::try_from(row.try_get::<i64, _>("max_versions")?).unwrap_or(0),
        cas_required: row.try_get("cas_required")?,
        delete_version_after: Duration::seconds(row.try_get("delete_version_after_s")?),
        custom_metadata: custom
            .map(|text| serde_json::from_str(&text))
            .transpose()
            .map_err(stored_json("custom_metadata"))?,
    })
}

pub(crate) async fn insert_key_row(
    conn: &mut SqliteConnection,
    path: &str,
    now: OffsetDateTime,
) -> Result<KeyRow> {
    sqlx::query("INSERT INTO vault_kv_keys (path, created_at, updated_at) VALUES (?, ?, ?)")
        .bind(path)
        .bind(to_nanos(now))
        .bind(to_nanos(now))
        .execute(&mut *conn)
        .await?;
    fetch_key_row(conn, path)
        .await?
        .ok_or_else(|| VaultError::KeyNotFound(path.to_string()))
}

/// Whether a key exists (with or without versions), which decides between
/// the `create` and `update` capabilities of a write.
pub async fn exists(conn: &mut SqliteConnection, path: &str) -> Result<bool> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM vault_kv_keys WHERE path = ?")
        .bind(path)
        .fetch_optional(conn)
        .await?;
    Ok(found.is_some())
}

/// Reads the mount config (defaults when never written).
pub async fn read_config(conn: &mut SqliteConnection) -> Result<MountConfig> {
    let row = sqlx::query("SELECT max_versions, cas_required, delete_version_after_s FROM vault_kv_config WHERE id = 1")
        .fetch_optional(conn)
        .await?;
    let Some(row) = row else {
        return Ok(MountConfig::default());
    };
    Ok(MountConfig {
        max_versions: u32::try_from(row.try_get::<i64, _>(0)?).unwrap_or(0),
        cas_required: row.try_get(1)?,
        delete_version_after: Duration::seconds(row.try_get(2)?),
    })
}

/// Replaces the mount config. A negative `delete_version_after` turns it off.
pub async fn write_config(conn: &mut SqliteConnection, config: &MountConfig) -> Result<()> {
    sqlx::query(
        "INSERT INTO vault_kv_config (id, max_versions, cas_required, delete_version_after_s) VALUES (1, ?, ?, ?) \
         ON CONFLICT(id) DO UPDATE SET max_versions = excluded.max_versions, cas_required = excluded.cas_required, \
         delete_version_after_s = excluded.delete_version_after_s",
    )
    .bind(i64::from(config.max_versions))
    .bind(config.cas_required)
    .bind(config.delete_version_after.whole_seconds().max(0))
    .execute(conn)
    .await?;
    Ok(())
}

/// Reads a key's metadata with every kept version; `None` if the key does
/// not exist.
pub async fn read_metadata(conn: &mut SqliteConnection, path: &str) -> Result<Option<KeyMetadata>> {
    check_path(path)?;
    let row = sqlx::query(concat!(select_key!(), " WHERE path = ?"))
        .bind(path)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let key = key_row(&row)?;
    let version_rows = sqlx::query(
        "SELECT version, created_at, deletion_at, destroyed FROM vault_kv_versions WHERE path = ? ORDER BY version",
    )
    .bind(path)
    .fetch_all(conn)
    .await?;
    let mut versions = BTreeMap::new();
    for version_row in &version_rows {
        let meta = version_meta(version_row)?;
        versions.insert(meta.version, meta);
    }
    let owners: String = row.try_get("owners")?;
    Ok(Some(KeyMetadata {
        path: path.to_string(),
        current_version: key.current_version,
        oldest_version: key.oldest_version,
        max_versions: key.max_versions,
        cas_required: key.cas_required,
        delete_version_after: key.delete_version_after,
        custom_metadata: key.custom_metadata,
        created_time: from_nanos(row.try_get("created_at")?),
        updated_time: from_nanos(row.try_get("updated_at")?),
        versions,
        owners: serde_json::from_str(&owners).map_err(stored_json("owners"))?,
        rotation: RotationPolicy {
            interval: row
                .try_get::<Option<i64>, _>("rotation_interval_s")?
                .map(Duration::seconds),
            grace: Duration::seconds(row.try_get("rotation_grace_s")?),
        },
        last_rotated: row
            .try_get::<Option<i64>, _>("last_rotated_at")?
            .map(from_nanos),
        last_read: row
            .try_get::<Option<i64>, _>("last_read_at")?
            .map(from_nanos),
    }))
}

/// Applies `update` to a key's metadata, creating the key (with no
/// versions) if it does not exist.
pub async fn write_metadata(
    conn: &mut SqliteConnection,
    path: &str,
    update: &MetadataUpdate,
    now: OffsetDateTime,
) -> Result<()> {
    check_path(path)?;
    if let Some(custom) = &update.custom_metadata {
        check_custom_metadata(custom)?;
    }
    if fetch_key_row(conn, path).await?.is_none() {
        insert_key_row(conn, path, now).await?;
    }
    let custom = update
        .custom_metadata
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(stored_json("custom_metadata"))?;
    sqlx::query(
        "UPDATE vault_kv_keys SET max_versions = COALESCE(?, max_versions), \
         cas_required = COALESCE(?, cas_required), \
         delete_version_after_s = COALESCE(?, delete_version_after_s), \
         custom_metadata = COALESCE(?, custom_metadata), updated_at = ? WHERE path = ?",
    )
    .bind(update.max_versions.map(i64::from))
    .bind(update.cas_required)
    .bind(
        update
            .delete_version_after
            .map(|d| d.whole_seconds().max(0)),
    )
    .bind(custom)
    .bind(to_nanos(now))
    .bind(path)
    .execute(conn)
    .await?;
    Ok(())
}

/// Erases a key with all its versions, metadata and staged rotations.
/// Returns whether the key existed.
pub async fn delete_key(conn: &mut SqliteConnection, path: &str) -> Result<bool> {
    check_path(path)?;
    sqlx::query("DELETE FROM vault_kv_versions WHERE path = ?")
        .bind(path)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM vault_kv_pending WHERE path = ?")
        .bind(path)
        .execute(&mut *conn)
        .await?;
    let result = sqlx::query("DELETE FROM vault_kv_keys WHERE path = ?")
        .bind(path)
        .execute(conn)
        .await?;
    Ok(result.rows_affected() > 0)
}

/// Lists the immediate children of `folder`, sorted; sub-folders end with
/// `/`. Keys whose versions are all destroyed still appear while their
/// metadata exists. An empty result means an empty or unknown folder.
pub async fn list(conn: &mut SqliteConnection, folder: &str) -> Result<Vec<String>> {
    let prefix = folder_prefix(folder)?;
    let paths: Vec<String> =
        sqlx::query_scalar("SELECT path FROM vault_kv_keys WHERE substr(path, 1, length(?1)) = ?1")
            .bind(&prefix)
            .fetch_all(conn)
            .await?;
    let mut children = BTreeSet::new();
    for path in &paths {
        let Some(rest) = path.strip_prefix(prefix.as_str()) else {
            continue;
        };
        match rest.find('/') {
            Some(at) => children.insert(rest[..=at].to_string()),
            None => children.insert(rest.to_string()),
        };
    }
    Ok(children.into_iter().collect())
}

/// Replaces the bots recorded as owners of a key.
pub async fn set_owners(conn: &mut SqliteConnection, path: &str, owners: &[String]) -> Result<()> {
    let owners = serde_json::to_string(owners).map_err(stored_json("owners"))?;
    let result = sqlx::query("UPDATE vault_kv_keys SET owners = ? WHERE path = ?")
        .bind(owners)
        .bind(path)
        .execute(conn)
        .await?;
    if result.rows_affected() == 0 {
        return Err(VaultError::KeyNotFound(path.to_string()));
    }
    Ok(())
}

/// Sets how and when a key is rotated.
pub async fn set_rotation_policy(
    conn: &mut SqliteConnection,
    path: &str,
    policy: RotationPolicy,
) -> Result<()> {
    let result = sqlx::query(
        "UPDATE vault_kv_keys SET rotation_interval_s = ?, rotation_grace_s = ? WHERE path = ?",
    )
    .bind(policy.interval.map(|d| d.whole_seconds()))
    .bind(policy.grace.whole_seconds().max(0))
    .bind(path)
    .execute(conn)
    .await?;
    if result.rows_affected() == 0 {
        return Err(VaultError::KeyNotFound(path.to_string()));
    }
    Ok(())
}

fn check_custom_metadata(custom: &BTreeMap<String, String>) -> Result<()> {
    let mut problems = Vec::new();
    if custom.len() > MAX_CUSTOM_KEYS {
        problems.push(format!(
            "payload must contain at most {MAX_CUSTOM_KEYS} keys, provided {}",
            custom.len()
        ));
    }
    for (name, value) in custom {
        if name.is_empty() || name.len() > MAX_CUSTOM_KEY_BYTES {
            problems.push(format!(
                "length of key {name:?} is {} but must be 0 < len(key) <= {MAX_CUSTOM_KEY_BYTES}",
                name.len()
            ));
        }
        if value.len() > MAX_CUSTOM_VALUE_BYTES {
            problems.push(format!(
                "length of value for key {name:?} is {} but must be <= {MAX_CUSTOM_VALUE_BYTES}",
                value.len()
            ));
        }
        if name.chars().any(|c| c.is_control()) {
            problems.push(format!("key {name:?} contains unprintable characters"));
        }
        if value.chars().any(|c| c.is_control()) {
            problems.push(format!(
                "value for key {name:?} contains unprintable characters"
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(VaultError::InvalidMetadata(problems))
    }
}
