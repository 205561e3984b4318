//! `/v1/bots/{id}/workflows`: versions of the RPA files and scripts a bot runs.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use base64::Engine as _;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use ward_audit::{AuditEntry, Outcome};
use ward_core::id::WorkflowVersionId;
use ward_core::person::Role;
use ward_store::workflows::{self, WorkflowVersion};

use super::ApiJson;
use super::bots::find_bot;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadWorkflow {
    /// File name of the workflow, such as `Main.xaml`.
    name: Option<String>,
    /// Content as UTF-8 text.
    content: Option<String>,
    /// Content as base64, for binary files such as `.nupkg`.
    content_base64: Option<String>,
    /// What changed in this version.
    summary: Option<String>,
}

/// Stores a new version of a workflow with its content hash. The content
/// itself is not kept: Ward records what changed, who changed it and when.
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UploadWorkflow>,
) -> ApiResult<(StatusCode, Json<WorkflowVersion>)> {
    caller
        .require(&state, &[Role::Admin, Role::Builder], "workflow.upload")
        .await?;
    let name = body
        .name
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::missing("name"))?;
    if name.len() > 255 || name.contains(['/', '\\']) || name.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "name",
            "must be a file name of at most 255 characters, without `/` or `\\`",
        ));
    }
    let content = match (body.content, body.content_base64) {
        (Some(text), None) => text.into_bytes(),
        (None, Some(encoded)) => base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|err| {
                ApiError::invalid("content_base64", format!("is not valid base64: {err}"))
            })?,
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "content",
                "give either `content` or `content_base64`, not both",
            ));
        }
        (None, None) => return Err(ApiError::missing("content")),
    };
    let summary = body
        .summary
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::missing("summary"))?;
    ward_core::validate::check_reason(&summary).map_err(|msg| ApiError::invalid("summary", msg))?;

    let now = state.now();
    let outside_hours = state
        .config
        .working_window()
        .map(|window| !window.contains(now))
        .map_err(|err| ApiError::internal("reading working hours", err))?;
    let sha256 = hex::encode(Sha256::digest(&content));

    let mut tx = state.store.begin_write().await?;
    let bot = find_bot(&mut tx, &id).await?;
    if bot.state == "retired" {
        return Err(ApiError::conflict(
            "bot_retired",
            format!("bot `{}` is retired; its workflows are frozen", bot.name),
        ));
    }
    let previous = workflows::latest(&mut tx, &bot.id, &name).await?;
    if previous
        .as_ref()
        .is_some_and(|p| p.content_sha256 == sha256)
    {
        return Err(ApiError::conflict(
            "unchanged",
            format!("`{name}` already has this content as its latest version"),
        ));
    }
    let row = WorkflowVersion {
        id: WorkflowVersionId::generate().to_string(),
        bot_id: bot.id.clone(),
        name,
        version: previous.as_ref().map_or(1, |p| p.version + 1),
        content_sha256: sha256,
        size_bytes: i64::try_from(content.len()).unwrap_or(i64::MAX),
        summary,
        changed_by: caller.subject.clone(),
        changed_at: ward_core::clock::format_timestamp(now),
        outside_working_hours: outside_hours,
    };
    workflows::insert(&mut tx, &row).await?;
    let entry = AuditEntry::new(&caller.subject, "workflow.upload", Outcome::Success)
        .bot(&bot.id)
        .target(&row.id)
        .details(serde_json::json!({
            "name": row.name, "version": row.version, "sha256": row.content_sha256,
            "previous_sha256": previous.map(|p| p.content_sha256), "summary": row.summary,
            "outside_working_hours": outside_hours,
        }));
    ward_audit::append(&mut tx, now, &entry).await?;
    tx.commit().await?;
    if outside_hours {
        tracing::warn!(bot = %bot.id, workflow = %row.name, "workflow changed outside working hours");
    }
    Ok((StatusCode::CREATED, Json(row)))
}

pub async fn list(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<WorkflowVersion>>> {
    let mut conn = state.store.reader().acquire().await?;
    let bot = find_bot(&mut conn, &id).await?;
    Ok(Json(workflows::list_for_bot(&mut conn, &bot.id).await?))
}
