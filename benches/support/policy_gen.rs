//! Generated policies and requests for the benchmarks and the allocation
//! test: a realistic mix of exact and glob subjects, claim conditions,
//! forbids, purposes and downgrades, at any size.
#![allow(dead_code)]
#![allow(
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "bench fixtures: a panic here is a broken fixture"
)]

use mintgate::{MintRequest, PolicyDocument};
use serde_json::{Value, json};

/// A policy of `n` rules (n ≥ 10), repeating every ten rules:
/// - 60 % workload rules, half with an exact SPIFFE ID, half with a
///   `team{i}/**` glob, each also checking issuer and attestation, granting
///   five `svc{i}:…` scopes (exact or `svc{i}:*`) for `https://svc{i}.example.org`;
/// - 20 % CI rules on GitHub Actions claims (repository, ref, environment);
/// - 10 % agent rules with subject globs, purpose and auth-age conditions;
/// - 10 % forbids: four global ones (device trust on admin scopes,
///   quarantine, a CIDR block, delegation depth), the rest scoped to a team;
/// - a purpose catalogue and write→read downgrades.
pub fn policy(n: usize) -> PolicyDocument {
    let mut rules = Vec::with_capacity(n);
    for i in 0..n {
        rules.push(match i % 10 {
            0..=5 => workload_rule(i),
            6 | 7 => ci_rule(i),
            8 => agent_rule(i),
            _ => forbid_rule(i),
        });
    }
    let mut downgrade = serde_json::Map::new();
    // At most 10,000 downgrades, the default limit (reached from 20,000 rules).
    for i in (0..n).step_by(2).take(10_000) {
        downgrade.insert(format!("svc{i}:write"), json!(format!("svc{i}:read")));
    }
    let doc = json!({
        "policy": {
            "id": format!("generated-{n}"),
            "revision": "1",
            "default_ttl": "15m",
            "max_ttl": "1h",
        },
        "purposes": {
            "operate": { "scopes": ["*:read", "*:list", "*:write", "*:admin", "*:audit"] },
            "observe": { "scopes": ["*:read", "*:list", "*:audit"], "max_ttl": "30m" },
            "deploy": { "scopes": ["*:write"], "requires": { "purpose.ticket": { "glob": "CHG-*" } } },
            "summarize": { "scopes": ["*:read", "*:list"] },
        },
        "downgrade": downgrade,
        "rule": rules,
    });
    serde_json::from_value(doc).expect("generated policy deserializes")
}

fn workload_rule(i: usize) -> Value {
    let subject = if i % 2 == 0 {
        json!(format!("spiffe://prod.example.org/ns/team{i}/sa/svc{i}"))
    } else {
        json!({ "glob": format!("spiffe://prod.example.org/ns/team{i}/**") })
    };
    let scopes = if i % 3 == 0 {
        json!([format!("svc{i}:*")])
    } else {
        let list = ["read", "list", "write", "admin", "audit"].map(|s| format!("svc{i}:{s}"));
        json!(list)
    };
    json!({
        "id": format!("workload-{i}"),
        "controls": ["OWASP NHI5:2025"],
        "when": {
            "identity.kind": "workload",
            "identity.subject": subject,
            "identity.issuer": "https://spire.prod.example.org",
            "posture.attested": true,
        },
        "grant": {
            "scopes": scopes,
            "audience": [format!("https://svc{i}.example.org")],
            "max_ttl": if i % 4 == 0 { "10m" } else { "30m" },
        },
    })
}

fn ci_rule(i: usize) -> Value {
    json!({
        "id": format!("ci-{i}"),
        "controls": ["OWASP NHI8:2025"],
        "when": {
            "identity.kind": "ci_job",
            "identity.issuer": "https://token.actions.githubusercontent.com",
            "identity.claims.repository": format!("acme/repo{i}"),
            "identity.claims.ref": "refs/heads/main",
            "identity.claims.environment": ["staging", "prod"],
        },
        "grant": {
            "scopes": [format!("deploy{i}:write")],
            "audience": [format!("https://deploy{i}.example.org")],
            "max_ttl": "15m",
        },
    })
}

fn agent_rule(i: usize) -> Value {
    json!({
        "id": format!("agent-{i}"),
        "controls": ["OWASP NHI10:2025"],
        "when": {
            "identity.kind": "agent",
            "identity.subject": { "glob": format!("spiffe://prod.example.org/ns/agents{i}/**") },
            "purpose.name": ["summarize", "observe", "operate"],
            "identity.auth_age": { "max": "10m" },
        },
        "grant": {
            "scopes": [format!("svc{i}:read"), format!("svc{i}:list"), format!("svc{i}:write")],
            "audience": [format!("https://svc{i}.example.org")],
            "max_ttl": "10m",
        },
    })
}

