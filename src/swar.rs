//! Byte tests eight at a time ("SIMD within a register"), for scans that
//! run over every name and string of a policy at compile time: the digest's
//! escape test and the identifier checks; and on the mint path, for the
//! wildcard test of requested scopes and audiences and the request strings
//! an explanation quotes.

const ONES: u64 = u64::from_le_bytes([1; 8]);
const HIGH: u64 = ONES * 0x80;

/// `bytes` as little-endian words: every whole word, then the last eight
/// bytes (overlapping the last whole word), or for fewer than eight bytes
/// the bytes padded with `a`. Every byte is in some word and the padding is
/// a letter, so a test for whether *some* byte is special gives the same
/// answer on the words as on the bytes (not for counting).
pub(crate) fn words(bytes: &[u8]) -> impl Iterator<Item = u64> + '_ {
    let word = |w: &[u8]| u64::from_le_bytes(w.try_into().unwrap_or([0; 8]));
    let last = match bytes.len().checked_sub(8).and_then(|i| bytes.get(i..)) {
        Some(tail) => word(tail),
        None => {
            let mut padded = [b'a'; 8];
            for (d, b) in padded.iter_mut().zip(bytes) {
                *d = *b;
            }
            u64::from_le_bytes(padded)
        }
    };
    bytes.chunks_exact(8).map(word).chain([last])
}

/// Whether a byte of `x` is below `n` (exact for whether there is one, `n`
/// at most 0x80).
pub(crate) fn has_below(x: u64, n: u8) -> bool {
    x.wrapping_sub(ONES * u64::from(n)) & !x & HIGH != 0
}

/// Whether a byte of `x` is `b`.
pub(crate) fn has_byte(x: u64, b: u8) -> bool {
    has_below(x ^ (ONES * u64::from(b)), 1)
}

/// Whether a byte of `x` is 0x80 or above (not ASCII).
pub(crate) fn has_high(x: u64) -> bool {
    x & HIGH != 0
}

/// Whether every byte is printable ASCII (0x20–0x7e) other than `"` and
/// `\\`: a string `{:?}` writes between quotes unchanged.
pub(crate) fn is_plain_printable(bytes: &[u8]) -> bool {
    !words(bytes).fold(false, |any, w| {
        any | has_below(w, 0x20)
            | has_byte(w, 0x7f)
            | has_high(w)
            | has_byte(w, b'"')
            | has_byte(w, b'\\')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_tests_agree_with_byte_tests_at_every_position() {
        for len in 0..20 {
            for pos in 0..len {
                for special in [0u8, 0x1f, b'"', b'\\', 0x7f, 0x80, 0xff, b' '] {
                    let mut bytes = vec![b'x'; len];
                    if let Some(b) = bytes.get_mut(pos) {
                        *b = special;
                    }
                    let any = |f: &dyn Fn(u64) -> bool| words(&bytes).any(f);
                    assert_eq!(any(&|w| has_below(w, 0x20)), special < 0x20);
                    assert_eq!(any(&|w| has_byte(w, b'"')), special == b'"');
                    assert_eq!(any(&|w| has_byte(w, 0x7f)), special == 0x7f);
                    assert_eq!(any(&|w| has_high(w)), special >= 0x80);
                    let printable =
                        (0x20..0x7f).contains(&special) && special != b'"' && special != b'\\';
                    assert_eq!(is_plain_printable(&bytes), printable);
                }
            }
        }
    }
}
