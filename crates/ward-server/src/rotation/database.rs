//! Vault's database secrets engine for PostgreSQL, in Vault's wire shape:
//! `PUT /v1/database/config/{name}` (admin), `GET /v1/database/creds/{name}`
//! (a bot with a read grant on `database/creds/{name}`), and
//! `PUT /v1/sys/leases/revoke` and `/renew`.
//!
//! Each creds request creates a PostgreSQL login role valid for the lease's
//! TTL. The password goes to the bot once and is not stored.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::{Value, json};
use sqlx::SqliteConnection;
use time::Duration;
use ward_audit::Outcome;
use ward_connect::{DynamicPostgres, DynamicPostgresConfig, LeaseRequest};
use ward_core::id::BotId;
use ward_vault::grant::{self, Capability, Decision};

use super::leases::{self, LeaseRow};
use super::sealed::{self, SealedTable, check_name};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::vault_api::caller::{ClientAddr, Principal, begin, deny, require_admin};
use crate::vault_api::reply::{self, VaultApiError, VaultResult};

/// Mount type reported in responses.
const MOUNT_TYPE: &str = "database";

fn from_api(err: ApiError) -> VaultApiError {
    VaultApiError::new(err.status, err.message)
}

/// Loads and builds the dynamic configuration `name`.
pub(crate) async fn load_dynamic(
    state: &AppState,
    conn: &mut SqliteConnection,
    name: &str,
) -> ApiResult<DynamicPostgres> {
    let body = sealed::get(
        conn,
        &state.vault.barrier,
        SealedTable::DatabaseConfigs,
        name,
    )
    .await?
    .ok_or_else(|| ApiError::not_found("database config", name))?;
    Ok(parse_config(&body)?.1)
}

fn parse_config(body: &SecretString) -> ApiResult<(DynamicPostgresConfig, DynamicPostgres)> {
    let config: DynamicPostgresConfig = serde_json::from_str(body.expose_secret())
        .map_err(|err| ApiError::invalid("body", format!("invalid database config: {err}")))?;
    let built = config
        .build()
        .map_err(|err| ApiError::invalid(&err.field, err.to_string()))?;
    Ok((config, built))
}

/// `PUT /v1/database/config/{name}`: stores a dynamic PostgreSQL
/// configuration (`ward_connect::DynamicPostgresConfig` as JSON).
pub async fn put_config(
    State(state): State<AppState>,
    headers: HeaderMap,
    source: ClientAddr,
    Path(name): Path<String>,
    body: Bytes,
) -> VaultResult<Response> {
    let vault_path = format!("database/config/{name}");
    let (tx, principal) = begin(&state, &headers, source, &vault_path).await?;
    let mut tx = require_admin(&state, tx, &principal, "database.config", &vault_path).await?;
    check_name(&name).map_err(from_api)?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| VaultApiError::bad_request("failed to parse JSON input: body is not UTF-8"))?;
    let text = SecretString::from(text.to_string());
    let (config, built) = parse_config(&text).map_err(from_api)?;
    let summary = json!({
        "plugin_name": "postgresql-database-plugin",
        "target": built.admin().redacted(),
        "role_prefix": config.role_prefix,
        "default_ttl": config.default_ttl,
        "max_ttl": config.max_ttl,
        "grants": config.grants.len(),
    });
    sealed::put(
        &mut tx,
        &state.vault.barrier,
        SealedTable::DatabaseConfigs,
        &name,
        &summary,
        &text,
        &state.now_text(),
    )
    .await
    .map_err(from_api)?;
    let entry = principal
        .audit("database.config", Outcome::Success)
        .target(&vault_path)
        .details(summary);
    ward_audit::append(&mut tx, state.now(), &entry).await?;
    tx.commit().await?;
    Ok(reply::no_content())
}

