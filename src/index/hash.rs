//! Seeded 64-bit hashes of index values, and of a request value's prefixes
//! in one pass.
//!
//! An edge on a subject prefix is looked up once per distinct prefix
//! length its values have (`spiffe://…/ns/team1/`, `…/team12/`, …): with a
//! general-purpose hasher every lookup hashed its prefix from the start.
//! Here the hash reads the value eight bytes at a time into a running
//! state, and the hash of a prefix is that state after its whole words,
//! finished with its last (partial) word and its length — so every prefix
//! of one value costs one pass over it plus one multiply each. The hash of
//! a whole value is the same computation at its own length, so a prefix
//! of a request value meets a policy value of that text.
//!
//! Soundness does not rest on the hash (two values sharing one only adds
//! candidates, see `tree::group_by_hash`); the random seed keeps a request
//! from aiming at a collision.

use std::hash::BuildHasher;

/// Odd constants with well-mixed bits (from the golden ratio and from
/// wyhash), multiplied in as 64 × 64 → 128 bits folded to 64.
const WORD: u64 = 0x9e37_79b9_7f4a_7c15;
const FINISH: u64 = 0xa076_1d64_78bd_642f;

/// Hashes values with a seed of its own.
#[derive(Clone, Copy, Debug)]
pub(super) struct ValueHasher {
    seed: u64,
}

impl ValueHasher {
    /// A hasher with a random seed.
    pub(super) fn random() -> Self {
        ValueHasher {
            seed: foldhash::fast::RandomState::default().hash_one(0_u64),
        }
    }

    /// The hash of `value`: [`Self::prefixes`] at its whole length.
    #[inline]
    pub(super) fn hash(self, value: &str) -> u64 {
        let bytes = value.as_bytes();
        let mut state = self.seed;
        let mut done = 0;
        while done + 8 <= bytes.len() {
            state = fold(state ^ word(bytes, done), WORD);
            done += 8;
        }
        finish(state, bytes, done, bytes.len())
    }

    /// Call `f` with the hash of `value[..len]` (as bytes) for each of
    /// `lens`, ascending, up to the value's length.
    pub(super) fn prefixes(self, value: &str, lens: &[usize], mut f: impl FnMut(u64)) {
        let bytes = value.as_bytes();
        let mut state = self.seed;
        // Bytes folded into `state`: whole words only.
        let mut done = 0;
        for &len in lens.iter().take_while(|&&len| len <= bytes.len()) {
            while done + 8 <= len {
                state = fold(state ^ word(bytes, done), WORD);
                done += 8;
            }
            f(finish(state, bytes, done, len));
        }
    }
}

/// The product's halves folded together: every bit of either factor
/// reaches the middle bits.
fn fold(a: u64, b: u64) -> u64 {
    let product = u128::from(a) * u128::from(b);
    #[allow(
        clippy::cast_possible_truncation,
        reason = "the low and the high half of the product, by design"
    )]
    let (low, high) = (product as u64, (product >> 64) as u64);
    low ^ high
}

/// The eight bytes at `at`, little-endian (0 past the end: not called so).
fn word(bytes: &[u8], at: usize) -> u64 {
    bytes
        .get(at..at + 8)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map_or(0, u64::from_le_bytes)
}

/// The hash of `bytes[..to]` from the state after its whole words
/// (`done` bytes): its last partial word and its length folded in.
fn finish(state: u64, bytes: &[u8], done: usize, to: usize) -> u64 {
    let len = u64::try_from(to).unwrap_or(u64::MAX);
    fold(state ^ tail(bytes, done, to), FINISH ^ len)
}

