//! AES-256-GCM with a fresh random nonce per message.
//!
//! A sealed message is `nonce (12 bytes) || ciphertext || tag (16 bytes)`.
//! The caller supplies associated data naming the record, so a ciphertext
//! copied into another record fails to open.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rand_010::Rng;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::CryptoError;

/// Length of an AES-256 key in bytes.
pub const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// A 256-bit symmetric key, zeroed on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Key([u8; KEY_LEN]);

impl Key {
    /// Generates a key from the operating system's random source.
    pub fn generate() -> Self {
        let mut bytes = [0u8; KEY_LEN];
        rand_010::rng().fill_bytes(&mut bytes);
        Key(bytes)
    }

    /// Builds a key from exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, CryptoError> {
        let array: [u8; KEY_LEN] = bytes.try_into().map_err(|_| CryptoError::KeyLength {
            expected: KEY_LEN,
            found: bytes.len(),
        })?;
        Ok(Key(array))
    }

    /// The raw key bytes.
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// Encrypts `plaintext` with a fresh nonce, binding `aad`.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let cipher = Aes256Gcm::new_from_slice(&self.0).map_err(|_| CryptoError::Encrypt)?;
        let mut nonce_bytes = [0u8; NONCE_LEN];
        rand_010::rng().fill_bytes(&mut nonce_bytes);
        let nonce = Nonce::from(nonce_bytes);
        let body = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| CryptoError::Encrypt)?;
        let mut sealed = Vec::with_capacity(NONCE_LEN + body.len());
        sealed.extend_from_slice(&nonce_bytes);
        sealed.extend_from_slice(&body);
        Ok(sealed)
    }

    /// Decrypts a message produced by [`Key::seal`] with the same `aad`.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return Err(CryptoError::Truncated { len: sealed.len() });
        }
        let (nonce_bytes, body) = sealed.split_at(NONCE_LEN);
        let nonce_array: [u8; NONCE_LEN] = nonce_bytes
            .try_into()
            .map_err(|_| CryptoError::Truncated { len: sealed.len() })?;
        let cipher = Aes256Gcm::new_from_slice(&self.0).map_err(|_| CryptoError::Decrypt)?;
        let plaintext = cipher
            .decrypt(&Nonce::from(nonce_array), Payload { msg: body, aad })
            .map_err(|_| CryptoError::Decrypt)?;
        Ok(Zeroizing::new(plaintext))
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip() {
        let key = Key::generate();
        let sealed = key.seal(b"row-1", b"hunter2").unwrap();
        assert_eq!(key.open(b"row-1", &sealed).unwrap().as_slice(), b"hunter2");
    }

    #[test]
    fn nonce_is_fresh_per_message() {
        let key = Key::generate();
        let first = key.seal(b"a", b"same").unwrap();
        let second = key.seal(b"a", b"same").unwrap();
        assert_ne!(first[..NONCE_LEN], second[..NONCE_LEN]);
        assert_ne!(first, second);
    }

    #[test]
    fn other_aad_fails() {
        let key = Key::generate();
        let sealed = key.seal(b"row-1", b"hunter2").unwrap();
        assert!(matches!(
            key.open(b"row-2", &sealed),
            Err(CryptoError::Decrypt)
        ));
    }

    #[test]
    fn other_key_fails() {
        let sealed = Key::generate().seal(b"a", b"x").unwrap();
        assert!(Key::generate().open(b"a", &sealed).is_err());
    }

    #[test]
    fn tampered_or_truncated_fails() {
        let key = Key::generate();
        let mut sealed = key.seal(b"a", b"value").unwrap();
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert!(key.open(b"a", &sealed).is_err());
        assert!(matches!(
            key.open(b"a", &sealed[..10]),
            Err(CryptoError::Truncated { .. })
        ));
    }

    #[test]
    fn debug_redacts_key() {
        assert_eq!(format!("{:?}", Key::generate()), "Key(<redacted>)");
    }
}
