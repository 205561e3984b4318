//! Alerts for failed rotations, stored in the `alerts` table next to the
//! detection engine's alerts so `GET /v1/alerts` and `ward alerts` show them.

use serde_json::json;
use sqlx::SqliteConnection;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use ward_connect::{ConnectorError, RotationId};
use ward_detect::Alert;

use super::connectors::Target;
use crate::error::{ApiError, ApiResult};

/// Severity of a failed rotation, 0–1.
const SEVERITY: f64 = 0.8;
/// Alert score of a failed rotation: 100 times [`SEVERITY`].
const SCORE: u8 = 80;

/// Inserts an open alert for a failed rotation and returns its id.
///
/// The alert is about the secret's first owner bot when it has one, else
/// about the secret path. NOTE: the detection engine has no detector for
/// rotation failures, so the signal is filed under `new_failure_pattern`
/// with an `error` failure count of 1.
pub(crate) async fn raise_rotation_alert(
    conn: &mut SqliteConnection,
    now: OffsetDateTime,
    path: &str,
    owners: &[String],
    rotation_id: &RotationId,
    target: &Target,
    err: &ConnectorError,
) -> ApiResult<String> {
    let (identity, identity_kind) = match owners.first() {
        Some(bot) => (bot.clone(), "ward_bot"),
        None => (format!("secret/{path}"), "other"),
    };
    let at = now
        .format(&Rfc3339)
        .map_err(|format_err| ApiError::internal("formatting the alert time", format_err))?;
    let id = format!("alr_{}", rotation_id.as_str().trim_start_matches("rot_"));
    let observed = format!(
        "rotation {rotation_id} of secret/{path} through connector `{}` (account `{}`) failed with {}: {err}",
        target.connector,
        target.account,
        err.code()
    );
    let body = json!({
        "id": id,
        "identity": identity,
        "identity_kind": identity_kind,
        "score": SCORE,
        "first_seen": at,
        "last_seen": at,
        "summary": format!("rotation_failed: {observed}"),
        "signals": [{
            "detector": "new_failure_pattern",
            "severity": SEVERITY,
            "observed": observed,
            "baseline": "rotations of this secret succeed; the previous version stays current",
            "evidence": {"kind": "count", "observed": 1.0, "failure": "error"},
            "time": at,
        }],
        "event_uids": [],
        "revision": 1,
    });
    // Parsing checks the body against the alert type the API reads back.
    let alert: Alert = serde_json::from_value(body)
        .map_err(|parse_err| ApiError::internal("building the rotation alert", parse_err))?;
    let text = serde_json::to_string(&alert)
        .map_err(|encode_err| ApiError::internal("encoding the rotation alert", encode_err))?;
    let now_text = ward_core::clock::format_timestamp(now);
    sqlx::query(
        "INSERT INTO alerts (id, identity, score, status, revision, last_seen, body, updated_at) \
         VALUES (?, ?, ?, 'open', ?, ?, ?, ?)",
    )
    .bind(&alert.id)
    .bind(&alert.identity)
    .bind(i64::from(alert.score))
    .bind(i64::from(alert.revision))
    .bind(&now_text)
    .bind(text)
    .bind(&now_text)
    .execute(conn)
    .await?;
    tracing::warn!(alert = %alert.id, rotation_id = %rotation_id, path, code = err.code(), "rotation failure raised an alert");
    Ok(alert.id)
}
