//! The lifetime at its boundaries (docs/semantics.md §2 step 11): caps that
//! tie with each other — the cap listed first is named (the policy's
//! `max_ttl` before a rule's, one granted (scope, audience) pair's rule
//! before a later pair's) — and a lifetime exactly at `min_ttl`, which is
//! granted.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a panic here is a failed test"
)]

use mintgate::{Decision, Duration, Grant, IssuancePolicy, MintRequest, Reason, TtlCap};
use serde_json::json;

use crate::fixtures::now;

const DOCS: &str = "https://docs.example.org";

fn policy(toml: &str) -> IssuancePolicy {
    IssuancePolicy::from_toml_str(toml).unwrap_or_else(|e| panic!("policy does not compile: {e}"))
}

/// The policy `ties` with `settings` (TOML lines of `[policy]`) and the
/// TOML `rules`.
fn ties(settings: &str, rules: &str) -> IssuancePolicy {
    policy(&format!(
        "[policy]\nid = \"ties\"\nrevision = \"1\"\n{settings}\n{rules}"
    ))
}

/// An agent asking for `scopes` at `DOCS` for `ttl`.
fn request(scopes: &[&str], ttl: &str) -> MintRequest {
    serde_json::from_value(json!({
        "identity": { "subject": "agent:a", "kind": "agent" },
        "scopes": scopes,
        "audience": [DOCS],
        "ttl": ttl,
    }))
    .unwrap()
}

/// Granted `scopes` at `DOCS` for `granted` minutes, the only reason a
/// clamp from `requested` minutes by `cap` (and `rule`).
#[track_caller]
fn assert_clamped(
    g: &Grant,
    scopes: &[&str],
    requested: u64,
    granted: u64,
    cap: TtlCap,
    rule: Option<&str>,
) {
    assert_eq!(g.decision, Decision::Narrow, "{g}");
    assert_eq!(g.scopes, scopes, "{g}");
    assert_eq!(g.audience, [DOCS], "{g}");
    assert_eq!(g.ttl, Some(Duration::from_mins(granted)), "{g}");
    assert_eq!(
        g.reasons,
        [Reason::TtlClamped {
            requested: Duration::from_mins(requested),
            granted: Duration::from_mins(granted),
            cap,
            rule: rule.map(Into::into),
        }],
        "{g}"
    );
}

/// The policy's `max_ttl` and the only permit's are both an hour: the
/// policy's is listed first, so a two-hour request is clamped by it.
#[test]
fn a_rule_cap_equal_to_the_policy_max_leaves_the_clamp_to_the_policy_max() {
    let p = ties(
        "max_ttl = \"1h\"",
        r#"
        [[rule]]
        id = "agents"
        when = { "identity.kind" = "agent" }
        grant = { scopes = ["docs:read"], audience = ["https://docs.example.org"], max_ttl = "1h" }
        "#,
    );
    let g = p.evaluate(&request(&["docs:read"], "2h"), now());
    assert_clamped(&g, &["docs:read"], 120, 60, TtlCap::PolicyMax, None);
}

/// Two permits cap their own scope at 30 minutes: the clamp names the rule
/// of the first granted (scope, audience) pair, in grant order.
#[test]
fn equal_rule_caps_of_two_pairs_name_the_rule_of_the_first_pair() {
    let p = ties(
        "max_ttl = \"2h\"",
        r#"
        [[rule]]
        id = "a-readers"
        when = { "identity.kind" = "agent" }
        grant = { scopes = ["a:read"], audience = ["https://docs.example.org"], max_ttl = "30m" }

        [[rule]]
        id = "b-readers"
        when = { "identity.kind" = "agent" }
        grant = { scopes = ["b:read"], audience = ["https://docs.example.org"], max_ttl = "30m" }
        "#,
    );
    for (scopes, rule) in [
        (["a:read", "b:read"], "a-readers"),
        (["b:read", "a:read"], "b-readers"),
    ] {
        let g = p.evaluate(&request(&scopes, "1h"), now());
        assert_clamped(&g, &scopes, 60, 30, TtlCap::Rule, Some(rule));
    }
}

/// `min_ttl = "5m"`: a five-minute lifetime is at the minimum, not below
/// it, and is granted as asked.
#[test]
fn a_lifetime_equal_to_min_ttl_is_granted() {
    let p = ties(
        "max_ttl = \"1h\"\nmin_ttl = \"5m\"",
        r#"
        [[rule]]
        id = "agents"
        when = { "identity.kind" = "agent" }
        grant = { scopes = ["docs:read"], audience = ["https://docs.example.org"] }
        "#,
    );
    let g = p.evaluate(&request(&["docs:read"], "5m"), now());
    assert_eq!(g.decision, Decision::Allow, "{g}");
    assert_eq!(g.scopes, ["docs:read"], "{g}");
    assert_eq!(g.audience, [DOCS], "{g}");
    assert_eq!(g.ttl, Some(Duration::from_mins(5)), "{g}");
    assert_eq!(
        g.expires_at,
        Some(now() + chrono::TimeDelta::minutes(5)),
        "{g}"
    );
    assert_eq!(g.reasons, [], "{g}");
}

/// Scopes granted by the same permits come one after another and share
/// their caps; a scope of another permit between or after them still
/// brings its own, smaller cap, which clamps and is named.
#[test]
fn a_smaller_rule_cap_after_a_run_of_scopes_of_one_permit_clamps() {
    let p = ties(
        "max_ttl = \"2h\"",
        r#"
        [[rule]]
        id = "wide"
        when = { "identity.kind" = "agent" }
        grant = { scopes = ["a:read", "a:list", "a:write"], audience = ["https://docs.example.org"], max_ttl = "45m" }

        [[rule]]
        id = "narrow"
        when = { "identity.kind" = "agent" }
        grant = { scopes = ["b:read"], audience = ["https://docs.example.org"], max_ttl = "20m" }
        "#,
    );
    for scopes in [
        &["a:read", "a:list", "b:read", "a:write"][..],
        &["a:read", "a:list", "a:write", "b:read"],
        &["b:read", "a:read", "a:list"],
    ] {
        let g = p.evaluate(&request(scopes, "1h"), now());
        assert_clamped(&g, scopes, 60, 20, TtlCap::Rule, Some("narrow"));
    }
    let scopes = ["a:read", "a:list", "a:write"];
    let g = p.evaluate(&request(&scopes, "1h"), now());
    assert_clamped(&g, &scopes, 60, 45, TtlCap::Rule, Some("wide"));
}
