//! AppRole: one role per bot, secret ids, and login.
//!
//! A bot holds a role id (not secret, like a user name) and a secret id
//! (shown once at issue, stored only as a keyed hash). Login exchanges the
//! pair for a token bound to the bot.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;
use secrecy::{ExposeSecret, SecretString};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};
use time::{Duration, OffsetDateTime};

use crate::barrier::Barrier;
use crate::cidr;
use crate::error::{Result, VaultError, stored_json};
use crate::timefmt::{from_nanos, to_nanos};
use crate::token::{self, IssuedToken, TokenSpec};

macro_rules! select_role {
    () => {
        "SELECT role_name, bot_id, role_id, secret_id_ttl_s, secret_id_num_uses, token_ttl_s, \
     token_max_ttl_s, secret_id_bound_cidrs, token_bound_cidrs, token_policies, created_at FROM vault_roles"
    };
}

const HASH_DOMAIN: &str = "secret-id";

/// Default lifetime of a secret id.
pub const DEFAULT_SECRET_ID_TTL: Duration = Duration::days(30);
/// Default token TTL after login.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::minutes(15);
/// Default maximum token lifetime across renewals.
pub const DEFAULT_TOKEN_MAX_TTL: Duration = Duration::hours(4);

/// Settings of a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleConfig {
    /// Lifetime of new secret ids; zero means they never expire.
    pub secret_id_ttl: Duration,
    /// Logins a secret id allows; 0 means unlimited.
    pub secret_id_num_uses: u32,
    /// TTL of tokens issued at login.
    pub token_ttl: Duration,
    /// Maximum lifetime of those tokens across renewals.
    pub token_max_ttl: Duration,
    /// Source blocks every secret id of the role is limited to.
    pub secret_id_bound_cidrs: Vec<IpNet>,
    /// Source blocks every token of the role is limited to.
    pub token_bound_cidrs: Vec<IpNet>,
    /// Policy names put on tokens (`default` is always added).
    pub token_policies: Vec<String>,
}

impl Default for RoleConfig {
    fn default() -> Self {
        RoleConfig {
            secret_id_ttl: DEFAULT_SECRET_ID_TTL,
            secret_id_num_uses: 0,
            token_ttl: DEFAULT_TOKEN_TTL,
            token_max_ttl: DEFAULT_TOKEN_MAX_TTL,
            secret_id_bound_cidrs: Vec::new(),
            token_bound_cidrs: Vec::new(),
            token_policies: Vec::new(),
        }
    }
}

/// A stored role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    /// Role name; Ward uses the bot's name.
    pub role_name: String,
    /// The bot that logs in with this role.
    pub bot_id: String,
    /// The role id (a UUID).
    pub role_id: String,
    /// Settings.
    pub config: RoleConfig,
    /// When the role was created.
    pub created_at: OffsetDateTime,
}

/// Optional per-secret-id settings, bounded by the role's.
#[derive(Debug, Clone, Default)]
pub struct SecretIdRequest {
    /// Lifetime; `None` takes the role's.
    pub ttl: Option<Duration>,
    /// Logins allowed; `None` takes the role's; 0 means unlimited.
    pub num_uses: Option<i64>,
    /// Source blocks for login, within the role's.
    pub cidr_list: Vec<IpNet>,
    /// Source blocks for the tokens, within the role's.
    pub token_bound_cidrs: Vec<IpNet>,
    /// Metadata copied onto the tokens.
    pub metadata: BTreeMap<String, String>,
}

/// A new secret id: the value is shown once.
pub struct IssuedSecretId {
    /// The secret id.
    pub secret_id: SecretString,
    /// Public handle for it.
    pub accessor: String,
    /// Logins allowed; 0 means unlimited.
    pub num_uses: u32,
    /// Lifetime; zero means never expires.
    pub ttl: Duration,
}

/// A successful login.
pub struct Login {
    /// The token issued.
    pub token: IssuedToken,
    /// The role logged in with.
    pub role: Role,
}

/// What revoking a bot's credentials removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Revoked {
    /// Tokens deleted.
    pub tokens: u64,
    /// Secret ids deleted.
    pub secret_ids: u64,
}

