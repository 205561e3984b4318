//! Shamir's secret sharing of the unseal key over GF(256), and the text
//! forms (hex, base64) in which operators hold the shares.
//!
//! A share is 33 bytes: the participant identifier (1 to 255) followed by
//! one byte per key byte.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use vsss_rs::Gf256;
use zeroize::Zeroizing;

use crate::cipher::KEY_LEN;
use crate::error::{Result, VaultError};

/// Length of one share in bytes.
pub const SHARE_LEN: usize = KEY_LEN + 1;

/// The largest number of shares a key may be split into.
pub const MAX_SHARES: u8 = 255;

/// One share of the unseal key, zeroed on drop.
pub type Share = Zeroizing<Vec<u8>>;

/// Checks a share count and threshold with Vault's rules and messages.
pub fn check_config(shares: u32, threshold: u32) -> Result<()> {
    let problem = if shares < 1 {
        Some("shares must be at least one")
    } else if threshold < 1 {
        Some("threshold must be at least one")
    } else if shares > u32::from(MAX_SHARES) {
        Some("shares must be less than 256")
    } else if threshold > shares {
        Some("threshold cannot be larger than shares")
    } else if shares > 1 && threshold == 1 {
        Some("threshold must be greater than one for multiple shares")
    } else {
        None
    };
    match problem {
        Some(reason) => Err(VaultError::InvalidSealConfig(reason)),
        None => Ok(()),
    }
}

/// Splits `key` into `shares` shares of which any `threshold` rebuild it.
pub fn split(key: &[u8; KEY_LEN], shares: u8, threshold: u8) -> Result<Vec<Share>> {
    check_config(u32::from(shares), u32::from(threshold))?;
    if threshold == 1 {
        // One share of one: the share is the key with identifier 1.
        let mut share = Zeroizing::new(Vec::with_capacity(SHARE_LEN));
        share.push(1);
        share.extend_from_slice(key);
        return Ok(vec![share]);
    }
    let parts = Gf256::split_bytes(
        usize::from(threshold),
        usize::from(shares),
        key,
        rand_010::rng(),
    )
    .map_err(|_| {
        VaultError::InvalidSealConfig("the key could not be split with this configuration")
    })?;
    Ok(parts.into_iter().map(Zeroizing::new).collect())
}

/// Rebuilds the key from at least `threshold` distinct shares.
///
/// Wrong shares rebuild a wrong key without an error here; the caller finds
/// out when the key fails to open the root key.
pub fn combine(shares: &[Share]) -> Result<Zeroizing<Vec<u8>>> {
    if let [single] = shares {
        return Ok(Zeroizing::new(single.get(1..).unwrap_or_default().to_vec()));
    }
    let raw: Vec<Vec<u8>> = shares.iter().map(|share| share.to_vec()).collect();
    let raw = Zeroizing::new(raw);
    let key = Gf256::combine_bytes(&*raw).map_err(|_| VaultError::UnsealFailed)?;
    Ok(Zeroizing::new(key))
}

/// Encodes a share as lower-case hex.
pub fn to_hex(share: &[u8]) -> String {
    hex::encode(share)
}

/// Encodes a share as standard base64.
pub fn to_base64(share: &[u8]) -> String {
    BASE64.encode(share)
}

/// Decodes a share given as hex or base64, as `sys/unseal` accepts it.
pub fn decode(text: &str) -> Result<Share> {
    let text = text.trim();
    let bytes = hex::decode(text)
        .ok()
        .or_else(|| BASE64.decode(text).ok())
        .map(Zeroizing::new)
        .ok_or(VaultError::InvalidShareEncoding)?;
    let identifier_valid = bytes.first().is_some_and(|id| *id != 0);
    if bytes.len() != SHARE_LEN || !identifier_valid {
        return Err(VaultError::InvalidShareEncoding);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cipher::Key;

    #[test]
    fn any_threshold_subset_rebuilds_key() {
        let key = Key::generate();
        let shares = split(key.as_bytes(), 5, 3).unwrap();
        assert_eq!(shares.len(), 5);
        for subset in [[0, 1, 2], [2, 3, 4], [0, 2, 4], [4, 1, 3]] {
            let chosen: Vec<Share> = subset.iter().map(|&i| shares[i].clone()).collect();
            assert_eq!(combine(&chosen).unwrap().as_slice(), key.as_bytes());
        }
    }

    #[test]
    fn fewer_than_threshold_gives_other_key() {
        let key = Key::generate();
        let shares = split(key.as_bytes(), 5, 3).unwrap();
        let rebuilt = combine(&shares[..2]).unwrap();
        assert_ne!(rebuilt.as_slice(), key.as_bytes());
    }

    #[test]
    fn single_share_is_identifier_and_key() {
        let key = Key::generate();
        let shares = split(key.as_bytes(), 1, 1).unwrap();
        assert_eq!(shares.len(), 1);
        assert_eq!(shares[0].len(), SHARE_LEN);
        assert_eq!(combine(&shares).unwrap().as_slice(), key.as_bytes());
    }

    #[test]
    fn config_rules_match_vault() {
        let cases = [
            (3, 5, "threshold cannot be larger than shares"),
            (
                5,
                1,
                "threshold must be greater than one for multiple shares",
            ),
            (256, 3, "shares must be less than 256"),
            (0, 0, "shares must be at least one"),
        ];
        for (shares, threshold, message) in cases {
            let err = check_config(shares, threshold).unwrap_err();
            assert!(
                err.to_string().contains(message),
                "{shares}/{threshold}: {err}"
            );
        }
        assert!(check_config(5, 3).is_ok());
        assert!(check_config(1, 1).is_ok());
    }

    #[test]
    fn decode_accepts_hex_and_base64() {
        let key = Key::generate();
        let shares = split(key.as_bytes(), 3, 2).unwrap();
        let share = &shares[1];
        assert_eq!(decode(&to_hex(share)).unwrap().as_slice(), share.as_slice());
        assert_eq!(
            decode(&to_base64(share)).unwrap().as_slice(),
            share.as_slice()
        );
    }

    #[test]
    fn decode_rejects_bad_text_and_length() {
        for bad in [
            "",
            "zz",
            "not base64!",
            "abcd",
            &hex::encode([0u8; SHARE_LEN]),
        ] {
            assert!(
                matches!(decode(bad), Err(VaultError::InvalidShareEncoding)),
                "{bad}"
            );
        }
    }
}
