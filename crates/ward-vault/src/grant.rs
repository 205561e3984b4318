//! Grants: which secret paths a bot may use, with which capabilities.
//!
//! Patterns follow Vault's policy path syntax: a literal path; a trailing
//! `*` matches any suffix, including `/` (`sap/finance/*` matches
//! `sap/finance/db` and `sap/finance/eu/db`); a `+` segment matches exactly
//! one path segment (`sap/+/db`). [`decide`] is a pure function.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};
use time::OffsetDateTime;
use ward_core::id::{GrantKind, Id};

use crate::error::{Result, VaultError};
use crate::timefmt::{from_nanos, to_nanos};

/// An operation on a secret path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Capability {
    /// Read a version or the metadata.
    Read,
    /// Write the first version of a key.
    Create,
    /// Write a new version of an existing key, or change its metadata.
    Update,
    /// Delete, undelete or destroy versions, or delete the key.
    Delete,
    /// List the keys under a folder.
    List,
}

impl Capability {
    /// Every capability, in help-text order.
    pub const ALL: [Capability; 5] = [
        Capability::Read,
        Capability::Create,
        Capability::Update,
        Capability::Delete,
        Capability::List,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Read => "read",
            Capability::Create => "create",
            Capability::Update => "update",
            Capability::Delete => "delete",
            Capability::List => "list",
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Capability {
    type Err = VaultError;
    fn from_str(s: &str) -> Result<Self> {
        Capability::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| VaultError::UnknownCapability(s.to_string()))
    }
}

/// A validated path pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathPattern(String);

impl PathPattern {
    /// Parses a pattern: no leading `/`, no empty, `.` or `..` segments, and
    /// `*` only as the last character.
    pub fn parse(pattern: &str) -> Result<Self> {
        let invalid = |reason| VaultError::InvalidPattern {
            pattern: pattern.to_string(),
            reason,
        };
        if pattern.is_empty() {
            return Err(invalid("the pattern is empty"));
        }
        if pattern.starts_with('/') {
            return Err(invalid("the pattern must not start with `/`"));
        }
        if pattern.find('*').is_some_and(|at| at != pattern.len() - 1) {
            return Err(invalid("`*` may only end the pattern"));
        }
        let body = pattern.strip_suffix('*').unwrap_or(pattern);
        let segments: Vec<&str> = body.split('/').collect();
        let last = segments.len() - 1;
        for (index, segment) in segments.iter().enumerate() {
            // The segment before a trailing `*` or `/` may be empty or partial.
            let allowed_empty = index == last;
            if segment.is_empty() && !allowed_empty {
                return Err(invalid("the pattern has an empty segment"));
            }
            if matches!(*segment, "." | "..") {
                return Err(invalid("`.` and `..` segments are not allowed"));
            }
            if segment.contains('+') && *segment != "+" {
                return Err(invalid("`+` must be a whole segment"));
            }
        }
        Ok(PathPattern(pattern.to_string()))
    }

    /// The pattern text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `path` matches the pattern.
    pub fn matches(&self, path: &str) -> bool {
        let (body, prefix) = match self.0.strip_suffix('*') {
            Some(body) => (body, true),
            None => (self.0.as_str(), false),
        };
        if !body.contains('+') {
            return if prefix {
                path.starts_with(body)
            } else {
                path == body
            };
        }
        matches_segments(body, path, prefix)
    }
}

// Matches `body` (with `+` segments) against `path`; with `prefix`, the last
// pattern segment is a prefix of the corresponding path segment and the
// rest of the path is free.
fn matches_segments(body: &str, path: &str, prefix: bool) -> bool {
    let pattern: Vec<&str> = body.split('/').collect();
    let mut parts = path.splitn(pattern.len(), '/');
    for (index, want) in pattern.iter().enumerate() {
        let is_last = index == pattern.len() - 1;
        let Some(got) = parts.next() else {
            return false;
        };
        if is_last {
            if prefix {
                let got_head = got;
                return *want == "+" || got_head.starts_with(want);
            }
            return (*want == "+" && !got.contains('/') && !got.is_empty()) || *want == got;
        }
        if *want == "+" {
            if got.is_empty() {
                return false;
            }
        } else if *want != got {
            return false;
        }
    }
    true
}

/// A grant of capabilities on a path pattern to a bot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// Grant id (`grt_…`).
    pub id: Id<GrantKind>,
    /// The bot holding the grant.
    pub bot_id: String,
    /// The paths covered.
    pub pattern: PathPattern,
    /// What the bot may do there.
    pub capabilities: BTreeSet<Capability>,
    /// When the grant was made.
    pub created_at: OffsetDateTime,
    /// When the grant lapses; `None` for no end.
    pub expires_at: Option<OffsetDateTime>,
}

