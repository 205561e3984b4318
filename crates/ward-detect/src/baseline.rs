//! Per-identity baseline: what normal looks like for one identity, and the
//! hour of activity being counted now.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};
use ward_core::event::{Event, FailureClass, IdentityKind};

use crate::alert::Alert;
use crate::config::Config;
use crate::decay::{DecaySet, Decayed, HourlyStats};
use crate::multivariate::FEATURES;

/// Version of the snapshot layout written by [`crate::Engine::snapshot_identity`].
pub const SNAPSHOT_VERSION: u32 = 1;

/// Event ids remembered per identity to drop duplicates.
pub const RECENT_EVENT_IDS: usize = 256;

/// Distinct values counted per hour (operations, targets, sources).
const HOUR_DISTINCT_CAP: usize = 64;

/// Error codes kept per hour for explanations.
const HOUR_CODES_CAP: usize = 16;

/// Counts for one hour of one identity's activity.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct HourBucket {
    pub start: i64,
    pub last_event: i64,
    pub events: u64,
    pub bytes: u64,
    pub operations: Vec<u64>,
    pub targets: Vec<u64>,
    pub sources: Vec<u64>,
    pub new_targets: u32,
    pub failures: [u32; 4],
    pub codes: Vec<(String, u32)>,
    pub secret_reads: u32,
    /// Hourly detectors that already fired in this hour, by name.
    pub fired: Vec<String>,
}

fn add_distinct(values: &mut Vec<u64>, value: u64) {
    if values.len() < HOUR_DISTINCT_CAP && !values.contains(&value) {
        values.push(value);
    }
}

impl HourBucket {
    pub(crate) fn new(start: i64) -> Self {
        HourBucket {
            start,
            ..HourBucket::default()
        }
    }

    pub(crate) fn add(&mut self, event: &Event, time: i64) {
        self.last_event = self.last_event.max(time);
        self.events += 1;
        self.bytes += event.volume.bytes.unwrap_or(0);
        add_distinct(&mut self.operations, hash(&event.operation));
        add_distinct(
            &mut self.targets,
            hash(event.resource.as_deref().unwrap_or(&event.service)),
        );
        if let Some(ip) = &event.src_ip {
            add_distinct(&mut self.sources, hash(ip));
        }
        if event.secret_read {
            self.secret_reads += 1;
        }
        if let Some(class) = event.failure {
            self.failures[class_index(class)] += 1;
            let code = event.status_code.as_deref().unwrap_or(class.as_str());
            let position = self.codes.iter().position(|(known, _)| known == code);
            match position {
                Some(index) => self.codes[index].1 += 1,
                None if self.codes.len() < HOUR_CODES_CAP => self.codes.push((code.to_string(), 1)),
                None => {}
            }
        }
    }

    /// Marks `name` fired in this hour; returns false when it already had.
    pub(crate) fn fire_once(&mut self, name: &str) -> bool {
        if self.fired.iter().any(|fired| fired == name) {
            return false;
        }
        self.fired.push(name.to_string());
        true
    }

    pub(crate) fn failure_total(&self) -> u32 {
        self.failures.iter().sum()
    }
}

pub(crate) fn class_index(class: FailureClass) -> usize {
    match class {
        FailureClass::AuthFailed => 0,
        FailureClass::PermissionDenied => 1,
        FailureClass::Throttled => 2,
        FailureClass::Error => 3,
    }
}

/// FNV-1a, for compact per-hour distinct counts and duplicate detection.
pub(crate) fn hash(text: &str) -> u64 {
    crate::multivariate::seed_for(text)
}

/// The engine's state for one identity, serialised as its snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct IdentityState {
    pub version: u32,
    pub uid: String,
    pub name: Option<String>,
    pub kind: IdentityKind,
    pub first_seen: i64,
    pub high_water: i64,
    pub last_closed_hour: i64,
    pub events: u64,
    pub systems: DecaySet,
    pub resources: DecaySet,
    pub operations: DecaySet,
    pub sources: DecaySet,
    pub user_agents: DecaySet,
    pub failure_classes: [Decayed; 4],
    pub hour_of_day: [Decayed; 24],
    pub weekday: [Decayed; 7],
    pub last_active_day: i64,
    pub volume: HourlyStats,
    pub failure_hours: [HourlyStats; 4],
    pub pulls: HourlyStats,
    pub history: VecDeque<[f32; FEATURES]>,
    pub open: Option<HourBucket>,
    pub recent: VecDeque<u64>,
    pub alert: Option<Alert>,
}

impl IdentityState {
    pub(crate) fn new(event: &Event, time: i64) -> Self {
        IdentityState {
            version: SNAPSHOT_VERSION,
            uid: event.actor.uid.clone(),
            name: event.actor.name.clone(),
            kind: event.actor.kind,
            first_seen: time,
            high_water: time,
            last_closed_hour: i64::MIN,
            events: 0,
            systems: DecaySet::default(),
            resources: DecaySet::default(),
            operations: DecaySet::default(),
            sources: DecaySet::default(),
            user_agents: DecaySet::default(),
            failure_classes: [Decayed::default(); 4],
            hour_of_day: [Decayed::default(); 24],
            weekday: [Decayed::default(); 7],
            last_active_day: i64::MIN,
            volume: HourlyStats::default(),
            failure_hours: [HourlyStats::default(); 4],
            pulls: HourlyStats::default(),
            history: VecDeque::new(),
            open: None,
            recent: VecDeque::new(),
            alert: None,
        }
    }

