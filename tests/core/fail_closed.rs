//! Fail closed: what the engine cannot decide is a deny (or, for a forbid,
//! the forbid applies) with a reason saying what was missing — never a
//! panic, never an allow. And one policy shared by many threads decides
//! exactly as it does on one.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic here is a failed test"
)]

use std::sync::{Arc, RwLock};

use chrono::{DateTime, TimeDelta, Utc};
use mintgate::{Decision, Denial, Grant, IssuancePolicy, MintRequest, Reason};
use serde_json::{Value, json};

use crate::fixtures::now;

const POLICY: &str = r#"
[policy]
id = "fail-closed"
revision = "1"
max_ttl = "1h"

[[rule]]
id = "fresh-workloads-on-the-corp-network"
when = { "identity.kind" = "workload", "identity.auth_age" = { max = "10m" }, "posture.source_ip" = { cidr = "10.0.0.0/8" }, "identity.claims.team" = "payments" }
grant = { scopes = ["pay:read", "pay:write"], audience = ["https://pay.example.org"] }

[[rule]]
id = "no-writes-unless-attested"
effect = "forbid"
when = { "posture.attested" = { not = true } }
scopes = ["*:write"]
"#;

fn policy() -> IssuancePolicy {
    IssuancePolicy::from_toml_str(POLICY).unwrap()
}

fn good() -> Value {
    json!({
        "identity": {
            "subject": "svc-pay", "kind": "workload",
            "authenticated_at": "2026-11-28T11:58:00Z",
            "claims": { "team": "payments" }
        },
        "scopes": ["pay:read", "pay:write"],
        "audience": ["https://pay.example.org"],
        "posture": { "source_ip": "10.1.2.3", "attested": true }
    })
}

fn eval(v: Value) -> Grant {
    policy().evaluate(&serde_json::from_value::<MintRequest>(v).unwrap(), now())
}

#[track_caller]
fn assert_not_permitted_because(g: &Grant, path: &str, actual: &str) {
    assert_eq!(g.decision, Decision::Deny, "{g}");
    assert_eq!(g.denial, Some(Denial::NotPermitted), "{g}");
    let Reason::NotPermitted {
        condition: Some(c), ..
    } = &g.reasons[0]
    else {
        panic!("{g}")
    };
    assert_eq!(c.path, path, "{g}");
    assert!(
        c.actual.contains(actual),
        "actual `{}` should say `{actual}`",
        c.actual
    );
}

#[test]
fn the_complete_request_is_allowed() {
    assert_eq!(eval(good()).decision, Decision::Allow);
}

#[test]
fn missing_attribute_a_permit_needs_is_a_deny_naming_it() {
    let mut r = good();
    r["identity"]["claims"] = json!({});
    assert_not_permitted_because(&eval(r), "identity.claims.team", "missing");

    let mut r = good();
    r["identity"]
        .as_object_mut()
        .unwrap()
        .remove("authenticated_at");
    assert_not_permitted_because(&eval(r), "identity.auth_age", "missing");
}

#[test]
fn malformed_address_is_a_deny_naming_it() {
    let mut r = good();
    r["posture"]["source_ip"] = json!("10.1.2.300");
    assert_not_permitted_because(&eval(r), "posture.source_ip", "cannot be compared");
}

#[test]
fn wrongly_typed_attribute_is_a_deny_naming_it() {
    let mut r = good();
    r["identity"]["claims"]["team"] = json!(42);
    assert_not_permitted_because(&eval(r), "identity.claims.team", "cannot be compared");
}

#[test]
fn authentication_in_the_future_is_a_deny() {
    let mut r = good();
    r["identity"]["authenticated_at"] = json!("2026-11-28T12:30:00Z");
    assert_not_permitted_because(&eval(r), "identity.auth_age", "in the future");
}

#[test]
fn missing_attribute_under_a_forbid_applies_the_forbid() {
    let mut r = good();
    r["posture"].as_object_mut().unwrap().remove("attested");
    let g = eval(r);
    assert_eq!(g.decision, Decision::Narrow, "{g}");
    assert_eq!(g.scopes, ["pay:read"]);
    let Reason::ScopeRemoved {
        scope,
        rule: Some(rule),
        condition: Some(c),
        ..
    } = &g.reasons[0]
    else {
        panic!("{g}")
    };
    assert_eq!(
        (scope.as_str(), &**rule),
        ("pay:write", "no-writes-unless-attested")
    );
    assert_eq!(
        (c.path.as_str(), c.actual.as_str()),
        ("posture.attested", "missing")
    );
}

#[test]
fn expired_parent_and_credential_are_denied() {
    let mut r = good();
    r["delegation"] = json!({ "subject": "user:a", "parent": { "scopes": ["pay:read"], "expires_at": "2026-11-28T12:00:00Z" } });
    let g = eval(r);
    assert_eq!(
        (g.decision, g.denial),
        (Decision::Deny, Some(Denial::Ineligible))
    );
    let mut r = good();
    r["identity"]["credential_expires_at"] = json!("2026-11-28T11:00:00Z");
    let g = eval(r);
    assert_eq!(
        (g.decision, g.denial),
        (Decision::Deny, Some(Denial::Ineligible))
    );
}

