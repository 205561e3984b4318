//! `sys/health`, `sys/seal-status`, `sys/seal`, `sys/unseal`, `sys/init`
//! and `sys/internal/ui/mounts`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use secrecy::ExposeSecret;
use serde::Serialize;
use ward_audit::{AuditEntry, Outcome};
use ward_vault::SealStatus;

use super::body::{Fields, query_bool};
use super::caller::{ClientAddr, Principal, authenticate};
use super::reply::{self, Envelope, VaultApiError, VaultResult};
use crate::state::AppState;

/// Vault version reported to clients. The build metadata names Ward, and
/// semantic-version comparisons ignore it.
pub const VERSION: &str = concat!("1.19.0+ward.", env!("CARGO_PKG_VERSION"));
const BUILD_DATE: &str = "2026-01-01T00:00:00Z";

#[derive(Serialize)]
struct Health {
    initialized: bool,
    sealed: bool,
    standby: bool,
    performance_standby: bool,
    replication_performance_mode: &'static str,
    replication_dr_mode: &'static str,
    server_time_utc: i64,
    version: &'static str,
    enterprise: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster_id: Option<String>,
    echo_duration_ms: i64,
    clock_skew_ms: i64,
    replication_primary_canary_age_ms: i64,
}

/// `GET|HEAD /v1/sys/health`: the body never depends on the status code,
/// which the `*code` query parameters may override.
pub async fn health(State(state): State<AppState>, uri: Uri) -> VaultResult {
    let query = Fields::from_query(uri.query());
    let status = state.vault.barrier.status();
    let code_param = |name: &str, default: u16| -> VaultResult<u16> {
        match query.int(name) {
            Ok(Some(code)) => u16::try_from(code).map_err(|_| empty_400()),
            Ok(None) => Ok(default),
            Err(_) => Err(empty_400()),
        }
    };
    // Every parameter is checked, even those for states Ward never has.
    for name in [
        "uninitcode",
        "sealedcode",
        "activecode",
        "drsecondarycode",
        "performancestandbycode",
        "standbycode",
        "removedcode",
        "haunhealthycode",
    ] {
        code_param(name, 0)?;
    }
    for name in ["standbyok", "perfstandbyok"] {
        query_bool(&query, name).map_err(|_| empty_400())?;
    }
    let code = if !status.initialized {
        code_param("uninitcode", 501)?
    } else if status.sealed {
        code_param("sealedcode", 503)?
    } else {
        code_param("activecode", 200)?
    };
    let code = StatusCode::from_u16(code).map_err(|_| empty_400())?;
    let (cluster_name, cluster_id) = cluster_identity(&state);
    let unknown = status.sealed;
    let body = Health {
        initialized: status.initialized,
        sealed: status.sealed,
        standby: status.sealed,
        performance_standby: false,
        replication_performance_mode: if unknown { "unknown" } else { "disabled" },
        replication_dr_mode: if unknown { "unknown" } else { "disabled" },
        server_time_utc: state.now().unix_timestamp(),
        version: VERSION,
        enterprise: false,
        cluster_name,
        cluster_id,
        echo_duration_ms: 0,
        clock_skew_ms: 0,
        replication_primary_canary_age_ms: 0,
    };
    Ok(reply::json(code, &body))
}

#[derive(Serialize)]
struct SealStatusBody {
    #[serde(rename = "type")]
    seal_type: &'static str,
    initialized: bool,
    sealed: bool,
    t: u8,
    n: u8,
    progress: u8,
    nonce: String,
    version: &'static str,
    build_date: &'static str,
    migration: bool,
    recovery_seal: bool,
    storage_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster_id: Option<String>,
}

fn seal_status_body(state: &AppState, status: SealStatus) -> SealStatusBody {
    let (cluster_name, cluster_id) = cluster_identity(state);
    SealStatusBody {
        seal_type: "shamir",
        initialized: status.initialized,
        sealed: status.sealed,
        t: status.threshold,
        n: status.shares,
        progress: status.progress,
        nonce: status.nonce,
        version: VERSION,
        build_date: BUILD_DATE,
        migration: false,
        recovery_seal: false,
        storage_type: "sqlite",
        cluster_name,
        cluster_id,
    }
}

/// `GET /v1/sys/seal-status`: 200 in every state.
pub async fn seal_status(State(state): State<AppState>) -> Response {
    let status = state.vault.barrier.status();
    reply::json(StatusCode::OK, &seal_status_body(&state, status))
}

