//! Who is calling a Vault-compatible endpoint.
//!
//! `hvs.` tokens are the vault's own (bot tokens and the root token from
//! `sys/init`). Any other token is looked up as a Ward session, and an
//! admin session has full vault access, like Vault's root token.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use sqlx::SqliteConnection;
use ward_audit::{AuditEntry, Outcome};
use ward_vault::VaultError;
use ward_vault::token::{self, TOKEN_PREFIX, TokenEntry};

use super::reply::{VaultApiError, VaultResult};
use crate::state::AppState;

/// The peer address of the request, when the server knows it.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let address = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip());
        Ok(ClientAddr(address))
    }
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub enum Principal {
    /// A bot's token.
    Bot { bot_id: String, entry: TokenEntry },
    /// The vault root token or an admin session: every capability.
    Admin {
        subject: String,
        entry: Option<TokenEntry>,
    },
}

impl Principal {
    /// The audit actor: the bot id, or the operator subject.
    pub fn actor(&self) -> String {
        match self {
            Principal::Bot { bot_id, .. } => bot_id.clone(),
            Principal::Admin { subject, .. } => subject.clone(),
        }
    }

    /// The bot id, for bot callers.
    pub fn bot_id(&self) -> Option<&str> {
        match self {
            Principal::Bot { bot_id, .. } => Some(bot_id),
            Principal::Admin { .. } => None,
        }
    }

    /// The token accessor, when the token is a vault token.
    pub fn accessor(&self) -> Option<&str> {
        match self {
            Principal::Bot { entry, .. } => Some(&entry.accessor),
            Principal::Admin { entry, .. } => entry.as_ref().map(|e| e.accessor.as_str()),
        }
    }

    /// An audit entry for `action` by this caller, naming the bot and accessor.
    pub fn audit(&self, action: &str, outcome: Outcome) -> AuditEntry {
        let mut entry = AuditEntry::new(self.actor(), action, outcome);
        if let Some(bot) = self.bot_id() {
            entry = entry.bot(bot);
        }
        entry
    }
}

/// Reads the request token: `X-Vault-Token` first, then `Authorization: Bearer `.
pub fn token_of(headers: &HeaderMap) -> Option<&str> {
    crate::auth::request_token(headers)
}

/// Resolves the caller on the request's transaction. A failure is audited
/// as a denial on `tx` (the caller commits it) and returns Vault's 403.
pub async fn authenticate(
    state: &AppState,
    tx: &mut SqliteConnection,
    headers: &HeaderMap,
    source: ClientAddr,
    target: &str,
) -> VaultResult<Principal> {
    match resolve(state, tx, headers, source).await {
        Ok(principal) => Ok(principal),
        Err(Denial::Vault(err)) => Err(err.into()),
        Err(Denial::Store(err)) => Err(err.into()),
        Err(Denial::Rejected { reason, bot_id }) => {
            let mut entry = AuditEntry::new("anonymous", "vault.auth", Outcome::Denied)
                .target(target)
                .details(serde_json::json!({"reason": reason}));
            if let Some(bot) = bot_id {
                entry = entry.bot(bot);
            }
            ward_audit::append(tx, state.now(), &entry).await?;
            Err(VaultApiError::bad_token())
        }
    }
}

enum Denial {
    Rejected {
        reason: &'static str,
        bot_id: Option<String>,
    },
    Vault(VaultError),
    Store(ward_store::StoreError),
}

impl From<VaultError> for Denial {
    fn from(err: VaultError) -> Self {
        match err {
            VaultError::InvalidToken => Denial::Rejected {
                reason: "unknown, expired or revoked token",
                bot_id: None,
            },
            VaultError::TokenCidrMismatch { .. } => Denial::Rejected {
                reason: "token used outside its bound CIDR blocks",
                bot_id: None,
            },
            other => Denial::Vault(other),
        }
    }
}

async fn resolve(
    state: &AppState,
    tx: &mut SqliteConnection,
    headers: &HeaderMap,
    source: ClientAddr,
) -> Result<Principal, Denial> {
    let Some(token) = token_of(headers) else {
        return Err(Denial::Rejected {
            reason: "missing token",
            bot_id: None,
        });
    };
    if token.starts_with(TOKEN_PREFIX) {
        let entry =
            token::authenticate(tx, &state.vault.barrier, token, source.0, state.now()).await?;
        if entry.is_root() {
            return Ok(Principal::Admin {
                subject: "root".to_string(),
                entry: Some(entry),
            });
        }
        let Some(bot_id) = entry.bot_id.clone() else {
            return Err(Denial::Rejected {
                reason: "token has no bot",
                bot_id: None,
            });
        };
        let bot = ward_store::bots::find(tx, &bot_id)
            .await
            .map_err(Denial::Store)?;
        let Some(bot) = bot else {
            return Err(Denial::Rejected {
                reason: "token's bot no longer exists",
                bot_id: Some(bot_id),
            });
        };
        if bot.state != "active" {
            return Err(Denial::Rejected {
                reason: "bot is not active",
                bot_id: Some(bot_id),
            });
        }
        return Ok(Principal::Bot { bot_id, entry });
    }
    let hash = state.keys.hash_token(token);
    let session = ward_store::sessions::find_valid(tx, &hash, &state.now_text())
        .await
        .map_err(Denial::Store)?;
    match session {
        Some(session) if session.roles.split(',').any(|role| role.trim() == "admin") => {
            Ok(Principal::Admin {
                subject: session.subject,
                entry: None,
            })
        }
        Some(_) => Err(Denial::Rejected {
            reason: "operator session without the admin role",
            bot_id: None,
        }),
        None => Err(Denial::Rejected {
            reason: "unknown, expired or revoked token",
            bot_id: None,
        }),
    }
}

/// Opens the request's write transaction and authenticates the caller. On
/// failure the denial is audited and committed before the 403 is returned.
pub async fn begin(
    state: &AppState,
    headers: &HeaderMap,
    source: ClientAddr,
    target: &str,
) -> VaultResult<(ward_store::WriteTx, Principal)> {
    let mut tx = state.store.begin_write().await?;
    match authenticate(state, &mut tx, headers, source, target).await {
        Ok(principal) => Ok((tx, principal)),
        Err(err) => {
            tx.commit().await?;
            Err(err)
        }
    }
}

/// Audits a denial of `action` on `target` by `principal`, commits, and
/// returns Vault's policy-denial 403.
pub async fn deny(
    state: &AppState,
    mut tx: ward_store::WriteTx,
    principal: &Principal,
    action: &str,
    target: &str,
) -> VaultApiError {
    let entry = principal
        .audit(action, Outcome::Denied)
        .target(target)
        .details(serde_json::json!({"accessor": principal.accessor(), "reason": "no grant covers the path and capability"}));
    if let Err(err) = ward_audit::append(&mut tx, state.now(), &entry).await {
        return err.into();
    }
    if let Err(err) = tx.commit().await {
        return err.into();
    }
    VaultApiError::denied()
}

/// Passes for admin callers; audits and denies everyone else.
pub async fn require_admin(
    state: &AppState,
    tx: ward_store::WriteTx,
    principal: &Principal,
    action: &str,
    target: &str,
) -> VaultResult<ward_store::WriteTx> {
    match principal {
        Principal::Admin { .. } => Ok(tx),
        Principal::Bot { .. } => Err(deny(state, tx, principal, action, target).await),
    }
}
