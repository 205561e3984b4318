//! Activity ingestion and behavioural detection inside the server.
//!
//! Events arrive over `POST /v1/events` and from Ward's own audit log (vault
//! pulls, logins, grants and denials). Each new event is stored once, keyed by
//! its id, and run through the same [`ward_detect::Engine`] that `ward detect
//! replay` uses. Alerts and the baselines that changed are written in the same
//! transaction as the events, so a restart neither forgets what normal looks
//! like nor raises the same alert twice.

mod ingest;
mod own;

use std::sync::Arc;

use tokio::sync::{Mutex, Semaphore};
use ward_detect::Engine;
use ward_store::Schema;

pub use ingest::{IngestSummary, Rejected, ingest};
pub use own::{audit_tail_loop, ingest_audit_tail};

/// The tables for events, alerts, baselines and scanner findings.
pub const ACTIVITY_SCHEMA: Schema = Schema {
    component: "activity",
    migrations: &[include_str!("../../migrations/activity_001_initial.sql")],
};

/// Most events one `POST /v1/events` batch may carry.
pub const MAX_BATCH_EVENTS: usize = 10_000;
/// Batches processed at once; more wait for a 429 and retry.
pub const CONCURRENT_BATCHES: usize = 2;

/// The detection engine and the ingestion back-pressure gate.
pub struct Detection {
    pub engine: Mutex<Engine>,
    pub permits: Semaphore,
}

impl std::fmt::Debug for Detection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Detection(..)")
    }
}

impl Detection {
    /// Builds the engine and restores every stored baseline into it.
    pub async fn load(pool: &sqlx::SqlitePool) -> Result<Arc<Detection>, sqlx::Error> {
        let mut engine = Engine::new(ward_detect::Config::default());
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT identity, snapshot FROM baselines")
                .fetch_all(pool)
                .await?;
        let mut restored = 0usize;
        for (identity, snapshot) in rows {
            let restored_one = serde_json::from_str(&snapshot)
                .map_err(|err| err.to_string())
                .and_then(|value| {
                    engine
                        .restore_identity(value)
                        .map_err(|err| err.to_string())
                });
            match restored_one {
                Ok(_) => restored += 1,
                Err(err) => {
                    tracing::error!(identity, error = %err, "baseline could not be restored; it starts over")
                }
            }
        }
        tracing::info!(restored, "detection baselines loaded");
        Ok(Arc::new(Detection {
            engine: Mutex::new(engine),
            permits: Semaphore::new(CONCURRENT_BATCHES),
        }))
    }
}
