//! The nearest rule of a removed scope (docs/semantics.md §4): looked for
//! among the rules the request's index buckets hold *and* the permits that
//! grant the scope — by its exact name or by a glob — even when the index
//! never led the request to them. A caller denied `docs:write` is told which
//! rule grants it and the condition it missed.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a panic here is a failed test"
)]

use mintgate::{
    ConditionFailure, Decision, IssuancePolicy, Limits, MintRequest, Reason, ScopeCause,
};
use serde_json::json;

use crate::fixtures::now;

/// The policy head and its one rule, `reader`, which grants `docs:read` to
/// `svc:reader`.
const READER: &str = r#"
    [policy]
    id = "nearest"
    revision = "1"
    max_ttl = "10m"

    [[rule]]
    id = "reader"
    when = { "identity.subject" = "svc:reader" }
    grant = { scopes = ["docs:read"], audience = ["https://docs.example.org"] }
    "#;

/// [`READER`], then `writers`, which grants the scope `grant` (a name or a
/// glob) to `svc:writer` only, so the index files it under that subject, a
/// bucket a request of `svc:reader` never visits.
fn policy(grant: &str) -> IssuancePolicy {
    IssuancePolicy::from_toml_str(&format!(
        r#"{READER}
        [[rule]]
        id = "writers"
        when = {{ "identity.subject" = "svc:writer" }}
        grant = {{ scopes = ["{grant}"], audience = ["https://docs.example.org"] }}
        "#
    ))
    .unwrap_or_else(|e| panic!("policy does not compile: {e}"))
}

fn reader_asking_for_write() -> MintRequest {
    serde_json::from_value(json!({
        "identity": { "subject": "svc:reader", "kind": "workload" },
        "scopes": ["docs:read", "docs:write"],
        "audience": ["https://docs.example.org"],
    }))
    .unwrap()
}

/// `docs:write` removed, naming `writers` and its subject condition.
#[track_caller]
fn assert_write_removed_naming_writers(policy: &IssuancePolicy) {
    let g = policy.evaluate(&reader_asking_for_write(), now());
    let condition = ConditionFailure {
        path: "identity.subject".into(),
        expected: "\"svc:writer\"".into(),
        actual: "\"svc:reader\"".into(),
    };
    assert_write_removed_naming(&g, "writers", condition);
}

#[test]
fn a_removed_scope_names_the_rule_granting_it_by_name_outside_the_requests_buckets() {
    assert_write_removed_naming_writers(&policy("docs:write"));
}

#[test]
fn a_removed_scope_names_the_rule_granting_it_by_glob_outside_the_requests_buckets() {
    assert_write_removed_naming_writers(&policy("docs:*"));
}

#[test]
fn a_rule_granting_a_glob_of_another_family_is_not_named() {
    let g = policy("repo:*").evaluate(&reader_asking_for_write(), now());
    assert_eq!(g.scopes, ["docs:read"], "{g}");
    let [Reason::ScopeRemoved { scope, rule, .. }] = &g.reasons[..] else {
        panic!("{g}")
    };
    assert_eq!((&**scope, rule.as_deref()), ("docs:write", None), "{g}");
}

/// [`READER`], then each of `writers` (an id and its conditions, in policy
/// order), granting `docs:write`. `limits` as given.
fn writers(writers: &[(&str, &str)], limits: &Limits) -> IssuancePolicy {
    let mut text = READER.to_owned();
    for (id, when) in writers {
        text.push_str(&format!(
            r#"
            [[rule]]
            id = "{id}"
            when = {when}
            grant = {{ scopes = ["docs:write"], audience = ["https://docs.example.org"] }}
            "#
        ));
    }
    IssuancePolicy::from_toml_str_with_limits(&text, limits)
        .unwrap_or_else(|e| panic!("policy does not compile: {e}"))
}

/// `svc:reader` of team `docs` asks for `docs:read` and `docs:write`.
fn reader_of_team_docs_asking_for_write() -> MintRequest {
    serde_json::from_value(json!({
        "identity": { "subject": "svc:reader", "kind": "workload", "claims": { "team": "docs" } },
        "scopes": ["docs:read", "docs:write"],
        "audience": ["https://docs.example.org"],
    }))
    .unwrap()
}

/// `docs:write` removed, naming `rule` and its failed `condition`.
#[track_caller]
fn assert_write_removed_naming(g: &mintgate::Grant, rule: &str, condition: ConditionFailure) {
    assert_eq!(g.decision, Decision::Narrow, "{g}");
    assert_eq!(g.scopes, ["docs:read"], "{g}");
    assert_eq!(
        g.reasons,
        [Reason::ScopeRemoved {
            scope: "docs:write".into(),
            cause: ScopeCause::NotPermitted,
            rule: Some(rule.into()),
            condition: Some(condition),
            purpose: None,
        }],
        "{g}"
    );
}

fn subject_failure(expected: &str) -> ConditionFailure {
    ConditionFailure {
        path: "identity.subject".into(),
        expected: format!("\"{expected}\""),
        actual: "\"svc:reader\"".into(),
    }
}

fn team_failure(expected: &str) -> ConditionFailure {
    ConditionFailure {
        path: "identity.claims.team".into(),
        expected: format!("\"{expected}\""),
        actual: "\"docs\"".into(),
    }
}

