//! Turning file bytes into text: BOMs, UTF-16 with or without BOM, binary detection.

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE};

/// How much of a file the encoding and binary checks look at.
const SNIFF_LEN: usize = 8192;

/// File content after decoding.
#[derive(Debug)]
pub enum Decoded {
    /// Text, with any BOM removed.
    Text(String),
    /// Bytes that are not text in a supported encoding.
    Binary,
}

/// Decodes `bytes` as UTF-8 or UTF-16 (LE or BE, with or without BOM).
///
/// A file without BOM is read as UTF-16 when at least 40% of the sniffed bytes at odd
/// (LE) or even (BE) positions are zero and almost none at the other positions, which
/// is what ASCII-range text looks like in UTF-16. Any other file with a NUL byte in
/// its first 8 KiB is binary. Invalid UTF-8 sequences become U+FFFD.
pub fn decode(bytes: &[u8]) -> Decoded {
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(&bytes[bom_len..]);
        return Decoded::Text(text.into_owned());
    }
    let sniff = &bytes[..bytes.len().min(SNIFF_LEN)];
    if let Some(encoding) = sniff_utf16(sniff) {
        let (text, _) = encoding.decode_without_bom_handling(bytes);
        return Decoded::Text(text.into_owned());
    }
    if sniff.contains(&0) {
        return Decoded::Binary;
    }
    Decoded::Text(String::from_utf8_lossy(bytes).into_owned())
}

fn sniff_utf16(sniff: &[u8]) -> Option<&'static Encoding> {
    if sniff.len() < 4 {
        return None;
    }
    let pairs = sniff.len() / 2;
    let even_zero = sniff.iter().step_by(2).filter(|b| **b == 0).count();
    let odd_zero = sniff.iter().skip(1).step_by(2).filter(|b| **b == 0).count();
    let mostly = pairs * 2 / 5;
    let hardly = pairs / 20;
    if odd_zero >= mostly && even_zero <= hardly {
        Some(UTF_16LE)
    } else if even_zero >= mostly && odd_zero <= hardly {
        Some(UTF_16BE)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
        let mut out = Vec::new();
        if bom {
            out.extend_from_slice(if big_endian {
                &[0xFE, 0xFF]
            } else {
                &[0xFF, 0xFE]
            });
        }
        for unit in text.encode_utf16() {
            let bytes = if big_endian {
                unit.to_be_bytes()
            } else {
                unit.to_le_bytes()
            };
            out.extend_from_slice(&bytes);
        }
        out
    }

    #[test]
    fn utf16_variants_decode() {
        let text = "$password = \"Fake-Utf16-Pa55!\"\r\n";
        for (be, bom) in [(false, true), (true, true), (false, false), (true, false)] {
            match decode(&utf16(text, be, bom)) {
                Decoded::Text(decoded) => assert_eq!(decoded, text, "be={be} bom={bom}"),
                Decoded::Binary => panic!("be={be} bom={bom} decoded as binary"),
            }
        }
    }

    #[test]
    fn png_is_binary() {
        let png = [
            0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H', b'D', b'R',
            0, 0, 1, 0,
        ];
        assert!(matches!(decode(&png), Decoded::Binary));
    }
}