    /// True once the learning period is over.
    pub(crate) fn learned(&self, config: &Config, now: i64) -> bool {
        now - self.first_seen >= config.learning_s() && self.events >= config.min_learning_events
    }

    /// Remembers `id`; returns false when it was seen recently.
    pub(crate) fn remember(&mut self, id: u64) -> bool {
        if self.recent.contains(&id) {
            return false;
        }
        if self.recent.len() >= RECENT_EVENT_IDS {
            self.recent.pop_front();
        }
        self.recent.push_back(id);
        true
    }

    /// Adds the event's members and failure class to the baseline; returns
    /// true when it touched a target (system or resource) not seen before.
    pub(crate) fn learn_event(&mut self, event: &Event, time: i64, config: &Config) -> bool {
        let half_life = config.half_life_s();
        let caps = &config.caps;
        let mut new_target =
            self.systems
                .observe(&event.service, time, half_life, 1.0, caps.systems);
        if let Some(resource) = &event.resource {
            new_target |= self.resources.observe(
                &resource_key(event, resource),
                time,
                half_life,
                1.0,
                caps.resources,
            );
        }
        self.operations
            .observe(&operation_key(event), time, half_life, 1.0, caps.operations);
        if let Some(ip) = &event.src_ip {
            self.sources.observe(ip, time, half_life, 1.0, caps.sources);
        }
        if let Some(agent) = &event.user_agent {
            self.user_agents.observe(
                &user_agent_key(agent),
                time,
                half_life,
                1.0,
                caps.user_agents,
            );
        }
        if let Some(class) = event.failure {
            self.failure_classes[class_index(class)].add(time, half_life, 1.0);
        }
        if self.name.is_none() {
            self.name = event.actor.name.clone();
        }
        new_target
    }

    /// Adds a closed hour to the hourly statistics and the schedule.
    pub(crate) fn learn_hour(
        &mut self,
        bucket: &HourBucket,
        vector: [f32; FEATURES],
        config: &Config,
    ) {
        let half_life = config.half_life_s();
        let at = bucket.start + 3599;
        self.volume.observe(at, half_life, bucket.events as f64);
        for (index, stats) in self.failure_hours.iter_mut().enumerate() {
            stats.observe(at, half_life, f64::from(bucket.failures[index]));
        }
        self.pulls
            .observe(at, half_life, f64::from(bucket.secret_reads));
        let (hour, weekday) = hour_and_weekday(bucket.start);
        self.hour_of_day[hour as usize].add(at, half_life, 1.0);
        let day = bucket.start.div_euclid(86_400);
        if day != self.last_active_day {
            self.weekday[weekday as usize].add(at, half_life, 1.0);
            self.last_active_day = day;
        }
        if self.history.len() >= config.forest.history.max(1) {
            self.history.pop_front();
        }
        self.history.push_back(vector);
        self.last_closed_hour = bucket.start;
    }

    /// Approximate heap bytes held by this state.
    pub(crate) fn heap_bytes(&self) -> usize {
        let sets = self.systems.heap_bytes()
            + self.resources.heap_bytes()
            + self.operations.heap_bytes()
            + self.sources.heap_bytes()
            + self.user_agents.heap_bytes();
        let history = self.history.capacity() * std::mem::size_of::<[f32; FEATURES]>();
        let recent = self.recent.capacity() * 8;
        let open = self.open.as_ref().map_or(0, |bucket| {
            (bucket.operations.capacity() + bucket.targets.capacity() + bucket.sources.capacity())
                * 8
                + bucket
                    .codes
                    .iter()
                    .map(|(code, _)| code.capacity() + 32)
                    .sum::<usize>()
        });
        std::mem::size_of::<Self>() + self.uid.capacity() + sets + history + recent + open
    }
}

/// Hour of day (UTC) and weekday (0 = Monday) of a Unix time.
pub(crate) fn hour_and_weekday(time: i64) -> (u8, u8) {
    let hour = time.rem_euclid(86_400) / 3600;
    // 1970-01-01 was a Thursday (weekday 3 when Monday is 0).
    let weekday = (time.div_euclid(86_400) + 3).rem_euclid(7);
    (hour as u8, weekday as u8)
}

pub(crate) fn resource_key(event: &Event, resource: &str) -> String {
    format!("{}/{}", event.service, resource)
}

pub(crate) fn operation_key(event: &Event) -> String {
    format!("{}:{}", event.service, event.operation)
}

/// A user agent with digits removed, so a library upgrade is not a new
/// client but a switch from one tool to another is.
pub(crate) fn user_agent_key(agent: &str) -> String {
    let mut key = String::with_capacity(agent.len().min(128));
    let mut last_was_digit = false;
    for ch in agent.chars().take(256) {
        if ch.is_ascii_digit() {
            if !last_was_digit {
                key.push('#');
            }
            last_was_digit = true;
        } else {
            key.push(ch);
            last_was_digit = false;
        }
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekday_of_known_dates() {
        // 2024-05-01T12:00:00Z was a Wednesday.
        assert_eq!(hour_and_weekday(1_714_564_800), (12, 2));
        // 2026-10-04 was a Sunday.
        assert_eq!(hour_and_weekday(1_791_072_000).1, 6);
    }

    #[test]
    fn user_agent_key_drops_versions() {
        assert_eq!(
            user_agent_key("aws-sdk-java/1.12.600 Linux/5.10.220"),
            user_agent_key("aws-sdk-java/1.12.700 Linux/5.10.221")
        );
        assert_ne!(
            user_agent_key("python-requests/2.31.0"),
            user_agent_key("aws-sdk-java/1.12.600")
        );
    }
}
