//! Compiled sets of scope or audience patterns, and the matcher for wildcard
//! requests.

mod interner;
mod sorted;

pub(crate) use interner::Interner;
pub(crate) use sorted::{ResolveBudget, SortedNames};

use crate::ids::Id;
use crate::limits::Limits;
use crate::pattern::Glob;

/// A name as evaluation sees it: the text and, when the policy knows it,
/// its interned id.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Name<'a, I> {
    pub(crate) text: &'a str,
    pub(crate) id: Option<I>,
}

impl<I: Eq> Name<'_, I> {
    /// Whether this is the name `text` with id `id` (looked up in the same
    /// interner): the ids decide when both have one, since interning gives
    /// each text one id; a name with an id is never one without; two
    /// unknown names compare as text.
    pub(crate) fn is(&self, id: Option<I>, text: &str) -> bool {
        match (&self.id, id) {
            (Some(a), Some(b)) => *a == b,
            (None, None) => self.text == text,
            _ => false,
        }
    }
}

/// Exact names (interned, sorted for binary search) plus globs.
///
/// After [`NameSet::resolve`], `ids` also holds every interned name a glob
/// matches, so a name the policy knows is decided by one binary search over
/// integers; only names the policy never mentions are matched against globs.
#[derive(Debug)]
pub(crate) struct NameSet<I> {
    ids: Vec<I>,
    /// `ids` as a bit set over the interned names, when resolved globs made
    /// it large and dense enough (a purpose's `*:read` over a whole policy):
    /// one load per test instead of a binary search's chain of dependent
    /// ones, each a cache line of its own when the policy is cold.
    bits: Option<Box<[u64]>>,
    /// Every interned name matching a glob is in `ids`.
    resolved: bool,
    globs: Vec<Glob>,
    /// The exact names in the order written, for narrowing to concrete ones.
    written: Written<I>,
}

/// The order a set's exact names were written in.
#[derive(Debug)]
enum Written<I> {
    /// The order of `ids`: no globs, and the names written in ascending id
    /// order (new names, as most are). Most sets: no second list to
    /// allocate.
    AsIds,
    /// An order of its own.
    Listed(Vec<I>),
}

impl<I> Default for NameSet<I> {
    fn default() -> Self {
        NameSet {
            ids: Vec::new(),
            bits: None,
            resolved: false,
            globs: Vec::new(),
            written: Written::AsIds,
        }
    }
}

impl<I: Id> NameSet<I> {
    pub(crate) fn new(
        patterns: &[String],
        interner: &mut Interner<I>,
        limits: &Limits,
    ) -> Result<NameSet<I>, (String, String)> {
        let mut set = NameSet::default();
        let mut written = Vec::with_capacity(patterns.len());
        for p in patterns {
            // Most names are plain: interned straight, no glob built.
            let glob = if Glob::is_plain(p, limits) {
                None
            } else {
                Some(Glob::with_limits(p, limits).map_err(|e| (p.clone(), e.reason()))?)
            };
            match glob.as_ref().map_or(Some(p.as_str()), Glob::exact) {
                Some(exact) => {
                    let id = interner
                        .intern(exact)
                        .ok_or_else(|| (p.clone(), "too many distinct names".to_owned()))?;
                    if !written.contains(&id) {
                        written.push(id);
                    }
                }
                None => set.globs.extend(glob),
            }
        }
        set.resolved = set.globs.is_empty();
        // `ids` only changes when globs are resolved: without globs, names
        // written in ascending id order are `ids` as they stand.
        if set.resolved && written.is_sorted() {
            set.ids = written;
        } else {
            set.ids.clone_from(&written);
            set.ids.sort_unstable();
            set.written = Written::Listed(written);
        }
        Ok(set)
    }

    /// Add the ids of the interned names (`sorted` by name) the globs
    /// match, spending at most the budget's glob tests.
    pub(crate) fn resolve(&mut self, sorted: &SortedNames<'_, I>, budget: &mut ResolveBudget) {
        if self.resolved {
            return;
        }
        let mut found = Vec::new();
        for glob in &self.globs {
            let Some(candidates) = sorted.candidates(glob) else {
                return;
            };
            if candidates.len() > budget.per_glob || candidates.len() > budget.left {
                return;
            }
            // Charged in full even when the matches are remembered: the
            // budget is spent as before, so the same sets are resolved.
            budget.left -= candidates.len();
            sorted.matches(glob, &candidates, &mut found);
        }
        self.ids = union(&self.ids, found);
        self.bits = bit_set(&self.ids);
        self.resolved = true;
    }

