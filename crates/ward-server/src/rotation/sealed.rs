//! Configurations stored encrypted by the vault barrier.
//!
//! A connector or dynamic-credential configuration contains an admin password or
//! a signing key, so the JSON body is encrypted with the vault's active data
//! key, bound to its table and name. Only a summary without credentials is
//! stored in clear, for listing.

use secrecy::SecretString;
use serde_json::Value;
use sqlx::{Row, SqliteConnection};
use ward_vault::{Barrier, RecordId};

use super::vault_error;
use crate::error::{ApiError, ApiResult};

/// A table of encrypted configurations.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SealedTable {
    /// `rotation_connectors`.
    Connectors,
    /// `database_configs`.
    DatabaseConfigs,
}

impl SealedTable {
    fn name(self) -> &'static str {
        match self {
            SealedTable::Connectors => "rotation_connectors",
            SealedTable::DatabaseConfigs => "database_configs",
        }
    }
}

/// A stored configuration without its secret part.
#[derive(Debug, Clone)]
pub(crate) struct Summary {
    pub name: String,
    pub summary: Value,
    pub created_at: String,
    pub updated_at: String,
}

/// Encrypts `body` and inserts or replaces the configuration `name`.
pub(crate) async fn put(
    conn: &mut SqliteConnection,
    barrier: &Barrier,
    table: SealedTable,
    name: &str,
    summary: &Value,
    body: &SecretString,
    now: &str,
) -> ApiResult<()> {
    use secrecy::ExposeSecret as _;
    let (term, ciphertext) = barrier
        .encrypt(&record(table, name), body.expose_secret().as_bytes())
        .map_err(vault_error)?;
    let kind = summary.get("kind").and_then(Value::as_str).unwrap_or("");
    let statement = match table {
        SealedTable::Connectors => {
            "INSERT INTO rotation_connectors (name, kind, summary, key_term, ciphertext, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) ON CONFLICT(name) DO UPDATE SET kind = excluded.kind, \
             summary = excluded.summary, key_term = excluded.key_term, ciphertext = excluded.ciphertext, \
             updated_at = excluded.updated_at"
        }
        SealedTable::DatabaseConfigs => {
            "INSERT INTO database_configs (name, summary, key_term, ciphertext, created_at, updated_at) \
             VALUES (?1, ?3, ?4, ?5, ?6, ?6) ON CONFLICT(name) DO UPDATE SET summary = excluded.summary, \
             key_term = excluded.key_term, ciphertext = excluded.ciphertext, updated_at = excluded.updated_at"
        }
    };
    sqlx::query(statement)
        .bind(name)
        .bind(kind)
        .bind(summary.to_string())
        .bind(i64::from(term))
        .bind(ciphertext)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Decrypts the configuration `name`, or returns `None` when there is none.
pub(crate) async fn get(
    conn: &mut SqliteConnection,
    barrier: &Barrier,
    table: SealedTable,
    name: &str,
) -> ApiResult<Option<SecretString>> {
    let statement = match table {
        SealedTable::Connectors => {
            "SELECT key_term, ciphertext FROM rotation_connectors WHERE name = ?"
        }
        SealedTable::DatabaseConfigs => {
            "SELECT key_term, ciphertext FROM database_configs WHERE name = ?"
        }
    };
    let Some(row) = sqlx::query(statement)
        .bind(name)
        .fetch_optional(conn)
        .await?
    else {
        return Ok(None);
    };
    let term = u32::try_from(row.try_get::<i64, _>("key_term")?)
        .map_err(|err| ApiError::internal("reading a key term", err))?;
    let ciphertext: Vec<u8> = row.try_get("ciphertext")?;
    let plaintext = barrier
        .decrypt(&record(table, name), term, &ciphertext)
        .map_err(vault_error)?;
    let text = String::from_utf8(plaintext.to_vec())
        .map_err(|_| ApiError::internal("decoding a stored configuration", "not UTF-8"))?;
    Ok(Some(SecretString::from(text)))
}

/// Lists the summaries of every configuration in `table`, by name.
pub(crate) async fn list(
    conn: &mut SqliteConnection,
    table: SealedTable,
) -> ApiResult<Vec<Summary>> {
    let statement = match table {
        SealedTable::Connectors => {
            "SELECT name, summary, created_at, updated_at FROM rotation_connectors ORDER BY name"
        }
        SealedTable::DatabaseConfigs => {
            "SELECT name, summary, created_at, updated_at FROM database_configs ORDER BY name"
        }
    };
    let rows = sqlx::query(statement).fetch_all(conn).await?;
    rows.iter().map(summary_of).collect()
}

/// Reads the summary of one configuration.
pub(crate) async fn find(
    conn: &mut SqliteConnection,
    table: SealedTable,
    name: &str,
) -> ApiResult<Option<Summary>> {
    let statement = match table {
        SealedTable::Connectors => {
            "SELECT name, summary, created_at, updated_at FROM rotation_connectors WHERE name = ?"
        }
        SealedTable::DatabaseConfigs => {
            "SELECT name, summary, created_at, updated_at FROM database_configs WHERE name = ?"
        }
    };
    let row = sqlx::query(statement)
        .bind(name)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(summary_of).transpose()
}

fn summary_of(row: &sqlx::sqlite::SqliteRow) -> ApiResult<Summary> {
    let text: String = row.try_get("summary")?;
    Ok(Summary {
        name: row.try_get("name")?,
        summary: serde_json::from_str(&text)
            .map_err(|err| ApiError::internal("reading a configuration summary", err))?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn record(table: SealedTable, name: &str) -> RecordId<'_> {
    RecordId {
        table: table.name(),
        key: name,
        version: 0,
    }
}

/// Checks a configuration name: 1 to 64 lowercase letters, digits, `-` and `_`.
pub(crate) fn check_name(name: &str) -> ApiResult<()> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if valid {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "name",
            format!(
                "`{name}` is not a valid name: use 1 to 64 lowercase letters, digits, `-` and `_`"
            ),
        ))
    }
}

/// Returns `url` without user information, query and fragment, so it can be
/// shown without leaking a password or token.
pub(crate) fn redact_url(url: &str) -> String {
    let without_query = url.split(['?', '#']).next().unwrap_or("");
    match without_query.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = match rest.find('/') {
                Some(at) => rest.split_at(at),
                None => (rest, ""),
            };
            let host = authority
                .rsplit_once('@')
                .map_or(authority, |(_, host)| host);
            format!("{scheme}://{host}{path}")
        }
        None => "[unparsed]".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_url_drops_credentials() {
        assert_eq!(
            redact_url("https://user:pw@hooks.example:8443/rotate?token=abc#x"),
            "https://hooks.example:8443/rotate"
        );
        assert_eq!(redact_url("http://127.0.0.1:9/"), "http://127.0.0.1:9/");
        assert_eq!(redact_url("not a url"), "[unparsed]");
    }

    #[test]
    fn check_name_rules() {
        assert!(check_name("erp-db_1").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name("Upper").is_err());
        assert!(check_name("a/b").is_err());
    }
}
