//! KV version 2 under `secret/`: reading and writing versions.
//!
//! Metadata, listing and version operations are in `kv_meta`.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::value::RawValue;
use ward_audit::Outcome;
use ward_store::WriteTx;
use ward_vault::grant::{self, Capability, Decision};
use ward_vault::kv::{self, PatchResult, ReadResult, VersionMeta};
use ward_vault::timefmt::rfc3339;

use super::body::{Fields, query_bool};
use super::caller::{ClientAddr, Principal, begin, deny};
use super::reply::{self, Envelope, VaultApiError, VaultResult};
use crate::state::AppState;

pub use super::kv_meta::{
    config, delete_versions, destroy_versions, metadata, metadata_root, undelete_versions,
};

/// Version metadata as Vault prints it (`deletion_time` is `""` when unset).
#[derive(Serialize)]
pub struct VersionView {
    created_time: String,
    custom_metadata: Option<BTreeMap<String, String>>,
    deletion_time: String,
    destroyed: bool,
    version: u64,
}

impl VersionView {
    pub fn new(meta: &VersionMeta, custom_metadata: Option<BTreeMap<String, String>>) -> Self {
        VersionView {
            created_time: rfc3339(meta.created_time),
            custom_metadata,
            deletion_time: meta.deletion_time.map(rfc3339).unwrap_or_default(),
            destroyed: meta.destroyed,
            version: meta.version,
        }
    }
}

#[derive(Serialize)]
struct ReadData<'a> {
    data: Option<&'a RawValue>,
    metadata: VersionView,
}

/// Checks `capability` on `path` for the caller. Admins pass; a bot needs a
/// live grant. A denial is audited and committed.
pub async fn authorize(
    state: &AppState,
    mut tx: WriteTx,
    principal: &Principal,
    path: &str,
    capability: Capability,
    action: &str,
) -> VaultResult<(WriteTx, Option<String>)> {
    let Principal::Bot { bot_id, .. } = principal else {
        return Ok((tx, None));
    };
    let grants = grant::list_for_bot(&mut tx, bot_id).await?;
    match grant::decide(&grants, path, capability, state.now()) {
        Decision::Allow { grant_id } => Ok((tx, Some(grant_id))),
        Decision::Deny => Err(deny(state, tx, principal, action, &format!("secret/{path}")).await),
    }
}

/// `/v1/secret/data/:path`: GET reads, POST/PUT write, PATCH merges,
/// DELETE soft-deletes the current version.
pub async fn data(
    State(state): State<AppState>,
    Path(path): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    source: ClientAddr,
    body: Bytes,
) -> VaultResult {
    let query = Fields::from_query(uri.query());
    match method.as_str() {
        "GET" if query_bool(&query, "list")? => Err(VaultApiError::unsupported_operation()),
        "GET" => read(&state, &path, &query, &headers, source).await,
        "POST" | "PUT" => write(&state, &path, &Fields::parse(&body)?, &headers, source).await,
        "PATCH" => patch(&state, &path, &body, &headers, source).await,
        "DELETE" => delete_latest(&state, &path, &headers, source).await,
        "LIST" => Err(VaultApiError::unsupported_operation()),
        _ => Ok(reply::errors(StatusCode::METHOD_NOT_ALLOWED, &[])),
    }
}

async fn read(
    state: &AppState,
    path: &str,
    query: &Fields,
    headers: &HeaderMap,
    source: ClientAddr,
) -> VaultResult {
    let version = match query.int("version") {
        Ok(version) => version.map(|v| u64::try_from(v).unwrap_or(0)),
        Err(_) => {
            return Err(VaultApiError::bad_request(
                "invalid version: expected a whole number",
            ));
        }
    };
    let (tx, principal) = begin(state, headers, source, &format!("secret/data/{path}")).await?;
    let (mut tx, grant_id) =
        authorize(state, tx, &principal, path, Capability::Read, "secret.read").await?;
    let now = state.now();
    let result = kv::read(&mut tx, &state.vault.barrier, path, version, now).await?;
    let (found, served_version) = match &result {
        ReadResult::Value { meta, .. } => ("value", Some(meta.version)),
        ReadResult::Deleted { meta, .. } => ("deleted", Some(meta.version)),
        ReadResult::Missing => ("missing", None),
    };
    let entry = principal
        .audit("secret.read", Outcome::Success)
        .target(format!("secret/{path}"))
        .details(serde_json::json!({
            "accessor": principal.accessor(),
            "grant": grant_id,
            "requested_version": version,
            "version": served_version,
            "result": found,
        }));
    ward_audit::append(&mut tx, now, &entry).await?;
    tx.commit().await?;

    match result {
        ReadResult::Value {
            value,
            meta,
            custom_metadata,
        } => {
            let raw: &RawValue = serde_json::from_str(value.as_json())
                .map_err(|err| VaultApiError::internal("stored value", &err))?;
            let data = ReadData {
                data: Some(raw),
                metadata: VersionView::new(&meta, custom_metadata),
            };
            Ok(reply::json(StatusCode::OK, &Envelope::data("kv", data)))
        }
        ReadResult::Deleted {
            meta,
            custom_metadata,
        } => {
            // Vault answers 404 with the full envelope and no `errors` key.
            let data = ReadData {
                data: None,
                metadata: VersionView::new(&meta, custom_metadata),
            };
            Ok(reply::json(
                StatusCode::NOT_FOUND,
                &Envelope::data("", data),
            ))
        }
        ReadResult::Missing => Err(VaultApiError::not_found()),
    }
}