/// `GET /v1/database/config/{name}`: the configuration without its admin URL password.
pub async fn get_config(
    State(state): State<AppState>,
    headers: HeaderMap,
    source: ClientAddr,
    Path(name): Path<String>,
) -> VaultResult<Response> {
    let vault_path = format!("database/config/{name}");
    let (tx, principal) = begin(&state, &headers, source, &vault_path).await?;
    let mut tx = require_admin(&state, tx, &principal, "database.config.read", &vault_path).await?;
    let found = sealed::find(&mut tx, SealedTable::DatabaseConfigs, &name)
        .await
        .map_err(from_api)?;
    tx.commit().await?;
    let Some(found) = found else {
        return Err(VaultApiError::not_found());
    };
    Ok(reply::json(
        StatusCode::OK,
        &reply::Envelope::data(MOUNT_TYPE, found.summary),
    ))
}

/// Vault's response to a creds request: the lease and the credential.
#[derive(Serialize)]
struct LeasedSecret<D: Serialize> {
    request_id: String,
    lease_id: String,
    renewable: bool,
    lease_duration: i64,
    data: Option<D>,
    wrap_info: Option<()>,
    warnings: Option<Vec<String>>,
    auth: Option<()>,
    mount_type: &'static str,
}

impl<D: Serialize> LeasedSecret<D> {
    fn new(lease_id: String, lease_duration: i64, data: Option<D>) -> Self {
        LeasedSecret {
            request_id: uuid::Uuid::new_v4().to_string(),
            lease_id,
            renewable: true,
            lease_duration,
            data,
            wrap_info: None,
            warnings: None,
            auth: None,
            mount_type: MOUNT_TYPE,
        }
    }
}

#[derive(Serialize)]
struct Credential<'a> {
    username: &'a str,
    password: &'a str,
}

/// `GET /v1/database/creds/{name}`: creates a login role for the calling bot
/// and returns it with a lease.
pub async fn issue_creds(
    State(state): State<AppState>,
    headers: HeaderMap,
    source: ClientAddr,
    Path(name): Path<String>,
) -> VaultResult<Response> {
    let vault_path = format!("database/creds/{name}");
    let (mut tx, principal) = begin(&state, &headers, source, &vault_path).await?;
    let Principal::Bot { bot_id, .. } = &principal else {
        tx.commit().await?;
        return Err(VaultApiError::bad_request(
            "dynamic database credentials are issued to bots: log in with the bot's AppRole and retry",
        ));
    };
    let grants = grant::list_for_bot(&mut tx, bot_id).await?;
    if let Decision::Deny = grant::decide(&grants, &vault_path, Capability::Read, state.now()) {
        return Err(deny(&state, tx, &principal, "database.creds", &vault_path).await);
    }
    let dynamic = match load_dynamic(&state, &mut tx, &name).await {
        Ok(dynamic) => dynamic,
        Err(err) if err.status == StatusCode::NOT_FOUND => {
            tx.commit().await?;
            return Err(VaultApiError::new(
                StatusCode::NOT_FOUND,
                format!(
                    "unknown database config `{name}`: create it with PUT /v1/database/config/{name}"
                ),
            ));
        }
        Err(err) => return Err(from_api(err)),
    };
    let bot = ward_store::bots::find(&mut tx, bot_id)
        .await?
        .ok_or_else(|| VaultApiError::internal("reading the bot", &"bot not found"))?;
    tx.commit().await?;

    let request = LeaseRequest {
        bot: BotId::parse(bot_id)
            .map_err(|err| VaultApiError::internal("reading the bot id", &err))?,
        bot_name: bot.name.clone(),
        ttl: None,
    };
    let issued = match dynamic.issue(&request, state.now()).await {
        Ok(issued) => issued,
        Err(err) => {
            tracing::warn!(bot = %bot_id, config = %name, code = err.code(), error = %err, "issuing a dynamic database credential failed");
            let entry = principal
                .audit("database.creds", Outcome::Failure)
                .target(&vault_path)
                .details(json!({"error_code": err.code(), "error": err.to_string()}));
            state.audit_alone(entry).await.map_err(from_api)?;
            return Err(VaultApiError::new(
                StatusCode::BAD_GATEWAY,
                format!("issuing a credential from `{name}` failed: {err}"),
            ));
        }
    };

    let lease = &issued.lease;
    let stored = async {
        let mut tx = state.store.begin_write().await?;
        leases::insert(&mut tx, lease, &name).await?;
        let entry = principal
            .audit("database.creds", Outcome::Success)
            .target(&vault_path)
            .details(json!({
                "lease": lease.id.as_str(),
                "username": lease.username,
                "expires_at": ward_core::clock::format_timestamp(lease.expires_at),
            }));
        ward_audit::append(&mut tx, state.now(), &entry).await?;
        tx.commit().await?;
        ApiResult::Ok(())
    }
    .await;
    if let Err(err) = stored {
        // Without a lease record nothing would ever drop the role.
        let _ = dynamic.revoke(&issued.username).await;
        return Err(from_api(err));
    }
    let duration = (lease.expires_at - lease.issued_at).whole_seconds();
    let body = LeasedSecret::new(
        format!("{vault_path}/{}", lease.id),
        duration,
        Some(Credential {
            username: &issued.username,
            password: issued.password.expose_secret(),
        }),
    );
    Ok(reply::json(StatusCode::OK, &body))
}

