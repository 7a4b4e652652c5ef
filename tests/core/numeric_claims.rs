//! Numbers on open attributes (docs/policy-reference.md §5.5): a condition is
//! typed by its literal. A number (or a list of numbers) tests number
//! equality / one of, and only a request *number* can decide it — a string of
//! the same digits is unknown, which stops a permit and triggers a forbid. A
//! string literal is the reverse. Bounds (`min` / `max`) include their ends.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic here is a failed test"
)]

use mintgate::{Decision, Denial, Grant, IssuancePolicy, MintRequest};
use serde_json::{Value, json};

use crate::fixtures::now;

fn policy(toml: &str) -> IssuancePolicy {
    IssuancePolicy::from_toml_str(toml).unwrap_or_else(|e| panic!("policy does not compile: {e}"))
}

/// A permit for `docs:read` whose only condition is `path = when`.
fn permit_when(path: &str, when: &str) -> IssuancePolicy {
    policy(&format!(
        r#"
        [policy]
        id = "numbers"
        revision = "1"
        max_ttl = "10m"

        [[rule]]
        id = "numeric"
        when = {{ "{path}" = {when} }}
        grant = {{ scopes = ["docs:read"], audience = ["https://docs.example.org"], claims = ["attempt"] }}
        "#
    ))
}

/// A request for `docs:read` holding `v` (absent for `None`) in every
/// open-attribute family: identity claim `run_attempt`, posture `tier`,
/// purpose attribute `risk` and extra claim `attempt`.
fn with_claim(v: Option<Value>) -> MintRequest {
    let mut req = json!({
        "identity": { "subject": "ci:build", "kind": "ci_job" },
        "scopes": ["docs:read"],
        "audience": ["https://docs.example.org"],
        "purpose": { "name": "build" },
    });
    if let Some(v) = v {
        req["identity"]["claims"] = json!({ "run_attempt": v });
        req["posture"] = json!({ "tier": v });
        req["purpose"]["attributes"] = json!({ "risk": v });
        req["claims"] = json!({ "attempt": v });
    }
    serde_json::from_value(req).unwrap()
}

#[track_caller]
fn assert_allowed(g: &Grant, what: &str) {
    assert_eq!(g.decision, Decision::Allow, "{what}: grant:\n{g}");
    assert_eq!(g.scopes, ["docs:read"], "{what}: grant:\n{g}");
    assert_eq!(
        g.audience,
        ["https://docs.example.org"],
        "{what}: grant:\n{g}"
    );
    assert_eq!(g.ttl.map(|t| t.as_secs()), Some(600), "{what}: grant:\n{g}");
}

#[track_caller]
fn assert_not_permitted(g: &Grant, what: &str) {
    assert_eq!(g.decision, Decision::Deny, "{what}: grant:\n{g}");
    assert_eq!(g.denial, Some(Denial::NotPermitted), "{what}: grant:\n{g}");
    assert!(g.matched_rules.is_empty(), "{what}: grant:\n{g}");
}

/// Every open-attribute family, holding the same request value.
const OPEN_PATHS: [&str; 4] = [
    "identity.claims.run_attempt",
    "posture.tier",
    "purpose.attributes.risk",
    "request.claims.attempt",
];

/// Decide `path = when` for each value, asserting allow for `allowed` and
/// not-permitted for `denied`, on every open-attribute family.
#[track_caller]
fn check(when: &str, allowed: &[Value], denied: &[Option<Value>]) {
    for path in OPEN_PATHS {
        let p = permit_when(path, when);
        for v in allowed {
            let what = format!("{path} = {when} on {v}");
            assert_allowed(&p.evaluate(&with_claim(Some(v.clone())), now()), &what);
        }
        for v in denied {
            let what = format!("{path} = {when} on {v:?}");
            assert_not_permitted(&p.evaluate(&with_claim(v.clone()), now()), &what);
        }
    }
}

#[test]
fn a_number_literal_on_an_open_attribute_allows_only_that_number() {
    check(
        "1",
        &[json!(1), json!(1.0), json!([4, 1])],
        &[
            Some(json!(2)),
            Some(json!(0)),
            Some(json!(1.5)),
            Some(json!(-1)),
            Some(json!([2, 3])),
        ],
    );
}

#[test]
fn a_list_of_numbers_on_an_open_attribute_allows_each_listed_number_and_no_other() {
    check(
        "[1, 3]",
        &[json!(1), json!(3), json!([2, 3])],
        &[
            Some(json!(2)),
            Some(json!(4)),
            Some(json!(0)),
            Some(json!([])),
        ],
    );
    check("{ in = [2, 7] }", &[json!(7)], &[Some(json!(3))]);
    check("{ eq = 2 }", &[json!(2)], &[Some(json!(3))]);
}

