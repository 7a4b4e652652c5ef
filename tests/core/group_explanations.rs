//! The failing condition a denial names (docs/semantics.md §4) when the
//! nearest rule's conditions are groups: inside `any`, the first member
//! (none is true); inside `not`, the member that made the group true.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a panic here is a failed test"
)]

use mintgate::{ConditionFailure, Decision, IssuancePolicy, MintRequest, Reason};
use serde_json::json;

use crate::fixtures::now;

/// One permit for `docs:read` with `when`, named `grouped`.
fn permit_when(when: &str) -> IssuancePolicy {
    IssuancePolicy::from_toml_str(&format!(
        r#"
        [policy]
        id = "groups"
        revision = "1"
        max_ttl = "10m"

        [[rule]]
        id = "grouped"
        when = {when}
        grant = {{ scopes = ["docs:read"], audience = ["https://docs.example.org"] }}
        "#
    ))
    .unwrap_or_else(|e| panic!("policy does not compile: {e}"))
}

fn request(posture: serde_json::Value) -> MintRequest {
    serde_json::from_value(json!({
        "identity": { "subject": "svc:a", "kind": "workload" },
        "scopes": ["docs:read"],
        "audience": ["https://docs.example.org"],
        "posture": posture,
    }))
    .unwrap()
}

/// The condition a deny names for its nearest rule, which must be `grouped`.
fn named_condition(policy: &IssuancePolicy, req: &MintRequest) -> Option<ConditionFailure> {
    let g = policy.evaluate(req, now());
    assert_eq!(g.decision, Decision::Deny, "grant:\n{g}");
    match g.reasons.as_slice() {
        [
            Reason::NotPermitted {
                nearest_rule,
                condition,
            },
        ] => {
            assert_eq!(nearest_rule.as_deref(), Some("grouped"), "grant:\n{g}");
            condition.clone()
        }
        other => panic!("expected one not_permitted reason, got {other:?}"),
    }
}

fn failure(path: &str, expected: &str, actual: &str) -> Option<ConditionFailure> {
    Some(ConditionFailure {
        path: path.into(),
        expected: expected.into(),
        actual: actual.into(),
    })
}

#[test]
fn a_failed_any_names_its_first_member() {
    let p = permit_when(r#"{ any = [{ "posture.env" = "prod" }, { "posture.approved" = true }] }"#);
    let got = named_condition(&p, &request(json!({ "env": "dev", "approved": false })));
    assert_eq!(got, failure("posture.env", r#""prod""#, r#""dev""#));
}

#[test]
fn a_failed_not_of_several_conditions_names_the_group_and_a_held_member_value() {
    // `not` over a table is `not (all of it)`: it fails when every member
    // holds. The explanation names the group as written, negated, and the
    // request's value for its first member (which held).
    let p = permit_when(r#"{ not = { "posture.env" = "prod", "posture.approved" = true } }"#);
    let got = named_condition(&p, &request(json!({ "env": "prod", "approved": true })));
    assert_eq!(
        got,
        failure(
            "not",
            r#"not {"posture.env":"prod","posture.approved":true}"#,
            r#""prod""#
        )
    );
}