/// Reads `lease_id` from a body; Vault's ids (`database/creds/NAME/lse_…`)
/// and bare `lse_…` ids are both accepted.
fn lease_id_of(body: &Bytes) -> VaultResult<(String, Value)> {
    let value: Value = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(body).map_err(|err| {
            VaultApiError::bad_request(format!("failed to parse JSON input: {err}"))
        })?
    };
    let id = value
        .get("lease_id")
        .and_then(Value::as_str)
        .ok_or_else(|| VaultApiError::bad_request("missing lease_id"))?;
    Ok((bare_lease_id(id), value))
}

fn bare_lease_id(id: &str) -> String {
    id.rsplit('/').next().unwrap_or(id).to_string()
}

/// Opens a transaction, authenticates, and loads a lease the caller may
/// manage: an admin any lease, a bot its own.
async fn lease_for_caller(
    state: &AppState,
    headers: &HeaderMap,
    source: ClientAddr,
    id: &str,
    action: &str,
) -> VaultResult<(ward_store::WriteTx, Principal, LeaseRow)> {
    let target = format!("sys/leases/{id}");
    let (mut tx, principal) = begin(state, headers, source, &target).await?;
    let lease = leases::find(&mut tx, id).await.map_err(from_api)?;
    let Some(lease) = lease else {
        tx.commit().await?;
        return Err(VaultApiError::bad_request("invalid lease ID"));
    };
    if let Principal::Bot { bot_id, .. } = &principal
        && *bot_id != lease.bot_id
    {
        let entry = principal
            .audit(action, Outcome::Denied)
            .target(&target)
            .details(json!({"accessor": principal.accessor(), "reason": "the lease belongs to another bot"}));
        ward_audit::append(&mut tx, state.now(), &entry).await?;
        tx.commit().await?;
        return Err(VaultApiError::denied());
    }
    Ok((tx, principal, lease))
}

/// `PUT /v1/sys/leases/revoke` with `{"lease_id": …}`.
pub async fn revoke_lease(
    State(state): State<AppState>,
    headers: HeaderMap,
    source: ClientAddr,
    body: Bytes,
) -> VaultResult<Response> {
    let (id, _) = lease_id_of(&body)?;
    revoke(&state, &headers, source, &id).await
}

/// `PUT /v1/sys/leases/revoke/{lease_id}`.
pub async fn revoke_lease_by_path(
    State(state): State<AppState>,
    headers: HeaderMap,
    source: ClientAddr,
    Path(lease_id): Path<String>,
) -> VaultResult<Response> {
    revoke(&state, &headers, source, &bare_lease_id(&lease_id)).await
}

