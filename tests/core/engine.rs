//! The decision engine, rule by rule of docs/semantics.md §2, with exact grants:
//! decision, denial, scopes, audience, ttl and reason kinds.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a panic here is a failed test"
)]

use chrono::{DateTime, Utc};
use mintgate::{
    AudienceCause, Decision, Denial, Grant, IssuancePolicy, Limits, MintRequest, PolicyDocument,
    Reason, ScopeCause, TtlCap,
};
use serde_json::{Value, json};

use crate::fixtures::now;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn policy(toml: &str) -> IssuancePolicy {
    IssuancePolicy::from_toml_str(toml).unwrap_or_else(|e| panic!("policy does not compile: {e}"))
}

fn request(v: Value) -> MintRequest {
    serde_json::from_value(v).unwrap()
}

fn kinds(g: &Grant) -> Vec<&'static str> {
    g.reasons.iter().map(Reason::kind).collect()
}

fn ttl(g: &Grant) -> Option<u64> {
    g.ttl.map(|t| t.as_secs())
}

/// Assert the whole shape of a grant in one line per test.
#[track_caller]
fn assert_grant(
    g: &Grant,
    decision: Decision,
    scopes: &[&str],
    audience: &[&str],
    ttl_secs: Option<u64>,
    reason_kinds: &[&str],
) {
    assert_eq!(g.decision, decision, "decision; grant:\n{g}");
    assert_eq!(g.scopes, scopes, "scopes; grant:\n{g}");
    assert_eq!(g.audience, audience, "audience; grant:\n{g}");
    assert_eq!(ttl(g), ttl_secs, "ttl; grant:\n{g}");
    assert_eq!(kinds(g), reason_kinds, "reason kinds; grant:\n{g}");
    match decision {
        Decision::Deny => {
            assert!(g.denial.is_some() && g.expires_at.is_none());
        }
        _ => {
            assert!(g.denial.is_none());
            let expected = g.issued_at + chrono::TimeDelta::seconds(ttl_secs.unwrap() as i64);
            assert_eq!(g.expires_at, Some(expected));
        }
    }
}

// ------------------------------------------------------------ the quickstart

const QUICKSTART: &str = include_str!("../../examples/policies/quickstart.toml");

