//! Secret rotation through connectors, and dynamic PostgreSQL credentials.
//!
//! - [`rotate`] changes a secret's credential at its target through the
//!   connector named by the secret's rotation target, then makes the new
//!   value the current vault version. A failed target change keeps the old
//!   version current, is audited and raises an alert.
//! - [`run_due_once`] rotates secrets whose policy interval has passed on the
//!   injected clock; [`rotation_loop`] runs it, and the lease reaper, once a
//!   minute.
//! - `database`: Vault's database-engine endpoints, issuing a PostgreSQL
//!   login role per lease and dropping it when the lease expires or is
//!   revoked.
//!
//! Connector and dynamic configurations are encrypted by the vault barrier
//! before they are stored, because they hold admin passwords and signing
//! keys. The network call to a target never runs inside a store
//! transaction, since the store has a single writer connection.

mod alert;
mod connectors;
mod database;
mod leases;
mod recover;
mod rotate;
mod schedule;
mod sealed;

use std::time::Duration as StdDuration;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use serde::Serialize;
use ward_core::person::Role;
use ward_store::Schema;
use ward_vault::VaultError;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub use leases::{ReapReport, reap_once, request_bot_lease_revocation};
pub use rotate::{RotationReport, rotate};
pub use schedule::{ScheduleReport, run_due_once};

/// The tables for connectors, rotation targets, dynamic configurations and
/// leases.
pub const SCHEMA: Schema = Schema {
    component: "rotation",
    migrations: &[include_str!("../../migrations/rotation_001_initial.sql")],
};

/// Time between two runs of the rotation schedule and the lease reaper.
const LOOP_PERIOD: StdDuration = StdDuration::from_secs(60);

/// Actor name in audit entries written by the background jobs.
pub(crate) const SYSTEM: &str = "system";

/// Builds the connector, rotation-target, dynamic-credential and lease routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/vault/connectors", get(connectors::list_connectors))
        .route(
            "/v1/vault/connectors/{name}",
            put(connectors::put_connector)
                .get(connectors::get_connector)
                .delete(connectors::delete_connector),
        )
        .route(
            "/v1/vault/targets/{*path}",
            put(connectors::put_target)
                .get(connectors::get_target)
                .delete(connectors::delete_target),
        )
        .route("/v1/sys/jobs/rotation", post(run_jobs_now))
        .route(
            "/v1/database/config/{name}",
            put(database::put_config).get(database::get_config),
        )
        .route("/v1/database/creds/{name}", get(database::issue_creds))
        .route("/v1/sys/leases/revoke", put(database::revoke_lease))
        .route(
            "/v1/sys/leases/revoke/{*lease_id}",
            put(database::revoke_lease_by_path),
        )
        .route("/v1/sys/leases/renew", put(database::renew_lease))
}

/// Result of one run of the rotation jobs.
#[derive(Debug, Serialize)]
pub struct JobsReport {
    /// The scheduled rotations.
    pub schedule: ScheduleReport,
    /// The lease reaper.
    pub leases: ReapReport,
}

/// `POST /v1/sys/jobs/rotation`: runs the rotation schedule and the lease
/// reaper now and returns what they did.
async fn run_jobs_now(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<JobsReport>> {
    caller
        .require(&state, &[Role::Admin], "sys.jobs.rotation")
        .await?;
    let schedule = run_due_once(&state).await?;
    let leases = reap_once(&state).await?;
    Ok(Json(JobsReport { schedule, leases }))
}

/// Runs the rotation schedule and the lease reaper every minute until the
/// process ends. Both skip their work while the vault is sealed.
pub async fn rotation_loop(state: AppState) {
    let mut ticker = tokio::time::interval(LOOP_PERIOD);
    ticker.tick().await;
    loop {
        ticker.tick().await;
        if state.vault.barrier.is_sealed() {
            continue;
        }
        if let Err(err) = run_due_once(&state).await {
            tracing::error!(code = err.code, message = %err.message, "rotation schedule failed; retrying at the next tick");
        }
        if let Err(err) = reap_once(&state).await {
            tracing::error!(code = err.code, message = %err.message, "lease reaper failed; retrying at the next tick");
        }
    }
}

/// Maps a vault error to Ward's error shape.
pub(crate) fn vault_error(err: VaultError) -> ApiError {
    match &err {
        VaultError::Sealed | VaultError::NotInitialized => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "sealed",
            "the vault is sealed: unseal it with `ward operator unseal`",
        ),
        VaultError::InvalidPath { .. } => ApiError::invalid("path", err.to_string()),
        VaultError::KeyNotFound(path) => ApiError::not_found("secret", path),
        _ => ApiError::internal("vault operation", &err),
    }
}
