//! Decisions with many matching permits — more than 64 and more than 128 —
//! and grants of more than 64 scopes (docs/semantics.md §2 steps 7–11). The
//! engine tracks which matching permits grant each scope and match each
//! audience; these tests put the permit that decides past the 64th and the
//! 128th position, so every scope, audience, deciding-rule, control and
//! lifetime answer depends on permits far down the list.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic here is a failed test"
)]

use mintgate::{
    AudienceCause, Decision, Grant, IssuancePolicy, MintRequest, Reason, ScopeCause, TtlCap,
};
use serde_json::json;

use crate::fixtures::now;

const A: &str = "https://a.example.org";

/// A policy with `max_ttl = "24h"` and one permit per `(scopes, audiences,
/// max_ttl minutes, controls)`, each matching every agent; permit `i` has id
/// `p{i}`.
fn wide(
    permits: impl IntoIterator<Item = (Vec<String>, Vec<String>, Option<u64>, Vec<String>)>,
) -> IssuancePolicy {
    let rules: Vec<_> = permits
        .into_iter()
        .enumerate()
        .map(|(i, (scopes, audience, ttl, controls))| {
            let mut grant = json!({ "scopes": scopes, "audience": audience });
            if let Some(m) = ttl {
                grant["max_ttl"] = json!(format!("{m}m"));
            }
            let mut r = json!({ "id": format!("p{i}"), "when": { "identity.kind": "agent" }, "grant": grant });
            if !controls.is_empty() {
                r["controls"] = json!(controls);
            }
            r
        })
        .collect();
    let doc = json!({
        "policy": { "id": "wide", "revision": "1", "max_ttl": "24h" },
        "rule": rules,
    });
    IssuancePolicy::from_json_str(&doc.to_string())
        .unwrap_or_else(|e| panic!("policy does not compile: {e}"))
}

fn request(scopes: &[&str], audience: &[&str], ttl: Option<&str>) -> MintRequest {
    let mut r = json!({
        "identity": { "subject": "agent:a", "kind": "agent" },
        "scopes": scopes,
        "audience": audience,
    });
    if let Some(t) = ttl {
        r["ttl"] = json!(t);
    }
    serde_json::from_value(r).unwrap()
}

fn strings<T: AsRef<str>>(items: &[T]) -> Vec<&str> {
    items.iter().map(AsRef::as_ref).collect()
}

