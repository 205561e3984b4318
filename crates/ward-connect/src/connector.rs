//! The connector trait: how Ward changes a credential at the system that
//! checks it.

use std::fmt;

use async_trait::async_trait;
use secrecy::SecretString;
use serde::Serialize;
use time::OffsetDateTime;
use ward_core::id::{Id, IdKind};

use crate::error::ConnectorError;

/// Kind marker for rotation ids (`rot_…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RotationKind;

impl IdKind for RotationKind {
    const PREFIX: &'static str = "rot";
    const NAME: &'static str = "rotation";
}

/// Id of one rotation attempt, shared by the audit record, the alert and the
/// request the connector sends, so a receiver can ignore a repeat.
pub type RotationId = Id<RotationKind>;

/// Connector kinds, as written in the `kind` field of a connector config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectorKind {
    /// A PostgreSQL login role.
    Postgres,
    /// An HTTP receiver that applies the secret itself.
    Webhook,
}

impl fmt::Display for ConnectorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConnectorKind::Postgres => "postgres",
            ConnectorKind::Webhook => "webhook",
        })
    }
}

/// What one rotation changes: the account at the target, and the vault
/// version the new value becomes.
#[derive(Debug, Clone)]
pub struct TargetSpec {
    /// Id of this rotation.
    pub rotation_id: RotationId,
    /// Vault path of the secret, such as `bots/invoice/erp-db`.
    pub secret_path: String,
    /// Vault version number the new value is written as.
    pub version: u64,
    /// Account whose credential changes: a PostgreSQL role name, or the
    /// name a webhook receiver knows the account by.
    pub account: String,
    /// When Ward started the rotation, from its injected clock.
    pub requested_at: OffsetDateTime,
}

/// How a connector confirmed that the target accepts the new secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Verification {
    /// A login with the new secret succeeded. `stored_verifier_checked` is
    /// true when the target's stored password hash was also compared with the
    /// new secret, which also proves the change on servers that trust the
    /// connection without a password.
    Login {
        /// Whether the stored verifier was compared as well.
        stored_verifier_checked: bool,
    },
    /// The receiver responded with 2xx, taking responsibility for the change. Ward
    /// cannot check the credential itself.
    Acknowledged {
        /// HTTP status of the accepting response.
        status: u16,
    },
}

/// Proof of a successful rotation, for the audit record.
#[derive(Debug, Clone, Serialize)]
pub struct RotationReceipt {
    /// Id of the rotation.
    pub rotation_id: RotationId,
    /// Connector that did the change.
    pub kind: ConnectorKind,
    /// Account that changed.
    pub account: String,
    /// Redacted endpoint that was changed.
    pub target: String,
    /// How the change was confirmed.
    pub verification: Verification,
    /// Requests sent to reach success (1 unless the connector retried).
    pub attempts: u32,
}

/// Changes a credential at the system that checks it.
///
/// The vault calls `rotate` after it has generated the new value and before
/// the new version becomes current. The sequence it follows:
///
/// 1. Write the new value as a pending version, so no value is ever lost.
/// 2. Call `rotate`. On success, make the new version current; the previous
///    version stays readable for the secret's grace window.
/// 3. On an error, keep the previous version current, audit the error with
///    [`ConnectorError::code`] and raise an alert. If
///    [`ConnectorError::target_may_have_changed`] is true, call `rotate`
///    again with the previous value to put it back.
///
/// Implementations must accept the same value twice without harm, because
/// step 3 and retries repeat a call. They must never put a secret value in an
/// error, a log line or their `Debug` output.
///
/// # Further connectors
///
/// - **LDAP and Active Directory** fit the trait as it is. `rotate` binds as
///   a service account and sets the password with the LDAP Password Modify
///   extended operation (RFC 3062), or on Active Directory replaces
///   `unicodePwd` over LDAPS. `account` is the entry's DN, and `verify` binds
///   as that DN with the secret.
/// - **Cloud access keys** (AWS IAM, GCP service account keys, Azure app
///   secrets) differ in two ways: the provider generates the secret, and the
///   old key stays valid until deleted. They need a receipt field that
///   carries the provider-issued secret and key id, and a `retire` method,
///   called when the grace window ends, that deletes the old key. A `retire`
///   method with a default that does nothing can be added without changing
///   the existing connectors.
#[async_trait]
pub trait Connector: fmt::Debug + Send + Sync {
    /// The connector's kind.
    fn kind(&self) -> ConnectorKind;

    /// Sets `new_secret` as the credential of `target.account` and confirms
    /// that it works.
    async fn rotate(
        &self,
        target: &TargetSpec,
        new_secret: &SecretString,
    ) -> Result<RotationReceipt, ConnectorError>;

    /// Checks that `secret` is the current credential of `target.account`,
    /// without changing anything.
    async fn verify(
        &self,
        target: &TargetSpec,
        secret: &SecretString,
    ) -> Result<Verification, ConnectorError>;
}
