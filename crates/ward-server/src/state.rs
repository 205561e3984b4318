//! Shared state handed to every request handler.

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use time::OffsetDateTime;
use ward_audit::{AuditEntry, CheckpointSigner};
use ward_core::clock::{ManualClock, SharedClock};
use ward_store::Store;

use crate::ServerConfig;
use crate::error::ApiResult;
use crate::keys::ServerKeys;

/// What handlers and jobs share. Cloning is cheap.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub clock: SharedClock,
    /// Present when the test clock is enabled; `POST /v1/sys/clock` moves it.
    pub manual_clock: Option<ManualClock>,
    pub keys: Arc<ServerKeys>,
    pub signer: Arc<CheckpointSigner>,
    pub config: Arc<ServerConfig>,
    pub metrics: Option<PrometheusHandle>,
    pub detection: Arc<crate::activity::Detection>,
    /// The vault: seal state and keys while unsealed.
    pub vault: Arc<crate::vault_api::VaultState>,
}

impl AppState {
    /// The current time on the injected clock.
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// The current time as stored text.
    pub fn now_text(&self) -> String {
        ward_core::clock::format_timestamp(self.now())
    }

    /// Appends `entry` in its own transaction, for events that change nothing
    /// else, such as a denial.
    pub async fn audit_alone(&self, entry: AuditEntry) -> ApiResult<()> {
        let mut tx = self.store.begin_write().await?;
        ward_audit::append(&mut tx, self.now(), &entry).await?;
        tx.commit().await?;
        Ok(())
    }
}
