//! The decision invariants of docs/semantics.md §3 as properties over
//! generated policies and requests.
//!
//! The generators (tests/common/gen.rs) draw from small vocabularies so that
//! rules match often and every branch of the algorithm is exercised: every
//! condition operator, forbids with and without scopes, purposes with
//! `requires`, downgrades, wildcards in rules and requests, missing and
//! multiple audiences, delegation with parent grants, expiring credentials,
//! lifecycle opt-outs, claims, `on_excess`. The differential run at the end
//! checks the engine against the reference model (tests/reference/,
//! docs/testing.md).
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: a panic here is a failed test"
)]

use std::collections::BTreeSet;

use chrono::{DateTime, TimeDelta, Utc};
use mintgate::{Decision, Grant, IssuancePolicy, MintRequest, PolicyDocument};
use proptest::prelude::*;
use serde_json::Value;

use crate::{generate, reference};

// ---------------------------------------------------------------- generators
//
// Every property draws from the every-operator generators of
// tests/common/gen.rs (the differential run's), at a fixed `now`.

fn policy() -> impl Strategy<Value = Value> {
    generate::rich_policy()
}

fn request() -> impl Strategy<Value = Value> {
    generate::rich_request(now())
}

fn forbid(id: String) -> impl Strategy<Value = Value> {
    generate::rich_forbid(id)
}

// ---------------------------------------------------------------- helpers

use reference::patterns::request_wildcard;
use reference::{glob, strings as list};

use crate::fixtures::now;

fn rule<'d>(doc: &'d Value, id: &str) -> &'d Value {
    doc["rule"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap()
}

/// The scopes a request may end up with: requested concrete scopes, their
/// downgrades (transitively), and concrete scopes a requested wildcard covers.
fn allowed_scopes(doc: &Value, req: &MintRequest) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for s in &req.scopes {
        // A requested wildcard is any scope with `*` or `?` (a `?`-only
        // request such as `d?cs:read` expands too).
        if s.contains(['*', '?']) {
            out.extend(
                generate::RICH_SCOPES
                    .iter()
                    .filter(|c| request_wildcard(s, c))
                    .map(|c| c.to_string()),
            );
        } else {
            out.insert(s.clone());
        }
    }
    downgrades_of(doc, &out)
}

fn compile(doc: &Value) -> IssuancePolicy {
    let d: PolicyDocument = serde_json::from_value(doc.clone()).unwrap();
    IssuancePolicy::compile(&d).unwrap()
}

fn set(v: &[String]) -> BTreeSet<&str> {
    v.iter().map(String::as_str).collect()
}

