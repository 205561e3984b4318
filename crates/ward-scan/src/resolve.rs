//! Turning byte offsets into lines and columns, and merging overlapping candidates.

use crate::detect::{Candidate, Location};

/// Line start offsets of a text, for offset-to-position lookups.
#[derive(Debug)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    /// Indexes `text`.
    pub fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    /// Returns the 1-based line and 1-based character column of byte `offset`.
    pub fn position(&self, text: &str, offset: usize) -> (u32, u32) {
        let line = self.starts.partition_point(|s| *s <= offset).max(1);
        let start = self.starts.get(line - 1).copied().unwrap_or(0);
        let column = text.get(start..offset).map_or(0, |s| s.chars().count()) + 1;
        (
            u32::try_from(line).unwrap_or(u32::MAX),
            u32::try_from(column).unwrap_or(u32::MAX),
        )
    }

    /// Returns the line holding byte `offset`, without its line break.
    pub fn line_text<'t>(&self, text: &'t str, offset: usize) -> &'t str {
        let line = self.starts.partition_point(|s| *s <= offset).max(1);
        let start = self.starts.get(line - 1).copied().unwrap_or(0);
        let end = self
            .starts
            .get(line)
            .map_or(text.len(), |e| e.saturating_sub(1));
        text.get(start..end.max(start))
            .unwrap_or("")
            .trim_end_matches('\r')
    }
}

fn overlaps(a: &Location, b: &Location) -> bool {
    match (a, b) {
        (Location::Span { start: s1, end: e1 }, Location::Span { start: s2, end: e2 }) => {
            s1 < e2 && s2 < e1 || (s1 == s2 && e1 == e2)
        }
        (Location::Cell { row: r1, col: c1 }, Location::Cell { row: r2, col: c2 }) => {
            r1 == r2 && c1 == c2
        }
        _ => false,
    }
}

fn rank(
    candidate: &Candidate,
) -> (
    crate::detect::Priority,
    ward_core::finding::Confidence,
    usize,
) {
    (
        candidate.priority,
        candidate.confidence,
        candidate.secret.len(),
    )
}

/// Keeps one candidate among those covering the same characters (or cell): the one
/// with the highest priority, then confidence, then length. The winner inherits an
/// argument name from a loser when it has none. Output is ordered by position.
pub fn dedupe_overlaps(mut candidates: Vec<Candidate>) -> Vec<Candidate> {
    candidates.sort_by_key(|c| std::cmp::Reverse(rank(c)));
    let mut kept: Vec<Candidate> = Vec::with_capacity(candidates.len());
    for candidate in candidates {
        if let Some(winner) = kept
            .iter_mut()
            .find(|k| overlaps(&k.location, &candidate.location))
        {
            if winner.context.argument.is_none() {
                winner.context.argument = candidate.context.argument;
            }
            continue;
        }
        kept.push(candidate);
    }
    kept.sort_by_key(|c| match c.location {
        Location::Span { start, .. } => (0, start as u64),
        Location::Cell { row, col } => (u64::from(row), u64::from(col)),
    });
    kept
}
