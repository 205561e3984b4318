//! The HashiCorp Vault-compatible HTTP API: AppRole login, KV version 2
//! under `secret/`, token self-service, health, seal and init, plus Ward's
//! own vault administration under `/v1/vault`.
//!
//! Every handler runs the seal check, token lookup, grant decision and
//! audit append in one write transaction, and decrypts a value only after
//! the audit entry is written.

mod admin;
mod approle;
mod body;
pub(crate) mod caller;
mod kv;
mod kv_meta;
pub mod reply;
mod sys;
mod token;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use secrecy::ExposeSecret;
use ward_vault::Barrier;

use crate::error::ApiError;
use crate::state::AppState;

/// The vault's in-memory state.
pub struct VaultState {
    /// The seal state machine and the keys while unsealed.
    pub barrier: Barrier,
}

impl VaultState {
    /// Wraps a loaded barrier.
    pub fn new(barrier: Barrier) -> Arc<Self> {
        Arc::new(VaultState { barrier })
    }
}

/// Loads the vault's seal state: a process always starts sealed. In
/// development mode a vault that was never initialised is initialised with
/// one share and unsealed, and the share and root token are printed.
pub async fn open_vault(
    store: &ward_store::Store,
    dev: bool,
    now: time::OffsetDateTime,
) -> anyhow::Result<Arc<VaultState>> {
    let mut tx = store.begin_write().await?;
    let barrier = Barrier::load(&mut tx).await?;
    if !dev || barrier.status().initialized {
        tx.commit().await?;
        if barrier.status().initialized {
            tracing::warn!(
                "the vault is sealed: unseal it with `ward operator unseal` (threshold times)"
            );
        } else {
            tracing::warn!("the vault is not initialised: run `ward operator init`");
        }
        return Ok(VaultState::new(barrier));
    }
    let output = barrier.init_dev(&mut tx, now).await?;
    let entry = ward_audit::AuditEntry::new("system", "vault.init", ward_audit::Outcome::Success)
        .details(serde_json::json!({"dev": true, "secret_shares": 1, "secret_threshold": 1}));
    ward_audit::append(&mut tx, now, &entry).await?;
    tx.commit().await?;
    let share = output
        .keys
        .first()
        .map(|k| k.expose_secret().to_string())
        .unwrap_or_default();
    tracing::warn!(
        "DEVELOPMENT VAULT: initialised with a single unseal share and unsealed; never store real secrets in it"
    );
    println!("WARNING: development vault initialised and unsealed with ONE share.");
    println!("Unseal Key: {share}");
    println!("Vault Root Token: {}", output.root_token.expose_secret());
    println!("After a restart the vault is sealed: run `ward operator unseal {share}`.");
    Ok(VaultState::new(barrier))
}