/// The outcome of a policy decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Allowed by the named grant.
    Allow { grant_id: String },
    /// No live grant covers the path and capability.
    Deny,
}

impl Decision {
    /// Whether the decision allows the request.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow { .. })
    }
}

/// Decides whether `grants` allow `capability` on `path` at `now`. Only
/// live grants count; the first match (in the given order) is named.
pub fn decide(
    grants: &[Grant],
    path: &str,
    capability: Capability,
    now: OffsetDateTime,
) -> Decision {
    grants
        .iter()
        .filter(|grant| grant.expires_at.is_none_or(|at| at > now))
        .find(|grant| grant.capabilities.contains(&capability) && grant.pattern.matches(path))
        .map_or(Decision::Deny, |grant| Decision::Allow {
            grant_id: grant.id.to_string(),
        })
}

/// Whether any live grant covers `path` or anything below it with any
/// capability, as `sys/internal/ui/mounts` asks.
pub fn covers_any(grants: &[Grant], path: &str, now: OffsetDateTime) -> bool {
    grants
        .iter()
        .filter(|grant| grant.expires_at.is_none_or(|at| at > now))
        .any(|grant| {
            let body = grant.pattern.as_str().trim_end_matches('*');
            grant.pattern.matches(path) || body.starts_with(path) || path.is_empty()
        })
}