fn v(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[track_caller]
fn assert_clamped_by(g: &Grant, minutes: u64, rule: &str) {
    assert_eq!(
        g.ttl.map(|t| t.as_secs()),
        Some(minutes * 60),
        "ttl; grant:\n{g}"
    );
    let clamp = g.reasons.iter().find_map(|r| match r {
        Reason::TtlClamped { cap, rule, .. } => Some((*cap, rule.as_deref().map(str::to_owned))),
        _ => None,
    });
    assert_eq!(
        clamp,
        Some((TtlCap::Rule, Some(rule.to_owned()))),
        "grant:\n{g}"
    );
}

/// Permit `i` grants only `s:{i}` to `A`, capped at `i + 1` minutes, with
/// control `C-{i}`.
fn one_scope_each(n: usize) -> IssuancePolicy {
    wide((0..n).map(|i| {
        (
            vec![format!("s:{i}")],
            v(&[A]),
            Some(i as u64 + 1),
            vec![format!("C-{i}")],
        )
    }))
}

#[test]
fn scopes_granted_only_by_permits_past_the_64th_and_128th_are_granted_by_them() {
    let p = one_scope_each(150);
    for (scopes, cap, rule, controls) in [
        (["s:70", "s:140"], 71, "p70", ["C-70", "C-140"]),
        (["s:64", "s:128"], 65, "p64", ["C-64", "C-128"]),
        (["s:63", "s:149"], 64, "p63", ["C-63", "C-149"]),
        (["s:127", "s:129"], 128, "p127", ["C-127", "C-129"]),
    ] {
        let g = p.evaluate(&request(&scopes, &[A], Some("12h")), now());
        assert_eq!(g.decision, Decision::Narrow, "grant:\n{g}");
        assert_eq!(g.scopes, scopes, "grant:\n{g}");
        assert_eq!(g.audience, [A], "grant:\n{g}");
        assert_clamped_by(&g, cap, rule);
        assert_eq!(
            strings(&g.reasons.iter().map(Reason::kind).collect::<Vec<_>>()),
            ["ttl_clamped"]
        );
        // Only the permits granting a granted scope decided.
        assert_eq!(strings(&g.controls), controls, "grant:\n{g}");
        assert_eq!(g.matched_rules.len(), 150, "grant:\n{g}");
    }
    // A scope nobody grants is still removed among 150 matching permits.
    let g = p.evaluate(&request(&["s:140", "s:150"], &[A], None), now());
    assert_eq!(g.scopes, ["s:140"], "grant:\n{g}");
    assert!(matches!(
        &g.reasons[0],
        Reason::ScopeRemoved { scope, cause: ScopeCause::NotPermitted, .. } if scope == "s:150"
    ));
}

/// Permits 0–63 grant `x:read` to another audience with a one-minute cap;
/// permits 64–129 grant it to `A` with caps of 1…66 minutes. The lifetime of
/// (`x:read`, `A`) is the most generous cap among the permits allowing that
/// pair: the last one's, at position 129.
#[test]
fn a_pair_allowed_only_by_permits_past_the_64th_takes_their_most_generous_cap() {
    let p = wide((0..130).map(|i| {
        if i < 64 {
            (
                v(&["x:read"]),
                v(&["https://b.example.org"]),
                Some(1),
                vec![],
            )
        } else {
            (
                v(&["x:read"]),
                v(&[A]),
                Some(i as u64 - 63),
                vec![format!("C-{i}")],
            )
        }
    }));
    let g = p.evaluate(&request(&["x:read"], &[A], Some("12h")), now());
    assert_eq!(g.decision, Decision::Narrow, "grant:\n{g}");
    assert_eq!(g.scopes, ["x:read"]);
    assert_eq!(g.audience, [A]);
    assert_clamped_by(&g, 66, "p129");
    // Every permit allowing the pair decided; none of the others did.
    let expected: Vec<String> = (64..130).map(|i| format!("C-{i}")).collect();
    assert_eq!(
        g.controls.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
        expected
    );
    // For the other audience, the first 64 decide, with their one minute.
    let g = p.evaluate(
        &request(&["x:read"], &["https://b.example.org"], Some("12h")),
        now(),
    );
    assert_clamped_by(&g, 1, "p0");
    assert!(g.controls.is_empty(), "grant:\n{g}");
}

/// Permits 0–99 grant `c:read` each to its own audience; permit 100 grants
/// `c:read`, `x:1` and `x:2` to `best`; permit 101 grants `x:1` to its own.
fn audiences_policy() -> IssuancePolicy {
    wide((0..102).map(|i| match i {
        100 => (
            v(&["c:read", "x:1", "x:2"]),
            v(&["https://best.example.org"]),
            None,
            vec![],
        ),
        101 => (
            v(&["x:1"]),
            vec![format!("https://a{i}.example.org")],
            None,
            vec![],
        ),
        _ => (
            v(&["c:read"]),
            vec![format!("https://a{i}.example.org")],
            None,
            vec![],
        ),
    }))
}

#[test]
fn a_missing_audience_comes_from_the_permit_past_the_64th_carrying_the_most_scopes() {
    let p = audiences_policy();
    let g = p.evaluate(&request(&["c:read", "x:1", "x:2"], &[], None), now());
    assert_eq!(g.decision, Decision::Narrow, "grant:\n{g}");
    assert_eq!(g.scopes, ["c:read", "x:1", "x:2"]);
    assert_eq!(g.audience, ["https://best.example.org"]);
    assert!(
        matches!(
            &g.reasons[..],
            [Reason::AudienceNarrowed { rule, .. }] if &**rule == "p100"
        ),
        "grant:\n{g}"
    );
    // A wildcard audience is narrowed the same way.
    let g = p.evaluate(
        &request(&["c:read", "x:1"], &["https://*.example.org"], None),
        now(),
    );
    assert_eq!(g.audience, ["https://best.example.org"], "grant:\n{g}");
    assert_eq!(g.scopes, ["c:read", "x:1"], "grant:\n{g}");
}

#[test]
fn later_audiences_are_judged_by_permits_past_the_64th() {
    let p = audiences_policy();
    // `a70` cannot carry `x:1`, which the primary can: removed.
    let g = p.evaluate(
        &request(
            &["c:read", "x:1"],
            &["https://best.example.org", "https://a70.example.org"],
            None,
        ),
        now(),
    );
    assert_eq!(g.decision, Decision::Narrow, "grant:\n{g}");
    assert_eq!(g.scopes, ["c:read", "x:1"]);
    assert_eq!(g.audience, ["https://best.example.org"]);
    assert!(
        matches!(
            &g.reasons[..],
            [Reason::AudienceRemoved { audience, cause: AudienceCause::CannotCarryScopes }]
                if audience == "https://a70.example.org"
        ),
        "grant:\n{g}"
    );
    // Primary `a70`: `x:1` goes (not for that audience); `a71` carries
    // what is left and stays.
    let g = p.evaluate(
        &request(
            &["c:read", "x:1"],
            &["https://a70.example.org", "https://a71.example.org"],
            None,
        ),
        now(),
    );
    assert_eq!(g.decision, Decision::Narrow, "grant:\n{g}");
    assert_eq!(g.scopes, ["c:read"]);
    assert_eq!(
        g.audience,
        ["https://a70.example.org", "https://a71.example.org"]
    );
    assert!(
        matches!(
            &g.reasons[..],
            [Reason::ScopeRemoved { scope, cause: ScopeCause::NotForAudience, .. }] if scope == "x:1"
        ),
        "grant:\n{g}"
    );
    // Primary `a101` (only `x:1`), later `a99` (only `c:read`): `c:read`
    // goes, and `a99` cannot carry `x:1`.
    let g = p.evaluate(
        &request(
            &["c:read", "x:1"],
            &["https://a101.example.org", "https://a99.example.org"],
            None,
        ),
        now(),
    );
    assert_eq!(g.scopes, ["x:1"], "grant:\n{g}");
    assert_eq!(g.audience, ["https://a101.example.org"], "grant:\n{g}");
}

/// A wildcard request answered by 100 permits, one exact scope each: more
/// than 64 scopes, each with its own permit; the lifetime is the smallest
/// pair cap, which is the last permit's.
#[test]
fn a_wildcard_request_is_granted_more_than_64_scopes_each_by_its_own_permit() {
    let p = wide((0..100).map(|i| {
        (
            vec![format!("bulk:{i:03}")],
            v(&[A]),
            Some(200 - i as u64),
            vec![format!("C-{i}")],
        )
    }));
    let g = p.evaluate(&request(&["bulk:*"], &[A], Some("12h")), now());
    let expected: Vec<String> = (0..100).map(|i| format!("bulk:{i:03}")).collect();
    assert_eq!(g.decision, Decision::Narrow, "grant:\n{g}");
    assert_eq!(g.scopes, expected);
    assert_eq!(g.audience, [A]);
    assert_clamped_by(&g, 101, "p99");
    assert_eq!(g.controls.len(), 100, "grant:\n{g}");
    assert!(matches!(&g.reasons[0], Reason::ScopeExpanded { granted, .. } if granted.len() == 100));
    // Concrete scopes next to the wildcard: still each by its own permit.
    let g = p.evaluate(&request(&["bulk:099", "bulk:*"], &[A], Some("12h")), now());
    assert_eq!(g.scopes.len(), 100, "grant:\n{g}");
    assert_eq!(g.scopes[0], "bulk:099");
    assert_clamped_by(&g, 101, "p99");
}

/// One permit listing 300 exact scopes: a wildcard request gets the first
/// 256 (`Limits::max_granted_scopes`), in the permit's order.
#[test]
fn a_wildcard_request_is_granted_at_most_the_granted_scope_limit() {
    let all: Vec<String> = (0..300).map(|i| format!("bulk:{i:03}")).collect();
    let p = wide([(all.clone(), v(&[A]), None, vec![])]);
    let g = p.evaluate(&request(&["bulk:*"], &[A], None), now());
    assert_eq!(g.scopes, all[..256], "grant:\n{g}");
    assert_eq!(g.decision, Decision::Narrow, "grant:\n{g}");
}
