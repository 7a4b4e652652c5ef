//! `glob` and `regex` on an attribute that is a list of strings
//! (docs/policy-reference.md, the operator table): the condition holds when
//! any element matches, and is false when none does.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a panic here is a failed test"
)]

use mintgate::{Decision, IssuancePolicy, MintRequest};
use serde_json::json;

use crate::fixtures::now;

/// A permit for `docs:read` and `docs:list` whose only condition is on the
/// requested scopes: `op = pattern`.
fn permit_on_scopes(op: &str, pattern: &str) -> IssuancePolicy {
    IssuancePolicy::from_toml_str(&format!(
        r#"
        [policy]
        id = "lists"
        revision = "1"
        max_ttl = "10m"

        [[rule]]
        id = "listed"
        when = {{ "request.scopes" = {{ {op} = "{pattern}" }} }}
        grant = {{ scopes = ["docs:read", "docs:list"], audience = ["https://docs.example.org"] }}
        "#
    ))
    .unwrap_or_else(|e| panic!("policy does not compile: {e}"))
}

fn decide(policy: &IssuancePolicy, scopes: &[&str]) -> Decision {
    let request: MintRequest = serde_json::from_value(json!({
        "identity": { "subject": "svc:a", "kind": "workload" },
        "scopes": scopes,
        "audience": ["https://docs.example.org"],
    }))
    .unwrap();
    policy.evaluate(&request, now()).decision
}

#[test]
fn a_glob_on_a_list_holds_when_any_element_matches() {
    let policy = permit_on_scopes("glob", "*:list");
    assert_eq!(
        decide(&policy, &["docs:read", "docs:list"]),
        Decision::Allow
    );
    assert_eq!(decide(&policy, &["docs:list"]), Decision::Allow);
    assert_eq!(decide(&policy, &["docs:read"]), Decision::Deny);
}

#[test]
fn a_regex_on_a_list_holds_when_any_element_matches() {
    let policy = permit_on_scopes("regex", "docs:(list|index)");
    assert_eq!(
        decide(&policy, &["docs:read", "docs:list"]),
        Decision::Allow
    );
    assert_eq!(decide(&policy, &["docs:read"]), Decision::Deny);
}
