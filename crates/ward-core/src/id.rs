//! Typed identifiers.
//!
//! Every id carries a prefix naming its kind (`bot_`, `per_`, `op_`, …) followed
//! by 26 lowercase base32 characters of randomness. A request that passes a
//! person id where a bot id belongs fails to parse instead of missing a lookup.

use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The kind of object an id names, with its prefix.
pub trait IdKind {
    /// Prefix written before the underscore, such as `bot`.
    const PREFIX: &'static str;
    /// Human name used in error messages, such as `bot`.
    const NAME: &'static str;
}

macro_rules! id_kinds {
    ($($(#[$doc:meta])* $kind:ident => $prefix:literal, $name:literal;)*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
            pub struct $kind;
            impl IdKind for $kind {
                const PREFIX: &'static str = $prefix;
                const NAME: &'static str = $name;
            }
        )*
    };
}

id_kinds! {
    /// A bot governed by Ward.
    BotKind => "bot", "bot";
    /// A person in the directory.
    PersonKind => "per", "person";
    /// An operator account that signs in.
    OperatorKind => "op", "operator";
    /// A workflow version uploaded for a bot.
    WorkflowKind => "wfv", "workflow version";
    /// A request for privilege that needs an approval.
    RequestKind => "req", "access request";
    /// A secret in the vault.
    SecretKind => "sec", "secret";
    /// A grant of an entitlement to a bot.
    GrantKind => "grt", "grant";
    /// A session or bot token.
    TokenKind => "tok", "token";
    /// A finding, such as a hardcoded secret.
    FindingKind => "fnd", "finding";
    /// An alert raised by detection.
    AlertKind => "alr", "alert";
    /// A lease on a dynamic credential.
    LeaseKind => "lse", "lease";
}

/// Length of the random part of an id, in base32 characters (130 bits).
const RANDOM_LEN: usize = 26;
const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// An id of kind `K`, such as `bot_4kq…`.
pub struct Id<K: IdKind> {
    text: String,
    kind: PhantomData<K>,
}

/// Failure to parse an id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The prefix names another kind, or is missing.
    #[error(
        "`{value}` is not an id of the right kind: expected a {expected} id, which starts with `{prefix}_`"
    )]
    WrongPrefix {
        value: String,
        expected: &'static str,
        prefix: &'static str,
    },
    /// The random part has the wrong length or characters.
    #[error(
        "`{value}` is not a valid {expected} id: expected `{prefix}_` and 26 characters a-z, 2-7"
    )]
    Malformed {
        value: String,
        expected: &'static str,
        prefix: &'static str,
    },
}

impl<K: IdKind> Id<K> {
    /// Generates a fresh random id.
    pub fn generate() -> Self {
        let mut text = String::with_capacity(K::PREFIX.len() + 1 + RANDOM_LEN);
        text.push_str(K::PREFIX);
        text.push('_');
        for _ in 0..RANDOM_LEN {
            let index = rand::random::<u8>() as usize % ALPHABET.len();
            text.push(ALPHABET[index] as char);
        }
        Id {
            text,
            kind: PhantomData,
        }
    }

    /// Parses `value`, checking the prefix and the random part.
    pub fn parse(value: &str) -> Result<Self, IdError> {
        let Some(rest) = value
            .strip_prefix(K::PREFIX)
            .and_then(|rest| rest.strip_prefix('_'))
        else {
            return Err(IdError::WrongPrefix {
                value: value.to_string(),
                expected: K::NAME,
                prefix: K::PREFIX,
            });
        };
        let well_formed = rest.len() == RANDOM_LEN && rest.bytes().all(|b| ALPHABET.contains(&b));
        if !well_formed {
            return Err(IdError::Malformed {
                value: value.to_string(),
                expected: K::NAME,
                prefix: K::PREFIX,
            });
        }
        Ok(Id {
            text: value.to_string(),
            kind: PhantomData,
        })
    }

    /// Reports whether `value` starts with this kind's prefix, well formed or not.
    pub fn has_prefix(value: &str) -> bool {
        value
            .strip_prefix(K::PREFIX)
            .is_some_and(|rest| rest.starts_with('_'))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl<K: IdKind> Clone for Id<K> {
    fn clone(&self) -> Self {
        Id {
            text: self.text.clone(),
            kind: PhantomData,
        }
    }
}

impl<K: IdKind> PartialEq for Id<K> {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl<K: IdKind> Eq for Id<K> {}

impl<K: IdKind> std::hash::Hash for Id<K> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.text.hash(state);
    }
}

impl<K: IdKind> fmt::Debug for Id<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl<K: IdKind> fmt::Display for Id<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl<K: IdKind> FromStr for Id<K> {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Id::parse(s)
    }
}

impl<K: IdKind> Serialize for Id<K> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de, K: IdKind> Deserialize<'de> for Id<K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Id::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Names the kind of a well-formed id of any kind, such as `person` for
/// `per_…`, or `None` when `value` is not an id.
pub fn kind_of(value: &str) -> Option<&'static str> {
    fn is<K: IdKind>(value: &str) -> Option<&'static str> {
        Id::<K>::parse(value).ok().map(|_| K::NAME)
    }
    is::<BotKind>(value)
        .or_else(|| is::<PersonKind>(value))
        .or_else(|| is::<OperatorKind>(value))
        .or_else(|| is::<WorkflowKind>(value))
        .or_else(|| is::<RequestKind>(value))
        .or_else(|| is::<SecretKind>(value))
        .or_else(|| is::<GrantKind>(value))
        .or_else(|| is::<TokenKind>(value))
        .or_else(|| is::<FindingKind>(value))
        .or_else(|| is::<AlertKind>(value))
        .or_else(|| is::<LeaseKind>(value))
}

pub type BotId = Id<BotKind>;
pub type PersonId = Id<PersonKind>;
pub type OperatorId = Id<OperatorKind>;
pub type WorkflowVersionId = Id<WorkflowKind>;
pub type RequestId = Id<RequestKind>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_id_round_trips() {
        let id = BotId::generate();
        assert!(id.as_str().starts_with("bot_"));
        assert_eq!(BotId::parse(id.as_str()).unwrap(), id);
    }

    #[test]
    fn person_id_is_not_a_bot_id() {
        let person = PersonId::generate();
        let err = BotId::parse(person.as_str()).unwrap_err();
        assert!(matches!(err, IdError::WrongPrefix { .. }));
        assert!(err.to_string().contains("bot_"));
    }

    #[test]
    fn malformed_random_part_rejected() {
        assert!(matches!(
            BotId::parse("bot_short"),
            Err(IdError::Malformed { .. })
        ));
        assert!(matches!(
            BotId::parse("bot_ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
            Err(IdError::Malformed { .. })
        ));
    }
}
