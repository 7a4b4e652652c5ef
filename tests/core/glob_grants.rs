//! A glob in a permit's grant permits exactly the concrete names it matches
//! (docs/policy-reference.md, `grant.scopes`), however many names the
//! policy knows: compile resolves each glob against the interned names once,
//! and two globs never share their matches.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a panic here is a failed test"
)]

use mintgate::{Decision, IssuancePolicy, MintRequest, PolicyDocument};
use serde_json::json;

use crate::fixtures::now;

/// 70 `alpha:N` and 70 `beta:N` scopes named by a rule no request meets; a
/// permit of `alpha:*` for `svc:alpha` and of `beta:*` for `svc:beta`.
fn two_families() -> IssuancePolicy {
    let names: Vec<String> = (0..70)
        .flat_map(|i| [format!("alpha:{i}"), format!("beta:{i}")])
        .collect();
    let rule = |id: &str, subject: &str, scopes: serde_json::Value| {
        json!({
            "id": id,
            "when": { "identity.subject": subject },
            "grant": { "scopes": scopes, "audience": ["https://api.example.org"] },
        })
    };
    let doc: PolicyDocument = serde_json::from_value(json!({
        "policy": { "id": "globs", "revision": "1", "max_ttl": "10m" },
        "rule": [
            rule("names", "nobody", json!(names)),
            rule("alpha", "svc:alpha", json!(["alpha:*"])),
            rule("beta", "svc:beta", json!(["beta:*"])),
        ],
    }))
    .unwrap();
    IssuancePolicy::compile(&doc).unwrap_or_else(|e| panic!("policy does not compile: {e}"))
}

fn decide(policy: &IssuancePolicy, subject: &str, scope: &str) -> Decision {
    let request: MintRequest = serde_json::from_value(json!({
        "identity": { "subject": subject, "kind": "workload" },
        "scopes": [scope],
        "audience": ["https://api.example.org"],
    }))
    .unwrap();
    policy.evaluate(&request, now()).decision
}

#[test]
fn each_glob_permits_its_own_family_among_many_known_names() {
    let policy = two_families();
    for i in [0, 5, 69] {
        assert_eq!(
            decide(&policy, "svc:alpha", &format!("alpha:{i}")),
            Decision::Allow
        );
        assert_eq!(
            decide(&policy, "svc:beta", &format!("beta:{i}")),
            Decision::Allow
        );
        assert_eq!(
            decide(&policy, "svc:alpha", &format!("beta:{i}")),
            Decision::Deny
        );
        assert_eq!(
            decide(&policy, "svc:beta", &format!("alpha:{i}")),
            Decision::Deny
        );
    }
}
