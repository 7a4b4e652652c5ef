//! The pattern module through the public API: requested wildcards mean what
//! policy globs mean (docs/policy-reference.md, "Requested wildcards"), and
//! the lints that compare patterns decide exactly.
//!
//! The matchers and the algebra themselves are property-tested inside the
//! crate (`src/pattern/tests.rs`): their API is crate-internal.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers outside #[test]: a panic here is a failed test"
)]
#![allow(
    unsafe_code,
    reason = "a counting global allocator implements the unsafe GlobalAlloc trait"
)]

use chrono::{DateTime, Utc};
use mintgate::{Decision, IssuancePolicy, MintRequest};
use serde_json::json;

fn now() -> DateTime<Utc> {
    "2026-11-28T12:00:00Z".parse().unwrap()
}

/// One permit granting any scope, and a purpose naming the concrete ones a
/// requested wildcard may become.
const POLICY: &str = r#"
[policy]
id = "p"
revision = "1"
max_ttl = "1h"

[purposes.ops]
scopes = [
  "cafe:read", "café:read", "caf:read",
  "spiffe://td/ns/a/sa/x", "spiffe://td/ns/a/b/sa/x", "spiffe://td/ns/a/sa/x/y",
  "\\[beta]:read", "beta:read",
]

[[rule]]
id = "ops"
when = { "identity.kind" = "agent" }
grant = { scopes = ["**"], audience = ["https://api.example.org"] }
"#;

/// The grant for one requested scope.
fn grant(requested: &str) -> mintgate::Grant {
    let policy = IssuancePolicy::from_toml_str(POLICY).unwrap();
    let req: MintRequest = serde_json::from_value(json!({
        "identity": { "subject": "a", "kind": "agent" },
        "purpose": { "name": "ops" },
        "scopes": [requested],
        "audience": ["https://api.example.org"]
    }))
    .unwrap();
    policy.evaluate(&req, now())
}

/// The scopes granted for one requested scope (a narrowed grant).
fn granted(requested: &str) -> Vec<String> {
    let g = grant(requested);
    assert_eq!(g.decision, Decision::Narrow, "{g}");
    g.scopes
}

#[test]
fn question_mark_is_one_character_not_one_byte() {
    // Before: `?` matched one byte, so `café:read` (é is two) was missed.
    assert_eq!(granted("caf?:read"), ["cafe:read", "café:read"]);
}

#[test]
fn a_mix_of_star_and_double_star_means_what_it_says() {
    // Before: a mix of `*` and `**` matched nothing.
    assert_eq!(
        granted("spiffe://td/ns/**/sa/*"),
        ["spiffe://td/ns/a/sa/x", "spiffe://td/ns/a/b/sa/x"]
    );
    assert_eq!(
        granted("spiffe://td/*/a/**"),
        [
            "spiffe://td/ns/a/sa/x",
            "spiffe://td/ns/a/b/sa/x",
            "spiffe://td/ns/a/sa/x/y"
        ]
    );
}

#[test]
fn brackets_and_backslashes_in_a_request_are_literal() {
    assert_eq!(granted("[beta]:*"), ["[beta]:read"]);
    // Not a class: `[b]eta:*` names nothing the policy knows.
    let g = grant("[b]eta:*");
    assert_eq!(g.decision, Decision::Deny, "{g}");
    assert!(g.scopes.is_empty());
}

/// The lints that compare patterns (authoring feature).
#[cfg(feature = "authoring")]
mod lints {
    use mintgate::IssuancePolicy;
    use mintgate::authoring::Lint;

    fn lints(text: &str) -> Vec<Lint> {
        IssuancePolicy::from_toml_str(text)
            .unwrap_or_else(|e| panic!("{e}\n{text}"))
            .lint()
    }

