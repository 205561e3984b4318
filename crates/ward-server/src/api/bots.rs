//! `/v1/bots`: the inventory and the lifecycle.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use ward_audit::{AuditEntry, Outcome};
use ward_core::bot::{BotState, Platform, Transition, apply_transition};
use ward_core::id::BotId;
use ward_core::person::Role;
use ward_store::bots::{self, Bot, BotFilter};
use ward_store::people::{self, Person};

use super::{ApiJson, ApiQuery};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBot {
    name: Option<String>,
    purpose: Option<String>,
    owner: Option<String>,
    backup_owner: Option<String>,
    platform: Option<String>,
    review_by: Option<String>,
}

/// A bot as the API returns it.
#[derive(Debug, Serialize)]
pub struct BotView {
    #[serde(flatten)]
    pub bot: Bot,
    pub review_overdue: bool,
}

impl From<Bot> for BotView {
    fn from(bot: Bot) -> Self {
        BotView {
            review_overdue: bot.review_overdue_since.is_some(),
            bot,
        }
    }
}

fn required(value: Option<String>, field: &str) -> ApiResult<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::missing(field))
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateBot>,
) -> ApiResult<(StatusCode, Json<BotView>)> {
    caller
        .require(&state, &[Role::Admin, Role::Builder], "bot.create")
        .await?;
    let name = required(body.name, "name")?;
    ward_core::validate::check_bot_name(&name).map_err(|msg| ApiError::invalid("name", msg))?;
    let purpose = required(body.purpose, "purpose")?;
    ward_core::validate::check_purpose(&purpose)
        .map_err(|msg| ApiError::invalid("purpose", msg))?;
    let owner_ref = required(body.owner, "owner")?;
    let backup_ref = required(body.backup_owner, "backup_owner")?;
    let platform: Platform = required(body.platform, "platform")?.parse().map_err(
        |err: ward_core::bot::UnknownPlatform| ApiError::invalid("platform", err.to_string()),
    )?;
    let now = state.now();
    let review_by = match body.review_by {
        Some(text) => parse_review_date(&text, now, state.config.review_max_days)?,
        None => now + time::Duration::days(state.config.review_default_days),
    };

    let mut tx = state.store.begin_write().await?;
    let owner = active_person(&mut tx, &owner_ref, "owner").await?;
    let backup = active_person(&mut tx, &backup_ref, "backup_owner").await?;
    if owner.id == backup.id {
        return Err(ApiError::invalid(
            "backup_owner",
            "must be a different person from the owner",
        ));
    }
    let now_text = ward_core::clock::format_timestamp(now);
    let bot = Bot {
        id: BotId::generate().to_string(),
        name,
        purpose,
        owner_id: owner.id,
        backup_owner_id: backup.id,
        platform: platform.as_str().to_string(),
        state: BotState::Active.as_str().to_string(),
        state_reason: None,
        review_by: ward_core::clock::format_timestamp(review_by),
        review_overdue_since: None,
        owner_flag: None,
        created_by: caller.subject.clone(),
        created_at: now_text.clone(),
        updated_at: now_text,
    };
    if let Err(err) = bots::insert(&mut tx, &bot).await {
        if err.is_unique_violation() {
            return Err(ApiError::conflict(
                "duplicate",
                format!("a bot named `{}` already exists", bot.name),
            )
            .with_field("name"));
        }
        return Err(err.into());
    }
    let entry = AuditEntry::new(&caller.subject, "bot.create", Outcome::Success).bot(&bot.id).details(serde_json::json!({
        "name": bot.name, "platform": bot.platform, "owner": bot.owner_id, "backup_owner": bot.backup_owner_id,
        "review_by": bot.review_by,
    }));
    ward_audit::append(&mut tx, now, &entry).await?;
    tx.commit().await?;
    tracing::info!(bot = %bot.id, name = %bot.name, "bot registered");
    Ok((StatusCode::CREATED, Json(bot.into())))
}

