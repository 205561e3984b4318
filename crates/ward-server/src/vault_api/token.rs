//! `auth/token/lookup-self`, `renew-self` and `revoke-self`.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use serde::Serialize;
use ward_audit::Outcome;
use ward_vault::timefmt::{rfc3339, short_duration};
use ward_vault::token;

use super::approle::AuthBlock;
use super::body::Fields;
use super::caller::{ClientAddr, Principal, begin, token_of};
use super::reply::{self, Envelope, VaultApiError, VaultResult};
use crate::state::AppState;

#[derive(Serialize)]
struct LookupData {
    accessor: String,
    creation_time: i64,
    creation_ttl: i64,
    display_name: String,
    entity_id: String,
    expire_time: Option<String>,
    explicit_max_ttl: i64,
    id: String,
    issue_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_renewal: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_renewal_time: Option<i64>,
    meta: Option<BTreeMap<String, String>>,
    num_uses: u32,
    orphan: bool,
    path: String,
    policies: Vec<String>,
    renewable: bool,
    ttl: i64,
    #[serde(rename = "type")]
    token_type: &'static str,
}

/// `GET|POST /v1/auth/token/lookup-self`.
pub async fn lookup_self(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    source: ClientAddr,
) -> VaultResult {
    if method != Method::GET && method != Method::POST {
        return Err(VaultApiError::unsupported_operation());
    }
    let (tx, principal) = begin(&state, &headers, source, "auth/token/lookup-self").await?;
    tx.commit().await?;
    let token_text = token_of(&headers).unwrap_or_default().to_string();
    let now = state.now();
    let data = match &principal {
        Principal::Bot { entry, .. }
        | Principal::Admin {
            entry: Some(entry), ..
        } => LookupData {
            accessor: entry.accessor.clone(),
            creation_time: entry.creation_time.unix_timestamp(),
            creation_ttl: entry.ttl.whole_seconds(),
            display_name: entry.display_name.clone(),
            entity_id: entry.entity_id.clone(),
            expire_time: entry.expire_time.map(rfc3339),
            explicit_max_ttl: 0,
            id: token_text,
            issue_time: rfc3339(entry.creation_time),
            last_renewal: entry.last_renewal.map(rfc3339),
            last_renewal_time: entry.last_renewal.map(|at| at.unix_timestamp()),
            meta: (!entry.meta.is_empty()).then(|| entry.meta.clone()),
            num_uses: entry.num_uses,
            orphan: true,
            path: entry.path.clone(),
            policies: entry.policies.clone(),
            renewable: entry.renewable,
            ttl: entry.remaining(now).whole_seconds(),
            token_type: "service",
        },
        Principal::Admin {
            subject,
            entry: None,
        } => LookupData {
            accessor: String::new(),
            creation_time: now.unix_timestamp(),
            creation_ttl: 0,
            display_name: format!("ward-{subject}"),
            entity_id: String::new(),
            expire_time: None,
            explicit_max_ttl: 0,
            id: token_text,
            issue_time: rfc3339(now),
            last_renewal: None,
            last_renewal_time: None,
            meta: None,
            num_uses: 0,
            orphan: true,
            path: "auth/ward/login".to_string(),
            policies: vec!["root".to_string()],
            renewable: false,
            ttl: 0,
            token_type: "service",
        },
    };
    Ok(reply::json(StatusCode::OK, &Envelope::data("token", data)))
}

/// `POST|PUT /v1/auth/token/renew-self`: a renewal past the max TTL
/// succeeds with the capped TTL and a warning.
pub async fn renew_self(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    source: ClientAddr,
    body: Bytes,
) -> VaultResult {
    if method != Method::POST && method != Method::PUT {
        return Err(VaultApiError::unsupported_operation());
    }
    let fields = Fields::parse(&body)?;
    let increment = fields.duration("increment")?;
    let (mut tx, principal) = begin(&state, &headers, source, "auth/token/renew-self").await?;
    let token_text = token_of(&headers).unwrap_or_default();
    if matches!(principal, Principal::Admin { entry: None, .. }) {
        return Err(VaultApiError::bad_request("lease is not renewable"));
    }
    let now = state.now();
    let renewal = token::renew(&mut tx, &state.vault.barrier, token_text, increment, now).await?;
    let entry = principal
        .audit("token.renew", Outcome::Success)
        .details(serde_json::json!({"accessor": renewal.entry.accessor, "granted_seconds": renewal.granted.whole_seconds()}));
    ward_audit::append(&mut tx, now, &entry).await?;
    tx.commit().await?;
    let warnings = renewal.capped.map(|(requested, max)| {
        vec![format!(
            "TTL of \"{}\" exceeded the effective max_ttl of \"{}\"; TTL value is capped accordingly",
            short_duration(requested),
            short_duration(max)
        )]
    });
    let auth = AuthBlock::new(token_text, &renewal.entry, renewal.granted.whole_seconds());
    Ok(reply::json(
        StatusCode::OK,
        &Envelope::auth("token", auth, warnings),
    ))
}

/// `POST|PUT /v1/auth/token/revoke-self`: 204; the token stops working.
pub async fn revoke_self(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    source: ClientAddr,
) -> VaultResult {
    if method != Method::POST && method != Method::PUT {
        return Err(VaultApiError::unsupported_operation());
    }
    let (mut tx, principal) = begin(&state, &headers, source, "auth/token/revoke-self").await?;
    let token_text = token_of(&headers).unwrap_or_default();
    match &principal {
        Principal::Admin { entry: None, .. } => {
            revoke_session(&state, &mut tx, token_text).await?;
        }
        _ => {
            token::revoke(&mut tx, &state.vault.barrier, token_text).await?;
        }
    }
    let entry = principal
        .audit("token.revoke", Outcome::Success)
        .details(serde_json::json!({"accessor": principal.accessor()}));
    ward_audit::append(&mut tx, state.now(), &entry).await?;
    tx.commit().await?;
    Ok(reply::no_content())
}

async fn revoke_session(
    state: &AppState,
    tx: &mut sqlx::SqliteConnection,
    token_text: &str,
) -> VaultResult<()> {
    ward_store::sessions::delete(tx, &state.keys.hash_token(token_text)).await?;
    Ok(())
}
