//! Ward's own activity as events: vault pulls, logins, grants and denials are
//! read from the audit log, which is the record of them, so no part of the
//! server needs to remember to report activity separately.

use std::time::Duration as StdDuration;

use ward_audit::AuditRecord;
use ward_core::event::{Actor, Event, EventClass, FailureClass, IdentityKind, Status, Volume};

use super::ingest;
use crate::error::ApiResult;
use crate::state::AppState;

const CURSOR: &str = "audit";
/// Audit entries turned into events per pass.
const PASS_SIZE: i64 = 5_000;

/// Turns audit entries after the stored cursor into events and ingests them.
/// Returns how many entries it read.
pub async fn ingest_audit_tail(state: &AppState) -> ApiResult<usize> {
    let after: i64 = {
        let mut conn = state.store.reader().acquire().await?;
        sqlx::query_scalar("SELECT seq FROM activity_cursor WHERE name = ?")
            .bind(CURSOR)
            .fetch_optional(&mut *conn)
            .await?
            .unwrap_or(0)
    };
    let records: Vec<AuditRecord> = {
        let mut conn = state.store.reader().acquire().await?;
        sqlx::query_as(
            "SELECT seq, at, actor, action, bot, target, outcome, details, prev_hash, hash FROM audit_log \
             WHERE seq > ? ORDER BY seq LIMIT ?",
        )
        .bind(after)
        .bind(PASS_SIZE)
        .fetch_all(&mut *conn)
        .await?
    };
    let Some(last) = records.last().map(|r| r.seq) else {
        return Ok(0);
    };
    let events: Vec<Event> = records.iter().filter_map(event_from_audit).collect();
    if !events.is_empty() {
        ingest(state, "system", events, Vec::new()).await?;
    }
    let mut tx = state.store.begin_write().await?;
    sqlx::query("INSERT INTO activity_cursor (name, seq) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET seq = excluded.seq")
        .bind(CURSOR)
        .bind(last)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(records.len())
}

/// Maps an audit entry to an event when it is activity of a bot, a sign-in,
/// or a denial. Ward's own bookkeeping (ingestion, checkpoints) is skipped.
pub fn event_from_audit(record: &AuditRecord) -> Option<Event> {
    let is_auth = record.action.starts_with("auth.")
        || record.action.starts_with("approle.")
        || record.action.starts_with("token.");
    let denied = record.outcome == "denied";
    if record.action == "events.ingest" || record.action.starts_with("server.") {
        return None;
    }
    if record.bot.is_none() && (record.actor == "system" || (!is_auth && !denied)) {
        return None;
    }
    let time = ward_core::clock::parse_timestamp(&record.at).ok()?;
    let actor = match &record.bot {
        Some(bot) => Actor::new(format!("ward:{bot}"), IdentityKind::WardBot),
        None if record.actor == "anonymous" => {
            Actor::new("ward:anonymous", IdentityKind::Anonymous)
        }
        None => Actor::new(format!("ward:{}", record.actor), IdentityKind::WardOperator),
    };
    let (status, failure) = match record.outcome.as_str() {
        "success" => (Status::Success, None),
        "denied" if is_auth => (Status::Failure, Some(FailureClass::AuthFailed)),
        "denied" => (Status::Failure, Some(FailureClass::PermissionDenied)),
        _ => (Status::Failure, Some(FailureClass::Error)),
    };
    Some(Event {
        uid: format!("ward-audit-{}", record.seq),
        time,
        class: if is_auth {
            EventClass::Authentication
        } else {
            EventClass::ApiActivity
        },
        actor,
        operation: record.action.clone(),
        service: "ward".to_string(),
        resource: record.target.clone(),
        status,
        failure,
        status_code: None,
        status_detail: None,
        src_ip: None,
        user_agent: None,
        volume: Volume::default(),
        session_uid: None,
        secret_read: record.action == "secret.read" && record.outcome == "success",
        source: "ward".to_string(),
        partial: false,
    })
}

/// Runs [`ingest_audit_tail`] every few seconds until the process ends.
pub async fn audit_tail_loop(state: AppState) {
    let mut ticker = tokio::time::interval(StdDuration::from_secs(2));
    loop {
        ticker.tick().await;
        if let Err(err) = ingest_audit_tail(&state).await {
            tracing::error!(code = err.code, message = %err.message, "feeding Ward's own activity to detection failed; retrying");
        }
    }
}
