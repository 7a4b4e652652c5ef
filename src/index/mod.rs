//! The rule index: which rules a request can possibly match, found without
//! visiting the others.
//!
//! Each rule gets *keys* from its top-level conditions ([`keys`]): an exact
//! subject, a subject prefix (from a glob), an exact identity claim, an
//! issuer, a purpose, an identity kind. At the first level it is filed under
//! its most selective key — or, lacking all of these, "always" — and a
//! request visits the buckets of its own subject, subject prefixes, claims,
//! issuer, purpose and kind, plus "always". A large bucket is split further
//! by the rules' other keys ([`tree`]), so evaluation cost grows with the
//! rules that could apply, not with the policy, even when many rules share
//! one key.
//!
//! Soundness: a rule is skipped only when one of its top-level conditions is
//! certainly *false* for the request. Claims, issuer and purpose may be
//! missing from a request, which makes a condition on them *unknown* rather
//! than false; unknown does not stop a forbid (fail closed), so forbids only
//! have keys on attributes every request has: subject and kind.

mod hash;
mod keys;
mod tree;

use crate::fastmap::HashMap;

use crate::condition::Conds;
use crate::document::Effect;
use crate::ids::RuleId;
use crate::request::MintRequest;

use tree::Tree;

/// Rules filed under the literal prefixes of their globs. A lookup tries
/// each distinct prefix length once.
#[derive(Debug, Default)]
pub(crate) struct PrefixMap {
    by_prefix: HashMap<Box<str>, Vec<RuleId>>,
    /// Distinct prefix lengths, ascending.
    lens: Vec<usize>,
}

impl PrefixMap {
    pub(crate) fn insert(&mut self, prefix: &str, rule: RuleId) {
        if let Err(pos) = self.lens.binary_search(&prefix.len()) {
            self.lens.insert(pos, prefix.len());
        }
        let bucket = self.by_prefix.entry(Box::from(prefix)).or_default();
        if bucket.last() != Some(&rule) {
            bucket.push(rule);
        }
    }

    /// Every bucket whose prefix starts `text`.
    pub(crate) fn buckets<'a>(&'a self, text: &'a str) -> impl Iterator<Item = &'a [RuleId]> + 'a {
        self.lens
            .iter()
            .take_while(move |len| **len <= text.len())
            .filter_map(move |len| text.get(..*len))
            .filter_map(move |p| self.by_prefix.get(p))
            .map(Vec::as_slice)
    }
}

/// The compiled rule index.
#[derive(Debug, Default)]
pub(crate) struct RuleIndex {
    tree: Tree,
}

impl RuleIndex {
    /// The index of rules with these conditions and effects, in policy
    /// order.
    pub(crate) fn build<'c>(rules: impl Iterator<Item = (Conds<'c>, Effect)>) -> RuleIndex {
        let keys: Vec<_> = rules
            .map(|(conds, effect)| keys::keys(conds, effect))
            .collect();
        RuleIndex {
            tree: Tree::build(&keys),
        }
    }

    /// The candidate rules for a request, ascending (policy order), into
    /// `out`; the first-level buckets it reached into `reached`, for
    /// [`RuleIndex::explained`].
    #[inline]
    pub(crate) fn candidates(
        &self,
        req: &MintRequest,
        out: &mut Vec<RuleId>,
        reached: &mut Vec<usize>,
    ) {
        out.clear();
        self.tree.candidates(req, out, reached);
        out.sort_unstable();
        out.dedup();
    }

    /// The rules of the first-level buckets a request reached (`reached`
    /// from [`RuleIndex::candidates`]), whole: the candidates explanations
    /// look at (`docs/semantics.md` §4). A superset of the candidates; `f`
    /// may see a rule twice.
    pub(crate) fn explained(&self, reached: &[usize], f: impl FnMut(RuleId)) {
        self.tree.first_level(reached, f);
    }

    /// Nodes, edges and listed rule ids.
    #[cfg(test)]
    pub(crate) fn size(&self) -> (usize, usize, usize) {
        self.tree.size()
    }
}

#[cfg(test)]
mod tests;
