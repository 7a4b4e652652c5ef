//! Forbids on attributes a request may lack — identity claims, the issuer,
//! the purpose — fail closed (docs/semantics.md §2 step 3,
//! docs/policy-reference.md §6): a request *without* the attribute makes the
//! condition unknown, and an unknown forbid applies. Only a request whose
//! value makes the condition false escapes it.
//!
//! The forbids here have no condition on the subject or the identity kind,
//! so the only thing that could file them somewhere a request lacking the
//! attribute does not look is the rule index: these tests pin that the index
//! never hides a forbid from such a request (src/index.rs, "forbids are only
//! filed under attributes every request has").
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic here is a failed test"
)]

use mintgate::{
    ConditionFailure, Decision, Denial, Grant, IssuancePolicy, MintRequest, Reason, ScopeCause,
};
use serde_json::{Value, json};

use crate::fixtures::now;

fn policy(toml: &str) -> IssuancePolicy {
    IssuancePolicy::from_toml_str(toml).unwrap_or_else(|e| panic!("policy does not compile: {e}"))
}

/// A permit for `docs:read` and `docs:write` for every agent, plus `forbid`
/// (the TOML of one `[[rule]]` body after its id and effect).
fn with_forbid(forbid: &str) -> IssuancePolicy {
    policy(&format!(
        r#"
        [policy]
        id = "forbids"
        revision = "1"
        max_ttl = "10m"

        [[rule]]
        id = "agents"
        when = {{ "identity.kind" = "agent" }}
        grant = {{ scopes = ["docs:read", "docs:write"], audience = ["https://docs.example.org"] }}

        [[rule]]
        id = "the-forbid"
        effect = "forbid"
        {forbid}
        "#
    ))
}

/// An agent asking for `docs:read` and `docs:write`, with `extra` merged
/// into the request (`identity` entries are merged into the identity).
fn request(extra: Value) -> MintRequest {
    let mut req = json!({
        "identity": { "subject": "agent:a", "kind": "agent" },
        "scopes": ["docs:read", "docs:write"],
        "audience": ["https://docs.example.org"],
    });
    for (k, v) in extra.as_object().unwrap() {
        if k == "identity" {
            for (ik, iv) in v.as_object().unwrap() {
                req["identity"][ik] = iv.clone();
            }
        } else {
            req[k] = v.clone();
        }
    }
    serde_json::from_value(req).unwrap()
}

#[track_caller]
fn assert_forbidden_whole(g: &Grant, what: &str) {
    assert_eq!(g.decision, Decision::Deny, "{what}: grant:\n{g}");
    assert_eq!(g.denial, Some(Denial::Forbidden), "{what}: grant:\n{g}");
    assert!(
        matches!(&g.reasons[..], [Reason::Forbidden { rule, .. }] if &**rule == "the-forbid"),
        "{what}: grant:\n{g}"
    );
    assert!(
        g.matched_rules.iter().any(|r| &**r == "the-forbid"),
        "{what}: grant:\n{g}"
    );
}

#[track_caller]
fn assert_write_removed(g: &Grant, what: &str) {
    assert_eq!(g.decision, Decision::Narrow, "{what}: grant:\n{g}");
    assert_eq!(g.scopes, ["docs:read"], "{what}: grant:\n{g}");
    assert!(
        matches!(
            &g.reasons[..],
            [Reason::ScopeRemoved { scope, cause: ScopeCause::Forbidden, rule: Some(rule), .. }]
                if scope == "docs:write" && &**rule == "the-forbid"
        ),
        "{what}: grant:\n{g}"
    );
}

#[track_caller]
fn assert_untouched(g: &Grant, what: &str) {
    assert_eq!(g.decision, Decision::Allow, "{what}: grant:\n{g}");
    assert_eq!(g.scopes, ["docs:read", "docs:write"], "{what}: grant:\n{g}");
    assert!(
        !g.matched_rules.iter().any(|r| &**r == "the-forbid"),
        "{what}: grant:\n{g}"
    );
}

