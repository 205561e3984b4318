//! The keyring: the data keys by term, and the key for keyed hashes.
//!
//! New records are encrypted with the active term's key; older terms stay in
//! the keyring so records written under them still decrypt until a re-encrypt
//! pass moves them to the active term. The keyring itself is stored encrypted
//! by the root key.

use std::collections::BTreeMap;

use zeroize::Zeroizing;

use crate::cipher::{KEY_LEN, Key};
use crate::error::CryptoError;

const FORMAT_VERSION: u8 = 1;
const KEYRING_AAD: &[u8] = b"ward-vault/keyring";

/// One data key and when it became active (unix seconds).
#[derive(Clone, Debug)]
pub struct TermKey {
    /// The AES-256 key.
    pub key: Key,
    /// Unix seconds at which the term was created.
    pub created_at: i64,
}

/// The data keys and the hashing key of an unsealed vault.
#[derive(Clone, Debug)]
pub struct Keyring {
    generation: u64,
    active_term: u32,
    terms: BTreeMap<u32, TermKey>,
    hmac_key: Key,
}

impl Keyring {
    /// Creates a keyring with one data key (term 1) and a fresh hashing key.
    pub fn generate(now_unix: i64) -> Self {
        let mut terms = BTreeMap::new();
        terms.insert(
            1,
            TermKey {
                key: Key::generate(),
                created_at: now_unix,
            },
        );
        Keyring {
            generation: 1,
            active_term: 1,
            terms,
            hmac_key: Key::generate(),
        }
    }

    /// Returns a copy with a new active term; every older term is kept.
    pub fn with_new_term(&self, now_unix: i64) -> Self {
        let mut next = self.clone();
        next.active_term = self.active_term.saturating_add(1);
        next.terms.insert(
            next.active_term,
            TermKey {
                key: Key::generate(),
                created_at: now_unix,
            },
        );
        next.generation = self.generation.saturating_add(1);
        next
    }

    /// Returns a copy whose generation is one higher, for a root-key rotation.
    pub fn next_generation(&self) -> Self {
        let mut next = self.clone();
        next.generation = self.generation.saturating_add(1);
        next
    }

    /// Counter raised by every change, used to detect racing rotations.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The term used for new writes.
    pub fn active_term(&self) -> u32 {
        self.active_term
    }

    /// The active term and its key.
    pub fn active(&self) -> Result<(u32, &Key), CryptoError> {
        self.key(self.active_term)
            .map(|key| (self.active_term, key))
            .ok_or(CryptoError::Keyring("active term missing"))
    }

    /// The key of `term`, if the keyring holds it.
    pub fn key(&self, term: u32) -> Option<&Key> {
        self.terms.get(&term).map(|entry| &entry.key)
    }

    /// Every term with its creation time, oldest first.
    pub fn terms(&self) -> impl Iterator<Item = (u32, i64)> + '_ {
        self.terms
            .iter()
            .map(|(term, entry)| (*term, entry.created_at))
    }

    /// The HMAC key for token and secret-id hashes. It never rotates, because
    /// rotating it would invalidate every issued token.
    pub fn hmac_key(&self) -> &Key {
        &self.hmac_key
    }

    /// Encrypts the keyring with the root key.
    pub fn encrypt(&self, root_key: &Key) -> Result<Vec<u8>, CryptoError> {
        root_key.seal(KEYRING_AAD, &self.to_bytes())
    }

    /// Decrypts a keyring produced by [`Keyring::encrypt`].
    pub fn decrypt(root_key: &Key, sealed: &[u8]) -> Result<Self, CryptoError> {
        let bytes = root_key.open(KEYRING_AAD, sealed)?;
        Self::from_bytes(&bytes)
    }

    // Layout: version u8, generation u64, active term u32, hmac key,
    // count u32, then per term: term u32, created_at i64, key. Big endian.
    fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(64 + self.terms.len() * 44));
        out.push(FORMAT_VERSION);
        out.extend_from_slice(&self.generation.to_be_bytes());
        out.extend_from_slice(&self.active_term.to_be_bytes());
        out.extend_from_slice(self.hmac_key.as_bytes());
        let count = u32::try_from(self.terms.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&count.to_be_bytes());
        for (term, entry) in &self.terms {
            out.extend_from_slice(&term.to_be_bytes());
            out.extend_from_slice(&entry.created_at.to_be_bytes());
            out.extend_from_slice(entry.key.as_bytes());
        }
        out
    }

    fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        let mut reader = Reader { bytes };
        if reader.take::<1>()? != [FORMAT_VERSION] {
            return Err(CryptoError::Keyring("unknown format version"));
        }
        let generation = u64::from_be_bytes(reader.take()?);
        let active_term = u32::from_be_bytes(reader.take()?);
        let hmac_key = Key::from_slice(Zeroizing::new(reader.take::<KEY_LEN>()?).as_slice())?;
        let count = u32::from_be_bytes(reader.take()?);
        let mut terms = BTreeMap::new();
        for _ in 0..count {
            let term = u32::from_be_bytes(reader.take()?);
            let created_at = i64::from_be_bytes(reader.take()?);
            let key = Key::from_slice(Zeroizing::new(reader.take::<KEY_LEN>()?).as_slice())?;
            terms.insert(term, TermKey { key, created_at });
        }
        if !reader.bytes.is_empty() {
            return Err(CryptoError::Keyring("trailing bytes"));
        }
        if !terms.contains_key(&active_term) {
            return Err(CryptoError::Keyring("active term missing"));
        }
        Ok(Keyring {
            generation,
            active_term,
            terms,
            hmac_key,
        })
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], CryptoError> {
        let (head, rest) = self
            .bytes
            .split_first_chunk::<N>()
            .ok_or(CryptoError::Keyring("truncated"))?;
        self.bytes = rest;
        Ok(*head)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encrypt_decrypt_round_trip() {
        let root = Key::generate();
        let ring = Keyring::generate(100).with_new_term(200);
        let back = Keyring::decrypt(&root, &ring.encrypt(&root).unwrap()).unwrap();
        assert_eq!(back.active_term(), 2);
        assert_eq!(back.generation(), 2);
        assert_eq!(back.terms().collect::<Vec<_>>(), vec![(1, 100), (2, 200)]);
        assert_eq!(
            back.key(1).unwrap().as_bytes(),
            ring.key(1).unwrap().as_bytes()
        );
        assert_eq!(back.hmac_key().as_bytes(), ring.hmac_key().as_bytes());
    }

    #[test]
    fn new_term_keeps_old_terms_and_hmac_key() {
        let ring = Keyring::generate(1);
        let next = ring.with_new_term(2);
        assert_eq!(next.active().unwrap().0, 2);
        assert_eq!(
            next.key(1).unwrap().as_bytes(),
            ring.key(1).unwrap().as_bytes()
        );
        assert_ne!(
            next.key(2).unwrap().as_bytes(),
            ring.key(1).unwrap().as_bytes()
        );
        assert_eq!(next.hmac_key().as_bytes(), ring.hmac_key().as_bytes());
    }

    #[test]
    fn wrong_root_key_fails() {
        let ring = Keyring::generate(1);
        let sealed = ring.encrypt(&Key::generate()).unwrap();
        assert!(Keyring::decrypt(&Key::generate(), &sealed).is_err());
    }

    #[test]
    fn truncated_bytes_rejected() {
        let ring = Keyring::generate(1);
        let bytes = ring.to_bytes();
        assert!(Keyring::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        let mut extra = bytes.to_vec();
        extra.push(0);
        assert!(Keyring::from_bytes(&extra).is_err());
    }
}
