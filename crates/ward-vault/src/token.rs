//! Tokens: issue, authenticate, renew, revoke.
//!
//! A token is `hvs.` followed by 90 random base62 characters, as Vault's
//! service tokens look. The store keeps only its keyed hash (HMAC-SHA-256
//! with the keyring's hashing key), so a copy of the database contains no
//! usable token. Lookups go through the hash, never a comparison of token text.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;
use rand_010::RngExt;
use rand_010::distr::Alphanumeric;
use secrecy::{ExposeSecret, SecretString};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};
use time::{Duration, OffsetDateTime};

use crate::barrier::{Barrier, keyed_hash};
use crate::cidr;
use crate::error::{Result, VaultError, stored_json};
use crate::keyring::Keyring;
use crate::timefmt::{from_nanos, to_nanos};

macro_rules! select_token {
    () => {
        "SELECT accessor, bot_id, policies, meta, display_name, path, entity_id, created_at, \
     ttl_s, expires_at, max_expires_at, renewable, num_uses, bound_cidrs, last_renewal_at FROM vault_tokens"
    };
}

/// Prefix of every token Ward issues.
pub const TOKEN_PREFIX: &str = "hvs.";
const TOKEN_RANDOM_LEN: usize = 90;
const ACCESSOR_LEN: usize = 24;
const HASH_DOMAIN: &str = "token";

/// A token's properties, as `auth/token/lookup-self` reports them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenEntry {
    /// Public handle for the token, safe to log and audit.
    pub accessor: String,
    /// The bot the token belongs to; `None` for the root token.
    pub bot_id: Option<String>,
    /// Policy names, sorted and without duplicates.
    pub policies: Vec<String>,
    /// Metadata such as `role_name`.
    pub meta: BTreeMap<String, String>,
    /// Display name, such as `approle`.
    pub display_name: String,
    /// Path that created the token, such as `auth/approle/login`.
    pub path: String,
    /// Entity id; empty when none.
    pub entity_id: String,
    /// When the token was created.
    pub creation_time: OffsetDateTime,
    /// The TTL a renewal without increment grants.
    pub ttl: Duration,
    /// When the token expires; `None` for tokens that never expire.
    pub expire_time: Option<OffsetDateTime>,
    /// Latest possible expiry through renewals.
    pub max_expire_time: Option<OffsetDateTime>,
    /// Whether renew-self may extend it.
    pub renewable: bool,
    /// Uses left; 0 means unlimited.
    pub num_uses: u32,
    /// Source blocks the token may be used from; empty allows all.
    pub bound_cidrs: Vec<IpNet>,
    /// When the token was last renewed.
    pub last_renewal: Option<OffsetDateTime>,
}

impl TokenEntry {
    /// Returns whether the token carries the `root` policy.
    pub fn is_root(&self) -> bool {
        self.policies.iter().any(|p| p == "root")
    }

    /// Seconds left before expiry (0 for tokens without expiry).
    pub fn remaining(&self, now: OffsetDateTime) -> Duration {
        self.expire_time
            .map_or(Duration::ZERO, |at| (at - now).max(Duration::ZERO))
    }
}

/// The properties of a token to issue.
#[derive(Debug, Clone)]
pub struct TokenSpec {
    /// The bot the token is bound to.
    pub bot_id: Option<String>,
    /// Policy names; `default` is added.
    pub policies: Vec<String>,
    /// Metadata such as `role_name`.
    pub meta: BTreeMap<String, String>,
    /// Display name.
    pub display_name: String,
    /// Creating path.
    pub path: String,
    /// Initial TTL (and the TTL a renewal without increment grants).
    pub ttl: Duration,
    /// Maximum lifetime from creation, across renewals.
    pub max_ttl: Duration,
    /// Whether renew-self may extend it.
    pub renewable: bool,
    /// Uses allowed; 0 means unlimited.
    pub num_uses: u32,
    /// Source blocks the token may be used from.
    pub bound_cidrs: Vec<IpNet>,
}

