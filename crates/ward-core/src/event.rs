//! The normalised activity event that every log parser produces.
//!
//! Field names follow the Open Cybersecurity Schema Framework (OCSF 1.x)
//! where it has one. `uid` is `metadata.uid`, `class` picks API Activity
//! (6003), Authentication (3002) or Entity Management (3004), `operation` is
//! `api.operation`, `service` is `api.service.name`, `resource` is
//! `resources[0].name`, `src_ip` is `src_endpoint.ip` and `user_agent` is
//! `http_request.user_agent`. Detection reads only this type, so it never
//! knows which log an event came from.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// One normalised activity record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Source event id (`metadata.uid`), the key for idempotent ingestion.
    pub uid: String,
    /// When the activity happened, from the log record, never ingest time.
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
    /// OCSF event class.
    pub class: EventClass,
    /// Who acted.
    pub actor: Actor,
    /// Operation name as the source system spells it, such as `GetObject`.
    pub operation: String,
    /// Target system, such as `s3.amazonaws.com` or `kubernetes`.
    pub service: String,
    /// Target resource inside the system, such as a bucket or secret name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// Outcome of the activity.
    pub status: Status,
    /// Failure class when `status` is `failure`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<FailureClass>,
    /// Source-specific status or error code, such as `AccessDeniedException`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<String>,
    /// Source-specific error message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_detail: Option<String>,
    /// Source address (`src_endpoint.ip`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_ip: Option<String>,
    /// Client user agent (`http_request.user_agent`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// Records or bytes moved, when the source reports them.
    #[serde(default, skip_serializing_if = "Volume::is_empty")]
    pub volume: Volume,
    /// Session or workflow run id (`actor.session.uid`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_uid: Option<String>,
    /// True when the activity read a secret or credential value (a vault pull).
    #[serde(default, skip_serializing_if = "is_false")]
    pub secret_read: bool,
    /// Log the event came from (`metadata.product.name`), such as `cloudtrail`.
    pub source: String,
    /// True when the record was cut short and only some fields were recovered.
    #[serde(default, skip_serializing_if = "is_false")]
    pub partial: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// OCSF event classes that Ward maps activity into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventClass {
    /// API Activity, class_uid 6003.
    ApiActivity,
    /// Authentication, class_uid 3002.
    Authentication,
    /// Entity Management, class_uid 3004.
    EntityManagement,
}

impl EventClass {
    /// OCSF `class_uid`.
    pub fn class_uid(self) -> u32 {
        match self {
            EventClass::ApiActivity => 6003,
            EventClass::Authentication => 3002,
            EventClass::EntityManagement => 3004,
        }
    }
}

/// The identity that acted (OCSF `actor.user`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Actor {
    /// Stable key of the identity; baselines are kept per `uid`.
    pub uid: String,
    /// Display name, such as the IAM user or role session name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Kind of identity.
    pub kind: IdentityKind,
    /// Cloud account or tenant (`actor.user.account.uid`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_uid: Option<String>,
    /// Role or group the identity acted through, such as an assumed IAM role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// True when the record claims an identity it does not prove.
    #[serde(default, skip_serializing_if = "is_false")]
    pub unverified: bool,
    /// True for identities whose use is high-risk in itself, such as an AWS root.
    #[serde(default, skip_serializing_if = "is_false")]
    pub high_risk: bool,
}

impl Actor {
    /// An actor of `kind` keyed by `uid`, with no other attributes.
    pub fn new(uid: impl Into<String>, kind: IdentityKind) -> Self {
        Actor {
            uid: uid.into(),
            name: None,
            kind,
            account_uid: None,
            role: None,
            unverified: false,
            high_risk: false,
        }
    }

