//! KV version 2 metadata, listing, version operations and mount config.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use serde_json::{Value, json};
use ward_audit::Outcome;
use ward_vault::grant::Capability;
use ward_vault::kv::{self, KeyMetadata, MetadataUpdate, MountConfig};
use ward_vault::timefmt::{go_duration, rfc3339};

use super::body::{Fields, query_bool};
use super::caller::{ClientAddr, begin, require_admin};
use super::kv::authorize;
use super::reply::{self, Envelope, VaultApiError, VaultResult};
use crate::state::AppState;

/// `LIST|GET /v1/secret/metadata` (the mount root).
pub async fn metadata_root(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    source: ClientAddr,
) -> VaultResult {
    let query = Fields::from_query(uri.query());
    let is_list =
        method.as_str() == "LIST" || (method == Method::GET && query_bool(&query, "list")?);
    if !is_list {
        return Err(VaultApiError::unsupported_operation());
    }
    list(&state, "", &headers, source).await
}

/// `/v1/secret/metadata/:path`: GET reads (or lists with `?list=true`),
/// LIST lists, POST/PUT/PATCH change settings, DELETE erases the key.
pub async fn metadata(
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
        "LIST" => list(&state, &path, &headers, source).await,
        "GET" if query_bool(&query, "list")? => list(&state, &path, &headers, source).await,
        "GET" => read(&state, &path, &headers, source).await,
        "POST" | "PUT" | "PATCH" => {
            write(&state, &path, &Fields::parse(&body)?, &headers, source).await
        }
        "DELETE" => delete(&state, &path, &headers, source).await,
        _ => Ok(reply::errors(StatusCode::METHOD_NOT_ALLOWED, &[])),
    }
}

async fn list(
    state: &AppState,
    path: &str,
    headers: &HeaderMap,
    source: ClientAddr,
) -> VaultResult {
    let folder = path.trim_end_matches('/');
    let folder = if folder.is_empty() {
        String::new()
    } else {
        format!("{folder}/")
    };
    let (tx, principal) =
        begin(state, headers, source, &format!("secret/metadata/{folder}")).await?;
    let (mut tx, grant_id) = authorize(
        state,
        tx,
        &principal,
        &folder,
        Capability::List,
        "secret.list",
    )
    .await?;
    let keys = kv::list(&mut tx, &folder).await?;
    let entry = principal
        .audit("secret.list", Outcome::Success)
        .target(format!("secret/{folder}"))
        .details(json!({
            "accessor": principal.accessor(),
            "grant": grant_id,
            "keys": keys.len(),
        }));
    ward_audit::append(&mut tx, state.now(), &entry).await?;
    tx.commit().await?;
    if keys.is_empty() {
        return Err(VaultApiError::not_found());
    }
    Ok(reply::json(
        StatusCode::OK,
        &Envelope::data("kv", json!({"keys": keys})),
    ))
}

async fn read(
    state: &AppState,
    path: &str,
    headers: &HeaderMap,
    source: ClientAddr,
) -> VaultResult {
    let (tx, principal) = begin(state, headers, source, &format!("secret/metadata/{path}")).await?;
    let (mut tx, grant_id) = authorize(
        state,
        tx,
        &principal,
        path,
        Capability::Read,
        "secret.metadata.read",
    )
    .await?;
    let metadata = kv::read_metadata(&mut tx, path).await?;
    let entry = principal
        .audit("secret.metadata.read", Outcome::Success)
        .target(format!("secret/{path}"))
        .details(json!({"accessor": principal.accessor(), "grant": grant_id, "found": metadata.is_some()}));
    ward_audit::append(&mut tx, state.now(), &entry).await?;
    tx.commit().await?;
    let metadata = metadata.ok_or_else(VaultApiError::not_found)?;
    Ok(reply::json(
        StatusCode::OK,
        &Envelope::data("kv", metadata_view(&metadata)),
    ))
}

