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

use crate::condition::{Cond, Conds, StrTest, Test};
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
    pub(crate) values: Values<'c>,
}

/// A key's values, a slice: most keys have one, kept without allocating
/// (10,000s of rules, a few keys each).
#[derive(Clone, Debug)]
pub(crate) enum Values<'c> {
    One(&'c str),
    Many(Vec<&'c str>),
}

impl<'c> Values<'c> {
    fn from_iter(values: impl IntoIterator<Item = &'c str>) -> Values<'c> {
        let mut values = values.into_iter().fuse();
        match (values.next(), values.next()) {
            (Some(one), None) => Values::One(one),
            (first, second) => {
                Values::Many(first.into_iter().chain(second).chain(values).collect())
            }
        }
    }
}

impl<'c> std::ops::Deref for Values<'c> {
    type Target = [&'c str];

    fn deref(&self) -> &[&'c str] {
        match self {
            Values::One(one) => std::slice::from_ref(one),
            Values::Many(many) => many,
        }
    }
}

impl<'a, 'c> IntoIterator for &'a Values<'c> {
    type Item = &'a &'c str;
    type IntoIter = std::slice::Iter<'a, &'c str>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
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

fn literals(test: &Test) -> Option<Values<'_>> {
    match test {
        Test::Str(StrTest::Eq(s, None)) => Some(Values::One(s)),
        Test::Str(StrTest::OneOf(items)) if items.iter().all(|(_, ip)| ip.is_none()) => {
            Some(Values::from_iter(items.iter().map(|(s, _)| &**s)))
        }
        _ => None,
    }
}

fn prefixes(test: &Test) -> Option<Values<'_>> {
    let Test::Str(StrTest::Glob(globs)) = test else {
        return None;
    };
    // An empty prefix would file the rule under every subject: no gain.
    let empty = globs.iter().any(|g| g.literal_prefix().is_empty());
    (!empty).then(|| Values::from_iter(globs.iter().map(|g| g.literal_prefix())))
}

fn kinds(mask: u8) -> Values<'static> {
    let all = IdentityKind::ALL.iter().enumerate();
    let named = all.filter(|(i, _)| mask & (1 << i) != 0);
    Values::from_iter(named.map(|(_, k)| k.as_str()))
}

/// Every key a rule's top-level conditions give, one per attribute, in
/// condition order; at most [`MAX_KEYS`].
pub(crate) fn keys(conds: Conds<'_>, effect: Effect) -> Vec<Key<'_>> {
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

#[cfg(test)]
mod tests {
    //! The keys each kind of condition gives: what the index files a rule
    //! under decides how few candidates a request gets (the decisions are
    //! pinned elsewhere; these pin the selectivity).

    use serde_json::{Map, Value, json};

    use super::{KeyAttr, MAX_KEYS, keys};
    use crate::IssuancePolicy;

    /// The keys of the one rule of a policy, owned: `(attribute, values)`.
    fn keys_of(when: Value, effect: &str) -> Vec<(KeyAttr, Vec<String>)> {
        let mut rule = json!({ "id": "r", "when": when });
        if effect == "forbid" {
            rule["effect"] = json!("forbid");
            rule["scopes"] = json!(["s:write"]);
        } else {
            rule["grant"] = json!({ "scopes": ["s:read"], "audience": ["https://aud"] });
        }
        let doc = json!({
            "policy": { "id": "keys", "revision": "1", "max_ttl": "1h" },
            "rule": [rule],
        });
        let policy = IssuancePolicy::from_json_str(&doc.to_string()).unwrap();
        let rule = &policy.rules[0];
        keys(policy.conds(rule.when), rule.effect)
            .into_iter()
            .map(|k| {
                let values = k.values.iter().map(|v| v.to_string()).collect();
                (k.attr.to_owned_attr(), values)
            })
            .collect()
    }

    fn key(attr: KeyAttr, values: &[&str]) -> (KeyAttr, Vec<String>) {
        (attr, values.iter().map(|v| v.to_string()).collect())
    }

    #[test]
    fn a_permit_is_keyed_by_each_exact_attribute_in_condition_order() {
        let when = json!({
            "identity.subject": "spiffe://a/x",
            "identity.claims.team": ["t0", "t1"],
            "identity.issuer": "https://i0",
            "purpose.name": "p0",
            "identity.kind": ["agent", "workload"],
            "posture.attested": true,
        });
        assert_eq!(
            keys_of(when, "permit"),
            vec![
                key(KeyAttr::Subject, &["spiffe://a/x"]),
                key(KeyAttr::Claim("team".into()), &["t0", "t1"]),
                key(KeyAttr::Issuer, &["https://i0"]),
                key(KeyAttr::Purpose, &["p0"]),
                // Kinds in the order of `IdentityKind::ALL`.
                key(KeyAttr::Kind, &["workload", "agent"]),
            ]
        );
    }

    #[test]
    fn a_forbid_is_keyed_only_by_attributes_every_request_has() {
        let when = json!({
            "identity.claims.team": "t0",
            "identity.issuer": "https://i0",
            "purpose.name": "p0",
            "identity.subject": ["spiffe://a/x", "spiffe://a/y"],
            "identity.kind": "ci_job",
        });
        assert_eq!(
            keys_of(when, "forbid"),
            vec![
                key(KeyAttr::Subject, &["spiffe://a/x", "spiffe://a/y"]),
                key(KeyAttr::Kind, &["ci_job"]),
            ]
        );
    }

    #[test]
    fn a_subject_glob_is_keyed_by_its_literal_prefix_unless_it_has_none() {
        let prefix = json!({ "identity.subject": { "glob": "spiffe://a/*" } });
        assert_eq!(
            keys_of(prefix, "permit"),
            vec![key(KeyAttr::SubjectPrefix, &["spiffe://a/"])]
        );
        let none = json!({ "identity.subject": { "glob": ["spiffe://a/*", "*/x"] } });
        assert_eq!(keys_of(none, "permit"), vec![]);
        assert!(KeyAttr::<&str>::SubjectPrefix.is_prefix());
        assert!(!KeyAttr::<&str>::Subject.is_prefix());
        assert!(!KeyAttr::<&str>::Claim("team").is_prefix());
    }

    #[test]
    fn claim_keys_leave_room_for_the_other_attributes() {
        let mut when = Map::new();
        for i in 0..MAX_KEYS {
            when.insert(format!("identity.claims.c{i:02}"), json!("v"));
        }
        when.insert("identity.issuer".into(), json!("https://i0"));
        when.insert("purpose.name".into(), json!("p0"));
        when.insert("identity.subject".into(), json!("spiffe://a/x"));
        when.insert("identity.kind".into(), json!("agent"));
        let got = keys_of(Value::Object(when), "permit");
        let claims = got
            .iter()
            .filter(|(a, _)| matches!(a, KeyAttr::Claim(_)))
            .count();
        assert_eq!(claims, MAX_KEYS - 6);
        assert_eq!(got.len(), MAX_KEYS - 2);
        assert_eq!(got[0], key(KeyAttr::Claim("c00".into()), &["v"]));
        assert_eq!(got[MAX_KEYS - 7], key(KeyAttr::Claim("c25".into()), &["v"]));
        assert_eq!(
            got[MAX_KEYS - 6..],
            [
                key(KeyAttr::Issuer, &["https://i0"]),
                key(KeyAttr::Purpose, &["p0"]),
                key(KeyAttr::Subject, &["spiffe://a/x"]),
                key(KeyAttr::Kind, &["agent"]),
            ]
        );
    }
}
