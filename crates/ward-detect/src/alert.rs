//! Alerts: what fired for one identity, combined into one 0–100 score.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;
use ward_core::event::{FailureClass, IdentityKind};

/// Maximum event ids (and set members) kept as evidence on one alert.
pub const MAX_EVIDENCE_EVENTS: usize = 32;

/// The detectors that can fire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Detector {
    /// First access to a target system the identity never used.
    NewTargetSystem,
    /// First access to a resource inside a known system.
    NewResource,
    /// First use of an operation.
    NewOperation,
    /// More calls in an hour than the baseline allows.
    VolumeBurst,
    /// Activity in an hour or on a weekday the identity is not active.
    OutsideSchedule,
    /// First failure of a class the identity never had.
    NewFailurePattern,
    /// More failures of a class in an hour than the baseline allows.
    FailureSpike,
    /// More secret reads in an hour than the baseline allows, or the first.
    VaultPullChange,
    /// A source address the identity never used.
    NewSourceAddress,
    /// A user agent the identity never used.
    NewUserAgent,
    /// Random Cut Forest score of the hourly feature vector.
    Multivariate,
}

impl Detector {
    /// The snake_case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Detector::NewTargetSystem => "new_target_system",
            Detector::NewResource => "new_resource",
            Detector::NewOperation => "new_operation",
            Detector::VolumeBurst => "volume_burst",
            Detector::OutsideSchedule => "outside_schedule",
            Detector::NewFailurePattern => "new_failure_pattern",
            Detector::FailureSpike => "failure_spike",
            Detector::VaultPullChange => "vault_pull_change",
            Detector::NewSourceAddress => "new_source_address",
            Detector::NewUserAgent => "new_user_agent",
            Detector::Multivariate => "multivariate",
        }
    }
}

/// A signal's observation, in the form feedback needs to teach the baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Evidence {
    /// New members of one of the baseline's sets.
    Members {
        /// The members, such as source addresses (at most 32 are kept).
        values: Vec<String>,
    },
    /// An hour of day (UTC) and weekday (0 = Monday).
    Schedule {
        /// Hour of day, 0–23.
        hour: u8,
        /// Weekday, 0 = Monday.
        weekday: u8,
    },
    /// A count in one hour.
    Count {
        /// Observed count.
        observed: f64,
        /// Failure class the count is about, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        failure: Option<FailureClass>,
    },
    /// An hourly feature vector.
    Vector {
        /// Feature values, in [`crate::multivariate::FEATURE_NAMES`] order.
        values: Vec<f32>,
    },
}

/// One detector's finding inside an alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    /// Detector that fired.
    pub detector: Detector,
    /// Strength in 0–1.
    pub severity: f64,
    /// The observed value, in words.
    pub observed: String,
    /// The baseline value it is compared with, in words.
    pub baseline: String,
    /// Observation in the form feedback needs to teach the baseline.
    pub evidence: Evidence,
    /// Event time of the first event that fired it.
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
}

impl Signal {
    /// One line naming the detector with observed versus baseline values.
    pub fn explanation(&self) -> String {
        format!(
            "{}: {} (baseline: {})",
            self.detector.as_str(),
            self.observed,
            self.baseline
        )
    }
}

/// A scored, explained deviation of one identity from its baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Alert id, `alr_…`.
    pub id: String,
    /// Key of the identity (`Event::actor.uid`).
    pub identity: String,
    /// Display name of the identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_name: Option<String>,
    /// Kind of the identity.
    pub identity_kind: IdentityKind,
    /// Combined score, 0–100.
    pub score: u8,
    /// Event time of the first signal.
    #[serde(with = "time::serde::rfc3339")]
    pub first_seen: OffsetDateTime,
    /// Event time of the latest signal.
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen: OffsetDateTime,
    /// One line per signal, strongest first.
    pub summary: String,
    /// Signals, one per detector (and per failure class).
    pub signals: Vec<Signal>,
    /// Ids of events that fired a signal (at most [`MAX_EVIDENCE_EVENTS`]).
    pub event_uids: Vec<String>,
    /// Revision number: 1 when first returned, then one more each time the
    /// alert is returned again. The server keeps the highest revision of each id.
    pub revision: u32,
    /// True when the alert changed since its last revision was returned.
    #[serde(default, skip_serializing)]
    pub(crate) pending: bool,
}

/// Combines signal severities into a score: `100 × (1 − Π(1 − s))`, so
/// independent weak signals add up and no number of them passes 100.
pub fn combined_score(signals: &[Signal]) -> u8 {
    let miss: f64 = signals
        .iter()
        .map(|signal| 1.0 - signal.severity.clamp(0.0, 1.0))
        .product();
    ((1.0 - miss) * 100.0).round().clamp(0.0, 100.0) as u8
}

impl Alert {
    /// Recomputes the score and summary after signals changed.
    pub(crate) fn refresh(&mut self) {
        self.signals
            .sort_by(|a, b| b.severity.total_cmp(&a.severity));
        self.score = combined_score(&self.signals);
        self.summary = self
            .signals
            .iter()
            .map(Signal::explanation)
            .collect::<Vec<_>>()
            .join("; ");
    }

    /// OCSF 1.1 Detection Finding (class_uid 2004) for SIEM export.
    pub fn to_ocsf(&self) -> Value {
        let severity_id = match self.score {
            0..=19 => 1,
            20..=39 => 2,
            40..=69 => 3,
            70..=89 => 4,
            _ => 5,
        };
        let severity = [
            "Unknown",
            "Informational",
            "Low",
            "Medium",
            "High",
            "Critical",
        ][severity_id];
        let activity_id = if self.revision > 1 { 2 } else { 1 };
        let millis = |time: OffsetDateTime| (time.unix_timestamp_nanos() / 1_000_000) as i64;
        let kind = serde_json::to_value(self.identity_kind).unwrap_or(Value::Null);
        json!({
            "class_uid": 2004,
            "class_name": "Detection Finding",
            "category_uid": 2,
            "category_name": "Findings",
            "activity_id": activity_id,
            "activity_name": if activity_id == 1 { "Create" } else { "Update" },
            "type_uid": 200400 + activity_id,
            "time": millis(self.last_seen),
            "severity_id": severity_id,
            "severity": severity,
            "status_id": 1,
            "status": "New",
            "risk_score": self.score,
            "message": self.summary,
            "finding_info": {
                "uid": self.id,
                "title": format!("Behaviour change of {}", self.identity_name.as_deref().unwrap_or(&self.identity)),
                "desc": self.summary,
                "types": self.signals.iter().map(|s| s.detector.as_str()).collect::<Vec<_>>(),
                "first_seen_time": millis(self.first_seen),
                "last_seen_time": millis(self.last_seen),
                "analytic": {"name": "ward-detect baseline", "type_id": 2, "type": "Behavioral"},
                "related_events": self.event_uids.iter().map(|uid| json!({"uid": uid})).collect::<Vec<_>>(),
            },
            "actor": {"user": {"uid": self.identity, "name": self.identity_name, "type": kind}},
            "evidences": self.signals.iter().map(|signal| json!({
                "data": {
                    "detector": signal.detector.as_str(),
                    "severity": signal.severity,
                    "observed": signal.observed,
                    "baseline": signal.baseline,
                }
            })).collect::<Vec<_>>(),
            "metadata": {
                "version": "1.1.0",
                "product": {"name": "Ward", "vendor_name": "Ward", "feature": {"name": "detect"}},
                "uid": format!("{}-r{}", self.id, self.revision),
            },
        })
    }
}