fn metadata_view(metadata: &KeyMetadata) -> Value {
    let versions: BTreeMap<String, Value> = metadata
        .versions
        .values()
        .map(|version| {
            let view = json!({
                "created_time": rfc3339(version.created_time),
                "deletion_time": version.deletion_time.map(rfc3339).unwrap_or_default(),
                "destroyed": version.destroyed,
            });
            (version.version.to_string(), view)
        })
        .collect();
    json!({
        "cas_required": metadata.cas_required,
        "created_time": rfc3339(metadata.created_time),
        "current_version": metadata.current_version,
        "custom_metadata": metadata.custom_metadata,
        "delete_version_after": go_duration(metadata.delete_version_after),
        "max_versions": metadata.max_versions,
        "oldest_version": metadata.oldest_version,
        "updated_time": rfc3339(metadata.updated_time),
        "versions": versions,
        "ward": {
            "last_read": metadata.last_read.map(rfc3339),
            "last_rotated": metadata.last_rotated.map(rfc3339),
            "owners": metadata.owners,
            "rotation_grace": go_duration(metadata.rotation.grace),
            "rotation_interval": metadata.rotation.interval.map(go_duration),
        },
    })
}

async fn write(
    state: &AppState,
    path: &str,
    fields: &Fields,
    headers: &HeaderMap,
    source: ClientAddr,
) -> VaultResult {
    let update = MetadataUpdate {
        max_versions: fields
            .int("max_versions")?
            .map(|n| {
                u32::try_from(n)
                    .map_err(|_| VaultApiError::bad_request("max_versions cannot be negative"))
            })
            .transpose()?,
        cas_required: fields.bool("cas_required")?,
        delete_version_after: fields.duration("delete_version_after")?,
        custom_metadata: custom_metadata(fields)?,
    };
    let (mut tx, principal) =
        begin(state, headers, source, &format!("secret/metadata/{path}")).await?;
    let capability = if kv::exists(&mut tx, path).await? {
        Capability::Update
    } else {
        Capability::Create
    };
    let (mut tx, grant_id) = authorize(
        state,
        tx,
        &principal,
        path,
        capability,
        "secret.metadata.write",
    )
    .await?;
    kv::write_metadata(&mut tx, path, &update, state.now()).await?;
    let entry = principal
        .audit("secret.metadata.write", Outcome::Success)
        .target(format!("secret/{path}"))
        .details(json!({"accessor": principal.accessor(), "grant": grant_id}));
    ward_audit::append(&mut tx, state.now(), &entry).await?;
    tx.commit().await?;
    Ok(reply::no_content())
}

fn custom_metadata(fields: &Fields) -> VaultResult<Option<BTreeMap<String, String>>> {
    let Some(value) = fields.get("custom_metadata") else {
        return Ok(None);
    };
    let Value::Object(map) = value else {
        return Err(VaultApiError::bad_request(
            "custom_metadata must be a map of strings",
        ));
    };
    map.iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k.clone(), s.clone())),
            _ => Err(VaultApiError::bad_request(format!(
                "custom_metadata value for key {k:?} must be a string"
            ))),
        })
        .collect::<VaultResult<BTreeMap<_, _>>>()
        .map(Some)
}

async fn delete(
    state: &AppState,
    path: &str,
    headers: &HeaderMap,
    source: ClientAddr,
) -> VaultResult {
    let (tx, principal) = begin(state, headers, source, &format!("secret/metadata/{path}")).await?;
    let (mut tx, grant_id) = authorize(
        state,
        tx,
        &principal,
        path,
        Capability::Delete,
        "secret.metadata.delete",
    )
    .await?;
    let existed = kv::delete_key(&mut tx, path).await?;
    let entry = principal
        .audit("secret.metadata.delete", Outcome::Success)
        .target(format!("secret/{path}"))
        .details(json!({"accessor": principal.accessor(), "grant": grant_id, "existed": existed}));
    ward_audit::append(&mut tx, state.now(), &entry).await?;
    tx.commit().await?;
    Ok(reply::no_content())
}

#[derive(Clone, Copy)]
enum VersionOp {
    Delete,
    Undelete,
    Destroy,
}

