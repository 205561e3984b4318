//! The detectors. Each compares one observation with the identity's baseline
//! and returns a [`Signal`] naming the observed and the baseline value.

use std::net::IpAddr;

use time::OffsetDateTime;
use ward_core::event::{Event, FailureClass};

use crate::alert::{Detector, Evidence, Signal};
use crate::baseline::{
    HourBucket, IdentityState, class_index, hour_and_weekday, operation_key, resource_key,
    user_agent_key,
};
use crate::config::Config;
use crate::decay::{DecaySet, FORGET_WEIGHT};

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// Base severities. A detector's severity is its base, lowered when the
/// identity often meets new values of that kind.
const NEW_SYSTEM: f64 = 0.55;
const NEW_RESOURCE: f64 = 0.35;
const NEW_OPERATION: f64 = 0.3;
const NEW_SOURCE: f64 = 0.5;
const NEW_USER_AGENT: f64 = 0.35;
const OUTSIDE_SCHEDULE: f64 = 0.45;

fn at(time: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(time).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn signal(
    detector: Detector,
    severity: f64,
    observed: String,
    baseline: String,
    evidence: Evidence,
    time: i64,
) -> Signal {
    Signal {
        detector,
        severity: severity.clamp(0.0, 1.0),
        observed,
        baseline,
        evidence,
        time: at(time),
    }
}

/// Severity of a novel member: the base, scaled down linearly as the
/// identity's novelty rate approaches `max_novelty_rate`.
fn novelty_severity(set: &DecaySet, base: f64, time: i64, config: &Config) -> Option<(f64, f64)> {
    let rate = set.novelty_rate(time, config.half_life_s());
    if rate >= config.max_novelty_rate {
        return None;
    }
    Some((base * (1.0 - rate / config.max_novelty_rate), rate))
}

fn novelty(
    set: &DecaySet,
    key: &str,
    shown: &str,
    (detector, base, what): (Detector, f64, &str),
    time: i64,
    config: &Config,
) -> Option<Signal> {
    if set.contains(key, time, config.half_life_s()) {
        return None;
    }
    let (severity, rate) = novelty_severity(set, base, time, config)?;
    Some(signal(
        detector,
        severity,
        format!("first {what} `{shown}`"),
        format!(
            "{} known, estimated chance of a new one {:.2}%",
            set.len(),
            rate * 100.0
        ),
        Evidence::Members {
            values: vec![shown.to_string()],
        },
        time,
    ))
}

/// Detectors that look at one event against the baseline as it was before it.
pub(crate) fn event_signals(
    state: &IdentityState,
    event: &Event,
    time: i64,
    config: &Config,
) -> Vec<Signal> {
    let mut signals = Vec::new();
    let system = novelty(
        &state.systems,
        &event.service,
        &event.service,
        (Detector::NewTargetSystem, NEW_SYSTEM, "target system"),
        time,
        config,
    );
    let system_is_new = system.is_some();
    signals.extend(system);
    if let (Some(resource), false) = (&event.resource, system_is_new) {
        let key = resource_key(event, resource);
        signals.extend(novelty(
            &state.resources,
            &key,
            &key,
            (Detector::NewResource, NEW_RESOURCE, "resource"),
            time,
            config,
        ));
    }
    let operation = operation_key(event);
    signals.extend(novelty(
        &state.operations,
        &operation,
        &operation,
        (Detector::NewOperation, NEW_OPERATION, "operation"),
        time,
        config,
    ));
    if let Some(ip) = &event.src_ip {
        let mut found = novelty(
            &state.sources,
            ip,
            ip,
            (Detector::NewSourceAddress, NEW_SOURCE, "source address"),
            time,
            config,
        );
        // A new private address of an identity that already runs on private
        // addresses is usually a new host in the same network.
        if let Some(found) = found.as_mut()
            && is_private(ip)
            && state.sources_are_private()
        {
            found.severity *= 0.5;
        }
        signals.extend(found);
    }
    if let Some(agent) = &event.user_agent {
        let key = user_agent_key(agent);
        signals.extend(novelty(
            &state.user_agents,
            &key,
            agent,
            (Detector::NewUserAgent, NEW_USER_AGENT, "user agent"),
            time,
            config,
        ));
    }
    if let Some(class) = event.failure {
        signals.extend(new_failure_pattern(state, event, class, time, config));
    }
    signals
}

fn new_failure_pattern(
    state: &IdentityState,
    event: &Event,
    class: FailureClass,
    time: i64,
    config: &Config,
) -> Option<Signal> {
    let seen = state.failure_classes[class_index(class)].get(time, config.half_life_s());
    if seen >= FORGET_WEIGHT {
        return None;
    }
    let severity = match class {
        FailureClass::AuthFailed | FailureClass::PermissionDenied => 0.45,
        FailureClass::Throttled | FailureClass::Error => 0.15,
    };
    let known: Vec<&str> = FailureClass::ALL
        .iter()
        .filter(|other| {
            state.failure_classes[class_index(**other)].get(time, config.half_life_s())
                >= FORGET_WEIGHT
        })
        .map(|other| other.as_str())
        .collect();
    Some(signal(
        Detector::NewFailurePattern,
        severity,
        format!(
            "first {} failure ({} on {}:{})",
            class.as_str(),
            event.status_code.as_deref().unwrap_or("no code"),
            event.service,
            event.operation
        ),
        if known.is_empty() {
            "no failures".to_string()
        } else {
            format!("failures seen: {}", known.join(", "))
        },
        Evidence::Count {
            observed: 1.0,
            failure: Some(class),
        },
        time,
    ))
}

/// Checks the schedule: signals when the hour of day or the weekday carries
/// almost none of the identity's past activity. Called once per hour.
pub(crate) fn schedule_signal(state: &IdentityState, time: i64, config: &Config) -> Option<Signal> {
    let half_life = config.half_life_s();
    let hours: Vec<f64> = state
        .hour_of_day
        .iter()
        .map(|d| d.get(time, half_life))
        .collect();
    let days: Vec<f64> = state
        .weekday
        .iter()
        .map(|d| d.get(time, half_life))
        .collect();
    let (hour, weekday) = hour_and_weekday(time);
    let busiest_hour = hours.iter().copied().fold(0.0, f64::max);
    let busiest_day = days.iter().copied().fold(0.0, f64::max);
    let active_hours: f64 = hours.iter().sum();
    let active_days: f64 = days.iter().sum();
    let h = hour as usize;
    let smoothed = hours[h] + 0.5 * (hours[(h + 23) % 24] + hours[(h + 1) % 24]);
    let odd_hour = active_hours >= 12.0 && smoothed < config.schedule_min_share * busiest_hour;
    let odd_day =
        active_days >= 10.0 && days[weekday as usize] < config.schedule_min_share * busiest_day;
    if !odd_hour && !odd_day {
        return None;
    }
    let usual_hours: Vec<String> = (0..24)
        .filter(|i| hours[*i] >= 0.2 * busiest_hour)
        .map(|i| format!("{i:02}"))
        .collect();
    let usual_days: Vec<&str> = (0..7)
        .filter(|i| days[*i] >= 0.2 * busiest_day)
        .map(|i| WEEKDAYS[i])
        .collect();
    let severity = if odd_hour && odd_day {
        OUTSIDE_SCHEDULE + 0.1
    } else {
        OUTSIDE_SCHEDULE
    };
    Some(signal(
        Detector::OutsideSchedule,
        severity,
        format!(
            "active at {hour:02}:00 UTC on {}",
            WEEKDAYS[weekday as usize]
        ),
        format!(
            "usually active at hours {} UTC on {}",
            usual_hours.join(","),
            usual_days.join(",")
        ),
        Evidence::Schedule { hour, weekday },
        time,
    ))
}

/// Severity of a count that passed its burst threshold.
fn burst_severity(count: f64, max: f64, config: &Config, base: f64) -> f64 {
    let ratio = count / max.max(1.0);
    let excess = (ratio / config.burst_factor - 1.0).clamp(0.0, 1.0);
    base + (0.9 - base) * excess
}

/// Hourly detectors, checked after each event is counted into the hour:
/// volume burst, failure spikes and changes in vault pulls.
pub(crate) fn hourly_signals(
    state: &IdentityState,
    bucket: &HourBucket,
    time: i64,
    config: &Config,
) -> Vec<(String, Signal)> {
    let half_life = config.half_life_s();
    let mut signals = Vec::new();
    if state.volume.hours(time, half_life) >= 12.0 {
        let max = state.volume.max(time, half_life);
        let threshold = (config.burst_factor * max).max(config.min_burst_events as f64);
        let count = bucket.events as f64;
        if count > threshold {
            signals.push((
                Detector::VolumeBurst.as_str().to_string(),
                signal(
                    Detector::VolumeBurst,
                    burst_severity(count, max, config, 0.4),
                    format!(
                        "{count} calls in the hour from {:02}:00 UTC",
                        hour_and_weekday(bucket.start).0
                    ),
                    format!(
                        "at most {max:.0} per hour (decayed), mean {:.1}",
                        state.volume.mean(time, half_life)
                    ),
                    Evidence::Count {
                        observed: count,
                        failure: None,
                    },
                    time,
                ),
            ));
        }
    }
    for class in FailureClass::ALL {
        let index = class_index(class);
        let count = f64::from(bucket.failures[index]);
        let stats = &state.failure_hours[index];
        let max = stats.max(time, half_life);
        let threshold = (config.burst_factor * max).max(config.min_failure_spike as f64);
        if count <= threshold {
            continue;
        }
        let base = match class {
            FailureClass::AuthFailed | FailureClass::PermissionDenied => 0.5,
            FailureClass::Throttled | FailureClass::Error => 0.25,
        };
        let codes: Vec<String> = bucket
            .codes
            .iter()
            .map(|(code, n)| format!("{code} ×{n}"))
            .collect();
        signals.push((
            format!("failure_spike:{}", class.as_str()),
            signal(
                Detector::FailureSpike,
                burst_severity(count, max, config, base),
                format!(
                    "{count} {} failures in one hour ({})",
                    class.as_str(),
                    codes.join(", ")
                ),
                format!(
                    "at most {max:.1} per hour (decayed), mean {:.2}",
                    stats.mean(time, half_life)
                ),
                Evidence::Count {
                    observed: count,
                    failure: Some(class),
                },
                time,
            ),
        ));
    }
    signals.extend(pull_signal(state, bucket, time, config));
    signals
}

fn pull_signal(
    state: &IdentityState,
    bucket: &HourBucket,
    time: i64,
    config: &Config,
) -> Option<(String, Signal)> {
    let half_life = config.half_life_s();
    let count = f64::from(bucket.secret_reads);
    if count == 0.0 || state.pulls.hours(time, half_life) < 12.0 {
        return None;
    }
    let max = state.pulls.max(time, half_life);
    let mean = state.pulls.mean(time, half_life);
    let (severity, baseline) = if max < FORGET_WEIGHT {
        (0.4, "no secret reads before".to_string())
    } else {
        let threshold = (config.burst_factor * max).max(config.min_pull_burst as f64);
        if count <= threshold {
            return None;
        }
        (
            burst_severity(count, max, config, 0.45),
            format!("at most {max:.1} per hour (decayed), mean {mean:.2}"),
        )
    };
    Some((
        Detector::VaultPullChange.as_str().to_string(),
        signal(
            Detector::VaultPullChange,
            severity,
            format!("{count} secret reads in one hour"),
            baseline,
            Evidence::Count {
                observed: count,
                failure: None,
            },
            time,
        ),
    ))
}

fn is_private(ip: &str) -> bool {
    match ip.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.is_private() || v4.is_loopback(),
        Ok(IpAddr::V6(v6)) => v6.is_loopback() || (v6.segments()[0] & 0xfe00) == 0xfc00,
        Err(_) => false,
    }
}

impl IdentityState {
    /// True when the identity has used source addresses and all were private.
    fn sources_are_private(&self) -> bool {
        !self.sources.is_empty() && self.sources.members().all(is_private)
    }
}
