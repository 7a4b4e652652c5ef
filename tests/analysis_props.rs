//! Evidence that the who-can-mint analysis is right (docs/analysis.md):
//! on generated small policies whose conditions draw from finite attribute
//! domains, brute-force enumeration of every request in the domain agrees
//! with every answer.
//!
//! - every witness is granted the scope at the audience by `evaluate`;
//! - for every "unreachable", no enumerated request gets the scope at the
//!   audience (whatever else it asks for: more scopes, a wildcard, a
//!   downgrade source, no or any audience, a ttl);
//! - a pair some enumerated request gets is "reachable" — `undecided` never
//!   appears, since every condition kind generated here is documented as
//!   decided;
//! - the access diff lists every pair a request context (identity, purpose,
//!   posture) gets under the new policy and under no way of asking under
//!   the old one, and its witnesses are confirmed both ways.
#![cfg(feature = "authoring")]
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: a panic here is a failed test"
)]

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use mintgate::authoring::analysis::{AllowList, Outcome, Question, Verdict, access_diff, who_can};
use mintgate::{IssuancePolicy, MintRequest, PolicyDocument};
use proptest::prelude::*;
use serde_json::{Value, json};

const SCOPES: [&str; 4] = ["docs:read", "docs:write", "mail:read", "docs:*"];
const AUDIENCES: [&str; 2] = ["https://docs.example.org", "https://mail.example.org"];

/// Conditions over finite domains: kinds, an issuer, a numeric tier, a
/// boolean, a claim that may be missing, `not`, `any`.
fn when() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(json!({ "identity.kind": "agent" })),
        Just(json!({ "identity.kind": ["agent", "workload"] })),
        Just(json!({ "identity.issuer": "iss-a" })),
        Just(json!({ "identity.issuer": { "not": "iss-a" } })),
        Just(json!({ "posture.tier": { "min": 2 } })),
        Just(json!({ "posture.tier": { "max": 1 } })),
        Just(json!({ "posture.attested": true })),
        Just(json!({ "posture.attested": { "exists": true } })),
        Just(json!({ "identity.claims.env": "prod" })),
        Just(json!({ "identity.claims.env": { "absent": true } })),
        Just(
            json!({ "any": [ { "identity.issuer": "iss-b" }, { "identity.claims.env": "dev" } ] })
        ),
    ];
    prop::collection::vec(leaf, 0..=3).prop_map(|items| {
        let mut map = serde_json::Map::new();
        for item in items {
            for (k, v) in item.as_object().unwrap() {
                map.insert(k.clone(), v.clone());
            }
        }
        Value::Object(map)
    })
}

fn permit(i: usize) -> impl Strategy<Value = Value> {
    (
        when(),
        prop::sample::subsequence(SCOPES.to_vec(), 1..=2),
        prop::sample::subsequence(AUDIENCES.to_vec(), 1..=2),
        prop::option::of(prop::sample::select(vec!["1m", "10m", "30m"])),
    )
        .prop_map(move |(when, scopes, audience, max_ttl)| {
            let mut grant = json!({ "scopes": scopes, "audience": audience });
            if let Some(t) = max_ttl {
                grant["max_ttl"] = json!(t);
            }
            json!({ "id": format!("permit-{i}"), "when": when, "grant": grant })
        })
}

fn forbid(i: usize) -> impl Strategy<Value = Value> {
    (
        when(),
        prop::option::of(prop::sample::subsequence(SCOPES.to_vec(), 1..=2)),
    )
        .prop_map(move |(when, scopes)| {
            let mut r = json!({ "id": format!("forbid-{i}"), "effect": "forbid", "when": when });
            if let Some(s) = scopes {
                r["scopes"] = json!(s);
            }
            r
        })
}

fn policy() -> impl Strategy<Value = Value> {
    (
        prop::collection::vec(Just(()), 1..=3),
        prop::collection::vec(Just(()), 0..=2),
        any::<bool>(),
        prop::option::of(prop::sample::select(vec!["2m", "20m"])),
        any::<bool>(),
    )
        .prop_flat_map(|(p, f, catalogue, min_ttl, deny)| {
            let p: Vec<_> = (0..p.len()).map(permit).collect();
            let f: Vec<_> = (0..f.len()).map(forbid).collect();
            (p, f).prop_map(move |(p, f)| {
                let mut rules = p;
                rules.extend(f);
                let mut settings = json!({
                    "id": "gen", "revision": "1", "max_ttl": "1h", "default_ttl": "15m",
                    "on_excess": if deny { "deny" } else { "narrow" },
                });
                if let Some(m) = min_ttl {
                    settings["min_ttl"] = json!(m);
                }
                let mut doc = json!({
                    "policy": settings,
                    "downgrade": { "docs:write": "docs:read" },
                    "rule": rules,
                });
                if catalogue {
                    doc["purposes"] = json!({
                        "read": { "scopes": ["docs:read", "mail:read"] },
                        "edit": { "scopes": ["docs:*"], "requires": { "posture.attested": true }, "max_ttl": "10m" },
                    });
                }
                doc
            })
        })
}

fn compile(doc: &Value) -> Option<IssuancePolicy> {
    let doc: PolicyDocument = serde_json::from_value(doc.clone()).ok()?;
    IssuancePolicy::try_from(doc).ok()
}

fn now() -> DateTime<Utc> {
    "2026-11-30T12:00:00Z".parse().unwrap()
}

