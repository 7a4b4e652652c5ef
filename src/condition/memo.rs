//! Conditions several rules share, evaluated once per decision.
//!
//! Policies repeat the same few conditions in rule after rule
//! (`identity.kind = "workload"`, the issuer, `posture.attested = true`),
//! and one request reaches several of those rules: its candidates, the
//! forbids on its scopes, the rules an explanation scores. The compiler
//! gives the [`MEMO_SLOTS`] most repeated leaves a slot each
//! ([`assign_slots`]); a decision's [`Memo`] holds each slot's result once
//! computed. A leaf's result depends only on the leaf and the request and
//! time the [`crate::path::Ctx`] holds, so a remembered result is the one
//! evaluating again would give (docs/performance.md, "Sixth pass").

use std::cell::Cell;

use super::tree::Node;
use super::{Leaf, Tri};
use crate::fastmap::HashMap;

/// How many shared leaves get a slot: the memo is one cache line, zeroed
/// per decision.
pub(crate) const MEMO_SLOTS: usize = 64;

/// Whether, and where, a leaf's result is remembered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MemoUse {
    /// Its text as written was cut to the excerpt length, so two leaves
    /// with the same text may differ: never shared.
    Never,
    /// Shareable, but no slot (yet): evaluated every time.
    Alone,
    /// Remembered in this slot (below [`MEMO_SLOTS`]).
    Slot(u8),
}

/// One decision's results of the shared leaves: 0 = not yet evaluated,
/// else the [`Tri`] plus one.
pub(crate) struct Memo {
    cells: [Cell<u8>; MEMO_SLOTS],
}

impl Default for Memo {
    fn default() -> Self {
        Memo {
            cells: [const { Cell::new(0) }; MEMO_SLOTS],
        }
    }
}

impl Memo {
    /// `leaf`'s result: remembered when it has a slot, else `eval`'s.
    ///
    /// `eval` is called at one place only, so it is inlined here: the
    /// leaf's test then sits in the condition walk's own code instead of a
    /// function of its own (one code page fewer for a cold decision).
    #[inline]
    pub(crate) fn get_or(&self, leaf: &Leaf, eval: impl FnOnce() -> Tri) -> Tri {
        let cell = match leaf.memo {
            MemoUse::Slot(slot) => self.cells.get(usize::from(slot)),
            MemoUse::Never | MemoUse::Alone => None,
        };
        let known = cell.map_or(0, Cell::get);
        match known {
            1 => return Tri::True,
            2 => return Tri::False,
            3 => return Tri::Unknown,
            _ => {}
        }
        let t = eval();
        if let Some(cell) = cell {
            cell.set(match t {
                Tri::True => 1,
                Tri::False => 2,
                Tri::Unknown => 3,
            });
        }
        t
    }
}

