//! Detection settings, with defaults that suit bots on an hourly or daily
//! schedule.

use serde::{Deserialize, Serialize};

use crate::multivariate::ForestConfig;

/// Detection settings. Every field has a default, so a TOML table may set
/// only the fields it changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Days after an identity's first event before it can raise alerts.
    pub learning_days: f64,
    /// Events an identity must have before it can raise alerts.
    pub min_learning_events: u64,
    /// Half-life of baseline weights, in days: behaviour not seen for this
    /// long counts half as much.
    pub half_life_days: f64,
    /// Lowest combined score (0–100) at which an alert is returned.
    pub alert_threshold: u8,
    /// Seconds an event may arrive behind the newest event of its identity
    /// and still be scored; older events are counted as stale and skipped.
    pub max_lateness_s: i64,
    /// Seconds after an alert's latest signal during which new signals of the
    /// same identity join that alert instead of opening another.
    pub alert_window_s: i64,
    /// An hourly count (calls, failures, secret reads) is a burst when it
    /// exceeds this multiple of the identity's decayed hourly maximum.
    pub burst_factor: f64,
    /// Minimum calls in an hour for a volume burst.
    pub min_burst_events: u64,
    /// Minimum failures of one class in an hour for a failure spike.
    pub min_failure_spike: u64,
    /// Minimum secret reads in an hour for a change in vault pulls.
    pub min_pull_burst: u64,
    /// A new set member raises no signal when the identity's novelty rate
    /// (share of recent lookups that found something new) is above this.
    pub max_novelty_rate: f64,
    /// An hour of day or weekday is outside the schedule when its decayed
    /// activity is below this share of the busiest hour or weekday.
    pub schedule_min_share: f64,
    /// Caps on the per-identity sets (targets, resources, operations,
    /// source addresses, user agents).
    pub caps: SetCaps,
    /// Random Cut Forest settings.
    pub forest: ForestConfig,
}

/// Caps on per-identity sets; past a cap the member with the lowest decayed
/// weight is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SetCaps {
    /// Target systems.
    pub systems: usize,
    /// Resources across all systems.
    pub resources: usize,
    /// Operations across all systems.
    pub operations: usize,
    /// Source addresses.
    pub sources: usize,
    /// User agents, with version numbers removed.
    pub user_agents: usize,
}

impl Default for SetCaps {
    fn default() -> Self {
        SetCaps {
            systems: 64,
            resources: 256,
            operations: 128,
            sources: 32,
            user_agents: 16,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            learning_days: 7.0,
            min_learning_events: 50,
            half_life_days: 14.0,
            alert_threshold: 40,
            max_lateness_s: 3600,
            alert_window_s: 3600,
            burst_factor: 2.0,
            min_burst_events: 20,
            min_failure_spike: 5,
            min_pull_burst: 5,
            max_novelty_rate: 0.05,
            schedule_min_share: 0.05,
            caps: SetCaps::default(),
            forest: ForestConfig::default(),
        }
    }
}

impl Config {
    pub(crate) fn half_life_s(&self) -> f64 {
        self.half_life_days * 86_400.0
    }

    pub(crate) fn learning_s(&self) -> i64 {
        (self.learning_days * 86_400.0) as i64
    }
}
