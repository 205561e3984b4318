//! Multivariate scoring of an identity's hourly feature vector with a Random
//! Cut Forest (AWS's algorithm, from the `krcflib` crate).
//!
//! The forest is rebuilt from the identity's stored history of hourly vectors
//! each time an hour is scored, with a seed derived from the identity key.
//! The score is therefore a function of the checkpointed state alone, and a
//! restored engine scores exactly as the one that wrote the checkpoint.

use rcflib::rcf::{RCFBuilder, RCFOptionsBuilder};

/// Names of the hourly features, in vector order.
pub const FEATURE_NAMES: [&str; FEATURES] = [
    "events",
    "bytes",
    "distinct_operations",
    "distinct_targets",
    "new_targets",
    "failure_ratio",
    "permission_denied",
    "auth_failed",
    "secret_reads",
    "distinct_sources",
    "hour_sin",
    "hour_cos",
];

/// Number of hourly features.
pub const FEATURES: usize = 12;

/// Settings of the forest.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ForestConfig {
    /// Trees per forest.
    pub trees: usize,
    /// Hourly vectors kept per identity, and the sample size of each tree.
    pub history: usize,
    /// Vectors needed before an hour is scored.
    pub min_history: usize,
    /// Score at which the signal starts; RCF scores of typical points stay
    /// near or below 1.
    pub threshold: f64,
}

impl Default for ForestConfig {
    fn default() -> Self {
        ForestConfig {
            trees: 30,
            history: 64,
            min_history: 24,
            threshold: 2.0,
        }
    }
}

/// Result of scoring one hour.
#[derive(Debug, Clone, PartialEq)]
pub struct ForestScore {
    /// RCF anomaly score.
    pub score: f64,
    /// Per-feature share of the score: (feature index, share, above usual).
    pub attribution: Vec<(usize, f64, bool)>,
}

/// Scores `point` against a forest built from `history`, or returns `None`
/// when the history is too short or the forest cannot be built.
pub fn score(
    config: &ForestConfig,
    seed: u64,
    history: &[[f32; FEATURES]],
    point: &[f32; FEATURES],
) -> Option<ForestScore> {
    if history.len() < config.min_history.max(2) {
        return None;
    }
    let mut builder = RCFBuilder::new(FEATURES, 1);
    builder
        .tree_capacity(config.history.max(2))
        .number_of_trees(config.trees.max(1))
        .random_seed(seed)
        .initial_accept_fraction(1.0)
        .output_after(1);
    let mut forest = match builder.build_default() {
        Ok(forest) => forest,
        Err(err) => {
            tracing::warn!(error = ?err, "failed to build random cut forest");
            return None;
        }
    };
    for vector in history {
        if let Err(err) = forest.update(vector, 0) {
            tracing::warn!(error = ?err, "failed to update random cut forest");
            return None;
        }
    }
    let score = forest.score(point).ok()?;
    let attribution = forest.attribution(point).ok()?;
    let total: f64 = attribution.high.iter().chain(&attribution.low).sum();
    let mut shares: Vec<(usize, f64, bool)> = (0..FEATURES)
        .map(|i| {
            let high = attribution.high.get(i).copied().unwrap_or(0.0);
            let low = attribution.low.get(i).copied().unwrap_or(0.0);
            let share = if total > 0.0 {
                (high + low) / total
            } else {
                0.0
            };
            (i, share, high >= low)
        })
        .collect();
    shares.sort_by(|a, b| b.1.total_cmp(&a.1));
    Some(ForestScore {
        score,
        attribution: shares,
    })
}

/// The hourly feature vector the engine scores, computed from one
/// identity's events of one hour, for comparisons with other detectors.
/// `new_targets` is the number of targets the identity had not used before.
pub fn hour_features<'a>(
    events: impl IntoIterator<Item = &'a ward_core::event::Event>,
    new_targets: u32,
) -> [f32; FEATURES] {
    let mut bucket: Option<crate::baseline::HourBucket> = None;
    for event in events {
        let time = event.time.unix_timestamp();
        bucket
            .get_or_insert_with(|| crate::baseline::HourBucket::new(time - time.rem_euclid(3600)))
            .add(event, time);
    }
    let mut bucket = bucket.unwrap_or_default();
    bucket.new_targets = new_targets;
    crate::feedback::features(&bucket)
}

/// FNV-1a hash of the identity key, used as the forest seed.
pub fn seed_for(identity: &str) -> u64 {
    identity
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector(events: f32, failures: f32) -> [f32; FEATURES] {
        let mut v = [0.0; FEATURES];
        v[0] = events;
        v[5] = failures;
        v[10] = 0.5;
        v[11] = 0.8;
        v
    }

    #[test]
    fn outlier_scores_above_inliers_and_names_the_feature() {
        let config = ForestConfig::default();
        let history: Vec<_> = (0..48)
            .map(|i| vector(3.0 + (i % 5) as f32 * 0.1, 0.0))
            .collect();
        let inlier = score(&config, 7, &history, &vector(3.2, 0.0)).unwrap();
        let outlier = score(&config, 7, &history, &vector(3.1, 0.9)).unwrap();
        assert!(inlier.score < config.threshold, "inlier {}", inlier.score);
        assert!(
            outlier.score > config.threshold,
            "outlier {}",
            outlier.score
        );
        assert_eq!(
            outlier.attribution[0].0, 5,
            "failure_ratio leads the attribution"
        );
        assert!(outlier.attribution[0].2, "above usual");
    }

    #[test]
    fn short_history_is_not_scored() {
        let config = ForestConfig::default();
        let history: Vec<_> = (0..5).map(|_| vector(1.0, 0.0)).collect();
        assert!(score(&config, 1, &history, &vector(1.0, 0.0)).is_none());
    }
}
