//! Compiled sets of scope or audience patterns, and the matcher for wildcard
//! requests.

use std::cell::{OnceCell, RefCell};
use std::hash::BuildHasher;
use std::rc::Rc;

use hashbrown::HashTable;

use crate::fastmap::HashMap;

use crate::ids::Id;
use crate::limits::Limits;
use crate::pattern::Glob;

/// Interned names: every concrete scope (or audience) a policy mentions gets
/// a small typed id, so evaluation compares integers instead of strings.
///
/// The names' bytes are kept one after another in one buffer (one
/// allocation, not one per name, and neighbours in memory), found by their
/// hash through a table of ids.
pub(crate) struct Interner<I> {
    /// Every name, one after another.
    text: String,
    /// Where each name ends in `text`, by id; it starts where the one
    /// before ends.
    ends: Vec<u32>,
    /// The ids by the hash of their name, each with where its name is in
    /// `text`, so a probe compares without looking the id up.
    table: HashTable<Entry<I>>,
    hasher: foldhash::fast::RandomState,
}

impl<I> Default for Interner<I> {
    fn default() -> Self {
        Interner {
            text: String::new(),
            ends: Vec::new(),
            table: HashTable::new(),
            hasher: foldhash::fast::RandomState::default(),
        }
    }
}

impl<I: Id> std::fmt::Debug for Interner<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter().map(|(_, n)| n)).finish()
    }
}

/// An interned name: its id and its bytes' range in the buffer.
#[derive(Clone, Copy)]
struct Entry<I> {
    id: I,
    start: u32,
    end: u32,
}

impl<I> Entry<I> {
    fn name<'t>(&self, text: &'t str) -> &'t str {
        text.get(self.start as usize..self.end as usize)
            .unwrap_or_default()
    }

    /// Whether this is `name`, compared as bytes (no character-boundary
    /// checks on the mint path's lookups).
    fn is(&self, text: &str, name: &str) -> bool {
        text.as_bytes().get(self.start as usize..self.end as usize) == Some(name.as_bytes())
    }
}

/// Name `index` of the buffer `text` with ends `ends`.
fn nth_name<'t>(text: &'t str, ends: &[u32], index: usize) -> &'t str {
    let end = ends.get(index).map_or(0, |e| *e as usize);
    let start = match index.checked_sub(1) {
        Some(before) => ends.get(before).map_or(0, |e| *e as usize),
        None => 0,
    };
    text.get(start..end).unwrap_or_default()
}

impl<I: Id> Interner<I> {
    /// An interner with room for `n` names.
    pub(crate) fn with_capacity(n: usize) -> Self {
        Interner {
            ends: Vec::with_capacity(n),
            table: HashTable::with_capacity(n),
            ..Interner::default()
        }
    }

    /// How many names are interned.
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// The id of `name`, interning it; `None` once ids run out (past
    /// `u32::MAX` names or bytes of names, far beyond any `Limits`).
    pub(crate) fn intern(&mut self, name: &str) -> Option<I> {
        let hash = self.hasher.hash_one(name);
        if let Some(id) = self.find(hash, name) {
            return Some(id);
        }
        let next = I::from_index(self.ends.len())?;
        let start = u32::try_from(self.text.len()).ok()?;
        let end = u32::try_from(self.text.len() + name.len()).ok()?;
        self.text.push_str(name);
        self.ends.push(end);
        let Interner {
            text,
            table,
            hasher,
            ..
        } = self;
        let entry = Entry {
            id: next,
            start,
            end,
        };
        table.insert_unique(hash, entry, |e| hasher.hash_one(e.name(text)));
        Some(next)
    }

    #[inline]
    fn find(&self, hash: u64, name: &str) -> Option<I> {
        self.table
            .find(hash, |e| e.is(&self.text, name))
            .map(|e| e.id)
    }

    /// The name of an id (empty for an id this interner did not make).
    pub(crate) fn name(&self, id: I) -> &str {
        nth_name(&self.text, &self.ends, id.index())
    }

    /// The id of a name the policy mentions; `None` for any other name,
    /// which can then only match a glob.
    #[inline]
    pub(crate) fn get(&self, name: &str) -> Option<I> {
        self.find(self.hasher.hash_one(name), name)
    }

    /// Every name with its id, in id order.
    fn iter(&self) -> impl Iterator<Item = (I, &str)> + '_ {
        (0..self.ends.len())
            .map_while(I::from_index)
            .map(|id| (id, self.name(id)))
    }

    /// The names, to be sorted forwards and backwards (each order only
    /// when a glob first needs it), for resolving globs.
    pub(crate) fn sorted(&self) -> SortedNames<'_, I> {
        SortedNames {
            names: self,
            forward: OnceCell::new(),
            prefixes: None,
            prefixed: OnceCell::new(),
            backward: OnceCell::new(),
            scanned: RefCell::default(),
            matched: RefCell::default(),
        }
    }
}

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
    fn matches(&self, glob: &Glob, candidates: &[(&str, I)], out: &mut Vec<I>) {
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
    fn candidates(&self, glob: &Glob) -> Option<Candidates<'_, 'a, I>> {
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

    /// Names are found again by text and by id after the buffer and the
    /// table have grown many times; repeats get their first id; the empty
    /// name is a name like any other.
    #[test]
    fn interned_names_round_trip_through_one_buffer() {
        let mut interner = Interner::<crate::ids::ScopeId>::default();
        let names: Vec<String> = (0..5000).map(|i| format!("svc{i}:read")).collect();
        let ids: Vec<_> = names.iter().map(|n| interner.intern(n).unwrap()).collect();
        let empty = interner.intern("").unwrap();
        assert_eq!(interner.len(), 5001);
        for (name, id) in names.iter().zip(&ids) {
            assert_eq!(interner.get(name), Some(*id));
            assert_eq!(interner.name(*id), name);
            assert_eq!(interner.intern(name), Some(*id));
        }
        assert_eq!((interner.get(""), interner.name(empty)), (Some(empty), ""));
        assert_eq!(interner.get("svc5000:read"), None);
        assert_eq!(interner.get("svc1:rea"), None);
        assert_eq!(interner.len(), 5001);
        let listed: Vec<_> = interner.iter().map(|(id, _)| id).collect();
        assert_eq!(listed.get(..5000), Some(&ids[..]));
    }

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
