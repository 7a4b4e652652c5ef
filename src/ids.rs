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
    starts: Vec<usize>,
    values: Vec<V>,
    key: std::marker::PhantomData<K>,
}

impl<K: Id, V: Copy> IdGroups<K, V> {
    /// The groups of `pairs` for ids below `groups`, each in the order the
    /// pairs come in (a stable sort by id); pairs with larger ids are left
    /// out.
    pub(crate) fn build(groups: usize, pairs: impl Iterator<Item = (K, V)>) -> IdGroups<K, V> {
        let mut pairs: Vec<(K, V)> = pairs.filter(|(k, _)| k.index() < groups).collect();
        pairs.sort_by_key(|(k, _)| *k);
        let starts = (0..=groups)
            .map(|g| pairs.partition_point(|(k, _)| k.index() < g))
            .collect();
        IdGroups {
            starts,
            values: pairs.into_iter().map(|(_, v)| v).collect(),
            key: std::marker::PhantomData,
        }
    }

    /// The values of group `k`, empty when it has none.
    pub(crate) fn get(&self, k: K) -> &[V] {
        let start = self.starts.get(k.index()).copied().unwrap_or(0);
        let end = self.starts.get(k.index() + 1).copied().unwrap_or(0);
        self.values.get(start..end).unwrap_or_default()
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
