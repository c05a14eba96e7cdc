//! How people tell one host's certificate from another: its SHA-256
//! fingerprint (what `openssl x509 -fingerprint -sha256` prints) and a
//! short "safety code" of digits the host can read out to guests. The
//! host shows them; a client will compare them. Plain data, no sockets.

use std::fmt::{self, Write as _};

/// Groups of digits in a safety code.
const SAFETY_GROUPS: usize = 5;

/// The SHA-256 digest of a certificate's DER encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    /// The fingerprint of a certificate in DER form.
    pub fn of_certificate(der: &[u8]) -> Self {
        let digest = ring::digest::digest(&ring::digest::SHA256, der);
        let mut bytes = [0; 32];
        bytes.copy_from_slice(digest.as_ref());
        Fingerprint(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Upper-case hex pairs joined by colons, as OpenSSL writes them.
    pub fn hex(&self) -> String {
        let mut text = String::with_capacity(self.0.len() * 3);
        for (index, byte) in self.0.iter().enumerate() {
            if index > 0 {
                text.push(':');
            }
            let _ = write!(text, "{byte:02X}");
        }
        text
    }

    /// Reads [`hex`](Self::hex)'s form back (colons optional, any case),
    /// e.g. from a room's announcement; `None` for anything else.
    pub fn from_hex(text: &str) -> Option<Self> {
        let digits: Vec<u8> = text.bytes().filter(|byte| *byte != b':').collect();
        if digits.len() != 64 || !digits.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        let mut bytes = [0; 32];
        for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
            let pair = std::str::from_utf8(pair).ok()?;
            // from_str_radix would take a sign: the check above keeps it out.
            *byte = u8::from_str_radix(pair, 16).ok()?;
        }
        Some(Fingerprint(bytes))
    }

    /// Five groups of four digits, e.g. `0412 9387 1150 6621 3048`: each
    /// group is four bytes of the fingerprint, read big-endian, modulo
    /// 10,000. About 66 bits: easy to read aloud, hard to match by chance.
    pub fn safety_code(&self) -> String {
        let groups: Vec<String> = self
            .0
            .chunks_exact(4)
            .take(SAFETY_GROUPS)
            .map(|chunk| {
                let value = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
                format!("{:04}", value % 10_000)
            })
            .collect();
        groups.join(" ")
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_sha256_in_openssl_form() {
        // SHA-256 of the empty input, a well-known value.
        let empty = Fingerprint::of_certificate(b"");
        assert_eq!(
            empty.hex(),
            "E3:B0:C4:42:98:FC:1C:14:9A:FB:F4:C8:99:6F:B9:24:\
             27:AE:41:E4:64:9B:93:4C:A4:95:99:1B:78:52:B8:55"
        );
        assert_eq!(empty.to_string(), empty.hex());
    }

    #[test]
    fn hex_reads_back() {
        let fingerprint = Fingerprint::of_certificate(b"certificate");
        assert_eq!(Fingerprint::from_hex(&fingerprint.hex()), Some(fingerprint));
        let bare = fingerprint.hex().replace(':', "").to_lowercase();
        assert_eq!(Fingerprint::from_hex(&bare), Some(fingerprint));
        assert_eq!(Fingerprint::from_hex("AB:CD"), None);
        assert_eq!(Fingerprint::from_hex(&"zz".repeat(32)), None);
        assert_eq!(Fingerprint::from_hex(&"é".repeat(32)), None);
        assert_eq!(Fingerprint::from_hex(&"+f".repeat(32)), None);
    }

    #[test]
    fn safety_codes_are_stable_and_five_groups_of_four_digits() {
        let empty = Fingerprint::of_certificate(b"");
        // 0xE3B0C442 = 3820012610, 0x98FC1C14 = 2566659092, ...
        assert_eq!(empty.safety_code(), "2610 9092 3464 5940 1556");
        assert_eq!(empty.safety_code(), empty.safety_code());
        let code = empty.safety_code();
        let groups: Vec<&str> = code.split(' ').collect();
        assert_eq!(groups.len(), 5);
        assert!(groups
            .iter()
            .all(|g| g.len() == 4 && g.bytes().all(|b| b.is_ascii_digit())));
    }

    #[test]
    fn small_groups_keep_their_leading_zeros() {
        let zeros = Fingerprint([0; 32]);
        assert_eq!(zeros.safety_code(), "0000 0000 0000 0000 0000");
    }

    #[test]
    fn different_certificates_differ() {
        let one = Fingerprint::of_certificate(b"certificate one");
        let two = Fingerprint::of_certificate(b"certificate two");
        assert_ne!(one, two);
        assert_ne!(one.hex(), two.hex());
        assert_ne!(one.safety_code(), two.safety_code());
    }
}
