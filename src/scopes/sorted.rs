//! Interned names in sorted orders, for resolving globs at compile time:
//! the names a glob could match form one range of an order by text (by its
//! literal prefix) or by reversed text (by its literal suffix).

use std::cell::{OnceCell, RefCell};
use std::rc::Rc;

use crate::fastmap::HashMap;
use crate::ids::Id;
use crate::pattern::Glob;

use super::Interner;

/// The literal prefixes of the globs to be resolved, known up front.
pub(crate) struct Prefixes {
    set: std::collections::HashSet<Box<str>, foldhash::fast::RandomState>,
    /// Their distinct lengths, ascending.
    lens: Vec<usize>,
}

impl<'p> FromIterator<&'p str> for Prefixes {
    fn from_iter<T: IntoIterator<Item = &'p str>>(prefixes: T) -> Self {
        let set: std::collections::HashSet<Box<str>, _> = prefixes
            .into_iter()
            .filter(|p| !p.is_empty())
            .map(Box::from)
            .collect();
        let mut lens: Vec<usize> = set.iter().map(|p| p.len()).collect();
        lens.sort_unstable();
        lens.dedup();
        Prefixes { set, lens }
    }
}

impl Prefixes {
    /// Whether `name` starts with one of the prefixes: one lookup per
    /// distinct length.
    fn start(&self, name: &str) -> bool {
        let lens = self.lens.iter().take_while(|len| **len <= name.len());
        lens.filter_map(|len| name.get(..*len))
            .any(|head| self.set.contains(head))
    }
}

/// Names found by a pass over all of them, shared by the globs that ask.
type Scanned<'a, I> = Rc<[(&'a str, I)]>;

/// The names a glob could match: a range of a sorted order, or the names
/// found by one pass over all of them.
pub(crate) enum Candidates<'s, 'a, I> {
    Sorted(&'s [(&'a str, I)]),
    Scanned(Scanned<'a, I>),
}