fn forbid_rule(i: usize) -> Value {
    // A handful of global forbids; the rest are scoped to a team, as
    // per-tenant guardrails are in a large policy.
    if i >= 40 {
        return json!({
            "id": format!("forbid-team-admin-{i}"),
            "effect": "forbid",
            "controls": ["OWASP NHI3:2025"],
            "when": {
                "identity.subject": { "glob": format!("spiffe://prod.example.org/ns/team{}/**", i - 9) },
                "posture.device_trust": { "not": "managed" },
            },
            "scopes": ["*:admin"],
        });
    }
    match (i / 10) % 4 {
        0 => json!({
            "id": format!("forbid-admin-unmanaged-{i}"),
            "effect": "forbid",
            "controls": ["OWASP NHI3:2025"],
            "when": { "identity.kind": "workload", "posture.device_trust": { "not": "managed" } },
            "scopes": ["*:admin"],
        }),
        1 => json!({
            "id": format!("forbid-quarantine-{i}"),
            "effect": "forbid",
            "when": { "identity.subject": { "glob": format!("spiffe://prod.example.org/ns/quarantine{i}/**") } },
        }),
        2 => json!({
            "id": format!("forbid-network-{i}"),
            "effect": "forbid",
            "when": { "identity.kind": "workload", "posture.source_ip": { "cidr": ["203.0.113.0/24", "198.51.100.0/24"] } },
        }),
        _ => json!({
            "id": format!("forbid-deep-delegation-{i}"),
            "effect": "forbid",
            "when": { "identity.kind": "agent", "delegation.depth": { "min": 4 } },
        }),
    }
}

/// A workload rule index that exists in a policy of `n` rules (an exact
/// subject, granting its scopes exactly).
pub fn team(n: usize) -> usize {
    let target = n / 2;
    // workload rules are i % 10 in 0..=5; exact subjects and exact scopes
    // need i even and i % 3 != 0.
    (target..n)
        .chain(0..target)
        .find(|i| i % 10 <= 5 && i % 2 == 0 && i % 3 != 0)
        .unwrap_or(2)
}

fn workload_request(team: usize, purpose: &str, ttl: &str) -> Value {
    let scopes = ["read", "list", "write", "admin", "audit"].map(|s| format!("svc{team}:{s}"));
    json!({
        "identity": {
            "subject": format!("spiffe://prod.example.org/ns/team{team}/sa/svc{team}"),
            "kind": "workload",
            "issuer": "https://spire.prod.example.org",
            "authenticated_at": "2026-11-28T11:58:00Z",
        },
        "purpose": { "name": purpose },
        "scopes": scopes,
        "audience": [format!("https://svc{team}.example.org")],
        "ttl": ttl,
        "posture": { "attested": true, "device_trust": "managed", "source_ip": "10.1.2.3" },
    })
}

/// The typical request, answered allow: 5 scopes, 1 audience, posture, purpose.
pub fn allow_request(n: usize) -> MintRequest {
    serde_json::from_value(workload_request(team(n), "operate", "10m")).expect("request")
}

/// The same request with a purpose that justifies reads only, and a ttl
/// over the rule cap: answered narrow.
pub fn narrow_request(n: usize) -> MintRequest {
    serde_json::from_value(workload_request(team(n), "observe", "45m")).expect("request")
}

/// A request from a subject no rule knows: answered deny (with an
/// explanation).
pub fn deny_request(n: usize) -> MintRequest {
    let mut v = workload_request(team(n), "operate", "10m");
    v["identity"]["subject"] = json!("spiffe://prod.example.org/ns/unknown/sa/intruder");
    serde_json::from_value(v).expect("request")
}

/// An agent acting for a user, with a parent grant to attenuate to.
pub fn delegated_request(n: usize) -> MintRequest {
    let i = (n / 2..n).chain(0..n).find(|i| i % 10 == 8).unwrap_or(8);
    serde_json::from_value(json!({
        "identity": {
            "subject": format!("spiffe://prod.example.org/ns/agents{i}/sa/assistant"),
            "kind": "agent",
            "authenticated_at": "2026-11-28T11:58:00Z",
        },
        "purpose": { "name": "summarize" },
        "scopes": [format!("svc{i}:read"), format!("svc{i}:list"), format!("svc{i}:write")],
        "audience": [format!("https://svc{i}.example.org")],
        "ttl": "10m",
        "posture": { "device_trust": "managed", "source_ip": "10.1.2.3" },
        "delegation": {
            "subject": "user:alice",
            "actors": [{ "subject": "spiffe://prod.example.org/ns/agents/sa/planner" }],
            "parent": { "scopes": [format!("svc{i}:read"), format!("svc{i}:list")], "expires_at": "2026-11-28T12:07:00Z" },
        },
    }))
    .expect("request")
}

