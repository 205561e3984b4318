//! Storing a batch of events and scoring the new ones.

use serde::Serialize;
use ward_audit::{AuditEntry, Outcome};
use ward_core::event::Event;
use ward_detect::Alert;

use crate::error::ApiResult;
use crate::state::AppState;

/// A line of a batch that was not accepted.
#[derive(Debug, Clone, Serialize)]
pub struct Rejected {
    /// 1-based line number in the request body.
    pub line: usize,
    pub error: String,
}

/// What a batch did.
#[derive(Debug, Default, Serialize)]
pub struct IngestSummary {
    pub accepted: usize,
    pub duplicates: usize,
    pub rejected: Vec<Rejected>,
    pub alerts: usize,
}

/// Stores `events` (skipping ids already stored), runs the new ones through
/// the engine, and writes alerts, changed baselines and one audit entry, all
/// in one transaction. `actor` is who sent the batch.
pub async fn ingest(
    state: &AppState,
    actor: &str,
    events: Vec<Event>,
    mut rejected: Vec<Rejected>,
) -> ApiResult<IngestSummary> {
    let detection = state.detection.clone();
    let now = state.now();
    let now_text = ward_core::clock::format_timestamp(now);
    let mut tx = state.store.begin_write().await?;

    let mut fresh = Vec::with_capacity(events.len());
    let mut duplicates = 0;
    for event in events {
        let body = match serde_json::to_string(&event) {
            Ok(body) => body,
            Err(err) => {
                rejected.push(Rejected {
                    line: 0,
                    error: format!("event `{}` cannot be encoded: {err}", event.uid),
                });
                continue;
            }
        };
        let inserted = sqlx::query(
            "INSERT OR IGNORE INTO events (uid, time, identity, source, body, ingested_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&event.uid)
        .bind(ward_core::clock::format_timestamp(event.time))
        .bind(&event.actor.uid)
        .bind(&event.source)
        .bind(&body)
        .bind(&now_text)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 1 {
            fresh.push(event);
        } else {
            duplicates += 1;
        }
    }

    let (alerts, snapshots) = {
        let mut engine = detection.engine.lock().await;
        let mut alerts = engine.process_batch(fresh.iter());
        // Hours that ended before the newest event are closed and scored now,
        // which runs the hourly detectors and the Random Cut Forest.
        if let Some(newest) = fresh.iter().map(|event| event.time).max() {
            alerts.extend(engine.advance_to(newest));
            alerts = ward_detect::latest_revisions(alerts);
        }
        let dirty = engine.take_dirty();
        let snapshots: Vec<(String, Option<serde_json::Value>)> = dirty
            .into_iter()
            .map(|uid| {
                let snap = engine.snapshot_identity(&uid);
                (uid, snap)
            })
            .collect();
        (alerts, snapshots)
    };
    for alert in &alerts {
        store_alert(&mut tx, alert, &now_text).await?;
    }
    for (identity, snapshot) in snapshots {
        let Some(snapshot) = snapshot else { continue };
        sqlx::query(
            "INSERT INTO baselines (identity, snapshot, updated_at) VALUES (?, ?, ?) \
             ON CONFLICT(identity) DO UPDATE SET snapshot = excluded.snapshot, updated_at = excluded.updated_at",
        )
        .bind(&identity)
        .bind(snapshot.to_string())
        .bind(&now_text)
        .execute(&mut *tx)
        .await?;
    }
    let summary = IngestSummary {
        accepted: fresh.len(),
        duplicates,
        rejected,
        alerts: alerts.len(),
    };
    let entry =
        AuditEntry::new(actor, "events.ingest", Outcome::Success).details(serde_json::json!({
            "accepted": summary.accepted, "duplicates": summary.duplicates,
            "rejected": summary.rejected.len(), "alerts": summary.alerts,
        }));
    ward_audit::append(&mut tx, now, &entry).await?;
    tx.commit().await?;
    if summary.alerts > 0 {
        tracing::warn!(alerts = summary.alerts, "detection raised alerts");
    }
    Ok(summary)
}

/// Inserts an alert, or replaces an earlier revision of it. A person's
/// decision on the alert is kept.
async fn store_alert(conn: &mut sqlx::SqliteConnection, alert: &Alert, now: &str) -> ApiResult<()> {
    let body = serde_json::to_string(alert)
        .map_err(|err| crate::error::ApiError::internal("encoding an alert", err))?;
    sqlx::query(
        "INSERT INTO alerts (id, identity, score, status, revision, last_seen, body, updated_at) \
         VALUES (?, ?, ?, 'open', ?, ?, ?, ?) \
         ON CONFLICT(id) DO UPDATE SET score = excluded.score, revision = excluded.revision, \
         last_seen = excluded.last_seen, body = excluded.body, updated_at = excluded.updated_at \
         WHERE excluded.revision >= alerts.revision",
    )
    .bind(&alert.id)
    .bind(&alert.identity)
    .bind(i64::from(alert.score))
    .bind(i64::from(alert.revision))
    .bind(ward_core::clock::format_timestamp(alert.last_seen))
    .bind(body)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}
