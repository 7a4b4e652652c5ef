//! Generators of policies and requests from a small vocabulary, so rules
//! match often. `tests/core/invariants.rs` has the decision-invariant generators;
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

// ------------------------------------------------- every-operator generators
//
// The generators of the differential run (tests/core/invariants.rs,
// docs/testing.md): policies whose conditions use every operator of
// docs/policy-reference.md §5, and requests drawn from small vocabularies
// chosen so that each condition is true, false and unknown reasonably often.

/// Concrete scopes a request can ask for (one with a two-byte character,
/// for `?`).
pub const RICH_SCOPES: [&str; 6] = [
    "docs:read",
    "docs:write",
    "docs:list",
    "mail:read",
    "mail:write",
    "dócs:read",
];

/// What permits grant: exact names, an escaped exact name, and globs of
/// every shape.
pub const RICH_RULE_SCOPES: [&str; 14] = [
    "docs:read",
    "docs:write",
    "docs:list",
    "mail:read",
    "mail:write",
    "dócs:read",
    "mail\\:read",
    "docs:*",
    "mail:*",
    "*:read",
    "d?cs:*",
    "[dm]*:write",
    "docs:[!w]*",
    "**",
];

pub const RICH_FORBID_SCOPES: [&str; 6] = [
    "docs:write",
    "*:write",
    "mail:*",
    "[m]ail:read",
    "d?cs:read",
    "docs:[a-l]*",
];

pub const RICH_AUDIENCES: [&str; 3] = [
    "https://docs.example.org",
    "https://mail.example.org",
    "https://other.example.org",
];

/// Request wildcards: every shape, including a `?` against a two-byte
/// character, a mix of `*` and `**`, and the any-audience `*` / `**`
/// (treated as a missing audience).
pub const WILD_SCOPES: [&str; 9] = [
    "docs:*",
    "*:read",
    "m?il:*",
    "**",
    "*",
    "d?cs:*",
    "*:**",
    "**:read",
    "d?cs:read",
];
pub const WILD_AUDIENCES: [&str; 4] = ["https://*.example.org", "https://**", "*", "**"];

/// Times the request is evaluated at: a Saturday noon, a Monday morning,
/// a Wednesday night, a Sunday small hour (Saturday night at `-05:00`).
pub const NOWS: [&str; 4] = [
    "2026-11-28T12:00:00Z",
    "2026-11-30T08:30:00Z",
    "2026-12-02T23:30:00Z",
    "2026-11-29T03:00:00Z",
];