/// A policy at the limits an attacker-controlled policy could reach: long
/// globs with many stars, wide `any` groups, big (bounded) regexes, all on
/// rules a typical request must visit.
pub fn adversarial_policy(rules: usize) -> PolicyDocument {
    let long_glob = format!("spiffe://prod.example.org/{}**", "*a".repeat(100));
    let any_group: Vec<Value> = (0..60)
        .map(|k| json!({ "identity.claims.group": format!("g{k}") }))
        .collect();
    let big_regex = format!(
        "({})",
        (0..80)
            .map(|k| format!("t{k}[a-z]*"))
            .collect::<Vec<_>>()
            .join("|")
    );
    let mut out = Vec::new();
    for i in 0..rules {
        out.push(json!({
            "id": format!("adversarial-{i}"),
            "when": {
                "identity.kind": "workload",
                "identity.subject": { "glob": long_glob },
                "any": any_group,
                "identity.issuer": { "regex": big_regex },
            },
            "grant": { "scopes": ["x:*"], "audience": ["https://x.example.org"] },
        }));
    }
    serde_json::from_value(json!({
        "policy": { "id": "adversarial", "revision": "1", "max_ttl": "1h" },
        "rule": out,
    }))
    .expect("adversarial policy")
}

/// Teams and purposes of [`shared_key_policy`].
const SHARED_TEAMS: usize = 30;
const SHARED_PURPOSES: usize = 7;

/// `n` CI rules sharing few key values: rule `i` needs team
/// `team{i % 30}`, purpose `p{i % 7}`, its own repository and an attested
/// runner, and grants `repo{i}:{read,write}` for `https://repo{i}.example.org`.
/// Filed under the team alone, a request of one team would have ~n/30
/// candidates.
pub fn shared_key_policy(n: usize) -> PolicyDocument {
    let rules: Vec<Value> = (0..n)
        .map(|i| {
            json!({
                "id": format!("shared-{i}"),
                "controls": ["OWASP NHI8:2025"],
                "when": {
                    "identity.claims.team": format!("team{}", i % SHARED_TEAMS),
                    "purpose.name": format!("p{}", i % SHARED_PURPOSES),
                    "identity.claims.repository": format!("acme/repo{i}"),
                    "posture.attested": true,
                },
                "grant": {
                    "scopes": [format!("repo{i}:read"), format!("repo{i}:write")],
                    "audience": [format!("https://repo{i}.example.org")],
                    "max_ttl": "15m",
                },
            })
        })
        .collect();
    serde_json::from_value(json!({
        "policy": { "id": format!("shared-key-{n}"), "revision": "1", "max_ttl": "1h" },
        "rule": rules,
    }))
    .expect("shared-key policy")
}

/// The request of [`shared_key_policy`] rule `n / 2`: its team, purpose and
/// repository, both scopes and the audience; answered allow.
pub fn shared_key_request(n: usize) -> MintRequest {
    let i = n / 2;
    serde_json::from_value(json!({
        "identity": {
            "subject": format!("repo:acme/repo{i}:ref:refs/heads/main"),
            "kind": "ci_job",
            "issuer": "https://token.actions.githubusercontent.com",
            "claims": {
                "team": format!("team{}", i % SHARED_TEAMS),
                "repository": format!("acme/repo{i}"),
            },
        },
        "purpose": { "name": format!("p{}", i % SHARED_PURPOSES) },
        "scopes": [format!("repo{i}:read"), format!("repo{i}:write")],
        "audience": [format!("https://repo{i}.example.org")],
        "ttl": "10m",
        "posture": { "attested": true },
    }))
    .expect("request")
}

/// The typical request plus a scope only another team's rule grants:
/// answered narrow, the extra scope removed as `not_permitted` with the
/// nearest rule and its failing condition (an explanation).
pub fn explained_narrow_request(n: usize) -> MintRequest {
    let mine = team(n);
    let other = (0..n)
        .find(|&i| i != mine && i % 10 <= 5 && i % 2 == 0 && i % 3 != 0)
        .unwrap_or(2);
    let mut v = workload_request(mine, "operate", "10m");
    if let Some(scopes) = v["scopes"].as_array_mut() {
        scopes.push(json!(format!("svc{other}:read")));
    }
    serde_json::from_value(v).expect("request")
}
