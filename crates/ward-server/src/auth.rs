//! Who is calling: bearer tokens, roles and the checks handlers run.
//!
//! A token is read from `X-Vault-Token` first, then from an exact
//! `Authorization: Bearer ` header, so Vault clients and plain HTTP tools both
//! work. Tokens are looked up by their keyed hash.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use base64::Engine as _;
use ward_audit::{AuditEntry, Outcome};
use ward_core::person::Role;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Prefix of tokens for operators and the root token.
pub const TOKEN_PREFIX: &str = "wrd_";

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The operator id, or `root` for the root token.
    pub subject: String,
    pub operator_id: Option<String>,
    pub roles: Vec<Role>,
}

impl Caller {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Passes when the caller holds one of `roles`; otherwise audits the
    /// denial of `action` and returns 403.
    pub async fn require(&self, state: &AppState, roles: &[Role], action: &str) -> ApiResult<()> {
        if roles.iter().any(|role| self.has_role(*role)) {
            return Ok(());
        }
        let needed: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        let entry = AuditEntry::new(&self.subject, action, Outcome::Denied)
            .details(serde_json::json!({"reason": "missing role", "required_any_of": needed}));
        state.audit_alone(entry).await?;
        Err(ApiError::forbidden(
            "forbidden",
            format!(
                "`{action}` requires one of the roles: {}",
                needed.join(", ")
            ),
        ))
    }
}

/// Reads the token a request carries, if any.
pub fn request_token(headers: &HeaderMap) -> Option<&str> {
    if let Some(token) = headers.get("x-vault-token").and_then(|v| v.to_str().ok()) {
        let token = token.trim();
        if !token.is_empty() {
            return Some(token);
        }
    }
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// Creates a new random token.
pub fn new_token() -> String {
    let bytes = rand::random::<[u8; 32]>();
    format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// Parses a comma-separated role list as stored.
pub fn parse_roles(text: &str) -> Vec<Role> {
    text.split(',')
        .filter_map(|r| r.trim().parse().ok())
        .collect()
}

/// Joins roles for storage.
pub fn join_roles(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let path = parts.uri.path().to_string();
        let Some(token) = request_token(&parts.headers) else {
            audit_rejected(state, &path, "missing token").await;
            return Err(ApiError::unauthorized(
                "no token: send `Authorization: Bearer <token>` or `X-Vault-Token`; sign in with `ward login`",
            ));
        };
        let hash = state.keys.hash_token(token);
        let mut conn = state.store.reader().acquire().await?;
        let session = ward_store::sessions::find_valid(&mut conn, &hash, &state.now_text()).await?;
        drop(conn);
        let Some(session) = session else {
            audit_rejected(state, &path, "unknown or expired token").await;
            return Err(ApiError::unauthorized(
                "invalid or expired token: sign in again",
            ));
        };
        Ok(Caller {
            subject: session.subject,
            operator_id: session.operator_id,
            roles: parse_roles(&session.roles),
        })
    }
}

async fn audit_rejected(state: &AppState, path: &str, reason: &str) {
    let entry = AuditEntry::new("anonymous", "auth.rejected", Outcome::Denied)
        .target(path)
        .details(serde_json::json!({"reason": reason}));
    if let Err(err) = state.audit_alone(entry).await {
        tracing::warn!(error = ?err, "could not audit a rejected request");
    }
}
