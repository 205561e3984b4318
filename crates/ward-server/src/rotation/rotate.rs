//! One rotation of one secret: stage, change at the target, promote.
//!
//! 1. In a short transaction, read the current version, put a new password
//!    into its field and stage the result as a pending value
//!    (`ward_vault::rotation::stage`), so the new value is never only in
//!    memory.
//! 2. Outside any transaction, call the connector to change the credential
//!    at the target.
//! 3. On success, promote the pending value to the next version (the
//!    previous version stays readable for the policy's grace window) and
//!    audit `secret.rotate` with outcome success.
//! 4. On failure, put the old credential back when the target may have taken
//!    the new one, discard the pending value, audit `secret.rotate` with
//!    outcome failure and the connector's error code, and raise an alert.
//!    The previous version stays current.
//!
//! A secret without a rotation target gets a new vault value only.
//!
//! A server that stops between steps 2 and 3 leaves the pending value while
//! the target may already hold it. The next rotation of the secret checks
//! such leftovers first (see `recover`).

use std::collections::BTreeSet;
use std::sync::{LazyLock, Mutex};

use axum::http::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use ward_audit::{AuditEntry, Outcome};
use ward_connect::{
    Connector, ConnectorError, PasswordPolicy, RotationId, RotationReceipt, TargetSpec,
};
use ward_vault::kv::{self, ReadResult};
use ward_vault::rotation as staging;

use super::alert::raise_rotation_alert;
use super::connectors::{DEFAULT_FIELD, Target, find_target, load_connector, record_attempt};
use super::recover::recover_leftovers;
use super::vault_error;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Paths with a rotation running in this process.
static IN_FLIGHT: LazyLock<Mutex<BTreeSet<String>>> = LazyLock::new(|| Mutex::new(BTreeSet::new()));

/// Result of a successful rotation.
#[derive(Debug, Clone, Serialize)]
pub struct RotationReport {
    /// Vault path of the secret.
    pub path: String,
    /// The new current version.
    pub version: u64,
    /// Id of the rotation, also in the audit entry and the connector request.
    pub rotation_id: String,
    /// Connector name, or `None` when the secret has no rotation target.
    pub connector: Option<String>,
    /// The connector's proof of the change.
    pub receipt: Option<RotationReceipt>,
}

/// Marks a path as being rotated until dropped.
struct InFlight(String);

impl InFlight {
    fn claim(path: &str) -> ApiResult<Self> {
        let mut paths = IN_FLIGHT
            .lock()
            .map_err(|_| ApiError::internal("rotation registry", "lock poisoned"))?;
        if !paths.insert(path.to_string()) {
            return Err(ApiError::conflict(
                "rotation_in_progress",
                format!("a rotation of `{path}` is already running; wait for it to finish"),
            ));
        }
        Ok(InFlight(path.to_string()))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Ok(mut paths) = IN_FLIGHT.lock() {
            paths.remove(&self.0);
        }
    }
}

/// The value staged for one rotation.
struct Staged {
    pending_id: String,
    current_version: u64,
    previous_password: Option<SecretString>,
    new_password: SecretString,
}

/// Rotates the secret at `path` now, writing the new password into `field`
/// (default: the target's field, else `password`). `actor` is audited.
///
/// Returns a 502 error with the connector's error code as `code` when the
/// target change failed; the previous version then stays current.
pub async fn rotate(
    state: &AppState,
    path: &str,
    field: Option<&str>,
    actor: &str,
) -> ApiResult<RotationReport> {
    let _claim = InFlight::claim(path)?;
    let (target, connector) = {
        let mut conn = state.store.reader().acquire().await?;
        match find_target(&mut conn, path).await? {
            Some(target) => {
                let connector = load_connector(state, &mut conn, &target.connector).await?;
                (Some(target), Some(connector))
            }
            None => (None, None),
        }
    };
    let field = field
        .map(str::to_string)
        .or_else(|| target.as_ref().map(|t| t.field.clone()))
        .unwrap_or_else(|| DEFAULT_FIELD.to_string());
    let policy = target
        .as_ref()
        .and_then(|t| t.password_policy.clone())
        .unwrap_or_default();
    let leftover_target = match (&target, &connector) {
        (Some(target), Some(connector)) => Some((target, connector.as_ref())),
        _ => None,
    };
    recover_leftovers(state, path, leftover_target, actor).await?;

    let rotation_id = RotationId::generate();
    let requested_at = state.now();

    let staged = stage(state, path, &field, &policy).await?;
    let (Some(target), Some(connector)) = (target, connector) else {
        return promote(state, path, &field, &rotation_id, &staged, None, actor).await;
    };
    let spec = TargetSpec {
        rotation_id: rotation_id.clone(),
        secret_path: path.to_string(),
        version: staged.current_version + 1,
        account: target.account.clone(),
        requested_at,
    };
    tracing::info!(rotation_id = %rotation_id, path, connector = %target.connector, account = %target.account, "rotating secret at its target");
    match connector.rotate(&spec, &staged.new_password).await {
        Ok(receipt) => {
            let result = promote(
                state,
                path,
                &field,
                &rotation_id,
                &staged,
                Some((&target, receipt)),
                actor,
            )
            .await;
            if let Err(err) = &result {
                // The target has the new password but the vault could not
                // make it current: put the old one back so bots keep working.
                tracing::error!(rotation_id = %rotation_id, path, code = err.code, message = %err.message, "promoting a rotated secret failed; restoring the previous credential at the target");
                let _ = restore(&*connector, &spec, &staged).await;
            }
            result
        }
        Err(err) => Err(fail(
            state,
            path,
            &field,
            &rotation_id,
            &target,
            &*connector,
            &spec,
            &staged,
            err,
            actor,
        )
        .await),
    }
}

