//! The detection engine: routes each event to its identity's baseline, runs
//! the detectors and merges what fired into alerts.
//!
//! Time comes only from event timestamps, so offline replay and live
//! ingestion run the same code and give the same results.

use std::collections::{HashMap, HashSet};

use serde_json::Value;
use time::OffsetDateTime;
use ward_core::event::Event;
use ward_core::id::{AlertKind, Id};

use crate::alert::{Alert, Detector, Evidence, MAX_EVIDENCE_EVENTS, Signal};
use crate::baseline::{HourBucket, IdentityState, SNAPSHOT_VERSION, hash};
use crate::config::Config;
use crate::detectors::{event_signals, hourly_signals, schedule_signal};
use crate::multivariate;

/// Counters over everything the engine processed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    /// Events scored.
    pub processed: u64,
    /// Events dropped because their id was seen recently for the identity.
    pub duplicates: u64,
    /// Events dropped because they were older than the identity's newest
    /// event by more than `max_lateness_s`.
    pub stale: u64,
}

/// An operator's verdict on an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Seen and real; the baseline does not change.
    Acknowledged,
    /// Normal behaviour; every signal's observation is taught to the baseline.
    FalsePositive,
}

/// Failure to apply feedback.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeedbackError {
    /// No baseline is loaded for the alert's identity.
    #[error("no baseline loaded for identity `{0}`: restore its snapshot before sending feedback")]
    UnknownIdentity(String),
}

/// Failure to restore a snapshot.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    /// The snapshot is not a baseline this version can read.
    #[error("invalid baseline snapshot: {0}")]
    Invalid(#[from] serde_json::Error),
    /// The snapshot was written by a newer layout.
    #[error("baseline snapshot version {found} is newer than supported version {supported}")]
    Version {
        /// Version in the snapshot.
        found: u32,
        /// Newest version this build reads.
        supported: u32,
    },
}

/// Per-identity behavioural detection over a stream of events.
#[derive(Debug, Default)]
pub struct Engine {
    config: Config,
    identities: HashMap<String, IdentityState>,
    dirty: HashSet<String>,
    stats: Stats,
}

impl Engine {
    /// An engine with no baselines.
    pub fn new(config: Config) -> Self {
        Engine {
            config,
            ..Engine::default()
        }
    }

    /// The settings in use.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Counters so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Scores one event and updates its identity's baseline. Returns the
    /// alerts this event created or changed (same `id`, higher `revision`).
    pub fn process(&mut self, event: &Event) -> Vec<Alert> {
        let time = event.time.unix_timestamp();
        let uid = event.actor.uid.as_str();
        if !self.identities.contains_key(uid) {
            self.identities
                .insert(uid.to_string(), IdentityState::new(event, time));
        }
        let Some(state) = self.identities.get_mut(uid) else {
            return Vec::new();
        };
        if time < state.high_water - self.config.max_lateness_s {
            self.stats.stale += 1;
            return Vec::new();
        }
        if !state.remember(hash(&event.uid)) {
            self.stats.duplicates += 1;
            return Vec::new();
        }
        self.stats.processed += 1;
        if !self.dirty.contains(uid) {
            self.dirty.insert(uid.to_string());
        }
        let mut alerts = Vec::new();
        process_event(state, event, time, &self.config, &mut alerts);
        alerts
    }