async fn revoke(
    state: &AppState,
    headers: &HeaderMap,
    source: ClientAddr,
    id: &str,
) -> VaultResult<Response> {
    let (mut tx, principal, lease) =
        lease_for_caller(state, headers, source, id, "database.lease.revoke").await?;
    if lease.revoked_at.is_some() {
        tx.commit().await?;
        return Ok(reply::no_content());
    }
    leases::request_revocation(&mut tx, id, &state.now_text())
        .await
        .map_err(from_api)?;
    tx.commit().await?;

    let dynamic = {
        let mut conn = state.store.reader().acquire().await?;
        load_dynamic(state, &mut conn, &lease.config)
            .await
            .map_err(from_api)?
    };
    let _drop = leases::drop_lock().await;
    match dynamic.revoke(&lease.username).await {
        Ok(outcome) => {
            leases::mark_revoked(state, &lease, "revoked", &principal.actor(), outcome)
                .await
                .map_err(from_api)?;
            Ok(reply::no_content())
        }
        Err(err) => {
            tracing::warn!(lease_id = %id, role = %lease.username, code = err.code(), error = %err, "revoking a lease failed; the reaper retries");
            let entry = principal
                .audit("database.lease.revoke", Outcome::Failure)
                .target(format!("database/creds/{}", lease.config))
                .details(json!({"lease": id, "error_code": err.code(), "error": err.to_string()}));
            state.audit_alone(entry).await.map_err(from_api)?;
            Err(VaultApiError::new(
                StatusCode::BAD_GATEWAY,
                format!("dropping the role of lease {id} failed, Ward retries it: {err}"),
            ))
        }
    }
}

/// `PUT /v1/sys/leases/renew` with `{"lease_id": …, "increment": seconds or "1h"}`.
/// Without an increment the lease gets its original duration again.
pub async fn renew_lease(
    State(state): State<AppState>,
    headers: HeaderMap,
    source: ClientAddr,
    body: Bytes,
) -> VaultResult<Response> {
    let (id, fields) = lease_id_of(&body)?;
    let (tx, principal, lease) =
        lease_for_caller(&state, &headers, source, &id, "database.lease.renew").await?;
    tx.commit().await?;

    if lease.revoked_at.is_some() || lease.revoke_requested_at.is_some() {
        return Err(VaultApiError::bad_request(format!(
            "lease {id} is revoked; request new credentials"
        )));
    }
    let current = lease.to_lease().map_err(from_api)?;
    let increment = match fields.get("increment") {
        None | Some(Value::Null) => current.expires_at - current.issued_at,
        Some(Value::Number(seconds)) => Duration::seconds(seconds.as_i64().unwrap_or(0)),
        Some(Value::String(text)) => match text.parse::<i64>() {
            Ok(seconds) => Duration::seconds(seconds),
            Err(_) => ward_core::duration::parse_duration(text)
                .map_err(|err| VaultApiError::bad_request(format!("invalid increment: {err}")))?,
        },
        Some(_) => {
            return Err(VaultApiError::bad_request(
                "invalid increment: expected seconds or a duration such as \"1h\"",
            ));
        }
    };

    let dynamic = {
        let mut conn = state.store.reader().acquire().await?;
        load_dynamic(&state, &mut conn, &lease.config)
            .await
            .map_err(from_api)?
    };
    let now = state.now();
    let renewed = dynamic
        .renew(&current, increment, now)
        .await
        .map_err(|err| VaultApiError::bad_request(format!("renewing lease {id} failed: {err}")))?;

    let mut tx = state.store.begin_write().await?;
    leases::set_expiry(&mut tx, &id, renewed.expires_at)
        .await
        .map_err(from_api)?;
    let entry = principal
        .audit("database.lease.renew", Outcome::Success)
        .target(format!("database/creds/{}", lease.config))
        .details(json!({"lease": id, "expires_at": ward_core::clock::format_timestamp(renewed.expires_at)}));
    ward_audit::append(&mut tx, now, &entry).await?;
    tx.commit().await?;
    let body = LeasedSecret::<()>::new(
        format!("database/creds/{}/{id}", lease.config),
        (renewed.expires_at - now).whole_seconds(),
        None,
    );
    Ok(reply::json(StatusCode::OK, &body))
}