/// Stores a grant.
pub async fn add(
    conn: &mut SqliteConnection,
    bot_id: &str,
    pattern: PathPattern,
    capabilities: BTreeSet<Capability>,
    expires_at: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Result<Grant> {
    let grant = Grant {
        id: Id::generate(),
        bot_id: bot_id.to_string(),
        pattern,
        capabilities,
        created_at: now,
        expires_at,
    };
    sqlx::query(
        "INSERT INTO vault_grants (id, bot_id, path_pattern, capabilities, created_at, expires_at) \
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(grant.id.as_str())
    .bind(&grant.bot_id)
    .bind(grant.pattern.as_str())
    .bind(join_capabilities(&grant.capabilities))
    .bind(to_nanos(now))
    .bind(expires_at.map(to_nanos))
    .execute(conn)
    .await?;
    Ok(grant)
}

/// The grants of a bot, oldest first.
pub async fn list_for_bot(conn: &mut SqliteConnection, bot_id: &str) -> Result<Vec<Grant>> {
    let rows = sqlx::query(
        "SELECT id, bot_id, path_pattern, capabilities, created_at, expires_at FROM vault_grants \
         WHERE bot_id = ? ORDER BY created_at, id",
    )
    .bind(bot_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(grant_from_row).collect()
}

/// Removes one grant; returns whether it existed.
pub async fn remove(conn: &mut SqliteConnection, grant_id: &str) -> Result<bool> {
    let result = sqlx::query("DELETE FROM vault_grants WHERE id = ?")
        .bind(grant_id)
        .execute(conn)
        .await?;
    Ok(result.rows_affected() > 0)
}

/// Removes every grant of a bot; returns how many.
pub async fn remove_for_bot(conn: &mut SqliteConnection, bot_id: &str) -> Result<u64> {
    let result = sqlx::query("DELETE FROM vault_grants WHERE bot_id = ?")
        .bind(bot_id)
        .execute(conn)
        .await?;
    Ok(result.rows_affected())
}

/// Parses capabilities from a list of names (each may be comma-separated).
pub fn parse_capabilities<S: AsRef<str>>(names: &[S]) -> Result<BTreeSet<Capability>> {
    names
        .iter()
        .flat_map(|name| {
            name.as_ref()
                .split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .map(|name| name.parse())
        .collect()
}

fn join_capabilities(capabilities: &BTreeSet<Capability>) -> String {
    capabilities
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn grant_from_row(row: &SqliteRow) -> Result<Grant> {
    let id: String = row.try_get("id")?;
    let pattern: String = row.try_get("path_pattern")?;
    let capabilities: String = row.try_get("capabilities")?;
    Ok(Grant {
        id: Id::parse(&id).map_err(|_| VaultError::InvalidPattern {
            pattern: id.clone(),
            reason: "stored grant id is malformed",
        })?,
        bot_id: row.try_get("bot_id")?,
        pattern: PathPattern::parse(&pattern)?,
        capabilities: parse_capabilities(&[capabilities])?,
        created_at: from_nanos(row.try_get("created_at")?),
        expires_at: row.try_get::<Option<i64>, _>("expires_at")?.map(from_nanos),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(pattern: &str, caps: &[&str]) -> Grant {
        Grant {
            id: Id::generate(),
            bot_id: "bot_x".to_string(),
            pattern: PathPattern::parse(pattern).unwrap(),
            capabilities: parse_capabilities(caps).unwrap(),
            created_at: OffsetDateTime::UNIX_EPOCH,
            expires_at: None,
        }
    }

    #[test]
    fn trailing_star_matches_any_depth() {
        let p = PathPattern::parse("sap/finance/*").unwrap();
        assert!(p.matches("sap/finance/db"));
        assert!(p.matches("sap/finance/eu/db"));
        assert!(p.matches("sap/finance/"));
        assert!(!p.matches("sap/finance"));
        assert!(!p.matches("sap/hr/db"));
        assert!(!p.matches("sap/financeX"));
    }

    #[test]
    fn star_after_partial_segment_is_prefix() {
        let p = PathPattern::parse("sap/fin*").unwrap();
        assert!(p.matches("sap/finance/db"));
        assert!(!p.matches("sap/hr"));
    }

    #[test]
    fn literal_matches_only_itself() {
        let p = PathPattern::parse("bots/invoice").unwrap();
        assert!(p.matches("bots/invoice"));
        assert!(!p.matches("bots/invoice2"));
        assert!(!p.matches("bots/invoice/x"));
    }

    #[test]
    fn plus_matches_one_segment() {
        let p = PathPattern::parse("sap/+/db").unwrap();
        assert!(p.matches("sap/finance/db"));
        assert!(!p.matches("sap/finance/eu/db"));
        assert!(!p.matches("sap//db"));
        let q = PathPattern::parse("sap/+/*").unwrap();
        assert!(q.matches("sap/finance/db"));
        assert!(q.matches("sap/finance/eu/db"));
        let r = PathPattern::parse("sap/+").unwrap();
        assert!(r.matches("sap/hr"));
        assert!(!r.matches("sap/hr/x"));
    }

    #[test]
    fn invalid_patterns_rejected() {
        for bad in ["", "/abs", "a/*/b", "a//b", "a/../b", "a/x+/b"] {
            assert!(PathPattern::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn decide_checks_capability_and_path() {
        let grants = vec![
            grant("sap/finance/*", &["read", "list"]),
            grant("bots/invoice", &["update"]),
        ];
        let now = OffsetDateTime::UNIX_EPOCH;
        assert!(decide(&grants, "sap/finance/db", Capability::Read, now).is_allowed());
        assert_eq!(
            decide(&grants, "sap/finance/db", Capability::Update, now),
            Decision::Deny
        );
        assert_eq!(
            decide(&grants, "sap/hr/db", Capability::Read, now),
            Decision::Deny
        );
        assert!(decide(&grants, "bots/invoice", Capability::Update, now).is_allowed());
        assert_eq!(decide(&[], "x", Capability::Read, now), Decision::Deny);
    }

    #[test]
    fn decide_names_the_grant() {
        let g = grant("a/*", &["read"]);
        let id = g.id.to_string();
        assert_eq!(
            decide(&[g], "a/b", Capability::Read, OffsetDateTime::UNIX_EPOCH),
            Decision::Allow { grant_id: id }
        );
    }

    #[test]
    fn expired_grant_denies() {
        let mut g = grant("a/*", &["read"]);
        let now = OffsetDateTime::UNIX_EPOCH + time::Duration::days(1);
        g.expires_at = Some(now);
        assert_eq!(
            decide(&[g.clone()], "a/b", Capability::Read, now),
            Decision::Deny
        );
        assert!(
            decide(
                &[g],
                "a/b",
                Capability::Read,
                now - time::Duration::seconds(1)
            )
            .is_allowed()
        );
    }

    #[test]
    fn capabilities_parse_and_reject() {
        let caps = parse_capabilities(&["read,list", "update"]).unwrap();
        assert_eq!(caps.len(), 3);
        assert!(matches!(
            parse_capabilities(&["sudo"]),
            Err(VaultError::UnknownCapability(_))
        ));
    }

    #[test]
    fn covers_any_sees_folders_above_grants() {
        let grants = vec![grant("sap/finance/*", &["read"])];
        let now = OffsetDateTime::UNIX_EPOCH;
        assert!(covers_any(&grants, "sap/", now));
        assert!(covers_any(&grants, "sap/finance/db", now));
        assert!(!covers_any(&grants, "hr/", now));
    }
}
