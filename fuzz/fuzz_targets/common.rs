//! Policies the request targets evaluate against.
#![allow(dead_code)]

use chrono::{DateTime, Utc};
use mintgate::IssuancePolicy;

pub fn now() -> DateTime<Utc> {
    "2026-11-28T12:00:00Z".parse().expect("fixed time")
}

const OWN: &str = r#"
[policy]
id = "fuzz-a"
revision = "1"
default_ttl = "15m"
max_ttl = "1h"
on_excess = "narrow"
[downgrade]
"docs:write" = "docs:read"
"docs:admin" = "docs:write"
[[rule]]
id = "agents"
when = { "identity.kind" = "agent", "identity.subject" = { glob = "spiffe://prod/**" }, "posture.source_ip" = { cidr = "10.0.0.0/8" } }
grant = { scopes = ["docs:*", "mail:read"], audience = ["https://docs", "https://mail"], max_ttl = "10m" }
[[rule]]
id = "workloads"
when = { any = [ { "identity.claims.tier" = { min = 2 } }, { "identity.auth_age" = { max = "5m" } } ], "delegation.depth" = { max = 2 } }
grant = { scopes = ["docs:read", "inv:read", "inv:write"], audience = ["https://inv", "https://docs"], claims = ["tenant"] }
[[rule]]
id = "no-admin-offsite"
effect = "forbid"
when = { "posture.site" = { not = "hq" } }
scopes = ["docs:admin", "inv:write"]
[[rule]]
id = "no-bad"
effect = "forbid"
when = { "identity.claims.bad" = true }
"#;

const PURPOSES: &str = r#"
[policy]
id = "fuzz-b"
revision = "1"
max_ttl = "30m"
min_ttl = "30s"
on_excess = "deny"
enforce_lifecycle = false
[purposes.read]
scopes = ["a:read", "b:*"]
max_ttl = "5m"
[purposes.write]
scopes = ["a:write", "a:read"]
requires = { "purpose.ticket" = { regex = "CHG-[0-9]{1,6}" } }
[downgrade]
"a:write" = "a:read"
[[rule]]
id = "r1"
when = { "identity.subject" = { glob = "svc-*" }, "request.time" = { hours = "08:00-18:00" } }
grant = { scopes = ["a:*", "b:x", "b:y"], audience = ["aud-1", "aud-*"], max_ttl = "20m" }
[[rule]]
id = "r2"
on_excess = "narrow"
when = { "delegation.actors" = { any = { glob = "agent-*" } } }
grant = { scopes = ["b:x"], audience = ["aud-2"] }
"#;

pub fn policies() -> Vec<IssuancePolicy> {
    [
        include_str!("../../examples/policies/quickstart.toml"),
        OWN,
        PURPOSES,
    ]
    .iter()
    .map(|t| IssuancePolicy::from_toml_str(t).expect("fuzz policies compile"))
    .collect()
}

/// What holds for every grant: a deny owns nothing; anything else has a
/// ttl of at least a second, `expires_at == issued_at + ttl`, no pattern
/// among its scopes; and its JSON parses back into an equal grant.
pub fn check_grant(g: &mintgate::Grant) {
    if g.decision == mintgate::Decision::Deny {
        assert!(g.scopes.is_empty(), "deny with scopes: {g}");
        assert!(g.audience.is_empty(), "deny with audience: {g}");
        assert!(g.ttl.is_none(), "deny with ttl: {g}");
        assert!(g.expires_at.is_none(), "deny with expiry: {g}");
    } else {
        let ttl = g.ttl.expect("a non-deny grant has a ttl");
        assert!(ttl.as_secs() >= 1, "ttl below 1s: {g}");
        let secs = i64::try_from(ttl.as_secs()).expect("ttl fits i64");
        let expected = g
            .issued_at
            .checked_add_signed(chrono::TimeDelta::try_seconds(secs).expect("ttl fits TimeDelta"));
        assert!(expected.is_some(), "issued_at + ttl overflows: {g}");
        assert_eq!(g.expires_at, expected, "expires_at != issued_at + ttl: {g}");
        assert!(
            g.scopes
                .iter()
                .all(|s| !s.contains('*') && !s.contains('?')),
            "pattern granted: {g}"
        );
    }
    let json = g.to_json();
    let back: mintgate::Grant = serde_json::from_str(&json).expect("grant JSON parses back");
    assert_eq!(&back, g, "round trip changed the grant: {json}");
}

thread_local! {
    /// The grant of the decision before, across inputs: `check_reuse`
    /// decides into it, so each input's decision overwrites another's.
    static KEPT: std::cell::RefCell<Option<mintgate::Grant>> = const { std::cell::RefCell::new(None) };
}

/// `evaluate_into` the grant kept from the decision before (another input's,
/// another policy's) gives `fresh`, what `evaluate` returned. Compared as
/// JSON too: a claim that is a NaN number is not equal to itself.
pub fn check_reuse(
    policy: &IssuancePolicy,
    req: &mintgate::MintRequest,
    now: DateTime<Utc>,
    fresh: &mintgate::Grant,
) {
    KEPT.with_borrow_mut(|kept| {
        let grant = kept.get_or_insert_with(|| fresh.clone());
        policy.evaluate_into(req, now, grant);
        assert_eq!(grant.to_json(), fresh.to_json(), "evaluate_into differs from evaluate");
        assert_eq!(grant.decision, fresh.decision);
    });
}