/// `PUT|POST /v1/sys/seal`: seals; needs the root token or an admin session.
pub async fn seal(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    source: ClientAddr,
) -> VaultResult {
    if method != Method::PUT && method != Method::POST {
        return Ok(reply::errors(StatusCode::METHOD_NOT_ALLOWED, &[]));
    }
    if state.vault.barrier.is_sealed() {
        return Err(VaultApiError::sealed());
    }
    let mut tx = state.store.begin_write().await?;
    let principal = match authenticate(&state, &mut tx, &headers, source, "sys/seal").await {
        Ok(principal) => principal,
        Err(err) => {
            tx.commit().await?;
            return Err(err);
        }
    };
    if !matches!(principal, Principal::Admin { .. }) {
        ward_audit::append(
            &mut tx,
            state.now(),
            &principal.audit("vault.seal", Outcome::Denied),
        )
        .await?;
        tx.commit().await?;
        return Err(VaultApiError::denied());
    }
    ward_audit::append(
        &mut tx,
        state.now(),
        &principal.audit("vault.seal", Outcome::Success),
    )
    .await?;
    tx.commit().await?;
    state.vault.barrier.seal();
    Ok(reply::no_content())
}

/// `PUT|POST /v1/sys/unseal`: takes one share (hex or base64), or `reset`.
pub async fn unseal(State(state): State<AppState>, method: Method, body: Bytes) -> VaultResult {
    if method != Method::PUT && method != Method::POST {
        return Ok(reply::errors(StatusCode::METHOD_NOT_ALLOWED, &[]));
    }
    let fields = Fields::parse(&body)?;
    let barrier = &state.vault.barrier;
    if fields.bool("reset")?.unwrap_or(false) {
        let status = barrier.reset_unseal()?;
        return Ok(reply::json(
            StatusCode::OK,
            &seal_status_body(&state, status),
        ));
    }
    let Some(key) = fields.string("key")? else {
        return Err(VaultApiError::bad_request(
            "'key' must be specified in request body as JSON, or 'reset' set to true",
        ));
    };
    let was_sealed = barrier.is_sealed();
    let result = barrier.unseal(&key);
    drop(key);
    let (outcome, progress) = match &result {
        Ok(status) if !status.sealed && was_sealed => (Outcome::Success, "unsealed"),
        Ok(_) => (Outcome::Success, "share accepted"),
        Err(_) => (Outcome::Failure, "share rejected"),
    };
    let entry = AuditEntry::new("anonymous", "vault.unseal", outcome)
        .details(serde_json::json!({"result": progress}));
    state
        .audit_alone(entry)
        .await
        .map_err(|err| VaultApiError::internal("audit append", &err.message))?;
    let status = result?;
    Ok(reply::json(
        StatusCode::OK,
        &seal_status_body(&state, status),
    ))
}

#[derive(Serialize)]
struct InitStatus {
    initialized: bool,
}

#[derive(Serialize)]
struct InitResponse {
    keys: Vec<String>,
    keys_base64: Vec<String>,
    root_token: String,
}

/// `GET /v1/sys/init` reports whether the vault is initialised; `PUT|POST`
/// creates the keys and returns the shares and the root token, once.
pub async fn init(State(state): State<AppState>, method: Method, body: Bytes) -> VaultResult {
    if method == Method::GET {
        let initialized = state.vault.barrier.status().initialized;
        return Ok(reply::json(StatusCode::OK, &InitStatus { initialized }));
    }
    if method != Method::PUT && method != Method::POST {
        return Ok(reply::errors(StatusCode::METHOD_NOT_ALLOWED, &[]));
    }
    let fields = Fields::parse(&body)?;
    for name in ["recovery_shares", "recovery_threshold", "recovery_pgp_keys"] {
        if fields.get(name).is_some() {
            return Err(VaultApiError::bad_request(format!(
                "parameters {name} not applicable to seal type shamir"
            )));
        }
    }
    if !fields.string_list("pgp_keys")?.is_empty() || fields.get("root_token_pgp_key").is_some() {
        return Err(VaultApiError::bad_request(
            "pgp_keys and root_token_pgp_key are not supported: request the shares without PGP encryption",
        ));
    }
    let shares = fields.int("secret_shares")?.unwrap_or(0);
    let threshold = fields.int("secret_threshold")?.unwrap_or(0);
    let shares = u32::try_from(shares).map_err(|_| {
        VaultApiError::bad_request("invalid seal configuration: shares must be at least one")
    })?;
    let threshold = u32::try_from(threshold).map_err(|_| {
        VaultApiError::bad_request("invalid seal configuration: threshold must be at least one")
    })?;

    let barrier = &state.vault.barrier;
    let prepared = barrier.prepare_init(shares, threshold, state.now())?;
    let mut tx = state.store.begin_write().await?;
    prepared.persist(&mut tx).await?;
    let entry = AuditEntry::new("anonymous", "vault.init", Outcome::Success)
        .details(serde_json::json!({"secret_shares": shares, "secret_threshold": threshold}));
    ward_audit::append(&mut tx, state.now(), &entry).await?;
    tx.commit().await?;
    let output = barrier.complete_init(prepared)?;
    tracing::info!(
        shares,
        threshold,
        "vault initialised; it stays sealed until unsealed with the shares"
    );
    Ok(reply::json(
        StatusCode::OK,
        &InitResponse {
            keys: output
                .keys
                .iter()
                .map(|k| k.expose_secret().to_string())
                .collect(),
            keys_base64: output
                .keys_base64
                .iter()
                .map(|k| k.expose_secret().to_string())
                .collect(),
            root_token: output.root_token.expose_secret().to_string(),
        },
    ))
}

