//! The transcript's own digest: FNV-1a, 64 bits, fixed and seedless, the
//! same on every machine (not the core's hash, so a bug there cannot hide
//! itself here). It is a fold over bytes, fed as they arrive: a run that
//! keeps no text folds its lines one by one and ends where
//! [`transcript_digest`] of the whole text would.

const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0000_0100_0000_01b3;

/// A running FNV-1a 64 digest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TranscriptDigest(u64);

impl TranscriptDigest {
    /// The digest of no bytes.
    pub const fn new() -> TranscriptDigest {
        TranscriptDigest(OFFSET)
    }

    pub fn fold(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(PRIME);
        }
    }

    pub fn value(&self) -> u64 {
        self.0
    }
}

impl Default for TranscriptDigest {
    fn default() -> TranscriptDigest {
        TranscriptDigest::new()
    }
}

/// The digest of a whole transcript's text.
pub fn transcript_digest(text: &str) -> u64 {
    let mut digest = TranscriptDigest::new();
    digest.fold(text.as_bytes());
    digest.value()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_is_fnv1a() {
        // Published FNV-1a 64 test vectors.
        assert_eq!(transcript_digest(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(transcript_digest("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(transcript_digest("foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn folding_in_pieces_is_folding_the_whole() {
        let text = "# seed: 1\n    1 slot=0    tick => expired 0 noop 0 | lsn=1 digest=-\n";
        for cut in 0..=text.len() {
            let mut digest = TranscriptDigest::new();
            digest.fold(&text.as_bytes()[..cut]);
            digest.fold(&text.as_bytes()[cut..]);
            assert_eq!(digest.value(), transcript_digest(text), "cut at {cut}");
        }
    }
}