    /// Sets the display name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}

/// Kinds of identity that appear in activity logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityKind {
    /// A bot registered in Ward.
    WardBot,
    /// An operator of Ward.
    WardOperator,
    /// An AWS IAM user.
    IamUser,
    /// An AWS role session (`AssumedRole`).
    AssumedRole,
    /// An AWS account root user.
    AwsRoot,
    /// An AWS service acting on the account's behalf.
    AwsService,
    /// An AWS IAM Identity Center user.
    IdentityCenterUser,
    /// A federated or web-identity session.
    FederatedUser,
    /// A Microsoft Entra service principal.
    ServicePrincipal,
    /// A Microsoft Entra managed identity.
    ManagedIdentity,
    /// A Kubernetes service account.
    KubernetesServiceAccount,
    /// A Kubernetes user or system component.
    KubernetesUser,
    /// A UiPath robot or robot account.
    Robot,
    /// A human user account.
    User,
    /// An unauthenticated caller.
    Anonymous,
    /// Any other kind.
    Other,
}

/// Outcome of an activity (OCSF `status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The activity succeeded.
    Success,
    /// The activity failed.
    Failure,
    /// The log does not say.
    Unknown,
}

/// Why an activity failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureClass {
    /// Authentication failed: bad, expired or missing credentials.
    AuthFailed,
    /// The identity was authenticated but not allowed.
    PermissionDenied,
    /// The target rate-limited the identity.
    Throttled,
    /// Any other failure.
    Error,
}

impl FailureClass {
    /// All classes, in a fixed order used for feature vectors.
    pub const ALL: [FailureClass; 4] = [
        FailureClass::AuthFailed,
        FailureClass::PermissionDenied,
        FailureClass::Throttled,
        FailureClass::Error,
    ];

    /// The snake_case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureClass::AuthFailed => "auth_failed",
            FailureClass::PermissionDenied => "permission_denied",
            FailureClass::Throttled => "throttled",
            FailureClass::Error => "error",
        }
    }
}

/// Amount of data an activity moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Volume {
    /// Records read or written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records: Option<u64>,
    /// Bytes read or written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
}

impl Volume {
    /// True when neither count is known.
    pub fn is_empty(&self) -> bool {
        self.records.is_none() && self.bytes.is_none()
    }
}

impl Event {
    /// A successful API Activity event; set the other fields directly.
    ///
    /// The server builds events for Ward's own vault pulls, logins, grants and
    /// denials this way, for example
    /// `Event::new(uid, now, actor, "secret.read", "ward-vault")` with
    /// `resource` set to the secret path and `secret_read` set to true.
    pub fn new(
        uid: impl Into<String>,
        time: OffsetDateTime,
        actor: Actor,
        operation: impl Into<String>,
        service: impl Into<String>,
    ) -> Self {
        Event {
            uid: uid.into(),
            time,
            class: EventClass::ApiActivity,
            actor,
            operation: operation.into(),
            service: service.into(),
            resource: None,
            status: Status::Success,
            failure: None,
            status_code: None,
            status_detail: None,
            src_ip: None,
            user_agent: None,
            volume: Volume::default(),
            session_uid: None,
            secret_read: false,
            source: "ward".to_string(),
            partial: false,
        }
    }

    /// Marks the event failed with `class`.
    pub fn failed(mut self, class: FailureClass) -> Self {
        self.status = Status::Failure;
        self.failure = Some(class);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_json_round_trip() {
        let time = OffsetDateTime::from_unix_timestamp(1_714_564_800).unwrap();
        let mut event = Event::new(
            "e1",
            time,
            Actor::new("bot_a", IdentityKind::WardBot),
            "secret.read",
            "ward-vault",
        )
        .failed(FailureClass::PermissionDenied);
        event.resource = Some("kv/rpa/invoice".into());
        event.secret_read = true;
        let text = serde_json::to_string(&event).unwrap();
        assert!(text.contains("\"time\":\"2024-05-01T12:00:00Z\""), "{text}");
        assert!(text.contains("\"failure\":\"permission_denied\""), "{text}");
        let back: Event = serde_json::from_str(&text).unwrap();
        assert_eq!(back, event);
    }
}
