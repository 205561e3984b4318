//! AppRole: login, role settings, role ids and secret ids.
//!
//! Each bot is an AppRole role named after the bot. The role is created
//! with Ward's defaults the first time an operator asks for its role id or
//! a secret id; `POST auth/approle/role/:name` changes its settings.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use secrecy::ExposeSecret;
use serde::Serialize;
use sqlx::SqliteConnection;
use ward_audit::{AuditEntry, Outcome};
use ward_vault::VaultError;
use ward_vault::approle::{self, Role, RoleConfig, SecretIdRequest};
use ward_vault::cidr;
use ward_vault::token::TokenEntry;

use super::body::Fields;
use super::caller::{ClientAddr, begin, require_admin};
use super::reply::{self, Envelope, VaultApiError, VaultResult};
use crate::state::AppState;

/// The `auth` block of a login or renewal response.
#[derive(Serialize)]
pub struct AuthBlock {
    client_token: String,
    accessor: String,
    policies: Vec<String>,
    token_policies: Vec<String>,
    metadata: BTreeMap<String, String>,
    lease_duration: i64,
    renewable: bool,
    entity_id: String,
    token_type: &'static str,
    orphan: bool,
    mfa_requirement: Option<()>,
    num_uses: u32,
}

impl AuthBlock {
    pub fn new(token: &str, entry: &TokenEntry, lease_duration: i64) -> Self {
        AuthBlock {
            client_token: token.to_string(),
            accessor: entry.accessor.clone(),
            policies: entry.policies.clone(),
            token_policies: entry.policies.clone(),
            metadata: entry.meta.clone(),
            lease_duration,
            renewable: entry.renewable,
            entity_id: entry.entity_id.clone(),
            token_type: "service",
            orphan: true,
            mfa_requirement: None,
            num_uses: entry.num_uses,
        }
    }
}

/// `POST|PUT /v1/auth/approle/login`.
pub async fn login(
    State(state): State<AppState>,
    method: Method,
    source: super::caller::ClientAddr,
    body: Bytes,
) -> VaultResult {
    if method != Method::POST && method != Method::PUT {
        return Err(VaultApiError::unsupported_operation());
    }
    let fields = Fields::parse(&body)?;
    let role_id = fields
        .string("role_id")?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| VaultApiError::bad_request("missing role_id"))?;
    let secret_id = fields
        .string("secret_id")?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| VaultApiError::bad_request("missing secret_id"))?;

    let mut tx = state.store.begin_write().await?;
    let now = state.now();
    if let Some(role) = approle::role_by_role_id(&mut tx, &role_id).await? {
        let bot = ward_store::bots::find(&mut tx, &role.bot_id).await?;
        if bot.is_none_or(|bot| bot.state != "active") {
            let entry = AuditEntry::new(&role.bot_id, "approle.login", Outcome::Denied)
                .bot(&role.bot_id)
                .details(serde_json::json!({"reason": "bot is not active"}));
            ward_audit::append(&mut tx, now, &entry).await?;
            tx.commit().await?;
            return Err(VaultError::InvalidLogin {
                bot_id: Some(role.bot_id),
            }
            .into());
        }
    }
    match approle::login(
        &mut tx,
        &state.vault.barrier,
        &role_id,
        &secret_id,
        source.0,
        now,
    )
    .await
    {
        Ok(login) => {
            let entry = AuditEntry::new(&login.role.bot_id, "approle.login", Outcome::Success)
                .bot(&login.role.bot_id)
                .details(
                    serde_json::json!({"accessor": login.token.entry.accessor, "source": source.0}),
                );
            ward_audit::append(&mut tx, now, &entry).await?;
            tx.commit().await?;
            let lease = login.token.entry.remaining(now).whole_seconds();
            let auth = AuthBlock::new(login.token.token.expose_secret(), &login.token.entry, lease);
            Ok(reply::json(
                StatusCode::OK,
                &Envelope::auth("approle", auth, None),
            ))
        }
        Err(err @ (VaultError::InvalidLogin { .. } | VaultError::CidrMismatch { .. })) => {
            let bot = match &err {
                VaultError::InvalidLogin { bot_id } => bot_id.clone(),
                VaultError::CidrMismatch { bot_id, .. } => Some(bot_id.clone()),
                _ => None,
            };
            let actor = bot.clone().unwrap_or_else(|| "anonymous".to_string());
            let mut entry = AuditEntry::new(actor, "approle.login", Outcome::Denied)
                .details(serde_json::json!({"reason": err.to_string(), "source": source.0}));
            if let Some(bot) = bot {
                entry = entry.bot(bot);
            }
            ward_audit::append(&mut tx, now, &entry).await?;
            tx.commit().await?;
            // The audit entry keeps the reason; the client gets the same
            // response for every failure, so a login from outside the bound
            // networks does not reveal that the role id and secret id match.
            let answer = match err {
                VaultError::CidrMismatch { bot_id, .. } => VaultError::InvalidLogin {
                    bot_id: Some(bot_id),
                },
                other => other,
            };
            Err(answer.into())
        }
        Err(err) => Err(err.into()),
    }
}