/// `scopes` and everything reachable from them through `[downgrade]`.
fn downgrades_of(doc: &Value, scopes: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = scopes.clone();
    let mut changed = true;
    while changed {
        changed = false;
        for s in out.clone() {
            if let Some(to) = doc["downgrade"][&s].as_str() {
                changed |= out.insert(to.into());
            }
        }
    }
    out
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 400,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------- properties

proptest! {
    #![proptest_config(config())]

    /// Granted ⊆ requested ∪ downgrades ∪ concrete expansions; nothing
    /// granted by pattern.
    #[test]
    fn granted_scopes_come_from_the_request(doc in policy(), req in request()) {
        let req: MintRequest = serde_json::from_value(req).unwrap();
        let g = compile(&doc).evaluate(&req, now());
        let allowed = allowed_scopes(&doc, &req);
        for s in &g.scopes {
            prop_assert!(allowed.contains(s), "{s} not requested or derived; {g}");
            prop_assert!(!s.contains('*') && !s.contains('?'), "{g}");
        }
        for a in &g.audience {
            prop_assert!(!a.contains('*') && !a.contains('?'), "{g}");
        }
    }

    /// Every (audience, scope) pair is permitted by one matching permit, and
    /// no matching forbid covers a granted scope.
    #[test]
    fn every_pair_is_permitted_by_one_matching_rule(doc in policy(), req in request()) {
        let req: MintRequest = serde_json::from_value(req).unwrap();
        let g = compile(&doc).evaluate(&req, now());
        let matched: Vec<&Value> = g.matched_rules.iter().map(|id| rule(&doc, id)).collect();
        for s in &g.scopes {
            for f in matched.iter().filter(|r| r["effect"] == "forbid") {
                prop_assert!(!list(&f["scopes"]).iter().any(|p| glob(p, s)), "forbidden {s} granted: {g}");
            }
            for a in &g.audience {
                let ok = matched.iter().filter(|r| r["effect"] != "forbid").any(|r| {
                    list(&r["grant"]["scopes"]).iter().any(|p| glob(p, s))
                        && list(&r["grant"]["audience"]).iter().any(|p| glob(p, a))
                });
                prop_assert!(ok, "pair ({a}, {s}) not permitted by one rule: {g}");
            }
        }
    }

    /// Delegated grants stay within the parent's scopes and expiry; the ttl
    /// respects every cap.
    #[test]
    fn ttl_and_delegation_caps_hold(doc in policy(), req in request()) {
        let req: MintRequest = serde_json::from_value(req).unwrap();
        let g = compile(&doc).evaluate(&req, now());
        if g.decision == Decision::Deny {
            prop_assert!(g.scopes.is_empty() && g.ttl.is_none() && g.expires_at.is_none());
            return Ok(());
        }
        let ttl = g.ttl.unwrap().as_secs();
        prop_assert!((1..=3600).contains(&ttl), "{g}");
        prop_assert_eq!(g.expires_at, Some(g.issued_at + TimeDelta::seconds(ttl as i64)));
        if let Some(asked) = req.ttl {
            prop_assert!(ttl <= asked.as_secs(), "{g}");
        }
        if let (Some(p), Some(max)) = (&req.purpose, doc["purposes"]["task"]["max_ttl"].as_str()) {
            if p.name == "task" {
                let max: mintgate::Duration = max.parse().unwrap();
                prop_assert!(ttl <= max.as_secs(), "{g}");
            }
        }
        let enforced = doc["policy"]["enforce_credential_expiry"] != false;
        if let Some(exp) = req.identity.credential_expires_at.filter(|_| enforced) {
            prop_assert!(g.expires_at.unwrap() <= exp, "{g}");
        }
        if let Some(parent) = req.delegation.as_ref().and_then(|d| d.parent.as_ref()) {
            prop_assert!(g.expires_at.unwrap() <= parent.expires_at, "{g}");
            for s in &g.scopes {
                prop_assert!(parent.scopes.contains(s), "{s} not in parent: {g}");
            }
        }
    }

    /// Allow exactly when the grant equals the request.
    #[test]
    fn allow_iff_grant_equals_request(doc in policy(), req in request()) {
        let req: MintRequest = serde_json::from_value(req).unwrap();
        let g = compile(&doc).evaluate(&req, now());
        let equal = set(&g.scopes) == set(&req.scopes)
            && !req.audience.is_empty()
            && set(&g.audience) == set(&req.audience)
            && req.ttl.is_none_or(|t| g.ttl == Some(t))
            && g.claims == req.claims;
        match g.decision {
            Decision::Allow => prop_assert!(equal, "allow but not equal: {g}"),
            Decision::Narrow => prop_assert!(!equal, "narrow but equal: {g}"),
            Decision::Deny => {}
        }
    }

    /// Deny by default: without permits nothing is granted.
    #[test]
    fn without_permits_everything_is_denied(doc in policy(), req in request()) {
        let mut doc = doc;
        let forbids: Vec<Value> = doc["rule"].as_array().unwrap().iter().filter(|r| r["effect"] == "forbid").cloned().collect();
        doc["rule"] = Value::Array(forbids);
        let req: MintRequest = serde_json::from_value(req).unwrap();
        let g = compile(&doc).evaluate(&req, now());
        prop_assert_eq!(g.decision, Decision::Deny);
    }

    /// Adding a forbid never widens a grant: it never turns a deny into a
    /// grant, never adds an audience, and never adds a scope other than a
    /// downgrade of one the request asked for.
    #[test]
    fn adding_a_forbid_never_widens(doc in policy(), req in request(), extra in forbid("extra-forbid".into())) {
        let req: MintRequest = serde_json::from_value(req).unwrap();
        let before = compile(&doc).evaluate(&req, now());
        let mut doc2 = doc.clone();
        doc2["rule"].as_array_mut().unwrap().push(extra);
        let after = compile(&doc2).evaluate(&req, now());
        if before.decision == Decision::Deny {
            prop_assert_eq!(after.decision, Decision::Deny, "before: {}\nafter: {}", before, after);
            return Ok(());
        }
        if after.decision == Decision::Deny {
            return Ok(());
        }
        prop_assert!(set(&after.audience).is_subset(&set(&before.audience)), "before: {}\nafter: {}", before, after);
        let before_scopes: BTreeSet<String> = before.scopes.iter().cloned().collect();
        let reachable = downgrades_of(&doc, &before_scopes.union(&allowed_scopes(&doc, &req)).cloned().collect());
        for s in &after.scopes {
            prop_assert!(before_scopes.contains(s) || (reachable.contains(s) && !req.scopes.contains(s)),
                "{} appeared: before: {}\nafter: {}", s, before, after);
        }
    }

    /// For requests naming concrete audiences, removing a permit never
    /// widens a grant at an audience both grants share, and never turns a
    /// deny into a grant — except a deny for excess, since a permit's own
    /// `on_excess = "deny"` leaves with it. (A missing or wildcard audience
    /// is narrowed to a permit's audiences, so it depends on the permits.)
    #[test]
    fn removing_a_permit_never_widens(doc in policy(), req in request(), pick in any::<prop::sample::Index>()) {
        let req: MintRequest = serde_json::from_value(req).unwrap();
        if req.audience.is_empty() || req.audience.iter().any(|a| a.contains('*')) {
            return Ok(());
        }
        let before = compile(&doc).evaluate(&req, now());
        let permits: Vec<usize> = doc["rule"].as_array().unwrap().iter().enumerate()
            .filter(|(_, r)| r["effect"] != "forbid").map(|(i, _)| i).collect();
        let mut doc2 = doc.clone();
        doc2["rule"].as_array_mut().unwrap().remove(permits[pick.index(permits.len())]);
        let after = compile(&doc2).evaluate(&req, now());
        if before.decision == Decision::Deny {
            if before.denial != Some(mintgate::Denial::Excess) {
                prop_assert_eq!(after.decision, Decision::Deny, "before: {}\nafter: {}", before, after);
            }
            return Ok(());
        }
        let shared = set(&after.audience).intersection(&set(&before.audience)).count() > 0;
        if after.decision == Decision::Deny || !shared {
            return Ok(());
        }
        let before_scopes: BTreeSet<String> = before.scopes.iter().cloned().collect();
        let reachable = downgrades_of(&doc, &allowed_scopes(&doc, &req));
        for s in &after.scopes {
            prop_assert!(before_scopes.contains(s) || (reachable.contains(s) && !req.scopes.contains(s)),
                "{} appeared: before: {}\nafter: {}", s, before, after);
        }
    }

    /// Same inputs, byte-identical JSON; grants, requests and documents
    /// round-trip through JSON.
    #[test]
    fn deterministic_and_round_trips(doc in policy(), req in request()) {
        let req: MintRequest = serde_json::from_value(req).unwrap();
        let a = compile(&doc).evaluate(&req, now());
        let b = compile(&doc).evaluate(&req, now());
        let json = a.to_json();
        prop_assert_eq!(&json, &b.to_json());
        let back: Grant = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(&back, &a);
        let req_back: MintRequest = serde_json::from_str(&serde_json::to_string(&req).unwrap()).unwrap();
        prop_assert_eq!(&req_back, &req);
        let d: PolicyDocument = serde_json::from_value(doc.clone()).unwrap();
        let d_back: PolicyDocument = serde_json::from_str(&serde_json::to_string(&d).unwrap()).unwrap();
        prop_assert_eq!(&d_back, &d);
        let p_back = IssuancePolicy::compile(&d_back).unwrap();
        let original = compile(&doc);
        prop_assert_eq!(&p_back.policy_ref().digest, &original.policy_ref().digest);
    }
}

/// The number of cases an environment variable asks for, or `default`.
fn cases_from_env(var: &str, default: u32) -> u32 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One differential case: the engine's grant, observed as the model sees
/// it, equals the reference model's answer.
fn engine_agrees_with_the_model(
    doc: &serde_json::Value,
    req: serde_json::Value,
    at: DateTime<Utc>,
) -> Result<(), TestCaseError> {
    let policy = IssuancePolicy::from_json_str(&doc.to_string()).map_err(|e| {
        TestCaseError::fail(format!("generated policy does not compile: {e}\n{doc}"))
    })?;
    let req: MintRequest = serde_json::from_value(req).unwrap();
    let g = policy.evaluate(&req, at);
    let model = reference::evaluate(doc, &req, at);
    prop_assert_eq!(
        &reference::observe(&g),
        &model,
        "\npolicy: {}\nrequest: {}\nnow: {}\nengine grant:\n{}",
        doc,
        serde_json::to_string(&req).unwrap(),
        at,
        g
    );
    Ok(())
}

/// Cases of the differential run: `MINTGATE_DIFF_CASES` (default 2,000,
/// a few seconds in CI; docs/testing.md records the 100,000-case run).
fn differential_config() -> ProptestConfig {
    ProptestConfig {
        cases: cases_from_env("MINTGATE_DIFF_CASES", 2_000),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(differential_config())]

    /// The differential run: on policies using every operator of the
    /// policy language and requests drawn to make each condition true,
    /// false and unknown, the engine and the reference model agree on the
    /// decision, denial, scopes, audience, ttl, claims, matched rules,
    /// controls, and every reason with its details (docs/testing.md).
    #[test]
    fn differential_engine_agrees_with_the_reference_model((doc, req, at) in generate::rich_case()) {
        engine_agrees_with_the_model(&doc, req, at)?;
    }
}

/// Cases of the wide differential run: `MINTGATE_WIDE_CASES` (default 150).
fn wide_config() -> ProptestConfig {
    ProptestConfig {
        cases: cases_from_env("MINTGATE_WIDE_CASES", 150),
        failure_persistence: None,
        // Shrinking a policy of a hundred rules takes minutes; a failure
        // prints the whole case anyway.
        max_shrink_iters: 32,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(wide_config())]

    /// The differential run on wide policies: 70–180 mostly-matching
    /// permits in front of a rich policy, and requests for a wildcard over
    /// a bulk vocabulary, so scopes, audiences, deciding rules, controls and
    /// lifetimes depend on permits past the 64th and 128th and grants hold
    /// more than 64 scopes (docs/testing.md).
    #[test]
    fn differential_engine_agrees_with_the_reference_model_on_wide_policies((doc, req, at) in generate::wide_case()) {
        engine_agrees_with_the_model(&doc, req, at)?;
    }
}

/// The wide generators reach what they are meant to: on 60 generated
/// cases, more than 128 matching permits, grants of more than 64 scopes, and
/// deciding permits past the 64th and the 128th position (by their
/// controls).
#[test]
fn wide_generators_reach_past_64_and_128_permits() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    let mut runner = TestRunner::deterministic();
    let (mut most_matched, mut most_scopes) = (0, 0);
    let (mut deciding_past_64, mut deciding_past_128) = (0, 0);
    for _ in 0..60 {
        let (doc, req, at) = generate::wide_case()
            .new_tree(&mut runner)
            .unwrap()
            .current();
        let req: MintRequest = serde_json::from_value(req).unwrap();
        let o = reference::evaluate(&doc, &req, at);
        let wide = o
            .matched_rules
            .iter()
            .filter(|r| r.starts_with("wide-"))
            .count();
        most_matched = most_matched.max(wide);
        most_scopes = most_scopes.max(o.scopes.len());
        for c in &o.controls {
            if let Some(i) = c.strip_prefix("W-").and_then(|i| i.parse::<usize>().ok()) {
                deciding_past_64 += usize::from(i >= 64);
                deciding_past_128 += usize::from(i >= 128);
            }
        }
    }
    println!(
        "most matched {most_matched}, most scopes {most_scopes}, deciding past 64: {deciding_past_64}, past 128: {deciding_past_128}"
    );
    assert!(
        most_matched > 128,
        "at most {most_matched} matching permits"
    );
    assert!(most_scopes > 64, "at most {most_scopes} granted scopes");
    assert!(deciding_past_64 > 0 && deciding_past_128 > 0);
}

