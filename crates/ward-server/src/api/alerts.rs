//! `/v1/alerts`: scored, explained deviations, and people's verdicts on them.

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use ward_audit::{AuditEntry, Outcome};
use ward_core::person::Role;
use ward_detect::{Alert, Verdict};

use super::{ApiJson, ApiQuery};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// An alert with its triage status.
#[derive(Debug, Serialize)]
pub struct AlertView {
    #[serde(flatten)]
    alert: serde_json::Value,
    status: String,
    decided_by: Option<String>,
    note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertQuery {
    status: Option<String>,
    identity: Option<String>,
    min_score: Option<i64>,
    limit: Option<i64>,
}

type AlertRow = (String, String, Option<String>, Option<String>);

fn view((body, status, decided_by, note): AlertRow) -> Option<AlertView> {
    Some(AlertView {
        alert: serde_json::from_str(&body).ok()?,
        status,
        decided_by,
        note,
    })
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<AlertQuery>,
) -> ApiResult<Json<Vec<AlertView>>> {
    caller
        .require(
            &state,
            &[Role::Admin, Role::Operator, Role::Auditor],
            "alerts.list",
        )
        .await?;
    if let Some(status) = query
        .status
        .as_deref()
        .filter(|s| !["open", "acknowledged", "false_positive"].contains(s))
    {
        return Err(ApiError::invalid(
            "status",
            format!("`{status}` is not open, acknowledged or false_positive"),
        ));
    }
    let limit = query.limit.unwrap_or(500);
    if !(1..=10_000).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be between 1 and 10000"));
    }
    let mut conn = state.store.reader().acquire().await?;
    let rows: Vec<AlertRow> = sqlx::query_as(
        "SELECT body, status, decided_by, note FROM alerts WHERE (?1 IS NULL OR status = ?1) \
         AND (?2 IS NULL OR identity = ?2) AND (?3 IS NULL OR score >= ?3) ORDER BY last_seen DESC LIMIT ?4",
    )
    .bind(&query.status)
    .bind(&query.identity)
    .bind(query.min_score)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    Ok(Json(rows.into_iter().filter_map(view).collect()))
}

async fn load(state: &AppState, id: &str) -> ApiResult<(Alert, AlertRow)> {
    let mut conn = state.store.reader().acquire().await?;
    let row: Option<AlertRow> =
        sqlx::query_as("SELECT body, status, decided_by, note FROM alerts WHERE id = ?")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    let row = row.ok_or_else(|| ApiError::not_found("alert", id))?;
    let alert: Alert = serde_json::from_str(&row.0)
        .map_err(|err| ApiError::internal("reading a stored alert", err))?;
    Ok((alert, row))
}

pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<AlertView>> {
    caller
        .require(
            &state,
            &[Role::Admin, Role::Operator, Role::Auditor],
            "alerts.show",
        )
        .await?;
    let (_, row) = load(&state, &id).await?;
    view(row)
        .map(Json)
        .ok_or_else(|| ApiError::internal("reading a stored alert", "invalid JSON"))
}

/// The alert as an OCSF Detection Finding (class 2004).
pub async fn ocsf(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    caller
        .require(
            &state,
            &[Role::Admin, Role::Operator, Role::Auditor],
            "alerts.show",
        )
        .await?;
    let (alert, _) = load(&state, &id).await?;
    Ok(Json(alert.to_ocsf()))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerdictBody {
    note: Option<String>,
}

/// Records a verdict: `acknowledge` keeps the baseline as it is;
/// `false-positive` teaches the observed behaviour to the identity's baseline.
pub async fn decide(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, verdict)): Path<(String, String)>,
    ApiJson(body): ApiJson<VerdictBody>,
) -> ApiResult<Json<AlertView>> {
    let (verdict, status) = match verdict.as_str() {
        "acknowledge" => (Verdict::Acknowledged, "acknowledged"),
        "false-positive" => (Verdict::FalsePositive, "false_positive"),
        other => return Err(ApiError::not_found("verdict", other)),
    };
    caller
        .require(&state, &[Role::Admin, Role::Operator], "alerts.decide")
        .await?;
    let (alert, _) = load(&state, &id).await?;
    let snapshot = {
        let mut engine = state.detection.engine.lock().await;
        if let Err(err) = engine.feedback(&alert, verdict) {
            tracing::warn!(alert = %id, error = %err, "alert feedback not applied to a baseline");
        }
        engine.take_dirty();
        engine.snapshot_identity(&alert.identity)
    };
    let now = state.now_text();
    let mut tx = state.store.begin_write().await?;
    sqlx::query(
        "UPDATE alerts SET status = ?, decided_by = ?, note = ?, updated_at = ? WHERE id = ?",
    )
    .bind(status)
    .bind(&caller.subject)
    .bind(&body.note)
    .bind(&now)
    .bind(&id)
    .execute(&mut *tx)
    .await?;
    if let Some(snapshot) = snapshot {
        sqlx::query(
            "INSERT INTO baselines (identity, snapshot, updated_at) VALUES (?, ?, ?) \
             ON CONFLICT(identity) DO UPDATE SET snapshot = excluded.snapshot, updated_at = excluded.updated_at",
        )
        .bind(&alert.identity)
        .bind(snapshot.to_string())
        .bind(&now)
        .execute(&mut *tx)
        .await?;
    }
    let entry = AuditEntry::new(
        &caller.subject,
        format!("alerts.{status}"),
        Outcome::Success,
    )
    .target(&id)
    .details(
        serde_json::json!({"identity": alert.identity, "score": alert.score, "note": body.note}),
    );
    ward_audit::append(&mut tx, state.now(), &entry).await?;
    tx.commit().await?;
    let (_, row) = load(&state, &id).await?;
    view(row)
        .map(Json)
        .ok_or_else(|| ApiError::internal("reading a stored alert", "invalid JSON"))
}