/// `bytes[from..to]` (fewer than eight) as a little-endian word, zero above.
fn tail(bytes: &[u8], from: usize, to: usize) -> u64 {
    let n = to.saturating_sub(from);
    if n == 0 {
        return 0;
    }
    if to >= 8 {
        // The word ending at `to`, its first bytes shifted out.
        return word(bytes, to - 8) >> (64 - 8 * n);
    }
    // A value shorter than a word (`from` is 0): two overlapping halves
    // when it has four bytes or more.
    let half = |at: usize| {
        bytes
            .get(at..at + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map_or(0, |b| u64::from(u32::from_le_bytes(b)))
    };
    if n >= 4 {
        return half(from) | half(to - 4) << (8 * (n - 4));
    }
    let rest = bytes.get(from..to).unwrap_or_default();
    rest.iter()
        .enumerate()
        .fold(0, |acc, (i, &b)| acc | u64::from(b) << (8 * i))
}

#[cfg(test)]
mod tests {
    use super::ValueHasher;

    #[test]
    fn a_prefix_hashes_as_the_value_of_its_text_would() {
        let hasher = ValueHasher::random();
        let value = "spiffe://prod.example.org/ns/équipe-7/sa/svc";
        let lens: Vec<usize> = (0..=value.len() + 3).collect();
        let mut got = Vec::new();
        hasher.prefixes(value, &lens, |h| got.push(h));
        // Lengths past the value are not hashed.
        assert_eq!(got.len(), value.len() + 1);
        for (len, h) in got.into_iter().enumerate() {
            let text = String::from_utf8_lossy(&value.as_bytes()[..len]).into_owned();
            if text.len() == len {
                assert_eq!(h, hasher.hash(&text), "prefix of {len} bytes");
            }
        }
    }

    #[test]
    fn values_differing_in_one_byte_or_in_length_hash_apart() {
        let hasher = ValueHasher::random();
        let base = "spiffe://prod.example.org/ns/team1/";
        let mut seen = std::collections::HashSet::new();
        assert!(seen.insert(hasher.hash(base)));
        for at in 0..base.len() {
            let mut bytes = base.as_bytes().to_vec();
            bytes[at] ^= 1;
            let text = String::from_utf8(bytes).unwrap();
            assert!(seen.insert(hasher.hash(&text)), "byte {at}");
        }
        // Trailing zero bytes are not lost to the zero padding.
        for n in 1..9 {
            let text = format!("{base}{}", "\0".repeat(n));
            assert!(seen.insert(hasher.hash(&text)), "{n} zero bytes");
        }
        assert!(seen.insert(hasher.hash("")));
    }

    #[test]
    fn a_partial_word_reads_exactly_its_bytes() {
        let bytes: Vec<u8> = (1..=20).collect();
        for to in 0..=bytes.len() {
            let from = to - to % 8;
            let want = bytes[from..to]
                .iter()
                .rev()
                .fold(0_u64, |acc, &b| acc << 8 | u64::from(b));
            assert_eq!(super::tail(&bytes, from, to), want, "bytes {from}..{to}");
            // Also when the slice ends there.
            assert_eq!(
                super::tail(&bytes[..to], from, to),
                want,
                "bytes {from}..{to} at the end"
            );
        }
    }

    /// Values of every length up to 40 bytes, up to fifty of each: all
    /// hash apart, and every bit of the hash is set in about half of them
    /// (the tables probe with the hash's bits as they are).
    #[test]
    fn hashes_of_every_length_are_distinct_and_their_bits_balanced() {
        let hasher = ValueHasher::random();
        let mut texts = std::collections::BTreeSet::new();
        for len in 0..=40_u32 {
            for k in 0..50_u32 {
                let text: String = (0..len)
                    .map(|i| char::from(b'a' + ((k * 7 + i * 13 + i * k) % 26) as u8))
                    .collect();
                texts.insert(text);
            }
        }
        let hashes: Vec<u64> = texts.iter().map(|t| hasher.hash(t)).collect();
        let distinct: std::collections::HashSet<u64> = hashes.iter().copied().collect();
        assert_eq!(distinct.len(), texts.len(), "distinct values hash apart");
        for bit in 0..64 {
            let ones = hashes.iter().filter(|h| *h >> bit & 1 == 1).count();
            let share = ones as f64 / hashes.len() as f64;
            assert!(
                (0.4..0.6).contains(&share),
                "bit {bit} set in {share:.2} of the hashes"
            );
        }
    }

    #[test]
    fn seeds_differ_between_hashers() {
        let (a, b) = (ValueHasher::random(), ValueHasher::random());
        assert_ne!(a.hash("team1"), b.hash("team1"));
    }
}