/// The attributes under test: a forbid condition, requests that lack the
/// attribute or hold a value it cannot compare (the forbid applies), requests
/// that hold a matching value (it applies) and requests whose value makes it
/// false (it does not).
struct Case {
    when: &'static str,
    undecidable: Vec<Value>,
    matching: Vec<Value>,
    escaping: Vec<Value>,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            when: r#"{ "identity.claims.environment" = "prod" }"#,
            undecidable: vec![
                json!({}),
                json!({ "identity": { "claims": { "other": "prod" } } }),
                json!({ "identity": { "claims": { "environment": 1 } } }),
                json!({ "identity": { "claims": { "environment": true } } }),
            ],
            matching: vec![
                json!({ "identity": { "claims": { "environment": "prod" } } }),
                json!({ "identity": { "claims": { "environment": ["dev", "prod"] } } }),
            ],
            escaping: vec![
                json!({ "identity": { "claims": { "environment": "dev" } } }),
                json!({ "identity": { "claims": { "environment": ["dev", "qa"] } } }),
            ],
        },
        Case {
            when: r#"{ "identity.claims.environment" = ["prod", "staging"] }"#,
            undecidable: vec![
                json!({}),
                json!({ "identity": { "claims": { "environment": 2 } } }),
            ],
            matching: vec![json!({ "identity": { "claims": { "environment": "staging" } } })],
            escaping: vec![json!({ "identity": { "claims": { "environment": "dev" } } })],
        },
        Case {
            when: r#"{ "identity.issuer" = "https://untrusted.example" }"#,
            undecidable: vec![json!({})],
            matching: vec![json!({ "identity": { "issuer": "https://untrusted.example" } })],
            escaping: vec![json!({ "identity": { "issuer": "https://idp.example" } })],
        },
        Case {
            when: r#"{ "identity.issuer" = { in = ["https://a.example", "https://b.example"] } }"#,
            undecidable: vec![json!({})],
            matching: vec![json!({ "identity": { "issuer": "https://b.example" } })],
            escaping: vec![json!({ "identity": { "issuer": "https://c.example" } })],
        },
        Case {
            when: r#"{ "purpose.name" = "incident" }"#,
            undecidable: vec![json!({})],
            matching: vec![json!({ "purpose": { "name": "incident" } })],
            escaping: vec![json!({ "purpose": { "name": "report" } })],
        },
        Case {
            when: r#"{ "purpose.name" = ["incident", "break-glass"] }"#,
            undecidable: vec![json!({})],
            matching: vec![json!({ "purpose": { "name": "break-glass" } })],
            escaping: vec![json!({ "purpose": { "name": "report" } })],
        },
        // Several indexable conditions at once: missing any one of them is
        // enough for the forbid to apply.
        Case {
            when: r#"{ "identity.claims.environment" = "prod", "identity.issuer" = "https://ci.example", "purpose.name" = "deploy" }"#,
            undecidable: vec![
                json!({}),
                json!({ "identity": { "issuer": "https://ci.example", "claims": { "environment": "prod" } } }),
                json!({ "purpose": { "name": "deploy" }, "identity": { "claims": { "environment": "prod" } } }),
                json!({ "purpose": { "name": "deploy" }, "identity": { "issuer": "https://ci.example" } }),
            ],
            matching: vec![json!({
                "purpose": { "name": "deploy" },
                "identity": { "issuer": "https://ci.example", "claims": { "environment": "prod" } },
            })],
            escaping: vec![
                json!({ "identity": { "claims": { "environment": "dev" } } }),
                json!({ "identity": { "issuer": "https://other.example" } }),
                json!({ "purpose": { "name": "report" } }),
            ],
        },
    ]
}

#[test]
fn a_whole_request_forbid_on_an_optional_attribute_denies_requests_lacking_it() {
    for case in cases() {
        let p = with_forbid(&format!("when = {}", case.when));
        for extra in case.undecidable.iter().chain(&case.matching) {
            let what = format!("{} on {extra}", case.when);
            assert_forbidden_whole(&p.evaluate(&request(extra.clone()), now()), &what);
        }
        for extra in &case.escaping {
            let what = format!("{} on {extra}", case.when);
            assert_untouched(&p.evaluate(&request(extra.clone()), now()), &what);
        }
    }
}

#[test]
fn a_scoped_forbid_on_an_optional_attribute_removes_its_scopes_from_requests_lacking_it() {
    for case in cases() {
        let p = with_forbid(&format!("when = {}\nscopes = [\"docs:write\"]", case.when));
        for extra in case.undecidable.iter().chain(&case.matching) {
            let what = format!("{} on {extra}", case.when);
            assert_write_removed(&p.evaluate(&request(extra.clone()), now()), &what);
        }
        for extra in &case.escaping {
            let what = format!("{} on {extra}", case.when);
            assert_untouched(&p.evaluate(&request(extra.clone()), now()), &what);
        }
    }
}