/// The differential generators reach what they are meant to: every
/// condition atom is true, false and (unless it is decided on presence
/// alone) unknown on some generated request, and every decision occurs.
/// `--nocapture` prints the tallies (docs/testing.md).
#[test]
fn differential_generators_cover_every_operator() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    use reference::conditions::{Ctx, Tri, table};
    use std::collections::BTreeMap;

    let mut runner = TestRunner::deterministic();
    let atoms = generate::atoms();
    let mut seen = vec![[0usize; 3]; atoms.len()];
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for _ in 0..400 {
        let (doc, req, at) = generate::rich_case()
            .new_tree(&mut runner)
            .unwrap()
            .current();
        let typed: MintRequest = serde_json::from_value(req).unwrap();
        let req = serde_json::to_value(&typed).unwrap();
        let ctx = Ctx { req: &req, now: at };
        for (i, atom) in atoms.iter().enumerate() {
            let k = match table(atom, &ctx) {
                Tri::T => 0,
                Tri::F => 1,
                Tri::U => 2,
            };
            seen[i][k] += 1;
        }
        let o = reference::evaluate(&doc, &typed, at);
        let key = format!("{} {}", o.decision, o.denial.unwrap_or_default());
        *outcomes.entry(key).or_default() += 1;
        for r in &o.reasons {
            *reasons
                .entry(r["kind"].as_str().unwrap().to_owned())
                .or_default() += 1;
        }
    }
    println!("outcomes: {outcomes:?}\nreasons: {reasons:?}");
    for (atom, [t, f, u]) in atoms.iter().zip(&seen) {
        println!("{t:4} true {f:4} false {u:4} unknown  {atom}");
    }
    for (atom, [t, f, u]) in atoms.iter().zip(&seen) {
        let presence = atom.to_string().contains("exists") || atom.to_string().contains("absent");
        let never_missing = [
            "identity.subject",
            "identity.kind",
            "identity.state",
            "delegation.depth",
            "request.scopes",
            "request.audience",
            "request.time",
        ]
        .iter()
        .any(|p| atom.get(*p).is_some());
        // An empty hour window is false by definition (§5.3).
        let empty = atom.to_string().contains("10:00-10:00");
        assert!(
            (*t > 0 || empty) && *f > 0,
            "{atom} is never true or never false"
        );
        if !presence && !never_missing {
            assert!(*u > 0, "{atom} is never unknown");
        }
    }
    for d in [
        "allow ",
        "narrow ",
        "deny not_permitted",
        "deny forbidden",
        "deny ineligible",
        "deny excess",
    ] {
        assert!(outcomes.contains_key(d), "no `{d}` outcome: {outcomes:?}");
    }
}