/// Parses a review date (`YYYY-MM-DD` or RFC 3339) that must lie in the
/// future and no further than `max_days` ahead.
fn parse_review_date(text: &str, now: OffsetDateTime, max_days: i64) -> ApiResult<OffsetDateTime> {
    let parsed = ward_core::clock::parse_timestamp(text).ok().or_else(|| {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        time::Date::parse(text, &format)
            .ok()
            .map(|d| d.midnight().assume_utc())
    });
    let Some(at) = parsed else {
        return Err(ApiError::invalid(
            "review_by",
            format!("`{text}` is not a date: use YYYY-MM-DD or RFC 3339"),
        ));
    };
    if at <= now {
        return Err(ApiError::invalid("review_by", "must be in the future"));
    }
    if at > now + time::Duration::days(max_days) {
        return Err(ApiError::invalid(
            "review_by",
            format!("may be at most {max_days} days ahead (the configured review_max_days)"),
        ));
    }
    Ok(at)
}

async fn active_person(
    conn: &mut sqlx::SqliteConnection,
    reference: &str,
    field: &str,
) -> ApiResult<Person> {
    let person = people::find(conn, reference).await?.ok_or_else(|| {
        ApiError::invalid(
            field,
            format!("names no known person: `{reference}`; add them with `ward person add`"),
        )
    })?;
    if person.status != "active" {
        return Err(ApiError::invalid(
            field,
            format!("`{}` has left; choose an active person", person.email),
        ));
    }
    Ok(person)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    state: Option<String>,
    owner: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    _caller: Caller,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Json<Vec<BotView>>> {
    if let Some(s) = &query.state {
        s.parse::<BotState>()
            .map_err(|err| ApiError::invalid("state", err.to_string()))?;
    }
    let mut conn = state.store.reader().acquire().await?;
    let owner_id = match &query.owner {
        Some(reference) => Some(
            people::find(&mut conn, reference)
                .await?
                .ok_or_else(|| {
                    ApiError::invalid("owner", format!("names no known person: `{reference}`"))
                })?
                .id,
        ),
        None => None,
    };
    let filter = BotFilter {
        state: query.state,
        owner_id,
    };
    Ok(Json(
        bots::list(&mut conn, &filter)
            .await?
            .into_iter()
            .map(BotView::from)
            .collect(),
    ))
}

pub async fn show(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<BotView>> {
    let mut conn = state.store.reader().acquire().await?;
    Ok(Json(find_bot(&mut conn, &id).await?.into()))
}

/// Finds a bot by id or name; an id of another kind is a 400, not a miss.
pub async fn find_bot(conn: &mut sqlx::SqliteConnection, reference: &str) -> ApiResult<Bot> {
    if let Some(kind) = ward_core::id::kind_of(reference).filter(|kind| *kind != "bot") {
        return Err(ApiError::invalid(
            "bot",
            format!("`{reference}` is a {kind} id, not a bot id (bot_…) or name"),
        ));
    }
    bots::find(conn, reference)
        .await?
        .ok_or_else(|| ApiError::not_found("bot", reference))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    reason: Option<String>,
}

pub async fn transition(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, transition)): Path<(String, String)>,
    ApiJson(body): ApiJson<ReasonBody>,
) -> ApiResult<Json<BotView>> {
    let transition: Transition = transition.parse().map_err(|msg: String| {
        ApiError::new(axum::http::StatusCode::NOT_FOUND, "not_found", msg)
    })?;
    let action = format!("bot.{}", transition.as_str());
    caller
        .require(&state, &[Role::Admin, Role::Operator], &action)
        .await?;
    let reason = body.reason.unwrap_or_default();
    ward_core::validate::check_reason(&reason).map_err(|msg| ApiError::invalid("reason", msg))?;

    let mut tx = state.store.begin_write().await?;
    let bot = find_bot(&mut tx, &id).await?;
    let to = change_state(
        &state,
        &mut tx,
        &bot,
        transition,
        &caller.subject,
        reason.trim(),
    )
    .await?;
    let updated = bots::find(&mut tx, &bot.id)
        .await?
        .ok_or_else(|| ApiError::not_found("bot", &id))?;
    tx.commit().await?;
    tracing::info!(bot = %bot.id, to = %to, actor = %caller.subject, "bot state changed");
    Ok(Json(updated.into()))
}

