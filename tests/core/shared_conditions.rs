//! Conditions several rules share are evaluated once per decision and
//! remembered (docs/performance.md, "Sixth pass"): each rule must still be
//! decided as if its conditions were evaluated for it alone — true, false
//! and unknown alike, and never another condition's result.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic here is a failed test"
)]

use mintgate::{Decision, IssuancePolicy, MintRequest, Reason, ScopeCause};
use serde_json::json;

use crate::fixtures::now;

fn decide(policy: &str, req: serde_json::Value) -> mintgate::Grant {
    let policy = IssuancePolicy::from_toml_str(policy).unwrap();
    let req: MintRequest = serde_json::from_value(req).unwrap();
    policy.evaluate(&req, now())
}

/// Two conditions whose texts agree on more than the excerpt length (120
/// characters) and differ after it: their explanations read the same, but
/// they are different tests, and the first one's result must not be
/// reused for the second.
#[test]
fn conditions_cut_to_the_same_excerpt_are_decided_apart() {
    let head = "x".repeat(150);
    let policy = format!(
        r#"
[policy]
id = "long-globs"
revision = "1"
max_ttl = "1h"

[[rule]]
id = "first"
when = {{ "identity.claims.build" = {{ glob = "{head}-1-*" }} }}
grant = {{ scopes = ["a:read"], audience = ["https://a.example.org"] }}

[[rule]]
id = "second"
when = {{ "identity.claims.build" = {{ glob = "{head}-2-*" }} }}
grant = {{ scopes = ["b:read"], audience = ["https://a.example.org"] }}
"#
    );
    for (build, granted, removed) in [("1", "a:read", "b:read"), ("2", "b:read", "a:read")] {
        let g = decide(
            &policy,
            json!({
                "identity": { "subject": "ci", "kind": "ci_job", "claims": { "build": format!("{head}-{build}-7") } },
                "scopes": ["a:read", "b:read"],
                "audience": ["https://a.example.org"],
                "ttl": "10m",
            }),
        );
        assert_eq!(g.decision, Decision::Narrow, "{g}");
        assert_eq!(g.scopes, [granted], "{g}");
        assert_eq!(g.audience, ["https://a.example.org"], "{g}");
        assert_eq!(g.ttl.map(|t| t.as_secs()), Some(600), "{g}");
        let Reason::ScopeRemoved {
            scope,
            cause: ScopeCause::NotPermitted,
            ..
        } = &g.reasons[0]
        else {
            panic!("{g}")
        };
        assert_eq!(scope, removed, "{g}");
        assert_eq!(g.reasons.len(), 1, "{g}");
    }
}

const SHARED: &str = r#"
[policy]
id = "shared"
revision = "1"
max_ttl = "1h"

[[rule]]
id = "attested-reads"
when = { "identity.kind" = "workload", "posture.attested" = true }
grant = { scopes = ["pay:read"], audience = ["https://pay.example.org"] }

[[rule]]
id = "attested-writes"
when = { "identity.kind" = "workload", "posture.attested" = true, "identity.claims.team" = "payments" }
grant = { scopes = ["pay:write"], audience = ["https://pay.example.org"] }

[[rule]]
id = "forbid-admin-on-attested"
effect = "forbid"
when = { "identity.kind" = "workload", "posture.attested" = true }
scopes = ["*:admin"]

[[rule]]
id = "admin"
when = { "identity.kind" = "workload" }
grant = { scopes = ["pay:admin"], audience = ["https://pay.example.org"] }
"#;

fn shared(posture: serde_json::Value, team: &str) -> mintgate::Grant {
    decide(
        SHARED,
        json!({
            "identity": { "subject": "svc", "kind": "workload", "claims": { "team": team } },
            "scopes": ["pay:read", "pay:write", "pay:admin"],
            "audience": ["https://pay.example.org"],
            "ttl": "10m",
            "posture": posture,
        }),
    )
}

/// `posture.attested = true` is written in three rules: true for all of
/// them, the two permits apply and so does the forbid.
#[test]
fn a_shared_condition_that_holds_holds_for_every_rule_writing_it() {
    let g = shared(json!({ "attested": true }), "payments");
    assert_eq!(g.decision, Decision::Narrow, "{g}");
    assert_eq!(g.scopes, ["pay:read", "pay:write"], "{g}");
    assert_eq!(
        g.matched_rules,
        [
            "attested-reads",
            "attested-writes",
            "forbid-admin-on-attested",
            "admin"
        ],
        "{g}"
    );
    let Reason::ScopeRemoved {
        scope, cause, rule, ..
    } = &g.reasons[0]
    else {
        panic!("{g}")
    };
    assert_eq!(
        (scope.as_str(), *cause, rule.as_deref()),
        (
            "pay:admin",
            ScopeCause::Forbidden,
            Some("forbid-admin-on-attested")
        )
    );
}

/// Unknown (the attribute is missing) is remembered as unknown, not as
/// false: neither permit on it applies, and the forbid on it does (fail
/// closed), naming the missing value.
#[test]
fn a_shared_condition_that_is_unknown_stays_unknown_for_every_rule() {
    let g = shared(json!({}), "payments");
    assert_eq!(g.decision, Decision::Deny, "{g}");
    assert!(g.scopes.is_empty(), "{g}");
    let removed: Vec<(&str, ScopeCause, Option<&str>)> = g
        .reasons
        .iter()
        .filter_map(|r| match r {
            Reason::ScopeRemoved {
                scope, cause, rule, ..
            } => Some((scope.as_str(), *cause, rule.as_deref())),
            _ => None,
        })
        .collect();
    assert_eq!(
        removed,
        [
            ("pay:read", ScopeCause::NotPermitted, Some("attested-reads")),
            (
                "pay:write",
                ScopeCause::NotPermitted,
                Some("attested-writes")
            ),
            (
                "pay:admin",
                ScopeCause::Forbidden,
                Some("forbid-admin-on-attested")
            ),
        ],
        "{g}"
    );
}

/// False is remembered as false: no permit on it, and the forbid does not
/// apply, so the admin scope is granted.
#[test]
fn a_shared_condition_that_fails_fails_for_every_rule_writing_it() {
    let g = shared(json!({ "attested": false }), "payments");
    assert_eq!(g.decision, Decision::Narrow, "{g}");
    assert_eq!(g.scopes, ["pay:admin"], "{g}");
    assert_eq!(g.matched_rules, ["admin"], "{g}");
    assert_eq!(g.reasons.len(), 2, "{g}");
}
