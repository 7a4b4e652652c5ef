//! The rule index: which rules a request can possibly match, found without
//! visiting the others.
//!
//! Each rule is filed under one key taken from its top-level conditions, the
//! most selective available: an exact subject, a subject prefix (from a
//! glob), an exact identity claim, an issuer, a purpose, an identity kind —
//! or, lacking all of these, "always". A request visits the buckets of its
//! own subject, subject prefixes, claims, issuer, purpose and kind, plus
//! "always", so evaluation cost grows with the rules that could apply, not
//! with the policy.
//!
//! Soundness: a rule is skipped only when one of its top-level conditions is
//! certainly *false* for the request. Claims, issuer and purpose may be
//! missing from a request, which makes a condition on them *unknown* rather
//! than false; unknown does not stop a forbid (fail closed), so forbids are
//! only filed under attributes every request has: subject and kind.

use crate::fastmap::HashMap;

use crate::condition::{Cond, StrTest, Test};
use crate::document::Effect;
use crate::ids::RuleId;
use crate::path::Attr;
use crate::request::{IdentityKind, MintRequest};
use crate::value::AttrValue;

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

/// Rules by an exact key.
type Buckets = HashMap<Box<str>, Vec<RuleId>>;

#[derive(Debug, Default)]
pub(crate) struct RuleIndex {
    by_subject: HashMap<Box<str>, Vec<RuleId>>,
    by_subject_prefix: PrefixMap,
    /// Claim name → claim value → rules.
    by_claim: Vec<(Box<str>, Buckets)>,
    by_issuer: HashMap<Box<str>, Vec<RuleId>>,
    by_purpose: HashMap<Box<str>, Vec<RuleId>>,
    by_kind: [Vec<RuleId>; 5],
    always: Vec<RuleId>,
}

enum Key {
    Subjects(Vec<Box<str>>),
    Prefixes(Vec<Box<str>>),
    Claim(Box<str>, Vec<Box<str>>),
    Issuers(Vec<Box<str>>),
    Purposes(Vec<Box<str>>),
    Kinds(u8),
    Always,
}

fn literals(test: &Test) -> Option<Vec<Box<str>>> {
    match test {
        Test::Str(StrTest::Eq(s, None)) => Some(vec![s.clone()]),
        Test::Str(StrTest::OneOf(items)) if items.iter().all(|(_, ip)| ip.is_none()) => {
            Some(items.iter().map(|(s, _)| s.clone()).collect())
        }
        _ => None,
    }
}

fn prefixes(test: &Test) -> Option<Vec<Box<str>>> {
    let Test::Str(StrTest::Glob(globs)) = test else {
        return None;
    };
    let out: Vec<Box<str>> = globs.iter().map(|g| g.literal_prefix().into()).collect();
    // An empty prefix would file the rule under every subject: no gain.
    out.iter().all(|p| !p.is_empty()).then_some(out)
}

/// The most selective key among a rule's top-level conditions.
fn key_for(conds: &[Cond], effect: Effect) -> Key {
    let leaves: Vec<_> = conds.iter().filter_map(Cond::leaf).collect();
    let find = |attr: &Attr, f: &dyn Fn(&Test) -> Option<Vec<Box<str>>>| {
        leaves
            .iter()
            .filter(|l| l.attr == *attr)
            .find_map(|l| f(&l.test))
    };
    if let Some(s) = find(&Attr::Subject, &literals) {
        return Key::Subjects(s);
    }
    if let Some(p) = find(&Attr::Subject, &prefixes) {
        return Key::Prefixes(p);
    }
    if effect == Effect::Permit {
        let claim = leaves.iter().find_map(|l| match &l.attr {
            Attr::IdentityClaim(name) => literals(&l.test).map(|v| (name.clone(), v)),
            _ => None,
        });
        if let Some((name, values)) = claim {
            return Key::Claim(name, values);
        }
        if let Some(i) = find(&Attr::Issuer, &literals) {
            return Key::Issuers(i);
        }
        if let Some(p) = find(&Attr::PurposeName, &literals) {
            return Key::Purposes(p);
        }
    }
    leaves
        .iter()
        .find_map(|l| match (&l.attr, &l.test) {
            (Attr::Kind, Test::Kinds(mask)) => Some(Key::Kinds(*mask)),
            _ => None,
        })
        .unwrap_or(Key::Always)
}

fn push(map: &mut HashMap<Box<str>, Vec<RuleId>>, keys: Vec<Box<str>>, rule: RuleId) {
    for k in keys {
        let bucket = map.entry(k).or_default();
        if bucket.last() != Some(&rule) {
            bucket.push(rule);
        }
    }
}

impl RuleIndex {
    pub(crate) fn insert(&mut self, rule: RuleId, conds: &[Cond], effect: Effect) {
        match key_for(conds, effect) {
            Key::Subjects(k) => push(&mut self.by_subject, k, rule),
            Key::Prefixes(k) => {
                for p in &k {
                    self.by_subject_prefix.insert(p, rule);
                }
            }
            Key::Claim(name, values) => {
                let pos = match self.by_claim.iter().position(|(n, _)| *n == name) {
                    Some(pos) => pos,
                    None => {
                        self.by_claim.push((name, HashMap::default()));
                        self.by_claim.len() - 1
                    }
                };
                if let Some((_, map)) = self.by_claim.get_mut(pos) {
                    push(map, values, rule);
                }
            }
            Key::Issuers(k) => push(&mut self.by_issuer, k, rule),
            Key::Purposes(k) => push(&mut self.by_purpose, k, rule),
            Key::Kinds(mask) => {
                for (i, bucket) in self.by_kind.iter_mut().enumerate() {
                    if mask & (1 << i) != 0 {
                        bucket.push(rule);
                    }
                }
            }
            Key::Always => self.always.push(rule),
        }
    }

    /// The candidate rules for a request, ascending (policy order), into `out`.
    pub(crate) fn candidates(&self, req: &MintRequest, out: &mut Vec<RuleId>) {
        out.clear();
        let id = &req.identity;
        let subject = id.subject.as_str();
        if let Some(b) = self.by_subject.get(subject) {
            out.extend_from_slice(b);
        }
        for b in self.by_subject_prefix.buckets(subject) {
            out.extend_from_slice(b);
        }
        for (name, map) in &self.by_claim {
            // A condition on a list claim holds when any element does.
            let values: &[AttrValue] = match id.claims.get(&**name) {
                Some(AttrValue::List(items)) => items,
                Some(v) => std::slice::from_ref(v),
                None => &[],
            };
            for v in values {
                if let Some(b) = v.as_string().and_then(|v| map.get(v)) {
                    out.extend_from_slice(b);
                }
            }
        }
        if let Some(b) = id.issuer.as_deref().and_then(|i| self.by_issuer.get(i)) {
            out.extend_from_slice(b);
        }
        if let Some(b) = req
            .purpose
            .as_ref()
            .and_then(|p| self.by_purpose.get(p.name.as_str()))
        {
            out.extend_from_slice(b);
        }
        let kind = IdentityKind::ALL
            .iter()
            .position(|k| *k == id.kind)
            .and_then(|i| self.by_kind.get(i));
        if let Some(b) = kind {
            out.extend_from_slice(b);
        }
        out.extend_from_slice(&self.always);
        out.sort_unstable();
        out.dedup();
    }
}
