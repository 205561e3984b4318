//! People who own bots, and operators who sign in to Ward.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Whether a person still works for the organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonStatus {
    Active,
    Left,
}

impl PersonStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PersonStatus::Active => "active",
            PersonStatus::Left => "left",
        }
    }
}

impl FromStr for PersonStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "active" => Ok(PersonStatus::Active),
            "left" => Ok(PersonStatus::Left),
            other => Err(format!(
                "unknown person status `{other}`: expected active or left"
            )),
        }
    }
}

/// An operator's role. Roles add up; an operator may hold several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Manages operators, people and configuration.
    Admin,
    /// Registers bots and uploads their workflows.
    Builder,
    /// Approves requests for privilege.
    Approver,
    /// Runs day-to-day lifecycle actions on bots.
    Operator,
    /// Reads the inventory and the audit log.
    Auditor,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Builder,
        Role::Approver,
        Role::Operator,
        Role::Auditor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Builder => "builder",
            Role::Approver => "approver",
            Role::Operator => "operator",
            Role::Auditor => "auditor",
        }
    }

    /// Reports whether signing in with this role needs a second factor.
    pub fn requires_mfa(self) -> bool {
        matches!(self, Role::Admin | Role::Builder | Role::Approver)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown role `{s}`: expected admin, builder, approver, operator or auditor"
                )
            })
    }
}
