//! The server's own keys, kept in `keys/server.key` in the data folder.
//!
//! One key computes the keyed hashes under which session tokens are stored;
//! another encrypts operators' TOTP secrets with AES-256-GCM, bound to the
//! operator id as associated data. These keys protect sign-in material only;
//! secrets in the vault are protected by the sealed barrier instead.

use std::fs;
use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

const KEY_FILE: &str = "server.key";
const NONCE_LEN: usize = 12;

/// A failure to load the keys or to decrypt with them.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read or write the server key {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the server key {path} is not 64 hex-encoded bytes: restore it from a backup")]
    Malformed { path: PathBuf },
    #[error("stored ciphertext failed to decrypt: wrong key or tampered row")]
    Decrypt,
}

/// Keys for token hashing and small encrypted columns.
pub struct ServerKeys {
    token_key: [u8; 32],
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for ServerKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerKeys(..)")
    }
}

impl ServerKeys {
    /// Loads the keys from `keys_dir`, creating them on first start.
    pub fn load_or_create(keys_dir: &Path) -> Result<Self, KeyError> {
        let path = keys_dir.join(KEY_FILE);
        let io = |source| KeyError::Io {
            path: path.clone(),
            source,
        };
        let bytes: [u8; 64] = if path.exists() {
            let text = fs::read_to_string(&path).map_err(io)?;
            hex::decode(text.trim())
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| KeyError::Malformed { path: path.clone() })?
        } else {
            fs::create_dir_all(keys_dir).map_err(io)?;
            let mut bytes = [0u8; 64];
            bytes[..32].copy_from_slice(&rand::random::<[u8; 32]>());
            bytes[32..].copy_from_slice(&rand::random::<[u8; 32]>());
            ward_store::files::write_private(&path, &hex::encode(bytes)).map_err(io)?;
            tracing::info!(path = %path.display(), "server key created");
            bytes
        };
        Ok(Self::from_bytes(&bytes))
    }

    fn from_bytes(bytes: &[u8; 64]) -> Self {
        let mut token_key = [0u8; 32];
        token_key.copy_from_slice(&bytes[..32]);
        let cipher = Aes256Gcm::new(aes_gcm::Key::<Aes256Gcm>::from_slice(&bytes[32..]));
        ServerKeys { token_key, cipher }
    }

    /// Keyed hash under which a token is stored and looked up.
    pub fn hash_token(&self, token: &str) -> Vec<u8> {
        let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(&self.token_key) else {
            // HMAC accepts keys of any length, so this branch never runs.
            return Vec::new();
        };
        mac.update(token.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// Encrypts `plaintext` bound to `aad`; the output is nonce then ciphertext.
    pub fn encrypt(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, KeyError> {
        let nonce_bytes = rand::random::<[u8; NONCE_LEN]>();
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce_bytes),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| KeyError::Decrypt)?;
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Decrypts what [`ServerKeys::encrypt`] produced for the same `aad`.
    pub fn decrypt(&self, aad: &[u8], data: &[u8]) -> Result<Vec<u8>, KeyError> {
        if data.len() < NONCE_LEN {
            return Err(KeyError::Decrypt);
        }
        let (nonce, sealed) = data.split_at(NONCE_LEN);
        self.cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad })
            .map_err(|_| KeyError::Decrypt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ciphertext_bound_to_aad() {
        let keys = ServerKeys::from_bytes(&[7u8; 64]);
        let sealed = keys.encrypt(b"op_a", b"secret").unwrap();
        assert_eq!(keys.decrypt(b"op_a", &sealed).unwrap(), b"secret");
        assert!(keys.decrypt(b"op_b", &sealed).is_err());
    }

    #[test]
    fn token_hash_is_keyed() {
        let a = ServerKeys::from_bytes(&[1u8; 64]);
        let b = ServerKeys::from_bytes(&[2u8; 64]);
        assert_eq!(a.hash_token("t"), a.hash_token("t"));
        assert_ne!(a.hash_token("t"), b.hash_token("t"));
    }
}
