//! Pending values left by an earlier rotation of the same secret: by a
//! server that stopped between the target change and promotion, or kept
//! because putting the old credential back failed.
//!
//! Before a new rotation, each leftover is checked at the target with the
//! connector's `verify`. A value the target accepts is promoted, because it
//! is the credential in force. Any other leftover is discarded. Both are
//! audited as `secret.rotate.recover`.

use axum::http::StatusCode;
use secrecy::SecretString;
use serde_json::{Value, json};
use ward_audit::{AuditEntry, Outcome};
use ward_connect::{Connector, RotationId, TargetSpec};
use ward_vault::rotation as staging;

use super::connectors::Target;
use super::vault_error;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Promotes or discards every pending value of `path`, oldest first.
pub(crate) async fn recover_leftovers(
    state: &AppState,
    path: &str,
    target: Option<(&Target, &dyn Connector)>,
    actor: &str,
) -> ApiResult<()> {
    let barrier = &state.vault.barrier;
    let leftovers = {
        let mut conn = state.store.reader().acquire().await?;
        staging::list_pending(&mut conn, path)
            .await
            .map_err(vault_error)?
    };
    for pending in leftovers {
        let accepted = match target {
            Some((target, connector)) => {
                let secret = {
                    let mut conn = state.store.reader().acquire().await?;
                    let value = staging::pending_value(&mut conn, barrier, path, &pending.id)
                        .await
                        .map_err(vault_error)?;
                    field_of(value.as_json(), &target.field)?
                };
                let spec = TargetSpec {
                    rotation_id: RotationId::generate(),
                    secret_path: path.to_string(),
                    version: 0,
                    account: target.account.clone(),
                    requested_at: state.now(),
                };
                match secret {
                    Some(secret) => match connector.verify(&spec, &secret).await {
                        Ok(_) => true,
                        Err(err) if is_indeterminate(err.code()) => {
                            // The value may be in force, so it is kept and
                            // no new rotation starts until the target responds.
                            return Err(ApiError::new(
                                StatusCode::BAD_GATEWAY,
                                err.code(),
                                format!(
                                    "a pending value of `{path}` from an earlier rotation could not be checked at its target, so it is kept and no new rotation starts: {err}"
                                ),
                            ));
                        }
                        Err(_) => false,
                    },
                    None => false,
                }
            }
            // Without a connector nothing outside the vault changed.
            None => false,
        };

        let now = state.now();
        let mut tx = state.store.begin_write().await?;
        let details = if accepted {
            let meta = staging::promote(&mut tx, barrier, path, &pending.id, now)
                .await
                .map_err(vault_error)?;
            json!({"pending": pending.id, "result": "promoted", "version": meta.version})
        } else {
            staging::discard(&mut tx, path, &pending.id)
                .await
                .map_err(vault_error)?;
            json!({"pending": pending.id, "result": "discarded"})
        };
        tracing::warn!(path, pending = %pending.id, promoted = accepted, "recovered a pending value left by an earlier rotation");
        let entry = AuditEntry::new(actor, "secret.rotate.recover", Outcome::Success)
            .target(format!("secret/{path}"))
            .details(details);
        ward_audit::append(&mut tx, now, &entry).await?;
        tx.commit().await?;
    }
    Ok(())
}

/// Reports whether an error code leaves open if the target accepts the value.
fn is_indeterminate(code: &str) -> bool {
    matches!(
        code,
        "target_unreachable" | "target_unavailable" | "target_error"
    )
}

fn field_of(json: &str, field: &str) -> ApiResult<Option<SecretString>> {
    let value: Value = serde_json::from_str(json)
        .map_err(|err| ApiError::internal("reading a pending value", err))?;
    Ok(value
        .get(field)
        .and_then(Value::as_str)
        .map(|text| SecretString::from(text.to_string())))
}