#[test]
fn a_number_literal_is_unknown_on_a_string_of_the_same_digits() {
    check(
        "1",
        &[],
        &[
            Some(json!("1")),
            Some(json!("1.0")),
            Some(json!(true)),
            None,
        ],
    );
    check("[1, 3]", &[], &[Some(json!("3")), Some(json!(["1"]))]);
}

#[test]
fn a_string_literal_on_an_open_attribute_never_equals_a_number() {
    check(
        r#""1""#,
        &[json!("1"), json!(["x", "1"])],
        &[Some(json!(1)), Some(json!("01")), Some(json!(1.0))],
    );
    check(
        r#"["1", "3"]"#,
        &[json!("3")],
        &[Some(json!(3)), Some(json!("2"))],
    );
}

#[test]
fn numeric_bounds_on_an_open_attribute_include_their_ends() {
    check(
        "{ min = 2, max = 3 }",
        &[json!(2), json!(3), json!(2.5), json!([0, 3])],
        &[
            Some(json!(1.99)),
            Some(json!(3.01)),
            Some(json!("2")),
            Some(json!([1, 1.5])),
            Some(json!([3.5, 4])),
        ],
    );
    // Each operator is its own condition, element-wise: `[1, 4]` has an
    // element ≥ 2 and an element ≤ 3.
    check("{ min = 2, max = 3 }", &[json!([1, 4])], &[]);
    check(
        "{ max = 2, not = 1 }",
        &[json!(2), json!(0)],
        &[Some(json!(1)), Some(json!(3))],
    );
}

#[test]
fn delegation_depth_equality_allows_only_the_listed_depths() {
    let p = permit_when("delegation.depth", "[0, 2]");
    // The depth is the prior actors + 1 with a delegation, 0 without.
    let req = |actors: Option<usize>| -> MintRequest {
        let mut r = json!({
            "identity": { "subject": "agent:a", "kind": "agent" },
            "scopes": ["docs:read"],
            "audience": ["https://docs.example.org"],
        });
        if let Some(n) = actors {
            let actors: Vec<Value> = (0..n)
                .map(|i| json!({ "subject": format!("gw:{i}") }))
                .collect();
            r["delegation"] = json!({ "subject": "user:alice", "actors": actors });
        }
        serde_json::from_value(r).unwrap()
    };
    assert_allowed(&p.evaluate(&req(None), now()), "depth 0");
    assert_not_permitted(&p.evaluate(&req(Some(0)), now()), "depth 1");
    assert_allowed(&p.evaluate(&req(Some(1)), now()), "depth 2");
    assert_not_permitted(&p.evaluate(&req(Some(2)), now()), "depth 3");
}

/// A forbid on a number: it removes `docs:write` when the claim is that
/// number *or cannot be compared* (a string, a missing claim), and never
/// for another number.
#[test]
fn a_numeric_forbid_applies_on_its_number_and_on_undecidable_values_only() {
    let p = policy(
        r#"
        [policy]
        id = "numeric-forbid"
        revision = "1"
        max_ttl = "10m"

        [[rule]]
        id = "ci"
        when = { "identity.kind" = "ci_job" }
        grant = { scopes = ["docs:read", "docs:write"], audience = ["https://docs.example.org"], claims = ["attempt"] }

        [[rule]]
        id = "no-writes-on-retry"
        effect = "forbid"
        when = { "identity.claims.run_attempt" = [2, 3] }
        scopes = ["docs:write"]
        "#,
    );
    let decide = |v: Option<Value>| {
        let mut r = with_claim(v);
        r.scopes.push("docs:write".into());
        p.evaluate(&r, now())
    };
    for v in [Some(json!(2)), Some(json!(3)), Some(json!("1")), None] {
        let g = decide(v.clone());
        assert_eq!(g.decision, Decision::Narrow, "{v:?}: grant:\n{g}");
        assert_eq!(g.scopes, ["docs:read"], "{v:?}: grant:\n{g}");
    }
    for v in [json!(1), json!(4), json!(2.5)] {
        let g = decide(Some(v.clone()));
        assert_eq!(g.decision, Decision::Allow, "{v}: grant:\n{g}");
        assert_eq!(g.scopes, ["docs:read", "docs:write"], "{v}: grant:\n{g}");
    }
}