    /// Scores a batch in order; returns the latest revision of each alert.
    pub fn process_batch<'a>(&mut self, events: impl IntoIterator<Item = &'a Event>) -> Vec<Alert> {
        let mut alerts = Vec::new();
        for event in events {
            alerts.extend(self.process(event));
        }
        latest_revisions(alerts)
    }

    /// Closes every open hour that ended more than `max_lateness_s` before
    /// `now` (an event time, such as the newest one the server has seen) and
    /// scores it. Returns the alerts that raised or changed.
    pub fn advance_to(&mut self, now: OffsetDateTime) -> Vec<Alert> {
        let now = now.unix_timestamp();
        let mut alerts = Vec::new();
        for state in self.identities.values_mut() {
            let due = state
                .open
                .as_ref()
                .is_some_and(|bucket| bucket.start + 3600 + self.config.max_lateness_s <= now);
            if due && let Some(bucket) = state.open.take() {
                close_hour(state, bucket, &self.config, &mut alerts);
                emit_pending(state, &self.config, &mut alerts);
                self.dirty.insert(state.uid.clone());
            }
        }
        alerts
    }

    /// Closes and scores every open hour, as at the end of a replay.
    pub fn finish(&mut self) -> Vec<Alert> {
        let mut alerts = Vec::new();
        for state in self.identities.values_mut() {
            if let Some(bucket) = state.open.take() {
                close_hour(state, bucket, &self.config, &mut alerts);
                self.dirty.insert(state.uid.clone());
            }
            emit_pending(state, &self.config, &mut alerts);
        }
        alerts
    }

    /// Applies a person's verdict. A false positive teaches the baseline
    /// each signal's observation: new members are added with extra weight,
    /// the schedule slot, hourly maxima and feature vector are accepted.
    pub fn feedback(&mut self, alert: &Alert, verdict: Verdict) -> Result<(), FeedbackError> {
        let state = self
            .identities
            .get_mut(&alert.identity)
            .ok_or_else(|| FeedbackError::UnknownIdentity(alert.identity.clone()))?;
        if verdict == Verdict::Acknowledged {
            return Ok(());
        }
        for signal in &alert.signals {
            crate::feedback::teach(state, signal, &self.config);
        }
        if state.alert.as_ref().is_some_and(|open| open.id == alert.id) {
            state.alert = None;
        }
        self.dirty.insert(alert.identity.clone());
        Ok(())
    }

    /// The identity's baseline as JSON, for the server's checkpoint store.
    pub fn snapshot_identity(&self, uid: &str) -> Option<Value> {
        let state = self.identities.get(uid)?;
        match serde_json::to_value(state) {
            Ok(value) => Some(value),
            Err(err) => {
                tracing::error!(identity = uid, error = %err, "failed to serialise baseline");
                None
            }
        }
    }

    /// Loads a baseline written by [`Engine::snapshot_identity`], replacing
    /// any held for the same identity. Returns the identity key.
    pub fn restore_identity(&mut self, snapshot: Value) -> Result<String, RestoreError> {
        let version = snapshot.get("version").and_then(Value::as_u64).unwrap_or(0);
        if version > u64::from(SNAPSHOT_VERSION) {
            return Err(RestoreError::Version {
                found: version as u32,
                supported: SNAPSHOT_VERSION,
            });
        }
        let state: IdentityState = serde_json::from_value(snapshot)?;
        let uid = state.uid.clone();
        self.identities.insert(uid.clone(), state);
        Ok(uid)
    }

    /// Identities changed since the last call, to checkpoint.
    pub fn take_dirty(&mut self) -> Vec<String> {
        self.dirty.drain().collect()
    }

    /// Removes an identity's baseline from memory and returns its snapshot.
    pub fn evict_identity(&mut self, uid: &str) -> Option<Value> {
        let snapshot = self.snapshot_identity(uid);
        self.identities.remove(uid);
        self.dirty.remove(uid);
        snapshot
    }

    /// Removes every identity whose newest event is older than `before` and
    /// returns their snapshots, so a server can bound memory by storing them.
    pub fn evict_idle(&mut self, before: OffsetDateTime) -> Vec<(String, Value)> {
        let before = before.unix_timestamp();
        let idle: Vec<String> = self
            .identities
            .values()
            .filter(|state| state.high_water < before)
            .map(|state| state.uid.clone())
            .collect();
        idle.into_iter()
            .filter_map(|uid| self.evict_identity(&uid).map(|snapshot| (uid, snapshot)))
            .collect()
    }

    /// True when a baseline for `uid` is in memory.
    pub fn contains_identity(&self, uid: &str) -> bool {
        self.identities.contains_key(uid)
    }

    /// Number of identities held in memory.
    pub fn identity_count(&self) -> usize {
        self.identities.len()
    }

    /// Approximate heap bytes held by all baselines.
    pub fn heap_bytes(&self) -> usize {
        self.identities
            .values()
            .map(IdentityState::heap_bytes)
            .sum()
    }
}

