//! Compiled sets of scope or audience patterns, and the matcher for wildcard
//! requests.

use std::sync::Arc;

use crate::fastmap::HashMap;

use crate::pattern::Glob;

/// Interned names: every concrete scope (or audience) a policy mentions gets
/// a small integer, so evaluation compares integers instead of strings.
#[derive(Debug, Default)]
pub(crate) struct Interner {
    ids: HashMap<Arc<str>, u32>,
    /// The names, by id.
    names: Vec<Arc<str>>,
}

impl Interner {
    pub(crate) fn intern(&mut self, name: &str) -> u32 {
        if let Some(id) = self.ids.get(name) {
            return *id;
        }
        let next = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        let shared: Arc<str> = Arc::from(name);
        self.names.push(Arc::clone(&shared));
        self.ids.insert(shared, next);
        next
    }

    /// The name of an id.
    pub(crate) fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("", |n| n)
    }

    /// The id of a name the policy mentions; `None` for any other name,
    /// which can then only match a glob.
    pub(crate) fn get(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }

    /// The names sorted forwards and backwards, for resolving globs.
    pub(crate) fn sorted(&self) -> SortedNames<'_> {
        let mut forward: Vec<(&str, u32)> = self
            .names
            .iter()
            .zip(0u32..)
            .map(|(k, v)| (&**k, v))
            .collect();
        forward.sort_unstable();
        let mut backward: Vec<(String, &str, u32)> = forward
            .iter()
            .map(|(k, v)| (k.chars().rev().collect(), *k, *v))
            .collect();
        backward.sort_unstable();
        SortedNames { forward, backward }
    }
}

/// Interned names sorted by text and by reversed text: the names with a
/// given prefix (or suffix) form one contiguous range.
pub(crate) struct SortedNames<'a> {
    forward: Vec<(&'a str, u32)>,
    backward: Vec<(String, &'a str, u32)>,
}

impl SortedNames<'_> {
    /// The names a glob could match, by its literal prefix or else its
    /// literal suffix; `None` when it has neither.
    fn candidates(&self, glob: &Glob) -> Option<Vec<(&str, u32)>> {
        let prefix = glob.literal_prefix();
        if !prefix.is_empty() {
            let start = self.forward.partition_point(|(n, _)| *n < prefix);
            let len = self
                .forward
                .get(start..)?
                .partition_point(|(n, _)| n.starts_with(prefix));
            return Some(self.forward.get(start..start + len)?.to_vec());
        }
        let suffix: String = glob.literal_suffix().chars().rev().collect();
        if suffix.is_empty() {
            return None;
        }
        let start = self
            .backward
            .partition_point(|(n, _, _)| n.as_str() < suffix.as_str());
        let len = self
            .backward
            .get(start..)?
            .partition_point(|(n, _, _)| n.starts_with(&suffix));
        let range = self.backward.get(start..start + len)?;
        Some(range.iter().map(|(_, name, id)| (*name, *id)).collect())
    }
}

/// How many glob tests compile time may spend resolving globs against
/// interned names, in all and per glob. Beyond them, globs are simply
/// matched at evaluation.
pub(crate) const RESOLVE_BUDGET: usize = 2_000_000;
const RESOLVE_PER_GLOB: usize = 100_000;

/// A name as evaluation sees it: the text and, when the policy knows it,
/// its interned id.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Name<'a> {
    pub(crate) text: &'a str,
    pub(crate) id: Option<u32>,
}

/// Exact names (interned, sorted for binary search) plus globs.
///
/// After [`NameSet::resolve`], `ids` also holds every interned name a glob
/// matches, so a name the policy knows is decided by one binary search over
/// integers; only names the policy never mentions are matched against globs.
#[derive(Debug, Default)]
pub(crate) struct NameSet {
    ids: Vec<u32>,
    /// Every interned name matching a glob is in `ids`.
    resolved: bool,
    globs: Vec<Glob>,
    /// The exact names in the order written, for narrowing to concrete ones.
    written: Vec<u32>,
}

impl NameSet {
    pub(crate) fn new(
        patterns: &[String],
        interner: &mut Interner,
    ) -> Result<NameSet, (String, String)> {
        let mut set = NameSet::default();
        for p in patterns {
            let glob = Glob::new(p).map_err(|e| (p.clone(), e))?;
            match glob.exact() {
                Some(exact) => {
                    let id = interner.intern(exact);
                    if !set.written.contains(&id) {
                        set.written.push(id);
                        set.ids.push(id);
                    }
                }
                None => set.globs.push(glob),
            }
        }
        set.ids.sort_unstable();
        set.resolved = set.globs.is_empty();
        Ok(set)
    }

    /// Add the ids of the interned names (`sorted` by name) the globs
    /// match, spending at most `budget` glob tests.
    pub(crate) fn resolve(&mut self, sorted: &SortedNames<'_>, budget: &mut usize) {
        if self.resolved {
            return;
        }
        let mut found = Vec::new();
        for glob in &self.globs {
            let Some(candidates) = sorted.candidates(glob) else {
                return;
            };
            if candidates.len() > RESOLVE_PER_GLOB || candidates.len() > *budget {
                return;
            }
            *budget -= candidates.len();
            found.extend(
                candidates
                    .iter()
                    .filter(|(name, _)| glob.is_match(name))
                    .map(|(_, id)| *id),
            );
        }
        self.ids.extend(found);
        self.ids.sort_unstable();
        self.ids.dedup();
        self.resolved = true;
    }

    pub(crate) fn matches(&self, name: Name<'_>) -> bool {
        match name.id {
            Some(id) if self.ids.binary_search(&id).is_ok() => true,
            Some(_) if self.resolved => false,
            _ => self.globs.iter().any(|g| g.is_match(name.text)),
        }
    }

    /// Exact names, in the order written.
    pub(crate) fn concrete<'s>(
        &'s self,
        interner: &'s Interner,
    ) -> impl Iterator<Item = &'s str> + 's {
        self.written.iter().map(move |id| interner.name(*id))
    }

    /// The ids of the exact names written (before resolution adds glob
    /// matches, the only ids).
    pub(crate) fn exact_ids(&self) -> &[u32] {
        &self.ids
    }

    pub(crate) fn globs(&self) -> &[Glob] {
        &self.globs
    }
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

    #[test]
    fn name_sets() {
        let mut interner = Interner::default();
        let set = NameSet::new(&["b".into(), "a".into(), "x:*".into()], &mut interner).unwrap();
        let name = |text| Name {
            text,
            id: interner.get(text),
        };
        assert!(set.matches(name("a")) && set.matches(name("x:y")) && !set.matches(name("c")));
        assert_eq!(set.concrete(&interner).collect::<Vec<_>>(), ["b", "a"]);
    }
}