/// Applies a lifecycle transition on the caller's transaction and audits it.
/// Used by the API and by the lifecycle job.
pub async fn change_state(
    state: &AppState,
    tx: &mut sqlx::SqliteConnection,
    bot: &Bot,
    transition: Transition,
    actor: &str,
    reason: &str,
) -> ApiResult<BotState> {
    let from: BotState = bot
        .state
        .parse()
        .map_err(|err| ApiError::internal("reading the bot state", err))?;
    let to = apply_transition(from, transition)
        .map_err(|err| ApiError::conflict("transition_not_allowed", err.to_string()))?;
    let now = state.now();
    let changed = bots::set_state(
        tx,
        &bot.id,
        from.as_str(),
        to.as_str(),
        reason,
        &ward_core::clock::format_timestamp(now),
    )
    .await?;
    if !changed {
        return Err(ApiError::conflict(
            "concurrent_change",
            "the bot changed state meanwhile; read it and retry",
        ));
    }
    // A bot that may no longer run loses every vault token and secret id
    // in the same transaction as the state change.
    let revoked = if to.may_run() {
        ward_vault::approle::Revoked::default()
    } else {
        ward_vault::approle::revoke_bot(tx, &bot.id)
            .await
            .map_err(|err| ApiError::internal("revoking the bot's vault credentials", err))?
    };
    let revoked_leases = if to.may_run() {
        0
    } else {
        crate::rotation::request_bot_lease_revocation(state, tx, &bot.id).await?
    };
    let entry = AuditEntry::new(
        actor,
        format!("bot.{}", transition.as_str()),
        Outcome::Success,
    )
    .bot(&bot.id)
    .details(serde_json::json!({
        "from": from.as_str(),
        "to": to.as_str(),
        "reason": reason,
        "revoked_tokens": revoked.tokens,
        "revoked_secret_ids": revoked.secret_ids,
        "revoked_leases": revoked_leases,
    }));
    ward_audit::append(tx, now, &entry).await?;
    Ok(to)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    certify: Option<bool>,
    review_by: Option<String>,
    note: Option<String>,
}

/// Re-certifies a bot: its owner, backup owner or an admin confirms it is still
/// needed, which moves the review date.
pub async fn review(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReviewBody>,
) -> ApiResult<Json<BotView>> {
    if body.certify != Some(true) {
        return Err(ApiError::invalid(
            "certify",
            "must be true to re-certify the bot",
        ));
    }
    let mut tx = state.store.begin_write().await?;
    let bot = find_bot(&mut tx, &id).await?;
    let is_owner = match &caller.operator_id {
        Some(op_id) => {
            let operator = ward_store::operators::find(&mut tx, op_id).await?;
            operator.is_some_and(|op| {
                op.person_id == bot.owner_id || op.person_id == bot.backup_owner_id
            })
        }
        None => false,
    };
    if !is_owner && !caller.has_role(Role::Admin) {
        drop(tx);
        let entry = AuditEntry::new(&caller.subject, "bot.review", Outcome::Denied)
            .bot(&bot.id)
            .details(serde_json::json!({"reason": "not an owner of the bot"}));
        state.audit_alone(entry).await?;
        return Err(ApiError::forbidden(
            "forbidden",
            "only the bot's owner, its backup owner or an admin may certify it",
        ));
    }
    if bot.state == "retired" {
        return Err(ApiError::conflict(
            "transition_not_allowed",
            "a retired bot cannot be reviewed",
        ));
    }
    let now = state.now();
    let review_by = match body.review_by {
        Some(text) => parse_review_date(&text, now, state.config.review_max_days)?,
        None => now + time::Duration::days(state.config.review_default_days),
    };
    let review_text = ward_core::clock::format_timestamp(review_by);
    bots::set_review(
        &mut tx,
        &bot.id,
        &review_text,
        &ward_core::clock::format_timestamp(now),
    )
    .await?;
    let entry = AuditEntry::new(&caller.subject, "bot.review", Outcome::Success).bot(&bot.id).details(serde_json::json!({
        "certified": true, "review_by": review_text, "previous_review_by": bot.review_by, "note": body.note,
    }));
    ward_audit::append(&mut tx, now, &entry).await?;
    let updated = bots::find(&mut tx, &bot.id)
        .await?
        .ok_or_else(|| ApiError::not_found("bot", &id))?;
    tx.commit().await?;
    Ok(Json(updated.into()))
}
