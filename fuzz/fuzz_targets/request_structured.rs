//! Structured requests (via `arbitrary`) from a small vocabulary, so rules
//! match often, evaluated against several policies at arbitrary times.
#![no_main]

mod common;

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use chrono::{DateTime, Duration as Delta, Utc};
use libfuzzer_sys::fuzz_target;
use mintgate::{
    Actor, AttrValue, Decision, Delegation, Duration, Identity, IdentityKind, IssuancePolicy,
    LifecycleState, MintRequest, ParentGrant, Purpose,
};

static POLICIES: OnceLock<Vec<IssuancePolicy>> = OnceLock::new();

const SUBJECTS: &[&str] = &[
    "svc-a",
    "spiffe://prod/ns/x",
    "spiffe://prod.example.org/ns/reports/sa/s",
    "agent-1",
    "",
];
const SCOPES: &[&str] = &[
    "docs:read",
    "docs:write",
    "docs:admin",
    "docs:*",
    "a:read",
    "a:write",
    "a:*",
    "b:x",
    "*",
    "reports:write",
    "reports:read",
    "inv:write",
    "deploy:write",
    "?",
];
const AUDS: &[&str] = &[
    "https://docs",
    "https://inv",
    "aud-1",
    "aud-2",
    "aud-*",
    "*",
    "https://reports.example.org",
];
const PURPOSES: &[&str] = &[
    "read",
    "write",
    "summarize-reports",
    "publish-report",
    "nope",
];

/// Parent grant: scope picks and seconds from now until it expires.
type ParentSpec = Option<(Vec<u8>, i64)>;

#[derive(Arbitrary, Debug)]
struct Input {
    subject: u8,
    kind: u8,
    state: u8,
    scopes: Vec<u8>,
    audience: Vec<u8>,
    ttl: Option<u32>,
    purpose: Option<(u8, Option<String>)>,
    auth_age: Option<i64>,
    cred: Option<i64>,
    tier: Option<f64>,
    ip: Option<String>,
    site: Option<String>,
    bad: Option<bool>,
    delegation: Option<(Vec<u8>, ParentSpec)>,
    now_offset: i64,
}

fn pick<'a>(v: &[&'a str], i: u8) -> &'a str {
    v[usize::from(i) % v.len()]
}

fuzz_target!(|input: Input| {
    let now: DateTime<Utc> = common::now()
        .checked_add_signed(Delta::seconds(input.now_offset % 400_000_000_000))
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    let kinds = [
        IdentityKind::Workload,
        IdentityKind::Agent,
        IdentityKind::ServiceAccount,
        IdentityKind::CiJob,
        IdentityKind::User,
    ];
    let states = [
        LifecycleState::Active,
        LifecycleState::Suspended,
        LifecycleState::Offboarded,
    ];
    let mut identity = Identity::new(
        pick(SUBJECTS, input.subject),
        kinds[usize::from(input.kind) % 5],
    );
    identity.state = states[usize::from(input.state) % 3];
    identity.authenticated_at = input
        .auth_age
        .and_then(|s| now.checked_sub_signed(Delta::try_seconds(s)?));
    identity.credential_expires_at = input
        .cred
        .and_then(|s| now.checked_add_signed(Delta::try_seconds(s)?));
    if let Some(t) = input.tier {
        identity.claims.insert("tier".into(), AttrValue::Number(t));
    }
    if let Some(b) = input.bad {
        identity.claims.insert("bad".into(), AttrValue::Bool(b));
    }
    let mut posture = std::collections::BTreeMap::new();
    if let Some(ip) = input.ip {
        let v = ip
            .parse()
            .map(AttrValue::Ip)
            .unwrap_or(AttrValue::String(ip));
        posture.insert("source_ip".to_string(), v);
    }
    if let Some(s) = input.site {
        posture.insert("site".to_string(), AttrValue::String(s));
    }
    let delegation = input.delegation.map(|(actors, parent)| Delegation {
        actors: actors
            .iter()
            .map(|&a| Actor {
                subject: pick(SUBJECTS, a).to_string(),
                ..Actor::default()
            })
            .collect(),
        parent: parent.map(|(scopes, secs)| ParentGrant {
            scopes: scopes
                .iter()
                .map(|&s| pick(SCOPES, s).to_string())
                .collect(),
            expires_at: now
                .checked_add_signed(Delta::try_seconds(secs).unwrap_or_default())
                .unwrap_or(now),
        }),
        ..Delegation::default()
    });
    let req = MintRequest {
        identity,
        purpose: input.purpose.map(|(p, ticket)| {
            let mut p = Purpose::new(pick(PURPOSES, p));
            p.ticket = ticket;
            p
        }),
        scopes: input
            .scopes
            .iter()
            .map(|&s| pick(SCOPES, s).to_string())
            .collect(),
        audience: input
            .audience
            .iter()
            .map(|&a| pick(AUDS, a).to_string())
            .collect(),
        ttl: input.ttl.map(|s| Duration::from_secs(u64::from(s))),
        posture,
        delegation,
        ..MintRequest::default()
    };
    for policy in POLICIES.get_or_init(common::policies) {
        let g = policy.evaluate(&req, now);
        if g.decision != Decision::Deny {
            assert!(
                g.scopes
                    .iter()
                    .all(|s| !s.contains('*') && !s.contains('?')),
                "{g}"
            );
            assert!(
                g.audience
                    .iter()
                    .all(|s| !s.contains('*') && !s.contains('?')),
                "{g}"
            );
            if let Some(p) = req.delegation.as_ref().and_then(|d| d.parent.as_ref()) {
                assert!(g.scopes.iter().all(|s| p.scopes.contains(s)), "{g}");
                assert!(g.expires_at.is_some_and(|e| e <= p.expires_at), "{g}");
            }
            if let Some(t) = req.ttl {
                assert!(g.ttl.is_some_and(|gt| gt <= t), "{g}");
            }
        }
        let again = policy.evaluate(&req, now);
        assert_eq!(g.to_json(), again.to_json());
    }
});