#[test]
fn time_at_the_edge_of_representable_is_a_deny_not_a_panic() {
    let req: MintRequest = serde_json::from_value(good()).unwrap();
    for at in [DateTime::<Utc>::MAX_UTC, DateTime::<Utc>::MIN_UTC] {
        let g = policy().evaluate(&req, at);
        assert_eq!(g.decision, Decision::Deny, "{g}");
    }
    let near_max = DateTime::<Utc>::MAX_UTC - TimeDelta::seconds(30);
    let mut r = good();
    r["identity"]["authenticated_at"] = json!(near_max.to_rfc3339());
    let g = policy().evaluate(&serde_json::from_value(r).unwrap(), near_max);
    assert_eq!(g.decision, Decision::Deny, "{g}");
    assert!(
        matches!(&g.reasons[0], Reason::InvalidRequest { problem } if problem.contains("overflow")),
        "{g}"
    );
}

#[test]
fn one_shared_policy_decides_the_same_on_many_threads() {
    let policy = Arc::new(policy());
    let requests: Vec<MintRequest> = (0..40)
        .map(|i| {
            let mut r = good();
            if i % 2 == 0 {
                r["posture"].as_object_mut().unwrap().remove("attested");
            }
            if i % 3 == 0 {
                r["identity"]["claims"]["team"] = json!("billing");
            }
            if i % 5 == 0 {
                r["posture"]["source_ip"] = json!("192.168.0.1");
            }
            serde_json::from_value(r).unwrap()
        })
        .collect();
    let expected: Vec<String> = requests
        .iter()
        .map(|r| policy.evaluate(r, now()).to_json())
        .collect();
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let policy = Arc::clone(&policy);
            let requests = requests.clone();
            std::thread::spawn(move || {
                (0..50)
                    .flat_map(|_| requests.iter().map(|r| policy.evaluate(r, now()).to_json()))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for t in threads {
        let got = t.join().unwrap();
        for chunk in got.chunks(requests.len()) {
            assert_eq!(chunk, expected.as_slice());
        }
    }
}

/// The hot-swap pattern from docs/security.md: readers clone the `Arc`
/// under a read lock and decide without holding it; a reload compiles the
/// new text first and swaps only if it compiles.
#[test]
fn hot_swap_keeps_the_old_policy_when_the_new_one_does_not_compile() {
    let current = RwLock::new(Arc::new(policy()));
    let reload = |text: &str| -> Result<(), mintgate::CompileError> {
        let fresh = Arc::new(IssuancePolicy::from_toml_str(text)?);
        *current.write().unwrap() = fresh;
        Ok(())
    };
    let decide = |r: &MintRequest| {
        let p = Arc::clone(&current.read().unwrap());
        p.evaluate(r, now())
    };
    let req: MintRequest = serde_json::from_value(good()).unwrap();
    assert_eq!(decide(&req).decision, Decision::Allow);
    assert!(reload("[policy]\nid = \"broken\"\n").is_err());
    assert_eq!(&*decide(&req).policy.id, "fail-closed");
    reload("[policy]\nid = \"empty\"\nrevision = \"2\"\nmax_ttl = \"1h\"\n").unwrap();
    let g = decide(&req);
    assert_eq!((&*g.policy.id, g.decision), ("empty", Decision::Deny));
}

/// An empty list is present, not missing: a condition on it is false (no
/// element matches, docs/policy-reference.md §5.5), not unknown — so a
/// forbid on it does not apply, while a missing value makes the same
/// forbid apply (fail closed). docs/security.md says how to write a policy
/// that refuses the empty list too: require an element in the permit.
#[test]
fn an_empty_list_makes_a_numeric_forbid_false_where_a_missing_value_makes_it_apply() {
    let policy = IssuancePolicy::from_toml_str(
        r#"
[policy]
id = "empty-lists"
revision = "1"
max_ttl = "1h"

[[rule]]
id = "workloads"
when = { "identity.kind" = "workload" }
grant = { scopes = ["pay:read", "pay:write"], audience = ["https://pay.example.org"] }

[[rule]]
id = "no-writes-when-risky"
effect = "forbid"
when = { "posture.risk" = { min = 70 } }
scopes = ["*:write"]

[[rule]]
id = "scored-workloads"
when = { "identity.kind" = "workload", "posture.score" = { min = 0 } }
grant = { scopes = ["ledger:read"], audience = ["https://pay.example.org"] }
"#,
    )
    .unwrap();
    let decide = |posture: Value, scopes: Value| {
        let req = json!({
            "identity": { "subject": "svc-pay", "kind": "workload" },
            "scopes": scopes,
            "audience": ["https://pay.example.org"],
            "posture": posture,
        });
        policy.evaluate(&serde_json::from_value::<MintRequest>(req).unwrap(), now())
    };
    let write = json!(["pay:write"]);
    // An empty list: the forbid's condition is false; the write is granted.
    let g = decide(json!({ "risk": [] }), write.clone());
    assert_eq!(g.decision, Decision::Allow, "{g}");
    assert_eq!(g.scopes, ["pay:write"], "{g}");
    // Missing: unknown, so the forbid applies and the write is removed.
    let g = decide(json!({}), write.clone());
    assert_eq!(g.decision, Decision::Deny, "{g}");
    assert_eq!(g.denial, Some(Denial::Forbidden), "{g}");
    // A high score in the list: the forbid applies.
    let g = decide(json!({ "risk": [10, 80] }), write);
    assert_eq!(g.denial, Some(Denial::Forbidden), "{g}");
    // A permit that requires an element refuses the empty list.
    let g = decide(json!({ "score": [] }), json!(["ledger:read"]));
    assert_eq!(g.decision, Decision::Deny, "{g}");
    assert_eq!(g.denial, Some(Denial::NotPermitted), "{g}");
    let g = decide(json!({ "score": [5] }), json!(["ledger:read"]));
    assert_eq!(g.decision, Decision::Allow, "{g}");
}