/// The same forbids among many rules filed under other attributes (subjects,
/// subject prefixes, claims, issuers, purposes, kinds): a request lacking the
/// forbid's attribute still meets it.
#[test]
fn a_forbid_on_an_optional_attribute_applies_among_many_indexed_rules() {
    let mut toml = String::from(
        r#"
        [policy]
        id = "crowded"
        revision = "1"
        max_ttl = "10m"
        "#,
    );
    for i in 0..20 {
        toml.push_str(&format!(
            r#"
            [[rule]]
            id = "subject-{i}"
            when = {{ "identity.subject" = "agent:{i}" }}
            grant = {{ scopes = ["docs:read", "docs:write"], audience = ["https://docs.example.org"] }}

            [[rule]]
            id = "claim-{i}"
            when = {{ "identity.claims.team" = "team-{i}" }}
            grant = {{ scopes = ["docs:read", "docs:write"], audience = ["https://docs.example.org"] }}

            [[rule]]
            id = "issuer-{i}"
            when = {{ "identity.issuer" = "https://idp-{i}.example" }}
            grant = {{ scopes = ["docs:read", "docs:write"], audience = ["https://docs.example.org"] }}
            "#
        ));
    }
    toml.push_str(
        r#"
        [[rule]]
        id = "prefix"
        when = { "identity.subject" = { glob = "agent:*" } }
        grant = { scopes = ["docs:read", "docs:write"], audience = ["https://docs.example.org"] }

        [[rule]]
        id = "the-forbid"
        effect = "forbid"
        when = { "identity.claims.environment" = "prod", "identity.issuer" = "https://ci.example", "purpose.name" = "deploy" }
        scopes = ["docs:write"]
        "#,
    );
    let p = policy(&toml);
    for extra in [
        json!({}),
        json!({ "identity": { "subject": "agent:3", "claims": { "team": "team-3" } } }),
        json!({ "purpose": { "name": "deploy" }, "identity": { "claims": { "team": "team-5" } } }),
        json!({ "identity": { "issuer": "https://ci.example", "claims": { "environment": "prod" } } }),
    ] {
        let g = p.evaluate(&request(extra.clone()), now());
        assert_eq!(g.scopes, ["docs:read"], "{extra}: grant:\n{g}");
        assert_eq!(g.decision, Decision::Narrow, "{extra}: grant:\n{g}");
    }
    for escaping in [
        json!({ "identity": { "issuer": "https://idp-4.example" } }),
        json!({ "identity": { "claims": { "environment": "dev", "team": "team-2" } } }),
    ] {
        let g = p.evaluate(&request(escaping.clone()), now());
        assert_eq!(g.decision, Decision::Allow, "{escaping}: grant:\n{g}");
        assert_eq!(
            g.scopes,
            ["docs:read", "docs:write"],
            "{escaping}: grant:\n{g}"
        );
    }
}

/// A forbid on a claim the request lacks applies (fail closed), and the
/// scope it forbids is downgraded: the downgrade's reason names the forbid
/// and the condition that could not be decided, as a removal's would.
#[test]
fn a_scope_downgraded_by_an_undecided_forbid_names_the_condition() {
    let p = policy(
        r#"
        [policy]
        id = "forbids"
        revision = "1"
        max_ttl = "10m"

        [downgrade]
        "docs:write" = "docs:read"

        [[rule]]
        id = "agents"
        when = { "identity.kind" = "agent" }
        grant = { scopes = ["docs:read", "docs:write"], audience = ["https://docs.example.org"] }

        [[rule]]
        id = "the-forbid"
        effect = "forbid"
        when = { "identity.claims.team" = "contractors" }
        scopes = ["docs:write"]
        "#,
    );
    let g = p.evaluate(&request(json!({ "scopes": ["docs:write"] })), now());
    assert_eq!(g.decision, Decision::Narrow, "grant:\n{g}");
    assert_eq!(g.scopes, ["docs:read"], "grant:\n{g}");
    assert_eq!(
        g.reasons,
        [Reason::ScopeDowngraded {
            from: "docs:write".into(),
            to: "docs:read".into(),
            cause: ScopeCause::Forbidden,
            rule: Some("the-forbid".into()),
            condition: Some(ConditionFailure {
                path: "identity.claims.team".into(),
                expected: "\"contractors\"".into(),
                actual: "missing".into(),
            }),
            purpose: None,
        }],
        "grant:\n{g}"
    );
}