/// Creates the role for a bot, or updates its settings; the role id of an
/// existing role is kept.
pub async fn put_role(
    conn: &mut SqliteConnection,
    role_name: &str,
    bot_id: &str,
    config: &RoleConfig,
    now: OffsetDateTime,
) -> Result<Role> {
    check_role_name(role_name)?;
    let role_id = match read_role(conn, role_name).await? {
        Some(existing) => existing.role_id,
        None => uuid::Uuid::new_v4().to_string(),
    };
    sqlx::query(
        "INSERT INTO vault_roles (role_name, bot_id, role_id, secret_id_ttl_s, secret_id_num_uses, \
         token_ttl_s, token_max_ttl_s, secret_id_bound_cidrs, token_bound_cidrs, token_policies, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT(role_name) DO UPDATE SET bot_id = excluded.bot_id, \
         secret_id_ttl_s = excluded.secret_id_ttl_s, secret_id_num_uses = excluded.secret_id_num_uses, \
         token_ttl_s = excluded.token_ttl_s, token_max_ttl_s = excluded.token_max_ttl_s, \
         secret_id_bound_cidrs = excluded.secret_id_bound_cidrs, \
         token_bound_cidrs = excluded.token_bound_cidrs, token_policies = excluded.token_policies",
    )
    .bind(role_name)
    .bind(bot_id)
    .bind(&role_id)
    .bind(config.secret_id_ttl.whole_seconds())
    .bind(i64::from(config.secret_id_num_uses))
    .bind(config.token_ttl.whole_seconds())
    .bind(config.token_max_ttl.whole_seconds())
    .bind(json_cidrs(&config.secret_id_bound_cidrs)?)
    .bind(json_cidrs(&config.token_bound_cidrs)?)
    .bind(serde_json::to_string(&config.token_policies).map_err(stored_json("token_policies"))?)
    .bind(to_nanos(now))
    .execute(&mut *conn)
    .await?;
    read_role(conn, role_name)
        .await?
        .ok_or_else(|| VaultError::RoleNotFound(role_name.to_string()))
}

/// Reads a role by name.
pub async fn read_role(conn: &mut SqliteConnection, role_name: &str) -> Result<Option<Role>> {
    let row = sqlx::query(concat!(select_role!(), " WHERE role_name = ?"))
        .bind(role_name)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(role_from_row).transpose()
}