#[derive(Serialize)]
struct RoleData {
    bot_id: String,
    role_id: String,
    secret_id_ttl: i64,
    secret_id_num_uses: u32,
    token_ttl: i64,
    token_max_ttl: i64,
    secret_id_bound_cidrs: Vec<String>,
    token_bound_cidrs: Vec<String>,
    token_policies: Vec<String>,
    bind_secret_id: bool,
}

/// `GET|POST|PUT|DELETE /v1/auth/approle/role/:role`: read, change or
/// delete a bot's role (admins only).
pub async fn role(
    State(state): State<AppState>,
    Path(role_name): Path<String>,
    method: Method,
    headers: HeaderMap,
    source: ClientAddr,
    body: Bytes,
) -> VaultResult {
    let target = format!("auth/approle/role/{role_name}");
    let (tx, principal) = begin(&state, &headers, source, &target).await?;
    let mut tx = require_admin(&state, tx, &principal, "approle.role", &target).await?;
    let now = state.now();
    let response = match method {
        Method::GET => {
            let role = approle::read_role(&mut tx, &role_name)
                .await?
                .ok_or_else(VaultApiError::not_found)?;
            reply::json(StatusCode::OK, &Envelope::data("approle", role_data(&role)))
        }
        Method::POST | Method::PUT => {
            let fields = Fields::parse(&body)?;
            let existing = role_or_bot(&mut tx, &role_name, now).await?;
            let config = merge_role_config(&fields, existing.config)?;
            approle::put_role(&mut tx, &role_name, &existing.bot_id, &config, now).await?;
            reply::no_content()
        }
        Method::DELETE => {
            approle::delete_role(&mut tx, &role_name).await?;
            reply::no_content()
        }
        _ => return Err(VaultApiError::unsupported_operation()),
    };
    let entry = principal
        .audit(
            &format!("approle.role.{}", method.as_str().to_ascii_lowercase()),
            Outcome::Success,
        )
        .target(&target);
    ward_audit::append(&mut tx, now, &entry).await?;
    tx.commit().await?;
    Ok(response)
}

/// `GET /v1/auth/approle/role/:role/role-id` (admins only).
pub async fn role_id(
    State(state): State<AppState>,
    Path(role_name): Path<String>,
    method: Method,
    headers: HeaderMap,
    source: ClientAddr,
) -> VaultResult {
    if method != Method::GET {
        return Err(VaultApiError::unsupported_operation());
    }
    let target = format!("auth/approle/role/{role_name}/role-id");
    let (tx, principal) = begin(&state, &headers, source, &target).await?;
    let mut tx = require_admin(&state, tx, &principal, "approle.role_id", &target).await?;
    let role = role_or_bot(&mut tx, &role_name, state.now()).await?;
    let entry = principal
        .audit("approle.role_id", Outcome::Success)
        .bot(&role.bot_id)
        .target(&target);
    ward_audit::append(&mut tx, state.now(), &entry).await?;
    tx.commit().await?;
    Ok(reply::json(
        StatusCode::OK,
        &Envelope::data("approle", serde_json::json!({"role_id": role.role_id})),
    ))
}

#[derive(Serialize)]
struct SecretIdData {
    secret_id: String,
    secret_id_accessor: String,
    secret_id_num_uses: u32,
    secret_id_ttl: i64,
}

/// `POST|PUT /v1/auth/approle/role/:role/secret-id` (admins only): a new
/// secret id, shown once.
pub async fn secret_id(
    State(state): State<AppState>,
    Path(role_name): Path<String>,
    method: Method,
    headers: HeaderMap,
    source: ClientAddr,
    body: Bytes,
) -> VaultResult {
    if method != Method::POST && method != Method::PUT {
        return Err(VaultApiError::unsupported_operation());
    }
    let fields = Fields::parse(&body)?;
    let request = secret_id_request(&fields)?;
    let target = format!("auth/approle/role/{role_name}/secret-id");
    let (tx, principal) = begin(&state, &headers, source, &target).await?;
    let mut tx = require_admin(&state, tx, &principal, "approle.secret_id", &target).await?;
    let now = state.now();
    let role = role_or_bot(&mut tx, &role_name, now).await?;
    let bot = ward_store::bots::find(&mut tx, &role.bot_id).await?;
    if bot.as_ref().is_none_or(|bot| bot.state != "active") {
        return Err(VaultApiError::bad_request(format!(
            "bot `{role_name}` is not active: reactivate it before issuing credentials"
        )));
    }
    let issued =
        approle::issue_secret_id(&mut tx, &state.vault.barrier, &role_name, &request, now).await?;
    let entry = principal
        .audit("approle.secret_id", Outcome::Success)
        .bot(&role.bot_id)
        .target(&target)
        .details(serde_json::json!({"secret_id_accessor": issued.accessor, "num_uses": issued.num_uses, "ttl": issued.ttl.whole_seconds()}));
    ward_audit::append(&mut tx, now, &entry).await?;
    tx.commit().await?;
    let data = SecretIdData {
        secret_id: issued.secret_id.expose_secret().to_string(),
        secret_id_accessor: issued.accessor,
        secret_id_num_uses: issued.num_uses,
        secret_id_ttl: issued.ttl.whole_seconds(),
    };
    Ok(reply::json(
        StatusCode::OK,
        &Envelope::data("approle", data),
    ))
}

