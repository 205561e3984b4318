//! Hourly feature vectors, the multivariate signal, and teaching the
//! baseline from false-positive feedback.

use std::f32::consts::PI;

use crate::alert::{Detector, Evidence, Signal};
use crate::baseline::{HourBucket, IdentityState, class_index, hour_and_weekday, user_agent_key};
use crate::config::Config;
use crate::multivariate::{FEATURE_NAMES, FEATURES, ForestScore};

/// Weight a false-positive member gets, so it outlasts ordinary members.
const TAUGHT_WEIGHT: f64 = 5.0;

/// Copies of a false-positive vector added to the forest history.
const TAUGHT_VECTORS: usize = 4;

/// The hourly feature vector, in [`FEATURE_NAMES`] order. Counts are on a
/// log scale so one feature's range does not swamp the others.
pub(crate) fn features(bucket: &HourBucket) -> [f32; FEATURES] {
    let log = |count: f64| (count.ln_1p()) as f32;
    let (hour, _) = hour_and_weekday(bucket.start);
    let angle = 2.0 * PI * f32::from(hour) / 24.0;
    let events = bucket.events.max(1) as f64;
    [
        log(bucket.events as f64),
        log(bucket.bytes as f64),
        log(bucket.operations.len() as f64),
        log(bucket.targets.len() as f64),
        log(f64::from(bucket.new_targets)),
        (f64::from(bucket.failure_total()) / events) as f32,
        log(f64::from(bucket.failures[1])),
        log(f64::from(bucket.failures[0])),
        log(f64::from(bucket.secret_reads)),
        log(bucket.sources.len() as f64),
        angle.sin(),
        angle.cos(),
    ]
}

/// Inverse of the log scale in [`features`], for explanations.
fn shown(index: usize, value: f32) -> String {
    match index {
        5 => format!("{value:.2}"),
        10 | 11 => format!("{value:.2}"),
        _ => format!("{:.0}", f64::from(value).exp_m1()),
    }
}

pub(crate) fn multivariate_signal(
    scored: &ForestScore,
    vector: &[f32; FEATURES],
    history: &[[f32; FEATURES]],
    hour_start: i64,
    end: i64,
    config: &Config,
) -> Signal {
    let count = history.len().max(1) as f32;
    let mut observed = Vec::new();
    let mut baseline = Vec::new();
    for (index, share, above) in scored.attribution.iter().take(3) {
        let mean = history.iter().map(|v| v[*index]).sum::<f32>() / count;
        observed.push(format!(
            "{} {} ({:.0}% of score, {})",
            FEATURE_NAMES[*index],
            shown(*index, vector[*index]),
            share * 100.0,
            if *above { "above usual" } else { "below usual" }
        ));
        baseline.push(format!("{} {}", FEATURE_NAMES[*index], shown(*index, mean)));
    }
    let (hour, _) = hour_and_weekday(hour_start);
    let severity = (0.25 + 0.1 * (scored.score - config.forest.threshold)).clamp(0.25, 0.7);
    Signal {
        detector: Detector::Multivariate,
        severity,
        observed: format!(
            "hour {hour:02}:00 UTC scored {:.2}: {}",
            scored.score,
            observed.join(", ")
        ),
        baseline: format!(
            "score threshold {:.2}; mean over {} past hours: {}",
            config.forest.threshold,
            history.len(),
            baseline.join(", ")
        ),
        evidence: Evidence::Vector {
            values: vector.to_vec(),
        },
        time: time::OffsetDateTime::from_unix_timestamp(end)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
    }
}

/// Teaches the baseline that what `signal` observed is normal.
pub(crate) fn teach(state: &mut IdentityState, signal: &Signal, config: &Config) {
    let half_life = config.half_life_s();
    let now = state.high_water;
    let caps = config.caps;
    match (&signal.detector, &signal.evidence) {
        (detector, Evidence::Members { values }) => {
            for value in values {
                let (set, cap, key) = match detector {
                    Detector::NewTargetSystem => (&mut state.systems, caps.systems, value.clone()),
                    Detector::NewResource => (&mut state.resources, caps.resources, value.clone()),
                    Detector::NewOperation => {
                        (&mut state.operations, caps.operations, value.clone())
                    }
                    Detector::NewSourceAddress => (&mut state.sources, caps.sources, value.clone()),
                    Detector::NewUserAgent => (
                        &mut state.user_agents,
                        caps.user_agents,
                        user_agent_key(value),
                    ),
                    _ => continue,
                };
                set.observe(&key, now, half_life, TAUGHT_WEIGHT, cap);
            }
        }
        (Detector::OutsideSchedule, Evidence::Schedule { hour, weekday }) => {
            let busiest = |slots: &[crate::decay::Decayed]| {
                slots
                    .iter()
                    .map(|d| d.get(now, half_life))
                    .fold(1.0, f64::max)
            };
            let hour_weight = busiest(&state.hour_of_day);
            let day_weight = busiest(&state.weekday);
            if let Some(slot) = state.hour_of_day.get_mut(usize::from(*hour)) {
                slot.raise(now, half_life, 0.5 * hour_weight);
            }
            if let Some(slot) = state.weekday.get_mut(usize::from(*weekday)) {
                slot.raise(now, half_life, 0.5 * day_weight);
            }
        }
        (Detector::VolumeBurst, Evidence::Count { observed, .. }) => {
            state.volume.accept(now, half_life, *observed)
        }
        (
            Detector::FailureSpike,
            Evidence::Count {
                observed,
                failure: Some(class),
            },
        ) => {
            state.failure_hours[class_index(*class)].accept(now, half_life, *observed);
        }
        (
            Detector::NewFailurePattern,
            Evidence::Count {
                failure: Some(class),
                ..
            },
        ) => {
            state.failure_classes[class_index(*class)].add(now, half_life, TAUGHT_WEIGHT);
        }
        (Detector::VaultPullChange, Evidence::Count { observed, .. }) => {
            state.pulls.accept(now, half_life, *observed)
        }
        (Detector::Multivariate, Evidence::Vector { values }) => {
            let Ok(vector) = <[f32; FEATURES]>::try_from(values.as_slice()) else {
                return;
            };
            for _ in 0..TAUGHT_VECTORS {
                if state.history.len() >= config.forest.history.max(1) {
                    state.history.pop_front();
                }
                state.history.push_back(vector);
            }
        }
        _ => {}
    }
}
