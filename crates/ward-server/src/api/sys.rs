//! `/v1/sys`: health, the test clock and manual job runs.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use ward_audit::{AuditEntry, Outcome};
use ward_core::person::Role;

use super::ApiJson;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::jobs::{LifecycleReport, run_lifecycle_once};
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdvanceClock {
    advance: Option<String>,
}

#[derive(Serialize)]
pub struct ClockState {
    now: String,
    offset_seconds: i64,
}

/// Moves the test clock forward. Exists only when the server was started with
/// the test clock enabled.
pub async fn advance_clock(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<AdvanceClock>,
) -> ApiResult<Json<ClockState>> {
    let Some(clock) = state.manual_clock.clone() else {
        return Err(ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            "not_found",
            "the test clock is off: start the server with --test-clock to use /v1/sys/clock",
        ));
    };
    caller.require(&state, &[Role::Admin], "sys.clock").await?;
    let text = body.advance.ok_or_else(|| ApiError::missing("advance"))?;
    let by = ward_core::duration::parse_duration(&text)
        .map_err(|err| ApiError::invalid("advance", err.to_string()))?;
    clock.advance(by);
    let entry = AuditEntry::new(&caller.subject, "sys.clock", Outcome::Success)
        .details(serde_json::json!({"advance": text}));
    state.audit_alone(entry).await?;
    Ok(Json(ClockState {
        now: state.now_text(),
        offset_seconds: clock.offset().whole_seconds(),
    }))
}

/// Runs the lifecycle job now and returns what it changed.
pub async fn run_lifecycle(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<LifecycleReport>> {
    caller
        .require(&state, &[Role::Admin], "sys.jobs.lifecycle")
        .await?;
    Ok(Json(run_lifecycle_once(&state).await?))
}
