//! Quantities that fade with a half-life, so old behaviour stops counting.
//!
//! Every value carries the event time (Unix seconds) of its last update.
//! Reading it at a later time multiplies it by `0.5^(elapsed / half_life)`.
//! Times come from events only.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// Weight below which a set member counts as forgotten.
pub const FORGET_WEIGHT: f64 = 0.05;

fn factor(from: i64, to: i64, half_life_s: f64) -> f64 {
    if to <= from || half_life_s <= 0.0 {
        return 1.0;
    }
    0.5_f64.powf((to - from) as f64 / half_life_s)
}

/// A decaying sum.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Decayed {
    /// Value at `at`.
    pub value: f64,
    /// Unix seconds of the last update.
    pub at: i64,
}

impl Decayed {
    /// The value as seen at `now`.
    pub fn get(&self, now: i64, half_life_s: f64) -> f64 {
        self.value * factor(self.at, now, half_life_s)
    }

    /// Adds `amount` at `now`. Updates older than `at` are added undecayed.
    pub fn add(&mut self, now: i64, half_life_s: f64, amount: f64) {
        let now = now.max(self.at);
        self.value = self.get(now, half_life_s) + amount;
        self.at = now;
    }

    /// Raises the value to at least `amount` at `now`.
    pub fn raise(&mut self, now: i64, half_life_s: f64, amount: f64) {
        let now = now.max(self.at);
        self.value = self.get(now, half_life_s).max(amount);
        self.at = now;
    }
}

/// Decaying mean, spread and maximum of a per-hour count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct HourlyStats {
    weight: Decayed,
    sum: Decayed,
    sum_squares: Decayed,
    max: Decayed,
}

impl HourlyStats {
    /// Records one closed hour's count.
    pub fn observe(&mut self, now: i64, half_life_s: f64, count: f64) {
        self.weight.add(now, half_life_s, 1.0);
        self.sum.add(now, half_life_s, count);
        self.sum_squares.add(now, half_life_s, count * count);
        self.max.raise(now, half_life_s, count);
    }

    /// Raises the maximum to `count` without counting an hour (false-positive feedback).
    pub fn accept(&mut self, now: i64, half_life_s: f64, count: f64) {
        self.max.raise(now, half_life_s, count);
    }

    /// Decayed mean per active hour.
    pub fn mean(&self, now: i64, half_life_s: f64) -> f64 {
        let weight = self.weight.get(now, half_life_s);
        if weight <= f64::EPSILON {
            return 0.0;
        }
        self.sum.get(now, half_life_s) / weight
    }

    /// Decayed maximum per active hour.
    pub fn max(&self, now: i64, half_life_s: f64) -> f64 {
        self.max.get(now, half_life_s)
    }

    /// Decayed number of hours observed.
    pub fn hours(&self, now: i64, half_life_s: f64) -> f64 {
        self.weight.get(now, half_life_s)
    }
}

/// A set of strings with decaying weights and at most `cap` members; when
/// full, the member with the lowest weight is dropped.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DecaySet {
    members: HashMap<String, Decayed>,
    /// Decayed number of lookups.
    total: Decayed,
}

impl DecaySet {
    /// True when `key` was seen and is not yet forgotten.
    pub fn contains(&self, key: &str, now: i64, half_life_s: f64) -> bool {
        self.members
            .get(key)
            .is_some_and(|weight| weight.get(now, half_life_s) >= FORGET_WEIGHT)
    }

    /// Estimated chance that the next lookup finds a new member, by the
    /// Good–Turing estimate: members seen about once over all lookups, with
    /// half a singleton added so a short history never gives zero.
    pub fn novelty_rate(&self, now: i64, half_life_s: f64) -> f64 {
        let singletons = self
            .members
            .values()
            .map(|weight| weight.get(now, half_life_s))
            .filter(|weight| (FORGET_WEIGHT..1.5).contains(weight))
            .count();
        (singletons as f64 + 0.5) / (self.total.get(now, half_life_s) + 1.0)
    }

    /// Records a lookup of `key` with `weight`; returns true when it was new.
    pub fn observe(
        &mut self,
        key: &str,
        now: i64,
        half_life_s: f64,
        weight: f64,
        cap: usize,
    ) -> bool {
        let novel = !self.contains(key, now, half_life_s);
        self.total.add(now, half_life_s, 1.0);
        match self.members.get_mut(key) {
            Some(entry) => entry.add(now, half_life_s, weight),
            None => {
                if self.members.len() >= cap.max(1) {
                    self.evict_lightest(now, half_life_s);
                }
                let mut entry = Decayed::default();
                entry.add(now, half_life_s, weight);
                self.members.insert(key.to_string(), entry);
            }
        }
        novel
    }

    /// Members held, forgotten or not.
    pub fn members(&self) -> impl Iterator<Item = &str> {
        self.members.keys().map(String::as_str)
    }

    /// Number of members held.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// True when no member is held.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Approximate heap bytes used.
    pub fn heap_bytes(&self) -> usize {
        self.members
            .keys()
            .map(|key| key.capacity() + std::mem::size_of::<(String, Decayed)>() + 8)
            .sum()
    }

    fn evict_lightest(&mut self, now: i64, half_life_s: f64) {
        let lightest = self
            .members
            .iter()
            .min_by(|a, b| {
                a.1.get(now, half_life_s)
                    .total_cmp(&b.1.get(now, half_life_s))
            })
            .map(|(key, _)| key.clone());
        if let Some(key) = lightest {
            self.members.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;

    #[test]
    fn decayed_halves_after_half_life() {
        let mut value = Decayed::default();
        value.add(0, DAY as f64, 8.0);
        assert!((value.get(DAY, DAY as f64) - 4.0).abs() < 1e-9);
        assert!((value.get(3 * DAY, DAY as f64) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn decay_set_forgets_and_caps() {
        let half_life = DAY as f64;
        let mut set = DecaySet::default();
        assert!(set.observe("a", 0, half_life, 1.0, 2));
        assert!(!set.observe("a", 10, half_life, 1.0, 2));
        assert!(set.observe("b", 20, half_life, 1.0, 2));
        assert!(set.observe("c", 30, half_life, 1.0, 2));
        assert_eq!(set.len(), 2);
        assert!(
            set.contains("a", 40, half_life),
            "the heaviest member stays"
        );
        assert!(
            !set.contains("b", 40, half_life),
            "the lightest member is evicted"
        );
        assert!(!set.contains("a", 10 * DAY, half_life), "members fade out");
    }
}
