//! SCRAM-SHA-256 password verifiers in PostgreSQL's stored format
//! (RFC 5802 and RFC 7677, as PostgreSQL 10 and later store them in
//! `pg_authid.rolpassword`).
//!
//! Ward sends PostgreSQL a verifier computed here instead of the password, so
//! the plain password never reaches the server, its statement log or
//! `pg_stat_statements`. PostgreSQL stores a value in this format as given.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use rand::TryRngCore;
use rand::rngs::OsRng;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::error::ConnectorError;

/// PBKDF2 iteration count, the same default as PostgreSQL's
/// `scram_iterations` setting.
pub const ITERATIONS: u32 = 4096;

/// Salt length in bytes, the same as PostgreSQL uses.
const SALT_LEN: usize = 16;

/// Computes a verifier for `password` with a fresh random salt.
pub fn verifier(password: &SecretString) -> Result<String, ConnectorError> {
    let mut salt = [0u8; SALT_LEN];
    OsRng
        .try_fill_bytes(&mut salt)
        .map_err(|err| ConnectorError::Random(err.to_string()))?;
    Ok(verifier_with(password, &salt, ITERATIONS))
}

/// Computes a verifier for `password` with the given salt and iteration count.
pub fn verifier_with(password: &SecretString, salt: &[u8], iterations: u32) -> String {
    let normalized = normalize(password.expose_secret());
    let mut salted = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(normalized.as_bytes(), salt, iterations, &mut salted);

    let client_key = hmac_sha256(&salted, b"Client Key");
    let stored_key = Sha256::digest(client_key);
    let server_key = hmac_sha256(&salted, b"Server Key");
    format!(
        "SCRAM-SHA-256${iterations}:{}${}:{}",
        BASE64.encode(salt),
        BASE64.encode(stored_key),
        BASE64.encode(server_key)
    )
}

/// Reports whether `password` matches a stored verifier.
///
/// Returns `None` when `stored` is not a SCRAM-SHA-256 verifier (an MD5 hash,
/// or a plain password on very old servers).
pub fn matches(stored: &str, password: &SecretString) -> Option<bool> {
    let rest = stored.strip_prefix("SCRAM-SHA-256$")?;
    let (params, _keys) = rest.split_once('$')?;
    let (iterations, salt) = params.split_once(':')?;
    let iterations: u32 = iterations.parse().ok()?;
    let salt = BASE64.decode(salt).ok()?;
    // A plain comparison is enough: the caller already has the admin
    // credential that read the verifier, so timing reveals nothing new.
    Some(verifier_with(password, &salt, iterations) == stored)
}

/// Applies SASLprep as PostgreSQL does: a password that SASLprep rejects is
/// used as raw bytes.
fn normalize(password: &str) -> std::borrow::Cow<'_, str> {
    stringprep::saslprep(password).unwrap_or(std::borrow::Cow::Borrowed(password))
}

#[expect(
    clippy::expect_used,
    reason = "HMAC accepts keys of any length, so new_from_slice cannot fail"
)]
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("hmac takes any key length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifier_matches_only_its_password() {
        let password = SecretString::from("correct horse");
        let stored = verifier(&password).unwrap();
        assert!(stored.starts_with("SCRAM-SHA-256$4096:"));
        assert_eq!(matches(&stored, &password), Some(true));
        assert_eq!(
            matches(&stored, &SecretString::from("correct horsf")),
            Some(false)
        );
    }

    #[test]
    fn verifier_does_not_contain_password() {
        let password = SecretString::from("pl41n-text");
        assert!(!verifier(&password).unwrap().contains("pl41n-text"));
    }

    #[test]
    fn fresh_salt_each_time() {
        let password = SecretString::from("same");
        assert_ne!(verifier(&password).unwrap(), verifier(&password).unwrap());
    }

    #[test]
    fn md5_hash_is_not_scram() {
        let password = SecretString::from("x");
        assert_eq!(matches("md5abcdef", &password), None);
        assert_eq!(matches("SCRAM-SHA-256$bad", &password), None);
    }

    #[test]
    fn known_postgres_verifier_matches() {
        // Produced by PostgreSQL 15 for the password `ward-test` with
        // `SET password_encryption = 'scram-sha-256'; CREATE ROLE ... PASSWORD 'ward-test'`.
        let stored = include_str!("../tests/fixtures/postgres-scram-verifier.txt").trim();
        assert_eq!(
            matches(stored, &SecretString::from("ward-test")),
            Some(true)
        );
        assert_eq!(
            matches(stored, &SecretString::from("ward-tesT")),
            Some(false)
        );
    }
}
