//! Behavioural detection for non-human identities.
//!
//! [`parse`] turns activity logs into [`ward_core::event::Event`]s. An
//! [`Engine`] keeps one baseline per identity, runs the detectors on each
//! event and on each finished hour, and returns [`Alert`]s: scored,
//! explained deviations that can be exported as OCSF Detection Findings.
//! Baselines are snapshotted and restored as JSON so a server can
//! checkpoint them; time is read only from events.

pub mod alert;
mod baseline;
pub mod config;
mod decay;
mod detectors;
pub mod engine;
mod feedback;
pub mod multivariate;
pub mod parse;

pub use alert::{Alert, Detector, Evidence, Signal};
pub use baseline::{RECENT_EVENT_IDS, SNAPSHOT_VERSION};
pub use config::{Config, SetCaps};
pub use engine::{Engine, FeedbackError, RestoreError, Stats, Verdict, latest_revisions};
