//! `/v1/requests`: requests for privilege on a bot, with separation of duties.
//!
//! The server enforces two rules when a request is decided: nobody approves
//! their own request, and nobody who built the bot (registered it or uploaded
//! one of its workflows) approves privilege for it.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use ward_audit::{AuditEntry, Outcome};
use ward_core::id::RequestId;
use ward_core::person::Role;
use ward_store::requests::{self, AccessRequest};
use ward_store::workflows;

use super::bots::find_bot;
use super::{ApiJson, ApiQuery};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRequest {
    bot: Option<String>,
    privilege: Option<String>,
    justification: Option<String>,
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateRequest>,
) -> ApiResult<(StatusCode, Json<AccessRequest>)> {
    caller
        .require(
            &state,
            &[Role::Admin, Role::Builder, Role::Operator],
            "request.create",
        )
        .await?;
    let bot_ref = body
        .bot
        .filter(|b| !b.trim().is_empty())
        .ok_or_else(|| ApiError::missing("bot"))?;
    let privilege = body
        .privilege
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .ok_or_else(|| ApiError::missing("privilege"))?;
    if privilege.len() > 200 {
        return Err(ApiError::invalid(
            "privilege",
            "must be at most 200 characters",
        ));
    }
    let justification = body.justification.unwrap_or_default();
    ward_core::validate::check_reason(&justification)
        .map_err(|msg| ApiError::invalid("justification", msg))?;

    let mut tx = state.store.begin_write().await?;
    let bot = find_bot(&mut tx, &bot_ref).await?;
    if bot.state != "active" {
        return Err(ApiError::conflict(
            "bot_not_active",
            format!(
                "bot `{}` is {}; privilege is only requested for active bots",
                bot.name, bot.state
            ),
        ));
    }
    let row = AccessRequest {
        id: RequestId::generate().to_string(),
        bot_id: bot.id.clone(),
        privilege,
        justification: justification.trim().to_string(),
        requested_by: caller.subject.clone(),
        status: "pending".to_string(),
        decided_by: None,
        decided_at: None,
        decision_note: None,
        created_at: state.now_text(),
    };
    requests::insert(&mut tx, &row).await?;
    let entry = AuditEntry::new(&caller.subject, "request.create", Outcome::Success)
        .bot(&bot.id)
        .target(&row.id)
        .details(
            serde_json::json!({"privilege": row.privilege, "justification": row.justification}),
        );
    ward_audit::append(&mut tx, state.now(), &entry).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(row)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    status: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    _caller: Caller,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Json<Vec<AccessRequest>>> {
    if let Some(status) = query
        .status
        .as_deref()
        .filter(|s| !["pending", "approved", "denied"].contains(s))
    {
        return Err(ApiError::invalid(
            "status",
            format!("`{status}` is not pending, approved or denied"),
        ));
    }
    let mut conn = state.store.reader().acquire().await?;
    Ok(Json(
        requests::list(&mut conn, query.status.as_deref()).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    note: Option<String>,
}

pub async fn decide(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, decision)): Path<(String, String)>,
    ApiJson(body): ApiJson<DecisionBody>,
) -> ApiResult<Json<AccessRequest>> {
    let status = match decision.as_str() {
        "approve" => "approved",
        "deny" => "denied",
        other => return Err(ApiError::not_found("decision", other)),
    };
    let action = format!("request.{decision}");
    caller.require(&state, &[Role::Approver], &action).await?;
    ward_core::id::RequestId::parse(&id).map_err(|err| ApiError::invalid("id", err.to_string()))?;

    let mut tx = state.store.begin_write().await?;
    let request = requests::find(&mut tx, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("request", &id))?;
    if request.status != "pending" {
        return Err(ApiError::conflict(
            "already_decided",
            format!("request `{id}` is already {}", request.status),
        ));
    }
    let refusal = match status {
        "approved" => separation_of_duties(&mut tx, &caller, &request).await?,
        _ => None,
    };
    if let Some(refusal) = refusal {
        drop(tx);
        let entry = AuditEntry::new(&caller.subject, &action, Outcome::Denied)
            .bot(&request.bot_id)
            .target(&request.id)
            .details(serde_json::json!({"reason": refusal.message}));
        state.audit_alone(entry).await?;
        return Err(refusal);
    }
    let now = state.now_text();
    requests::decide(
        &mut tx,
        &id,
        status,
        &caller.subject,
        &now,
        body.note.as_deref(),
    )
    .await?;
    let entry = AuditEntry::new(&caller.subject, &action, Outcome::Success)
        .bot(&request.bot_id)
        .target(&request.id)
        .details(serde_json::json!({"privilege": request.privilege, "requested_by": request.requested_by, "note": body.note}));
    ward_audit::append(&mut tx, state.now(), &entry).await?;
    let updated = requests::find(&mut tx, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("request", &id))?;
    tx.commit().await?;
    Ok(Json(updated))
}

/// Returns the refusal when `caller` may not approve `request`.
async fn separation_of_duties(
    conn: &mut sqlx::SqliteConnection,
    caller: &Caller,
    request: &AccessRequest,
) -> ApiResult<Option<ApiError>> {
    if request.requested_by == caller.subject {
        return Ok(Some(ApiError::forbidden(
            "sod_self_approval",
            "separation of duties: nobody approves their own request",
        )));
    }
    let bot = find_bot(conn, &request.bot_id).await?;
    let built_workflow = workflows::list_for_bot(conn, &bot.id)
        .await?
        .iter()
        .any(|w| w.changed_by == caller.subject);
    if bot.created_by == caller.subject || built_workflow {
        return Ok(Some(ApiError::forbidden(
            "sod_builder_approval",
            format!(
                "separation of duties: the builder of bot `{}` may not approve privilege for it",
                bot.name
            ),
        )));
    }
    Ok(None)
}
