//! Random passwords from the operating system's random source.

use rand::TryRngCore;
use rand::rngs::OsRng;
use secrecy::SecretString;
use serde::Deserialize;

use crate::error::{ConfigError, ConnectorError};

/// Letters and digits: safe inside connection URLs, shell words and
/// configuration files without escaping.
pub const DEFAULT_ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Default password length in characters (about 190 bits with the default
/// alphabet).
pub const DEFAULT_LENGTH: usize = 32;

/// Minimum strength a policy must reach, in bits of entropy.
pub const MIN_ENTROPY_BITS: f64 = 128.0;

/// Longest password a policy may ask for, in characters.
pub const MAX_LENGTH: usize = 1024;

/// The shape of generated passwords.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordPolicy {
    /// Number of characters.
    #[serde(default = "default_length")]
    pub length: usize,
    /// Characters to draw from, each with equal probability.
    #[serde(default = "default_alphabet")]
    pub alphabet: String,
}

fn default_length() -> usize {
    DEFAULT_LENGTH
}

fn default_alphabet() -> String {
    DEFAULT_ALPHABET.to_string()
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            length: DEFAULT_LENGTH,
            alphabet: default_alphabet(),
        }
    }
}

impl PasswordPolicy {
    /// Checks that the alphabet has distinct printable characters and that
    /// the policy yields at least [`MIN_ENTROPY_BITS`].
    pub fn validate(&self) -> Result<(), ConfigError> {
        let chars: Vec<char> = self.alphabet.chars().collect();
        if let Some(bad) = chars.iter().find(|c| c.is_control()) {
            return Err(ConfigError::new(
                "password.alphabet",
                format!(
                    "contains the control character U+{:04X}; use printable characters",
                    u32::from(*bad)
                ),
            ));
        }
        let mut sorted = chars.clone();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() != chars.len() {
            return Err(ConfigError::new(
                "password.alphabet",
                "contains a character more than once, which would bias the draw; list each character once",
            ));
        }
        if chars.len() < 2 {
            return Err(ConfigError::new(
                "password.alphabet",
                "needs at least 2 characters",
            ));
        }
        if self.length > MAX_LENGTH {
            return Err(ConfigError::new(
                "password.length",
                format!("{} is longer than the maximum of {MAX_LENGTH}", self.length),
            ));
        }
        let bits = self.length as f64 * (chars.len() as f64).log2();
        if bits < MIN_ENTROPY_BITS {
            return Err(ConfigError::new(
                "password.length",
                format!(
                    "{} characters from an alphabet of {} give {bits:.0} bits; at least {MIN_ENTROPY_BITS:.0} are required, so raise the length",
                    self.length,
                    chars.len()
                ),
            ));
        }
        Ok(())
    }

    /// Generates a password, validating the policy first.
    pub fn generate(&self) -> Result<SecretString, ConnectorError> {
        self.validate()
            .map_err(|err| ConnectorError::InvalidInput {
                field: "password policy",
                reason: err.to_string(),
            })?;
        let chars: Vec<char> = self.alphabet.chars().collect();
        let mut password = String::with_capacity(self.length);
        for _ in 0..self.length {
            let index = uniform_index(chars.len())?;
            if let Some(ch) = chars.get(index) {
                password.push(*ch);
            }
        }
        Ok(SecretString::from(password))
    }
}

/// Draws an index below `bound` without modulo bias: values in the last,
/// incomplete block of `bound` are rejected and drawn again.
fn uniform_index(bound: usize) -> Result<usize, ConnectorError> {
    let bound = u32::try_from(bound).map_err(|_| ConnectorError::InvalidInput {
        field: "password policy",
        reason: "alphabet is too large".to_string(),
    })?;
    let zone = (u32::MAX / bound) * bound;
    loop {
        let value = OsRng
            .try_next_u32()
            .map_err(|err| ConnectorError::Random(err.to_string()))?;
        if value < zone {
            return Ok((value % bound) as usize);
        }
    }
}

/// Draws `length` characters from lowercase letters and digits 2-7 (base32),
/// for names such as dynamic role suffixes.
pub(crate) fn random_base32(length: usize) -> Result<String, ConnectorError> {
    const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut text = String::with_capacity(length);
    for _ in 0..length {
        let index = uniform_index(BASE32.len())?;
        if let Some(byte) = BASE32.get(index) {
            text.push(char::from(*byte));
        }
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn default_policy_generates_length_and_alphabet() {
        let policy = PasswordPolicy::default();
        let password = policy.generate().unwrap();
        let text = password.expose_secret();
        assert_eq!(text.chars().count(), DEFAULT_LENGTH);
        assert!(text.chars().all(|c| DEFAULT_ALPHABET.contains(c)));
    }

    #[test]
    fn two_passwords_differ() {
        let policy = PasswordPolicy::default();
        let one = policy.generate().unwrap();
        let two = policy.generate().unwrap();
        assert_ne!(one.expose_secret(), two.expose_secret());
    }

    #[test]
    fn custom_alphabet_is_used() {
        let policy = PasswordPolicy {
            length: 200,
            alphabet: "ab".to_string(),
        };
        let password = policy.generate().unwrap();
        let text = password.expose_secret();
        assert_eq!(text.len(), 200);
        assert!(text.chars().all(|c| c == 'a' || c == 'b'));
        assert!(text.contains('a'));
        assert!(text.contains('b'));
    }

    #[test]
    fn every_character_appears() {
        // 64 characters, 4096 draws: a missing character would mean a biased
        // or truncated draw (chance of a false failure is below 1e-20).
        let alphabet: String = DEFAULT_ALPHABET.chars().chain("-_".chars()).collect();
        let policy = PasswordPolicy {
            length: 1024,
            alphabet: alphabet.clone(),
        };
        let mut seen = std::collections::HashSet::new();
        for _ in 0..4 {
            seen.extend(policy.generate().unwrap().expose_secret().chars());
        }
        assert_eq!(seen.len(), alphabet.chars().count());
    }

    #[test]
    fn weak_policy_is_rejected() {
        let err = PasswordPolicy {
            length: 8,
            alphabet: DEFAULT_ALPHABET.to_string(),
        }
        .validate()
        .unwrap_err();
        assert_eq!(err.field, "password.length");
        assert!(err.to_string().contains("128"), "{err}");
    }

    #[test]
    fn duplicate_or_control_alphabet_rejected() {
        let duplicate = PasswordPolicy {
            length: 64,
            alphabet: "abcabc".to_string(),
        };
        assert_eq!(duplicate.validate().unwrap_err().field, "password.alphabet");
        let control = PasswordPolicy {
            length: 64,
            alphabet: "ab\0c".to_string(),
        };
        assert_eq!(control.validate().unwrap_err().field, "password.alphabet");
    }

    #[test]
    fn debug_of_password_hides_it() {
        let password = PasswordPolicy::default().generate().unwrap();
        let debug = format!("{password:?}");
        assert!(!debug.contains(password.expose_secret()));
    }

    #[test]
    fn base32_suffix_has_expected_shape() {
        let text = random_base32(12).unwrap();
        assert_eq!(text.len(), 12);
        assert!(
            text.bytes()
                .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
        );
    }
}
