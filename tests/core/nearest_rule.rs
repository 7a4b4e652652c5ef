//! The nearest rule of a removed scope (docs/semantics.md §4): looked for
//! among the rules the request's index buckets hold *and* the permits that
//! grant the scope — by its exact name or by a glob — even when the index
//! never led the request to them. A caller denied `docs:write` is told which
//! rule grants it and the condition it missed.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a panic here is a failed test"
)]

use mintgate::{ConditionFailure, Decision, IssuancePolicy, MintRequest, Reason, ScopeCause};
use serde_json::json;

use crate::fixtures::now;

/// `reader` grants `docs:read` to `svc:reader`; `writers` grants the
/// scope `grant` (a name or a glob) to `svc:writer` only, so the index files
/// it under that subject, a bucket a request of `svc:reader` never visits.
fn policy(grant: &str) -> IssuancePolicy {
    IssuancePolicy::from_toml_str(&format!(
        r#"
        [policy]
        id = "nearest"
        revision = "1"
        max_ttl = "10m"

        [[rule]]
        id = "reader"
        when = {{ "identity.subject" = "svc:reader" }}
        grant = {{ scopes = ["docs:read"], audience = ["https://docs.example.org"] }}

        [[rule]]
        id = "writers"
        when = {{ "identity.subject" = "svc:writer" }}
        grant = {{ scopes = ["{grant}"], audience = ["https://docs.example.org"] }}
        "#
    ))
    .unwrap_or_else(|e| panic!("policy does not compile: {e}"))
}

fn reader_asking_for_write() -> MintRequest {
    serde_json::from_value(json!({
        "identity": { "subject": "svc:reader", "kind": "workload" },
        "scopes": ["docs:read", "docs:write"],
        "audience": ["https://docs.example.org"],
    }))
    .unwrap()
}

/// `docs:write` removed, naming `writers` and its subject condition.
#[track_caller]
fn assert_write_removed_naming_writers(policy: &IssuancePolicy) {
    let g = policy.evaluate(&reader_asking_for_write(), now());
    assert_eq!(g.decision, Decision::Narrow, "{g}");
    assert_eq!(g.scopes, ["docs:read"], "{g}");
    assert_eq!(
        g.reasons,
        [Reason::ScopeRemoved {
            scope: "docs:write".into(),
            cause: ScopeCause::NotPermitted,
            rule: Some("writers".into()),
            condition: Some(ConditionFailure {
                path: "identity.subject".into(),
                expected: "\"svc:writer\"".into(),
                actual: "\"svc:reader\"".into(),
            }),
            purpose: None,
        }],
        "{g}"
    );
}

#[test]
fn a_removed_scope_names_the_rule_granting_it_by_name_outside_the_requests_buckets() {
    assert_write_removed_naming_writers(&policy("docs:write"));
}

#[test]
fn a_removed_scope_names_the_rule_granting_it_by_glob_outside_the_requests_buckets() {
    assert_write_removed_naming_writers(&policy("docs:*"));
}

#[test]
fn a_rule_granting_a_glob_of_another_family_is_not_named() {
    let g = policy("repo:*").evaluate(&reader_asking_for_write(), now());
    assert_eq!(g.scopes, ["docs:read"], "{g}");
    let [Reason::ScopeRemoved { scope, rule, .. }] = &g.reasons[..] else {
        panic!("{g}")
    };
    assert_eq!((&**scope, rule.as_deref()), ("docs:write", None), "{g}");
}