fn process_event(
    state: &mut IdentityState,
    event: &Event,
    time: i64,
    config: &Config,
    alerts: &mut Vec<Alert>,
) {
    let hour = time - time.rem_euclid(3600);
    let late =
        hour <= state.last_closed_hour || state.open.as_ref().is_some_and(|open| hour < open.start);
    if !late
        && state.open.as_ref().is_some_and(|open| hour > open.start)
        && let Some(bucket) = state.open.take()
    {
        close_hour(state, bucket, config, alerts);
    }
    let learned = state.learned(config, time);
    let mut signals = if learned {
        event_signals(state, event, time, config)
    } else {
        Vec::new()
    };

    let new_target = state.learn_event(event, time, config);
    state.events += 1;
    state.high_water = state.high_water.max(time);
    if !late {
        let bucket = state.open.get_or_insert_with(|| HourBucket::new(hour));
        let first_in_hour = bucket.events == 0;
        bucket.add(event, time);
        if new_target {
            bucket.new_targets += 1;
        }
        if learned {
            if first_in_hour && let Some(found) = schedule_signal(state, time, config) {
                signals.push(found);
            }
            let hourly = state
                .open
                .as_ref()
                .map(|bucket| hourly_signals(state, bucket, time, config));
            if let (Some(hourly), Some(bucket)) = (hourly, state.open.as_mut()) {
                for (name, found) in hourly {
                    // A detector that already fired this hour still updates
                    // its count in the open alert.
                    bucket.fire_once(&name);
                    signals.push(found);
                }
            }
        }
    }
    if !signals.is_empty() {
        merge(state, signals, Some(&event.uid), time, config, alerts);
    }
}

/// Scores a finished hour with the forest, then adds it to the baseline.
fn close_hour(
    state: &mut IdentityState,
    bucket: HourBucket,
    config: &Config,
    alerts: &mut Vec<Alert>,
) {
    let vector = crate::feedback::features(&bucket);
    let end = bucket.last_event.max(bucket.start);
    if state.learned(config, end) {
        let history: Vec<_> = state.history.iter().copied().collect();
        let seed = multivariate::seed_for(&state.uid);
        if let Some(scored) = multivariate::score(&config.forest, seed, &history, &vector)
            && scored.score > config.forest.threshold
        {
            let found = crate::feedback::multivariate_signal(
                &scored,
                &vector,
                &history,
                bucket.start,
                end,
                config,
            );
            merge(state, vec![found], None, end, config, alerts);
        }
    }
    state.learn_hour(&bucket, vector, config);
}

/// Adds signals to the identity's open alert, or opens one. The alert is
/// pushed to `alerts` once it reaches the threshold, and again when its
/// score or detectors change or a count doubles.
fn merge(
    state: &mut IdentityState,
    signals: Vec<Signal>,
    event_uid: Option<&str>,
    time: i64,
    config: &Config,
    alerts: &mut Vec<Alert>,
) {
    let at = OffsetDateTime::from_unix_timestamp(time).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let reuse = state
        .alert
        .as_ref()
        .is_some_and(|open| time <= open.last_seen.unix_timestamp() + config.alert_window_s);
    if !reuse {
        state.alert = Some(Alert {
            id: Id::<AlertKind>::generate().to_string(),
            identity: state.uid.clone(),
            identity_name: state.name.clone(),
            identity_kind: state.kind,
            score: 0,
            first_seen: at,
            last_seen: at,
            summary: String::new(),
            signals: Vec::new(),
            event_uids: Vec::new(),
            revision: 0,
            pending: false,
        });
    }
    let Some(alert) = state.alert.as_mut() else {
        return;
    };
    let before_score = alert.score;
    let before_detectors: Vec<Detector> = alert.signals.iter().map(|s| s.detector).collect();
    let before_counts: Vec<f64> = alert.signals.iter().map(count_of).collect();
    for signal in signals {
        add_signal(alert, signal);
    }
    if let Some(uid) = event_uid
        && alert.event_uids.len() < MAX_EVIDENCE_EVENTS
        && !alert.event_uids.iter().any(|known| known == uid)
    {
        alert.event_uids.push(uid.to_string());
    }
    alert.last_seen = alert.last_seen.max(at);
    alert.first_seen = alert.first_seen.min(at);
    alert.refresh();
    let detectors_changed = alert.signals.len() != before_detectors.len()
        || alert
            .signals
            .iter()
            .any(|s| !before_detectors.contains(&s.detector));
    // Counts that doubled since the last revision are worth a new one; a
    // smaller change waits for the next revision or for `Engine::finish`.
    let doubled = alert
        .signals
        .iter()
        .zip(&before_counts)
        .any(|(signal, before)| count_of(signal) >= 2.0 * before.max(1.0) && *before > 0.0);
    let changed = alert.score != before_score || detectors_changed || doubled;
    alert.pending = true;
    if alert.score >= config.alert_threshold && (changed || alert.revision == 0) {
        emit(alert, alerts);
    }
}