async fn version_op(
    state: &AppState,
    op: VersionOp,
    path: &str,
    method: &Method,
    headers: &HeaderMap,
    source: ClientAddr,
    body: &Bytes,
) -> VaultResult {
    if method != Method::POST && method != Method::PUT {
        return Err(VaultApiError::unsupported_operation());
    }
    let fields = Fields::parse(body)?;
    let versions = fields.versions("versions")?;
    let (action, empty_message) = match op {
        VersionOp::Delete => ("secret.delete", "No version number provided"),
        VersionOp::Undelete => ("secret.undelete", "No version number provided"),
        VersionOp::Destroy => ("secret.destroy", "no version number provided"),
    };
    if versions.is_empty() {
        return Err(VaultApiError::bad_request(empty_message));
    }
    let (tx, principal) = begin(state, headers, source, &format!("secret/{path}")).await?;
    let (mut tx, grant_id) =
        authorize(state, tx, &principal, path, Capability::Delete, action).await?;
    let now = state.now();
    let changed = match op {
        VersionOp::Delete => kv::delete_versions(&mut tx, path, &versions, now).await?,
        VersionOp::Undelete => kv::undelete_versions(&mut tx, path, &versions, now).await?,
        VersionOp::Destroy => kv::destroy_versions(&mut tx, path, &versions).await?,
    };
    let entry = principal
        .audit(action, Outcome::Success)
        .target(format!("secret/{path}"))
        .details(json!({
            "accessor": principal.accessor(),
            "grant": grant_id,
            "requested": versions,
            "changed": changed,
        }));
    ward_audit::append(&mut tx, now, &entry).await?;
    tx.commit().await?;
    Ok(reply::no_content())
}

/// `POST|PUT /v1/secret/delete/:path`.
pub async fn delete_versions(
    State(state): State<AppState>,
    Path(path): Path<String>,
    method: Method,
    headers: HeaderMap,
    source: ClientAddr,
    body: Bytes,
) -> VaultResult {
    version_op(
        &state,
        VersionOp::Delete,
        &path,
        &method,
        &headers,
        source,
        &body,
    )
    .await
}

/// `POST|PUT /v1/secret/undelete/:path`.
pub async fn undelete_versions(
    State(state): State<AppState>,
    Path(path): Path<String>,
    method: Method,
    headers: HeaderMap,
    source: ClientAddr,
    body: Bytes,
) -> VaultResult {
    version_op(
        &state,
        VersionOp::Undelete,
        &path,
        &method,
        &headers,
        source,
        &body,
    )
    .await
}

/// `POST|PUT /v1/secret/destroy/:path`.
pub async fn destroy_versions(
    State(state): State<AppState>,
    Path(path): Path<String>,
    method: Method,
    headers: HeaderMap,
    source: ClientAddr,
    body: Bytes,
) -> VaultResult {
    version_op(
        &state,
        VersionOp::Destroy,
        &path,
        &method,
        &headers,
        source,
        &body,
    )
    .await
}

/// `GET|POST /v1/secret/config`: reading needs any valid token, changing
/// needs an admin.
pub async fn config(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    source: ClientAddr,
    body: Bytes,
) -> VaultResult {
    let (tx, principal) = begin(&state, &headers, source, "secret/config").await?;
    match method.as_str() {
        "GET" => {
            let mut tx = tx;
            let config = kv::read_config(&mut tx).await?;
            tx.commit().await?;
            Ok(reply::json(
                StatusCode::OK,
                &Envelope::data(
                    "kv",
                    json!({
                        "cas_required": config.cas_required,
                        "delete_version_after": go_duration(config.delete_version_after),
                        "max_versions": config.max_versions,
                    }),
                ),
            ))
        }
        "POST" | "PUT" => {
            let fields = Fields::parse(&body)?;
            let mut tx =
                require_admin(&state, tx, &principal, "secret.config", "secret/config").await?;
            let current = kv::read_config(&mut tx).await?;
            let config = MountConfig {
                max_versions: fields.int("max_versions")?.map_or(
                    Ok(current.max_versions),
                    |n| {
                        u32::try_from(n).map_err(|_| {
                            VaultApiError::bad_request("max_versions cannot be negative")
                        })
                    },
                )?,
                cas_required: fields.bool("cas_required")?.unwrap_or(current.cas_required),
                delete_version_after: fields
                    .duration("delete_version_after")?
                    .map_or(current.delete_version_after, |d| {
                        d.max(time::Duration::ZERO)
                    }),
            };
            kv::write_config(&mut tx, &config).await?;
            let entry = principal
                .audit("secret.config", Outcome::Success)
                .target("secret/config");
            ward_audit::append(&mut tx, state.now(), &entry).await?;
            tx.commit().await?;
            Ok(reply::no_content())
        }
        _ => {
            tx.commit().await?;
            Err(VaultApiError::unsupported_operation())
        }
    }
}
