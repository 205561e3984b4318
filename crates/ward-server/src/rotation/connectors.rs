//! Admin endpoints for rotation connectors (`/v1/vault/connectors/{name}`)
//! and the rotation targets of secrets (`/v1/vault/targets/{path}`).
//!
//! A connector body is a `ward_connect::ConnectorConfig` in JSON, such as
//! `{"kind":"postgres","admin_url":"postgres://ward_admin:…@db:5432/erp"}`.
//! Its secret fields are stored encrypted and never returned.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::{Row, SqliteConnection};
use ward_audit::{AuditEntry, Outcome};
use ward_connect::{Connector, ConnectorConfig, PasswordPolicy};
use ward_core::person::Role;

use super::sealed::{self, SealedTable, check_name, redact_url};
use crate::api::ApiJson;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Field of a secret that receives the new password when a target names none.
pub(crate) const DEFAULT_FIELD: &str = "password";

/// A connector as `GET` returns it: no secret fields.
#[derive(Debug, Serialize)]
pub struct ConnectorView {
    name: String,
    #[serde(flatten)]
    summary: Value,
    created_at: String,
    updated_at: String,
}

impl From<sealed::Summary> for ConnectorView {
    fn from(summary: sealed::Summary) -> Self {
        ConnectorView {
            name: summary.name,
            summary: summary.summary,
            created_at: summary.created_at,
            updated_at: summary.updated_at,
        }
    }
}

/// Parses and validates a connector body, and builds its connector.
pub(crate) fn parse_connector(
    body: &SecretString,
) -> ApiResult<(ConnectorConfig, Arc<dyn Connector>)> {
    let config: ConnectorConfig = serde_json::from_str(body.expose_secret()).map_err(|err| {
        // serde_json names the field and position, never the value.
        ApiError::invalid("body", format!("invalid connector config: {err}"))
    })?;
    let connector = config
        .build()
        .map_err(|err| ApiError::invalid(&err.field, err.to_string()))?;
    Ok((config, connector))
}

fn summarize(config: &ConnectorConfig) -> ApiResult<Value> {
    Ok(match config {
        ConnectorConfig::Postgres(postgres) => {
            let built = postgres
                .build()
                .map_err(|err| ApiError::invalid(&err.field, err.to_string()))?;
            json!({"kind": "postgres", "target": built.admin().redacted()})
        }
        ConnectorConfig::Webhook(webhook) => {
            json!({"kind": "webhook", "target": redact_url(&webhook.url)})
        }
    })
}

/// Loads and builds the connector `name`.
pub(crate) async fn load_connector(
    state: &AppState,
    conn: &mut SqliteConnection,
    name: &str,
) -> ApiResult<Arc<dyn Connector>> {
    let body = sealed::get(conn, &state.vault.barrier, SealedTable::Connectors, name)
        .await?
        .ok_or_else(|| ApiError::not_found("connector", name))?;
    Ok(parse_connector(&body)?.1)
}