/// The role named `role_name`, created with defaults for the bot of that
/// name when it does not exist yet.
async fn role_or_bot(
    tx: &mut SqliteConnection,
    role_name: &str,
    now: time::OffsetDateTime,
) -> VaultResult<Role> {
    if let Some(role) = approle::read_role(tx, role_name).await? {
        return Ok(role);
    }
    let bot = ward_store::bots::find(tx, role_name).await?;
    let Some(bot) = bot.filter(|bot| bot.name == role_name) else {
        return Err(VaultApiError::new(
            StatusCode::NOT_FOUND,
            format!("role \"{role_name}\" does not exist"),
        ));
    };
    Ok(approle::put_role(tx, &bot.name, &bot.id, &RoleConfig::default(), now).await?)
}

fn secret_id_request(fields: &Fields) -> VaultResult<SecretIdRequest> {
    let metadata = match fields.get("metadata") {
        None => BTreeMap::new(),
        Some(serde_json::Value::String(text)) => parse_metadata(text)?,
        Some(serde_json::Value::Object(map)) => map
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_str().map_or_else(|| v.to_string(), str::to_string),
                )
            })
            .collect(),
        Some(_) => {
            return Err(VaultApiError::bad_request(
                "failed to parse metadata: expected a JSON object as a string",
            ));
        }
    };
    Ok(SecretIdRequest {
        ttl: fields.duration("ttl")?,
        num_uses: fields.int("num_uses")?,
        cidr_list: cidr::parse_list(&fields.string_list("cidr_list")?)?,
        token_bound_cidrs: cidr::parse_list(&fields.string_list("token_bound_cidrs")?)?,
        metadata,
    })
}

fn parse_metadata(text: &str) -> VaultResult<BTreeMap<String, String>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(BTreeMap::new());
    }
    if text.starts_with('{') {
        return serde_json::from_str(text)
            .map_err(|err| VaultApiError::bad_request(format!("failed to parse metadata: {err}")));
    }
    text.split(',')
        .map(|pair| {
            pair.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .ok_or_else(|| {
                    VaultApiError::bad_request(format!(
                        "failed to parse metadata: `{pair}` is not key=value"
                    ))
                })
        })
        .collect()
}

fn merge_role_config(fields: &Fields, mut config: RoleConfig) -> VaultResult<RoleConfig> {
    if let Some(ttl) = fields.duration("secret_id_ttl")? {
        config.secret_id_ttl = ttl;
    }
    if let Some(uses) = fields.int("secret_id_num_uses")? {
        config.secret_id_num_uses = u32::try_from(uses)
            .map_err(|_| VaultApiError::bad_request("secret_id_num_uses cannot be negative"))?;
    }
    if let Some(ttl) = fields.duration("token_ttl")? {
        config.token_ttl = ttl;
    }
    if let Some(ttl) = fields.duration("token_max_ttl")? {
        config.token_max_ttl = ttl;
    }
    if fields.get("secret_id_bound_cidrs").is_some() {
        config.secret_id_bound_cidrs =
            cidr::parse_list(&fields.string_list("secret_id_bound_cidrs")?)?;
    }
    if fields.get("token_bound_cidrs").is_some() {
        config.token_bound_cidrs = cidr::parse_list(&fields.string_list("token_bound_cidrs")?)?;
    }
    if fields.get("token_policies").is_some() {
        config.token_policies = fields.string_list("token_policies")?;
    }
    if config.token_ttl > config.token_max_ttl && config.token_max_ttl.is_positive() {
        return Err(VaultApiError::bad_request(
            "token_ttl cannot be greater than token_max_ttl",
        ));
    }
    Ok(config)
}

fn role_data(role: &Role) -> RoleData {
    RoleData {
        bot_id: role.bot_id.clone(),
        role_id: role.role_id.clone(),
        secret_id_ttl: role.config.secret_id_ttl.whole_seconds(),
        secret_id_num_uses: role.config.secret_id_num_uses,
        token_ttl: role.config.token_ttl.whole_seconds(),
        token_max_ttl: role.config.token_max_ttl.whole_seconds(),
        secret_id_bound_cidrs: cidr::to_strings(&role.config.secret_id_bound_cidrs),
        token_bound_cidrs: cidr::to_strings(&role.config.token_bound_cidrs),
        token_policies: role.config.token_policies.clone(),
        bind_secret_id: true,
    }
}
