//! Index keys: which values of which attribute a rule can only match with,
//! read from its top-level conditions, and the same attributes read from a
//! request.
//!
//! A key is sound when every request the rule can match supplies one of the
//! key's values (or, for a subject prefix, a subject starting with one of
//! them). Claims, issuer and purpose may be missing from a request, which
//! makes a condition on them *unknown*, not false; unknown does not stop a
//! forbid (fail closed), so forbids only get keys on attributes every
//! request has: subject and kind.

use crate::condition::{Cond, StrTest, Test};
use crate::document::Effect;
use crate::path::Attr;
use crate::request::{IdentityKind, MintRequest};
use crate::value::AttrValue;

/// Keys kept per rule (the tree marks used keys in a 32-bit mask).
pub(crate) const MAX_KEYS: usize = 32;

/// An attribute a rule can be indexed under. The order of the variants is
/// the order of preference for the first-level key (most selective first).
///
/// While the index is built, claim names are borrowed from the rules
/// (`KeyAttr<&str>`); the tree keeps owned ones.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum KeyAttr<S = Box<str>> {
    /// The subject, exactly.
    Subject,
    /// The subject starts with a literal prefix of a glob.
    SubjectPrefix,
    /// An identity claim (a string, or a list with a string element).
    Claim(S),
    Issuer,
    Purpose,
    Kind,
}

/// A rule can only match a request that has one of `values` under `attr`;
/// borrowed from the rule's conditions while the index is built.
#[derive(Clone, Debug)]
pub(crate) struct Key<'c> {
    pub(crate) attr: KeyAttr<&'c str>,
    pub(crate) values: Vec<&'c str>,
}

impl<S> KeyAttr<S> {
    /// Prefix keys are looked up by every prefix of the request's value.
    pub(crate) fn is_prefix(&self) -> bool {
        matches!(self, KeyAttr::SubjectPrefix)
    }
}

impl KeyAttr<&str> {
    /// The attribute to keep in the tree.
    pub(crate) fn to_owned_attr(&self) -> KeyAttr {
        match self {
            KeyAttr::Subject => KeyAttr::Subject,
            KeyAttr::SubjectPrefix => KeyAttr::SubjectPrefix,
            KeyAttr::Claim(name) => KeyAttr::Claim(Box::from(*name)),
            KeyAttr::Issuer => KeyAttr::Issuer,
            KeyAttr::Purpose => KeyAttr::Purpose,
            KeyAttr::Kind => KeyAttr::Kind,
        }
    }
}

impl KeyAttr {
    /// Call `f` with each value the request has under this attribute (the
    /// whole subject for [`KeyAttr::SubjectPrefix`]).
    pub(crate) fn request_values<'r>(&self, req: &'r MintRequest, mut f: impl FnMut(&'r str)) {
        let id = &req.identity;
        match self {
            KeyAttr::Subject | KeyAttr::SubjectPrefix => f(&id.subject),
            KeyAttr::Claim(name) => {
                // A condition on a list claim holds when any element does.
                let values: &[AttrValue] = match id.claims.get(&**name) {
                    Some(AttrValue::List(items)) => items,
                    Some(v) => std::slice::from_ref(v),
                    None => &[],
                };
                values.iter().filter_map(AttrValue::as_string).for_each(f);
            }
            KeyAttr::Issuer => id.issuer.as_deref().into_iter().for_each(f),
            KeyAttr::Purpose => req.purpose.iter().for_each(|p| f(&p.name)),
            KeyAttr::Kind => f(id.kind.as_str()),
        }
    }
}

fn literals(test: &Test) -> Option<Vec<&str>> {
    match test {
        Test::Str(StrTest::Eq(s, None)) => Some(vec![&**s]),
        Test::Str(StrTest::OneOf(items)) if items.iter().all(|(_, ip)| ip.is_none()) => {
            Some(items.iter().map(|(s, _)| &**s).collect())
        }
        _ => None,
    }
}

fn prefixes(test: &Test) -> Option<Vec<&str>> {
    let Test::Str(StrTest::Glob(globs)) = test else {
        return None;
    };
    let out: Vec<&str> = globs.iter().map(|g| g.literal_prefix()).collect();
    // An empty prefix would file the rule under every subject: no gain.
    out.iter().all(|p| !p.is_empty()).then_some(out)
}

fn kinds(mask: u8) -> Vec<&'static str> {
    IdentityKind::ALL
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, k)| k.as_str())
        .collect()
}

/// Every key a rule's top-level conditions give, one per attribute, in
/// condition order; at most [`MAX_KEYS`].
pub(crate) fn keys(conds: &[Cond], effect: Effect) -> Vec<Key<'_>> {
    let mut out: Vec<Key<'_>> = Vec::with_capacity(conds.len().min(MAX_KEYS));
    for leaf in conds.iter().filter_map(Cond::leaf) {
        let key = match (&leaf.attr, &leaf.test) {
            (Attr::Subject, t) => literals(t)
                .map(|v| (KeyAttr::Subject, v))
                .or_else(|| prefixes(t).map(|v| (KeyAttr::SubjectPrefix, v))),
            (Attr::Kind, Test::Kinds(mask)) => Some((KeyAttr::Kind, kinds(*mask))),
            (Attr::IdentityClaim(name), t) if effect == Effect::Permit => {
                literals(t).map(|v| (KeyAttr::Claim(&**name), v))
            }
            (Attr::Issuer, t) if effect == Effect::Permit => {
                literals(t).map(|v| (KeyAttr::Issuer, v))
            }
            (Attr::PurposeName, t) if effect == Effect::Permit => {
                literals(t).map(|v| (KeyAttr::Purpose, v))
            }
            _ => None,
        };
        if let Some((attr, values)) = key {
            let claims = out
                .iter()
                .filter(|k| matches!(k.attr, KeyAttr::Claim(_)))
                .count();
            // Room is kept for the six other attributes.
            let room = !matches!(attr, KeyAttr::Claim(_)) || claims < MAX_KEYS - 6;
            if room && !out.iter().any(|k| k.attr == attr) {
                out.push(Key { attr, values });
            }
        }
    }
    out
}

/// The key a rule is filed under first: by attribute, in the order of
/// [`KeyAttr`] (the first claim in condition order among claims); `None`:
/// "always".
pub(crate) fn primary(keys: &[Key<'_>]) -> Option<usize> {
    let rank = |a: &KeyAttr<&str>| match a {
        KeyAttr::Subject => 0,
        KeyAttr::SubjectPrefix => 1,
        KeyAttr::Claim(_) => 2,
        KeyAttr::Issuer => 3,
        KeyAttr::Purpose => 4,
        KeyAttr::Kind => 5,
    };
    (0..keys.len()).min_by_key(|&i| keys.get(i).map_or(usize::MAX, |k| rank(&k.attr)))
}