/// Stages the current value with a new password in `field`.
///
/// NOTE: the staged value is the current version as read here, so a version
/// written by someone else between this step and promotion is superseded by
/// the rotated copy of the older value (it stays readable by number).
async fn stage(
    state: &AppState,
    path: &str,
    field: &str,
    policy: &PasswordPolicy,
) -> ApiResult<Staged> {
    let barrier = &state.vault.barrier;
    let now = state.now();
    let new_password = policy
        .generate()
        .map_err(|err| ApiError::internal("generating a password", err))?;

    let mut tx = state.store.begin_write().await?;
    let (mut value, current_version) = match kv::read(&mut tx, barrier, path, None, now)
        .await
        .map_err(vault_error)?
    {
        ReadResult::Value { value, meta, .. } => (
            serde_json::from_str::<Value>(value.as_json())
                .map_err(|err| ApiError::internal("reading the current version", err))?,
            meta.version,
        ),
        ReadResult::Deleted { meta, .. } => {
            return Err(ApiError::conflict(
                "current_version_deleted",
                format!(
                    "the current version {} of `{path}` is deleted: undelete it or write a new version before rotating",
                    meta.version
                ),
            ));
        }
        ReadResult::Missing => return Err(ApiError::not_found("secret", path)),
    };

    let Some(object) = value.as_object_mut() else {
        return Err(ApiError::internal(
            "reading the current version",
            "not a JSON object",
        ));
    };
    let previous_password = object
        .get(field)
        .and_then(Value::as_str)
        .map(|text| SecretString::from(text.to_string()));
    object.insert(
        field.to_string(),
        Value::String(new_password.expose_secret().to_string()),
    );

    let pending = staging::stage(&mut tx, barrier, path, &value, now)
        .await
        .map_err(vault_error)?;
    drop(value);
    tx.commit().await?;
    Ok(Staged {
        pending_id: pending.id,
        current_version,
        previous_password,
        new_password,
    })
}

async fn promote(
    state: &AppState,
    path: &str,
    field: &str,
    rotation_id: &RotationId,
    staged: &Staged,
    change: Option<(&Target, RotationReceipt)>,
    actor: &str,
) -> ApiResult<RotationReport> {
    let now = state.now();
    let mut tx = state.store.begin_write().await?;
    let meta = staging::promote(&mut tx, &state.vault.barrier, path, &staged.pending_id, now)
        .await
        .map_err(vault_error)?;
    let mut details = json!({
        "rotation_id": rotation_id.as_str(),
        "version": meta.version,
        "previous_version": staged.current_version,
        "field": field,
        "connector": null,
    });
    if let Some((target, receipt)) = &change {
        details["connector"] = json!(target.connector);
        details["connector_kind"] = json!(receipt.kind);
        details["account"] = json!(target.account);
        details["verification"] = json!(receipt.verification);
        details["attempts"] = json!(receipt.attempts);
        record_attempt(&mut tx, path, &state.now_text(), None).await?;
    }
    let entry = AuditEntry::new(actor, "secret.rotate", Outcome::Success)
        .target(format!("secret/{path}"))
        .details(details);
    ward_audit::append(&mut tx, now, &entry).await?;
    tx.commit().await?;
    metrics::counter!("ward_secret_rotations_total", "outcome" => "success").increment(1);
    tracing::info!(rotation_id = %rotation_id, path, version = meta.version, "secret rotated");
    Ok(RotationReport {
        path: path.to_string(),
        version: meta.version,
        rotation_id: rotation_id.to_string(),
        connector: change.as_ref().map(|(target, _)| target.connector.clone()),
        receipt: change.map(|(_, receipt)| receipt),
    })
}

