//! Scheduled rotation: secrets whose policy interval has passed on the
//! injected clock are rotated through their connector.

use serde::Serialize;
use time::Duration;

use super::connectors::find_target;
use super::{SYSTEM, rotate, vault_error};
use crate::error::ApiResult;
use crate::state::AppState;

/// Most secrets one run looks at; the rest wait for the next run.
const BATCH: u32 = 100;
/// Time after a failed scheduled rotation before the schedule tries the
/// secret again, so a broken target raises one alert per hour, not one per run.
const RETRY_AFTER: Duration = Duration::hours(1);

/// Result of one scheduled run, by secret path.
#[derive(Debug, Default, Serialize)]
pub struct ScheduleReport {
    /// Rotated secrets, with their new version.
    pub rotated: Vec<RotatedSecret>,
    /// Secrets whose rotation failed, with the error code.
    pub failed: Vec<FailedSecret>,
    /// Due secrets left alone because they have no rotation target: changing
    /// only the vault value would break the credential at its target.
    pub no_target: Vec<String>,
    /// Due secrets whose last scheduled rotation failed less than an hour ago.
    pub retry_later: Vec<String>,
}

/// A secret the schedule rotated.
#[derive(Debug, Serialize)]
pub struct RotatedSecret {
    pub path: String,
    pub version: u64,
    pub rotation_id: String,
}

/// A secret whose scheduled rotation failed.
#[derive(Debug, Serialize)]
pub struct FailedSecret {
    pub path: String,
    pub code: String,
    pub message: String,
}

/// Rotates every secret whose rotation interval has passed, one at a time.
pub async fn run_due_once(state: &AppState) -> ApiResult<ScheduleReport> {
    let now = state.now();
    let mut report = ScheduleReport::default();
    let due = {
        let mut conn = state.store.reader().acquire().await?;
        ward_vault::rotation::due(&mut conn, now, BATCH)
            .await
            .map_err(vault_error)?
    };
    for secret in due {
        let target = {
            let mut conn = state.store.reader().acquire().await?;
            find_target(&mut conn, &secret.path).await?
        };
        let Some(target) = target else {
            report.no_target.push(secret.path);
            continue;
        };
        if let (Some(at), Some(_)) = (&target.last_attempt_at, &target.last_error_code) {
            let failed_at = ward_core::clock::parse_timestamp(at)
                .map_err(|err| crate::error::ApiError::internal("reading last_attempt_at", err))?;
            if now < failed_at + RETRY_AFTER {
                report.retry_later.push(secret.path);
                continue;
            }
        }
        match rotate(state, &secret.path, None, SYSTEM).await {
            Ok(done) => report.rotated.push(RotatedSecret {
                path: done.path,
                version: done.version,
                rotation_id: done.rotation_id,
            }),
            Err(err) => report.failed.push(FailedSecret {
                path: secret.path,
                code: err.code.to_string(),
                message: err.message,
            }),
        }
    }
    if !report.no_target.is_empty() {
        tracing::warn!(secrets = ?report.no_target, "secrets are due for rotation but have no rotation target; set one with PUT /v1/vault/targets/PATH");
    }
    tracing::info!(
        rotated = report.rotated.len(),
        failed = report.failed.len(),
        no_target = report.no_target.len(),
        "rotation schedule finished"
    );
    Ok(report)
}
