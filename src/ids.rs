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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_order_by_position() {
        let a = RuleId::from_index(3).unwrap();
        let b = RuleId::from_index(7).unwrap();
        assert_eq!((a.index(), b.index()), (3, 7));
        assert!(a < b);
        assert_eq!(ScopeId::from_index(usize::MAX), None);
    }
}
