//! Lease records and the results of issuing, revoking and reaping.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use ward_core::id::{BotId, Id, LeaseKind};

use crate::error::ConnectorError;

/// Id of a lease (`lse_…`).
pub type LeaseId = Id<LeaseKind>;

/// A bot's request for a dynamic credential.
#[derive(Debug, Clone)]
pub struct LeaseRequest {
    /// The bot the credential is for.
    pub bot: BotId,
    /// The bot's name; a cleaned, shortened form goes into the role name so a
    /// database administrator can tell whose role it is.
    pub bot_name: String,
    /// Requested TTL; `None` takes the configured default.
    pub ttl: Option<Duration>,
}

/// The record the server stores for each lease. It contains no secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// Lease id.
    pub id: LeaseId,
    /// Bot holding the lease.
    pub bot: BotId,
    /// Login role created for the lease.
    pub username: String,
    /// Database server, without password.
    pub target: String,
    /// When the lease was issued, from Ward's clock.
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    /// When the lease ends, from Ward's clock; also the role's VALID UNTIL.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

impl Lease {
    /// Reports whether the lease has ended at `now`.
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        now >= self.expires_at
    }
}

/// A newly issued credential. `Debug` shows the password as `[REDACTED]`.
#[derive(Debug)]
pub struct DynamicCredential {
    /// The lease record to store.
    pub lease: Lease,
    /// Login role name.
    pub username: String,
    /// Password of the role; returned to the bot once, never stored.
    pub password: SecretString,
}

/// Result of `revoke`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RevokeOutcome {
    /// The role was dropped after its sessions were ended.
    Dropped {
        /// Sessions of the role that were terminated.
        sessions_terminated: i64,
    },
    /// No role of that name exists, for example after an earlier revoke.
    AlreadyGone,
}

/// Result of one reaping pass.
#[derive(Debug, Default)]
pub struct ReapReport {
    /// Leases whose role was dropped or was already gone; the server marks
    /// them revoked.
    pub revoked: Vec<LeaseId>,
    /// Leases whose revoke failed; the server keeps them and retries on the
    /// next pass.
    pub failed: Vec<(LeaseId, ConnectorError)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lease_expiry_is_inclusive() {
        let now = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
        let lease = Lease {
            id: LeaseId::generate(),
            bot: BotId::generate(),
            username: "ward_x_abc".to_string(),
            target: "postgres://ward_admin@127.0.0.1:5432/test".to_string(),
            issued_at: now,
            expires_at: now + Duration::minutes(5),
        };
        assert!(!lease.is_expired(now + Duration::minutes(4)));
        assert!(lease.is_expired(now + Duration::minutes(5)));
        let json = serde_json::to_string(&lease).unwrap();
        assert!(json.contains("\"id\":\"lse_"), "{json}");
        let back: Lease = serde_json::from_str(&json).unwrap();
        assert_eq!(back, lease);
    }
}
