//! The texts a grant gives people (docs/semantics.md §5, "Explanations"):
//! the audit explanation (`Display for Grant` and `Reason`) names the rule
//! behind a removed scope and cuts each list after a fixed number of items,
//! saying how many more there are; the caller-safe explanation
//! (`Grant::caller_explanation`) says why an audience was removed without
//! naming a rule.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a panic here is a failed test"
)]

use mintgate::{
    AttrValue, AudienceCause, CallerDetail, ConditionFailure, Grant, IssuancePolicy, MintRequest,
    Reason, ScopeCause,
};
use serde_json::json;

/// An allowed grant of `docs:read`, to format.
fn some_grant() -> Grant {
    let policy = IssuancePolicy::from_toml_str(
        r#"
        [policy]
        id = "texts"
        revision = "1"
        max_ttl = "10m"

        [[rule]]
        id = "docs"
        grant = { scopes = ["docs:read"], audience = ["https://docs.example.org"] }
        "#,
    )
    .unwrap_or_else(|e| panic!("policy does not compile: {e}"));
    let request: MintRequest = serde_json::from_value(json!({
        "identity": { "subject": "svc:a", "kind": "workload" },
        "scopes": ["docs:read"],
        "audience": ["https://docs.example.org"],
    }))
    .unwrap();
    policy.evaluate(&request, "2026-11-28T12:00:00Z".parse().unwrap())
}

fn scope_removed(rule: Option<&str>) -> Reason {
    Reason::ScopeRemoved {
        scope: "docs:write".into(),
        cause: ScopeCause::NotPermitted,
        rule: rule.map(Into::into),
        condition: None,
        purpose: None,
    }
}

#[test]
fn a_removed_scope_names_its_rule_and_only_when_there_is_one() {
    assert_eq!(
        scope_removed(Some("docs-readers")).to_string(),
        "scope `docs:write` removed: no matching rule permits it (rule `docs-readers`)"
    );
    assert_eq!(
        scope_removed(None).to_string(),
        "scope `docs:write` removed: no matching rule permits it"
    );
}

/// `n` granted claims `c00`, `c01`, … each with the value `"v"`.
fn with_claims(n: usize) -> Grant {
    let mut g = some_grant();
    g.claims = (0..n)
        .map(|i| (format!("c{i:02}"), AttrValue::from("v")))
        .collect();
    g
}

fn claims_line(g: &Grant) -> String {
    let text = g.to_string();
    let line = text.lines().find(|l| l.trim_start().starts_with("claims:"));
    line.unwrap_or_else(|| panic!("no claims line in:\n{text}"))
        .to_owned()
}

#[test]
fn the_claims_line_shows_twenty_claims_then_how_many_more() {
    let line = claims_line(&with_claims(23));
    assert!(!line.contains("c20="), "{line}");
    assert!(line.ends_with(r#"c19="v" … and 3 more"#), "{line}");
}

#[test]
fn the_claims_line_of_twenty_claims_or_fewer_has_no_count() {
    for n in [1, 20] {
        let line = claims_line(&with_claims(n));
        assert!(!line.contains("more"), "{n} claims: {line}");
        assert!(line.ends_with(&format!(r#"c{:02}="v""#, n - 1)), "{line}");
    }
}

#[test]
fn the_caller_is_told_why_an_audience_was_removed() {
    let mut g = some_grant();
    g.caller_detail = CallerDetail::Summary;
    let removed = |cause| Reason::AudienceRemoved {
        audience: "https://search.example.org".into(),
        cause,
    };
    g.reasons = vec![removed(AudienceCause::CannotCarryScopes)];
    assert_eq!(
        g.caller_explanation().to_string(),
        "audience `https://search.example.org` removed: it cannot carry every granted scope"
    );
    g.reasons = vec![removed(AudienceCause::NotPermitted)];
    assert_eq!(
        g.caller_explanation().to_string(),
        "audience `https://search.example.org` removed: not permitted for the granted scopes"
    );
}

/// A condition's expected value is shown as the policy wrote it, in JSON:
/// quotes, backslashes and control characters escaped, so an explanation
/// can't be misread (or forged) by a literal that holds them.
#[test]
fn a_failed_conditions_expected_text_escapes_quotes_backslashes_and_control_characters() {
    for (literal, shown) in [
        ("plain", r#""plain""#),
        ("say \"hi\"", r#""say \"hi\"""#),
        ("dom\\user", r#""dom\\user""#),
        ("tab\there", r#""tab\there""#),
        ("with space", r#""with space""#),
        // Each alone: no other character sends the literal to the escaper.
        ("\"", r#""\"""#),
        ("\\", r#""\\""#),
        ("\t", r#""\t""#),
        ("\u{1}", r#""\u0001""#),
    ] {
        let c = failed_team_condition(json!(literal), &mintgate::Limits::default());
        assert_eq!(c.expected, shown, "{literal:?}");
    }
}

/// A condition's expected text is cut to `max_error_excerpt_len` characters
/// and an ellipsis: a policy's long literal is not repeated whole in every
/// explanation (for a literal and for an operator table alike).
#[test]
fn a_failed_conditions_expected_text_is_cut_to_the_excerpt_length() {
    let long = "t".repeat(300);
    let mut limits = mintgate::Limits::default();
    limits.max_error_excerpt_len = 16;
    for (condition, shown) in [
        (json!(long), format!("\"{}…", "t".repeat(15))),
        (
            json!({ "glob": long }),
            format!("{{\"glob\":\"{}…", "t".repeat(7)),
        ),
        (json!("short"), "\"short\"".to_owned()),
    ] {
        let c = failed_team_condition(condition, &limits);
        assert_eq!(c.expected, shown);
    }
}

/// The condition a request of team `other` fails against a permit pinned to
/// `identity.claims.team` = `condition`, compiled within `limits`.
fn failed_team_condition(
    condition: serde_json::Value,
    limits: &mintgate::Limits,
) -> ConditionFailure {
    let document = json!({
        "policy": { "id": "texts", "revision": "1", "max_ttl": "10m" },
        "rule": [{
            "id": "pinned",
            "when": { "identity.claims.team": condition },
            "grant": { "scopes": ["docs:read"], "audience": ["https://docs.example.org"] },
        }],
    });
    let policy = IssuancePolicy::from_json_str_with_limits(&document.to_string(), limits).unwrap();
    let request: MintRequest = serde_json::from_value(json!({
        "identity": { "subject": "svc:a", "kind": "workload", "claims": { "team": "other" } },
        "scopes": ["docs:read"],
    }))
    .unwrap();
    let g = policy.evaluate(&request, "2026-11-28T12:00:00Z".parse().unwrap());
    match &g.reasons[..] {
        [
            Reason::NotPermitted {
                condition: Some(c), ..
            },
        ] => c.clone(),
        _ => panic!("{g}"),
    }
}
