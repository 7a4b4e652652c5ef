//! Forbids that cannot apply on a route: one of the forbid's top-level
//! conditions is false for every value the permit's own top-level
//! conditions allow, on a single-valued attribute. Such a forbid is not a
//! goal of the route's search — large policies have hundreds of per-team
//! forbids, and each would otherwise be searched on every route.

use crate::condition::{Cond, Conds, Leaf, StrTest, Test};
use crate::path::AttrType;
use crate::pattern::Overlap;

/// Whether `forbid` is false whenever `permit` is true (sound, not
/// complete: `false` means "may apply").
pub(crate) fn excluded(permit: Conds<'_>, forbid: Conds<'_>) -> bool {
    let single = |l: &Leaf| matches!(l.attr.ty(), AttrType::Str | AttrType::Kind);
    forbid
        .iter()
        .filter_map(Cond::leaf)
        .filter(|f| single(f))
        .any(|f| {
            permit
                .iter()
                .filter_map(Cond::leaf)
                .filter(|p| p.attr == f.attr)
                .any(|p| disjoint(&p.test, &f.test))
        })
}

/// No single value passes both tests (on a single-valued attribute: a
/// missing value passes neither, since neither test is `exists`).
fn disjoint(a: &Test, b: &Test) -> bool {
    match (a, b) {
        (Test::Kinds(x), Test::Kinds(y)) => x & y == 0,
        (Test::Str(x), Test::Str(y)) => str_disjoint(x, y) || str_disjoint(y, x),
        _ => false,
    }
}

/// `a`'s literals all fail `b`, or two single globs cannot share a string.
fn str_disjoint(a: &StrTest, b: &StrTest) -> bool {
    match (a, b) {
        (StrTest::Eq(lit, _), _) => !b.matches(lit),
        (StrTest::OneOf(items), _) => items.iter().all(|(lit, _)| !b.matches(lit)),
        (StrTest::Glob(x), StrTest::Glob(y)) => match (x.as_slice(), y.as_slice()) {
            ([g], [h]) => {
                let (p, q) = (g.literal_prefix(), h.literal_prefix());
                // Every match of `g` starts with `p`, of `h` with `q`.
                if !p.starts_with(q) && !q.starts_with(p) {
                    return true;
                }
                g.intersects(h) == Overlap::Empty
            }
            _ => false,
        },
        _ => false,
    }
}

/// The literal text every value passing a top-level `identity.subject`
/// condition starts with (the whole literal for `eq`), if there is one.
fn subject_key(conds: Conds<'_>) -> Option<&str> {
    conds.iter().filter_map(Cond::leaf).find_map(|l| {
        if l.attr != crate::path::Attr::Subject {
            return None;
        }
        match &l.test {
            Test::Str(StrTest::Eq(lit, _)) => Some(&**lit),
            Test::Str(StrTest::Glob(globs)) => match globs.as_slice() {
                [g] => Some(g.literal_prefix()),
                _ => None,
            },
            _ => None,
        }
    })
}

/// Forbids by the subject prefix their conditions require: for a permit
/// whose subject starts with `k`, only forbids whose prefix is a prefix of
/// `k`, or starts with `k`, can share a subject with it. Large policies
/// have a guardrail per team; this finds the few that matter to a route
/// without testing each.
#[derive(Default)]
pub(crate) struct ForbidIndex {
    /// Positions by their subject prefix.
    by_prefix: std::collections::HashMap<String, Vec<usize>>,
    /// The same, sorted by prefix.
    sorted: Vec<(String, usize)>,
    /// Positions of forbids without a subject prefix.
    others: Vec<usize>,
}

impl ForbidIndex {
    /// Index forbids (their top-level conditions) by position.
    pub(crate) fn new<'c>(forbids: impl Iterator<Item = Conds<'c>>) -> ForbidIndex {
        let mut ix = ForbidIndex::default();
        for (k, conds) in forbids.enumerate() {
            match subject_key(conds) {
                Some(p) => {
                    ix.by_prefix.entry(p.to_owned()).or_default().push(k);
                    ix.sorted.push((p.to_owned(), k));
                }
                None => ix.others.push(k),
            }
        }
        ix.sorted.sort();
        ix
    }

    /// Positions of the forbids that may share a subject with a permit
    /// with these conditions, in policy order (a superset: `excluded`
    /// still decides).
    pub(crate) fn candidates(&self, permit: Conds<'_>) -> Vec<usize> {
        let Some(key) = subject_key(permit) else {
            let mut all: Vec<usize> = self.others.clone();
            all.extend(self.sorted.iter().map(|(_, k)| *k));
            all.sort_unstable();
            return all;
        };
        let mut out = self.others.clone();
        for (end, _) in key.char_indices().chain([(key.len(), ' ')]) {
            if let Some(list) = key.get(..end).and_then(|p| self.by_prefix.get(p)) {
                out.extend(list.iter().copied());
            }
        }
        let start = self.sorted.partition_point(|(p, _)| p.as_str() < key);
        for (p, k) in self.sorted.get(start..).unwrap_or_default() {
            if !p.starts_with(key) {
                break;
            }
            out.push(*k);
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}
