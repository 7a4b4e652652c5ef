//! Generators of policies and requests from a small vocabulary, so rules
//! match often. `tests/invariants.rs` has the decision-invariant generators;
//! these add the lifecycle fields (state, credential expiry, opt-outs).
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: a panic here is a failed test"
)]
#![allow(dead_code)]

use chrono::{DateTime, TimeDelta, Utc};
use proptest::prelude::*;
use serde_json::{Value, json};

pub const SCOPES: [&str; 5] = [
    "docs:read",
    "docs:write",
    "mail:read",
    "mail:write",
    "docs:*",
];
pub const AUDIENCES: [&str; 2] = ["https://docs.example.org", "https://mail.example.org"];
pub const SUBJECTS: [&str; 3] = ["agent:a", "agent:b", "svc:c"];

pub fn now() -> DateTime<Utc> {
    "2026-11-28T12:00:00Z".parse().unwrap()
}

/// One condition table from the operator subset: eq, one-of, glob, not,
/// exists, min/max, cidr.
pub fn when() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!({})),
        Just(json!({ "identity.kind": "agent" })),
        Just(json!({ "identity.subject": { "glob": "agent:*" } })),
        Just(json!({ "identity.subject": ["agent:a", "svc:c"] })),
        Just(json!({ "posture.tier": { "min": 2 } })),
        Just(json!({ "posture.site": { "not": "hq" } })),
        Just(json!({ "posture.attested": { "exists": true } })),
        Just(json!({ "posture.ip": { "cidr": "10.0.0.0/8" } })),
    ]
}

pub fn permit(i: usize) -> impl Strategy<Value = Value> {
    (
        when(),
        prop::sample::subsequence(SCOPES.to_vec(), 1..=3),
        prop::sample::subsequence(AUDIENCES.to_vec(), 1..=2),
        prop::option::of(prop::sample::select(vec!["5m", "10m", "30m"])),
    )
        .prop_map(move |(when, scopes, audience, max_ttl)| {
            let mut grant = json!({ "scopes": scopes, "audience": audience });
            if let Some(t) = max_ttl {
                grant["max_ttl"] = json!(t);
            }
            json!({ "id": format!("permit-{i}"), "when": when, "grant": grant })
        })
}

pub fn forbid(i: usize) -> impl Strategy<Value = Value> {
    (
        when(),
        prop::option::of(prop::sample::subsequence(SCOPES.to_vec(), 1..=2)),
    )
        .prop_map(move |(when, scopes)| {
            let mut r = json!({ "id": format!("forbid-{i}"), "effect": "forbid", "when": when });
            if let Some(s) = scopes {
                r["scopes"] = json!(s);
            }
            r
        })
}

/// A policy: 1–4 permits, 0–2 forbids, lifecycle opt-outs, a downgrade.
pub fn policy() -> impl Strategy<Value = Value> {
    (
        prop::collection::vec(any::<prop::sample::Index>(), 1..=4),
        prop::collection::vec(any::<prop::sample::Index>(), 0..=2),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_flat_map(|(permits, forbids, lifecycle, expiry, deny)| {
            let p: Vec<_> = (0..permits.len()).map(permit).collect();
            let f: Vec<_> = (0..forbids.len()).map(forbid).collect();
            (p, f).prop_map(move |(p, f)| {
                let mut rules = p;
                rules.extend(f);
                json!({
                    "policy": {
                        "id": "gen", "revision": "1", "max_ttl": "1h", "default_ttl": "15m",
                        "on_excess": if deny { "deny" } else { "narrow" },
                        "enforce_lifecycle": lifecycle,
                        "enforce_credential_expiry": expiry,
                    },
                    "downgrade": { "docs:write": "docs:read", "mail:write": "mail:read" },
                    "rule": rules,
                })
            })
        })
}

/// A request: identity with a lifecycle state and maybe a credential
/// expiry (past or future), scopes, audiences, ttl and posture.
pub fn request() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(SUBJECTS.to_vec()),
        prop::sample::select(vec!["agent", "workload"]),
        prop::sample::select(vec!["active", "active", "suspended", "offboarded"]),
        prop::option::of(-3600i64..7200),
        prop::sample::subsequence(SCOPES.to_vec(), 1..=3),
        prop::sample::subsequence(AUDIENCES.to_vec(), 0..=2),
        prop::option::of(prop::sample::select(vec!["1m", "10m", "2h"])),
        (prop::option::of(0u8..4), prop::option::of(prop::sample::select(vec!["hq", "home"])), any::<bool>(), prop::option::of(prop::sample::select(vec!["10.1.2.3", "192.168.0.1", "not-an-ip"]))),
    )
        .prop_map(|(subject, kind, state, cred, scopes, audience, ttl, (tier, site, attested, ip))| {
            let mut identity = json!({ "subject": subject, "kind": kind, "state": state });
            if let Some(secs) = cred {
                identity["credential_expires_at"] = json!((now() + TimeDelta::seconds(secs)).to_rfc3339());
            }
            let mut posture = serde_json::Map::new();
            if let Some(t) = tier {
                posture.insert("tier".into(), json!(t));
            }
            if let Some(s) = site {
                posture.insert("site".into(), json!(s));
            }
            if attested {
                posture.insert("attested".into(), json!(true));
            }
            if let Some(ip) = ip {
                posture.insert("ip".into(), json!(ip));
            }
            let mut req = json!({ "identity": identity, "scopes": scopes, "audience": audience, "posture": posture });
            if let Some(t) = ttl {
                req["ttl"] = json!(t);
            }
            req
        })
}