fn quickstart(file: &str) -> Grant {
    let text = std::fs::read_to_string(format!(
        "{}/examples/requests/{file}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let req: MintRequest = serde_json::from_str(&text).unwrap();
    policy(QUICKSTART).evaluate(&req, now())
}

#[test]
fn quickstart_agent_read_write_is_narrowed_to_read_because_purpose_does_not_justify_write() {
    let g = quickstart("1-agent-read-write.json");
    assert_grant(
        &g,
        Decision::Narrow,
        &["reports:read"],
        &["https://reports.example.org"],
        Some(600),
        &["scope_removed"],
    );
    assert_eq!(
        g.reasons[0],
        Reason::ScopeRemoved {
            scope: "reports:write".into(),
            cause: ScopeCause::NotJustifiedByPurpose,
            rule: None,
            condition: None,
            purpose: Some("summarize-reports".into()),
        }
    );
    assert_eq!(&*g.matched_rules[0], "reporting-agents");
    assert_eq!(
        g.controls.iter().map(|c| &**c).collect::<Vec<_>>(),
        ["OWASP NHI5:2025", "NIST CSF 2.0 PR.AA-05"]
    );
}

#[test]
fn quickstart_ci_job_from_unapproved_branch_is_denied_naming_the_failing_condition() {
    let g = quickstart("2a-ci-unapproved-branch.json");
    assert_grant(&g, Decision::Deny, &[], &[], None, &["not_permitted"]);
    assert_eq!(g.denial, Some(Denial::NotPermitted));
    let Reason::NotPermitted {
        nearest_rule,
        condition,
    } = &g.reasons[0]
    else {
        panic!("{g}")
    };
    assert_eq!(nearest_rule.as_deref(), Some("ci-deploy"));
    let c = condition.as_ref().unwrap();
    assert_eq!(c.path, "identity.claims.ref");
    assert_eq!(c.expected, "\"refs/heads/main\"");
    assert_eq!(c.actual, "\"refs/heads/feature-x\"");
}

#[test]
fn the_grant_records_caller_detail_only_when_the_policy_opts_in_to_full() {
    let text = |detail: &str| {
        format!(
            r#"
            [policy]
            id = "detail"
            revision = "1"
            max_ttl = "10m"
            {detail}

            [[rule]]
            id = "any-workload"
            when = {{ "identity.kind" = "workload" }}
            grant = {{ scopes = ["docs:read"], audience = ["https://docs.example.org"] }}
            "#
        )
    };
    let req = request(json!({
        "identity": { "subject": "svc:a", "kind": "workload" },
        "scopes": ["docs:read"],
    }));
    let full = policy(&text(r#"caller_detail = "full""#)).evaluate(&req, now());
    let json: Value = serde_json::from_str(&full.to_json()).unwrap();
    assert_eq!(json["caller_detail"], "full", "{json}");
    for detail in ["", r#"caller_detail = "summary""#] {
        let g = policy(&text(detail)).evaluate(&req, now());
        let json: Value = serde_json::from_str(&g.to_json()).unwrap();
        assert!(json.get("caller_detail").is_none(), "{detail}: {json}");
    }
}

#[test]
fn is_granted_holds_for_allow_and_narrow_and_not_for_deny() {
    for (file, decision, granted) in [
        ("2b-ci-approved.json", Decision::Allow, true),
        ("1-agent-read-write.json", Decision::Narrow, true),
        ("2a-ci-unapproved-branch.json", Decision::Deny, false),
    ] {
        let g = quickstart(file);
        assert_eq!(g.decision, decision, "{file}");
        assert_eq!(g.is_granted(), granted, "{file}");
    }
}

#[test]
fn quickstart_ci_job_from_main_is_allowed_exactly() {
    let g = quickstart("2b-ci-approved.json");
    assert_grant(
        &g,
        Decision::Allow,
        &["deploy:write"],
        &["https://deploy.example.org"],
        Some(600),
        &[],
    );
    assert_eq!(g.matched_rules.len(), 1);
}

#[test]
fn quickstart_federated_workload_broad_audience_is_narrowed_to_the_concrete_one() {
    let g = quickstart("3-federated-broad-audience.json");
    assert_grant(
        &g,
        Decision::Narrow,
        &["inventory:read"],
        &["https://inventory.example.org"],
        Some(900),
        &["audience_narrowed"],
    );
    assert_eq!(
        g.reasons[0],
        Reason::AudienceNarrowed {
            requested: Some("https://*.example.org".into()),
            granted: vec!["https://inventory.example.org".into()],
            rule: "partner-inventory-sync".into(),
        }
    );
}

#[test]
fn quickstart_delegated_assistant_is_attenuated_to_parent_scopes_and_expiry() {
    let g = quickstart("4-delegated-assistant.json");
    assert_grant(
        &g,
        Decision::Narrow,
        &["mail:read", "calendar:read"],
        &["https://workspace.example.org"],
        Some(480),
        &["scope_removed", "ttl_clamped"],
    );
    assert_eq!(g.expires_at, Some(at("2026-11-28T12:08:00Z")));
    assert!(matches!(
        &g.reasons[0],
        Reason::ScopeRemoved { scope, cause: ScopeCause::ExceedsParent, .. } if scope == "calendar:write"
    ));
    assert!(matches!(
        &g.reasons[1],
        Reason::TtlClamped {
            cap: TtlCap::ParentExpiry,
            ..
        }
    ));
}

#[test]
fn quickstart_offboarded_identity_is_denied_before_any_rule() {
    let g = quickstart("5-offboarded.json");
    assert_grant(&g, Decision::Deny, &[], &[], None, &["identity_ineligible"]);
    assert_eq!(g.denial, Some(Denial::Ineligible));
    assert!(g.matched_rules.is_empty(), "no rule is consulted");
}

// ------------------------------------------------------------ a test policy

const BASE: &str = r#"
[policy]
id = "engine-tests"
revision = "1"
default_ttl = "15m"
max_ttl = "1h"

[downgrade]
"docs:write" = "docs:read"

[[rule]]
id = "docs-agents"
controls = ["C-docs"]
when = { "identity.kind" = "agent", "identity.subject" = { glob = "agent:docs/*" } }
grant = { scopes = ["docs:read", "docs:write", "docs:list"], audience = ["https://docs.example.org"], max_ttl = "30m", claims = ["tenant"] }

[[rule]]
id = "search-agents"
controls = ["C-search"]
when = { "identity.kind" = "agent" }
grant = { scopes = ["search:query"], audience = ["https://search.example.org"], max_ttl = "5m" }

[[rule]]
id = "fresh-auth-only"
when = { "identity.kind" = "service_account", "identity.auth_age" = { max = "10m" } }
grant = { scopes = ["billing:read"], audience = ["https://billing.example.org"] }

[[rule]]
id = "no-writes-offsite"
effect = "forbid"
controls = ["C-offsite"]
when = { "posture.network" = { not = "corp" } }
scopes = ["*:write"]

[[rule]]
id = "quarantine"
effect = "forbid"
controls = ["C-quarantine"]
when = { "posture.quarantined" = true }
"#;

fn base_request(scopes: &[&str], audience: &[&str]) -> Value {
    json!({
        "identity": { "subject": "agent:docs/writer", "kind": "agent" },
        "scopes": scopes,
        "audience": audience,
        "posture": { "network": "corp", "quarantined": false }
    })
}

fn eval(policy_text: &str, req: Value) -> Grant {
    policy(policy_text).evaluate(&request(req), now())
}

#[test]
fn exact_request_within_a_rule_is_allowed_with_default_ttl() {
    let g = eval(
        BASE,
        base_request(&["docs:read", "docs:list"], &["https://docs.example.org"]),
    );
    assert_grant(
        &g,
        Decision::Allow,
        &["docs:read", "docs:list"],
        &["https://docs.example.org"],
        Some(900),
        &[],
    );
    assert_eq!(
        g.controls.iter().map(|c| &**c).collect::<Vec<_>>(),
        ["C-docs"]
    );
}

#[test]
fn deny_by_default_names_nearest_rule_and_failed_condition() {
    let mut req = base_request(&["docs:read"], &["https://docs.example.org"]);
    req["identity"]["subject"] = json!("agent:other/writer");
    let g = eval(BASE, req);
    // search-agents matches the kind but does not grant docs:read.
    assert_grant(
        &g,
        Decision::Deny,
        &[],
        &[],
        None,
        &["scope_removed", "no_scope_grantable"],
    );
    assert_eq!(g.denial, Some(Denial::NotPermitted));
    let Reason::ScopeRemoved {
        cause: ScopeCause::NotPermitted,
        rule,
        condition,
        ..
    } = &g.reasons[0]
    else {
        panic!("{g}")
    };
    assert_eq!(rule.as_deref(), Some("docs-agents"));
    let c = condition.as_ref().unwrap();
    assert_eq!(c.path, "identity.subject");
    assert_eq!(c.actual, "\"agent:other/writer\"");
}

#[test]
fn no_matching_permit_at_all_is_not_permitted() {
    let req = json!({
        "identity": { "subject": "svc", "kind": "workload" },
        "scopes": ["docs:read"],
        "posture": { "network": "corp", "quarantined": false }
    });
    let g = eval(BASE, req);
    assert_grant(&g, Decision::Deny, &[], &[], None, &["not_permitted"]);
    assert_eq!(g.denial, Some(Denial::NotPermitted));
}

/// With nothing left, the denial is `forbidden` only when every removal
/// was a forbid's doing (docs/semantics.md §2 step 7): a wildcard that
/// covers nothing the request may have is removed too, and it is not a
/// forbid's doing.
#[test]
fn a_wildcard_covering_nothing_beside_a_forbidden_scope_is_denied_as_not_permitted() {
    let mut req = base_request(&["search:write"], &["https://search.example.org"]);
    req["posture"]["network"] = json!("offsite");
    let g = eval(BASE, req.clone());
    assert_grant(
        &g,
        Decision::Deny,
        &[],
        &[],
        None,
        &["scope_removed", "no_scope_grantable"],
    );
    assert_eq!(g.denial, Some(Denial::Forbidden), "{g}");

    req["scopes"] = json!(["search:write", "billing:*"]);
    let g = eval(BASE, req);
    assert_grant(
        &g,
        Decision::Deny,
        &[],
        &[],
        None,
        &["scope_removed", "scope_removed", "no_scope_grantable"],
    );
    let causes: Vec<ScopeCause> = (g.reasons.iter())
        .filter_map(|r| match r {
            Reason::ScopeRemoved { cause, .. } => Some(*cause),
            _ => None,
        })
        .collect();
    assert_eq!(causes, [ScopeCause::Forbidden, ScopeCause::Wildcard], "{g}");
    assert_eq!(g.denial, Some(Denial::NotPermitted), "{g}");
}

#[test]
fn forbid_without_scopes_denies_the_request_as_forbidden() {
    let mut req = base_request(&["docs:read"], &["https://docs.example.org"]);
    req["posture"]["quarantined"] = json!(true);
    let g = eval(BASE, req);
    assert_grant(&g, Decision::Deny, &[], &[], None, &["forbidden"]);
    assert_eq!(g.denial, Some(Denial::Forbidden));
    assert!(
        matches!(&g.reasons[0], Reason::Forbidden { rule, undecided: None } if &**rule == "quarantine")
    );
    assert_eq!(
        g.controls.iter().map(|c| &**c).collect::<Vec<_>>(),
        ["C-quarantine"]
    );
}

#[test]
fn forbid_with_scopes_removes_them_and_downgrade_substitutes() {
    let mut req = base_request(&["docs:write", "docs:list"], &["https://docs.example.org"]);
    req["posture"]["network"] = json!("cafe");
    let g = eval(BASE, req);
    assert_grant(
        &g,
        Decision::Narrow,
        &["docs:read", "docs:list"],
        &["https://docs.example.org"],
        Some(900),
        &["scope_downgraded"],
    );
    assert_eq!(
        g.reasons[0],
        Reason::ScopeDowngraded {
            from: "docs:write".into(),
            to: "docs:read".into(),
            cause: ScopeCause::Forbidden,
            rule: Some("no-writes-offsite".into()),
            condition: None,
            purpose: None,
        }
    );
    // The forbid decided too: its controls are listed.
    assert_eq!(
        g.controls.iter().map(|c| &**c).collect::<Vec<_>>(),
        ["C-docs", "C-offsite"]
    );
}

#[test]
fn forbid_with_scopes_removes_scope_when_downgrade_already_granted() {
    let mut req = base_request(&["docs:read", "docs:write"], &["https://docs.example.org"]);
    req["posture"]["network"] = json!("cafe");
    let g = eval(BASE, req);
    assert_grant(
        &g,
        Decision::Narrow,
        &["docs:read"],
        &["https://docs.example.org"],
        Some(900),
        &["scope_removed"],
    );
    assert!(
        matches!(&g.reasons[0], Reason::ScopeRemoved { cause: ScopeCause::Forbidden, rule: Some(r), .. } if &**r == "no-writes-offsite")
    );
}

#[test]
fn forbid_applies_when_its_attribute_is_missing_fail_closed() {
    let req = json!({
        "identity": { "subject": "agent:docs/writer", "kind": "agent" },
        "scopes": ["docs:read"],
        "audience": ["https://docs.example.org"],
        "posture": { "network": "corp" }
    });
    let g = eval(BASE, req);
    assert_grant(&g, Decision::Deny, &[], &[], None, &["forbidden"]);
    let Reason::Forbidden {
        rule,
        undecided: Some(c),
    } = &g.reasons[0]
    else {
        panic!("{g}")
    };
    assert_eq!(&**rule, "quarantine");
    assert_eq!(c.path, "posture.quarantined");
    assert_eq!(c.actual, "missing");
}

#[test]
fn lifecycle_gates_deny_suspended_and_expired_credentials() {
    let mut req = base_request(&["docs:read"], &["https://docs.example.org"]);
    req["identity"]["state"] = json!("suspended");
    let g = eval(BASE, req);
    assert_grant(&g, Decision::Deny, &[], &[], None, &["identity_ineligible"]);

    let mut req = base_request(&["docs:read"], &["https://docs.example.org"]);
    req["identity"]["credential_expires_at"] = json!("2026-11-28T11:59:59Z");
    let g = eval(BASE, req);
    assert_grant(&g, Decision::Deny, &[], &[], None, &["credential_expired"]);
    assert_eq!(g.denial, Some(Denial::Ineligible));
}

#[test]
fn lifecycle_gates_can_be_opted_out_explicitly() {
    let text = BASE.replace(
        "max_ttl = \"1h\"\n",
        "max_ttl = \"1h\"\nenforce_lifecycle = false\n",
    );
    let mut req = base_request(&["docs:read"], &["https://docs.example.org"]);
    req["identity"]["state"] = json!("suspended");
    let g = eval(&text, req);
    assert_grant(
        &g,
        Decision::Allow,
        &["docs:read"],
        &["https://docs.example.org"],
        Some(900),
        &[],
    );
}

#[test]
fn scopes_no_rule_permits_are_removed_with_nearest_rule() {
    let g = eval(
        BASE,
        base_request(&["docs:read", "admin:all"], &["https://docs.example.org"]),
    );
    assert_grant(
        &g,
        Decision::Narrow,
        &["docs:read"],
        &["https://docs.example.org"],
        Some(900),
        &["scope_removed"],
    );
    assert_eq!(
        g.reasons[0],
        Reason::ScopeRemoved {
            scope: "admin:all".into(),
            cause: ScopeCause::NotPermitted,
            rule: None,
            condition: None,
            purpose: None,
        }
    );
}

#[test]
fn wildcard_scope_request_is_answered_with_concrete_scopes_only() {
    let g = eval(
        BASE,
        base_request(&["docs:*"], &["https://docs.example.org"]),
    );
    assert_grant(
        &g,
        Decision::Narrow,
        &["docs:read", "docs:write", "docs:list"],
        &["https://docs.example.org"],
        Some(900),
        &["scope_expanded"],
    );
    assert!(g.scopes.iter().all(|s| !s.contains('*')));
}

#[test]
fn rule_wildcard_grant_never_grants_the_literal_pattern() {
    let text = r#"
[policy]
id = "p"
revision = "1"
max_ttl = "1h"
[purposes.read-reports]
scopes = ["reports:read", "reports:list"]
[[rule]]
id = "reports"
when = { "identity.kind" = "agent" }
grant = { scopes = ["reports:*"], audience = ["https://reports.example.org"] }
"#;
    let req = json!({
        "identity": { "subject": "a", "kind": "agent" },
        "purpose": { "name": "read-reports" },
        "scopes": ["reports:*"],
        "audience": ["https://reports.example.org"]
    });
    let g = eval(text, req);
    assert_grant(
        &g,
        Decision::Narrow,
        &["reports:read", "reports:list"],
        &["https://reports.example.org"],
        Some(3600),
        &["scope_expanded"],
    );

    // Without a purpose catalogue naming concrete scopes, nothing concrete is
    // known: the wildcard is removed, never granted as written.
    let text = text.replace(
        "[purposes.read-reports]\nscopes = [\"reports:read\", \"reports:list\"]\n",
        "",
    );
    let req = json!({
        "identity": { "subject": "a", "kind": "agent" },
        "scopes": ["reports:*"],
        "audience": ["https://reports.example.org"]
    });
    let g = eval(&text, req);
    assert_grant(
        &g,
        Decision::Deny,
        &[],
        &[],
        None,
        &["scope_removed", "no_scope_grantable"],
    );
    assert!(matches!(
        &g.reasons[0],
        Reason::ScopeRemoved {
            cause: ScopeCause::Wildcard,
            ..
        }
    ));
}

#[test]
fn missing_audience_is_narrowed_to_the_rules_concrete_audience() {
    let g = eval(BASE, base_request(&["docs:read"], &[]));
    assert_grant(
        &g,
        Decision::Narrow,
        &["docs:read"],
        &["https://docs.example.org"],
        Some(900),
        &["audience_narrowed"],
    );
    assert_eq!(
        g.reasons[0],
        Reason::AudienceNarrowed {
            requested: None,
            granted: vec!["https://docs.example.org".into()],
            rule: "docs-agents".into(),
        }
    );
}

#[test]
fn two_audiences_where_only_one_can_carry_the_scopes() {
    let g = eval(
        BASE,
        base_request(
            &["docs:read"],
            &["https://docs.example.org", "https://search.example.org"],
        ),
    );
    // docs.example.org, the primary, carries docs:read; search.example.org
    // carries no requested scope: removed.
    assert_grant(
        &g,
        Decision::Narrow,
        &["docs:read"],
        &["https://docs.example.org"],
        Some(900),
        &["audience_removed"],
    );
    assert_eq!(
        g.reasons[0],
        Reason::AudienceRemoved {
            audience: "https://search.example.org".into(),
            cause: AudienceCause::NotPermitted,
        }
    );
}

#[test]
fn the_first_audience_is_the_primary_and_is_never_silently_replaced() {
    let g = eval(
        BASE,
        base_request(
            &["docs:read"],
            &["https://search.example.org", "https://docs.example.org"],
        ),
    );
    // search.example.org is what the request names first, and it cannot
    // carry docs:read: the token is not quietly issued for docs instead.
    assert_grant(
        &g,
        Decision::Deny,
        &[],
        &[],
        None,
        &["scope_removed", "audience_removed", "no_audience_grantable"],
    );
    assert_eq!(g.denial, Some(Denial::NotPermitted));
}

#[test]
fn first_audience_fixes_scopes_and_later_audience_that_cannot_carry_them_is_removed() {
    let g = eval(
        BASE,
        base_request(
            &["docs:read", "search:query"],
            &["https://docs.example.org", "https://search.example.org"],
        ),
    );
    // The first audience carries docs:read only; search:query falls out for
    // it, and search.example.org cannot carry docs:read.
    assert_grant(
        &g,
        Decision::Narrow,
        &["docs:read"],
        &["https://docs.example.org"],
        Some(900),
        &["scope_removed", "audience_removed"],
    );
    assert!(
        matches!(&g.reasons[0], Reason::ScopeRemoved { scope, cause: ScopeCause::NotForAudience, .. } if scope == "search:query")
    );
    assert_eq!(
        g.reasons[1],
        Reason::AudienceRemoved {
            audience: "https://search.example.org".into(),
            cause: AudienceCause::CannotCarryScopes,
        }
    );
}

#[test]
fn ttl_is_clamped_by_the_rule_cap() {
    let mut req = base_request(&["docs:read"], &["https://docs.example.org"]);
    req["ttl"] = json!("45m");
    let g = eval(BASE, req);
    assert_grant(
        &g,
        Decision::Narrow,
        &["docs:read"],
        &["https://docs.example.org"],
        Some(1800),
        &["ttl_clamped"],
    );
    assert_eq!(
        g.reasons[0],
        Reason::TtlClamped {
            requested: mintgate::Duration::from_mins(45),
            granted: mintgate::Duration::from_mins(30),
            cap: TtlCap::Rule,
            rule: Some("docs-agents".into()),
        }
    );
}

#[test]
fn ttl_is_clamped_by_the_policy_max() {
    let text = BASE.replace("max_ttl = \"30m\", ", "");
    let mut req = base_request(&["docs:read"], &["https://docs.example.org"]);
    req["ttl"] = json!("2h");
    let g = eval(&text, req);
    assert_grant(
        &g,
        Decision::Narrow,
        &["docs:read"],
        &["https://docs.example.org"],
        Some(3600),
        &["ttl_clamped"],
    );
    assert!(matches!(
        &g.reasons[0],
        Reason::TtlClamped {
            cap: TtlCap::PolicyMax,
            rule: None,
            ..
        }
    ));
}

#[test]
fn ttl_is_clamped_by_the_purpose_cap() {
    let text =
        format!("{BASE}\n[purposes.quick-look]\nscopes = [\"docs:read\"]\nmax_ttl = \"2m\"\n");
    let mut req = base_request(&["docs:read"], &["https://docs.example.org"]);
    req["purpose"] = json!({ "name": "quick-look" });
    req["ttl"] = json!("10m");
    let g = eval(&text, req);
    assert_grant(
        &g,
        Decision::Narrow,
        &["docs:read"],
        &["https://docs.example.org"],
        Some(120),
        &["ttl_clamped"],
    );
    assert!(matches!(
        &g.reasons[0],
        Reason::TtlClamped {
            cap: TtlCap::Purpose,
            ..
        }
    ));
}

#[test]
fn ttl_is_clamped_by_the_credential_expiry() {
    let mut req = base_request(&["docs:read"], &["https://docs.example.org"]);
    req["identity"]["credential_expires_at"] = json!("2026-11-28T12:03:20Z");
    req["ttl"] = json!("10m");
    let g = eval(BASE, req);
    assert_grant(
        &g,
        Decision::Narrow,
        &["docs:read"],
        &["https://docs.example.org"],
        Some(200),
        &["ttl_clamped"],
    );
    assert!(matches!(
        &g.reasons[0],
        Reason::TtlClamped {
            cap: TtlCap::CredentialExpiry,
            ..
        }
    ));
}

#[test]
fn ttl_is_clamped_by_the_parent_expiry_and_scopes_by_the_parent() {
    let mut req = base_request(&["docs:read", "docs:list"], &["https://docs.example.org"]);
    req["delegation"] = json!({
        "subject": "user:alice",
        "parent": { "scopes": ["docs:read"], "expires_at": "2026-11-28T12:05:00Z" }
    });
    req["ttl"] = json!("10m");
    let g = eval(BASE, req);
    assert_grant(
        &g,
        Decision::Narrow,
        &["docs:read"],
        &["https://docs.example.org"],
        Some(300),
        &["scope_removed", "ttl_clamped"],
    );
    assert!(g.expires_at.unwrap() <= at("2026-11-28T12:05:00Z"));
}

#[test]
fn expired_parent_grant_is_denied() {
    let mut req = base_request(&["docs:read"], &["https://docs.example.org"]);
    req["delegation"] = json!({
        "subject": "user:alice",
        "parent": { "scopes": ["docs:read"], "expires_at": "2026-11-28T11:00:00Z" }
    });
    let g = eval(BASE, req);
    assert_grant(&g, Decision::Deny, &[], &[], None, &["parent_expired"]);
}

#[test]
fn ttl_below_policy_minimum_is_denied() {
    let text = BASE.replace("max_ttl = \"1h\"\n", "max_ttl = \"1h\"\nmin_ttl = \"5m\"\n");
    let mut req = base_request(&["docs:read"], &["https://docs.example.org"]);
    req["identity"]["credential_expires_at"] = json!("2026-11-28T12:01:00Z");
    let g = eval(&text, req);
    assert_grant(&g, Decision::Deny, &[], &[], None, &["ttl_below_minimum"]);
}

#[test]
fn on_excess_deny_denies_any_excess_policy_wide() {
    let text = BASE.replace(
        "max_ttl = \"1h\"\n",
        "max_ttl = \"1h\"\non_excess = \"deny\"\n",
    );
    let g = eval(
        &text,
        base_request(&["docs:read", "admin:all"], &["https://docs.example.org"]),
    );
    assert_grant(
        &g,
        Decision::Deny,
        &[],
        &[],
        None,
        &["scope_removed", "excess_denied"],
    );
    assert_eq!(g.denial, Some(Denial::Excess));
    // An exact request is still allowed.
    let g = eval(
        &text,
        base_request(&["docs:read"], &["https://docs.example.org"]),
    );
    assert_eq!(g.decision, Decision::Allow);
}

#[test]
fn on_excess_per_rule_overrides_the_policy() {
    let text = BASE.replace(
        "id = \"docs-agents\"\n",
        "id = \"docs-agents\"\non_excess = \"deny\"\n",
    );
    let mut req = base_request(&["docs:read"], &["https://docs.example.org"]);
    req["ttl"] = json!("2h");
    let g = eval(&text, req);
    assert_grant(
        &g,
        Decision::Deny,
        &[],
        &[],
        None,
        &["ttl_clamped", "excess_denied"],
    );
    assert!(
        matches!(&g.reasons[1], Reason::ExcessDenied { rule: Some(r) } if &**r == "docs-agents")
    );
}

#[test]
fn purpose_catalogue_requires_a_known_purpose() {
    let text = format!("{BASE}\n[purposes.edit-docs]\nscopes = [\"docs:*\"]\n");
    let g = eval(
        &text,
        base_request(&["docs:read"], &["https://docs.example.org"]),
    );
    assert_grant(&g, Decision::Deny, &[], &[], None, &["purpose_required"]);

    let mut req = base_request(&["docs:read"], &["https://docs.example.org"]);
    req["purpose"] = json!({ "name": "exfiltrate" });
    let g = eval(&text, req);
    assert_grant(&g, Decision::Deny, &[], &[], None, &["unknown_purpose"]);
    assert_eq!(
        g.reasons[0],
        Reason::UnknownPurpose {
            purpose: "exfiltrate".into()
        }
    );
}

#[test]
fn purpose_requirements_gate_the_purpose() {
    let text = format!(
        "{BASE}\n[purposes.edit-docs]\nscopes = [\"docs:*\"]\nrequires = {{ \"purpose.ticket\" = {{ regex = \"CHG-[0-9]+\" }} }}\n"
    );
    let mut req = base_request(&["docs:write"], &["https://docs.example.org"]);
    req["purpose"] = json!({ "name": "edit-docs" });
    let g = eval(&text, req.clone());
    assert_grant(
        &g,
        Decision::Deny,
        &[],
        &[],
        None,
        &["purpose_requirement_unmet"],
    );
    let Reason::PurposeRequirementUnmet { condition, .. } = &g.reasons[0] else {
        panic!()
    };
    assert_eq!(
        (condition.path.as_str(), condition.actual.as_str()),
        ("purpose.ticket", "missing")
    );

    req["purpose"]["ticket"] = json!("CHG-1234");
    let g = eval(&text, req);
    assert_grant(
        &g,
        Decision::Allow,
        &["docs:write"],
        &["https://docs.example.org"],
        Some(900),
        &[],
    );
}

#[test]
fn stale_authentication_is_not_permitted_with_expected_and_actual_age() {
    let req = json!({
        "identity": {
            "subject": "sa-billing", "kind": "service_account",
            "authenticated_at": "2026-11-28T11:45:00Z"
        },
        "scopes": ["billing:read"],
        "audience": ["https://billing.example.org"],
        "posture": { "network": "corp", "quarantined": false }
    });
    let g = eval(BASE, req);
    assert_grant(&g, Decision::Deny, &[], &[], None, &["not_permitted"]);
    let Reason::NotPermitted {
        nearest_rule,
        condition: Some(c),
    } = &g.reasons[0]
    else {
        panic!("{g}")
    };
    assert_eq!(nearest_rule.as_deref(), Some("fresh-auth-only"));
    assert_eq!(c.path, "identity.auth_age");
    assert_eq!(c.expected, r#"{"max":"10m"}"#);
    assert_eq!(c.actual, "15m");
}

#[test]
fn extra_claims_are_kept_only_when_a_deciding_rule_allows_them() {
    let mut req = base_request(&["docs:read"], &["https://docs.example.org"]);
    req["claims"] = json!({ "tenant": "acme", "role": "admin" });
    let g = eval(BASE, req);
    assert_grant(
        &g,
        Decision::Narrow,
        &["docs:read"],
        &["https://docs.example.org"],
        Some(900),
        &["claim_removed"],
    );
    assert_eq!(g.claims.len(), 1);
    assert!(g.claims.contains_key("tenant"));
}

#[test]
fn same_inputs_give_byte_identical_grants() {
    let p = policy(QUICKSTART);
    for file in
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/requests")).unwrap()
    {
        let text = std::fs::read_to_string(file.unwrap().path()).unwrap();
        let req: MintRequest = serde_json::from_str(&text).unwrap();
        let a = p.evaluate(&req, now()).to_json();
        let b = policy(QUICKSTART).evaluate(&req, now()).to_json();
        assert_eq!(a, b);
        let back: Grant = serde_json::from_str(&a).unwrap();
        assert_eq!(back, p.evaluate(&req, now()));
    }
}

#[test]
fn grant_records_policy_id_revision_and_digest() {
    let g = eval(
        BASE,
        base_request(&["docs:read"], &["https://docs.example.org"]),
    );
    assert_eq!(&*g.policy.id, "engine-tests");
    assert_eq!(&*g.policy.revision, "1");
    assert!(g.policy.digest.starts_with("sha256:") && g.policy.digest.len() == 7 + 64);
    let other = eval(
        &BASE.replace("revision = \"1\"", "revision = \"2\""),
        base_request(&["docs:read"], &["https://docs.example.org"]),
    );
    assert_ne!(g.policy.digest, other.policy.digest);
}

#[test]
fn grants_share_the_policys_reference_rather_than_copy_it() {
    let p = policy(BASE);
    let req = request(base_request(&["docs:read"], &["https://docs.example.org"]));
    let (a, b) = (p.evaluate(&req, now()), p.evaluate(&req, now()));
    assert!(std::sync::Arc::ptr_eq(&a.policy, &b.policy));
    assert_eq!(*a.policy, *p.policy_ref());
}

#[test]
fn invalid_requests_are_denied_with_a_reason() {
    let g = eval(BASE, base_request(&[], &["https://docs.example.org"]));
    assert_grant(&g, Decision::Deny, &[], &[], None, &["invalid_request"]);
    assert_eq!(g.denial, Some(Denial::InvalidRequest));
    let many: Vec<String> = (0..100).map(|i| format!("docs:s{i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let g = eval(BASE, base_request(&many, &["https://docs.example.org"]));
    assert_grant(&g, Decision::Deny, &[], &[], None, &["invalid_request"]);
}

// ------------------------------------------------------------ operators

fn operator_policy(when: &str) -> String {
    format!(
        r#"
[policy]
id = "ops"
revision = "1"
max_ttl = "1h"
[[rule]]
id = "r"
when = {when}
grant = {{ scopes = ["s"], audience = ["a"] }}
"#
    )
}

fn decide(when: &str, req: Value) -> Decision {
    eval(&operator_policy(when), req).decision
}

fn req_with(identity: Value, posture: Value) -> Value {
    json!({ "identity": identity, "scopes": ["s"], "audience": ["a"], "posture": posture })
}

#[test]
fn cidr_membership_for_source_addresses() {
    let when = r#"{ "posture.source_ip" = { cidr = ["10.0.0.0/8", "2001:db8::/32"] } }"#;
    let id = json!({ "subject": "x", "kind": "workload" });
    assert_eq!(
        decide(
            when,
            req_with(id.clone(), json!({ "source_ip": "10.2.3.4" }))
        ),
        Decision::Allow
    );
    assert_eq!(
        decide(
            when,
            req_with(id.clone(), json!({ "source_ip": "2001:db8::7" }))
        ),
        Decision::Allow
    );
    assert_eq!(
        decide(
            when,
            req_with(id.clone(), json!({ "source_ip": "192.168.1.1" }))
        ),
        Decision::Deny
    );
    assert_eq!(
        decide(when, req_with(id, json!({ "source_ip": "not-an-ip" }))),
        Decision::Deny
    );
}

#[test]
fn time_windows_on_request_time() {
    // 2026-11-28 is a Saturday, 12:00 UTC.
    let id = json!({ "subject": "x", "kind": "workload" });
    let weekday = r#"{ "request.time" = { weekdays = ["mon", "tue", "wed", "thu", "fri"] } }"#;
    assert_eq!(
        decide(weekday, req_with(id.clone(), json!({}))),
        Decision::Deny
    );
    let weekend = r#"{ "request.time" = { weekdays = ["sat", "sun"], hours = "09:00-17:00" } }"#;
    assert_eq!(
        decide(weekend, req_with(id.clone(), json!({}))),
        Decision::Allow
    );
    let evening_in_tokyo =
        r#"{ "request.time" = { hours = "20:00-23:00", utc_offset = "+09:00" } }"#;
    assert_eq!(
        decide(evening_in_tokyo, req_with(id.clone(), json!({}))),
        Decision::Allow
    );
    let window = r#"{ "request.time" = { not_before = "2026-12-01T00:00:00Z" } }"#;
    assert_eq!(decide(window, req_with(id, json!({}))), Decision::Deny);
}

#[test]
fn regex_is_anchored_and_glob_star_stays_in_a_segment() {
    let id = |s: &str| json!({ "subject": s, "kind": "workload" });
    let re = r#"{ "identity.subject" = { regex = "svc-[0-9]+" } }"#;
    assert_eq!(
        decide(re, req_with(id("svc-42"), json!({}))),
        Decision::Allow
    );
    assert_eq!(
        decide(re, req_with(id("evil-svc-42"), json!({}))),
        Decision::Deny
    );
    let glob = r#"{ "identity.subject" = { glob = "spiffe://td/ns/*/sa/app" } }"#;
    assert_eq!(
        decide(glob, req_with(id("spiffe://td/ns/a/sa/app"), json!({}))),
        Decision::Allow
    );
    assert_eq!(
        decide(glob, req_with(id("spiffe://td/ns/a/b/sa/app"), json!({}))),
        Decision::Deny
    );
}

#[test]
fn any_all_not_groups_and_exists() {
    let id = json!({ "subject": "x", "kind": "workload" });
    let when = r#"{ any = [ { "posture.env" = "prod" }, { "posture.env" = "staging", "posture.approved" = true } ], not = { "posture.break_glass" = { exists = true } } }"#;
    assert_eq!(
        decide(when, req_with(id.clone(), json!({ "env": "prod" }))),
        Decision::Allow
    );
    assert_eq!(
        decide(
            when,
            req_with(id.clone(), json!({ "env": "staging", "approved": true }))
        ),
        Decision::Allow
    );
    assert_eq!(
        decide(when, req_with(id.clone(), json!({ "env": "staging" }))),
        Decision::Deny
    );
    assert_eq!(
        decide(
            when,
            req_with(id, json!({ "env": "prod", "break_glass": "yes" }))
        ),
        Decision::Deny
    );
}

#[test]
fn delegation_depth_and_actor_matching() {
    let when = r#"{ "delegation.depth" = { max = 2 }, "delegation.actors" = { all = { glob = "spiffe://td/agents/**" } }, "delegation.subject" = { glob = "user:*" } }"#;
    let base = |actors: Value| {
        json!({
            "identity": { "subject": "spiffe://td/agents/b", "kind": "agent" },
            "scopes": ["s"], "audience": ["a"],
            "delegation": { "subject": "user:alice", "actors": actors }
        })
    };
    assert_eq!(decide(when, base(json!([]))), Decision::Allow);
    assert_eq!(
        decide(when, base(json!([{ "subject": "spiffe://td/agents/a" }]))),
        Decision::Allow
    );
    assert_eq!(
        decide(when, base(json!([{ "subject": "spiffe://evil/agents/a" }]))),
        Decision::Deny
    );
    assert_eq!(
        decide(
            when,
            base(
                json!([{ "subject": "spiffe://td/agents/a" }, { "subject": "spiffe://td/agents/c" }])
            )
        ),
        Decision::Deny,
        "depth 3 exceeds max 2"
    );
}

#[test]
fn numeric_ranges_on_claims() {
    let when = r#"{ "identity.claims.run_attempt" = { min = 1, max = 3 }, "identity.claims.repository_id" = 123456 }"#;
    let id = |attempt: i64| json!({ "subject": "x", "kind": "ci_job", "claims": { "run_attempt": attempt, "repository_id": 123456 } });
    assert_eq!(decide(when, req_with(id(2), json!({}))), Decision::Allow);
    assert_eq!(decide(when, req_with(id(4), json!({}))), Decision::Deny);
}

#[test]
fn policy_grant_and_request_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<IssuancePolicy>();
    assert_send_sync::<Grant>();
    assert_send_sync::<MintRequest>();
    assert_send_sync::<mintgate::CompileError>();
}

/// Regression: audiences are chosen from what the request asks for, before
/// forbids, so a forbid can only remove — never move the token to an
/// audience (and scope) it did not get before.
#[test]
fn adding_a_forbid_never_moves_the_token_to_another_audience() {
    let text = r#"
[policy]
id = "p"
revision = "1"
max_ttl = "1h"
[[rule]]
id = "docs"
when = { "identity.kind" = "agent" }
grant = { scopes = ["docs:read"], audience = ["https://docs.example.org"] }
[[rule]]
id = "search"
when = { "identity.kind" = "agent" }
grant = { scopes = ["search:query"], audience = ["https://search.example.org"] }
"#;
    let req = json!({
        "identity": { "subject": "a", "kind": "agent" },
        "scopes": ["docs:read", "search:query"],
        "audience": ["https://docs.example.org", "https://search.example.org"]
    });
    let before = eval(text, req.clone());
    assert_grant(
        &before,
        Decision::Narrow,
        &["docs:read"],
        &["https://docs.example.org"],
        Some(3600),
        &["scope_removed", "audience_removed"],
    );
    let with_forbid = format!(
        "{text}[[rule]]\nid = \"no-docs\"\neffect = \"forbid\"\nscopes = [\"docs:read\"]\n"
    );
    let after = eval(&with_forbid, req);
    assert_grant(
        &after,
        Decision::Deny,
        &[],
        &[],
        None,
        &[
            "scope_removed",
            "scope_removed",
            "audience_removed",
            "no_audience_grantable",
        ],
    );
}

// ------------------------------------------------ limits, not a 64-scope cap

fn policy_with(toml: &str, limits: &Limits) -> IssuancePolicy {
    let doc = PolicyDocument::from_toml_str(toml).unwrap();
    IssuancePolicy::compile_with_limits(&doc, limits).unwrap()
}

/// A policy with `n` permits, permit `i` granting `svc:{i:03}` at one
/// audience; the last one caps the lifetime at 5 minutes.
fn many_permits(n: usize) -> String {
    let mut text = String::from(
        "[policy]\nid = \"many\"\nrevision = \"1\"\ndefault_ttl = \"15m\"\nmax_ttl = \"1h\"\n",
    );
    for i in 0..n {
        let cap = if i + 1 == n { ", max_ttl = \"5m\"" } else { "" };
        text.push_str(&format!(
            "[[rule]]\nid = \"svc-{i:03}\"\nwhen = {{ \"identity.kind\" = \"workload\" }}\n\
             grant = {{ scopes = [\"svc:{i:03}\"], audience = [\"https://svc.example.org\"]{cap} }}\n"
        ));
    }
    text
}

fn hundred_scope_request() -> (Vec<String>, MintRequest) {
    let scopes: Vec<String> = (0..100).map(|i| format!("svc:{i:03}")).collect();
    let req = request(json!({
        "identity": { "subject": "svc-a", "kind": "workload" },
        "scopes": scopes,
        "audience": ["https://svc.example.org"]
    }));
    (scopes, req)
}

/// 100 matching permits (permit sets past one word) and 100 granted scopes
/// (past the old 64-scope cap): bounded only by `Limits`.
#[test]
fn raised_limits_grant_exactly_100_scopes() {
    let mut limits = Limits::default();
    limits.max_request_scopes = 100;
    let policy = policy_with(&many_permits(100), &limits);
    let (scopes, req) = hundred_scope_request();
    let g = policy.evaluate(&req, now());
    let expected: Vec<&str> = scopes.iter().map(String::as_str).collect();
    // The last permit's 5m cap applies to its (scope, audience) pair.
    assert_grant(
        &g,
        Decision::Allow,
        &expected,
        &["https://svc.example.org"],
        Some(300),
        &[],
    );
    assert_eq!(g.matched_rules.len(), 100);
    assert_eq!(&*g.matched_rules[99], "svc-099");
}

#[test]
fn scopes_beyond_max_granted_scopes_are_removed_as_too_many() {
    let mut limits = Limits::default();
    limits.max_request_scopes = 100;
    limits.max_granted_scopes = 70;
    let policy = policy_with(&many_permits(100), &limits);
    let (scopes, req) = hundred_scope_request();
    let g = policy.evaluate(&req, now());
    let expected: Vec<&str> = scopes.iter().take(70).map(String::as_str).collect();
    let removed = vec!["scope_removed"; 30];
    // The capped permit's scope (svc:099) is not granted: no 5m cap.
    assert_grant(
        &g,
        Decision::Narrow,
        &expected,
        &["https://svc.example.org"],
        Some(900),
        &removed,
    );
    assert_eq!(
        g.reasons[0],
        Reason::ScopeRemoved {
            scope: "svc:070".into(),
            cause: ScopeCause::TooMany,
            rule: None,
            condition: None,
            purpose: None,
        }
    );
}

// ------------------------------------- an any-audience request (`*`, `**`)

/// `*` and `**` mean "any audience": narrowed like a missing audience to
/// the concrete audiences of the permit carrying the most asked-for scopes.
#[test]
fn any_audience_is_narrowed_like_a_missing_audience() {
    for any in ["*", "**"] {
        let g = eval(BASE, base_request(&["docs:read"], &[any]));
        assert_grant(
            &g,
            Decision::Narrow,
            &["docs:read"],
            &["https://docs.example.org"],
            Some(900),
            &["audience_narrowed"],
        );
        assert_eq!(
            g.reasons[0],
            Reason::AudienceNarrowed {
                requested: Some(any.into()),
                granted: vec!["https://docs.example.org".into()],
                rule: "docs-agents".into(),
            }
        );
    }
}

/// Like a missing audience, `*` is filled in, not excess: `on_excess =
/// "deny"` does not deny it.
#[test]
fn any_audience_is_not_excess() {
    let text = BASE.replace("max_ttl = \"1h\"", "max_ttl = \"1h\"\non_excess = \"deny\"");
    let g = eval(&text, base_request(&["search:query"], &["*"]));
    assert_grant(
        &g,
        Decision::Narrow,
        &["search:query"],
        &["https://search.example.org"],
        Some(300),
        &["audience_narrowed"],
    );
    // A partial wildcard is still excess under `on_excess = "deny"`.
    let g = eval(
        &text,
        base_request(&["search:query"], &["https://*.example.org"]),
    );
    assert_grant(
        &g,
        Decision::Deny,
        &[],
        &[],
        None,
        &["audience_narrowed", "excess_denied"],
    );
    assert_eq!(g.denial, Some(Denial::Excess));
}

/// `*` before a concrete audience: filled in at its place, so the filled-in
/// audience is the primary.
#[test]
fn any_audience_is_filled_in_at_its_place() {
    let g = eval(
        BASE,
        base_request(&["docs:read"], &["*", "https://docs.example.org"]),
    );
    assert_grant(
        &g,
        Decision::Narrow,
        &["docs:read"],
        &["https://docs.example.org"],
        Some(900),
        &["audience_narrowed"],
    );
}

// ------------------------------------------- bounded echoes of the request

/// A 1 MiB subject is rightly invalid, and its record stays small: the
/// subject is cut to `Limits::max_echo_len` characters with its length.
#[test]
fn a_huge_subject_is_cut_in_the_decision_record() {
    let subject = "a".repeat(1 << 20);
    let req = request(json!({
        "identity": { "subject": subject, "kind": "agent" },
        "scopes": ["docs:read"],
        "audience": ["https://docs.example.org"]
    }));
    let g = policy(BASE).evaluate(&req, now());
    assert_grant(&g, Decision::Deny, &[], &[], None, &["invalid_request"]);
    assert_eq!(g.denial, Some(Denial::InvalidRequest));
    assert_eq!(g.subject, format!("{}…(1048576 bytes)", "a".repeat(256)));
    let json = g.to_json();
    assert!(json.len() < 4096, "{} bytes", json.len());
    let back: Grant = serde_json::from_str(&json).unwrap();
    assert_eq!(back, g);
    assert!(g.to_string().len() < 4096);
}

/// A cut string stays valid UTF-8: multi-byte characters are cut whole.
#[test]
fn a_long_multibyte_scope_is_cut_on_a_character_boundary() {
    let scope = "é".repeat(2000);
    let g = eval(BASE, base_request(&[&scope], &["https://docs.example.org"]));
    assert_grant(
        &g,
        Decision::Deny,
        &[],
        &[],
        None,
        &["scope_removed", "no_scope_grantable"],
    );
    let Reason::ScopeRemoved { scope: echoed, .. } = &g.reasons[0] else {
        panic!("{g}")
    };
    assert_eq!(*echoed, format!("{}…(4000 bytes)", "é".repeat(256)));
    let back: Grant = serde_json::from_str(&g.to_json()).unwrap();
    assert_eq!(back, g);
}

const WIDE: &str = r#"
[policy]
id = "wide"
revision = "1"
max_ttl = "1h"

[[rule]]
id = "svc"
when = { "identity.kind" = "workload" }
grant = { scopes = ["svc:*"], audience = ["https://svc.example.org"] }
"#;

fn ten_thousand_scopes() -> MintRequest {
    let scopes: Vec<String> = (0..10_000).map(|i| format!("svc:{i:05}")).collect();
    request(json!({
        "identity": { "subject": "svc-a", "kind": "workload" },
        "scopes": scopes,
        "audience": ["https://svc.example.org"]
    }))
}

/// A 10,000-scope request under raised limits: 256 scopes granted (the
/// default `max_granted_scopes`), and an explanation that lists at most 20
/// items of each list.
#[test]
fn the_explanation_of_a_10000_scope_request_is_bounded() {
    let mut limits = Limits::default();
    limits.max_request_scopes = 10_000;
    let g = policy_with(WIDE, &limits).evaluate(&ten_thousand_scopes(), now());
    assert_eq!(g.decision, Decision::Narrow);
    assert_eq!(g.scopes.len(), 256);
    assert_eq!(g.scopes[255], "svc:00255");
    assert_eq!(g.reasons.len(), 10_000 - 256);
    let text = g.to_string();
    assert!(text.len() < 8 * 1024, "{} bytes:\n{text}", text.len());
    assert!(text.contains("svc:00019 … and 236 more"), "{text}");
    assert!(text.contains("    … and 9,724 more"), "{text}");
}

#[test]
fn a_10000_scope_request_under_default_limits_is_invalid_and_small() {
    let g = policy(WIDE).evaluate(&ten_thousand_scopes(), now());
    assert_grant(&g, Decision::Deny, &[], &[], None, &["invalid_request"]);
    assert!(g.to_string().len() < 8 * 1024);
    assert!(g.to_json().len() < 4096);
}

// ----------------------------------------- the purpose in the JSON record

/// `not_justified_by_purpose` names the purpose in JSON, and the record
/// still parses back (`deny_unknown_fields`).
#[test]
fn not_justified_by_purpose_names_the_purpose_in_json() {
    let g = quickstart("1-agent-read-write.json");
    let json: Value = serde_json::from_str(&g.to_json()).unwrap();
    assert_eq!(
        json["reasons"][0],
        json!({
            "kind": "scope_removed",
            "scope": "reports:write",
            "cause": "not_justified_by_purpose",
            "purpose": "summarize-reports"
        })
    );
    let back: Grant = serde_json::from_str(&g.to_json()).unwrap();
    assert_eq!(back, g);
}

#[test]
fn a_downgrade_for_the_purpose_names_the_purpose_in_json() {
    let text = r#"
[policy]
id = "p"
revision = "1"
max_ttl = "1h"
[purposes.summarize]
scopes = ["reports:read"]
[downgrade]
"reports:write" = "reports:read"
[[rule]]
id = "reports"
when = { "identity.kind" = "agent" }
grant = { scopes = ["reports:*"], audience = ["https://reports.example.org"] }
"#;
    let req = json!({
        "identity": { "subject": "a", "kind": "agent" },
        "purpose": { "name": "summarize" },
        "scopes": ["reports:write"],
        "audience": ["https://reports.example.org"]
    });
    let g = eval(text, req);
    assert_grant(
        &g,
        Decision::Narrow,
        &["reports:read"],
        &["https://reports.example.org"],
        Some(3600),
        &["scope_downgraded"],
    );
    assert_eq!(
        g.reasons[0],
        Reason::ScopeDowngraded {
            from: "reports:write".into(),
            to: "reports:read".into(),
            cause: ScopeCause::NotJustifiedByPurpose,
            rule: None,
            condition: None,
            purpose: Some("summarize".into()),
        }
    );
    let back: Grant = serde_json::from_str(&g.to_json()).unwrap();
    assert_eq!(back, g);
}

/// A scope asked for twice is answered once: a repeat of a name the policy
/// knows (found by interned id) is not granted again, and a repeat of a
/// name it never mentions (found by text) is not removed again.
#[test]
fn a_scope_asked_for_twice_is_answered_once() {
    let p = policy(
        r#"
        [policy]
        id = "repeats"
        revision = "1"
        max_ttl = "10m"

        [[rule]]
        id = "reader"
        when = { "identity.subject" = "svc:reader" }
        grant = { scopes = ["docs:read", "docs:list"], audience = ["https://docs.example.org"] }
        "#,
    );
    let g = p.evaluate(
        &request(json!({
            "identity": { "subject": "svc:reader", "kind": "workload" },
            "scopes": ["docs:read", "other:write", "docs:read", "docs:list", "other:write"],
            "audience": ["https://docs.example.org", "https://docs.example.org"],
        })),
        now(),
    );
    assert_eq!(g.decision, Decision::Narrow, "{g}");
    assert_eq!(g.scopes, ["docs:read", "docs:list"], "{g}");
    assert_eq!(g.audience, ["https://docs.example.org"], "{g}");
    assert_eq!(
        g.reasons,
        [Reason::ScopeRemoved {
            scope: "other:write".into(),
            cause: ScopeCause::NotPermitted,
            rule: None,
            condition: None,
            purpose: None,
        }],
        "{g}"
    );
}