#[derive(Serialize)]
struct MountInfo {
    accessor: &'static str,
    config: MountConfigInfo,
    description: &'static str,
    external_entropy_access: bool,
    local: bool,
    options: MountOptions,
    path: &'static str,
    plugin_version: &'static str,
    running_plugin_version: &'static str,
    running_sha256: &'static str,
    seal_wrap: bool,
    #[serde(rename = "type")]
    mount_type: &'static str,
    uuid: &'static str,
}

#[derive(Serialize)]
struct MountConfigInfo {
    default_lease_ttl: i64,
    force_no_cache: bool,
    max_lease_ttl: i64,
}

#[derive(Serialize)]
struct MountOptions {
    version: &'static str,
}

/// `GET /v1/sys/internal/ui/mounts/:path`: tells the Vault CLI that
/// `secret/` is KV version 2. The caller needs some grant under the path;
/// any other path gets the same 403, so mounts cannot be enumerated.
pub async fn mount_info(
    State(state): State<AppState>,
    Path(path): Path<String>,
    headers: HeaderMap,
    source: ClientAddr,
) -> VaultResult {
    let mut tx = state.store.begin_write().await?;
    let principal = match authenticate(
        &state,
        &mut tx,
        &headers,
        source,
        &format!("sys/internal/ui/mounts/{path}"),
    )
    .await
    {
        Ok(principal) => principal,
        Err(err) => {
            tx.commit().await?;
            return Err(err);
        }
    };
    let inner = path
        .strip_prefix("secret")
        .filter(|rest| rest.is_empty() || rest.starts_with('/'));
    let allowed = match (&principal, inner) {
        (_, None) => false,
        (Principal::Admin { .. }, Some(_)) => true,
        (Principal::Bot { bot_id, .. }, Some(rest)) => {
            let grants = ward_vault::grant::list_for_bot(&mut tx, bot_id).await?;
            ward_vault::grant::covers_any(&grants, rest.trim_start_matches('/'), state.now())
        }
    };
    if !allowed {
        let entry = principal
            .audit("vault.mounts", Outcome::Denied)
            .target(&path);
        ward_audit::append(&mut tx, state.now(), &entry).await?;
        tx.commit().await?;
        let shown = if path.ends_with('/') {
            path.clone()
        } else {
            format!("{path}/")
        };
        return Err(VaultApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "preflight capability check returned 403, please ensure client's policies grant access to path \"{shown}\""
            ),
        ));
    }
    tx.commit().await?;
    let info = MountInfo {
        accessor: "kv_ward0001",
        config: MountConfigInfo {
            default_lease_ttl: 0,
            force_no_cache: false,
            max_lease_ttl: 0,
        },
        description: "key/value secret storage",
        external_entropy_access: false,
        local: false,
        options: MountOptions { version: "2" },
        path: "secret/",
        plugin_version: "",
        running_plugin_version: VERSION,
        running_sha256: "",
        seal_wrap: false,
        mount_type: "kv",
        uuid: "00000000-0000-4000-8000-000000000001",
    };
    Ok(reply::json(StatusCode::OK, &Envelope::data("system", info)))
}

/// A stable cluster name and id derived from the keyring, present only while
/// unsealed (Vault omits both when sealed).
fn cluster_identity(state: &AppState) -> (Option<String>, Option<String>) {
    let Ok(digest) = state.vault.barrier.keyed_hash("cluster-id", b"ward") else {
        return (None, None);
    };
    let Some(hex) = digest.get(..32) else {
        return (None, None);
    };
    let id = format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    );
    (Some(format!("vault-cluster-{}", &hex[..8])), Some(id))
}

fn empty_400() -> VaultApiError {
    VaultApiError {
        status: StatusCode::BAD_REQUEST,
        messages: Vec::new(),
    }
}
