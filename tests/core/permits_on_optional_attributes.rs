//! Permits whose most selective condition is an exact subject, a subject
//! glob, an identity claim, the issuer, the purpose or the identity kind
//! apply to exactly the requests that meet them (docs/semantics.md §2 step
//! 3): a claim that is a list matches when any element does, a literal list
//! matches any of its values, and a request lacking the attribute (or holding
//! a value of another type) is not permitted. Each rule is alone in its
//! policy and among many others filed under the same attribute, so the
//! rule index (src/index.rs) is what these pin: it finds every rule that
//! can match.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic here is a failed test"
)]

use mintgate::{Decision, Denial, IssuancePolicy, MintRequest};
use serde_json::{Value, json};

use crate::fixtures::now;

fn policy(toml: &str) -> IssuancePolicy {
    IssuancePolicy::from_toml_str(toml).unwrap_or_else(|e| panic!("policy does not compile: {e}"))
}

/// `target` (granting `docs:read`) after `crowd` decoys, each with the same
/// kind of condition on other values (granting `mail:read`).
fn crowded(target: &str, decoy: impl Fn(usize) -> String, crowd: usize) -> IssuancePolicy {
    let mut toml = String::from("[policy]\nid = \"keyed\"\nrevision = \"1\"\nmax_ttl = \"10m\"\n");
    for i in 0..crowd {
        toml.push_str(&format!(
            "[[rule]]\nid = \"decoy-{i}\"\nwhen = {}\ngrant = {{ scopes = [\"mail:read\"], audience = [\"https://docs.example.org\"] }}\n",
            decoy(i)
        ));
    }
    toml.push_str(&format!(
        "[[rule]]\nid = \"target\"\nwhen = {target}\ngrant = {{ scopes = [\"docs:read\"], audience = [\"https://docs.example.org\"] }}\n"
    ));
    policy(&toml)
}

fn request(identity: Value, purpose: Option<&str>) -> MintRequest {
    let mut req = json!({
        "identity": identity,
        "scopes": ["docs:read"],
        "audience": ["https://docs.example.org"],
    });
    if let Some(p) = purpose {
        req["purpose"] = json!({ "name": p });
    }
    serde_json::from_value(req).unwrap()
}

fn id(extra: Value) -> Value {
    let mut identity = json!({ "subject": "agent:a", "kind": "agent" });
    for (k, v) in extra.as_object().unwrap() {
        identity[k] = v.clone();
    }
    identity
}

#[track_caller]
fn check(
    target: &str,
    decoy: impl Fn(usize) -> String,
    allowed: &[MintRequest],
    denied: &[MintRequest],
) {
    for crowd in [0, 40] {
        let p = crowded(target, &decoy, crowd);
        for r in allowed {
            let g = p.evaluate(r, now());
            assert_eq!(
                g.decision,
                Decision::Allow,
                "{target}, {crowd} decoys: grant:\n{g}"
            );
            assert_eq!(g.scopes, ["docs:read"], "{target}: grant:\n{g}");
            assert_eq!(
                g.matched_rules.iter().map(|r| &**r).collect::<Vec<_>>(),
                ["target"],
                "{target}: grant:\n{g}"
            );
        }
        for r in denied {
            let g = p.evaluate(r, now());
            assert_eq!(
                g.decision,
                Decision::Deny,
                "{target}, {crowd} decoys: grant:\n{g}"
            );
            assert_eq!(
                g.denial,
                Some(Denial::NotPermitted),
                "{target}: grant:\n{g}"
            );
        }
    }
}

#[test]
fn a_permit_on_a_claim_applies_to_any_matching_value_of_the_claim() {
    let claim = |v: Value| request(id(json!({ "claims": { "environment": v } })), None);
    check(
        r#"{ "identity.claims.environment" = ["prod", "staging"] }"#,
        |i| format!(r#"{{ "identity.claims.environment" = "env-{i}" }}"#),
        &[
            claim(json!("prod")),
            claim(json!("staging")),
            claim(json!(["dev", "staging"])),
        ],
        &[
            claim(json!("dev")),
            claim(json!(["dev", "qa"])),
            claim(json!(1)),
            claim(json!([])),
            request(id(json!({})), None),
            request(id(json!({ "claims": { "other": "prod" } })), None),
        ],
    );
}

#[test]
fn a_permit_on_the_issuer_applies_to_that_issuer_only() {
    let issuer = |v: &str| request(id(json!({ "issuer": v })), None);
    check(
        r#"{ "identity.issuer" = { in = ["https://a.example", "https://b.example"] } }"#,
        |i| format!(r#"{{ "identity.issuer" = "https://idp-{i}.example" }}"#),
        &[issuer("https://a.example"), issuer("https://b.example")],
        &[issuer("https://c.example"), request(id(json!({})), None)],
    );
}

#[test]
fn a_permit_on_the_purpose_applies_to_that_purpose_only() {
    check(
        r#"{ "purpose.name" = "incident" }"#,
        |i| format!(r#"{{ "purpose.name" = "purpose-{i}" }}"#),
        &[request(id(json!({})), Some("incident"))],
        &[
            request(id(json!({})), Some("report")),
            request(id(json!({})), None),
        ],
    );
}

#[test]
fn a_permit_on_subjects_applies_to_exact_and_globbed_subjects_only() {
    let subject = |s: &str| request(json!({ "subject": s, "kind": "workload" }), None);
    check(
        r#"{ "identity.subject" = ["svc:a", "svc:b"] }"#,
        |i| format!(r#"{{ "identity.subject" = "svc:{i}x" }}"#),
        &[subject("svc:a"), subject("svc:b")],
        &[subject("svc:c"), subject("svc:ab")],
    );
    check(
        r#"{ "identity.subject" = { glob = ["spiffe://prod/ns/*/sa/x", "svc:*"] } }"#,
        |i| format!(r#"{{ "identity.subject" = {{ glob = "spiffe://prod/ns{i}/*" }} }}"#),
        &[subject("spiffe://prod/ns/a/sa/x"), subject("svc:q")],
        &[
            subject("spiffe://prod/ns/a/b/sa/x"),
            subject("spiffe://prod/n"),
            subject("sv"),
        ],
    );
}

#[test]
fn a_permit_on_identity_kinds_applies_to_those_kinds_only() {
    let kind = |k: &str| request(json!({ "subject": "x", "kind": k }), None);
    check(
        r#"{ "identity.kind" = ["workload", "ci_job"] }"#,
        |_| r#"{ "identity.kind" = "agent" }"#.to_owned(),
        &[kind("workload"), kind("ci_job")],
        &[kind("user")],
    );
}