/// One condition entry per element: every operator, on every kind of path.
pub fn atoms() -> Vec<Value> {
    let text = r#"[
        {"identity.kind": "agent"},
        {"identity.kind": ["agent", "ci_job"]},
        {"identity.kind": {"in": ["workload", "ci_job"]}},
        {"identity.kind": {"not": "workload"}},
        {"identity.subject": "agent:a"},
        {"identity.subject": ["agent:a", "svc:c"]},
        {"identity.subject": {"eq": "svc:c"}},
        {"identity.subject": {"glob": "agent:*"}},
        {"identity.subject": {"glob": "agent:?"}},
        {"identity.subject": {"glob": "spiffe://prod/ns/*/sa/x"}},
        {"identity.subject": {"glob": "spiffe://prod/**"}},
        {"identity.subject": {"glob": ["[as]*:[!b]", "x"]}},
        {"identity.subject": {"glob": "agent\\:[a-b]"}},
        {"identity.subject": {"regex": "agent:[ab]"}},
        {"identity.subject": {"regex": ["svc:.*", "spiffe://.*/x"]}},
        {"identity.subject": {"cidr": "10.0.0.0/8"}},
        {"identity.issuer": "https://idp"},
        {"identity.issuer": {"exists": true}},
        {"identity.issuer": {"absent": true}},
        {"identity.issuer": {"glob": "https://*"}},
        {"identity.owner": {"exists": false}},
        {"identity.owner": {"absent": false}},
        {"identity.state": "active"},
        {"identity.state": {"not": ["suspended", "offboarded"]}},
        {"identity.auth_age": {"max": "10m"}},
        {"identity.auth_age": {"min": "1m", "max": "30m"}},
        {"identity.auth_age": "5m"},
        {"identity.auth_age": {"max": 600}},
        {"identity.credential_remaining": {"min": "5m"}},
        {"identity.authenticated_at": {"not_after": "2026-11-28T11:55:00Z"}},
        {"identity.credential_expires_at": {"not_before": "2026-12-01T00:00:00Z"}},
        {"identity.claims.tier": {"min": 2}},
        {"identity.claims.tier": 3},
        {"identity.claims.tier": [1, 3]},
        {"identity.claims.tier": {"max": 2, "not": 1}},
        {"identity.claims.tier": "3"},
        {"identity.claims.tier": [2, 4]},
        {"identity.claims.groups": "ops"},
        {"identity.claims.groups": {"any": "ops"}},
        {"identity.claims.groups": {"all": {"glob": "d*"}}},
        {"identity.claims.groups": {"all": ["ops", "dev"]}},
        {"identity.claims.groups": {"not": "dev"}},
        {"identity.claims.groups": {"any": {"regex": "o.s"}}},
        {"identity.claims.groups": {"any": {"in": ["ops", "x"]}}},
        {"identity.claims.env": {"regex": "prod(-[0-9]+)?"}},
        {"identity.claims.env": {"glob": "prod*"}},
        {"identity.claims.env": ["prod", "dev"]},
        {"posture.attested": true},
        {"posture.attested": false},
        {"posture.attested": {"exists": true}},
        {"posture.tier": {"min": 2}},
        {"posture.tier": {"min": 1, "max": 3}},
        {"posture.tier": 2},
        {"posture.ip": {"cidr": "10.0.0.0/8"}},
        {"posture.ip": {"cidr": ["192.168.0.0/16", "2001:db8::/32"]}},
        {"posture.ip": {"cidr": "10.1.2.3"}},
        {"posture.ip": "10.1.2.3"},
        {"posture.ip": "2001:db8:0::1"},
        {"posture.ip": ["192.168.0.1", "2001:db8::1"]},
        {"posture.ip": {"in": ["::ffff:10.1.2.3", "8.8.8.8"]}},
        {"posture.ip": {"not": "10.1.2.3"}},
        {"posture.ip": {"glob": "10.*"}},
        {"posture.ip": {"regex": "2001:db8::.*"}},
        {"posture.site": {"not": "hq"}},
        {"posture.site": "hq"},
        {"purpose.name": "task"},
        {"purpose.name": {"glob": "t*"}},
        {"purpose.ticket": {"glob": "CHG-*"}},
        {"purpose.ticket": {"regex": "CHG-[0-9]+"}},
        {"purpose.ticket": {"exists": true}},
        {"purpose.attributes.risk": {"max": 3}},
        {"delegation.depth": {"max": 1}},
        {"delegation.depth": {"min": 1, "max": 2}},
        {"delegation.depth": 0},
        {"delegation.depth": [1, 2]},
        {"delegation.subject": {"glob": "user:*"}},
        {"delegation.actors": {"any": {"glob": "gw:*"}}},
        {"delegation.actors": "gw:1"},
        {"delegation.actors": {"all": {"glob": "gw:*"}}},
        {"delegation.actors": {"not": {"any": "agent:z"}}},
        {"delegation.actor_kinds": {"all": "workload"}},
        {"delegation.actor_kinds": "agent"},
        {"delegation.actor_kinds": {"any": ["agent", "workload"]}},
        {"delegation.parent.scopes": "docs:read"},
        {"delegation.parent.scopes": {"any": {"glob": "mail:*"}}},
        {"delegation.parent.expires_at": {"not_after": "2026-11-28T13:00:00Z"}},
        {"request.scopes": {"not": "docs:write"}},
        {"request.scopes": {"all": {"glob": "docs:*"}}},
        {"request.scopes": "mail:read"},
        {"request.audience": {"all": {"glob": "https://*.example.org"}}},
        {"request.audience": {"any": "https://docs.example.org"}},
        {"request.ttl": {"max": "10m"}},
        {"request.ttl": {"min": 600}},
        {"request.time": {"weekdays": ["mon", "tue", "wed", "thu", "fri"]}},
        {"request.time": {"hours": "09:00-17:30"}},
        {"request.time": {"hours": "22:00-06:00", "utc_offset": "-05:00"}},
        {"request.time": {"weekdays": "Sat", "utc_offset": "+09:00"}},
        {"request.time": {"not_before": "2026-11-29T00:00:00Z"}},
        {"request.time": {"not_after": "2026-12-01T00:00:00Z", "hours": "00:00-24:00"}},
        {"request.time": {"hours": "10:00-10:00"}},
        {"request.claims.team": "a"},
        {"request.claims.team": {"exists": true}}
    ]"#;
    serde_json::from_str::<Vec<Value>>(text).unwrap()
}

