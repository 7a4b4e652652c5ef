//! The rule index: which rules a request can possibly match, found without
//! visiting the others.
//!
//! Each rule is filed under one key taken from its top-level conditions, the
//! most selective available: an exact subject, a subject prefix (from a
//! glob), an issuer, a purpose, an identity kind — or, lacking all of these,
//! "always". A request visits the buckets of its own subject, subject
//! prefixes, issuer, purpose and kind, plus "always", so evaluation cost
//! grows with the rules that could apply, not with the policy.
//!
//! Soundness: a rule is skipped only when one of its top-level conditions is
//! certainly *false* for the request. Issuer and purpose may be missing from
//! a request, which makes a condition on them *unknown* rather than false;
//! unknown does not stop a forbid (fail closed), so forbids are only filed
//! under attributes every request has: subject and kind.

use std::collections::HashMap;

use crate::condition::{Cond, StrTest, Test};
use crate::document::Effect;
use crate::path::Attr;
use crate::request::{IdentityKind, MintRequest};

#[derive(Debug, Default)]
pub(crate) struct RuleIndex {
    by_subject: HashMap<Box<str>, Vec<u32>>,
    by_prefix: HashMap<Box<str>, Vec<u32>>,
    /// Distinct prefix lengths, ascending.
    prefix_lens: Vec<usize>,
    by_issuer: HashMap<Box<str>, Vec<u32>>,
    by_purpose: HashMap<Box<str>, Vec<u32>>,
    by_kind: [Vec<u32>; 5],
    always: Vec<u32>,
}

enum Key {
    Subjects(Vec<Box<str>>),
    Prefixes(Vec<Box<str>>),
    Issuers(Vec<Box<str>>),
    Purposes(Vec<Box<str>>),
    Kinds(u8),
    Always,
}

fn literals(test: &Test) -> Option<Vec<Box<str>>> {
    match test {
        Test::Str(StrTest::Eq(s, _)) => Some(vec![s.clone()]),
        Test::Str(StrTest::OneOf(items)) => Some(items.iter().map(|(s, _)| s.clone()).collect()),
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

impl RuleIndex {
    pub(crate) fn insert(&mut self, rule: u32, conds: &[Cond], effect: Effect) {
        let push = |map: &mut HashMap<Box<str>, Vec<u32>>, keys: Vec<Box<str>>| {
            for k in keys {
                let bucket = map.entry(k).or_default();
                if bucket.last() != Some(&rule) {
                    bucket.push(rule);
                }
            }
        };
        match key_for(conds, effect) {
            Key::Subjects(k) => push(&mut self.by_subject, k),
            Key::Prefixes(k) => {
                for p in &k {
                    if let Err(pos) = self.prefix_lens.binary_search(&p.len()) {
                        self.prefix_lens.insert(pos, p.len());
                    }
                }
                push(&mut self.by_prefix, k);
            }
            Key::Issuers(k) => push(&mut self.by_issuer, k),
            Key::Purposes(k) => push(&mut self.by_purpose, k),
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
    pub(crate) fn candidates(&self, req: &MintRequest, out: &mut Vec<u32>) {
        out.clear();
        let subject = req.identity.subject.as_str();
        if let Some(b) = self.by_subject.get(subject) {
            out.extend_from_slice(b);
        }
        for &len in &self.prefix_lens {
            let Some(prefix) = subject.get(..len) else {
                if len > subject.len() {
                    break;
                }
                continue;
            };
            if let Some(b) = self.by_prefix.get(prefix) {
                out.extend_from_slice(b);
            }
        }
        if let Some(b) = req
            .identity
            .issuer
            .as_deref()
            .and_then(|i| self.by_issuer.get(i))
        {
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
            .position(|k| *k == req.identity.kind)
            .and_then(|i| self.by_kind.get(i));
        if let Some(b) = kind {
            out.extend_from_slice(b);
        }
        out.extend_from_slice(&self.always);
        out.sort_unstable();
        out.dedup();
    }
}
