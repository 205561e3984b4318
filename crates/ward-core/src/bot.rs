//! Bots: their platforms, lifecycle states and the transitions between them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The RPA platform or runtime a bot runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Platform {
    Uipath,
    AutomationAnywhere,
    BluePrism,
    PowerAutomate,
    Script,
    Other,
}

impl Platform {
    /// Every platform, in the order help texts list them.
    pub const ALL: [Platform; 6] = [
        Platform::Uipath,
        Platform::AutomationAnywhere,
        Platform::BluePrism,
        Platform::PowerAutomate,
        Platform::Script,
        Platform::Other,
    ];

    /// The wire name, such as `blue-prism`.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Uipath => "uipath",
            Platform::AutomationAnywhere => "automation-anywhere",
            Platform::BluePrism => "blue-prism",
            Platform::PowerAutomate => "power-automate",
            Platform::Script => "script",
            Platform::Other => "other",
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown platform name.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "unknown platform `{0}`: expected one of uipath, automation-anywhere, blue-prism, power-automate, script, other"
)]
pub struct UnknownPlatform(pub String);

impl FromStr for Platform {
    type Err = UnknownPlatform;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Platform::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| UnknownPlatform(s.to_string()))
    }
}

/// A bot's lifecycle state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BotState {
    Active,
    Suspended,
    Quarantined,
    Retired,
}

impl BotState {
    /// The wire name, such as `quarantined`.
    pub fn as_str(self) -> &'static str {
        match self {
            BotState::Active => "active",
            BotState::Suspended => "suspended",
            BotState::Quarantined => "quarantined",
            BotState::Retired => "retired",
        }
    }

    /// Reports whether the bot may authenticate and use its credentials.
    pub fn may_run(self) -> bool {
        self == BotState::Active
    }
}

impl fmt::Display for BotState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown state name.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown bot state `{0}`: expected active, suspended, quarantined or retired")]
pub struct UnknownState(pub String);

impl FromStr for BotState {
    type Err = UnknownState;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "active" => Ok(BotState::Active),
            "suspended" => Ok(BotState::Suspended),
            "quarantined" => Ok(BotState::Quarantined),
            "retired" => Ok(BotState::Retired),
            _ => Err(UnknownState(s.to_string())),
        }
    }
}

/// A requested lifecycle change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transition {
    Suspend,
    Quarantine,
    Retire,
    Reactivate,
}

impl Transition {
    /// The wire name, which is also the last segment of the API path.
    pub fn as_str(self) -> &'static str {
        match self {
            Transition::Suspend => "suspend",
            Transition::Quarantine => "quarantine",
            Transition::Retire => "retire",
            Transition::Reactivate => "reactivate",
        }
    }

    /// The state the bot reaches.
    pub fn target(self) -> BotState {
        match self {
            Transition::Suspend => BotState::Suspended,
            Transition::Quarantine => BotState::Quarantined,
            Transition::Retire => BotState::Retired,
            Transition::Reactivate => BotState::Active,
        }
    }
}

impl FromStr for Transition {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "suspend" => Ok(Transition::Suspend),
            "quarantine" => Ok(Transition::Quarantine),
            "retire" => Ok(Transition::Retire),
            "reactivate" => Ok(Transition::Reactivate),
            other => Err(format!(
                "unknown transition `{other}`: expected suspend, quarantine, retire or reactivate"
            )),
        }
    }
}

/// A transition that the lifecycle does not allow from the current state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {transition} a bot that is {from}: {hint}")]
pub struct TransitionNotAllowed {
    pub from: BotState,
    pub transition: &'static str,
    pub hint: &'static str,
}

/// Checks `transition` from `from` and returns the new state.
///
/// Allowed: active → suspended, quarantined or retired; suspended → active,
/// quarantined or retired; quarantined → active, suspended or retired. Retired is
/// final, and a transition to the state the bot is already in is rejected.
pub fn apply_transition(
    from: BotState,
    transition: Transition,
) -> Result<BotState, TransitionNotAllowed> {
    let to = transition.target();
    let refuse = |hint| TransitionNotAllowed {
        from,
        transition: transition.as_str(),
        hint,
    };
    if from == BotState::Retired {
        return Err(refuse("retired is final; register a new bot instead"));
    }
    if from == to {
        return Err(refuse("the bot is already in that state"));
    }
    Ok(to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_names_round_trip() {
        for platform in Platform::ALL {
            assert_eq!(platform.as_str().parse::<Platform>().unwrap(), platform);
        }
        assert!("sap".parse::<Platform>().is_err());
    }

    #[test]
    fn retired_is_final() {
        for t in [
            Transition::Suspend,
            Transition::Quarantine,
            Transition::Retire,
            Transition::Reactivate,
        ] {
            assert!(apply_transition(BotState::Retired, t).is_err());
        }
    }

    #[test]
    fn same_state_transition_rejected() {
        assert!(apply_transition(BotState::Active, Transition::Reactivate).is_err());
        assert!(apply_transition(BotState::Suspended, Transition::Suspend).is_err());
    }

    #[test]
    fn allowed_transitions() {
        assert_eq!(
            apply_transition(BotState::Active, Transition::Suspend).unwrap(),
            BotState::Suspended
        );
        assert_eq!(
            apply_transition(BotState::Suspended, Transition::Reactivate).unwrap(),
            BotState::Active
        );
        assert_eq!(
            apply_transition(BotState::Quarantined, Transition::Retire).unwrap(),
            BotState::Retired
        );
    }
}
