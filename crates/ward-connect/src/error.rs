//! Errors from connectors, configuration and dynamic credentials.
//!
//! No variant carries a secret value. Text that comes from a driver or a
//! receiver passes through `scrub` with every secret of the operation first,
//! so a driver that echoes its input still cannot leak one.

use secrecy::{ExposeSecret, SecretString};

/// A connector or dynamic-credential configuration that failed validation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid connector config field `{field}`: {reason}")]
pub struct ConfigError {
    /// Name of the field, as written in the configuration file.
    pub field: String,
    /// What is wrong and what is expected. Never contains the field's value
    /// when the field holds a secret.
    pub reason: String,
}

impl ConfigError {
    pub(crate) fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        ConfigError {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// A failed rotation, verification or dynamic-credential operation.
///
/// `target` fields hold the endpoint with any password removed, such as
/// `postgres://ward_admin@10.0.0.5:5432/erp` or `https://hooks.example/rotate`.
#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    /// The input for one operation is invalid, such as an empty role name.
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// Name of the input.
        field: &'static str,
        /// What is wrong and what is expected.
        reason: String,
    },

    /// The role to rotate does not exist at the target.
    #[error(
        "role `{role}` does not exist at {target}: create the role or correct the secret's rotation target"
    )]
    RoleNotFound {
        /// Role name as given.
        role: String,
        /// Redacted endpoint.
        target: String,
    },

    /// The role exists but has NOLOGIN, so a password for it would be useless.
    #[error(
        "role `{role}` at {target} cannot log in (NOLOGIN): grant it LOGIN or rotate another role"
    )]
    RoleCannotLogin {
        /// Role name as given.
        role: String,
        /// Redacted endpoint.
        target: String,
    },

    /// Connecting to the target failed or timed out.
    #[error("could not connect to {target}: {detail}")]
    Connect {
        /// Redacted endpoint.
        target: String,
        /// Driver message, scrubbed of secrets.
        detail: String,
    },

    /// A statement failed at the target database.
    #[error("{action} failed at {target}: {detail}")]
    Database {
        /// What Ward tried, such as `alter role` or `drop role`.
        action: &'static str,
        /// Redacted endpoint.
        target: String,
        /// Driver message, scrubbed of secrets.
        detail: String,
    },

    /// The secret did not work when checked. When the check followed a
    /// change (`after_change`), the target may already have the new secret.
    #[error(
        "verification of `{account}` at {target} failed{}: {detail}",
        if *after_change { " after the change" } else { "" }
    )]
    VerifyFailed {
        /// Account whose secret was checked.
        account: String,
        /// Whether the check followed a change made by `rotate`.
        after_change: bool,
        /// Redacted endpoint.
        target: String,
        /// What did not match, scrubbed of secrets.
        detail: String,
    },

    /// The webhook receiver responded with a status that retrying cannot fix.
    #[error(
        "webhook {url} rejected rotation {rotation_id} with HTTP {status}: fix the receiver or the connector config; Ward does not retry this status"
    )]
    Rejected {
        /// Redacted receiver URL.
        url: String,
        /// Rotation the request belonged to.
        rotation_id: String,
        /// HTTP status code.
        status: u16,
    },

    /// The webhook receiver did not accept the rotation within the allowed
    /// attempts.
    #[error(
        "webhook {url} did not accept rotation {rotation_id} after {attempts} attempts, last: {last}"
    )]
    Unavailable {
        /// Redacted receiver URL.
        url: String,
        /// Rotation the request belonged to.
        rotation_id: String,
        /// Attempts made.
        attempts: u32,
        /// The last failure, such as `HTTP 503` or `timed out after 10000 ms`.
        last: String,
        /// Whether any attempt may have reached the receiver (a timeout after
        /// sending, or a 5xx response), so the receiver may have applied it.
        maybe_applied: bool,
    },

    /// The requested lease TTL is longer than the configured maximum.
    #[error(
        "requested lease ttl of {requested_seconds} s exceeds max_ttl of {max_seconds} s: request a shorter ttl or raise max_ttl"
    )]
    TtlTooLong {
        /// Requested TTL in seconds.
        requested_seconds: i64,
        /// Configured maximum in seconds.
        max_seconds: i64,
    },

    /// The operating system's random source failed.
    #[error("the operating system random source failed: {0}")]
    Random(String),
}

impl ConnectorError {
    /// Stable code for audit records, alerts and API errors.
    pub fn code(&self) -> &'static str {
        match self {
            ConnectorError::InvalidInput { .. } => "invalid_input",
            ConnectorError::RoleNotFound { .. } => "role_not_found",
            ConnectorError::RoleCannotLogin { .. } => "role_cannot_login",
            ConnectorError::Connect { .. } => "target_unreachable",
            ConnectorError::Database { .. } => "target_error",
            ConnectorError::VerifyFailed { .. } => "verify_failed",
            ConnectorError::Rejected { .. } => "target_rejected",
            ConnectorError::Unavailable { .. } => "target_unavailable",
            ConnectorError::TtlTooLong { .. } => "ttl_too_long",
            ConnectorError::Random(_) => "random_source_failed",
        }
    }

    /// Whether the target may hold the new secret despite the error.
    ///
    /// When this is true the caller cannot assume the old secret still works.
    /// The vault should call `rotate` again with the previous value to put it
    /// back, or retry with the new one; connectors accept a repeated value.
    pub fn target_may_have_changed(&self) -> bool {
        match self {
            ConnectorError::VerifyFailed { after_change, .. } => *after_change,
            ConnectorError::Unavailable { maybe_applied, .. } => *maybe_applied,
            _ => false,
        }
    }
}

/// Replaces every occurrence of each non-empty secret in `text` with
/// `[redacted]`.
pub(crate) fn scrub(text: impl Into<String>, secrets: &[&SecretString]) -> String {
    let mut text = text.into();
    for secret in secrets {
        let value = secret.expose_secret();
        if !value.is_empty() && text.contains(value) {
            text = text.replace(value, "[redacted]");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_removes_each_secret() {
        let one = SecretString::from("hunter2");
        let two = SecretString::from("s3cr3t");
        let text = scrub("login hunter2 failed, s3cr3t too", &[&one, &two]);
        assert_eq!(text, "login [redacted] failed, [redacted] too");
    }

    #[test]
    fn scrub_ignores_empty_secret() {
        let empty = SecretString::from("");
        assert_eq!(scrub("unchanged", &[&empty]), "unchanged");
    }

    #[test]
    fn codes_are_stable() {
        let err = ConnectorError::RoleNotFound {
            role: "r".into(),
            target: "t".into(),
        };
        assert_eq!(err.code(), "role_not_found");
        assert!(!err.target_may_have_changed());
    }
}