/// The atoms, parsed once.
static ATOMS: std::sync::LazyLock<Vec<Value>> = std::sync::LazyLock::new(atoms);

fn atom() -> impl Strategy<Value = Value> + Clone {
    (0..ATOMS.len()).prop_map(|i| ATOMS[i].clone())
}

/// A group member: a table of one or two entries.
fn member() -> impl Strategy<Value = Value> {
    prop::collection::vec(atom(), 1..=2).prop_map(|a| Value::Object(merge(a)))
}

fn merge(tables: impl IntoIterator<Item = Value>) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    for t in tables {
        if let Value::Object(o) = t {
            m.extend(o);
        }
    }
    m
}

/// A condition table: up to three entries, sometimes a group (`any`,
/// `all`, `not`, nested once).
pub fn rich_when() -> impl Strategy<Value = Value> {
    let group = prop_oneof![
        prop::collection::vec(member(), 1..=3).prop_map(|m| json!({ "any": m })),
        prop::collection::vec(member(), 1..=2).prop_map(|m| json!({ "all": m })),
        member().prop_map(|m| json!({ "not": m })),
        (member(), member()).prop_map(|(a, b)| json!({ "any": [a, { "not": b }] })),
    ];
    (
        prop::collection::vec(atom(), 0..=3),
        prop::option::weighted(0.35, group),
    )
        .prop_map(|(atoms, group)| Value::Object(merge(atoms.into_iter().chain(group))))
}

fn rich_permit(i: usize) -> impl Strategy<Value = Value> {
    (
        rich_when(),
        prop::sample::subsequence(&RICH_RULE_SCOPES[..], 1..5),
        (
            prop::sample::subsequence(&RICH_AUDIENCES[..], 1..3),
            prop::bool::weighted(0.15),
        ),
        prop::option::of(prop::sample::select(&["5m", "10m", "30m"][..])),
        prop::option::weighted(0.2, prop::sample::select(&["narrow", "deny"][..])),
        prop::option::weighted(0.3, prop::sample::subsequence(&["team", "env"][..], 1..=2)),
        prop::option::weighted(
            0.3,
            prop::sample::subsequence(&["NIST-1", "OWASP-2"][..], 1..=2),
        ),
    )
        .prop_map(
            move |(when, scopes, (audience, glob_aud), max_ttl, on_excess, claims, controls)| {
                let mut audience: Vec<&str> = audience;
                if glob_aud {
                    audience.push("https://*.example.org");
                }
                let mut grant = json!({ "scopes": scopes, "audience": audience });
                if let Some(t) = max_ttl {
                    grant["max_ttl"] = json!(t);
                }
                if let Some(c) = claims {
                    grant["claims"] = json!(c);
                }
                let mut rule = json!({ "id": format!("permit-{i}"), "when": when, "grant": grant });
                if let Some(e) = on_excess {
                    rule["on_excess"] = json!(e);
                }
                if let Some(c) = controls {
                    rule["controls"] = json!(c);
                }
                rule
            },
        )
}