/// Reads the role of a bot.
pub async fn role_for_bot(conn: &mut SqliteConnection, bot_id: &str) -> Result<Option<Role>> {
    let row = sqlx::query(concat!(select_role!(), " WHERE bot_id = ?"))
        .bind(bot_id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(role_from_row).transpose()
}

/// Reads the role with `role_id`.
pub async fn role_by_role_id(conn: &mut SqliteConnection, role_id: &str) -> Result<Option<Role>> {
    let row = sqlx::query(concat!(select_role!(), " WHERE role_id = ?"))
        .bind(role_id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(role_from_row).transpose()
}

/// Deletes a role with its secret ids and its bot's tokens.
pub async fn delete_role(conn: &mut SqliteConnection, role_name: &str) -> Result<bool> {
    let Some(role) = read_role(conn, role_name).await? else {
        return Ok(false);
    };
    revoke_bot(conn, &role.bot_id).await?;
    sqlx::query("DELETE FROM vault_roles WHERE role_name = ?")
        .bind(role_name)
        .execute(conn)
        .await?;
    Ok(true)
}

/// Issues a secret id for `role_name`. Per-id `ttl` and `num_uses` may not
/// exceed the role's; unlimited (0) counts as exceeding a limited role.
pub async fn issue_secret_id(
    conn: &mut SqliteConnection,
    barrier: &Barrier,
    role_name: &str,
    request: &SecretIdRequest,
    now: OffsetDateTime,
) -> Result<IssuedSecretId> {
    let role = read_role(conn, role_name)
        .await?
        .ok_or_else(|| VaultError::RoleNotFound(role_name.to_string()))?;
    let num_uses = bounded_num_uses(request.num_uses, role.config.secret_id_num_uses)?;
    let ttl = bounded_ttl(request.ttl, role.config.secret_id_ttl)?;
    cidr::check_subset(&request.cidr_list, &role.config.secret_id_bound_cidrs)?;
    cidr::check_subset(&request.token_bound_cidrs, &role.config.token_bound_cidrs)?;
    let cidr_list = if request.cidr_list.is_empty() {
        role.config.secret_id_bound_cidrs.clone()
    } else {
        request.cidr_list.clone()
    };

    let secret_id = SecretString::from(uuid::Uuid::new_v4().to_string());
    let accessor = uuid::Uuid::new_v4().to_string();
    let hash = barrier.keyed_hash(
        HASH_DOMAIN,
        &hash_input(&role.role_name, secret_id.expose_secret()),
    )?;
    let expires_at = ttl.is_positive().then(|| to_nanos(now + ttl));
    sqlx::query(
        "INSERT INTO vault_secret_ids (id_hash, accessor, role_name, bot_id, created_at, expires_at, \
         uses_left, num_uses, cidr_list, token_bound_cidrs, metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&hash)
    .bind(&accessor)
    .bind(&role.role_name)
    .bind(&role.bot_id)
    .bind(to_nanos(now))
    .bind(expires_at)
    .bind(i64::from(num_uses))
    .bind(i64::from(num_uses))
    .bind(json_cidrs(&cidr_list)?)
    .bind(json_cidrs(&request.token_bound_cidrs)?)
    .bind(serde_json::to_string(&request.metadata).map_err(stored_json("metadata"))?)
    .execute(conn)
    .await?;
    Ok(IssuedSecretId {
        secret_id,
        accessor,
        num_uses,
        ttl,
    })
}

/// Exchanges a role id and secret id for a token. Every failure to match
/// gives the same [`VaultError::InvalidLogin`], naming the bot when the
/// role id was known, so callers cannot tell which half was wrong.
pub async fn login(
    conn: &mut SqliteConnection,
    barrier: &Barrier,
    role_id: &str,
    secret_id: &str,
    source: Option<IpAddr>,
    now: OffsetDateTime,
) -> Result<Login> {
    let row = sqlx::query(concat!(select_role!(), " WHERE role_id = ?"))
        .bind(role_id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(role) = row.as_ref().map(role_from_row).transpose()? else {
        return Err(VaultError::InvalidLogin { bot_id: None });
    };
    let invalid = || VaultError::InvalidLogin {
        bot_id: Some(role.bot_id.clone()),
    };

    let hash = barrier.keyed_hash(HASH_DOMAIN, &hash_input(&role.role_name, secret_id))?;
    let row = sqlx::query(
        "SELECT expires_at, uses_left, cidr_list, token_bound_cidrs, metadata FROM vault_secret_ids \
         WHERE id_hash = ? AND role_name = ?",
    )
    .bind(&hash)
    .bind(&role.role_name)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Err(invalid());
    };
    let expires_at: Option<i64> = row.try_get("expires_at")?;
    if expires_at.is_some_and(|at| at <= to_nanos(now)) {
        delete_secret_id(conn, &hash).await?;
        return Err(invalid());
    }
    let cidr_list = cidrs_from_json(&row.try_get::<String, _>("cidr_list")?, "cidr_list")?;
    if !cidr::allows(&cidr_list, source) {
        let address = source.map_or_else(|| "unknown".to_string(), |ip| ip.to_string());
        return Err(VaultError::CidrMismatch {
            address,
            bot_id: role.bot_id.clone(),
        });
    }
    consume_use(conn, &hash, row.try_get("uses_left")?).await?;

    let token_cidrs = cidrs_from_json(
        &row.try_get::<String, _>("token_bound_cidrs")?,
        "token_bound_cidrs",
    )?;
    let mut meta: BTreeMap<String, String> =
        serde_json::from_str(&row.try_get::<String, _>("metadata")?)
            .map_err(stored_json("metadata"))?;
    meta.insert("role_name".to_string(), role.role_name.clone());
    let spec = TokenSpec {
        bot_id: Some(role.bot_id.clone()),
        policies: role.config.token_policies.clone(),
        meta,
        display_name: "approle".to_string(),
        path: "auth/approle/login".to_string(),
        ttl: role.config.token_ttl,
        max_ttl: role.config.token_max_ttl,
        renewable: true,
        num_uses: 0,
        bound_cidrs: if token_cidrs.is_empty() {
            role.config.token_bound_cidrs.clone()
        } else {
            token_cidrs
        },
    };
    let token = token::issue(conn, barrier, spec, now).await?;
    Ok(Login { token, role })
}

/// Revokes every token and every secret id of a bot in one go, as
/// suspending, quarantining or retiring the bot requires.
pub async fn revoke_bot(conn: &mut SqliteConnection, bot_id: &str) -> Result<Revoked> {
    let tokens = token::revoke_bot_tokens(conn, bot_id).await?;
    let result = sqlx::query("DELETE FROM vault_secret_ids WHERE bot_id = ?")
        .bind(bot_id)
        .execute(conn)
        .await?;
    Ok(Revoked {
        tokens,
        secret_ids: result.rows_affected(),
    })
}

/// Revokes one secret id by its accessor; returns whether it existed.
pub async fn revoke_secret_id_accessor(
    conn: &mut SqliteConnection,
    accessor: &str,
) -> Result<bool> {
    let result = sqlx::query("DELETE FROM vault_secret_ids WHERE accessor = ?")
        .bind(accessor)
        .execute(conn)
        .await?;
    Ok(result.rows_affected() > 0)
}

/// Counts the live secret ids of a bot.
pub async fn count_secret_ids(
    conn: &mut SqliteConnection,
    bot_id: &str,
    now: OffsetDateTime,
) -> Result<i64> {
    let count = sqlx::query_scalar(
        "SELECT COUNT(*) FROM vault_secret_ids WHERE bot_id = ? AND (expires_at IS NULL OR expires_at > ?)",
    )
    .bind(bot_id)
    .bind(to_nanos(now))
    .fetch_one(conn)
    .await?;
    Ok(count)
}

fn bounded_num_uses(requested: Option<i64>, role_limit: u32) -> Result<u32> {
    let Some(requested) = requested else {
        return Ok(role_limit);
    };
    if requested < 0 {
        return Err(VaultError::InvalidSecretIdRequest(
            "num_uses cannot be negative".to_string(),
        ));
    }
    let too_high = role_limit > 0 && (requested == 0 || requested > i64::from(role_limit));
    if too_high {
        return Err(VaultError::InvalidSecretIdRequest(
            "num_uses cannot be higher than the role's secret_id_num_uses".to_string(),
        ));
    }
    u32::try_from(requested).map_err(|_| {
        VaultError::InvalidSecretIdRequest(format!("num_uses {requested} is too large"))
    })
}

fn bounded_ttl(requested: Option<Duration>, role_limit: Duration) -> Result<Duration> {
    let Some(requested) = requested else {
        return Ok(role_limit);
    };
    if requested.is_negative() {
        return Err(VaultError::InvalidSecretIdRequest(
            "ttl cannot be negative".to_string(),
        ));
    }
    let too_long = role_limit.is_positive() && (requested.is_zero() || requested > role_limit);
    if too_long {
        return Err(VaultError::InvalidSecretIdRequest(
            "ttl cannot be longer than the role's secret_id_ttl".to_string(),
        ));
    }
    Ok(requested)
}

async fn consume_use(conn: &mut SqliteConnection, hash: &str, uses_left: i64) -> Result<()> {
    match uses_left {
        0 => Ok(()),
        1 => delete_secret_id(conn, hash).await,
        _ => {
            sqlx::query("UPDATE vault_secret_ids SET uses_left = uses_left - 1 WHERE id_hash = ?")
                .bind(hash)
                .execute(conn)
                .await?;
            Ok(())
        }
    }
}

async fn delete_secret_id(conn: &mut SqliteConnection, hash: &str) -> Result<()> {
    sqlx::query("DELETE FROM vault_secret_ids WHERE id_hash = ?")
        .bind(hash)
        .execute(conn)
        .await?;
    Ok(())
}

fn check_role_name(name: &str) -> Result<()> {
    let valid = !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'@'));
    if valid {
        Ok(())
    } else {
        Err(VaultError::InvalidPath {
            path: name.to_string(),
            reason: "a role name is 1 to 128 characters a-z, A-Z, 0-9, '-', '_', '.', '@'",
        })
    }
}

fn hash_input(role_name: &str, secret_id: &str) -> Vec<u8> {
    let mut input = Vec::with_capacity(role_name.len() + 1 + secret_id.len());
    input.extend_from_slice(role_name.as_bytes());
    input.push(0);
    input.extend_from_slice(secret_id.as_bytes());
    input
}

fn role_from_row(row: &SqliteRow) -> Result<Role> {
    let policies: String = row.try_get("token_policies")?;
    Ok(Role {
        role_name: row.try_get("role_name")?,
        bot_id: row.try_get("bot_id")?,
        role_id: row.try_get("role_id")?,
        config: RoleConfig {
            secret_id_ttl: Duration::seconds(row.try_get("secret_id_ttl_s")?),
            secret_id_num_uses: u32::try_from(row.try_get::<i64, _>("secret_id_num_uses")?)
                .unwrap_or(0),
            token_ttl: Duration::seconds(row.try_get("token_ttl_s")?),
            token_max_ttl: Duration::seconds(row.try_get("token_max_ttl_s")?),
            secret_id_bound_cidrs: cidrs_from_json(
                &row.try_get::<String, _>("secret_id_bound_cidrs")?,
                "secret_id_bound_cidrs",
            )?,
            token_bound_cidrs: cidrs_from_json(
                &row.try_get::<String, _>("token_bound_cidrs")?,
                "token_bound_cidrs",
            )?,
            token_policies: serde_json::from_str(&policies)
                .map_err(stored_json("token_policies"))?,
        },
        created_at: from_nanos(row.try_get("created_at")?),
    })
}

fn json_cidrs(blocks: &[IpNet]) -> Result<String> {
    serde_json::to_string(&cidr::to_strings(blocks)).map_err(stored_json("cidrs"))
}

fn cidrs_from_json(text: &str, column: &'static str) -> Result<Vec<IpNet>> {
    let items: Vec<String> = serde_json::from_str(text).map_err(stored_json(column))?;
    cidr::parse_list(&items)
}