    fn codes(lints: &[Lint]) -> Vec<&'static str> {
        lints.iter().map(|l| l.code).collect()
    }

    /// MG007 asks whether a purpose's scopes overlap what a permit grants:
    /// `a?b` and `a??b` share no string (the lengths differ), which the old
    /// prefix-and-suffix test could not see.
    #[test]
    fn lints_decide_overlap_exactly() {
        let text = |purpose: &str| {
            format!(
                "[policy]\nid = \"t\"\nrevision = \"1\"\nmax_ttl = \"1h\"\n[purposes.p]\nscopes = [\"{purpose}\"]\n[[rule]]\nid = \"r\"\ncontrols = [\"c\"]\nwhen = {{ \"identity.kind\" = \"agent\" }}\ngrant = {{ scopes = [\"x:a?b\"], audience = [\"https://api.example.org\"] }}\n"
            )
        };
        let found = lints(&text("x:a??b"));
        assert!(codes(&found).contains(&"MG007"), "{found:?}");
        let found = lints(&text("x:a*b"));
        assert!(!codes(&found).contains(&"MG007"), "{found:?}");
    }

    /// MG002 asks whether unconditional forbids cover every scope a permit
    /// grants: `reports:*` covers `reports:r[a-e]ad` and `reports:?`, but not
    /// `reports:a/b`-shaped grants such as `reports:**`.
    #[test]
    fn lints_decide_cover_exactly() {
        let text = |granted: &str| {
            format!(
                "[policy]\nid = \"t\"\nrevision = \"1\"\nmax_ttl = \"1h\"\n[[rule]]\nid = \"r\"\ncontrols = [\"c\"]\nwhen = {{ \"identity.kind\" = \"agent\" }}\ngrant = {{ scopes = [{granted}], audience = [\"https://api.example.org\"] }}\n[[rule]]\nid = \"no\"\neffect = \"forbid\"\ncontrols = [\"c\"]\nscopes = [\"reports:*\"]\n"
            )
        };
        let found = lints(&text("\"reports:r[a-e]ad\", \"reports:?\""));
        assert!(codes(&found).contains(&"MG002"), "{found:?}");
        let found = lints(&text("\"reports:**\""));
        assert!(!codes(&found).contains(&"MG002"), "{found:?}");
    }

    // ------------------------------------------------ no allocation per candidate
}

#[path = "common/counting.rs"]
mod counting;

#[global_allocator]
static ALLOCATOR: counting::Counting = counting::Counting;

/// A wildcard request against 1 and against 300 candidate names it does not
/// match (mixed stars, `?`): the same grant, the same allocations.
#[test]
fn matching_a_requested_wildcard_allocates_nothing_per_candidate() {
    let policy = |extra: usize| {
        let mut names: Vec<String> = (0..extra).map(|i| format!("\"x/{i}/sa/y\"")).collect();
        names.push("\"spiffe://td/ns/a/sa/x\"".into());
        let text = format!(
            "[policy]\nid = \"p\"\nrevision = \"1\"\nmax_ttl = \"1h\"\n[purposes.ops]\nscopes = [{}]\n[[rule]]\nid = \"ops\"\nwhen = {{ \"identity.kind\" = \"agent\" }}\ngrant = {{ scopes = [\"**\"], audience = [\"https://api.example.org\"] }}\n",
            names.join(", ")
        );
        IssuancePolicy::from_toml_str(&text).unwrap()
    };
    let req: MintRequest = serde_json::from_value(json!({
        "identity": { "subject": "a", "kind": "agent" },
        "purpose": { "name": "ops" },
        "scopes": ["spiffe://td/**/s?/*"],
        "audience": ["https://api.example.org"]
    }))
    .unwrap();
    let count = |p: &IssuancePolicy| {
        drop(p.evaluate(&req, now())); // warm the per-thread scratch
        let mut grant = None;
        let n = counting::allocations(|| grant = Some(p.evaluate(&req, now())));
        let grant = grant.unwrap();
        assert_eq!(grant.scopes, ["spiffe://td/ns/a/sa/x"], "{grant}");
        n
    };
    let (one, many) = (policy(0), policy(300));
    assert_eq!(count(&one), count(&many));
}
