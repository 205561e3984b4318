//! `/v1/events`: activity ingestion in JSON-lines batches, and event listing.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use ward_core::event::Event;
use ward_core::person::Role;

use super::ApiQuery;
use crate::activity::{IngestSummary, MAX_BATCH_EVENTS, Rejected, ingest};
use crate::api::audit::parse_time_bound;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Accepts up to 10,000 events as JSON lines (Ward's event model, as `ward
/// ingest` sends). Malformed lines are reported by number; the rest is kept.
/// When two batches are already being processed the answer is 429 with
/// `Retry-After`, so senders slow down instead of queueing without bound.
pub async fn ingest_batch(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<Response> {
    caller
        .require(&state, &[Role::Admin, Role::Operator], "events.ingest")
        .await?;
    let Ok(_permit) = state.detection.permits.try_acquire() else {
        let mut response = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "busy",
            "ingestion is at capacity; retry after a second",
        )
        .into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return Ok(response);
    };
    let text = std::str::from_utf8(&body).map_err(|err| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_body",
            format!("the body is not UTF-8: {err}"),
        )
    })?;
    let mut events = Vec::new();
    let mut rejected = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        if events.len() + rejected.len() >= MAX_BATCH_EVENTS {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "batch_too_large",
                format!("a batch holds at most {MAX_BATCH_EVENTS} events; split the upload"),
            ));
        }
        match serde_json::from_str::<Event>(line) {
            Ok(event) if event.uid.trim().is_empty() => rejected.push(Rejected {
                line: index + 1,
                error: "`uid` must not be empty".into(),
            }),
            Ok(event) if event.actor.uid.trim().is_empty() => rejected.push(Rejected {
                line: index + 1,
                error: "`actor.uid` must not be empty".into(),
            }),
            Ok(event) => events.push(event),
            Err(err) => rejected.push(Rejected {
                line: index + 1,
                error: err.to_string(),
            }),
        }
    }
    let summary: IngestSummary = ingest(&state, &caller.subject, events, rejected).await?;
    Ok(Json(summary).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventQuery {
    identity: Option<String>,
    source: Option<String>,
    since: Option<String>,
    limit: Option<i64>,
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<EventQuery>,
) -> ApiResult<Json<Vec<serde_json::Value>>> {
    caller
        .require(
            &state,
            &[Role::Admin, Role::Operator, Role::Auditor],
            "events.list",
        )
        .await?;
    let limit = query.limit.unwrap_or(1000);
    if !(1..=10_000).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be between 1 and 10000"));
    }
    let since = query
        .since
        .as_deref()
        .map(|s| parse_time_bound("since", s, state.now()))
        .transpose()?;
    let mut conn = state.store.reader().acquire().await?;
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT body FROM events WHERE (?1 IS NULL OR identity = ?1) AND (?2 IS NULL OR source = ?2) \
         AND (?3 IS NULL OR time >= ?3) ORDER BY time, uid LIMIT ?4",
    )
    .bind(&query.identity)
    .bind(&query.source)
    .bind(&since)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let events = rows
        .into_iter()
        .filter_map(|(body,)| serde_json::from_str(&body).ok())
        .collect();
    Ok(Json(events))
}