/// A forbid with the given id: with scopes (mostly) or without.
pub fn rich_forbid(id: String) -> impl Strategy<Value = Value> {
    (
        rich_when(),
        prop::option::weighted(
            0.85,
            prop::sample::subsequence(&RICH_FORBID_SCOPES[..], 1..3),
        ),
        prop::bool::weighted(0.3),
    )
        .prop_map(move |(when, scopes, controls)| {
            let mut rule = json!({ "id": id, "effect": "forbid", "when": when });
            if let Some(s) = scopes {
                rule["scopes"] = json!(s);
            }
            if controls {
                rule["controls"] = json!(["NIST-9"]);
            }
            rule
        })
}

/// A policy using every operator: 1–4 permits, 0–2 forbids, maybe a purpose
/// catalogue (with `requires`), downgrades, lifecycle opt-outs, `min_ttl`.
pub fn rich_policy() -> impl Strategy<Value = Value> {
    (
        (1usize..5).prop_flat_map(|n| (0..n).map(rich_permit).collect::<Vec<_>>()),
        (0usize..3).prop_flat_map(|n| (0..n).map(|i| rich_forbid(format!("forbid-{i}"))).collect::<Vec<_>>()),
        prop::sample::select(&["narrow", "narrow", "narrow", "deny"][..]),
        prop::option::weighted(
            0.4,
            (
                prop::sample::subsequence(&RICH_RULE_SCOPES[..], 2..6),
                prop::option::of(prop::sample::select(&["2m", "20m"][..])),
                prop::option::weighted(0.4, rich_when()),
            ),
        ),
        any::<bool>(),
        (
            prop::bool::weighted(0.8),
            prop::bool::weighted(0.8),
            prop::option::weighted(0.2, prop::sample::select(&["30s", "3m"][..])),
            prop::option::weighted(0.8, prop::sample::select(&["15m", "5m"][..])),
        ),
    )
        .prop_map(|(permits, forbids, on_excess, purpose, downgrades, (lifecycle, expiry, min_ttl, default_ttl))| {
            let mut rules = permits;
            rules.extend(forbids);
            let mut policy = json!({ "id": "gen", "revision": "1", "max_ttl": "1h", "on_excess": on_excess });
            if let Some(d) = default_ttl {
                policy["default_ttl"] = json!(d);
            }
            if let Some(m) = min_ttl {
                policy["min_ttl"] = json!(m);
            }
            if !lifecycle {
                policy["enforce_lifecycle"] = json!(false);
            }
            if !expiry {
                policy["enforce_credential_expiry"] = json!(false);
            }
            let mut doc = json!({ "policy": policy, "rule": rules });
            if let Some((scopes, max_ttl, requires)) = purpose {
                let mut p = json!({ "scopes": scopes });
                if let Some(t) = max_ttl {
                    p["max_ttl"] = json!(t);
                }
                if let Some(r) = requires.filter(|r| r.as_object().is_some_and(|o| !o.is_empty())) {
                    p["requires"] = r;
                }
                doc["purposes"] = json!({ "task": p, "audit": { "scopes": ["docs:read"] } });
            }
            if downgrades {
                doc["downgrade"] = json!({ "docs:write": "docs:read", "mail:write": "mail:read", "docs:read": "docs:list" });
            }
            doc
        })
}

fn at(now: DateTime<Utc>, secs: i64) -> String {
    (now + TimeDelta::seconds(secs)).to_rfc3339()
}

fn opt<T: std::fmt::Debug + Clone + 'static>(
    p: f64,
    values: &[T],
) -> impl Strategy<Value = Option<T>> + use<T> {
    prop::option::weighted(p, prop::sample::select(values.to_vec()))
}

