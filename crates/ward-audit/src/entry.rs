use std::fmt;

use serde::{Deserialize, Serialize};

/// The result of an audited action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    Denied,
    Failure,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Denied => "denied",
            Outcome::Failure => "failure",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An entry to append. `details` must never hold a secret value.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    /// The acting identity: an operator id, `root`, a bot id, or `system` for jobs.
    pub actor: String,
    /// The action, as a dotted name such as `bot.suspend`.
    pub action: String,
    /// The bot concerned, by id, if any.
    pub bot: Option<String>,
    /// The object acted on, such as a person id or a secret path.
    pub target: Option<String>,
    pub outcome: Outcome,
    /// Further facts, such as a reason or the previous state.
    pub details: serde_json::Value,
}

impl AuditEntry {
    /// Creates an entry with no bot, target or details.
    pub fn new(actor: impl Into<String>, action: impl Into<String>, outcome: Outcome) -> Self {
        AuditEntry {
            actor: actor.into(),
            action: action.into(),
            bot: None,
            target: None,
            outcome,
            details: serde_json::Value::Null,
        }
    }

    pub fn bot(mut self, bot: impl Into<String>) -> Self {
        self.bot = Some(bot.into());
        self
    }

    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}

/// A stored entry, as read back.
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow)]
pub struct AuditRecord {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub bot: Option<String>,
    pub target: Option<String>,
    pub outcome: String,
    /// Canonical JSON text, exactly as hashed.
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}
