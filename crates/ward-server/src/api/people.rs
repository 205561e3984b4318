//! `/v1/people`: the humans who own bots.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use ward_audit::{AuditEntry, Outcome};
use ward_core::id::PersonId;
use ward_core::person::Role;
use ward_store::people::{self, Person};

use super::ApiJson;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreatePerson {
    name: Option<String>,
    email: Option<String>,
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreatePerson>,
) -> ApiResult<(StatusCode, Json<Person>)> {
    caller
        .require(
            &state,
            &[Role::Admin, Role::Builder, Role::Operator],
            "person.create",
        )
        .await?;
    let name = body
        .name
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::missing("name"))?;
    if name.chars().count() > 200 {
        return Err(ApiError::invalid("name", "must be at most 200 characters"));
    }
    let email = body
        .email
        .map(|e| e.trim().to_string())
        .filter(|e| !e.is_empty())
        .ok_or_else(|| ApiError::missing("email"))?;
    ward_core::validate::check_email(&email).map_err(|msg| ApiError::invalid("email", msg))?;

    let person = Person {
        id: PersonId::generate().to_string(),
        name,
        email,
        status: "active".to_string(),
        created_at: state.now_text(),
        left_at: None,
    };
    let mut tx = state.store.begin_write().await?;
    if let Err(err) = people::insert(&mut tx, &person).await {
        if err.is_unique_violation() {
            return Err(ApiError::conflict(
                "duplicate",
                format!("a person with email `{}` already exists", person.email),
            )
            .with_field("email"));
        }
        return Err(err.into());
    }
    let entry = AuditEntry::new(&caller.subject, "person.create", Outcome::Success)
        .target(&person.id)
        .details(serde_json::json!({"email": person.email}));
    ward_audit::append(&mut tx, state.now(), &entry).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(person)))
}

pub async fn list(State(state): State<AppState>, _caller: Caller) -> ApiResult<Json<Vec<Person>>> {
    let mut conn = state.store.reader().acquire().await?;
    Ok(Json(people::list(&mut conn).await?))
}

pub async fn show(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Person>> {
    let mut conn = state.store.reader().acquire().await?;
    people::find(&mut conn, &id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("person", &id))
}

/// Marks a person as left, as an HR feed would. The lifecycle job then hands
/// their bots to the backup owners.
pub async fn leave(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Person>> {
    caller
        .require(&state, &[Role::Admin], "person.leave")
        .await?;
    let mut tx = state.store.begin_write().await?;
    let person = people::find(&mut tx, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("person", &id))?;
    let now = state.now_text();
    if !people::mark_left(&mut tx, &person.id, &now).await? {
        return Err(ApiError::conflict(
            "already_left",
            format!("person `{}` has already left", person.email),
        ));
    }
    // A person who left may no longer act through an operator account.
    let revoked = ward_store::sessions::delete_for_person(&mut tx, &person.id).await?;
    let entry = AuditEntry::new(&caller.subject, "person.leave", Outcome::Success)
        .target(&person.id)
        .details(serde_json::json!({"sessions_revoked": revoked}));
    ward_audit::append(&mut tx, state.now(), &entry).await?;
    let updated = people::find(&mut tx, &person.id)
        .await?
        .ok_or_else(|| ApiError::not_found("person", &id))?;
    tx.commit().await?;
    Ok(Json(updated))
}
