//! Ward's own vault administration (`/v1/vault/...`, Ward's error shape,
//! admin operators only): grants, rotation policies, rotating a secret now,
//! and data-key and root-key rotation.

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use serde_json::json;
use ward_audit::Outcome;
use ward_core::person::Role;
use ward_vault::VaultError;
use ward_vault::grant::{self, Grant, PathPattern};
use ward_vault::kv::{self, RotationPolicy};
use ward_vault::rewrap::rewrap_batch;
use ward_vault::timefmt::rfc3339;

use crate::api::ApiJson;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Records re-encrypted per transaction after a data-key rotation.
const REWRAP_BATCH: u32 = 200;

fn vault_error(err: VaultError) -> ApiError {
    match &err {
        VaultError::Sealed | VaultError::NotInitialized => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "sealed",
            "the vault is sealed: unseal it with `ward operator unseal`",
        ),
        VaultError::InvalidPattern { .. } => ApiError::invalid("path", err.to_string()),
        VaultError::UnknownCapability(_) => ApiError::invalid("capabilities", err.to_string()),
        VaultError::InvalidPath { .. } => ApiError::invalid("path", err.to_string()),
        VaultError::KeyNotFound(path) => ApiError::not_found("secret", path),
        VaultError::KeyringChanged => ApiError::conflict("keyring_changed", err.to_string()),
        _ => ApiError::internal("vault operation", &err),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantBody {
    bot: String,
    path: String,
    capabilities: Vec<String>,
    /// Lifetime such as `30d`; absent means no end.
    expires_in: Option<String>,
}

#[derive(Serialize)]
pub struct GrantView {
    id: String,
    bot: String,
    path: String,
    capabilities: Vec<&'static str>,
    created_at: String,
    expires_at: Option<String>,
}

impl From<&Grant> for GrantView {
    fn from(grant: &Grant) -> Self {
        GrantView {
            id: grant.id.to_string(),
            bot: grant.bot_id.clone(),
            path: grant.pattern.as_str().to_string(),
            capabilities: grant.capabilities.iter().map(|c| c.as_str()).collect(),
            created_at: rfc3339(grant.created_at),
            expires_at: grant.expires_at.map(rfc3339),
        }
    }
}

/// `POST /v1/vault/grants`: lets a bot use paths matching a pattern.
pub async fn add_grant(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<GrantBody>,
) -> ApiResult<impl IntoResponse> {
    caller
        .require(&state, &[Role::Admin], "secret.grant")
        .await?;
    let pattern = PathPattern::parse(&body.path).map_err(vault_error)?;
    let capabilities: BTreeSet<_> =
        grant::parse_capabilities(&body.capabilities).map_err(vault_error)?;
    if capabilities.is_empty() {
        return Err(ApiError::invalid(
            "capabilities",
            "must name at least one of read, create, update, delete, list",
        ));
    }
    let now = state.now();
    let expires_at = body
        .expires_in
        .as_deref()
        .map(|text| ward_core::duration::parse_duration(text).map(|d| now + d))
        .transpose()
        .map_err(|err| ApiError::invalid("expires_in", err.to_string()))?;
    let mut tx = state.store.begin_write().await?;
    let bot = crate::api::find_bot(&mut tx, &body.bot).await?;
    let grant = grant::add(&mut tx, &bot.id, pattern, capabilities, expires_at, now)
        .await
        .map_err(vault_error)?;
    let view = GrantView::from(&grant);
    let entry = ward_audit::AuditEntry::new(&caller.subject, "secret.grant", Outcome::Success)
        .bot(&bot.id)
        .target(&view.path)
        .details(json!({"grant": view.id, "capabilities": view.capabilities}));
    ward_audit::append(&mut tx, now, &entry).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[derive(Deserialize)]
pub struct GrantQuery {
    bot: String,
}

/// `GET /v1/vault/grants?bot=`: a bot's grants.
pub async fn list_grants(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<GrantQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    caller
        .require(&state, &[Role::Admin], "secret.grant.list")
        .await?;
    let mut conn = state.store.reader().acquire().await?;
    let bot = crate::api::find_bot(&mut conn, &query.bot).await?;
    let grants = grant::list_for_bot(&mut conn, &bot.id)
        .await
        .map_err(vault_error)?;
    let views: Vec<GrantView> = grants.iter().map(GrantView::from).collect();
    Ok(Json(json!({"grants": views})))
}

/// `DELETE /v1/vault/grants/:id`.
pub async fn remove_grant(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    caller
        .require(&state, &[Role::Admin], "secret.grant.remove")
        .await?;
    let mut tx = state.store.begin_write().await?;
    if !grant::remove(&mut tx, &id).await.map_err(vault_error)? {
        return Err(ApiError::not_found("grant", &id));
    }
    let entry =
        ward_audit::AuditEntry::new(&caller.subject, "secret.grant.remove", Outcome::Success)
            .details(json!({"grant": id}));
    ward_audit::append(&mut tx, state.now(), &entry).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyBody {
    /// Time between rotations such as `30d`; absent turns scheduled rotation off.
    interval: Option<String>,
    /// How long the previous version stays readable after a rotation.
    grace: Option<String>,
    /// Bots that use the secret (ids or names).
    owners: Option<Vec<String>>,
}

/// `PUT /v1/vault/policies/:path`: rotation policy and owners of a secret.
pub async fn set_policy(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<String>,
    ApiJson(body): ApiJson<PolicyBody>,
) -> ApiResult<Json<serde_json::Value>> {
    caller
        .require(&state, &[Role::Admin], "secret.policy")
        .await?;
    let parse = |field: &str, text: Option<&str>| {
        text.map(ward_core::duration::parse_duration)
            .transpose()
            .map_err(|err| ApiError::invalid(field, err.to_string()))
    };
    let policy = RotationPolicy {
        interval: parse("interval", body.interval.as_deref())?,
        grace: parse("grace", body.grace.as_deref())?.unwrap_or(time::Duration::ZERO),
    };
    let mut tx = state.store.begin_write().await?;
    kv::set_rotation_policy(&mut tx, &path, policy)
        .await
        .map_err(vault_error)?;
    if let Some(owners) = &body.owners {
        let mut ids = Vec::new();
        for owner in owners {
            ids.push(crate::api::find_bot(&mut tx, owner).await?.id);
        }
        kv::set_owners(&mut tx, &path, &ids)
            .await
            .map_err(vault_error)?;
    }
    let entry = ward_audit::AuditEntry::new(&caller.subject, "secret.policy", Outcome::Success)
        .target(format!("secret/{path}"))
        .details(json!({"interval": body.interval, "grace": body.grace, "owners": body.owners}));
    ward_audit::append(&mut tx, state.now(), &entry).await?;
    tx.commit().await?;
    Ok(Json(
        json!({"path": path, "interval": body.interval, "grace": body.grace}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotateBody {
    path: String,
    /// Field of the secret that receives the new password; default `password`.
    field: Option<String>,
}

/// `POST /v1/vault/rotate`: writes a new random password into one field of
/// a secret (other fields are kept) and, when the secret has a rotation
/// target, changes the credential there first (see `crate::rotation`).
pub async fn rotate_secret(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<RotateBody>,
) -> ApiResult<Json<crate::rotation::RotationReport>> {
    caller
        .require(&state, &[Role::Admin], "secret.rotate")
        .await?;
    let report =
        crate::rotation::rotate(&state, &body.path, body.field.as_deref(), &caller.subject).await?;
    Ok(Json(report))
}

/// `POST /v1/vault/keys/rotate`: a new data key for new writes, then
/// re-encryption of older records in batches while the vault keeps serving.
pub async fn rotate_data_key(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<serde_json::Value>> {
    caller
        .require(&state, &[Role::Admin], "vault.keys.rotate")
        .await?;
    let barrier = &state.vault.barrier;
    let change = barrier
        .prepare_data_key_rotation(state.now())
        .map_err(vault_error)?;
    let term = change.active_term();
    let mut tx = state.store.begin_write().await?;
    change
        .persist(&mut tx, state.now())
        .await
        .map_err(vault_error)?;
    let entry = ward_audit::AuditEntry::new(&caller.subject, "vault.keys.rotate", Outcome::Success)
        .details(json!({"term": term}));
    ward_audit::append(&mut tx, state.now(), &entry).await?;
    tx.commit().await?;
    barrier.apply(change).map_err(vault_error)?;

    let mut rewrapped = 0;
    loop {
        let mut tx = state.store.begin_write().await?;
        let progress = rewrap_batch(&mut tx, barrier, REWRAP_BATCH)
            .await
            .map_err(vault_error)?;
        tx.commit().await?;
        rewrapped += progress.rewrapped;
        if progress.remaining == 0 || progress.rewrapped == 0 {
            return Ok(Json(
                json!({"term": term, "rewrapped": rewrapped, "remaining": progress.remaining}),
            ));
        }
    }
}

/// `POST /v1/vault/root/rotate`: a new root key; the keyring is
/// re-encrypted, the unseal shares stay valid.
pub async fn rotate_root_key(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<serde_json::Value>> {
    caller
        .require(&state, &[Role::Admin], "vault.root.rotate")
        .await?;
    let barrier = &state.vault.barrier;
    let change = barrier.prepare_root_key_rotation().map_err(vault_error)?;
    let mut tx = state.store.begin_write().await?;
    change
        .persist(&mut tx, state.now())
        .await
        .map_err(vault_error)?;
    let entry = ward_audit::AuditEntry::new(&caller.subject, "vault.root.rotate", Outcome::Success);
    ward_audit::append(&mut tx, state.now(), &entry).await?;
    tx.commit().await?;
    barrier.apply(change).map_err(vault_error)?;
    Ok(Json(json!({"rotated": true})))
}