impl<'a, I> std::ops::Deref for Candidates<'_, 'a, I> {
    type Target = [(&'a str, I)];

    fn deref(&self) -> &Self::Target {
        match self {
            Candidates::Sorted(names) => names,
            Candidates::Scanned(names) => names,
        }
    }
}

/// Interned names sorted by text and by reversed text: the names with a
/// given prefix (or suffix) form one contiguous range. Each order is built
/// on first use: a policy whose audiences are all exact sorts none.
pub(crate) struct SortedNames<'a, I> {
    names: &'a Interner<I>,
    forward: OnceCell<Vec<(&'a str, I)>>,
    /// The prefixes of the globs to be resolved, when known: then only the
    /// names starting with one of them are sorted (`prefixed`), usually
    /// few, and `forward` serves only other globs.
    prefixes: Option<Prefixes>,
    prefixed: OnceCell<Vec<(&'a str, I)>>,
    /// Sorted by their bytes read backwards.
    backward: OnceCell<Vec<(&'a str, I)>>,
    /// The names with a suffix, by suffix, found by a pass over all names
    /// while few suffixes are asked for: a purpose catalogue's `*:read`,
    /// `*:write`… then cost a few passes, not a sort.
    scanned: RefCell<HashMap<Box<str>, Scanned<'a, I>>>,
    /// The names matched by globs with many candidates, by glob: a purpose
    /// catalogue repeats its `*:read`s.
    matched: RefCell<HashMap<Box<str>, Vec<I>>>,
}

impl<'a, I: Id> SortedNames<'a, I> {
    /// No order built yet: each is built when a glob first needs it.
    pub(super) fn new(names: &'a Interner<I>) -> Self {
        SortedNames {
            names,
            forward: OnceCell::new(),
            prefixes: None,
            prefixed: OnceCell::new(),
            backward: OnceCell::new(),
            scanned: RefCell::default(),
            matched: RefCell::default(),
        }
    }

    /// The same orders, told the literal prefixes of the globs that will
    /// be resolved: a name with none of them is never a candidate of
    /// theirs, and is left out of their order.
    pub(crate) fn with_prefixes(self, prefixes: Prefixes) -> Self {
        SortedNames {
            prefixes: Some(prefixes),
            ..self
        }
    }

    /// By text. Interned names are distinct: an unstable sort is
    /// deterministic.
    fn forward(&self) -> &[(&'a str, I)] {
        self.forward.get_or_init(|| {
            let all = |_: &str| true;
            self.sort_by(all, |n| head_key(n.bytes()), |a, b| a.cmp(b))
        })
    }

    /// The order for a glob with this literal prefix: the names with a
    /// known prefix, when `prefix` is one of them, else all names.
    fn forward_for(&self, prefix: &str) -> &[(&'a str, I)] {
        let Some(prefixes) = self.prefixes.as_ref().filter(|p| p.set.contains(prefix)) else {
            return self.forward();
        };
        self.prefixed.get_or_init(|| {
            let known = |n: &str| prefixes.start(n);
            self.sort_by(known, |n| head_key(n.bytes()), |a, b| a.cmp(b))
        })
    }

    /// By reversed bytes, compared in place rather than copied: the names
    /// ending with a (character-aligned) suffix are one contiguous range.
    fn backward(&self) -> &[(&'a str, I)] {
        self.backward.get_or_init(|| {
            self.sort_by(
                |_| true,
                |n| head_key(n.bytes().rev()),
                |a, b| a.bytes().rev().cmp(b.bytes().rev()),
            )
        })
    }

    /// The names `keep` keeps in the order `cmp`, sorting first by `key`,
    /// which must agree with it (a prefix of the same order): most
    /// comparisons are then one integer comparison.
    fn sort_by(
        &self,
        keep: impl Fn(&str) -> bool,
        key: impl Fn(&str) -> u128,
        cmp: impl Fn(&str, &str) -> std::cmp::Ordering,
    ) -> Vec<(&'a str, I)> {
        // Keys and ids only (32 bytes an entry, not 48): the sort moves
        // less; the names are looked up for the rare ties.
        let mut keyed: Vec<(u128, I)> = self
            .names
            .iter()
            .filter(|(_, n)| keep(n))
            .map(|(id, n)| (key(n), id))
            .collect();
        let name = |id: I| self.names.name(id);
        keyed.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| cmp(name(a.1), name(b.1))));
        keyed.into_iter().map(|(_, id)| (name(id), id)).collect()
    }

    /// Append the ids of the `candidates` (from [`SortedNames::candidates`])
    /// that `glob` matches; a glob with many is matched once per source.
    pub(super) fn matches(&self, glob: &Glob, candidates: &[(&str, I)], out: &mut Vec<I>) {
        /// Below this, matching costs less than remembering.
        const REMEMBER_FROM: usize = 64;
        let matching = |out: &mut Vec<I>| {
            let found = candidates.iter().filter(|(name, _)| glob.is_match(name));
            out.extend(found.map(|(_, id)| *id));
        };
        if candidates.len() < REMEMBER_FROM {
            return matching(out);
        }
        let mut matched = self.matched.borrow_mut();
        if let Some(ids) = matched.get(glob.source()) {
            out.extend_from_slice(ids);
            return;
        }
        let start = out.len();
        matching(out);
        let ids = out.get(start..).unwrap_or_default().to_vec();
        matched.insert(glob.source().into(), ids);
    }

    /// The names a glob could match, by its literal prefix or else its
    /// literal suffix; `None` when it has neither.
    pub(super) fn candidates(&self, glob: &Glob) -> Option<Candidates<'_, 'a, I>> {
        let prefix = glob.literal_prefix();
        if !prefix.is_empty() {
            let forward = self.forward_for(prefix);
            let start = forward.partition_point(|(n, _)| *n < prefix);
            let len = forward
                .get(start..)?
                .partition_point(|(n, _)| n.starts_with(prefix));
            return forward.get(start..start + len).map(Candidates::Sorted);
        }
        let suffix = glob.literal_suffix();
        if suffix.is_empty() {
            return None;
        }
        if let Some(names) = self.scanned(suffix) {
            return Some(Candidates::Scanned(names));
        }
        let backward = self.backward();
        let start = backward.partition_point(|(n, _)| n.bytes().rev().lt(suffix.bytes().rev()));
        let len = backward
            .get(start..)?
            .partition_point(|(n, _)| n.ends_with(suffix));
        backward.get(start..start + len).map(Candidates::Sorted)
    }

    /// The names ending with `suffix`, in id order, by one pass over all
    /// names; `None` once the backward order is cheaper: it is built, or
    /// [`SCANS`] suffixes have been scanned for (a pass costs a few
    /// instructions per name, the sort some comparisons per name).
    fn scanned(&self, suffix: &str) -> Option<Scanned<'a, I>> {
        /// Passes before sorting.
        const SCANS: usize = 16;
        let mut scanned = self.scanned.borrow_mut();
        if let Some(names) = scanned.get(suffix) {
            return Some(Rc::clone(names));
        }
        if self.backward.get().is_some() || scanned.len() >= SCANS {
            return None;
        }
        let names: Scanned<'a, I> = self
            .names
            .iter()
            // The last byte first: most names differ there, and then no
            // comparison is called.
            .filter(|(_, n)| n.as_bytes().last() == suffix.as_bytes().last() && n.ends_with(suffix))
            .map(|(id, n)| (n, id))
            .collect();
        scanned.insert(suffix.into(), Rc::clone(&names));
        Some(names)
    }
}

/// The first 16 bytes as a big-endian integer, zero-padded: ordered as the
/// byte sequences are, up to ties (a zero byte and the padding; a common
/// 16-byte head), which the full comparison then breaks.
fn head_key(bytes: impl Iterator<Item = u8>) -> u128 {
    let mut key = 0u128;
    let mut n = 0;
    for b in bytes.take(16) {
        key = (key << 8) | u128::from(b);
        n += 1;
    }
    key.checked_shl(8 * (16 - n)).unwrap_or(0)
}

/// How many glob tests compile time may spend resolving globs against
/// interned names (`Limits::max_glob_resolve_work`, and per glob
/// `Limits::max_glob_resolve_work_per_glob`). Beyond them, globs are simply
/// matched at evaluation.
#[derive(Debug)]
pub(crate) struct ResolveBudget {
    /// Glob tests left, in all.
    pub(crate) left: usize,
    /// Most glob tests for one glob.
    pub(crate) per_glob: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sorted orders give exactly the names with a glob's literal
    /// prefix or suffix, whatever the names' lengths and shared heads.
    #[test]
    fn sorted_candidates_are_the_names_with_the_prefix_or_suffix() {
        let mut interner = Interner::<crate::ids::ScopeId>::default();
        let mut names = vec![
            "a".to_owned(),
            "ab".into(),
            "é:read".into(),
            ":read".into(),
            "x".repeat(40),
        ];
        for i in 0..200 {
            names.push(format!(
                "svc{}:{}",
                i * 7919 % 1000,
                ["read", "write", "ad"][i % 3]
            ));
            names.push(format!("{}:read", "p".repeat(i % 20)));
            names.push(format!("verylongcommonhead-{i}/x"));
        }
        for n in &names {
            interner.intern(n);
        }
        // Suffixes are found by passes over the names at first, in the
        // backward order once it is built: both give the same candidates.
        let scanning = interner.sorted();
        let sorted = interner.sorted();
        sorted.backward();
        // The candidates of a glob are exactly the names with its literal
        // prefix (or, without one, its literal suffix).
        let check =
            |sorted: &SortedNames<'_, _>, pattern: &str, has: &dyn Fn(&str, &Glob) -> bool| {
                let glob = Glob::new(pattern).unwrap();
                let mut got: Vec<&str> = sorted
                    .candidates(&glob)
                    .unwrap()
                    .iter()
                    .map(|(n, _)| *n)
                    .collect();
                let mut want: Vec<&str> = interner
                    .iter()
                    .map(|(_, n)| n)
                    .filter(|n| has(n, &glob))
                    .collect();
                got.sort_unstable();
                want.sort_unstable();
                assert_eq!(got, want, "{pattern}");
            };
        // Told some prefixes up front, the others are still answered (from
        // the order of all names).
        let prefixed = interner.sorted().with_prefixes(
            ["svc1", "a", "verylongcommonhead-1", "zzz"]
                .into_iter()
                .collect(),
        );
        for pattern in ["svc1*", "svc*", "verylongcommonhead-1*", "a*", "x*"] {
            check(&sorted, pattern, &|n, g| n.starts_with(g.literal_prefix()));
            check(&prefixed, pattern, &|n, g| {
                n.starts_with(g.literal_prefix())
            });
        }
        assert!(prefixed.prefixed.get().is_some() && prefixed.forward.get().is_some());
        for pattern in ["*:read", "*d", "*/x", "*1/x", "*b", "*ead", "*:read"] {
            check(&scanning, pattern, &|n, g| n.ends_with(g.literal_suffix()));
            check(&sorted, pattern, &|n, g| n.ends_with(g.literal_suffix()));
        }
        assert!(scanning.backward.get().is_none());
        // Past 16 suffixes, the backward order is built and used.
        for i in 0..20 {
            check(&scanning, &format!("*{i}/x"), &|n, g| {
                n.ends_with(g.literal_suffix())
            });
        }
        assert!(scanning.backward.get().is_some());
    }

    /// The sort key orders names as their first 16 bytes do (a shorter
    /// name first), and only ties on a common 16-byte head: most pairs are
    /// ordered by one integer comparison, the full one breaks the ties.
    #[test]
    fn head_key_orders_by_the_first_16_bytes() {
        let key = |s: &str| head_key(s.bytes());
        let ascending = [
            "",
            "\u{1}",
            "a",
            "a\u{0}b",
            "ab",
            "abc",
            "b",
            "svc:read",
            "svc:write",
            "zzzz",
        ];
        for (a, b) in ascending.iter().zip(ascending.iter().skip(1)) {
            assert!(key(a) < key(b), "{a:?} < {b:?}");
        }
        assert_eq!(key("a"), 0x61 << 120);
        // Only the first 16 bytes count.
        let head = "0123456789abcdef";
        assert_eq!(key(&format!("{head}x")), key(&format!("{head}y")));
        assert_eq!(key(head), key(&format!("{head}z")));
    }
}