/// The identity part of a rich request.
fn rich_identity(now: DateTime<Utc>) -> impl Strategy<Value = Value> {
    (
        prop::sample::select(
            &[
                "agent:a",
                "agent:b",
                "svc:c",
                "spiffe://prod/ns/a/sa/x",
                "spiffe://prod/ns/a/b/sa/x",
                "10.1.2.3",
                "192.168.1.1",
                "agent:ä",
            ][..],
        ),
        prop::sample::select(&["agent", "agent", "workload", "ci_job"][..]),
        prop::sample::select(
            &[
                "active",
                "active",
                "active",
                "active",
                "suspended",
                "offboarded",
            ][..],
        ),
        (
            opt(0.6, &["https://idp", "https://other", "idp-legacy"][..]),
            opt(0.5, &["team-a"][..]),
        ),
        (
            opt(0.6, &[30i64, 300, 1200, -60][..]),
            opt(0.3, &[-60i64, 0, 120, 3000, 400_000][..]),
        ),
        (
            opt(
                0.6,
                &[
                    json!(1),
                    json!(2),
                    json!(3),
                    json!("3"),
                    json!("1"),
                    json!(true),
                    json!([1, 4]),
                ][..],
            ),
            opt(
                0.6,
                &[
                    json!(["ops", "dev"]),
                    json!("ops"),
                    json!(["dev", "dx"]),
                    json!([]),
                ][..],
            ),
            opt(0.6, &["prod", "dev", "prod-2", "10.0.0.1"][..]),
        ),
    )
        .prop_map(
            move |(subject, kind, state, (issuer, owner), (auth, cred), (tier, groups, env))| {
                let mut id = json!({ "subject": subject, "kind": kind, "state": state });
                if let Some(i) = issuer {
                    id["issuer"] = json!(i);
                }
                if let Some(o) = owner {
                    id["owner"] = json!(o);
                }
                if let Some(a) = auth {
                    id["authenticated_at"] = json!(at(now, -a));
                }
                if let Some(c) = cred {
                    id["credential_expires_at"] = json!(at(now, c));
                }
                let mut claims = serde_json::Map::new();
                claims.extend(tier.map(|t| ("tier".to_owned(), t)));
                claims.extend(groups.map(|g| ("groups".to_owned(), g)));
                claims.extend(env.map(|e| ("env".to_owned(), json!(e))));
                if !claims.is_empty() {
                    id["claims"] = Value::Object(claims);
                }
                id
            },
        )
}

/// The posture, purpose, delegation and claims of a rich request.
fn rich_context(now: DateTime<Utc>) -> impl Strategy<Value = Value> {
    (
        (
            opt(0.8, &[json!(true), json!(false), json!("true")][..]),
            opt(0.7, &[0, 1, 2, 3, 4][..]),
            opt(
                0.7,
                &[
                    "10.1.2.3",
                    "192.168.0.1",
                    "2001:db8::1",
                    "::ffff:10.1.2.3",
                    "not-an-ip",
                    "8.8.8.8",
                ][..],
            ),
            opt(0.7, &["hq", "home"][..]),
        ),
        (
            opt(0.85, &["task", "task", "task", "audit", "other"][..]),
            opt(0.5, &["CHG-123", "INC-9"][..]),
            opt(0.3, &[1, 5][..]),
        ),
        prop::option::weighted(
            0.35,
            (
                prop::sample::select(&["user:alice", "svc:x"][..]),
                prop::collection::vec(
                    (
                        prop::sample::select(&["gw:1", "agent:z"][..]),
                        opt(0.7, &["workload", "agent"][..]),
                    ),
                    0..=2,
                ),
                prop::option::weighted(
                    0.6,
                    (
                        prop::sample::subsequence(&RICH_SCOPES[..], 0..5),
                        prop::sample::select(&[-30i64, 30, 600, 7200][..]),
                    ),
                ),
            ),
        ),
        (opt(0.3, &["a", "b"][..]), opt(0.2, &["prod"][..])),
    )
        .prop_map(
            move |(
                (attested, tier, ip, site),
                (purpose, ticket, risk),
                delegation,
                (team, env),
            )| {
                let mut out = json!({});
                let mut posture = serde_json::Map::new();
                posture.extend(attested.map(|a| ("attested".to_owned(), a)));
                posture.extend(tier.map(|t| ("tier".to_owned(), json!(t))));
                posture.extend(ip.map(|i| ("ip".to_owned(), json!(i))));
                posture.extend(site.map(|s| ("site".to_owned(), json!(s))));
                out["posture"] = Value::Object(posture);
                if let Some(name) = purpose {
                    let mut p = json!({ "name": name });
                    if let Some(t) = ticket {
                        p["ticket"] = json!(t);
                    }
                    if let Some(r) = risk {
                        p["attributes"] = json!({ "risk": r });
                    }
                    out["purpose"] = p;
                }
                if let Some((subject, actors, parent)) = delegation {
                    let actors: Vec<Value> = actors
                        .into_iter()
                        .map(|(s, k)| match k {
                            Some(k) => json!({ "subject": s, "kind": k }),
                            None => json!({ "subject": s }),
                        })
                        .collect();
                    let mut d = json!({ "subject": subject, "actors": actors });
                    if let Some((scopes, secs)) = parent {
                        d["parent"] = json!({ "scopes": scopes, "expires_at": at(now, secs) });
                    }
                    out["delegation"] = d;
                }
                let mut claims = serde_json::Map::new();
                claims.extend(team.map(|t| ("team".to_owned(), json!(t))));
                claims.extend(env.map(|e| ("env".to_owned(), json!(e))));
                if !claims.is_empty() {
                    out["claims"] = Value::Object(claims);
                }
                out
            },
        )
}