/// Give the leaves of `nodes` that occur more than once (same path, same
/// condition as written, not cut) a slot, the most repeated first (ties to
/// the first seen), at most [`MEMO_SLOTS`] of them. Leaves with the same
/// path and text compile to the same test: the text is the condition's
/// value as JSON, and parsing depends on nothing else.
pub(crate) fn assign_slots(nodes: &mut [Node]) {
    // Per shareable leaf, its position and which distinct leaf it is; per
    // distinct leaf, how often it occurs.
    let mut leaves: Vec<(usize, usize)> = Vec::new();
    let mut counts: Vec<usize> = Vec::new();
    {
        // Paths are shared by every condition on them
        // (`ConditionsBuilder::path`), so the address names the path.
        let mut distinct: HashMap<(*const u8, &str), usize> = HashMap::default();
        for (at, node) in nodes.iter().enumerate() {
            if let Node::Leaf(leaf) = node {
                if leaf.memo != MemoUse::Never {
                    let next = distinct.len();
                    let key = *distinct
                        .entry((leaf.path.as_ptr(), &leaf.expected))
                        .or_insert(next);
                    if key == next {
                        counts.push(0);
                    }
                    if let Some(n) = counts.get_mut(key) {
                        *n += 1;
                    }
                    leaves.push((at, key));
                }
            }
        }
    }
    // Distinct leaves are numbered in order of first occurrence, so a
    // stable sort by count keeps ties in that order.
    let mut shared: Vec<usize> = (0..counts.len())
        .filter(|&k| counts.get(k).is_some_and(|&n| n > 1))
        .collect();
    shared.sort_by_key(|&k| std::cmp::Reverse(counts.get(k).copied().unwrap_or(0)));
    shared.truncate(MEMO_SLOTS);
    let mut slot_of: Vec<Option<u8>> = vec![None; counts.len()];
    for (slot, &k) in shared.iter().enumerate() {
        if let (Some(s), Ok(slot)) = (slot_of.get_mut(k), u8::try_from(slot)) {
            *s = Some(slot);
        }
    }
    for (at, key) in leaves {
        if let Some(Node::Leaf(leaf)) = nodes.get_mut(at) {
            leaf.memo = match slot_of.get(key) {
                Some(Some(slot)) => MemoUse::Slot(*slot),
                _ => MemoUse::Alone,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::sync::Arc;

    use super::{MEMO_SLOTS, Memo, MemoUse, assign_slots};
    use crate::condition::tree::Node;
    use crate::condition::{Leaf, Test, Tri};
    use crate::path::Attr;

    /// A leaf as the compiler makes it: conditions on one path share its
    /// text (`ConditionsBuilder::path`).
    fn leaf(path: &str, expected: &str, memo: MemoUse) -> Node {
        Node::Leaf(leaf_of(path, expected, memo))
    }

    fn leaf_of(path: &str, expected: &str, memo: MemoUse) -> Leaf {
        thread_local! {
            static PATHS: std::cell::RefCell<Vec<Arc<str>>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        let path = PATHS.with_borrow_mut(|paths| {
            if let Some(p) = paths.iter().find(|p| ***p == *path) {
                return Arc::clone(p);
            }
            let p: Arc<str> = path.into();
            paths.push(Arc::clone(&p));
            p
        });
        Leaf {
            attr: Attr::Subject,
            test: Test::Exists(true),
            path,
            expected: expected.into(),
            memo,
        }
    }

    fn uses(nodes: &[Node]) -> Vec<MemoUse> {
        nodes
            .iter()
            .filter_map(|n| match n {
                Node::Leaf(l) => Some(l.memo),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_leaf_written_twice_gets_a_slot_and_one_written_once_does_not() {
        let mut nodes = vec![
            leaf("identity.kind", "\"workload\"", MemoUse::Alone),
            leaf("identity.subject", "\"a\"", MemoUse::Alone),
            leaf("identity.kind", "\"workload\"", MemoUse::Alone),
            // Same text on another path: another condition.
            leaf("identity.issuer", "\"workload\"", MemoUse::Alone),
        ];
        assign_slots(&mut nodes);
        assert_eq!(
            uses(&nodes),
            [
                MemoUse::Slot(0),
                MemoUse::Alone,
                MemoUse::Slot(0),
                MemoUse::Alone
            ]
        );
    }

    #[test]
    fn a_leaf_whose_text_was_cut_is_never_shared() {
        let mut nodes = vec![
            leaf("identity.subject", "\"aaaa…", MemoUse::Never),
            leaf("identity.subject", "\"aaaa…", MemoUse::Never),
        ];
        assign_slots(&mut nodes);
        assert_eq!(uses(&nodes), [MemoUse::Never, MemoUse::Never]);
    }

    #[test]
    fn the_most_repeated_leaves_get_the_slots_ties_to_the_first_seen() {
        // Leaf k is written 2 times, except k = 70, written 5 times.
        let mut nodes = Vec::new();
        for _ in 0..2 {
            for k in 0..=MEMO_SLOTS + 6 {
                nodes.push(leaf("p", &format!("{k}"), MemoUse::Alone));
            }
        }
        for _ in 0..3 {
            nodes.push(leaf("p", "70", MemoUse::Alone));
        }
        assign_slots(&mut nodes);
        let slotted = |text: &str| {
            nodes.iter().any(|n| {
                matches!(n, Node::Leaf(l) if &*l.expected == text && matches!(l.memo, MemoUse::Slot(_)))
            })
        };
        assert!(slotted("70"));
        let kept: Vec<usize> = (0..=MEMO_SLOTS + 6)
            .filter(|k| slotted(&k.to_string()))
            .collect();
        // 70 first, then 0..63 in order of first occurrence.
        let mut want: Vec<usize> = (0..MEMO_SLOTS - 1).collect();
        want.push(70);
        assert_eq!(kept, want);
        let mut slots: Vec<u8> = uses(&nodes)
            .into_iter()
            .filter_map(|u| match u {
                MemoUse::Slot(s) => Some(s),
                _ => None,
            })
            .collect();
        slots.sort_unstable();
        slots.dedup();
        assert_eq!(slots.len(), MEMO_SLOTS);
    }

    #[test]
    fn a_remembered_result_is_given_back_without_evaluating_again() {
        let memo = Memo::default();
        let shared = leaf_of("p", "x", MemoUse::Slot(3));
        let alone = leaf_of("p", "y", MemoUse::Alone);
        for want in [Tri::True, Tri::False, Tri::Unknown] {
            let memo = Memo::default();
            let calls = Cell::new(0);
            let eval = || {
                calls.set(calls.get() + 1);
                want
            };
            assert_eq!(memo.get_or(&shared, eval), want);
            assert_eq!(memo.get_or(&shared, eval), want);
            assert_eq!(calls.get(), 1, "{want:?}");
        }
        let calls = Cell::new(0);
        for _ in 0..2 {
            memo.get_or(&alone, || {
                calls.set(calls.get() + 1);
                Tri::True
            });
        }
        assert_eq!(
            calls.get(),
            2,
            "a leaf without a slot is evaluated each time"
        );
    }
}
