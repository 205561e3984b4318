//! `/v1/audit`: queries over the audit log and online verification.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use time::OffsetDateTime;
use ward_audit::{AuditEntry, AuditFilter, AuditRecord, Outcome, VerifyError, VerifyReport};
use ward_core::person::Role;

use super::ApiQuery;
use super::bots::find_bot;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Largest number of entries one query returns.
pub const MAX_LIMIT: i64 = 10_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    bot: Option<String>,
    actor: Option<String>,
    action: Option<String>,
    since: Option<String>,
    until: Option<String>,
    limit: Option<i64>,
}

/// Parses `7d`-style durations as "that long ago", or an RFC 3339 time.
pub fn parse_time_bound(field: &str, text: &str, now: OffsetDateTime) -> ApiResult<String> {
    if let Ok(at) = ward_core::clock::parse_timestamp(text) {
        return Ok(ward_core::clock::format_timestamp(at));
    }
    let ago = ward_core::duration::parse_duration(text).map_err(|_| {
        ApiError::invalid(
            field,
            format!("`{text}` is neither a duration such as 7d or 12h nor an RFC 3339 time"),
        )
    })?;
    Ok(ward_core::clock::format_timestamp(now - ago))
}

pub async fn query(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> ApiResult<Json<Vec<AuditRecord>>> {
    caller
        .require(&state, &[Role::Admin, Role::Auditor], "audit.query")
        .await?;
    let now = state.now();
    let limit = query.limit.unwrap_or(1000);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            format!("must be between 1 and {MAX_LIMIT}"),
        ));
    }
    let mut conn = state.store.reader().acquire().await?;
    let bot = match &query.bot {
        Some(reference) => Some(find_bot(&mut conn, reference).await?.id),
        None => None,
    };
    let filter = AuditFilter {
        bot,
        actor: query.actor.clone(),
        action: query.action.clone(),
        since: query
            .since
            .as_deref()
            .map(|s| parse_time_bound("since", s, now))
            .transpose()?,
        until: query
            .until
            .as_deref()
            .map(|s| parse_time_bound("until", s, now))
            .transpose()?,
        limit,
    };
    let records = ward_audit::query(&mut conn, &filter).await?;
    drop(conn);
    let entry = AuditEntry::new(&caller.subject, "audit.query", Outcome::Success).details(serde_json::json!({
        "bot": filter.bot, "actor": filter.actor, "action": filter.action, "since": filter.since,
        "until": filter.until, "returned": records.len(),
    }));
    state.audit_alone(entry).await?;
    Ok(Json(records))
}

/// Verifies the chain of the running server with its own public key.
pub async fn verify(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<VerifyReport>> {
    caller
        .require(&state, &[Role::Admin, Role::Auditor], "audit.verify")
        .await?;
    match ward_audit::verify(state.store.reader(), &state.signer.verifying_key()).await {
        Ok(report) => Ok(Json(report)),
        Err(VerifyError::Broken(failure)) => {
            tracing::error!(seq = failure.seq, reason = %failure.reason, "audit chain verification failed");
            Err(ApiError::conflict(
                "audit_chain_broken",
                format!(
                    "audit chain broken at sequence {}: {}",
                    failure.seq, failure.reason
                ),
            ))
        }
        Err(VerifyError::Database(err)) => Err(err.into()),
    }
}