/// A rich request at `now`: every attribute a condition can read, from
/// small vocabularies.
pub fn rich_request(now: DateTime<Utc>) -> impl Strategy<Value = Value> {
    let wild_scopes = WILD_SCOPES.to_vec();
    let wild_audiences = WILD_AUDIENCES.to_vec();
    (
        rich_identity(now),
        rich_context(now),
        (
            prop::sample::subsequence(&RICH_SCOPES[..], 1..4),
            prop::option::weighted(0.25, prop::sample::select(wild_scopes)),
        ),
        (
            prop::sample::subsequence(&RICH_AUDIENCES[..], 0..3),
            prop::option::weighted(0.2, prop::sample::select(wild_audiences)),
        ),
        opt(
            0.5,
            &[json!(60), json!("10m"), json!("1h"), json!("2h")][..],
        ),
    )
        .prop_map(
            |(identity, context, (scopes, wild), (audience, broad), ttl)| {
                let mut scopes: Vec<&str> = scopes;
                scopes.extend(wild);
                let mut audience: Vec<&str> = audience;
                match broad {
                    // `*` / `**` alone: "any audience".
                    Some(b @ ("*" | "**")) => audience = vec![b],
                    Some(b) => audience.push(b),
                    None => {}
                }
                let mut req = context;
                req["identity"] = identity;
                req["scopes"] = json!(scopes);
                req["audience"] = json!(audience);
                if let Some(t) = ttl {
                    req["ttl"] = t;
                }
                req
            },
        )
}

/// A (policy, request, now) triple for the differential run.
pub fn rich_case() -> impl Strategy<Value = (Value, Value, DateTime<Utc>)> {
    (rich_policy(), prop::sample::select(&NOWS[..])).prop_flat_map(|(doc, now)| {
        let now: DateTime<Utc> = now.parse().unwrap();
        (Just(doc), rich_request(now), Just(now))
    })
}

// ------------------------------------------------------- wide generators
//
// Policies with many permits (docs/testing.md, "wide cases"): the engine
// keeps, per granted scope and audience, the set of matching permits that
// grant it; the rich policies above never have more than four permits, so
// these put 70–180 mostly-matching permits in front of a rich policy, and
// requests ask for a wildcard over a bulk vocabulary, so decisions depend
// on permits past the 64th and 128th, and grants hold more than 64 scopes.

/// Size of the bulk scope vocabulary of wide policies.
pub const BULK: usize = 90;

/// Bulk scope `i`: `bulk:00` … `bulk:89`.
pub fn bulk(i: usize) -> String {
    format!("bulk:{i:02}")
}