/// A freshly issued token: the text is shown once to the caller.
pub struct IssuedToken {
    /// The token itself.
    pub token: SecretString,
    /// Its properties.
    pub entry: TokenEntry,
}

/// Result of a renewal.
#[derive(Debug, Clone)]
pub struct Renewal {
    /// The token after renewal.
    pub entry: TokenEntry,
    /// The TTL granted by this renewal.
    pub granted: Duration,
    /// Set when the requested TTL passed the max TTL: (requested, effective max).
    pub capped: Option<(Duration, Duration)>,
}

pub(crate) struct TokenRecord {
    hash: String,
    entry: TokenEntry,
}

/// Issues a token per `spec` and stores its hash.
pub async fn issue(
    conn: &mut SqliteConnection,
    barrier: &Barrier,
    spec: TokenSpec,
    now: OffsetDateTime,
) -> Result<IssuedToken> {
    let keyring = barrier.keyring()?;
    let token = generate_token();
    let mut policies = spec.policies;
    policies.push("default".to_string());
    policies.sort();
    policies.dedup();
    let entry = TokenEntry {
        accessor: random_text(ACCESSOR_LEN),
        bot_id: spec.bot_id,
        policies,
        meta: spec.meta,
        display_name: spec.display_name,
        path: spec.path,
        entity_id: String::new(),
        creation_time: now,
        ttl: spec.ttl,
        expire_time: Some(now + spec.ttl.min(spec.max_ttl)),
        max_expire_time: Some(now + spec.max_ttl),
        renewable: spec.renewable,
        num_uses: spec.num_uses,
        bound_cidrs: spec.bound_cidrs,
        last_renewal: None,
    };
    let record = TokenRecord {
        hash: hash_token(&keyring, token.expose_secret())?,
        entry,
    };
    insert(conn, &record).await?;
    Ok(IssuedToken {
        token,
        entry: record.entry,
    })
}

/// Creates the root token (policy `root`, no expiry) for `init`.
pub(crate) fn new_root(
    keyring: &Keyring,
    now: OffsetDateTime,
) -> Result<(SecretString, TokenRecord)> {
    let token = generate_token();
    let entry = TokenEntry {
        accessor: random_text(ACCESSOR_LEN),
        bot_id: None,
        policies: vec!["root".to_string()],
        meta: BTreeMap::new(),
        display_name: "root".to_string(),
        path: "auth/token/root".to_string(),
        entity_id: String::new(),
        creation_time: now,
        ttl: Duration::ZERO,
        expire_time: None,
        max_expire_time: None,
        renewable: false,
        num_uses: 0,
        bound_cidrs: Vec::new(),
        last_renewal: None,
    };
    let hash = hash_token(keyring, token.expose_secret())?;
    Ok((token, TokenRecord { hash, entry }))
}

/// Finds a live token without consuming a use.
pub async fn lookup(
    conn: &mut SqliteConnection,
    barrier: &Barrier,
    token: &str,
    now: OffsetDateTime,
) -> Result<TokenEntry> {
    let hash = barrier.keyed_hash(HASH_DOMAIN, token.as_bytes())?;
    let entry = fetch(conn, &hash).await?.ok_or(VaultError::InvalidToken)?;
    if entry.expire_time.is_some_and(|at| at <= now) {
        return Err(VaultError::InvalidToken);
    }
    Ok(entry)
}

/// Checks a token for a request from `source`: it must exist, be unexpired
/// and allow the address. Consumes one use; the request that takes the last
/// use still succeeds and the token is deleted.
pub async fn authenticate(
    conn: &mut SqliteConnection,
    barrier: &Barrier,
    token: &str,
    source: Option<IpAddr>,
    now: OffsetDateTime,
) -> Result<TokenEntry> {
    let hash = barrier.keyed_hash(HASH_DOMAIN, token.as_bytes())?;
    let mut entry = fetch(conn, &hash).await?.ok_or(VaultError::InvalidToken)?;
    if entry.expire_time.is_some_and(|at| at <= now) {
        return Err(VaultError::InvalidToken);
    }
    if !cidr::allows(&entry.bound_cidrs, source) {
        let address = source.unwrap_or(IpAddr::from([0, 0, 0, 0]));
        return Err(VaultError::TokenCidrMismatch { address });
    }
    match entry.num_uses {
        0 => {}
        1 => {
            delete_hash(conn, &hash).await?;
            entry.num_uses = 0;
        }
        uses => {
            sqlx::query("UPDATE vault_tokens SET num_uses = num_uses - 1 WHERE token_hash = ?")
                .bind(&hash)
                .execute(&mut *conn)
                .await?;
            entry.num_uses = uses - 1;
        }
    }
    Ok(entry)
}