    pub(crate) fn matches(&self, name: Name<'_, I>) -> bool {
        let listed = match (name.id, &self.bits) {
            (None, _) => false,
            (Some(id), Some(bits)) => {
                let word = bits.get(id.index() / 64).copied().unwrap_or(0);
                word & (1 << (id.index() % 64)) != 0
            }
            (Some(id), None) => self.ids.binary_search(&id).is_ok(),
        };
        match name.id {
            _ if listed => true,
            Some(_) if self.resolved => false,
            _ => self.globs.iter().any(|g| g.is_match(name.text)),
        }
    }

    /// Exact names, in the order written.
    pub(crate) fn concrete<'s>(
        &'s self,
        interner: &'s Interner<I>,
    ) -> impl Iterator<Item = &'s str> + 's {
        let written = match &self.written {
            Written::AsIds => &self.ids,
            Written::Listed(ids) => ids,
        };
        written.iter().map(move |id| interner.name(*id))
    }

    /// The ids of the exact names written (before resolution adds glob
    /// matches, the only ids).
    pub(crate) fn exact_ids(&self) -> &[I] {
        &self.ids
    }

    pub(crate) fn globs(&self) -> &[Glob] {
        &self.globs
    }
}

/// `ids` (ascending) as a bit set, when there are at least 64 of them and
/// the set takes no more words than there are ids (so at most twice their
/// memory); `None` otherwise, for the binary search.
fn bit_set<I: Id>(ids: &[I]) -> Option<Box<[u64]>> {
    let words = ids.last()?.index() / 64 + 1;
    if ids.len() < 64 || words > ids.len() {
        return None;
    }
    let mut bits = vec![0u64; words];
    for id in ids {
        if let Some(w) = bits.get_mut(id.index() / 64) {
            *w |= 1 << (id.index() % 64);
        }
    }
    Some(bits.into_boxed_slice())
}

/// The ids of `sorted` (ascending, distinct) and `more` (any order,
/// repeats), ascending and distinct. Many ids (a purpose's `*:read` over a
/// whole policy) are marked in a bit set and read back in order; fewer, or
/// a few among very many names, are sorted.
fn union<I: Id>(sorted: &[I], mut more: Vec<I>) -> Vec<I> {
    /// From here on, a bit set costs less than sorting.
    const BITS_FROM: usize = 256;
    let all = sorted.iter().chain(&more);
    let Some(top) = all.clone().map(|id| id.index()).max() else {
        return Vec::new();
    };
    // The set has a word per 64 interned names: no more words than ids.
    if more.len() < BITS_FROM || top / 64 > more.len() {
        more.extend_from_slice(sorted);
        more.sort_unstable();
        more.dedup();
        return more;
    }
    let mut bits = vec![0u64; top / 64 + 1];
    for id in all {
        if let Some(word) = bits.get_mut(id.index() / 64) {
            *word |= 1 << (id.index() % 64);
        }
    }
    let mut out = Vec::with_capacity(sorted.len() + more.len());
    for (w, mut word) in bits.into_iter().enumerate() {
        while word != 0 {
            let bit = word.trailing_zeros() as usize;
            word &= word - 1;
            out.extend(I::from_index(w * 64 + bit));
        }
    }
    out
}

/// Whether a requested scope or audience is a wildcard: it contains `*` or `?`.
pub(crate) fn is_wildcard_request(s: &str) -> bool {
    crate::pattern::is_wildcard_request(s)
}

