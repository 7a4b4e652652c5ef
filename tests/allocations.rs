//! Heap allocations per `evaluate`: only what the returned grant owns, and
//! never more as the policy grows; per `evaluate_into` a grant of the same
//! request: only what its reasons own.
//!
//! A counting global allocator counts every `alloc` and `realloc` made by
//! this thread while `evaluate` runs (after one warm-up call, which sizes the
//! per-thread scratch buffers).
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a panic here is a failed test"
)]
#![allow(
    unsafe_code,
    reason = "a counting global allocator implements the unsafe GlobalAlloc trait"
)]

use chrono::{DateTime, Utc};
use mintgate::{Decision, Grant, IssuancePolicy, MintRequest};

#[path = "../benches/support/policy_gen.rs"]
mod policy_gen;

#[path = "common/counting.rs"]
mod counting;
use counting::Counting;

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn now() -> DateTime<Utc> {
    "2026-11-28T12:00:00Z".parse().unwrap()
}

/// Allocations made by one `evaluate`, after a warm-up call.
fn allocations(policy: &IssuancePolicy, req: &MintRequest) -> (usize, Grant) {
    let t = now();
    drop(policy.evaluate(req, t));
    let mut grant = None;
    let count = counting::allocations(|| grant = Some(policy.evaluate(req, t)));
    (count, grant.unwrap())
}

/// The heap blocks an allow grant owns: its strings and its vectors
/// (`Arc`s of rule ids, controls and the policy reference are shared with
/// the policy, not allocated).
fn owned_blocks(g: &Grant) -> usize {
    assert!(
        g.reasons.is_empty() && g.claims.is_empty(),
        "for allow grants"
    );
    let strings = |v: &[String]| v.iter().filter(|s| s.capacity() > 0).count();
    let vec = |cap: usize| usize::from(cap > 0);
    usize::from(g.subject.capacity() > 0)
        + vec(g.scopes.capacity())
        + strings(&g.scopes)
        + vec(g.audience.capacity())
        + strings(&g.audience)
        + vec(g.matched_rules.capacity())
        + vec(g.controls.capacity())
}

#[test]
fn allow_allocates_only_what_the_grant_owns() {
    for n in [10, 10_000] {
        let policy = IssuancePolicy::compile(&policy_gen::policy(n)).unwrap();
        let (count, grant) = allocations(&policy, &policy_gen::allow_request(n));
        assert_eq!(grant.decision, Decision::Allow, "{grant}");
        assert_eq!(count, owned_blocks(&grant), "{n} rules: {grant}");
    }
}

#[test]
fn allocations_do_not_grow_with_rule_count() {
    let small = IssuancePolicy::compile(&policy_gen::policy(10)).unwrap();
    let large = IssuancePolicy::compile(&policy_gen::policy(10_000)).unwrap();
    type MakeRequest = fn(usize) -> MintRequest;
    let cases: [(&str, MakeRequest); 4] = [
        ("allow", policy_gen::allow_request),
        ("narrow", policy_gen::narrow_request),
        ("deny", policy_gen::deny_request),
        ("delegated", policy_gen::delegated_request),
    ];
    for (name, make) in cases {
        let (a, ga) = allocations(&small, &make(10));
        let (b, gb) = allocations(&large, &make(10_000));
        assert_eq!(ga.decision, gb.decision, "{name}: same path at both sizes");
        assert_eq!(
            ga.reasons.iter().map(|r| r.kind()).collect::<Vec<_>>(),
            gb.reasons.iter().map(|r| r.kind()).collect::<Vec<_>>(),
            "{name}: same reasons at both sizes"
        );
        assert_eq!(a, b, "{name}: {a} allocations at 10 rules, {b} at 10,000");
    }
}

/// Allocations made by one `evaluate_into` into the grant the same request
/// was last decided into (after a warm-up pair, which sizes the scratch
/// buffers and the spare-string list).
fn reuse_allocations(policy: &IssuancePolicy, req: &MintRequest) -> (usize, Grant) {
    let t = now();
    let mut grant = policy.evaluate(req, t);
    policy.evaluate_into(req, t, &mut grant);
    let count = counting::allocations(|| policy.evaluate_into(req, t, &mut grant));
    (count, grant)
}

/// The heap blocks a grant's reasons own: the only thing a reused grant
/// cannot keep (its reasons are new each decision). Counted for the kinds
/// these fixtures give; any other kind stops the test rather than count 0.
fn reason_blocks(g: &Grant) -> usize {
    g.reasons
        .iter()
        .map(|r| {
            let v = serde_json::to_value(r).unwrap();
            // A failed condition's path, expected and actual text.
            let condition = 3 * usize::from(v.get("condition").is_some_and(|c| !c.is_null()));
            match v.get("kind").and_then(|k| k.as_str()) {
                // The removed scope's name, and why.
                Some("scope_removed") => 1 + condition,
                Some("not_permitted") => condition,
                Some("ttl_clamped") => 0,
                other => panic!("count the blocks of a `{other:?}` reason"),
            }
        })
        .sum()
}

#[test]
fn evaluate_into_the_last_grant_allocates_only_its_reasons() {
    type MakeRequest = fn(usize) -> MintRequest;
    let cases: [(&str, MakeRequest, usize); 4] = [
        ("allow", policy_gen::allow_request, 0),
        ("narrow", policy_gen::narrow_request, 2),
        ("deny", policy_gen::deny_request, 3),
        ("delegated", policy_gen::delegated_request, 1),
    ];
    for n in [10, 10_000] {
        let policy = IssuancePolicy::compile(&policy_gen::policy(n)).unwrap();
        for (name, make, expected) in cases {
            let req = make(n);
            let (count, grant) = reuse_allocations(&policy, &req);
            assert_eq!(grant, policy.evaluate(&req, now()), "{name}: {grant}");
            assert_eq!(reason_blocks(&grant), expected, "{name}: {grant}");
            assert_eq!(count, expected, "{name} at {n} rules: {grant}");
        }
        let shared = IssuancePolicy::compile(&policy_gen::shared_key_policy(n)).unwrap();
        let (count, grant) = reuse_allocations(&shared, &policy_gen::shared_key_request(n));
        assert_eq!(grant.decision, Decision::Allow, "{grant}");
        assert_eq!(count, 0, "shared-key at {n} rules: {grant}");
    }
}

/// A grant reused across requests of different sizes: after a request for
/// five scopes, one for fewer is decided in the room the grant already has.
#[test]
fn evaluate_into_a_larger_grant_allocates_nothing_and_keeps_no_leftovers() {
    let n = 10_000;
    let policy = IssuancePolicy::compile(&policy_gen::policy(n)).unwrap();
    let t = now();
    let large = policy_gen::allow_request(n);
    let mut small = large.clone();
    small.scopes.truncate(2);
    let mut grant = policy.evaluate(&large, t);
    policy.evaluate_into(&large, t, &mut grant);
    let count = counting::allocations(|| policy.evaluate_into(&small, t, &mut grant));
    assert_eq!(grant, policy.evaluate(&small, t));
    assert_eq!(grant.decision, Decision::Allow, "{grant}");
    assert_eq!(grant.scopes.len(), 2, "{grant}");
    assert_eq!(count, 0, "{grant}");
    // The three strings the small request left over were dropped, not
    // kept in the thread for the next decision: a new grant allocates all
    // it owns.
    let (count, fresh) = {
        let mut fresh = None;
        let count = counting::allocations(|| fresh = Some(policy.evaluate(&large, t)));
        (count, fresh.unwrap())
    };
    assert_eq!(count, owned_blocks(&fresh), "{fresh}");
}