/// Every request of the finite domain, with the attribute values the
/// conditions tell apart and the ways of asking for a scope.
fn domain() -> Vec<MintRequest> {
    let mut out = Vec::new();
    let kinds = ["agent", "workload"];
    let issuers = [None, Some("iss-a"), Some("iss-b"), Some("iss-z")];
    let tiers = [None, Some(1), Some(2)];
    let attested = [None, Some(true), Some(false)];
    let envs = [None, Some("prod"), Some("dev")];
    let purposes = [None, Some("read"), Some("edit")];
    let asks: [(&[&str], &[&str]); 8] = [
        (&["docs:read"], &[]),
        (&["docs:write"], &["https://docs.example.org"]),
        (&["docs:read"], &["https://docs.example.org"]),
        (&["mail:read"], &["https://mail.example.org"]),
        (&["docs:read", "mail:read"], &["*"]),
        (&["docs:*"], &["https://docs.example.org"]),
        (
            &["docs:x"],
            &["https://mail.example.org", "https://docs.example.org"],
        ),
        (&["docs:write", "docs:read"], &["https://mail.example.org"]),
    ];
    for kind in kinds {
        for issuer in issuers {
            for tier in tiers {
                for att in attested {
                    for env in envs {
                        for purpose in purposes {
                            for (scopes, audience) in asks {
                                let mut identity = json!({ "subject": "s", "kind": kind });
                                if let Some(i) = issuer {
                                    identity["issuer"] = json!(i);
                                }
                                if let Some(e) = env {
                                    identity["claims"] = json!({ "env": e });
                                }
                                let mut posture = serde_json::Map::new();
                                if let Some(t) = tier {
                                    posture.insert("tier".into(), json!(t));
                                }
                                if let Some(a) = att {
                                    posture.insert("attested".into(), json!(a));
                                }
                                let mut req = json!({
                                    "identity": identity, "scopes": scopes,
                                    "audience": audience, "posture": posture,
                                });
                                if let Some(p) = purpose {
                                    req["purpose"] = json!({ "name": p });
                                }
                                out.push(serde_json::from_value(req).unwrap());
                            }
                        }
                    }
                }
            }
        }
    }
    out
}

/// Every (scope, audience) some request of the domain is granted.
fn granted_pairs(policy: &IssuancePolicy, requests: &[MintRequest]) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for r in requests {
        let g = policy.evaluate(r, now());
        for s in &g.scopes {
            for a in &g.audience {
                out.insert((s.clone(), a.clone()));
            }
        }
    }
    out
}

fn grants(policy: &IssuancePolicy, r: &MintRequest, at: DateTime<Utc>, s: &str, a: &str) -> bool {
    let g = policy.evaluate(r, at);
    g.scopes.iter().any(|x| x == s) && g.audience.iter().any(|x| x == a)
}

/// The same context asking for `scope` at `audience` alone.
fn direct(r: &MintRequest, scope: &str, audience: &str) -> MintRequest {
    MintRequest {
        scopes: vec![scope.to_owned()],
        audience: vec![audience.to_owned()],
        ttl: None,
        ..r.clone()
    }
}

const CONCRETE: [&str; 3] = ["docs:read", "docs:write", "mail:read"];

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn answers_agree_with_brute_force(doc in policy()) {
        let Some(policy) = compile(&doc) else { return Ok(()) };
        let requests = domain();
        let reached = granted_pairs(&policy, &requests);
        for s in CONCRETE {
            for a in AUDIENCES {
                let q = Question { audience: Some(a.to_owned()), ..Question::scope(s) };
                let answer = who_can(&policy, &q);
                for route in &answer.routes {
                    if let Outcome::Witness(w) = &route.outcome {
                        prop_assert!(grants(&policy, &w.request, w.now, s, a), "unconfirmed witness for {s} at {a}");
                    }
                }
                let brute = reached.contains(&(s.to_owned(), a.to_owned()));
                prop_assert_ne!(answer.verdict, Verdict::Undecided, "undecided for {} at {}: {:?}", s, a, answer.routes);
                if answer.verdict == Verdict::Unreachable {
                    prop_assert!(!brute, "{s} at {a} called unreachable, but a request gets it: {doc}");
                }
                if brute {
                    prop_assert_eq!(answer.verdict, Verdict::Reachable);
                }
            }
        }
    }

    #[test]
    fn access_diff_misses_nothing(old in policy(), new in policy()) {
        let (Some(p_old), Some(p_new)) = (compile(&old), compile(&new)) else { return Ok(()) };
        let diff = access_diff(&p_old, &p_new, &AllowList::default());
        for c in &diff.added {
            let w = c.witness.as_ref().unwrap();
            prop_assert!(grants(&p_new, &w.request, w.now, &c.scope, &c.audience));
            prop_assert!(!grants(&p_old, &w.request, w.now, &c.scope, &c.audience));
        }
        let requests = domain();
        for r in &requests {
            let g_new = p_new.evaluate(r, now());
            for s in &g_new.scopes {
                for a in &g_new.audience {
                    // New access is a context (identity, purpose, posture)
                    // that gets the pair under the new policy and under no
                    // way of asking under the old one; asking for the scope
                    // at the audience alone is the most any ask gets
                    // (docs/analysis.md, "Routes").
                    if grants(&p_old, r, now(), s, a) || grants(&p_old, &direct(r, s, a), now(), s, a) {
                        continue;
                    }
                    if !diff.checked.contains(&(s.clone(), a.clone())) {
                        continue;
                    }
                    let listed = diff.added.iter().chain(&diff.undecided)
                        .any(|c| c.scope == *s && c.audience == *a);
                    prop_assert!(listed, "new access to {s} at {a} not reported; request {r:?}\nold {old}\nnew {new}");
                }
            }
        }
    }
}