/// `elsewhere` is filed under `svc:writer`, a bucket a request of
/// `svc:reader` never visits; `reader-ops` under `svc:reader`, so the index
/// hands it to the explanation before `elsewhere` (and both come again
/// among the rules granting the scope).
const ELSEWHERE_WITH_TEAM: (&str, &str) = (
    "elsewhere",
    r#"{ "identity.subject" = "svc:writer", "identity.claims.team" = "docs" }"#,
);
const ELSEWHERE: (&str, &str) = ("elsewhere", r#"{ "identity.subject" = "svc:writer" }"#);
const READER_OPS: (&str, &str) = (
    "reader-ops",
    r#"{ "identity.subject" = "svc:reader", "identity.claims.team" = "ops" }"#,
);

/// One condition true each: the tie goes to the first rule in policy order,
/// although the index hands over the later one first.
#[test]
fn the_nearest_rule_of_a_tie_is_the_first_in_policy_order_whatever_order_it_is_found_in() {
    let p = writers(&[ELSEWHERE_WITH_TEAM, READER_OPS], &Limits::default());
    let g = p.evaluate(&reader_of_team_docs_asking_for_write(), now());
    assert_write_removed_naming(&g, "elsewhere", subject_failure("svc:writer"));
}

/// `reader-ops` has one condition true, `elsewhere` none (each has one
/// that is not): the one with more conditions true is nearest, although it
/// comes later in policy order and the earlier one is found after it.
#[test]
fn the_nearest_rule_is_the_one_with_the_most_conditions_true() {
    let p = writers(&[ELSEWHERE, READER_OPS], &Limits::default());
    let g = p.evaluate(&reader_of_team_docs_asking_for_write(), now());
    assert_write_removed_naming(&g, "reader-ops", team_failure("ops"));
}

/// Both rules granting `docs:write` are outside the request's buckets, so
/// they are looked at only within `max_explained_rules`: with one, only
/// `elsewhere` (the first) is, and it is named although `far` has more
/// conditions true; with two, `far` is named.
#[test]
fn the_nearest_rule_is_looked_for_among_at_most_max_explained_rules_beyond_the_candidates() {
    let far = (
        "far",
        r#"{ "identity.subject" = "svc:other", "identity.claims.team" = "docs" }"#,
    );
    for (max, rule, condition) in [
        (1, "elsewhere", subject_failure("svc:writer")),
        (2, "far", subject_failure("svc:other")),
    ] {
        let mut limits = Limits::default();
        limits.max_explained_rules = max;
        let p = writers(&[ELSEWHERE, far], &limits);
        let g = p.evaluate(&reader_of_team_docs_asking_for_write(), now());
        assert_write_removed_naming(&g, rule, condition);
    }
}

/// When `max_explained_rules` runs out before the rules granting the scope
/// are all looked at, the request's own buckets are still walked:
/// `reader-ops`, second among the rules granting `docs:write` and beyond a
/// budget of one (or none), is found there and named.
#[test]
fn a_candidate_beyond_max_explained_rules_is_still_looked_at() {
    for max in [0, 1] {
        let mut limits = Limits::default();
        limits.max_explained_rules = max;
        let p = writers(&[ELSEWHERE, READER_OPS], &limits);
        let g = p.evaluate(&reader_of_team_docs_asking_for_write(), now());
        assert_write_removed_naming(&g, "reader-ops", team_failure("ops"));
    }
}

/// Two permits for `x:read`, each with one of its two conditions true for
/// the request: a tie, which goes to the first in policy order
/// (docs/semantics.md §4) — here `glob`, which grants `x:*` and so is
/// looked at *after* `exact`, filed under the scope's name. Its first
/// condition fails, so when it is looked at it can at best tie: the search
/// must not give up on it early, nor keep the rule found first.
#[test]
fn a_tie_found_second_still_goes_to_the_first_rule_in_policy_order() {
    let p = IssuancePolicy::from_toml_str(
        r#"
        [policy]
        id = "nearest"
        revision = "1"
        max_ttl = "10m"

        [[rule]]
        id = "glob"
        when = { "identity.subject" = "agent:a", "identity.kind" = "agent" }
        grant = { scopes = ["x:*"], audience = ["https://x.example.org"] }

        [[rule]]
        id = "exact"
        when = { "identity.kind" = "agent", "identity.subject" = "agent:b" }
        grant = { scopes = ["x:read"], audience = ["https://x.example.org"] }
        "#,
    )
    .unwrap();
    let req: MintRequest = serde_json::from_value(json!({
        "identity": { "subject": "agent:z", "kind": "agent" },
        "scopes": ["x:read"],
        "audience": ["https://x.example.org"],
    }))
    .unwrap();
    let g = p.evaluate(&req, now());
    assert_eq!(g.decision, Decision::Deny, "{g}");
    assert_eq!(
        g.reasons,
        [Reason::NotPermitted {
            nearest_rule: Some("glob".into()),
            condition: Some(ConditionFailure {
                path: "identity.subject".into(),
                expected: "\"agent:a\"".into(),
                actual: "\"agent:z\"".into(),
            }),
        }],
        "{g}"
    );
}