/// `PUT /v1/vault/connectors/{name}`: creates or replaces a connector.
pub async fn put_connector(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Json<ConnectorView>> {
    caller
        .require(&state, &[Role::Admin], "rotation.connector.put")
        .await?;
    check_name(&name)?;
    if !body.is_object() {
        return Err(ApiError::invalid(
            "body",
            "must be a JSON object with a `kind` field",
        ));
    }
    let text = SecretString::from(body.to_string());
    drop(body);
    let (config, _) = parse_connector(&text)?;
    let summary = summarize(&config)?;
    let now = state.now_text();
    let mut tx = state.store.begin_write().await?;
    sealed::put(
        &mut tx,
        &state.vault.barrier,
        SealedTable::Connectors,
        &name,
        &summary,
        &text,
        &now,
    )
    .await?;
    let entry = AuditEntry::new(&caller.subject, "rotation.connector.put", Outcome::Success)
        .target(format!("connector/{name}"))
        .details(summary.clone());
    ward_audit::append(&mut tx, state.now(), &entry).await?;
    tx.commit().await?;
    tracing::info!(connector = %name, kind = %config.kind(), "rotation connector stored");
    let mut conn = state.store.reader().acquire().await?;
    let stored = sealed::find(&mut conn, SealedTable::Connectors, &name)
        .await?
        .ok_or_else(|| ApiError::not_found("connector", &name))?;
    Ok(Json(stored.into()))
}

/// `GET /v1/vault/connectors/{name}`: the connector's kind and target, without secrets.
pub async fn get_connector(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<Json<ConnectorView>> {
    caller
        .require(&state, &[Role::Admin], "rotation.connector.get")
        .await?;
    let mut conn = state.store.reader().acquire().await?;
    let stored = sealed::find(&mut conn, SealedTable::Connectors, &name)
        .await?
        .ok_or_else(|| ApiError::not_found("connector", &name))?;
    Ok(Json(stored.into()))
}

/// `GET /v1/vault/connectors`: every connector, without secrets.
pub async fn list_connectors(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Value>> {
    caller
        .require(&state, &[Role::Admin], "rotation.connector.list")
        .await?;
    let mut conn = state.store.reader().acquire().await?;
    let views: Vec<ConnectorView> = sealed::list(&mut conn, SealedTable::Connectors)
        .await?
        .into_iter()
        .map(ConnectorView::from)
        .collect();
    Ok(Json(json!({"connectors": views})))
}

/// `DELETE /v1/vault/connectors/{name}`: removes a connector no target uses.
pub async fn delete_connector(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    caller
        .require(&state, &[Role::Admin], "rotation.connector.delete")
        .await?;
    let mut tx = state.store.begin_write().await?;
    let users: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM rotation_targets WHERE connector = ?")
            .bind(&name)
            .fetch_one(&mut *tx)
            .await?;
    if users > 0 {
        return Err(ApiError::conflict(
            "connector_in_use",
            format!(
                "connector `{name}` is the rotation target of {users} secrets: delete or change those targets first"
            ),
        ));
    }
    let removed = sqlx::query("DELETE FROM rotation_connectors WHERE name = ?")
        .bind(&name)
        .execute(&mut *tx)
        .await?;
    if removed.rows_affected() == 0 {
        return Err(ApiError::not_found("connector", &name));
    }
    let entry = AuditEntry::new(
        &caller.subject,
        "rotation.connector.delete",
        Outcome::Success,
    )
    .target(format!("connector/{name}"));
    ward_audit::append(&mut tx, state.now(), &entry).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Rotation target of a secret: the connector, account and field that a rotation changes.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    /// Vault path of the secret.
    pub path: String,
    /// Name of the connector.
    pub connector: String,
    /// Account at the target: a PostgreSQL role or a webhook account name.
    pub account: String,
    /// Field of the secret that contains the password.
    pub field: String,
    /// Shape of generated passwords; `None` takes the default policy.
    #[serde(skip)]
    pub password_policy: Option<PasswordPolicy>,
    /// When the last rotation was attempted.
    pub last_attempt_at: Option<String>,
    /// Error code of the last attempt when it failed.
    pub last_error_code: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetBody {
    connector: String,
    account: String,
    field: Option<String>,
    /// `{"length": 32, "alphabet": "…"}`; absent takes the default.
    password: Option<Value>,
}

/// Reads the rotation target of `path`.
pub(crate) async fn find_target(
    conn: &mut SqliteConnection,
    path: &str,
) -> ApiResult<Option<Target>> {
    let row = sqlx::query(
        "SELECT path, connector, account, field, password_policy, last_attempt_at, last_error_code \
         FROM rotation_targets WHERE path = ?",
    )
    .bind(path)
    .fetch_optional(conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let policy: Option<String> = row.try_get("password_policy")?;
    let password_policy = policy
        .map(|text| serde_json::from_str::<PasswordPolicy>(&text))
        .transpose()
        .map_err(|err| ApiError::internal("reading a stored password policy", err))?;
    Ok(Some(Target {
        path: row.try_get("path")?,
        connector: row.try_get("connector")?,
        account: row.try_get("account")?,
        field: row.try_get("field")?,
        password_policy,
        last_attempt_at: row.try_get("last_attempt_at")?,
        last_error_code: row.try_get("last_error_code")?,
    }))
}

/// Records the outcome of a rotation attempt on the target row.
pub(crate) async fn record_attempt(
    conn: &mut SqliteConnection,
    path: &str,
    at: &str,
    error_code: Option<&str>,
) -> ApiResult<()> {
    sqlx::query(
        "UPDATE rotation_targets SET last_attempt_at = ?, last_error_code = ? WHERE path = ?",
    )
    .bind(at)
    .bind(error_code)
    .bind(path)
    .execute(conn)
    .await?;
    Ok(())
}

/// `PUT /v1/vault/targets/{path}`: names the connector and account that a
/// rotation of the secret changes.
pub async fn put_target(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<String>,
    ApiJson(body): ApiJson<TargetBody>,
) -> ApiResult<Json<Target>> {
    caller
        .require(&state, &[Role::Admin], "rotation.target.put")
        .await?;
    if body.account.trim().is_empty() {
        return Err(ApiError::invalid(
            "account",
            "must not be empty: name the role or account to rotate",
        ));
    }
    let field = body.field.unwrap_or_else(|| DEFAULT_FIELD.to_string());
    if field.is_empty() {
        return Err(ApiError::invalid("field", "must not be empty"));
    }
    let policy_text = match &body.password {
        Some(value) => {
            let policy: PasswordPolicy = serde_json::from_value(value.clone())
                .map_err(|err| ApiError::invalid("password", err.to_string()))?;
            policy
                .validate()
                .map_err(|err| ApiError::invalid(&err.field, err.to_string()))?;
            Some(value.to_string())
        }
        None => None,
    };

    let now = state.now_text();
    let mut tx = state.store.begin_write().await?;
    if sealed::find(&mut tx, SealedTable::Connectors, &body.connector)
        .await?
        .is_none()
    {
        return Err(ApiError::not_found("connector", &body.connector).with_field("connector"));
    }
    if !ward_vault::kv::exists(&mut tx, &path)
        .await
        .map_err(super::vault_error)?
    {
        return Err(ApiError::not_found("secret", &path));
    }
    sqlx::query(
        "INSERT INTO rotation_targets (path, connector, account, field, password_policy, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(path) DO UPDATE SET connector = excluded.connector, \
         account = excluded.account, field = excluded.field, password_policy = excluded.password_policy, \
         updated_at = excluded.updated_at",
    )
    .bind(&path)
    .bind(&body.connector)
    .bind(&body.account)
    .bind(&field)
    .bind(&policy_text)
    .bind(&now)
    .execute(&mut *tx)
    .await?;
    let entry = AuditEntry::new(&caller.subject, "rotation.target.put", Outcome::Success)
        .target(format!("secret/{path}"))
        .details(json!({"connector": body.connector, "account": body.account, "field": field}));
    ward_audit::append(&mut tx, state.now(), &entry).await?;
    let target = find_target(&mut tx, &path)
        .await?
        .ok_or_else(|| ApiError::not_found("rotation target", &path))?;
    tx.commit().await?;
    Ok(Json(target))
}

/// `GET /v1/vault/targets/{path}`.
pub async fn get_target(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<String>,
) -> ApiResult<Json<Target>> {
    caller
        .require(&state, &[Role::Admin], "rotation.target.get")
        .await?;
    let mut conn = state.store.reader().acquire().await?;
    let target = find_target(&mut conn, &path)
        .await?
        .ok_or_else(|| ApiError::not_found("rotation target", &path))?;
    Ok(Json(target))
}

/// `DELETE /v1/vault/targets/{path}`: later rotations change only the vault value.
pub async fn delete_target(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<String>,
) -> ApiResult<StatusCode> {
    caller
        .require(&state, &[Role::Admin], "rotation.target.delete")
        .await?;
    let mut tx = state.store.begin_write().await?;
    let removed = sqlx::query("DELETE FROM rotation_targets WHERE path = ?")
        .bind(&path)
        .execute(&mut *tx)
        .await?;
    if removed.rows_affected() == 0 {
        return Err(ApiError::not_found("rotation target", &path));
    }
    let entry = AuditEntry::new(&caller.subject, "rotation.target.delete", Outcome::Success)
        .target(format!("secret/{path}"));
    ward_audit::append(&mut tx, state.now(), &entry).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
