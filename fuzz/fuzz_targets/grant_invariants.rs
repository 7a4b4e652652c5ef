//! Grant invariants: the first 8 bytes are the evaluation time (i64 seconds,
//! little-endian, any value up to chrono's limits), the rest a JSON
//! `MintRequest`, evaluated against the quickstart policy and two cookbook
//! policies at the fixed time and at the input's time.
//!
//! Always: a deny has no scopes, audience, ttl or expiry; anything else has
//! ttl ≥ 1s, `expires_at == issued_at + ttl` and no pattern in its scopes;
//! `to_json()` parses back into an equal `Grant`.
#![no_main]

mod common;

use std::sync::OnceLock;

use chrono::{DateTime, TimeDelta, Utc};
use libfuzzer_sys::fuzz_target;
use mintgate::{Decision, Grant, IssuancePolicy, MintRequest};

static POLICIES: OnceLock<Vec<IssuancePolicy>> = OnceLock::new();

fn policies() -> Vec<IssuancePolicy> {
    [
        include_str!("../../examples/policies/quickstart.toml"),
        include_str!("../../examples/policies/cookbook/ai-agents.toml"),
        include_str!("../../examples/policies/cookbook/github-actions.toml"),
    ]
    .iter()
    .map(|t| IssuancePolicy::from_toml_str(t).expect("example policies compile"))
    .collect()
}

fn check(g: &Grant) {
    if g.decision == Decision::Deny {
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
            .checked_add_signed(TimeDelta::try_seconds(secs).expect("ttl fits TimeDelta"));
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
    let back: Grant = serde_json::from_str(&json).expect("grant JSON parses back");
    assert_eq!(&back, g, "round trip changed the grant: {json}");
}

fuzz_target!(|data: &[u8]| {
    let Some((head, body)) = data.split_first_chunk::<8>() else {
        return;
    };
    let secs = i64::from_le_bytes(*head);
    let Ok(req) = serde_json::from_slice::<MintRequest>(body) else {
        return;
    };
    let at: DateTime<Utc> = DateTime::from_timestamp(secs, 0).unwrap_or(if secs < 0 {
        DateTime::<Utc>::MIN_UTC
    } else {
        DateTime::<Utc>::MAX_UTC
    });
    for policy in POLICIES.get_or_init(policies) {
        for now in [common::now(), at] {
            check(&policy.evaluate(&req, now));
        }
    }
});