fn cas_option(fields: &Fields) -> VaultResult<Option<u64>> {
    let Some(options) = fields.object("options") else {
        return Ok(None);
    };
    let Some(cas) = options.get("cas").filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let parsed = match cas {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    parsed
        .map(Some)
        .ok_or_else(|| VaultApiError::bad_request("error parsing check-and-set parameter"))
}

async fn write(
    state: &AppState,
    path: &str,
    fields: &Fields,
    headers: &HeaderMap,
    source: ClientAddr,
) -> VaultResult {
    let data = fields
        .object("data")
        .ok_or_else(|| VaultApiError::bad_request("no data provided"))?;
    let cas = cas_option(fields)?;
    let (mut tx, principal) = begin(state, headers, source, &format!("secret/data/{path}")).await?;
    let capability = if kv::exists(&mut tx, path).await? {
        Capability::Update
    } else {
        Capability::Create
    };
    let (mut tx, grant_id) =
        authorize(state, tx, &principal, path, capability, "secret.write").await?;
    let now = state.now();
    let meta = kv::write(&mut tx, &state.vault.barrier, path, data, cas, now).await?;
    let entry = principal
        .audit("secret.write", Outcome::Success)
        .target(format!("secret/{path}"))
        .details(serde_json::json!({
            "accessor": principal.accessor(),
            "grant": grant_id,
            "version": meta.version,
        }));
    ward_audit::append(&mut tx, now, &entry).await?;
    tx.commit().await?;
    Ok(reply::json(
        StatusCode::OK,
        &Envelope::data("kv", VersionView::new(&meta, None)),
    ))
}

async fn patch(
    state: &AppState,
    path: &str,
    body: &Bytes,
    headers: &HeaderMap,
    source: ClientAddr,
) -> VaultResult {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if content_type.split(';').next().map(str::trim) != Some("application/merge-patch+json") {
        return Err(VaultApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "PATCH requires Content-Type of application/merge-patch+json, provided {content_type}"
            ),
        ));
    }
    let fields = Fields::parse(body)?;
    let data = fields
        .object("data")
        .ok_or_else(|| VaultApiError::bad_request("no data provided"))?;
    let cas = cas_option(&fields)?;
    let (tx, principal) = begin(state, headers, source, &format!("secret/data/{path}")).await?;
    let (mut tx, grant_id) = authorize(
        state,
        tx,
        &principal,
        path,
        Capability::Update,
        "secret.patch",
    )
    .await?;
    let now = state.now();
    let result = kv::patch(&mut tx, &state.vault.barrier, path, data, cas, now).await?;
    let version = match &result {
        PatchResult::Written(meta) => Some(meta.version),
        _ => None,
    };
    let entry = principal
        .audit("secret.patch", Outcome::Success)
        .target(format!("secret/{path}"))
        .details(serde_json::json!({
            "accessor": principal.accessor(),
            "grant": grant_id,
            "version": version,
        }));
    ward_audit::append(&mut tx, now, &entry).await?;
    tx.commit().await?;
    match result {
        PatchResult::Written(meta) => Ok(reply::json(
            StatusCode::OK,
            &Envelope::data("kv", VersionView::new(&meta, None)),
        )),
        // Vault answers a patch of a missing key with a 404 and no body at all.
        PatchResult::Missing => Ok(StatusCode::NOT_FOUND.into_response()),
        PatchResult::CurrentDeleted(meta) => Ok(reply::json(
            StatusCode::NOT_FOUND,
            &Envelope::data("kv", VersionView::new(&meta, None)),
        )),
    }
}

async fn delete_latest(
    state: &AppState,
    path: &str,
    headers: &HeaderMap,
    source: ClientAddr,
) -> VaultResult {
    let (tx, principal) = begin(state, headers, source, &format!("secret/data/{path}")).await?;
    let (mut tx, grant_id) = authorize(
        state,
        tx,
        &principal,
        path,
        Capability::Delete,
        "secret.delete",
    )
    .await?;
    let now = state.now();
    let deleted = kv::delete_latest(&mut tx, path, now).await?;
    let entry = principal
        .audit("secret.delete", Outcome::Success)
        .target(format!("secret/{path}"))
        .details(serde_json::json!({
            "accessor": principal.accessor(),
            "grant": grant_id,
            "versions": deleted.into_iter().collect::<Vec<_>>(),
        }));
    ward_audit::append(&mut tx, now, &entry).await?;
    tx.commit().await?;
    Ok(reply::no_content())
}

/// Any other path under `secret/`.
pub async fn unsupported_path() -> Response {
    VaultApiError::new(
        StatusCode::NOT_FOUND,
        "1 error occurred:\n\t* unsupported path\n\n",
    )
    .into_response()
}