/// Builds the Vault-compatible routes and Ward's vault administration routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/sys/health",
            get(sys::health).fallback(method_not_allowed),
        )
        .route(
            "/v1/sys/seal-status",
            get(sys::seal_status).fallback(method_not_allowed),
        )
        .route("/v1/sys/seal", any(sys::seal))
        .route("/v1/sys/unseal", any(sys::unseal))
        .route("/v1/sys/init", any(sys::init))
        .route(
            "/v1/sys/internal/ui/mounts/{*path}",
            get(sys::mount_info).fallback(method_not_allowed),
        )
        .route("/v1/auth/approle/login", any(approle::login))
        .route("/v1/auth/approle/role/{role}", any(approle::role))
        .route(
            "/v1/auth/approle/role/{role}/role-id",
            any(approle::role_id),
        )
        .route(
            "/v1/auth/approle/role/{role}/secret-id",
            any(approle::secret_id),
        )
        .route("/v1/auth/token/lookup-self", any(token::lookup_self))
        .route("/v1/auth/token/renew-self", any(token::renew_self))
        .route("/v1/auth/token/revoke-self", any(token::revoke_self))
        .route("/v1/secret/config", any(kv::config))
        .route("/v1/secret/data/{*path}", any(kv::data))
        .route("/v1/secret/metadata", any(kv::metadata_root))
        .route("/v1/secret/metadata/", any(kv::metadata_root))
        .route("/v1/secret/metadata/{*path}", any(kv::metadata))
        .route("/v1/secret/delete/{*path}", any(kv::delete_versions))
        .route("/v1/secret/undelete/{*path}", any(kv::undelete_versions))
        .route("/v1/secret/destroy/{*path}", any(kv::destroy_versions))
        .route("/v1/secret/{*rest}", any(kv::unsupported_path))
        .route(
            "/v1/vault/grants",
            post(admin::add_grant).get(admin::list_grants),
        )
        .route(
            "/v1/vault/grants/{id}",
            axum::routing::delete(admin::remove_grant),
        )
        .route(
            "/v1/vault/policies/{*path}",
            axum::routing::put(admin::set_policy),
        )
        .route("/v1/vault/rotate", post(admin::rotate_secret))
        .route("/v1/vault/keys/rotate", post(admin::rotate_data_key))
        .route("/v1/vault/root/rotate", post(admin::rotate_root_key))
}

/// Runs the checks every request passes before routing. A Vault
/// namespace other than the root is rejected with 400 (Ward has none, and
/// serving root data under another namespace would mislead the client),
/// and the header is echoed as Vault does. While the vault is sealed or
/// uninitialised, every secret, token and bot request gets 503: Vault's
/// shape on Vault paths, Ward's on Ward's.
pub async fn refuse_when_sealed(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let namespace = request.headers().get("x-vault-namespace").cloned();
    let mut response = check_and_run(&state, request, next, namespace.as_ref()).await;
    if let Some(value) = namespace {
        response.headers_mut().insert("x-vault-namespace", value);
    }
    response
}

async fn check_and_run(
    state: &AppState,
    request: Request,
    next: Next,
    namespace: Option<&axum::http::HeaderValue>,
) -> Response {
    if let Some(value) = namespace {
        let name = value.to_str().unwrap_or("?").trim();
        if !matches!(name, "" | "root" | "root/") {
            return reply::VaultApiError::bad_request(format!(
                "namespace `{name}` is not supported: Ward has only the root namespace, so send no X-Vault-Namespace header"
            ))
            .into_response();
        }
    }
    let path = request.uri().path();
    if !needs_unsealed(path) || !state.vault.barrier.is_sealed() {
        return next.run(request).await;
    }
    if path.starts_with("/v1/bots") || path.starts_with("/v1/vault") {
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "sealed",
            "the vault is sealed: unseal it with `ward operator unseal` before using bots or secrets",
        )
        .into_response();
    }
    reply::VaultApiError::sealed().into_response()
}

fn needs_unsealed(path: &str) -> bool {
    const PREFIXES: [&str; 6] = [
        "/v1/secret",
        "/v1/auth/approle",
        "/v1/auth/token",
        "/v1/bots",
        "/v1/vault",
        "/v1/sys/internal/ui",
    ];
    PREFIXES
        .iter()
        .any(|prefix| path == *prefix || path.starts_with(&format!("{prefix}/")))
}

async fn method_not_allowed() -> Response {
    reply::errors(StatusCode::METHOD_NOT_ALLOWED, &[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_paths() {
        for path in [
            "/v1/secret/data/x",
            "/v1/auth/approle/login",
            "/v1/auth/token/lookup-self",
            "/v1/bots",
            "/v1/bots/b1",
        ] {
            assert!(needs_unsealed(path), "{path}");
        }
        for path in [
            "/v1/sys/health",
            "/v1/sys/seal-status",
            "/v1/sys/unseal",
            "/v1/sys/init",
            "/v1/auth/login",
            "/v1/botsx",
        ] {
            assert!(!needs_unsealed(path), "{path}");
        }
    }
}