/// Extends a token's expiry by `increment` (or its TTL), capped by its max
/// TTL. A capped renewal succeeds and reports the cap.
pub async fn renew(
    conn: &mut SqliteConnection,
    barrier: &Barrier,
    token: &str,
    increment: Option<Duration>,
    now: OffsetDateTime,
) -> Result<Renewal> {
    let hash = barrier.keyed_hash(HASH_DOMAIN, token.as_bytes())?;
    let mut entry = lookup(conn, barrier, token, now).await?;
    if !entry.renewable || entry.expire_time.is_none() {
        return Err(VaultError::NotRenewable);
    }
    let requested = increment.filter(|d| d.is_positive()).unwrap_or(entry.ttl);
    let mut granted = requested;
    let mut capped = None;
    if let Some(max_at) = entry.max_expire_time {
        let room = Duration::seconds((max_at - now).whole_seconds().max(0));
        if requested > room {
            granted = room;
            capped = Some((requested, room));
        }
    }
    let expire_at = now + granted;
    sqlx::query("UPDATE vault_tokens SET expires_at = ?, last_renewal_at = ? WHERE token_hash = ?")
        .bind(to_nanos(expire_at))
        .bind(to_nanos(now))
        .bind(&hash)
        .execute(&mut *conn)
        .await?;
    entry.expire_time = Some(expire_at);
    entry.last_renewal = Some(now);
    Ok(Renewal {
        entry,
        granted,
        capped,
    })
}

/// Revokes one token; returns its entry if it existed.
pub async fn revoke(
    conn: &mut SqliteConnection,
    barrier: &Barrier,
    token: &str,
) -> Result<Option<TokenEntry>> {
    let hash = barrier.keyed_hash(HASH_DOMAIN, token.as_bytes())?;
    let entry = fetch(conn, &hash).await?;
    delete_hash(conn, &hash).await?;
    Ok(entry)
}

/// Revokes the token with `accessor`; returns whether one existed.
pub async fn revoke_accessor(conn: &mut SqliteConnection, accessor: &str) -> Result<bool> {
    let result = sqlx::query("DELETE FROM vault_tokens WHERE accessor = ?")
        .bind(accessor)
        .execute(conn)
        .await?;
    Ok(result.rows_affected() > 0)
}

/// Revokes every token of a bot; returns how many.
pub async fn revoke_bot_tokens(conn: &mut SqliteConnection, bot_id: &str) -> Result<u64> {
    let result = sqlx::query("DELETE FROM vault_tokens WHERE bot_id = ?")
        .bind(bot_id)
        .execute(conn)
        .await?;
    Ok(result.rows_affected())
}

/// Deletes expired tokens; returns how many.
pub async fn purge_expired(conn: &mut SqliteConnection, now: OffsetDateTime) -> Result<u64> {
    let result =
        sqlx::query("DELETE FROM vault_tokens WHERE expires_at IS NOT NULL AND expires_at <= ?")
            .bind(to_nanos(now))
            .execute(conn)
            .await?;
    Ok(result.rows_affected())
}

/// Lists the live tokens of a bot (accessors and properties, never the token).
pub async fn list_bot_tokens(
    conn: &mut SqliteConnection,
    bot_id: &str,
    now: OffsetDateTime,
) -> Result<Vec<TokenEntry>> {
    let rows = sqlx::query(concat!(
        select_token!(),
        " WHERE bot_id = ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY created_at"
    ))
    .bind(bot_id)
    .bind(to_nanos(now))
    .fetch_all(conn)
    .await?;
    rows.iter().map(entry_from_row).collect()
}

