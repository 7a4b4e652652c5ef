//! Sets of matching permits: which of the permits that matched a request
//! grant a scope, or match an audience.
//!
//! A set is a growable bitset over positions in the evaluation's list of
//! matching permits (policy order). The first 64 positions live inline, so
//! for the common case of at most 64 matching permits a set is one word and
//! never allocates; more permits grow a tail of further words.
//!
//! A set is two words (the head and a thin pointer to the tail), so it is
//! passed and returned in registers: a set returned through the stack was
//! copied with loads wider than the stores that wrote it, which the CPU
//! cannot forward (a stall on every scope checked).

/// A set of positions in the list of matching permits.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct PermitSet {
    /// Positions 0..64.
    head: u64,
    /// Positions 64.., 64 per word; `None` for small sets.
    tail: Option<Box<Tail>>,
}

/// The words of a [`PermitSet`] past the first, behind one thin pointer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Tail(Vec<u64>);

impl PermitSet {
    /// Add position `k`.
    #[inline]
    pub(super) fn insert(&mut self, k: usize) {
        let (word, bit) = (k / 64, 1u64 << (k % 64));
        if word == 0 {
            self.head |= bit;
            return;
        }
        let tail = &mut self.tail.get_or_insert_with(Box::default).0;
        if tail.len() < word {
            tail.resize(word, 0);
        }
        if let Some(w) = tail.get_mut(word - 1) {
            *w |= bit;
        }
    }

    /// Whether position `k` is in the set.
    pub(super) fn contains(&self, k: usize) -> bool {
        let (word, bit) = (k / 64, 1u64 << (k % 64));
        let w = match word {
            0 => self.head,
            _ => self.tail().get(word - 1).copied().unwrap_or(0),
        };
        w & bit != 0
    }

    pub(super) fn is_empty(&self) -> bool {
        self.head == 0 && self.tail().iter().all(|w| *w == 0)
    }

    /// The words past the first (empty for a small set).
    fn tail(&self) -> &[u64] {
        self.tail.as_deref().map_or(&[], |t| &t.0)
    }

    /// Whether some position is in both sets.
    pub(super) fn intersects(&self, other: &PermitSet) -> bool {
        self.head & other.head != 0
            || self
                .tail()
                .iter()
                .zip(other.tail())
                .any(|(a, b)| a & b != 0)
    }

    /// The positions in both sets, ascending.
    pub(super) fn both<'s>(&'s self, other: &'s PermitSet) -> impl Iterator<Item = usize> + 's {
        let words = std::iter::once(self.head & other.head)
            .chain(self.tail().iter().zip(other.tail()).map(|(a, b)| a & b));
        words.enumerate().flat_map(|(w, mut bits)| {
            std::iter::from_fn(move || {
                if bits == 0 {
                    return None;
                }
                let bit = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                Some(w * 64 + bit)
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(positions: &[usize]) -> PermitSet {
        let mut s = PermitSet::default();
        for &k in positions {
            s.insert(k);
        }
        s
    }

    #[test]
    fn small_sets_stay_inline() {
        let s = set(&[0, 5, 63]);
        assert!(s.tail.is_none());
        assert!(s.contains(5) && s.contains(63) && !s.contains(6) && !s.contains(200));
    }

    #[test]
    fn a_set_is_two_words() {
        assert_eq!(std::mem::size_of::<PermitSet>(), 16);
    }

    #[test]
    fn sets_grow_past_one_word() {
        let a = set(&[1, 64, 130, 300]);
        let b = set(&[2, 130, 300]);
        assert!(a.contains(130) && a.contains(300) && !a.contains(129));
        assert!(a.intersects(&b));
        assert_eq!(a.both(&b).collect::<Vec<_>>(), [130, 300]);
        assert!(!set(&[1, 64]).intersects(&set(&[2, 65, 500])));
        assert!(PermitSet::default().is_empty() && !a.is_empty());
    }
}
