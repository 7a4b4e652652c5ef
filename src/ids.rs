//! Typed ids for the compiled policy: a rule's position, an interned scope
//! and an interned audience are all small integers, and giving each its own
//! type keeps one from being used as another.

use std::fmt::Debug;
use std::hash::Hash;

/// A dense id: a position in one table, built at compile time.
pub(crate) trait Id: Copy + Eq + Ord + Hash + Debug {
    /// The id of position `index`; `None` past `u32::MAX`.
    fn from_index(index: usize) -> Option<Self>;
    /// The position this id names.
    fn index(self) -> usize;
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub(crate) struct $name(u32);

        impl Id for $name {
            fn from_index(index: usize) -> Option<Self> {
                u32::try_from(index).ok().map($name)
            }

            fn index(self) -> usize {
                self.0 as usize
            }
        }
    };
}

id_type!(
    /// A rule: its position in the policy (policy order).
    RuleId
);
id_type!(
    /// A concrete scope the policy mentions, interned.
    ScopeId
);
id_type!(
    /// A concrete audience the policy mentions, interned.
    AudienceId
);

/// Lists of values grouped by a dense id, all in one array: the values of
/// id `k` are `values[starts[k]..starts[k + 1]]`, in the order they were
/// given. One allocation for every list instead of one per id.
#[derive(Debug)]
pub(crate) struct IdGroups<K, V> {
    /// `groups + 1` offsets into `values`, ascending.
    starts: Vec<u32>,
    values: Vec<V>,
    key: std::marker::PhantomData<K>,
}

impl<K: Id, V: Copy> IdGroups<K, V> {
    /// The groups of `pairs` for ids below `groups` (a counting sort, stable:
    /// each group keeps the pairs' order). Pairs with larger ids, or past
    /// `u32::MAX` values in all, are left out.
    pub(crate) fn build<P>(groups: usize, pairs: P) -> IdGroups<K, V>
    where
        P: Iterator<Item = (K, V)> + Clone,
    {
        let mut starts = vec![0u32; groups + 1];
        let mut total = 0u32;
        for (k, _) in pairs.clone() {
            let Some(next) = total.checked_add(1) else {
                break;
            };
            if let Some(count) = starts.get_mut(k.index() + 1) {
                *count += 1;
                total = next;
            }
        }
        for k in 1..starts.len() {
            let before = starts.get(k - 1).copied().unwrap_or(0);
            if let Some(s) = starts.get_mut(k) {
                *s += before;
            }
        }
        // `next[k]`: where the next value of group `k` goes, up to the
        // start of group `k + 1`.
        let mut next = starts.clone();
        let Some((_, first)) = pairs.clone().next() else {
            return IdGroups {
                starts,
                values: Vec::new(),
                key: std::marker::PhantomData,
            };
        };
        let mut values = vec![first; total as usize];
        for (k, v) in pairs {
            let end = starts.get(k.index() + 1).copied().unwrap_or(0);
            let Some(at) = next.get_mut(k.index()).filter(|at| **at < end) else {
                continue;
            };
            if let Some(slot) = values.get_mut(*at as usize) {
                *slot = v;
                *at += 1;
            }
        }
        IdGroups {
            starts,
            values,
            key: std::marker::PhantomData,
        }
    }

    /// The values of group `k`, empty when it has none.
    pub(crate) fn get(&self, k: K) -> &[V] {
        let start = self.starts.get(k.index()).copied().unwrap_or(0);
        let end = self.starts.get(k.index() + 1).copied().unwrap_or(0);
        self.values
            .get(start as usize..end as usize)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_keep_the_order_given_and_leave_out_unknown_ids() {
        let s = |i| ScopeId::from_index(i).unwrap();
        let r = |i| RuleId::from_index(i).unwrap();
        let pairs = [
            (s(2), r(0)),
            (s(0), r(1)),
            (s(2), r(2)),
            (s(9), r(3)),
            (s(0), r(4)),
        ];
        let groups: IdGroups<ScopeId, RuleId> = IdGroups::build(3, pairs.iter().copied());
        assert_eq!(groups.get(s(0)), [r(1), r(4)]);
        assert_eq!(groups.get(s(1)), []);
        assert_eq!(groups.get(s(2)), [r(0), r(2)]);
        assert_eq!(groups.get(s(9)), []);
    }

    #[test]
    fn ids_round_trip_and_order_by_position() {
        let a = RuleId::from_index(3).unwrap();
        let b = RuleId::from_index(7).unwrap();
        assert_eq!((a.index(), b.index()), (3, 7));
        assert!(a < b);
        assert_eq!(ScopeId::from_index(usize::MAX), None);
    }
}