/// The model's own patterns follow docs/policy-reference.md §3.3–3.5 on
/// the documented examples (so a disagreement with the engine points at
/// the engine, not at the model).
#[test]
fn reference_patterns_follow_the_policy_reference() {
    use reference::patterns::{cidr, glob, regex, request_wildcard};
    assert!(glob("https://*.example.org", "https://api.example.org"));
    assert!(!glob(
        "https://*.example.org",
        "https://evil.test/x.example.org"
    ));
    assert!(glob(
        "spiffe://prod.example.org/ns/*/sa/ci",
        "spiffe://prod.example.org/ns/a/sa/ci"
    ));
    assert!(!glob(
        "spiffe://prod.example.org/ns/*/sa/ci",
        "spiffe://prod.example.org/ns/a/b/sa/ci"
    ));
    assert!(glob(
        "spiffe://prod.example.org/ns/reports/**",
        "spiffe://prod.example.org/ns/reports/a/b"
    ));
    assert!(glob("agent:?", "agent:ä") && !glob("a?b", "a/b"));
    assert!(glob("[]x]", "]") && glob("[a-]", "-") && glob("[-a]", "-") && !glob("[!a-z]", "q"));
    assert!(glob("lit\\*", "lit*") && !glob("lit\\*", "litx"));
    assert!(!glob("[a", "a"), "a malformed glob matches nothing");
    assert!(request_wildcard("*:**", "docs:a/b") && !request_wildcard("*:read", "a/b:read"));
    assert!(request_wildcard("d?cs:read", "dócs:read") && !request_wildcard("d?cs", "d/cs"));
    assert!(request_wildcard("[a]*", "[a]x") && !request_wildcard("[a]*", "ax"));
    assert!(regex("prod(-[0-9]+)?", "prod-1") && !regex("prod", "prod-1"));
    let ip = |s: &str| s.parse().unwrap();
    assert!(cidr("10.0.0.0/8", ip("10.1.2.3")) && !cidr("10.0.0.0/8", ip("11.0.0.1")));
    assert!(cidr("10.0.0.0/8", ip("::ffff:10.1.2.3")) && !cidr("::/0", ip("10.1.2.3")));
    assert!(cidr("2001:db8::/32", ip("2001:db8::1")) && cidr("10.1.2.3", ip("10.1.2.3")));
    assert!(cidr("0.0.0.0/0", ip("8.8.8.8")));
}