/// Conditions of the wide permits: most hold for most rich requests (each
/// index key: none, kind, subject prefix, claim, issuer, purpose).
const WIDE_WHEN: [&str; 8] = [
    r#"{}"#,
    r#"{}"#,
    r#"{"identity.kind": ["agent", "workload", "ci_job"]}"#,
    r#"{"identity.subject": {"glob": "agent:*"}}"#,
    r#"{"identity.state": "active"}"#,
    r#"{"identity.claims.env": ["prod", "dev", "prod-2"]}"#,
    r#"{"identity.issuer": "https://idp"}"#,
    r#"{"purpose.name": "task"}"#,
];

/// One wide permit: a condition, 1–4 bulk scopes (sometimes a rich scope or
/// a glob), audiences, a distinct cap (minutes), maybe a control.
fn wide_permit(i: usize) -> impl Strategy<Value = Value> {
    (
        0..WIDE_WHEN.len(),
        prop::collection::vec(0..BULK, 1..=4),
        prop::option::weighted(0.15, prop::sample::select(&RICH_RULE_SCOPES[..])),
        prop::sample::subsequence(&RICH_AUDIENCES[..], 1..3),
        prop::option::weighted(0.7, 2u64..300),
        prop::bool::weighted(0.3),
    )
        .prop_map(move |(when, scopes, rich, audience, ttl, control)| {
            let mut scopes: Vec<String> = scopes.into_iter().map(bulk).collect();
            scopes.sort();
            scopes.dedup();
            scopes.extend(rich.map(str::to_owned));
            let mut grant = json!({ "scopes": scopes, "audience": audience });
            if let Some(m) = ttl {
                grant["max_ttl"] = json!(format!("{m}m"));
            }
            let when: Value = serde_json::from_str(WIDE_WHEN[when]).unwrap();
            let mut rule = json!({ "id": format!("wide-{i}"), "when": when, "grant": grant });
            if control {
                rule["controls"] = json!([format!("W-{i}")]);
            }
            rule
        })
}

/// A rich policy behind 70–180 wide permits, with `max_ttl` raised to a day
/// so the wide permits' caps (2–300 minutes) decide lifetimes.
pub fn wide_policy() -> impl Strategy<Value = Value> {
    (rich_policy(), 70usize..=180).prop_flat_map(|(doc, n)| {
        let wide: Vec<_> = (0..n).map(wide_permit).collect();
        (Just(doc), wide).prop_map(|(mut doc, wide)| {
            let rich = doc["rule"].as_array().cloned().unwrap_or_default();
            doc["rule"] = Value::Array(wide.into_iter().chain(rich).collect());
            doc["policy"]["max_ttl"] = json!("24h");
            doc
        })
    })
}

/// A rich request that also asks for bulk scopes: sometimes a wildcard
/// over all of them (granted scopes beyond 64), sometimes a few concrete
/// ones, with a long ttl so the caps show.
pub fn wide_request(now: DateTime<Utc>) -> impl Strategy<Value = Value> {
    (
        rich_request(now),
        prop::option::weighted(0.6, prop::sample::select(&["bulk:*", "bulk:**", "*"][..])),
        prop::collection::vec(0..BULK + 5, 0..4),
        prop::option::weighted(0.7, prop::sample::select(&["12h", "20h", "90m"][..])),
    )
        .prop_map(|(mut req, wild, concrete, ttl)| {
            let scopes = req["scopes"].as_array_mut().unwrap();
            scopes.extend(concrete.into_iter().map(|i| json!(bulk(i))));
            scopes.extend(wild.map(|w| json!(w)));
            if let Some(t) = ttl {
                req["ttl"] = json!(t);
            }
            req
        })
}

/// A (policy, request, now) triple for the wide differential run.
pub fn wide_case() -> impl Strategy<Value = (Value, Value, DateTime<Utc>)> {
    (wide_policy(), prop::sample::select(&NOWS[..])).prop_flat_map(|(doc, now)| {
        let now: DateTime<Utc> = now.parse().unwrap();
        (Just(doc), wide_request(now), Just(now))
    })
}