pub(crate) async fn insert(conn: &mut SqliteConnection, record: &TokenRecord) -> Result<()> {
    let entry = &record.entry;
    sqlx::query(
        "INSERT INTO vault_tokens (token_hash, accessor, bot_id, policies, meta, display_name, path, \
         entity_id, created_at, ttl_s, expires_at, max_expires_at, renewable, num_uses, bound_cidrs) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&record.hash)
    .bind(&entry.accessor)
    .bind(&entry.bot_id)
    .bind(serde_json::to_string(&entry.policies).map_err(stored_json("policies"))?)
    .bind(serde_json::to_string(&entry.meta).map_err(stored_json("meta"))?)
    .bind(&entry.display_name)
    .bind(&entry.path)
    .bind(&entry.entity_id)
    .bind(to_nanos(entry.creation_time))
    .bind(entry.ttl.whole_seconds())
    .bind(entry.expire_time.map(to_nanos))
    .bind(entry.max_expire_time.map(to_nanos))
    .bind(entry.renewable)
    .bind(i64::from(entry.num_uses))
    .bind(serde_json::to_string(&cidr::to_strings(&entry.bound_cidrs)).map_err(stored_json("bound_cidrs"))?)
    .execute(conn)
    .await?;
    Ok(())
}

async fn fetch(conn: &mut SqliteConnection, hash: &str) -> Result<Option<TokenEntry>> {
    let row = sqlx::query(concat!(select_token!(), " WHERE token_hash = ?"))
        .bind(hash)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(entry_from_row).transpose()
}

fn entry_from_row(row: &SqliteRow) -> Result<TokenEntry> {
    let policies: String = row.try_get("policies")?;
    let meta: String = row.try_get("meta")?;
    let cidrs: String = row.try_get("bound_cidrs")?;
    let cidrs: Vec<String> = serde_json::from_str(&cidrs).map_err(stored_json("bound_cidrs"))?;
    Ok(TokenEntry {
        accessor: row.try_get("accessor")?,
        bot_id: row.try_get("bot_id")?,
        policies: serde_json::from_str(&policies).map_err(stored_json("policies"))?,
        meta: serde_json::from_str(&meta).map_err(stored_json("meta"))?,
        display_name: row.try_get("display_name")?,
        path: row.try_get("path")?,
        entity_id: row.try_get("entity_id")?,
        creation_time: from_nanos(row.try_get("created_at")?),
        ttl: Duration::seconds(row.try_get("ttl_s")?),
        expire_time: row.try_get::<Option<i64>, _>("expires_at")?.map(from_nanos),
        max_expire_time: row
            .try_get::<Option<i64>, _>("max_expires_at")?
            .map(from_nanos),
        renewable: row.try_get("renewable")?,
        num_uses: u32::try_from(row.try_get::<i64, _>("num_uses")?).unwrap_or(0),
        bound_cidrs: cidr::parse_list(&cidrs)?,
        last_renewal: row
            .try_get::<Option<i64>, _>("last_renewal_at")?
            .map(from_nanos),
    })
}

async fn delete_hash(conn: &mut SqliteConnection, hash: &str) -> Result<()> {
    sqlx::query("DELETE FROM vault_tokens WHERE token_hash = ?")
        .bind(hash)
        .execute(conn)
        .await?;
    Ok(())
}

fn hash_token(keyring: &Keyring, token: &str) -> Result<String> {
    keyed_hash(keyring, HASH_DOMAIN, token.as_bytes())
}

fn generate_token() -> SecretString {
    SecretString::from(format!("{TOKEN_PREFIX}{}", random_text(TOKEN_RANDOM_LEN)))
}

/// Random base62 text from the operating system's random source.
pub(crate) fn random_text(len: usize) -> String {
    rand_010::rng()
        .sample_iter(Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}