fn emit(alert: &mut Alert, alerts: &mut Vec<Alert>) {
    alert.revision += 1;
    alert.pending = false;
    alerts.push(alert.clone());
}

/// Emits the identity's open alert if it changed since its last revision.
fn emit_pending(state: &mut IdentityState, config: &Config, alerts: &mut Vec<Alert>) {
    if let Some(alert) = state.alert.as_mut()
        && alert.pending
        && alert.revision > 0
        && alert.score >= config.alert_threshold
    {
        emit(alert, alerts);
    }
}

fn count_of(signal: &Signal) -> f64 {
    match &signal.evidence {
        Evidence::Count { observed, .. } => *observed,
        Evidence::Members { values } => values.len() as f64,
        _ => 0.0,
    }
}

/// Keeps one signal per detector (and failure class): a repeat raises the
/// severity to the stronger one and adds its members.
fn add_signal(alert: &mut Alert, signal: Signal) {
    let same = alert.signals.iter_mut().find(|known| {
        known.detector == signal.detector
            && match (&known.evidence, &signal.evidence) {
                (Evidence::Count { failure: a, .. }, Evidence::Count { failure: b, .. }) => a == b,
                _ => true,
            }
    });
    let Some(known) = same else {
        alert.signals.push(signal);
        return;
    };
    if let (Evidence::Members { values }, Evidence::Members { values: new }) =
        (&mut known.evidence, &signal.evidence)
    {
        for value in new {
            if values.len() < MAX_EVIDENCE_EVENTS && !values.contains(value) {
                values.push(value.clone());
            }
        }
        if values.len() > 1 {
            known.observed = format!(
                "{} new: {}",
                values.len(),
                values
                    .iter()
                    .take(5)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    if let (Evidence::Count { observed: old, .. }, Evidence::Count { observed: new, .. }) =
        (&known.evidence, &signal.evidence)
        && new >= old
    {
        let severity = known.severity.max(signal.severity);
        let time = known.time;
        *known = signal;
        known.severity = severity;
        known.time = time;
        return;
    }
    if signal.severity > known.severity {
        let evidence = std::mem::replace(
            &mut known.evidence,
            Evidence::Count {
                observed: 0.0,
                failure: None,
            },
        );
        let observed = std::mem::take(&mut known.observed);
        *known = signal;
        if let Evidence::Members { .. } = evidence {
            known.evidence = evidence;
            known.observed = observed;
        }
    }
}

/// Keeps the highest revision of each alert id, in first-seen order.
pub fn latest_revisions(alerts: Vec<Alert>) -> Vec<Alert> {
    let mut order: Vec<String> = Vec::new();
    let mut latest: HashMap<String, Alert> = HashMap::new();
    for alert in alerts {
        match latest.get(&alert.id) {
            Some(known) if known.revision >= alert.revision => {}
            Some(_) => {
                latest.insert(alert.id.clone(), alert);
            }
            None => {
                order.push(alert.id.clone());
                latest.insert(alert.id.clone(), alert);
            }
        }
    }
    order
        .into_iter()
        .filter_map(|id| latest.remove(&id))
        .collect()
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