/// Match `text` against a requested wildcard without allocating (the request
/// dialect of docs/policy-reference.md, matched by the pattern module).
pub(crate) fn wildcard_match(pattern: &str, text: &str) -> bool {
    crate::pattern::wildcard_match(pattern, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A set that resolves to many ids tests them in a bit set, and answers
    /// exactly as the list and the globs would: for every interned name,
    /// for a name the policy never mentions, and for ids past the set's
    /// last word.
    #[test]
    fn a_large_resolved_set_answers_from_its_bit_set_as_from_its_list() {
        let mut interner = Interner::<crate::ids::ScopeId>::default();
        for i in 0..3000 {
            for verb in ["read", "write"] {
                interner.intern(&format!("svc{i}:{verb}")).unwrap();
            }
        }
        let limits = Limits::default();
        let mut set = NameSet::new(
            &["*:read".into(), "svc7:write".into()],
            &mut interner,
            &limits,
        )
        .unwrap();
        let sorted = interner.sorted();
        let mut budget = ResolveBudget {
            left: usize::MAX,
            per_glob: usize::MAX,
        };
        set.resolve(&sorted, &mut budget);
        drop(sorted);
        assert!(set.resolved && set.bits.is_some());
        let past = interner.intern("zzz:read").unwrap();
        for (id, text) in interner.iter() {
            let want = text.ends_with(":read") || text == "svc7:write";
            let name = Name { text, id: Some(id) };
            assert_eq!(set.matches(name), want && id != past, "{text}");
        }
        let unknown = Name {
            text: "other:read",
            id: None,
        };
        assert!(set.matches(unknown));
        let small = NameSet::new(&["a".into(), "b".into()], &mut interner, &limits).unwrap();
        assert!(small.bits.is_none());
    }

    #[test]
    fn name_sets() {
        let mut interner = Interner::<crate::ids::ScopeId>::default();
        let set = NameSet::new(
            &["b".into(), "a".into(), "x:*".into()],
            &mut interner,
            &Limits::default(),
        )
        .unwrap();
        let name = |text| Name {
            text,
            id: interner.get(text),
        };
        assert!(set.matches(name("a")) && set.matches(name("x:y")) && !set.matches(name("c")));
        assert_eq!(set.concrete(&interner).collect::<Vec<_>>(), ["b", "a"]);
    }

    /// Both ways of merging give the sorted, distinct union.
    #[test]
    fn union_is_sorted_and_distinct() {
        use crate::ids::ScopeId;
        let ids = |v: &[usize]| -> Vec<ScopeId> {
            v.iter().map(|&i| ScopeId::from_index(i).unwrap()).collect()
        };
        for n in [0, 3, 255, 256, 1000] {
            let sorted: Vec<usize> = (0..n).map(|i| i * 3).collect();
            let more: Vec<usize> = (0..n).rev().map(|i| i * 5 % 1999).collect();
            let mut want: Vec<usize> = sorted.iter().chain(&more).copied().collect();
            want.sort_unstable();
            want.dedup();
            assert_eq!(union(&ids(&sorted), ids(&more)), ids(&want), "{n}");
        }
        assert_eq!(
            union(&ids(&[1, 64, 127]), ids(&[0; 300])),
            ids(&[0, 1, 64, 127])
        );
    }

    /// Resolving globs at compile time is bounded: a glob with more
    /// candidate names than the per-glob budget, or than what is left of
    /// the whole budget, stays a glob (matched at evaluation); a glob within
    /// both is resolved and charged its candidates.
    #[test]
    fn glob_resolution_stays_within_its_budget() {
        let mut interner = Interner::<crate::ids::ScopeId>::default();
        for i in 0..10 {
            interner.intern(&format!("a:{i}"));
        }
        let mut sets: Vec<NameSet<_>> = (0..4)
            .map(|_| NameSet::new(&["a:*".into()], &mut interner, &Limits::default()).unwrap())
            .collect();
        let sorted = interner.sorted();
        let mut resolve = |left: usize, per_glob: usize| {
            let mut set = sets.pop().unwrap();
            let mut budget = ResolveBudget { left, per_glob };
            set.resolve(&sorted, &mut budget);
            (set.resolved, set.ids.len(), budget.left)
        };
        // Exactly enough, per glob and in all: resolved, all ten charged.
        assert_eq!(resolve(10, 10), (true, 10, 0));
        assert_eq!(resolve(25, 100), (true, 10, 15));
        // One short, per glob or in all: left a glob, nothing charged.
        assert_eq!(resolve(100, 9), (false, 0, 100));
        assert_eq!(resolve(9, 100), (false, 0, 9));
    }
}
