//! Interned names: each concrete scope or audience a policy mentions gets a
//! small typed id; the names' bytes are kept in one buffer.

use std::hash::BuildHasher;

use hashbrown::HashTable;

use crate::ids::Id;

use super::SortedNames;

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
    pub(super) fn iter(&self) -> impl Iterator<Item = (I, &str)> + '_ {
        (0..self.ends.len())
            .map_while(I::from_index)
            .map(|id| (id, self.name(id)))
    }

    /// The names, to be sorted forwards and backwards (each order only
    /// when a glob first needs it), for resolving globs.
    pub(crate) fn sorted(&self) -> SortedNames<'_, I> {
        SortedNames::new(self)
    }
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
}