/// Whether the old credential was put back after a failed change.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
enum Restore {
    /// The target cannot have taken the new password.
    NotNeeded,
    /// The old password was set again.
    Restored,
    /// The old password could not be set again, so the target may hold
    /// the new password while the vault keeps the old one.
    Failed,
    /// The secret had no previous password in its field.
    NoPreviousValue,
}

async fn restore(connector: &dyn Connector, spec: &TargetSpec, staged: &Staged) -> Restore {
    let Some(previous) = &staged.previous_password else {
        return Restore::NoPreviousValue;
    };
    // A fresh rotation id, because a webhook receiver may ignore a repeat.
    let spec = TargetSpec {
        rotation_id: RotationId::generate(),
        version: staged.current_version,
        ..spec.clone()
    };
    match connector.rotate(&spec, previous).await {
        Ok(_) => Restore::Restored,
        Err(err) => {
            tracing::error!(rotation_id = %spec.rotation_id, path = %spec.secret_path, code = err.code(), error = %err, "putting the previous credential back failed; the target may hold the new password");
            Restore::Failed
        }
    }
}

#[expect(
    clippy::too_many_arguments,
    reason = "one call site; the values are the rotation's state"
)]
async fn fail(
    state: &AppState,
    path: &str,
    field: &str,
    rotation_id: &RotationId,
    target: &Target,
    connector: &dyn Connector,
    spec: &TargetSpec,
    staged: &Staged,
    err: ConnectorError,
    actor: &str,
) -> ApiError {
    let code = err.code();
    metrics::counter!("ward_secret_rotations_total", "outcome" => "failure", "code" => code)
        .increment(1);
    tracing::warn!(rotation_id = %rotation_id, path, code, error = %err, "rotation at the target failed; the previous version stays current");
    let restore = if err.target_may_have_changed() {
        restore(connector, spec, staged).await
    } else {
        Restore::NotNeeded
    };
    let recorded = record_failure(
        state,
        path,
        field,
        rotation_id,
        target,
        staged,
        &err,
        restore,
        actor,
    )
    .await;
    if let Err(record_err) = recorded {
        tracing::error!(rotation_id = %rotation_id, path, code = record_err.code, message = %record_err.message, "recording a failed rotation failed");
    }
    let status = match &err {
        ConnectorError::InvalidInput { .. } => StatusCode::BAD_REQUEST,
        _ => StatusCode::BAD_GATEWAY,
    };
    ApiError::new(
        status,
        code,
        format!(
            "rotation {rotation_id} of `{path}` failed, the previous version stays current: {err}"
        ),
    )
}

#[expect(
    clippy::too_many_arguments,
    reason = "one call site; the values are the rotation's state"
)]
async fn record_failure(
    state: &AppState,
    path: &str,
    field: &str,
    rotation_id: &RotationId,
    target: &Target,
    staged: &Staged,
    err: &ConnectorError,
    restore: Restore,
    actor: &str,
) -> ApiResult<()> {
    let now: OffsetDateTime = state.now();
    let mut tx = state.store.begin_write().await?;
    // When the old credential could not be put back, the target may hold
    // the new password, so the staged value is kept for recovery.
    let kept_pending = matches!(restore, Restore::Failed).then_some(staged.pending_id.as_str());
    if kept_pending.is_none() {
        staging::discard(&mut tx, path, &staged.pending_id)
            .await
            .map_err(vault_error)?;
    }
    record_attempt(&mut tx, path, &state.now_text(), Some(err.code())).await?;
    let owners = kv::read_metadata(&mut tx, path)
        .await
        .map_err(vault_error)?
        .map(|meta| meta.owners)
        .unwrap_or_default();

    let alert_id =
        raise_rotation_alert(&mut tx, now, path, &owners, rotation_id, target, err).await?;
    let entry = AuditEntry::new(actor, "secret.rotate", Outcome::Failure)
        .target(format!("secret/{path}"))
        .details(json!({
            "rotation_id": rotation_id.as_str(),
            "current_version": staged.current_version,
            "field": field,
            "connector": target.connector,
            "account": target.account,
            "error_code": err.code(),
            "error": err.to_string(),
            "restore": restore,
            "kept_pending": kept_pending,
            "alert": alert_id,
        }));
    let entry = match owners.first() {
        Some(bot) => entry.bot(bot),
        None => entry,
    };
    ward_audit::append(&mut tx, now, &entry).await?;
    tx.commit().await?;
    Ok(())
}
